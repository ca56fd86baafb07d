//! Roster connector for a GitHub organization: app installations with their permissions,
//! fine-grained personal access tokens granted to the organization (owner, expiry, last use),
//! deploy keys, Actions secret names (never values), and the organization audit log where the
//! plan has one (GitHub Enterprise Cloud).
//!
//! REST reference: <https://docs.github.com/en/rest>. The host attaches the token; this plugin
//! never has it. Saved responses are read as exports (see [`read_exports`]); with `api = false`,
//! only those.

use roster_connector_sdk::rest::{Next, Progress, Stop, export_items, field, pages, strings};
use roster_connector_sdk::types::*;
use roster_connector_sdk::{Emitter, Guest, KeyFacts, export, parse_time, progress, setting};
use serde_json::Value;

struct GitHub;

const HEADERS: [(&str, &str); 3] = [
    ("accept", "application/vnd.github+json"),
    ("x-github-api-version", "2022-11-28"),
    ("user-agent", "roster-connector-github"),
];

fn time(v: &Value, k: &str) -> Option<i64> {
    v.get(k).and_then(Value::as_str).and_then(parse_time)
}

fn id_of(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

/// `{"contents": "write", ...}` → permission records; `admin` when it can administer.
fn permissions(identity: &str, kind: &str, perms: Option<&Value>, out: &mut Emitter) -> Result<bool, Stop> {
    let mut admin = false;
    let Some(Value::Object(m)) = perms else {
        return Ok(false);
    };
    for (scope, level) in m {
        // Fine-grained PATs nest: {"organization": {...}, "repository": {...}}.
        if let Value::Object(inner) = level {
            for (s, l) in inner {
                let l = l.as_str().unwrap_or_default();
                admin |= matches!(s.as_str(), "administration" | "organization_administration") && l == "write";
                out.permission(Permission {
                    identity_id: identity.into(),
                    name: format!("{scope}/{s}:{l}"),
                    kind: kind.into(),
                    actions: vec![format!("{s}:{l}")],
                    resources: vec![scope.clone()],
                    attrs: vec![],
                })?;
            }
            continue;
        }
        let l = level.as_str().unwrap_or_default();
        admin |= matches!(
            scope.as_str(),
            "administration" | "organization_administration" | "members"
        ) && l == "write";
        out.permission(Permission {
            identity_id: identity.into(),
            name: format!("{scope}:{l}"),
            kind: kind.into(),
            actions: vec![format!("{scope}:{l}")],
            resources: vec![],
            attrs: vec![],
        })?;
    }
    Ok(admin)
}

/// An app installation (`GET /orgs/{org}/installations` item).
fn installation_records(out: &mut Emitter, i: &Value) -> Result<(), Stop> {
    let id = format!("github-installation:{}", id_of(i, "id"));
    let mut attrs = vec![
        ("app_id".to_string(), id_of(i, "app_id")),
        ("repository_selection".into(), field(i, "repository_selection")),
    ];
    let events = strings(i, "events");
    if !events.is_empty() {
        attrs.push(("events".into(), events.join(",")));
    }
    let admin = permissions(&id, "installation", i.get("permissions"), out)?;
    if admin {
        attrs.push(("admin".into(), "true".into()));
    }
    out.identity(Identity {
        id,
        kind: IdentityKind::AppInstallation,
        name: field(i, "app_slug"),
        created: time(i, "created_at"),
        last_used: None,
        enabled: Some(i.get("suspended_at").is_none_or(Value::is_null)),
        owners: vec![],
        tags: vec![],
        trusted_by: vec![],
        attrs,
    })?;
    Ok(())
}

/// A fine-grained PAT granted to the organization (`GET /orgs/{org}/personal-access-tokens` item).
fn pat_records(out: &mut Emitter, t: &Value) -> Result<(), Stop> {
    let id = format!("github-pat:{}", id_of(t, "token_id"));
    let owner = t.get("owner").cloned().unwrap_or(Value::Null);
    let login = field(&owner, "login");
    let owners = if login.is_empty() {
        vec![]
    } else {
        vec![Owner {
            id: id_of(&owner, "id"),
            name: login,
            kind: "user".into(),
            via: "token-owner".into(),
            enabled: None,
        }]
    };
    let admin = permissions(&id, "pat-grant", t.get("permissions"), out)?;
    let mut attrs = vec![("repository_selection".to_string(), field(t, "repository_selection"))];
    if admin {
        attrs.push(("admin".into(), "true".into()));
    }
    let expired = t.get("token_expired").and_then(Value::as_bool) == Some(true);
    out.key_identity(
        Identity {
            id,
            kind: IdentityKind::PersonalAccessToken,
            name: field(t, "token_name"),
            created: time(t, "access_granted_at"),
            last_used: time(t, "token_last_used_at"),
            enabled: Some(!expired),
            owners,
            tags: vec![],
            trusted_by: vec![],
            attrs,
        },
        KeyFacts {
            kind: CredentialKind::Token,
            status: if expired {
                CredentialStatus::Expired
            } else {
                CredentialStatus::Active
            },
            expires: time(t, "token_expires_at"),
            redacted: None,
            attrs: vec![("grant_id".into(), id_of(t, "id"))],
        },
    )?;
    Ok(())
}

/// An organization audit-log event.
fn audit_event(out: &mut Emitter, e: &Value) -> Result<(), Stop> {
    let ms = e
        .get("@timestamp")
        .and_then(Value::as_i64)
        .or_else(|| e.get("created_at").and_then(Value::as_i64));
    let Some(time) = ms else { return Ok(()) };
    let mut attrs = vec![];
    for k in [
        "repo",
        "programmatic_access_type",
        "integration",
        "oauth_application",
        "deploy_key_fingerprint",
        "hashed_token",
    ] {
        let v = field(e, k);
        if !v.is_empty() {
            attrs.push((k.to_string(), v));
        }
    }
    out.activity(Activity {
        id: field(e, "_document_id"),
        time,
        credential_id: Some(field(e, "hashed_token")).filter(|t| !t.is_empty()),
        identity_id: Some(field(e, "actor")).filter(|a| !a.is_empty()),
        action: field(e, "action"),
        service: Some("github".into()),
        source_ip: Some(field(e, "actor_ip")).filter(|a| !a.is_empty()),
        user_agent: Some(field(e, "user_agent")).filter(|a| !a.is_empty()),
        outcome: None,
        attrs,
    })?;
    Ok(())
}

/// Turns one item of an export into records.
type ReadItem = fn(&mut Emitter, &Value) -> Result<(), Stop>;

/// Exports saved from the REST API: `installations`, `personal-access-tokens` and `audit-log`.
///
/// Public so that the fuzz targets (crates/fuzzing) can run it natively.
pub fn read_exports(out: &mut Emitter, files: &[ExportFile]) -> Result<(), ConnectorError> {
    for f in files {
        let (key, read): (&str, ReadItem) = match f.format.as_str() {
            "installations" => ("installations", installation_records),
            "personal-access-tokens" => ("", pat_records),
            "audit-log" => ("", audit_event),
            other => {
                return Err(ConnectorError::Config(format!(
                    "{}: unknown export format {other:?} (github reads: installations, personal-access-tokens, audit-log)",
                    f.name
                )));
            }
        };
        for item in export_items(f, key)? {
            read(out, &item).map_err(Stop::into_error)?;
        }
    }
    Ok(())
}

struct Run {
    base: String,
    org: String,
    p: Progress,
}

impl Run {
    /// Runs one listing; a failure of one part becomes a note, a refused token ends the run.
    fn org_identity(&self) -> String {
        format!("github-org:{}", self.org)
    }

    fn installations(&mut self) -> Result<(), Stop> {
        let url = format!("{}/orgs/{}/installations?per_page=100", self.base, self.org);
        let out = &mut self.p.out;
        pages(&url, &HEADERS, Some("installations"), Next::LinkHeader, |i| {
            installation_records(out, i)
        })
    }

    fn personal_access_tokens(&mut self) -> Result<(), Stop> {
        let url = format!("{}/orgs/{}/personal-access-tokens?per_page=100", self.base, self.org);
        let out = &mut self.p.out;
        pages(&url, &HEADERS, None, Next::LinkHeader, |t| pat_records(out, t))
    }

    fn actions_secrets(&mut self, scope: &str, path: &str) -> Result<(), Stop> {
        let url = format!("{}{path}?per_page=100", self.base);
        let holder = self.org_identity();
        let out = &mut self.p.out;
        pages(&url, &HEADERS, Some("secrets"), Next::LinkHeader, |s| {
            let name = field(s, "name");
            out.credential(Credential {
                id: format!("github-actions-secret:{scope}:{name}"),
                identity_id: holder.clone(),
                kind: CredentialKind::Other,
                status: CredentialStatus::Unknown,
                name: Some(name),
                created: time(s, "created_at"),
                expires: None,
                last_used: None,
                last_used_service: None,
                redacted: None,
                attrs: vec![
                    ("actions_secret_scope".into(), scope.to_string()),
                    ("updated".into(), field(s, "updated_at")),
                ],
            })?;
            Ok(())
        })
    }

    fn repos_and_deploy_keys(&mut self) -> Result<(), Stop> {
        let url = format!("{}/orgs/{}/repos?per_page=100&type=all", self.base, self.org);
        let mut repos = vec![];
        let out = &mut self.p.out;
        pages(&url, &HEADERS, None, Next::LinkHeader, |r| {
            let flag = |k: &str| r.get(k).and_then(Value::as_bool).unwrap_or(false);
            if !flag("archived") {
                repos.push(field(r, "name"));
            }
            let clone_url = field(r, "clone_url");
            if !clone_url.is_empty() {
                let mut attrs = vec![];
                if let Some(v) = r.get("visibility").and_then(Value::as_str) {
                    attrs.push(("visibility".to_string(), v.to_string()));
                }
                out.repository(Repository {
                    full_name: field(r, "full_name"),
                    clone_url,
                    default_branch: Some(field(r, "default_branch")).filter(|b| !b.is_empty()),
                    archived: flag("archived"),
                    fork: flag("fork"),
                    private: flag("private"),
                    pushed_at: time(r, "pushed_at"),
                    attrs,
                })?;
            }
            Ok(())
        })?;
        for (n, repo) in repos.iter().enumerate() {
            progress(n as u64, Some(repos.len() as u64), "GitHub repositories");
            let url = format!("{}/repos/{}/{repo}/keys?per_page=100", self.base, self.org);
            let out = &mut self.p.out;
            let org = self.org.clone();
            let r = pages(&url, &HEADERS, None, Next::LinkHeader, |k| {
                let id = format!("github-deploy-key:{}", id_of(k, "id"));
                let read_only = k.get("read_only").and_then(Value::as_bool).unwrap_or(true);
                let mut attrs = vec![("repository".to_string(), format!("{org}/{repo}"))];
                attrs.push(("read_only".into(), read_only.to_string()));
                let added_by = field(k, "added_by");
                let owners = if added_by.is_empty() {
                    vec![]
                } else {
                    vec![Owner {
                        id: added_by.clone(),
                        name: added_by,
                        kind: "user".into(),
                        via: "creator".into(),
                        enabled: None,
                    }]
                };
                out.key_identity(
                    Identity {
                        id,
                        kind: IdentityKind::DeployKey,
                        name: field(k, "title"),
                        created: time(k, "created_at"),
                        last_used: time(k, "last_used"),
                        enabled: Some(k.get("enabled").and_then(Value::as_bool).unwrap_or(true)),
                        owners,
                        tags: vec![],
                        trusted_by: vec![],
                        attrs,
                    },
                    KeyFacts {
                        kind: CredentialKind::SshKey,
                        status: CredentialStatus::Active,
                        expires: None,
                        redacted: None,
                        attrs: vec![],
                    },
                )?;
                Ok(())
            });
            self.p.part(&format!("deploy keys of {repo}"), r)?;
        }
        Ok(())
    }

    fn audit_log(&mut self) -> Result<(), Stop> {
        let url = format!("{}/orgs/{}/audit-log?per_page=100&include=all", self.base, self.org);
        let out = &mut self.p.out;
        pages(&url, &HEADERS, None, Next::LinkHeader, |e| audit_event(out, e))
    }
}

impl Guest for GitHub {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            id: "github".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "GitHub app installations, PAT grants, deploy keys, Actions secret names, audit log".into(),
            record_schema: 1,
        }
    }

    fn collect(request: CollectRequest) -> Result<CollectSummary, ConnectorError> {
        let cfg = &request.config;
        let p = match Progress::default().exports(&request, read_exports) {
            Ok(p) => p,
            Err(done) => return done,
        };
        let org =
            setting(cfg, "org").ok_or_else(|| ConnectorError::Config("set org = \"<organization login>\"".into()))?;
        let base = roster_connector_sdk::endpoint(cfg)?;
        let mut run = Run {
            base: base.to_string(),
            org: org.to_string(),
            p,
        };
        let org_identity = Identity {
            id: run.org_identity(),
            kind: IdentityKind::Other,
            name: org.to_string(),
            created: None,
            last_used: None,
            enabled: Some(true),
            owners: vec![],
            tags: vec![],
            trusted_by: vec![],
            attrs: vec![("github".into(), "organization".into())],
        };
        let result = (|| -> Result<(), Stop> {
            run.p.out.identity(org_identity)?;
            let r = run.installations();
            run.p.part("app installations", r)?;
            let r = run.personal_access_tokens();
            run.p.part("fine-grained personal access tokens", r)?;
            let path = format!("/orgs/{}/actions/secrets", run.org);
            let r = run.actions_secrets("org", &path);
            run.p.part("organization Actions secrets", r)?;
            let r = run.repos_and_deploy_keys();
            run.p.part("repositories", r)?;
            if setting(cfg, "audit_log") != Some("false") {
                let r = run.audit_log();
                if let Err(Stop::Failed(m)) = &r
                    && m.starts_with("404")
                {
                    run.p.notes.push(
                        "audit log: not available (GitHub Enterprise Cloud only); set audit_log = false to skip".into(),
                    );
                } else {
                    run.p.part("audit log", r)?;
                }
            }
            Ok(())
        })();
        run.p.finish(result)
    }
}

export!(GitHub);
