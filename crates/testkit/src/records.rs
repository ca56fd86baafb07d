//! Builders for the records connectors and scans produce: each sets the identifying fields and
//! leaves the rest empty, for struct-update syntax (`Credential { created, ..credential(id, kind) }`).

use std::collections::BTreeMap;

use roster_model::{Credential, Finding, Identity, RuleKind, Severity};

/// An active credential with no dates, name or attributes.
pub fn credential(id: &str, kind: &str) -> Credential {
    Credential {
        id: id.into(),
        kind: kind.into(),
        status: roster_model::CredentialStatus::Active,
        name: None,
        created: None,
        expires: None,
        last_used: None,
        last_used_service: None,
        redacted: None,
        attrs: BTreeMap::new(),
    }
}

/// An enabled identity with no owner, dates, credentials or permissions.
pub fn identity(source: &str, kind: &str, id: &str, name: &str) -> Identity {
    Identity {
        source: source.into(),
        kind: kind.into(),
        id: id.into(),
        name: name.into(),
        owner: None,
        owners: vec![],
        created: None,
        last_used: None,
        enabled: Some(true),
        tags: BTreeMap::new(),
        trusted_by: vec![],
        credentials: vec![],
        permissions: vec![],
        accountable: None,
        registered_as: None,
        attrs: BTreeMap::new(),
    }
}

/// A high-severity secret finding of rule `rule_id` with this fingerprint, at line 1 of an
/// unnamed file, outside git history.
pub fn finding(rule_id: &str, fingerprint: &str) -> Finding {
    Finding {
        rule_id: rule_id.into(),
        rule_name: rule_id.into(),
        provider: Default::default(),
        kind: RuleKind::Secret,
        severity: Severity::High,
        path: Default::default(),
        line: 1,
        column: 1,
        fingerprint: fingerprint.into(),
        redacted: Default::default(),
        length: 0,
        entropy: 0.0,
        source: Default::default(),
        commit: None,
        author: None,
        date: None,
        commit_summary: None,
        extra: None,
    }
}
