//! Helpers for reading a JSON report and the files a run left.

use std::path::Path;

/// Every string value in the report's findings with this field.
pub fn field<'a>(v: &'a serde_json::Value, key: &str) -> Vec<&'a str> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f[key].as_str())
        .collect()
}

/// Every byte written anywhere under `dir`, concatenated (for leak checks).
pub fn all_bytes_under(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(b) = std::fs::read(&p) {
                out.extend(b);
            }
        }
    }
    out
}

/// Whether `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The report's (first) connector source read everything.
pub fn assert_complete(report: &serde_json::Value) {
    assert_eq!(
        report["connectors"][0]["status"], "complete",
        "{:#}",
        report["connectors"]
    );
}

/// The identity with this id in a report's `identities`.
pub fn identity<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["identities"]
        .as_array()
        .expect("identities")
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("no identity {id} in {:#}", report["identities"]))
}

/// Whether an identity of a report holds a permission of that name.
pub fn has_permission(identity: &serde_json::Value, name: &str) -> bool {
    identity["permissions"]
        .as_array()
        .is_some_and(|ps| ps.iter().any(|p| p["name"] == name))
}

/// The first gap of `kind` whose first entity is named `name`, in a discover report.
pub fn gap<'a>(report: &'a serde_json::Value, kind: &str, name: &str) -> Option<&'a serde_json::Value> {
    report["gaps"]
        .as_array()
        .expect("gaps")
        .iter()
        .find(|g| g["kind"] == kind && g["entities"][0]["name"] == name)
}

/// True when `redacted` is a redacted form of `secret`: what it shows before the ellipsis starts
/// the secret, what it shows after ends it, and it shows at most half of the secret (the public
/// prefix and a quarter of the rest).
pub fn is_redaction_of(redacted: &str, secret: &str) -> bool {
    let Some((head, tail)) = redacted.split_once('…') else {
        return false;
    };
    secret.starts_with(head)
        && secret.ends_with(tail)
        && (head.chars().count() + tail.chars().count()) * 2 <= secret.chars().count()
}
