//! JSONL: one JSON object per line, each with a `type`.

use roster_model::Report;
use serde_json::json;

pub(crate) fn jsonl(r: &Report) -> String {
    let mut s = String::new();
    for (kind, items) in [
        (
            "identity",
            r.identities.iter().map(serde_json::to_value).collect::<Vec<_>>(),
        ),
        ("activity", r.activities.iter().map(serde_json::to_value).collect()),
        ("connector", r.connectors.iter().map(serde_json::to_value).collect()),
        (
            "gap",
            r.gaps
                .iter()
                .map(|g| serde_json::to_value(g.with(&r.findings)))
                .collect(),
        ),
    ] {
        for v in items {
            let mut v = v.expect("record serializes");
            v["type"] = json!(kind);
            s.push_str(&v.to_string());
            s.push('\n');
        }
    }
    for f in &r.findings {
        let mut v = serde_json::to_value(f).expect("finding serializes");
        v["type"] = json!("finding");
        s.push_str(&v.to_string());
        s.push('\n');
    }
    for a in &r.agents {
        let mut v = serde_json::to_value(a).expect("agent serializes");
        v["type"] = json!("agent");
        s.push_str(&v.to_string());
        s.push('\n');
    }
    for i in &r.issues {
        let mut v = serde_json::to_value(i).expect("issue serializes");
        v["type"] = json!("issue");
        s.push_str(&v.to_string());
        s.push('\n');
    }
    let summary = json!({"type": "summary", "version": r.version, "tool": r.tool, "sources": r.sources,
        "incomplete": r.incomplete, "stats": r.stats});
    s.push_str(&summary.to_string());
    s.push('\n');
    s
}
