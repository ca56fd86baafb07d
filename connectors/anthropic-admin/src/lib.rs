//! Roster connector for Anthropic's Admin API: workspaces, users and API keys (creator, status,
//! created, partial key hint).
//!
//! API reference: <https://docs.anthropic.com/en/api/administration-api>. The host attaches the
//! admin key (`x-api-key`); this plugin never has it.

use std::collections::HashMap;

use roster_connector_sdk::rest::{Progress, Stop, field, list_cursor};
use roster_connector_sdk::types::*;
use roster_connector_sdk::{Guest, export, parse_time, setting};
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
        let base = setting(&request.config, "endpoint_url")
            .unwrap_or("https://api.anthropic.com")
            .trim_end_matches('/');
        let base = format!("{base}/v1/organizations");
        let mut run = Progress::default();
        let result = (|| -> Result<(), Stop> {
            // Users, to name each key's creator.
            let mut users: HashMap<String, String> = HashMap::new();
            let listed = list_cursor(&base, "/users", "after_id", &[VERSION_HEADER], |u| {
                let email = field(u, "email");
                users.insert(field(u, "id"), if email.is_empty() { field(u, "name") } else { email });
                Ok(())
            });
            run.part("users (key creators are shown by id)", listed)?;
            let out = &mut run.out;
            let ws = list_cursor(&base, "/workspaces", "after_id", &[VERSION_HEADER], |w| {
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
            });
            run.part("workspaces", ws)?;
            let out = &mut run.out;
            let keys = list_cursor(&base, "/api_keys", "after_id", &[VERSION_HEADER], |k| {
                let id = field(k, "id");
                let creator = k.get("created_by").map(|c| field(c, "id")).unwrap_or_default();
                let owners = if creator.is_empty() {
                    vec![]
                } else {
                    vec![Owner {
                        name: users.get(&creator).cloned().unwrap_or_else(|| creator.clone()),
                        id: creator,
                        kind: "user".into(),
                        via: "creator".into(),
                        enabled: None,
                    }]
                };
                let mut attrs = vec![];
                if let Some(w) = k.get("workspace_id").and_then(Value::as_str) {
                    attrs.push(("workspace_id".to_string(), w.to_string()));
                }
                let st = field(k, "status");
                out.identity(Identity {
                    id: id.clone(),
                    kind: IdentityKind::AiKey,
                    name: field(k, "name"),
                    created: time(k, "created_at"),
                    last_used: None,
                    enabled: Some(st == "active"),
                    owners,
                    tags: vec![],
                    trusted_by: vec![],
                    attrs,
                })?;
                out.credential(Credential {
                    id: id.clone(),
                    identity_id: id,
                    kind: CredentialKind::ApiKey,
                    status: status(&st),
                    name: Some(field(k, "name")).filter(|n| !n.is_empty()),
                    created: time(k, "created_at"),
                    expires: time(k, "expires_at"),
                    last_used: None,
                    last_used_service: None,
                    redacted: Some(field(k, "partial_key_hint")).filter(|r| !r.is_empty()),
                    attrs: vec![("provider".into(), "anthropic".into())],
                })
                .map_err(Stop::from)
            });
            run.part("API keys", keys)
        })();
        run.finish(result)
    }
}

export!(AnthropicAdmin);
