//! OCSF 1.5.0: each ownership gap and each code finding as a Detection Finding (class 2004), one
//! JSON object per line, for SIEMs (Splunk, Sentinel, Security Lake, Elastic). Mapping, field by
//! field: docs/report-format.md ("OCSF"). Built from the scrubbed report; a finding's raw secret
//! is never read here, only its keyed fingerprint and redacted form.

use roster_model::{Finding, Gap, Report, Severity, parse_time};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

use crate::RuleInfo;

/// The OCSF schema version written.
pub const OCSF_VERSION: &str = "1.5.0";
const CLASS_UID: u64 = 2004;
const CATEGORY_UID: u64 = 2;

/// The report as OCSF Detection Findings (JSON Lines): gaps first, then code findings (grouped
/// by source, path, rule and secret). `time_ms` is the event time (the run's); `feature` the
/// command that produced it (`scan`, `discover`).
pub fn ocsf(report: &Report, rules: &[RuleInfo], time_ms: i64, feature: &str) -> String {
    let envelope = Envelope {
        time_ms,
        version: &report.tool.version,
        feature,
        incomplete: report.incomplete,
    };
    let groups = finding_groups(&report.findings);
    let by_fingerprint: BTreeMap<&str, Vec<String>> = groups.iter().fold(BTreeMap::new(), |mut m, g| {
        m.entry(g.findings[0].fingerprint.as_str())
            .or_default()
            .push(g.uid.clone());
        m
    });
    let mut out = String::new();
    for g in &report.gaps {
        push_line(&mut out, gap_event(g, &report.findings, &envelope, &by_fingerprint));
    }
    for g in &groups {
        let rule = rules.iter().find(|r| r.id == g.findings[0].rule_id);
        push_line(&mut out, finding_event(g, rule, &envelope, &groups));
    }
    out
}

fn push_line(out: &mut String, v: Value) {
    out.push_str(&v.to_string());
    out.push('\n');
}

struct Envelope<'a> {
    time_ms: i64,
    version: &'a str,
    feature: &'a str,
    incomplete: bool,
}

impl Envelope<'_> {
    /// The members every event has: class, activity (Create), severity, status, time, metadata.
    fn event(&self, severity: Severity, event_code: &str, suppressed: bool) -> Value {
        let (status_id, status) = if suppressed { (3, "Suppressed") } else { (1, "New") };
        let mut metadata = json!({
            "version": OCSF_VERSION,
            "product": {
                "name": "Roster",
                "vendor_name": "Roster",
                "uid": "roster",
                "version": self.version,
                "url_string": "https://github.com/roster-nhi/roster",
                "feature": {"name": self.feature},
            },
            "event_code": event_code,
        });
        if self.incomplete {
            // A gap missing from an incomplete run is not resolved: the SIEM must know.
            metadata["labels"] = json!(["incomplete"]);
        }
        let (severity_id, severity_name) = severity_id(severity);
        json!({
            "class_uid": CLASS_UID,
            "class_name": "Detection Finding",
            "category_uid": CATEGORY_UID,
            "category_name": "Findings",
            "activity_id": 1,
            "activity_name": "Create",
            "type_uid": CLASS_UID * 100 + 1,
            "type_name": "Detection Finding: Create",
            "severity_id": severity_id,
            "severity": severity_name,
            "status_id": status_id,
            "status": status,
            "time": self.time_ms,
            "metadata": metadata,
        })
    }
}

/// OCSF's severity id and caption.
fn severity_id(s: Severity) -> (u8, &'static str) {
    match s {
        Severity::Critical => (5, "Critical"),
        Severity::High => (4, "High"),
        Severity::Medium => (3, "Medium"),
        Severity::Low => (2, "Low"),
        Severity::Info => (1, "Informational"),
    }
}

/// A resource's owner as an OCSF User (a team such as `@acme/platform` is type Other).
fn owner_user(name: &str) -> Value {
    let email = name.contains('@') && !name.starts_with('@');
    let mut u = json!({
        "name": name,
        "uid": name,
        "account": {"name": name, "uid": name, "type_id": 0},
        "type_id": if email { 1 } else { 99 },
        "type": if email { "User" } else { "Team" },
    });
    if email {
        u["email_addr"] = json!(name);
    }
    u
}

fn gap_event(g: &Gap, findings: &[Finding], env: &Envelope<'_>, by_fingerprint: &BTreeMap<&str, Vec<String>>) -> Value {
    let mut e = env.event(g.severity, g.kind.as_str(), g.accepted.is_some());
    let evidence = g.evidence(findings);
    let mut resources: Vec<Value> = g
        .entities
        .iter()
        .map(|r| json!({"uid": r.id, "name": r.name, "type": r.kind}))
        .collect();
    if let (Some(o), Some(first)) = (&g.owner, resources.first_mut()) {
        first["owner"] = owner_user(&o.name);
    }
    let mut desc: Vec<String> = evidence
        .iter()
        .map(|ev| match &ev.time {
            Some(t) => format!("{}: {} ({t})", ev.source, ev.detail),
            None => format!("{}: {}", ev.source, ev.detail),
        })
        .collect();
    desc.push(match &g.owner {
        Some(o) => format!(
            "owner: {} via {}{}: {}",
            o.name,
            o.via,
            if o.attested { "" } else { " (inferred, to confirm)" },
            o.evidence
        ),
        None => "owner: none resolved".to_owned(),
    });
    let mut sources: Vec<&str> = vec![];
    for ev in &evidence {
        if !sources.contains(&ev.source.as_str()) {
            sources.push(&ev.source);
        }
    }
    let mut info = json!({
        "uid": g.id,
        "title": g.title,
        "desc": desc.join("\n"),
        "types": ["ownership-gap", g.kind.as_str()],
        "analytic": {"uid": g.kind.as_str(), "name": g.kind.as_str(), "type_id": 1, "type": "Rule", "category": "ownership-gap"},
        "last_seen_time": env.time_ms,
        "data_sources": sources,
    });
    if let Some(first) = g.first_seen.as_deref().and_then(parse_time) {
        info["first_seen_time"] = json!(first);
        info["created_time"] = json!(first);
    }
    // The code findings of the secrets this gap is about.
    let related: Vec<Value> = g
        .entities
        .iter()
        .filter(|r| r.kind == "secret")
        .filter_map(|r| by_fingerprint.get(r.id.as_str()))
        .flatten()
        .map(|uid| json!({"uid": uid, "type_uid": CLASS_UID * 100 + 1, "type": "Detection Finding: Create"}))
        .collect();
    if !related.is_empty() {
        info["related_events"] = json!(related);
    }
    e["message"] = json!(g.title);
    e["finding_info"] = info;
    e["resources"] = json!(resources);
    e["evidences"] = json!(
        evidence
            .iter()
            .map(|ev| {
                let mut data = json!({"source": ev.source, "detail": ev.detail});
                if let Some(t) = &ev.time {
                    data["time"] = json!(t);
                }
                json!({"name": ev.source, "data": data})
            })
            .collect::<Vec<_>>()
    );
    e["remediation"] = json!({"desc": g.remediation});
    let mut observables: Vec<Value> = g
        .entities
        .iter()
        .enumerate()
        .map(|(i, r)| json!({"name": format!("resources[{i}].uid"), "type_id": 10, "type": "Resource UID", "value": r.id}))
        .collect();
    if let Some(o) = &g.owner
        && o.name.contains('@')
        && !o.name.starts_with('@')
    {
        observables.push(
            json!({"name": "resources[0].owner.email_addr", "type_id": 5, "type": "Email Address", "value": o.name}),
        );
    }
    e["observables"] = json!(observables);
    if let Some(a) = &g.accepted {
        e["comment"] = json!(a.reason);
        let mut detail = "accepted".to_owned();
        if let Some(u) = &a.until {
            detail.push_str(&format!(" until {u}"));
        }
        if let Some(b) = &a.by {
            detail.push_str(&format!(" by {b}"));
        }
        e["status_detail"] = json!(format!("{detail}: {}", a.reason));
    }
    e["unmapped"] = json!({
        "kind": g.kind.as_str(),
        "owner": g.owner,
        "standards": g.standards,
        "first_seen": g.first_seen,
        "accepted": g.accepted,
    });
    e
}

/// The occurrences of one secret at one path under one rule: one OCSF finding.
struct FindingGroup<'a> {
    uid: String,
    findings: Vec<&'a Finding>,
}

fn finding_uid(f: &Finding) -> String {
    let mut h = Sha256::new();
    for part in [&f.source, &f.path, &f.rule_id, &f.fingerprint] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let digest = h.finalize();
    format!("finding-{}", roster_model::hex(&digest[..8]))
}

fn finding_groups(findings: &[Finding]) -> Vec<FindingGroup<'_>> {
    let mut groups: Vec<FindingGroup<'_>> = vec![];
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for f in findings {
        let uid = finding_uid(f);
        match index.get(&uid) {
            Some(&i) => groups[i].findings.push(f),
            None => {
                index.insert(uid.clone(), groups.len());
                groups.push(FindingGroup { uid, findings: vec![f] });
            }
        }
    }
    groups
}

fn finding_event(g: &FindingGroup<'_>, rule: Option<&RuleInfo>, env: &Envelope<'_>, all: &[FindingGroup<'_>]) -> Value {
    let f = g.findings[0];
    let mut e = env.event(f.severity, &f.rule_id, false);
    let secret_name = format!("{} {}", f.rule_name, f.redacted);
    let mut message = format!("{secret_name} at {}", f.location());
    if let Some(c) = &f.commit {
        let short: String = c.chars().take(12).collect();
        message.push_str(&format!(" (introduced in commit {short}"));
        if let Some(a) = &f.author {
            message.push_str(&format!(" by {a}"));
        }
        message.push(')');
    }
    let mut data = json!({
        "rule_id": f.rule_id,
        "provider": f.provider,
        "redacted": f.redacted,
        "length": f.length,
        "entropy": f.entropy,
    });
    for (k, v) in [("validated", f.validated()), ("paired_with", f.paired_with())] {
        if let Some(v) = v {
            data[k] = json!(v);
        }
    }
    let mut info = json!({
        "uid": g.uid,
        "title": format!("{secret_name} in {}", f.path),
        "desc": rule.map_or_else(|| message.clone(), |r| r.description.clone()),
        "types": ["exposed-secret"],
        "analytic": {"uid": f.rule_id, "name": f.rule_name, "type_id": 1, "type": "Rule", "category": "secret"},
        "last_seen_time": env.time_ms,
        "data_sources": [f.source],
    });
    if let Some(pair) = f.paired_with()
        && let Some(other) = all
            .iter()
            .find(|o| o.uid != g.uid && o.findings[0].fingerprint == *pair && o.findings[0].path == f.path)
    {
        info["related_events"] =
            json!([{"uid": other.uid, "type_uid": CLASS_UID * 100 + 1, "type": "Detection Finding: Create"}]);
    }
    let (confidence_id, confidence) = if f.rule_id.starts_with("generic.") {
        (2, "Medium")
    } else {
        (3, "High")
    };
    e["confidence_id"] = json!(confidence_id);
    e["confidence"] = json!(confidence);
    e["count"] = json!(g.findings.len());
    e["message"] = json!(message);
    e["finding_info"] = info;
    e["resources"] = json!([
        {"uid": f.fingerprint, "name": secret_name, "type": "secret", "data": data},
        {"uid": format!("{}:{}", f.source, f.path), "name": f.path, "type": "file", "group": {"name": f.source}},
    ]);
    e["evidences"] = json!(
        g.findings
            .iter()
            .map(|o| {
                let mut d = json!({"path": o.path, "line": o.line, "column": o.column});
                for (k, v) in [
                    ("commit", &o.commit),
                    ("author", &o.author),
                    ("date", &o.date),
                    ("commit_summary", &o.commit_summary),
                ] {
                    if let Some(v) = v {
                        d[k] = json!(v);
                    }
                }
                json!({"name": o.source, "data": d})
            })
            .collect::<Vec<_>>()
    );
    let dates: Vec<i64> = g
        .findings
        .iter()
        .filter_map(|o| o.date.as_deref().and_then(parse_time))
        .collect();
    if let (Some(min), Some(max)) = (dates.iter().min(), dates.iter().max()) {
        e["start_time"] = json!(min);
        e["end_time"] = json!(max);
    }
    e["remediation"] = json!({
        "desc": "Rotate the credential at the provider, then remove it from the code (and the history).",
        "references": rule.map(|r| r.references.clone()).unwrap_or_default(),
    });
    e["observables"] = json!([
        {"name": "resources[0].uid", "type_id": 10, "type": "Resource UID", "value": f.fingerprint},
        {"name": "resources[1].uid", "type_id": 10, "type": "Resource UID", "value": format!("{}:{}", f.source, f.path)},
    ]);
    e
}
