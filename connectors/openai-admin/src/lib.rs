//! Roster connector for OpenAI's Admin API: projects, their service accounts and API keys (owner,
//! created, last used, redacted value), and the organization's admin keys.
//!
//! API reference: <https://platform.openai.com/docs/api-reference/administration>. The host
//! attaches the admin key (`Authorization: Bearer`); this plugin never has it.
//!
//! Exports: `api-keys` (a project's `GET /organization/projects/{id}/api_keys` response, or an
//! array of them) and `admin-api-keys` (`GET /organization/admin_api_keys`), as saved from the
//! API; with `api = false` only the files are read.

use roster_connector_sdk::rest::{Progress, Stop, export_items, field, list_cursor};
use roster_connector_sdk::types::*;
use roster_connector_sdk::{Emitter, Guest, KeyFacts, export, progress};
use serde_json::Value;

struct OpenAiAdmin;

/// Unix seconds as milliseconds; none when out of range.
fn ms(v: &Value) -> Option<i64> {
    v.as_i64().and_then(|s| s.checked_mul(1000))
}

fn key_records(out: &mut Emitter, key: &Value, project: Option<&str>, admin: bool) -> Result<(), Stop> {
    let id = field(key, "id");
    if id.is_empty() {
        return Ok(());
    }
    let owner = key.get("owner").cloned().unwrap_or(Value::Null);
    let mut attrs = vec![];
    if let Some(p) = project {
        attrs.push(("project_id".to_string(), p.to_string()));
    }
    if admin {
        attrs.push(("admin".into(), "true".into()));
    }
    let mut owners = vec![];
    let kind = owner
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or(if admin { "user" } else { "" });
    attrs.push(("owner_type".into(), kind.to_string()));
    let user = if admin { Some(&owner) } else { owner.get("user") };
    match (kind, user, owner.get("service_account")) {
        ("user", Some(u), _) => {
            let email = field(u, "email");
            owners.push(Owner {
                id: field(u, "id"),
                name: if email.is_empty() { field(u, "name") } else { email },
                kind: "user".into(),
                via: "openai-key-owner".into(),
                enabled: None,
            });
        }
        ("service_account", _, Some(sa)) => {
            attrs.push(("service_account_id".into(), field(sa, "id")));
            attrs.push(("service_account_name".into(), field(sa, "name")));
        }
        _ => {}
    }
    if let Some(a) = key.get("owner_project_access").and_then(Value::as_str) {
        attrs.push(("owner_project_access".into(), a.to_string()));
    }
    out.key_identity(
        Identity {
            id,
            kind: IdentityKind::AiKey,
            name: field(key, "name"),
            created: ms(&key["created_at"]),
            last_used: ms(&key["last_used_at"]),
            enabled: Some(true),
            owners,
            tags: vec![],
            trusted_by: vec![],
            attrs,
        },
        KeyFacts {
            kind: CredentialKind::ApiKey,
            status: CredentialStatus::Active,
            expires: ms(&key["expires_at"]),
            redacted: Some(field(key, "redacted_value")),
            attrs: vec![("provider".into(), "openai".into())],
        },
    )
    .map_err(Stop::from)
}

/// One export file: Admin API list responses of project or admin API keys.
fn read_export(out: &mut Emitter, f: &ExportFile) -> Result<(), ConnectorError> {
    let admin = match f.format.as_str() {
        "api-keys" => false,
        "admin-api-keys" => true,
        other => {
            return Err(ConnectorError::Config(format!(
                "{}: unknown export format {other:?} (openai-admin reads: api-keys, admin-api-keys)",
                f.name
            )));
        }
    };
    for k in export_items(f, "data")? {
        key_records(out, &k, k.get("project_id").and_then(Value::as_str), admin).map_err(Stop::into_error)?;
    }
    Ok(())
}

/// Reads the export files, in order (the part of a run that needs no API). Public so that the
/// fuzz targets (crates/fuzzing) can run it natively.
pub fn read_exports(out: &mut Emitter, files: &[ExportFile]) -> Result<(), ConnectorError> {
    files.iter().try_for_each(|f| read_export(out, f))
}

impl Guest for OpenAiAdmin {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            id: "openai-admin".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "OpenAI projects, service accounts and API keys".into(),
            record_schema: 1,
        }
    }

    fn collect(request: CollectRequest) -> Result<CollectSummary, ConnectorError> {
        let mut run = match Progress::default().exports(&request, read_exports) {
            Ok(p) => p,
            Err(done) => return done,
        };
        let base = roster_connector_sdk::endpoint(&request.config)?;
        let base = format!("{base}/organization");
        let result = (|| -> Result<(), Stop> {
            let mut projects = vec![];
            list_cursor(&base, "/projects", "after", &[], |p| {
                if !field(p, "id").is_empty() {
                    projects.push(p.clone());
                }
                Ok(())
            })?;
            for (n, p) in projects.iter().enumerate() {
                progress(n as u64, Some(projects.len() as u64), "OpenAI projects");
                let pid = field(p, "id");
                run.out.identity(Identity {
                    id: pid.clone(),
                    kind: IdentityKind::AiProject,
                    name: field(p, "name"),
                    created: ms(&p["created_at"]),
                    last_used: None,
                    enabled: Some(field(p, "status") != "archived"),
                    owners: vec![],
                    tags: vec![],
                    trusted_by: vec![],
                    attrs: vec![("status".into(), field(p, "status"))],
                })?;
                let out = &mut run.out;
                let sas = list_cursor(
                    &base,
                    &format!("/projects/{pid}/service_accounts"),
                    "after",
                    &[],
                    |sa| {
                        out.identity(Identity {
                            id: field(sa, "id"),
                            kind: IdentityKind::AiServiceAccount,
                            name: field(sa, "name"),
                            created: ms(&sa["created_at"]),
                            last_used: None,
                            enabled: Some(true),
                            owners: vec![],
                            tags: vec![],
                            trusted_by: vec![],
                            attrs: vec![("project_id".into(), pid.clone()), ("role".into(), field(sa, "role"))],
                        })
                        .map_err(Stop::from)
                    },
                );
                run.part(&format!("service accounts of {pid}"), sas)?;
                let out = &mut run.out;
                let keys = list_cursor(&base, &format!("/projects/{pid}/api_keys"), "after", &[], |k| {
                    key_records(out, k, Some(&pid), false)
                });
                run.part(&format!("API keys of {pid}"), keys)?;
            }
            let out = &mut run.out;
            let admin = list_cursor(&base, "/admin_api_keys", "after", &[], |k| {
                key_records(out, k, None, true)
            });
            run.part("admin keys", admin)
        })();
        run.finish(result)
    }
}

export!(OpenAiAdmin);
