//! SARIF 2.1.0 for code scanning.

use roster_model::{Report, Severity};
use serde_json::{Value, json};
use std::fmt::Write as _;

use crate::RuleInfo;

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// What a path may hold unencoded in a relative URI reference (RFC 3986 `segment` characters and
/// `/`): everything else, `%`, `?`, `#`, spaces, controls, non-ASCII and `:` (a colon in the first
/// segment would read as a scheme) is percent-encoded.
const URI_PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b'@');

/// A repository-relative path as a SARIF `artifactLocation.uri` (a relative URI reference).
fn uri_path(path: &str) -> String {
    percent_encoding::utf8_percent_encode(path, URI_PATH).to_string()
}

fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

pub(crate) fn sarif(r: &Report, rules: &[RuleInfo]) -> String {
    let mut used: Vec<&RuleInfo> = Vec::new();
    for f in &r.findings {
        if !used.iter().any(|u| u.id == f.rule_id)
            && let Some(ri) = rules.iter().find(|ri| ri.id == f.rule_id)
        {
            used.push(ri);
        }
    }
    let rule_objs: Vec<Value> = used
        .iter()
        .map(|ri| {
            let mut o = json!({
                "id": ri.id,
                "name": ri.name.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty())
                    .map(|w| { let mut c = w.chars(); c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default() })
                    .collect::<String>(),
                "shortDescription": {"text": ri.name},
                "fullDescription": {"text": if ri.description.is_empty() { ri.name.clone() } else { ri.description.clone() }},
                "help": {"text": format!("{}\nRotate the credential at the provider, then remove it from the code (and history).", ri.description)},
                "defaultConfiguration": {"level": sarif_level(ri.severity)},
                "properties": {"tags": ["security", "secret"], "precision": "high", "security-severity": security_severity(ri.severity)},
            });
            if let Some(u) = ri.references.first() {
                o["helpUri"] = json!(u);
            }
            o
        })
        .collect();
    let results: Vec<Value> = r
        .findings
        .iter()
        .map(|f| {
            let idx = used.iter().position(|u| u.id == f.rule_id);
            let mut msg = format!("{} found: {}", f.rule_name, f.secret().unwrap_or(&f.redacted));
            if let (Some(c), Some(a)) = (&f.commit, &f.author) {
                let _ = write!(msg, " (introduced in commit {} by {})", &c[..c.len().min(12)], a);
            }
            let mut res = json!({
                "ruleId": f.rule_id,
                "level": sarif_level(f.severity),
                "message": {"text": msg},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": uri_path(&f.path), "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": f.line.max(1), "startColumn": f.column.max(1)}
                }}],
                "partialFingerprints": {"rosterFingerprint/v1": f.fingerprint},
                "properties": {"provider": f.provider, "redacted": f.redacted, "severity": f.severity},
            });
            if let Some(i) = idx {
                res["ruleIndex"] = json!(i);
            }
            if let Some(v) = f.validation() {
                res["properties"]["validation"] = json!(v);
            }
            if let Some(c) = &f.commit {
                res["properties"]["commit"] = json!(c);
                res["properties"]["author"] = json!(f.author);
                res["properties"]["date"] = json!(f.date);
            }
            res
        })
        .collect();
    let notifications: Vec<Value> = r
        .issues
        .iter()
        .filter(|i| i.level == "error")
        .map(|i| json!({"level": "warning", "message": {"text": format!("{}: {}", i.source, i.message)}}))
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "roster",
                "version": r.tool.version,
                "semanticVersion": r.tool.version,
                "informationUri": "https://github.com/roster-nhi/roster",
                "rules": rule_objs,
            }},
            "results": results,
            "invocations": [{"executionSuccessful": !r.incomplete, "toolExecutionNotifications": notifications}],
        }],
    });
    serde_json::to_string_pretty(&doc).expect("SARIF serializes") + "\n"
}

#[cfg(test)]
mod tests {
    use super::uri_path;

    #[test]
    fn paths_become_relative_uri_references() {
        assert_eq!(uri_path("src/app.py"), "src/app.py");
        assert_eq!(uri_path("a dir/x#1?.env"), "a%20dir/x%231%3F.env");
        assert_eq!(uri_path("c:/x"), "c%3A/x");
        assert_eq!(uri_path("%2e%2e/ü"), "%252e%252e/%C3%BC");
        assert_eq!(uri_path("back\\slash<x>"), "back%5Cslash%3Cx%3E");
    }
}
