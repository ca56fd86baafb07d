//! Roster connector for Anthropic's Admin API: workspaces, users and API keys (creator, status,
//! created, partial key hint).
//!
//! API reference: <https://docs.anthropic.com/en/api/administration-api>. The host attaches the
//! admin key (`x-api-key`); this plugin never has it. A key whose creator is not among the
//! organization's users is marked with a disabled owner (the creator left; the key lives on).
//! Saved list responses are read as exports (see [`read_exports`]); with `api = false`, only those.

use std::collections::HashMap;

use roster_connector_sdk::rest::{Progress, Stop, export_items, field, list_cursor};
use roster_connector_sdk::types::*;
use roster_connector_sdk::{Emitter, Guest, KeyFacts, export, parse_time};
use serde_json::Value;

struct AnthropicAdmin;

const VERSION_HEADER: (&str, &str) = ("anthropic-version", "2023-06-01");

fn time(v: &Value, k: &str) -> Option<i64> {
    v.get(k).and_then(Value::as_str).and_then(parse_time)
}

fn status(s: &str) -> CredentialStatus {
    match s {
        "active" => CredentialStatus::Active,
        "inactive" => CredentialStatus::Inactive,
        "expired" => CredentialStatus::Expired,
        "archived" => CredentialStatus::Revoked,
        _ => CredentialStatus::Unknown,
    }
}

/// A workspace (`GET /v1/organizations/workspaces` item).
fn workspace_record(out: &mut Emitter, w: &Value) -> Result<(), Stop> {
    out.identity(Identity {
        id: field(w, "id"),
        kind: IdentityKind::AiProject,
        name: field(w, "name"),
        created: time(w, "created_at"),
        last_used: None,
        enabled: Some(w.get("archived_at").is_none_or(Value::is_null)),
        owners: vec![],
        tags: vec![],
        trusted_by: vec![],
        attrs: vec![],
    })
    .map_err(Stop::from)
}

/// An API key (`GET /v1/organizations/api_keys` item). `users` maps user ids to e-mails; when
/// the user list was read (`Some`), a creator missing from it has left the organization.
fn key_records(out: &mut Emitter, k: &Value, users: Option<&HashMap<String, String>>) -> Result<(), Stop> {
    let id = field(k, "id");
    let creator = k.get("created_by").map(|c| field(c, "id")).unwrap_or_default();
    let owners = if creator.is_empty() {
        vec![]
    } else {
        let known = users.and_then(|u| u.get(&creator));
        vec![Owner {
            name: known.cloned().unwrap_or_else(|| creator.clone()),
            id: creator,
            kind: "user".into(),
            via: "creator".into(),
            // Not among the organization's users: the creator is gone, the key lives on.
            enabled: match (users, known) {
                (Some(_), None) => Some(false),
                _ => None,
            },
        }]
    };
    let mut attrs = vec![];
    if let Some(w) = k.get("workspace_id").and_then(Value::as_str) {
        attrs.push(("workspace_id".to_string(), w.to_string()));
    }
    let st = field(k, "status");
    out.key_identity(
        Identity {
            id,
            kind: IdentityKind::AiKey,
            name: field(k, "name"),
            created: time(k, "created_at"),
            last_used: None,
            enabled: Some(st == "active"),
            owners,
            tags: vec![],
            trusted_by: vec![],
            attrs,
        },
        KeyFacts {
            kind: CredentialKind::ApiKey,
            status: status(&st),
            expires: time(k, "expires_at"),
            redacted: Some(field(k, "partial_key_hint")),
            attrs: vec![("provider".into(), "anthropic".into())],
        },
    )
    .map_err(Stop::from)
}

fn user_entry(u: &Value) -> (String, String) {
    let email = field(u, "email");
    (field(u, "id"), if email.is_empty() { field(u, "name") } else { email })
}

/// Exports: saved list responses (`{"data": [...]}`, or an array of them) of `users`,
/// `workspaces` and `api-keys`. Users are read first, whatever the order of the files.
///
/// Public so that the fuzz targets (crates/fuzzing) can run it natively.
pub fn read_exports(out: &mut Emitter, files: &[ExportFile]) -> Result<(), ConnectorError> {
    let mut docs = vec![];
    for f in files {
        if !matches!(f.format.as_str(), "users" | "workspaces" | "api-keys") {
            return Err(ConnectorError::Config(format!(
                "{}: unknown export format {:?} (anthropic-admin reads: users, workspaces, api-keys)",
                f.name, f.format
            )));
        }
        let items = export_items(f, "data")?;
        docs.push((f.format.as_str(), items));
    }
    let users: Option<HashMap<String, String>> = docs.iter().any(|(k, _)| *k == "users").then(|| {
        docs.iter()
            .filter(|(k, _)| *k == "users")
            .flat_map(|(_, v)| v.iter().map(user_entry))
            .collect()
    });
    for (kind, items) in &docs {
        for item in items {
            match *kind {
                "workspaces" => workspace_record(out, item),
                "api-keys" => key_records(out, item, users.as_ref()),
                _ => Ok(()),
            }
            .map_err(Stop::into_error)?;
        }
    }
    Ok(())
}

impl Guest for AnthropicAdmin {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            id: "anthropic-admin".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Anthropic workspaces, users and API keys".into(),
            record_schema: 1,
        }
    }

    fn collect(request: CollectRequest) -> Result<CollectSummary, ConnectorError> {
        let mut run = match Progress::default().exports(&request, read_exports) {
            Ok(p) => p,
            Err(done) => return done,
        };
        let base = roster_connector_sdk::endpoint(&request.config)?;
        let base = format!("{base}/v1/organizations");
        let result = (|| -> Result<(), Stop> {
            // Users, to name each key's creator and to tell when a creator has left.
            let mut users: HashMap<String, String> = HashMap::new();
            let listed = list_cursor(&base, "/users", "after_id", &[VERSION_HEADER], |u| {
                let (id, name) = user_entry(u);
                users.insert(id, name);
                Ok(())
            });
            let users_known = listed.is_ok();
            run.part("users (key creators are shown by id)", listed)?;
            let out = &mut run.out;
            let ws = list_cursor(&base, "/workspaces", "after_id", &[VERSION_HEADER], |w| {
                workspace_record(out, w)
            });
            run.part("workspaces", ws)?;
            let out = &mut run.out;
            let users = users_known.then_some(&users);
            let keys = list_cursor(&base, "/api_keys", "after_id", &[VERSION_HEADER], |k| {
                key_records(out, k, users)
            });
            run.part("API keys", keys)
        })();
        run.finish(result)
    }
}

export!(AnthropicAdmin);
