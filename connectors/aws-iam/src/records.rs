//! How records are built from what IAM returns, through its API or in export files: policy
//! documents read for their grants and trusted principals, owners from tags, a role's facts.

use roster_connector_sdk::types::*;
use serde_json::Value;

/// Service principals of AWS's AI services: a role they may assume is an AI workload identity.
const AI_SERVICES: [&str; 4] = [
    "bedrock.amazonaws.com",
    "bedrock-agentcore.amazonaws.com",
    "sagemaker.amazonaws.com",
    "q.amazonaws.com",
];

/// Tag keys that name an owner (compared without case) and the owner kind they imply.
const OWNER_TAGS: [(&str, &str); 7] = [
    ("owner", "user"),
    ("owner-email", "user"),
    ("contact", "user"),
    ("created-by", "user"),
    ("createdby", "user"),
    ("team", "team"),
    ("owner-team", "team"),
];

/// Policy documents come URL-encoded from IAM (and as plain JSON from some emulators).
fn decode_document(doc: &str) -> String {
    if !doc.trim_start().starts_with('%') {
        return doc.to_string();
    }
    let b = doc.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        // Two hex digits, read as bytes: slicing the text could split a multibyte character.
        if b[i] == b'%'
            && let Some(hex) = b.get(i + 1..i + 3).filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            && let Ok(v) = u8::from_str_radix(std::str::from_utf8(hex).unwrap_or_default(), 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
        _ => vec![],
    }
}

fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => vec![],
    }
}

/// Principals a trust policy lets assume the role: `Service:x`, `AWS:arn`, `Federated:x`.
pub(crate) fn trusted_principals(doc: &str) -> Vec<String> {
    let Ok(doc) = serde_json::from_str::<Value>(&decode_document(doc)) else {
        return vec![];
    };
    let mut out = vec![];
    for st in statements(&doc) {
        if st.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        match st.get("Principal") {
            Some(Value::String(s)) => out.push(format!("AWS:{s}")),
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    out.extend(strings(Some(v)).into_iter().map(|p| format!("{k}:{p}")));
                }
            }
            _ => {}
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Allowed actions and resources of a policy document, and whether it grants admin (`*` on `*`)
/// or wildcards.
pub(crate) fn analyse_policy(doc: &str) -> (Vec<String>, Vec<String>, Vec<(String, String)>) {
    let Ok(doc) = serde_json::from_str::<Value>(&decode_document(doc)) else {
        return (vec![], vec![], vec![("unparsed".into(), "true".into())]);
    };
    let (mut actions, mut resources, mut admin) = (vec![], vec![], false);
    for st in statements(&doc) {
        if st.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        let a = strings(st.get("Action"));
        let na = strings(st.get("NotAction"));
        let r = strings(st.get("Resource"));
        if r.iter().any(|r| r == "*") && (a.iter().any(|a| a == "*") || !na.is_empty()) {
            admin = true;
        }
        actions.extend(a);
        actions.extend(na.into_iter().map(|x| format!("NotAction:{x}")));
        resources.extend(r);
    }
    actions.sort();
    actions.dedup();
    resources.sort();
    resources.dedup();
    let mut attrs = vec![];
    if admin {
        attrs.push(("admin".into(), "true".into()));
    }
    let wild: Vec<&str> = actions
        .iter()
        .filter(|a| a.ends_with('*'))
        .map(String::as_str)
        .collect();
    if !wild.is_empty() {
        attrs.push(("wildcard_actions".into(), wild.join(",")));
    }
    (actions, resources, attrs)
}

pub(crate) fn tags_and_owners(tags: &[aws_sdk_iam::types::Tag]) -> (Vec<(String, String)>, Vec<Owner>) {
    owners_from_tags(
        tags.iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect(),
    )
}

pub(crate) fn owners_from_tags(pairs: Vec<(String, String)>) -> (Vec<(String, String)>, Vec<Owner>) {
    let mut owners = vec![];
    for (want, kind) in OWNER_TAGS {
        for (k, v) in &pairs {
            if k.eq_ignore_ascii_case(want) && !v.trim().is_empty() {
                owners.push(Owner {
                    id: v.clone(),
                    name: v.clone(),
                    kind: kind.into(),
                    via: format!("tag:{k}"),
                    enabled: None,
                });
            }
        }
    }
    (pairs, owners)
}

/// What a role's trust policy and path say: AI services that may assume it, and whether AWS
/// manages it (a service-linked role).
pub(crate) fn role_facts(trusted: &[String], path: Option<&str>) -> Vec<(String, String)> {
    let mut attrs = vec![];
    let ai: Vec<&str> = AI_SERVICES
        .iter()
        .copied()
        .filter(|s| trusted.iter().any(|t| t == &format!("Service:{s}")))
        .collect();
    if !ai.is_empty() {
        attrs.push(("ai_service_principals".into(), ai.join(",")));
    }
    if path.is_some_and(|p| p.starts_with("/aws-service-role/")) {
        attrs.push(("service_linked".into(), "true".into()));
    }
    attrs
}
