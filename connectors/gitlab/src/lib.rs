//! Roster connector for a GitLab group (gitlab.com or self-managed) and its subgroups: group and
//! project access tokens and the bot users behind them, group service accounts and their
//! personal access tokens, deploy tokens and deploy keys (scopes, creation, expiry, last use,
//! revoked or active), members (whose `state` says whether a token's creator is still active),
//! audit events (which name the creator of each access token), and the projects, for the host's
//! repository scan.
//!
//! REST reference: <https://docs.gitlab.com/api/rest/>. The host attaches the token; this plugin
//! never has it. The group is addressed by its URL-encoded path (`acme%2Fplatform`), its projects
//! by theirs, so every request stays under the prefixes the profile allows for the group. Saved
//! responses are read as exports (see [`read_exports`]); with `api = false`, only those.

use std::collections::{HashMap, HashSet};

use roster_connector_sdk::rest::{Stop, export_items, field, gather, strings};
use roster_connector_sdk::types::*;
use roster_connector_sdk::{Emitter, KeyFacts, export, parse_time};
use serde_json::Value;

mod api;

struct GitLab;

const HEADERS: [(&str, &str); 2] = [
    ("accept", "application/json"),
    ("user-agent", "roster-connector-gitlab"),
];

/// A time field: RFC 3339, or a date (`expires_at` of tokens), read as its midnight UTC.
fn time(v: &Value, k: &str) -> Option<i64> {
    let s = v.get(k).and_then(Value::as_str)?;
    if s.len() == 10 {
        parse_time(&format!("{s}T00:00:00Z"))
    } else {
        parse_time(s)
    }
}

/// A numeric or string id as text ("" when missing).
fn id_of(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

fn flag(v: &Value, k: &str) -> Option<bool> {
    v.get(k).and_then(Value::as_bool)
}

/// What a token's `scopes` grant, as permissions; `api` reads and writes the whole API, `sudo`
/// and `admin_mode` act as any user or as an administrator.
fn scope_permissions(identity: &str, kind: &str, t: &Value) -> Vec<Permission> {
    strings(t, "scopes")
        .into_iter()
        .map(|s| {
            let attrs = match s {
                "sudo" | "admin_mode" => vec![("admin".to_string(), "true".to_string())],
                "api" => vec![(
                    "broad".to_string(),
                    "read and write access to the whole API".to_string(),
                )],
                _ => vec![],
            };
            Permission {
                identity_id: identity.into(),
                name: s.into(),
                kind: kind.into(),
                actions: vec![s.into()],
                resources: vec![],
                attrs,
            }
        })
        .collect()
}

fn scopes_text(t: &Value) -> String {
    strings(t, "scopes").join(",")
}

/// A token's status: revoked, else inactive (expired when its date has passed), else active.
fn token_status(t: &Value) -> CredentialStatus {
    if flag(t, "revoked") == Some(true) {
        CredentialStatus::Revoked
    } else if flag(t, "active") == Some(false) || flag(t, "expired") == Some(true) {
        CredentialStatus::Expired
    } else {
        CredentialStatus::Active
    }
}

/// What was read, kept until the end so that owners (creators from the audit events, their state
/// from the members) are known when the tokens are written.
#[derive(Default)]
struct Gathered {
    /// Group members (inherited too), by user id.
    members: HashMap<String, Value>,
    audit_events: Vec<Value>,
    /// Group and project access tokens, with the group or project they belong to.
    access_tokens: Vec<(Value, &'static str, String)>,
    deploy_tokens: Vec<Value>,
    /// Deploy keys, with their project.
    deploy_keys: Vec<(Value, String)>,
    service_accounts: Vec<Value>,
    service_account_tokens: Vec<Value>,
    /// People's personal access tokens: the group's credentials inventory (enterprise users,
    /// GitLab.com) or an administrator's instance-wide list.
    personal_tokens: Vec<Value>,
}

impl Gathered {
    /// Creators of access tokens from the `*_access_token_created` audit events: token id →
    /// (author id, author name).
    fn creators(&self) -> HashMap<String, (String, String)> {
        let mut out = HashMap::new();
        for e in &self.audit_events {
            let name = field(e, "event_name");
            let details = e.get("details").cloned().unwrap_or(Value::Null);
            let message = field(&details, "custom_message").to_ascii_lowercase();
            let created = name.ends_with("access_token_created")
                || (message.starts_with("created") && message.contains("access token"));
            if !created {
                continue;
            }
            let target = id_of(&details, "target_id");
            if !target.is_empty() {
                out.insert(target, (id_of(e, "author_id"), field(&details, "author_name")));
            }
        }
        out
    }

    /// The owner a creator gives, disabled when the group's members show that user blocked or
    /// deactivated.
    fn owner(&self, (id, name): &(String, String)) -> Owner {
        let member = self.members.get(id);
        let name = member
            .map(|m| field(m, "username"))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| name.clone());
        Owner {
            id: id.clone(),
            name,
            kind: "user".into(),
            via: "creator".into(),
            enabled: member
                .map(|m| field(m, "state"))
                .filter(|s| !s.is_empty())
                .map(|s| s == "active"),
        }
    }

    /// A bot or service account user as a `service-principal` identity.
    fn user_identity(&self, id: &str, name: String, owners: Vec<Owner>, attrs: Vec<(String, String)>) -> Identity {
        let member = self.members.get(id);
        let mut attrs = attrs;
        if let Some(m) = member {
            attrs.push(("state".into(), field(m, "state")));
        }
        Identity {
            id: format!("gitlab-user:{id}"),
            kind: IdentityKind::ServicePrincipal,
            name,
            created: member.and_then(|m| time(m, "created_at")),
            last_used: None,
            enabled: member
                .map(|m| field(m, "state"))
                .filter(|s| !s.is_empty())
                .map(|s| s == "active"),
            owners,
            tags: vec![],
            trusted_by: vec![],
            attrs,
        }
    }

    /// Writes every record.
    fn emit(&self, out: &mut Emitter) -> Result<(), Stop> {
        let creators = self.creators();
        let mut users = HashSet::new();
        // Bot users of group and project access tokens: one identity each, its token a credential.
        for (t, scope, resource) in &self.access_tokens {
            let user = id_of(t, "user_id");
            let token = id_of(t, "id");
            let owners: Vec<Owner> = creators.get(&token).map(|c| self.owner(c)).into_iter().collect();
            if !user.is_empty() && users.insert(user.clone()) {
                let name = self
                    .members
                    .get(&user)
                    .map(|m| field(m, "username"))
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| field(t, "name"));
                let mut ident = self.user_identity(
                    &user,
                    name,
                    owners,
                    vec![
                        ("bot".into(), "true".into()),
                        ((*scope).into(), resource.clone()),
                        ("access_level".into(), id_of(t, "access_level")),
                    ],
                );
                ident.enabled = Some(token_status(t) == CredentialStatus::Active);
                ident.created = time(t, "created_at");
                out.identity(ident)?;
            }
            let holder = format!("gitlab-user:{user}");
            for p in scope_permissions(&holder, "token-scope", t) {
                out.permission(p)?;
            }
            out.credential(token_credential(t, &holder, &format!("{scope}-access-token"), resource))?;
        }
        for sa in &self.service_accounts {
            let id = id_of(sa, "id");
            if id.is_empty() || !users.insert(id.clone()) {
                continue;
            }
            let mut attrs = vec![("service_account".into(), "true".into())];
            if let Some(e) = sa.get("email").and_then(Value::as_str) {
                attrs.push(("email".into(), e.into()));
            }
            let name = Some(field(sa, "username"))
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| field(sa, "name"));
            let mut ident = self.user_identity(&id, name, vec![], attrs);
            ident.enabled.get_or_insert(true);
            out.identity(ident)?;
        }
        for t in &self.service_account_tokens {
            let holder = format!("gitlab-user:{}", id_of(t, "user_id"));
            for p in scope_permissions(&holder, "token-scope", t) {
                out.permission(p)?;
            }
            out.credential(token_credential(t, &holder, "personal-access-token", ""))?;
        }
        // Bot members no token listed (a project token the reader cannot see): identities too.
        for (id, m) in &self.members {
            let bot = flag(m, "bot") == Some(true);
            if bot && users.insert(id.clone()) {
                let ident = self.user_identity(id, field(m, "username"), vec![], vec![("bot".into(), "true".into())]);
                out.identity(ident)?;
            }
        }
        for t in &self.deploy_tokens {
            let id = format!("gitlab-deploy-token:{}", id_of(t, "id"));
            for p in scope_permissions(&id, "deploy-token-scope", t) {
                out.permission(p)?;
            }
            let status = token_status(t);
            out.key_identity(
                Identity {
                    id,
                    kind: IdentityKind::ApiToken,
                    name: field(t, "name"),
                    created: time(t, "created_at"),
                    last_used: None,
                    enabled: Some(status == CredentialStatus::Active),
                    owners: vec![],
                    tags: vec![],
                    trusted_by: vec![],
                    attrs: vec![
                        ("deploy_token".into(), "true".into()),
                        ("username".into(), field(t, "username")),
                        ("scopes".into(), scopes_text(t)),
                    ],
                },
                KeyFacts {
                    kind: CredentialKind::Token,
                    status,
                    expires: time(t, "expires_at"),
                    redacted: None,
                    attrs: vec![],
                },
            )?;
        }
        for (k, project) in &self.deploy_keys {
            let can_push = flag(k, "can_push").unwrap_or(false);
            let mut attrs = vec![("can_push".to_string(), can_push.to_string())];
            if !project.is_empty() {
                attrs.push(("project".into(), project.clone()));
            }
            let fingerprint = field(k, "fingerprint_sha256");
            if !fingerprint.is_empty() {
                attrs.push(("fingerprint_sha256".into(), fingerprint));
            }
            let id = format!("gitlab-deploy-key:{project}:{}", id_of(k, "id"));
            if can_push {
                out.permission(Permission {
                    identity_id: id.clone(),
                    name: "write_repository".into(),
                    kind: "deploy-key".into(),
                    actions: vec!["write_repository".into()],
                    resources: vec![project.clone()],
                    attrs: vec![],
                })?;
            }
            out.key_identity(
                Identity {
                    id,
                    kind: IdentityKind::DeployKey,
                    name: field(k, "title"),
                    created: time(k, "created_at"),
                    last_used: None,
                    enabled: Some(true),
                    owners: vec![],
                    tags: vec![],
                    trusted_by: vec![],
                    attrs,
                },
                KeyFacts {
                    kind: CredentialKind::SshKey,
                    status: CredentialStatus::Active,
                    expires: time(k, "expires_at"),
                    redacted: None,
                    attrs: vec![],
                },
            )?;
        }
        self.emit_personal_tokens(out, &users)?;
        for e in &self.audit_events {
            audit_event(out, e)?;
        }
        Ok(())
    }

    /// People's personal access tokens, each a `personal-access-token` identity owned by its
    /// user (disabled when the members show that user blocked or deactivated). Tokens of the
    /// bot and service account users written above are theirs already.
    fn emit_personal_tokens(&self, out: &mut Emitter, users: &HashSet<String>) -> Result<(), Stop> {
        let listed: HashSet<String> = (self.access_tokens.iter().map(|t| &t.0))
            .chain(&self.service_account_tokens)
            .map(|t| id_of(t, "id"))
            .collect();
        let mut seen = HashSet::new();
        for t in &self.personal_tokens {
            let (token, user) = (id_of(t, "id"), id_of(t, "user_id"));
            if token.is_empty() || listed.contains(&token) || users.contains(&user) || !seen.insert(token.clone()) {
                continue;
            }
            let id = format!("gitlab-pat:{token}");
            let owners = if user.is_empty() {
                vec![]
            } else {
                vec![Owner {
                    via: "token-owner".into(),
                    ..self.owner(&(user.clone(), String::new()))
                }]
            };
            for p in scope_permissions(&id, "token-scope", t) {
                out.permission(p)?;
            }
            let status = token_status(t);
            let mut attrs = vec![("user_id".to_string(), user), ("scopes".into(), scopes_text(t))];
            let description = field(t, "description");
            if !description.is_empty() {
                attrs.push(("description".into(), description));
            }
            out.key_identity(
                Identity {
                    id,
                    kind: IdentityKind::PersonalAccessToken,
                    name: field(t, "name"),
                    created: time(t, "created_at"),
                    last_used: time(t, "last_used_at"),
                    enabled: Some(status == CredentialStatus::Active),
                    owners,
                    tags: vec![],
                    trusted_by: vec![],
                    attrs,
                },
                KeyFacts {
                    kind: CredentialKind::Token,
                    status,
                    expires: time(t, "expires_at"),
                    redacted: None,
                    attrs: vec![("token_type".into(), "personal-access-token".into())],
                },
            )?;
        }
        Ok(())
    }
}

/// A group, project or personal access token held by the user `holder`.
fn token_credential(t: &Value, holder: &str, kind: &str, resource: &str) -> Credential {
    let mut attrs = vec![
        ("token_type".to_string(), kind.to_string()),
        ("scopes".into(), scopes_text(t)),
    ];
    if !resource.is_empty() {
        attrs.push(("resource".into(), resource.into()));
    }
    let level = id_of(t, "access_level");
    if !level.is_empty() {
        attrs.push(("access_level".into(), level));
    }
    Credential {
        id: format!("gitlab-token:{}", id_of(t, "id")),
        identity_id: holder.into(),
        kind: CredentialKind::Token,
        status: token_status(t),
        name: Some(field(t, "name")).filter(|n| !n.is_empty()),
        created: time(t, "created_at"),
        expires: time(t, "expires_at"),
        last_used: time(t, "last_used_at"),
        last_used_service: None,
        redacted: None,
        attrs,
    }
}

/// A group or project audit event.
fn audit_event(out: &mut Emitter, e: &Value) -> Result<(), Stop> {
    let Some(at) = time(e, "created_at") else {
        return Ok(());
    };
    let details = e.get("details").cloned().unwrap_or(Value::Null);
    let mut attrs = vec![];
    for (attr, v) in [
        ("entity_type", field(e, "entity_type")),
        ("entity_path", field(&details, "entity_path")),
        ("target_type", field(&details, "target_type")),
        ("target_id", id_of(&details, "target_id")),
        ("target_details", field(&details, "target_details")),
        ("message", field(&details, "custom_message")),
        ("author_name", field(&details, "author_name")),
    ] {
        if !v.is_empty() {
            attrs.push((attr.to_string(), v));
        }
    }
    let action = Some(field(e, "event_name"))
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| field(&details, "custom_message"));
    let target = id_of(&details, "target_id");
    let token_event = field(&details, "target_type").contains("AccessToken") && !target.is_empty();
    out.activity(Activity {
        id: format!("gitlab-audit:{}", id_of(e, "id")),
        time: at,
        credential_id: token_event.then(|| format!("gitlab-token:{target}")),
        identity_id: Some(id_of(e, "author_id"))
            .filter(|a| !a.is_empty())
            .map(|a| format!("gitlab-user:{a}")),
        action,
        service: Some("gitlab".into()),
        source_ip: Some(field(&details, "ip_address")).filter(|a| !a.is_empty()),
        user_agent: None,
        outcome: None,
        attrs,
    })?;
    Ok(())
}

/// Exports saved from the REST API (`glab api --paginate ... > file.json`): `members`,
/// `group-access-tokens`, `project-access-tokens`, `deploy-tokens`, `deploy-keys`,
/// `service-accounts`, `service-account-tokens`, `personal-access-tokens` and `audit-events`. A file's name (without
/// `.json`) names the group or project its tokens and keys belong to.
///
/// Public so that the fuzz targets (crates/fuzzing) can run it natively.
pub fn read_exports(out: &mut Emitter, files: &[ExportFile]) -> Result<(), ConnectorError> {
    let mut g = Gathered::default();
    let r = gather_exports(&mut g, files);
    g.emit(out).map_err(Stop::into_error)?;
    r
}

fn gather_exports(g: &mut Gathered, files: &[ExportFile]) -> Result<(), ConnectorError> {
    for f in files {
        let formats = "members, group-access-tokens, project-access-tokens, deploy-tokens, deploy-keys, service-accounts, service-account-tokens, personal-access-tokens, audit-events";
        if !formats.split(", ").any(|x| x == f.format) {
            return Err(ConnectorError::Config(format!(
                "{}: unknown export format {:?} (gitlab reads: {formats})",
                f.name, f.format
            )));
        }
        let items = export_items(f, "")?;
        let stem = f
            .name
            .rsplit('/')
            .next()
            .unwrap_or(&f.name)
            .trim_end_matches(".json")
            .to_string();
        for item in items {
            if !item.is_object() {
                return Err(ConnectorError::Config(format!(
                    "{}: an item is not an object: {item}",
                    f.name
                )));
            }
            match f.format.as_str() {
                "members" => {
                    g.members.insert(id_of(&item, "id"), item);
                }
                "group-access-tokens" => g.access_tokens.push((item, "group", stem.clone())),
                "project-access-tokens" => g.access_tokens.push((item, "project", stem.clone())),
                "deploy-tokens" => g.deploy_tokens.push(item),
                "deploy-keys" => g.deploy_keys.push((item, stem.clone())),
                "service-accounts" => g.service_accounts.push(item),
                "service-account-tokens" => g.service_account_tokens.push(item),
                "personal-access-tokens" => g.personal_tokens.push(item),
                _ => g.audit_events.push(item),
            }
        }
    }
    Ok(())
}

impl roster_connector_sdk::Guest for GitLab {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            id: "gitlab".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "GitLab access tokens, service accounts, deploy tokens and keys, audit events, projects"
                .into(),
            record_schema: 1,
        }
    }

    fn collect(request: CollectRequest) -> Result<CollectSummary, ConnectorError> {
        let cfg = &request.config;
        gather(
            &request,
            Gathered::default(),
            gather_exports,
            |p, g, base| api::collect(p, g, cfg, base),
            |g, out| g.emit(out),
        )
    }
}

export!(GitLab);
