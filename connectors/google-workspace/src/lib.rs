//! Roster connector for Google Workspace: the OAuth token audit log. Every third-party app
//! (an OAuth client) that users of the domain granted access to their data becomes an identity,
//! with each user's grant as a credential (created when authorized, revoked when revoked, last
//! used from the app's API activity), the scopes granted as permissions, and every audit event as
//! activity.
//!
//! API: the Admin SDK Reports API, `activities.list` with `applicationName=token`
//! (<https://developers.google.com/workspace/admin/reports/v1/guides/manage-audit-tokens>;
//! events and parameters: `.../appendix/activity/token`). It keeps 180 days of events. The host
//! attaches the access token (minted from a service account with domain-wide delegation, or a
//! given one); this plugin never has it. It also reads saved `activities.list` responses
//! (export format `token-activities`); with `api = false`, only those.

use std::collections::{BTreeMap, BTreeSet};

use roster_connector_sdk::http::encode;
use roster_connector_sdk::rest::{Next, Progress, Stop, field, pages};
use roster_connector_sdk::types::*;
use roster_connector_sdk::{Emitter, Guest, export, parse_time, setting};
use serde_json::Value;

struct GoogleWorkspace;

const HEADERS: [(&str, &str); 1] = [("accept", "application/json")];

/// Scopes that reach far beyond one user's own settings, and what they give.
const BROAD_SCOPES: &[(&str, &str)] = &[
    ("https://mail.google.com/", "full access to the granting users' mail"),
    (
        "https://www.googleapis.com/auth/gmail.modify",
        "read and change access to the granting users' mail",
    ),
    (
        "https://www.googleapis.com/auth/gmail.readonly",
        "read access to the granting users' mail",
    ),
    (
        "https://www.googleapis.com/auth/drive",
        "full access to the granting users' Drive files",
    ),
    (
        "https://www.googleapis.com/auth/drive.readonly",
        "read access to all of the granting users' Drive files",
    ),
    (
        "https://www.googleapis.com/auth/cloud-platform",
        "full access to Google Cloud as the granting users",
    ),
];

/// How many granting users a permission lists (`granted_users` has the count).
const MAX_LISTED_USERS: usize = 100;

/// What a broad scope gives, if it is one.
fn broad(scope: &str) -> Option<&'static str> {
    BROAD_SCOPES.iter().find(|(s, _)| *s == scope).map(|(_, what)| *what)
}

/// An Admin SDK scope that changes the directory.
fn admin(scope: &str) -> bool {
    scope.starts_with("https://www.googleapis.com/auth/admin.") && !scope.ends_with(".readonly")
}

/// Apps Google itself publishes, which the token log also lists (device and browser sign-ins).
fn google_first_party(app: &str) -> bool {
    app.starts_with("Google ")
        || matches!(
            app,
            "Google" | "Android" | "iOS" | "iOS Account Manager" | "macOS" | "Gmail"
        )
}

/// One user's grant to one app. Events may arrive in any order (the API answers newest first,
/// exports may be oldest first): each fact keeps the newest event that bears on it.
#[derive(Default)]
struct Grant {
    /// The time of the newest authorize or revoke event, and whether it was a revoke.
    state_time: Option<i64>,
    revoked: bool,
    /// The newest authorization (the grant in force, or the one revoked) and its scopes.
    authorized: Option<i64>,
    scopes: BTreeSet<String>,
    last_used: Option<i64>,
}

#[derive(Default)]
struct App {
    name: String,
    client_type: String,
    grants: BTreeMap<String, Grant>,
    apis: BTreeSet<String>,
}

/// The OAuth apps seen in the log, by client id.
#[derive(Default)]
struct Apps(BTreeMap<String, App>);

fn param<'a>(event: &'a Value, name: &str) -> Option<&'a Value> {
    event
        .get("parameters")?
        .as_array()?
        .iter()
        .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
}

fn param_text(event: &Value, name: &str) -> Option<String> {
    let p = param(event, name)?;
    p.get("value")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| p.get("intValue").and_then(Value::as_str).map(str::to_string))
}

fn param_list(event: &Value, name: &str) -> Vec<String> {
    param(event, name)
        .and_then(|p| p.get("multiValue"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

impl Apps {
    /// One `activities.list` item (one actor, one or more events): activity records, and the
    /// app and grant state it shows.
    fn item(&mut self, out: &mut Emitter, item: &Value) -> Result<(), Stop> {
        let Some(time) = item.pointer("/id/time").and_then(Value::as_str).and_then(parse_time) else {
            return Ok(());
        };
        let user = item
            .pointer("/actor/email")
            .and_then(Value::as_str)
            .or_else(|| item.pointer("/actor/profileId").and_then(Value::as_str))
            .unwrap_or_default()
            .to_string();
        let unique = item
            .pointer("/id/uniqueQualifier")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let ip = item.get("ipAddress").and_then(Value::as_str).map(str::to_string);
        let events = item.get("events").and_then(Value::as_array).into_iter().flatten();
        for (n, e) in events.enumerate() {
            let Some(client) = param_text(e, "client_id").filter(|c| !c.is_empty()) else {
                continue;
            };
            let name = field(e, "name");
            let app_name = param_text(e, "app_name").unwrap_or_default();
            let app = self.0.entry(client.clone()).or_default();
            if app.name.is_empty() {
                app.name = app_name.clone();
            }
            if let Some(t) = param_text(e, "client_type").filter(|_| app.client_type.is_empty()) {
                app.client_type = t;
            }
            let mut attrs = vec![("user".to_string(), user.clone()), ("app_name".to_string(), app_name)];
            let api = param_text(e, "api_name");
            if let Some(m) = param_text(e, "method_name") {
                attrs.push(("method".into(), m));
            }
            let scopes = param_list(e, "scope");
            if !scopes.is_empty() {
                attrs.push(("scopes".into(), scopes.join(" ")));
            }
            let grant = app.grants.entry(user.clone()).or_default();
            match name.as_str() {
                "authorize" | "revoke" => {
                    if grant.state_time.is_none_or(|s| time >= s) {
                        grant.state_time = Some(time);
                        grant.revoked = name == "revoke";
                    }
                    if name == "authorize" && grant.authorized.is_none_or(|a| time >= a) {
                        grant.authorized = Some(time);
                        grant.scopes = scopes.into_iter().collect();
                    }
                }
                _ => {
                    grant.last_used = grant.last_used.max(Some(time));
                    if let Some(a) = &api {
                        app.apis.insert(a.clone());
                    }
                }
            }
            out.activity(Activity {
                id: format!("{time}:{unique}:{n}"),
                time,
                credential_id: Some(grant_id(&client, &user)),
                identity_id: Some(client),
                action: format!("token.{name}"),
                service: api.or(Some("google-workspace".into())),
                source_ip: ip.clone(),
                user_agent: None,
                outcome: Some("success".into()),
                attrs,
            })?;
        }
        Ok(())
    }

    /// The apps, their grants and the scopes granted.
    fn emit(self, out: &mut Emitter) -> Result<(), Stop> {
        for (client, app) in self.0 {
            let active: Vec<(&String, &Grant)> = app.grants.iter().filter(|(_, g)| !g.revoked).collect();
            let mut attrs = vec![
                ("client_id".to_string(), client.clone()),
                ("platform".into(), "google-workspace".into()),
                ("granted_users".into(), active.len().to_string()),
            ];
            if !app.client_type.is_empty() {
                attrs.push(("client_type".into(), app.client_type.clone()));
            }
            let users: Vec<&str> = active.iter().take(10).map(|(u, _)| u.as_str()).collect();
            if !users.is_empty() {
                attrs.push(("granted_by".into(), users.join(",")));
            }
            if !app.apis.is_empty() {
                attrs.push(("apis".into(), app.apis.iter().cloned().collect::<Vec<_>>().join(",")));
            }
            // The name is the developer's to choose: an app holding a broad or admin scope is
            // never taken for Google's own, whatever it is called.
            let strong = app
                .grants
                .values()
                .flat_map(|g| g.scopes.iter())
                .any(|s| broad(s).is_some() || admin(s));
            if google_first_party(&app.name) && !strong {
                attrs.push(("provider_owned".into(), "Google (first-party app)".into()));
            }
            out.identity(Identity {
                id: client.clone(),
                kind: IdentityKind::IdpApp,
                name: if app.name.is_empty() {
                    client.clone()
                } else {
                    app.name.clone()
                },
                created: app.grants.values().filter_map(|g| g.authorized).min(),
                last_used: app.grants.values().filter_map(|g| g.last_used).max(),
                // An app is still in the domain while one grant is; one whose every grant the
                // log shows revoked is not.
                enabled: Some(app.grants.values().any(|g| !g.revoked)),
                owners: vec![],
                tags: vec![],
                trusted_by: vec![],
                attrs,
            })?;
            for (user, g) in &app.grants {
                out.credential(Credential {
                    id: grant_id(&client, user),
                    identity_id: client.clone(),
                    kind: CredentialKind::Token,
                    status: if g.revoked {
                        CredentialStatus::Revoked
                    } else {
                        CredentialStatus::Active
                    },
                    name: Some(format!("OAuth grant by {user}")),
                    created: g.authorized,
                    expires: None,
                    last_used: g.last_used,
                    last_used_service: None,
                    redacted: None,
                    attrs: vec![
                        ("user".into(), user.clone()),
                        ("scopes".into(), g.scopes.iter().cloned().collect::<Vec<_>>().join(" ")),
                    ],
                })?;
            }
            let scopes: BTreeSet<&String> = active.iter().flat_map(|(_, g)| g.scopes.iter()).collect();
            for scope in scopes {
                let by: Vec<&String> = active
                    .iter()
                    .filter(|(_, g)| g.scopes.contains(scope))
                    .map(|(u, _)| *u)
                    .collect();
                let mut attrs = vec![("granted_users".to_string(), by.len().to_string())];
                if let Some(what) = broad(scope) {
                    attrs.push(("broad".to_string(), what.to_string()));
                }
                if admin(scope) {
                    attrs.push(("admin".to_string(), "true".to_string()));
                }
                out.permission(Permission {
                    identity_id: client.clone(),
                    name: scope.clone(),
                    kind: "oauth-scope".into(),
                    actions: vec![scope.clone()],
                    // The users who granted it: the first ones, a big domain has thousands.
                    resources: by.into_iter().take(MAX_LISTED_USERS).cloned().collect(),
                    attrs,
                })?;
            }
        }
        Ok(())
    }
}

/// A user's grant to an app: `<client id>/<user>`.
fn grant_id(client: &str, user: &str) -> String {
    format!("{client}/{user}")
}

/// Adds what to check to a 403 from the Reports API.
fn explain(e: Stop) -> Stop {
    match e {
        Stop::Failed(m) if m.starts_with("403 ") => Stop::Failed(format!(
            "{m} (the delegated user must be an administrator with the Reports privilege, and the service account's client id must be allowed the scope https://www.googleapis.com/auth/admin.reports.audit.readonly under Security > API controls > Domain-wide delegation)"
        )),
        other => other,
    }
}

fn read_files(out: &mut Emitter, files: &[ExportFile], apps: &mut Apps) -> Result<(), ConnectorError> {
    for f in files {
        if f.format != "token-activities" {
            return Err(ConnectorError::Config(format!(
                "{}: unknown export format {:?} (google-workspace reads: token-activities)",
                f.name, f.format
            )));
        }
        let doc: Value = serde_json::from_slice(&f.data)
            .map_err(|e| ConnectorError::Config(format!("{}: not JSON ({e})", f.name)))?;
        // One saved response or an array of them; a page with no events has no `items`.
        let pages = match doc {
            Value::Array(a) => a,
            v => vec![v],
        };
        for page in &pages {
            if page.get("kind").and_then(Value::as_str) != Some("admin#reports#activities") {
                return Err(ConnectorError::Config(format!(
                    "{}: not a saved activities.list response (kind \"admin#reports#activities\")",
                    f.name
                )));
            }
            for item in page.get("items").and_then(Value::as_array).into_iter().flatten() {
                apps.item(out, item).map_err(Stop::into_error)?;
            }
        }
    }
    Ok(())
}

/// Reads the export files and emits the apps and grants they show, as a run with `api = false`
/// does. Public so that the fuzz targets (crates/fuzzing) can run it natively.
pub fn read_exports(out: &mut Emitter, files: &[ExportFile]) -> Result<(), ConnectorError> {
    let mut apps = Apps::default();
    read_files(out, files, &mut apps)?;
    apps.emit(out).map_err(Stop::into_error)
}

impl Guest for GoogleWorkspace {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            id: "google-workspace".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Google Workspace OAuth token audit: third-party apps, grants, scopes, use".into(),
            record_schema: 1,
        }
    }

    fn collect(request: CollectRequest) -> Result<CollectSummary, ConnectorError> {
        let cfg = &request.config;
        let mut apps = Apps::default();
        let mut p = Progress::default();
        // Apps and grants are made from every event read, so they are emitted last, also when
        // the log or an export failed partway.
        let read = match read_files(&mut p.out, &request.files, &mut apps) {
            Err(e) => Err(e),
            Ok(()) if setting(cfg, "api") == Some("false") => Ok(None),
            Ok(()) => Ok(Some(())),
        };
        let result = match read {
            Err(e) => {
                // After the output limit (Internal) the host takes nothing more.
                if !matches!(e, ConnectorError::Internal(_)) {
                    let _ = apps.emit(&mut p.out);
                    let _ = p.out.flush();
                }
                return Err(e);
            }
            Ok(None) => Ok(()),
            Ok(Some(())) => {
                let base = roster_connector_sdk::endpoint(cfg)?.to_string();
                let mut url = format!("{base}/admin/reports/v1/activity/users/all/applications/token?maxResults=1000");
                if let Some(c) = setting(cfg, "customer_id") {
                    url.push_str(&format!("&customerId={}", encode(c)));
                }
                if let Some(since) = setting(cfg, "log_since") {
                    url.push_str(&format!("&startTime={}", encode(since)));
                }
                let out = &mut p.out;
                let r = pages(&url, &HEADERS, Some("items"), Next::PageToken, |item| {
                    apps.item(out, item)
                });
                p.part("token audit log", r.map_err(explain))
            }
        };
        p.finish_emitting(result, |out| apps.emit(out))
    }
}

export!(GoogleWorkspace);
