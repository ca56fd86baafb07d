//! Roster connector for Okta: applications (service apps that use client credentials, with the
//! scopes granted to them), API tokens (owner, created, expiry, token window, network policy),
//! and System Log events of token use and API token lifecycle.
//!
//! Management API reference: <https://developer.okta.com/docs/api/>. The host attaches the API
//! token (`Authorization: SSWS ...`) or an OAuth access token; this plugin never has either.
//! It also reads the same objects from export files (`users`, `api-tokens`, `system-log`); with
//! `api = false`, only those.

use std::collections::HashMap;

use roster_connector_sdk::http::{self, encode};
use roster_connector_sdk::rest::{Next, Progress, Stop, export_items, field, pages};
use roster_connector_sdk::types::*;
use roster_connector_sdk::{Emitter, Guest, export, parse_time, setting};
use serde_json::Value;

struct Okta;

const HEADERS: [(&str, &str); 1] = [("accept", "application/json")];

fn time(v: &Value, k: &str) -> Option<i64> {
    v.get(k).and_then(Value::as_str).and_then(parse_time)
}

struct Run {
    base: String,
    p: Progress,
    users: HashMap<String, (String, bool)>,
}

impl Run {
    /// Looks up a user (login, active) to name token owners; cached.
    fn user(&mut self, id: &str) -> Option<(String, bool)> {
        if let Some(u) = self.users.get(id) {
            return Some(u.clone());
        }
        let resp = http::get(&format!("{}/api/v1/users/{}", self.base, encode(id)), &HEADERS).ok()?;
        if resp.status != 200 {
            return None;
        }
        let u = resp.json().ok()?;
        let login = u.get("profile").map(|p| field(p, "login")).unwrap_or_default();
        let active = field(&u, "status") == "ACTIVE";
        self.users.insert(id.to_string(), (login.clone(), active));
        Some((login, active))
    }

    fn apps(&mut self) -> Result<(), Stop> {
        let mut apps = vec![];
        pages(
            &format!("{}/api/v1/apps?limit=200", self.base),
            &HEADERS,
            None,
            Next::LinkHeader,
            |a| {
                apps.push(a.clone());
                Ok(())
            },
        )?;
        for a in apps {
            let id = field(&a, "id");
            let oauth = a.pointer("/settings/oauthClient").cloned().unwrap_or(Value::Null);
            let app_type = field(&oauth, "application_type");
            let grants: Vec<String> = oauth
                .get("grant_types")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|g| g.as_str().map(str::to_string))
                .collect();
            let client_id = a
                .pointer("/credentials/oauthClient/client_id")
                .and_then(Value::as_str)
                .map(str::to_string);
            let mut attrs = vec![("sign_on_mode".to_string(), field(&a, "signOnMode"))];
            if !app_type.is_empty() {
                attrs.push(("application_type".into(), app_type.clone()));
            }
            if !grants.is_empty() {
                attrs.push(("grant_types".into(), grants.join(",")));
            }
            if let Some(c) = &client_id {
                attrs.push(("client_id".into(), c.clone()));
            }
            let service = app_type == "service" || grants.iter().any(|g| g == "client_credentials");
            if service {
                attrs.push(("service_app".into(), "true".into()));
            }
            self.p.out.identity(Identity {
                id: id.clone(),
                kind: IdentityKind::IdpApp,
                name: field(&a, "label"),
                created: time(&a, "created"),
                last_used: None,
                enabled: Some(field(&a, "status") == "ACTIVE"),
                owners: vec![],
                tags: vec![],
                trusted_by: vec![],
                attrs,
            })?;
            if let Some(c) = client_id.filter(|_| service) {
                let auth = a
                    .pointer("/credentials/oauthClient/token_endpoint_auth_method")
                    .and_then(Value::as_str);
                self.p.out.credential(Credential {
                    id: c,
                    identity_id: id.clone(),
                    kind: if auth == Some("private_key_jwt") {
                        CredentialKind::Certificate
                    } else {
                        CredentialKind::ClientSecret
                    },
                    status: CredentialStatus::Active,
                    name: None,
                    created: time(&a, "created"),
                    expires: None,
                    last_used: None,
                    last_used_service: None,
                    redacted: None,
                    attrs: vec![("auth_method".into(), auth.unwrap_or("client_secret_basic").to_string())],
                })?;
            }
            if service {
                let url = format!("{}/api/v1/apps/{}/grants?limit=200", self.base, encode(&id));
                let out = &mut self.p.out;
                let r = pages(&url, &HEADERS, None, Next::LinkHeader, |g| {
                    let scope = field(g, "scopeId");
                    let directory_wide =
                        scope.starts_with("okta.") && (scope.ends_with(".manage") || scope == "okta.apps.manage");
                    out.permission(Permission {
                        identity_id: id.clone(),
                        name: scope.clone(),
                        kind: "scope".into(),
                        actions: vec![scope],
                        resources: vec![field(g, "issuer")],
                        attrs: if directory_wide {
                            vec![("admin".into(), "true".into())]
                        } else {
                            vec![]
                        },
                    })?;
                    Ok(())
                });
                self.p.part(&format!("grants of app {id}"), r)?;
            }
        }
        Ok(())
    }

    fn api_tokens(&mut self) -> Result<(), Stop> {
        let mut tokens = vec![];
        pages(
            &format!("{}/api/v1/api-tokens", self.base),
            &HEADERS,
            None,
            Next::LinkHeader,
            |t| {
                tokens.push(t.clone());
                Ok(())
            },
        )?;
        for t in tokens {
            let owner = self.user(&field(&t, "userId"));
            token_records(&mut self.p.out, &t, owner)?;
        }
        Ok(())
    }

    fn system_log(&mut self, since: &str) -> Result<(), Stop> {
        let filter = "eventType sw \"app.oauth2\" or eventType sw \"system.api_token\"";
        let url = format!(
            "{}/api/v1/logs?since={}&filter={}&limit=1000",
            self.base,
            encode(since),
            encode(filter)
        );
        let out = &mut self.p.out;
        pages(&url, &HEADERS, None, Next::LinkHeader, |e| log_event(out, e))
    }
}

/// An API token (`GET /api/v1/api-tokens` item) and its owner (login, active) when known.
fn token_records(out: &mut Emitter, t: &Value, owner: Option<(String, bool)>) -> Result<(), Stop> {
    let id = field(t, "id");
    let owner_id = field(t, "userId");
    let owners = match owner {
        Some((login, active)) => vec![Owner {
            id: owner_id.clone(),
            name: login,
            kind: "user".into(),
            via: "idp-owner".into(),
            enabled: Some(active),
        }],
        None if !owner_id.is_empty() => vec![Owner {
            id: owner_id.clone(),
            name: owner_id.clone(),
            kind: "user".into(),
            via: "idp-owner".into(),
            enabled: None,
        }],
        None => vec![],
    };
    let mut attrs = vec![];
    for k in ["clientName", "tokenWindow"] {
        let v = field(t, k);
        if !v.is_empty() {
            attrs.push((k.to_string(), v));
        }
    }
    if let Some(conn) = t.pointer("/network/connection").and_then(Value::as_str) {
        attrs.push(("network".into(), conn.to_string()));
    }
    out.identity(Identity {
        id: id.clone(),
        kind: IdentityKind::ApiToken,
        name: field(t, "name"),
        created: time(t, "created"),
        last_used: None,
        enabled: Some(true),
        owners,
        tags: vec![],
        trusted_by: vec![],
        attrs: attrs.clone(),
    })?;
    out.credential(Credential {
        id: id.clone(),
        identity_id: id,
        kind: CredentialKind::Token,
        status: CredentialStatus::Active,
        name: Some(field(t, "name")).filter(|n| !n.is_empty()),
        created: time(t, "created"),
        expires: time(t, "expiresAt"),
        last_used: None,
        last_used_service: None,
        redacted: None,
        attrs,
    })?;
    Ok(())
}

/// A System Log event (`GET /api/v1/logs` item) as activity.
fn log_event(out: &mut Emitter, e: &Value) -> Result<(), Stop> {
    let Some(t) = time(e, "published") else { return Ok(()) };
    let actor = e.get("actor").cloned().unwrap_or(Value::Null);
    let client = e.get("client").cloned().unwrap_or(Value::Null);
    let mut attrs = vec![("actor_type".to_string(), field(&actor, "type"))];
    if let Some(targets) = e.get("target").and_then(Value::as_array) {
        let ids: Vec<String> = targets
            .iter()
            .map(|x| format!("{}:{}", field(x, "type"), field(x, "id")))
            .collect();
        attrs.push(("targets".into(), ids.join(",")));
    }
    out.activity(Activity {
        id: field(e, "uuid"),
        time: t,
        credential_id: e
            .pointer("/transaction/detail/requestApiTokenId")
            .and_then(Value::as_str)
            .map(str::to_string),
        identity_id: Some(field(&actor, "id")).filter(|a| !a.is_empty()),
        action: field(e, "eventType"),
        service: Some("okta".into()),
        source_ip: client.get("ipAddress").and_then(Value::as_str).map(str::to_string),
        user_agent: client
            .pointer("/userAgent/rawUserAgent")
            .and_then(Value::as_str)
            .map(str::to_string),
        outcome: e
            .pointer("/outcome/result")
            .and_then(Value::as_str)
            .map(str::to_lowercase),
        attrs,
    })?;
    Ok(())
}

/// Exports: `users` (`GET /api/v1/users`, to name token owners), `api-tokens`
/// (`GET /api/v1/api-tokens`) and `system-log` (`GET /api/v1/logs`), as saved from the API.
/// Users are read first, whatever the order of the files.
///
/// Public so that the fuzz targets (crates/fuzzing) can run it natively.
pub fn read_exports(out: &mut Emitter, files: &[ExportFile]) -> Result<(), ConnectorError> {
    let mut docs = vec![];
    for f in files {
        if !matches!(f.format.as_str(), "users" | "api-tokens" | "system-log") {
            return Err(ConnectorError::Config(format!(
                "{}: unknown export format {:?} (okta reads: users, api-tokens, system-log)",
                f.name, f.format
            )));
        }
        docs.push((f, export_items(f, "")?));
    }
    let mut users: HashMap<String, (String, bool)> = HashMap::new();
    for (_, items) in docs.iter().filter(|(f, _)| f.format == "users") {
        for u in items {
            let login = u.get("profile").map(|p| field(p, "login")).unwrap_or_default();
            users.insert(field(u, "id"), (login, field(u, "status") == "ACTIVE"));
        }
    }
    for (f, items) in &docs {
        match f.format.as_str() {
            "api-tokens" => {
                for t in items {
                    token_records(out, t, users.get(&field(t, "userId")).cloned()).map_err(Stop::into_error)?;
                }
            }
            "system-log" => {
                for e in items {
                    log_event(out, e).map_err(Stop::into_error)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

impl Guest for Okta {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            id: "okta".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Okta service apps, granted scopes, API tokens, System Log token events".into(),
            record_schema: 1,
        }
    }

    fn collect(request: CollectRequest) -> Result<CollectSummary, ConnectorError> {
        let cfg = &request.config;
        let p = match Progress::default().exports(&request, read_exports) {
            Ok(p) => p,
            Err(done) => return done,
        };
        let base = roster_connector_sdk::endpoint(cfg)?.to_string();
        let mut run = Run {
            base,
            p,
            users: HashMap::new(),
        };
        let since = setting(cfg, "log_since").map(str::to_string);
        let result = (|| -> Result<(), Stop> {
            let r = run.apps();
            run.p.part("applications", r)?;
            let r = run.api_tokens();
            run.p.part("API tokens", r)?;
            if let Some(since) = &since {
                let r = run.system_log(since);
                run.p.part("System Log", r)?;
            }
            Ok(())
        })();
        run.p.finish(result)
    }
}

export!(Okta);
