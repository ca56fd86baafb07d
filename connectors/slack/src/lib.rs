//! Roster connector for Slack: the apps and bots installed in a workspace or approved across an
//! Enterprise Grid organization, with their OAuth scopes and the people who installed or
//! approved them; apps whose names are AI products (ChatGPT, Claude, Glean, ...) are marked.
//!
//! Web API reference: <https://docs.slack.dev/reference/methods>. Read with GET, each method
//! exactly: `users.list` (bot users, and the people who install apps), `bots.info` (the app of
//! each bot), `team.integrationLogs` (app installs and removals, by whom, with which scopes; a
//! paid plan and an admin's `admin` scope) and `admin.apps.approved.list` (Enterprise Grid
//! only: approved apps, their scopes and approver). Slack answers errors as HTTP 200 with
//! `{"ok": false, "error": ...}`: a method the token cannot call is a note and the run goes on
//! with the rest; a refused token (`invalid_auth`, ...) ends it. The host attaches the token
//! (`Authorization: Bearer ...`); this plugin never has it. It also reads the same responses
//! from export files (`users`, `bots`, `integration-logs`, `approved-apps`); with
//! `api = false`, only those.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use roster_connector_sdk::http::{self, encode};
use roster_connector_sdk::rest::{Progress, Stop, export_items, field, gather};
use roster_connector_sdk::types::*;
use roster_connector_sdk::{Emitter, Guest, classify_app_name, export};
use serde_json::Value;

struct Slack;

const HEADERS: [(&str, &str); 1] = [("accept", "application/json")];

/// Slack errors that mean the token itself is refused: nothing else will work either.
const REFUSED: [&str; 5] = [
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
];

/// Scopes that read every message or file the app can see (`broad`), and admin scopes.
fn broad(scope: &str) -> Option<&'static str> {
    match scope.split(':').next().unwrap_or_default() {
        "channels" | "groups" | "im" | "mpim" if scope.ends_with(":history") => Some("messages"),
        "files" if scope.ends_with(":read") => Some("files"),
        "search" if scope.starts_with("search:read") => Some("messages and files"),
        _ if scope == "client" => Some("everything the user sees (legacy client scope)"),
        _ => None,
    }
}

fn admin(scope: &str) -> bool {
    scope == "admin" || scope.starts_with("admin.") || scope.starts_with("admin:")
}

/// A Unix time in seconds (a number or a string of one) as milliseconds.
fn unix(v: Option<&Value>) -> Option<i64> {
    let s = match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }?;
    (s > 0).then(|| s.saturating_mul(1000))
}

#[derive(Default)]
struct App {
    name: String,
    scopes: BTreeSet<String>,
    /// The user who installed it (integration logs) or last approved it (admin API).
    installer: Option<String>,
    installer_via: &'static str,
    /// When the latest install (integration logs) happened.
    installed: Option<i64>,
    /// When the latest install, removal or approval happened.
    since: Option<i64>,
    /// The latest log entry removed or disabled it.
    removed: bool,
    approved: bool,
    /// Bot users of the app: (user id, bot id, deleted).
    bots: Vec<(String, String, bool)>,
}

#[derive(Default)]
struct Inv {
    /// User id → (name, deleted).
    users: HashMap<String, (String, bool)>,
    /// Bot users: bot id → (user id, name, deleted).
    bot_users: BTreeMap<String, (String, String, bool)>,
    /// Bot id → app id, from `bots.info`.
    bot_apps: HashMap<String, String>,
    apps: BTreeMap<String, App>,
}

impl Inv {
    /// One `users.list` member.
    fn member(&mut self, m: &Value) {
        let id = field(m, "id");
        if id.is_empty() || id == "USLACKBOT" {
            return;
        }
        let deleted = m.get("deleted").and_then(Value::as_bool).unwrap_or(false);
        let real = m
            .pointer("/profile/real_name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let name = if real.is_empty() {
            field(m, "name")
        } else {
            real.to_string()
        };
        if m.get("is_bot").and_then(Value::as_bool) == Some(true)
            && let Some(bot) = m.pointer("/profile/bot_id").and_then(Value::as_str)
        {
            self.bot_users
                .insert(bot.to_string(), (id.clone(), name.clone(), deleted));
        }
        self.users.insert(id, (name, deleted));
    }

    /// One `bots.info` answer (`{"ok": true, "bot": {...}}`).
    fn bot(&mut self, b: &Value) {
        let b = b.get("bot").unwrap_or(b);
        let (id, app) = (field(b, "id"), field(b, "app_id"));
        if !id.is_empty() && !app.is_empty() {
            self.bot_apps.insert(id, app.clone());
            let a = self.apps.entry(app).or_default();
            if a.name.is_empty() {
                a.name = field(b, "name");
            }
        }
    }

    /// One `admin.apps.approved.list` item.
    fn approved(&mut self, x: &Value) {
        let app = x.get("app").cloned().unwrap_or(Value::Null);
        let id = field(&app, "id");
        if id.is_empty() {
            return;
        }
        let a = self.apps.entry(id).or_default();
        a.name = field(&app, "name");
        a.approved = true;
        let scopes = x.get("scopes").and_then(Value::as_array).into_iter().flatten();
        a.scopes
            .extend(scopes.map(|s| field(s, "name")).filter(|s| !s.is_empty()));
        let when = unix(x.get("date_updated"));
        if when >= a.since || a.installer.is_none() {
            let by = x.get("last_resolved_by").cloned().unwrap_or(Value::Null);
            if field(&by, "actor_type") == "user" && !field(&by, "actor_id").is_empty() {
                a.installer = Some(field(&by, "actor_id"));
                a.installer_via = "approved";
            }
            a.since = when.or(a.since);
        }
    }

    /// One `team.integrationLogs` entry: an app (or legacy service) added, removed, enabled,
    /// disabled or updated. The latest entry of each app says whether it is still installed.
    fn log(&mut self, e: &Value) {
        let id = match (field(e, "app_id"), e.get("service_id")) {
            (a, _) if !a.is_empty() => a,
            (_, Some(Value::String(s))) if !s.is_empty() => format!("service:{s}"),
            (_, Some(Value::Number(n))) => format!("service:{n}"),
            _ => return,
        };
        let when = unix(e.get("date"));
        let a = self.apps.entry(id).or_default();
        let name = [field(e, "app_type"), field(e, "service_type")]
            .into_iter()
            .find(|n| !n.is_empty());
        if let Some(n) = name.filter(|_| a.name.is_empty()) {
            a.name = n;
        }
        let change = field(e, "change_type");
        // The installer is the user of the latest install, whatever came after it.
        let user = field(e, "user_id");
        if matches!(change.as_str(), "added" | "enabled") && !user.is_empty() && when >= a.installed {
            a.installer = Some(user);
            a.installer_via = "installed";
            a.installed = when;
        }
        if when < a.since {
            return;
        }
        a.since = when;
        a.removed = matches!(change.as_str(), "removed" | "disabled");
        let scope = field(e, "scope");
        if !scope.is_empty() && !a.removed {
            a.scopes = scope
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
        }
    }

    /// Writes the apps (and bots no app claims) with their scopes and owners.
    fn emit(mut self, out: &mut Emitter) -> Result<(), Stop> {
        let mut lone = vec![];
        for (bot, (user, name, deleted)) in std::mem::take(&mut self.bot_users) {
            match self.bot_apps.get(&bot) {
                Some(app) => {
                    let a = self.apps.entry(app.clone()).or_default();
                    if a.name.is_empty() {
                        a.name = name;
                    }
                    a.bots.push((user, bot, deleted));
                }
                None => lone.push((bot, user, name, deleted)),
            }
        }
        for (id, a) in &self.apps {
            let mut attrs = vec![("platform".to_string(), "slack".to_string())];
            if a.approved {
                attrs.push(("approved".into(), "true".into()));
            }
            if !a.bots.is_empty() {
                let users: Vec<&str> = a.bots.iter().map(|b| b.0.as_str()).collect();
                let bots: Vec<&str> = a.bots.iter().map(|b| b.1.as_str()).collect();
                attrs.push(("bot_users".into(), users.join(",")));
                attrs.push(("bot_ids".into(), bots.join(",")));
            }
            if let Some(ai) = classify_app_name(&a.name) {
                attrs.push(("ai_platform".into(), ai.into()));
            }
            let bots_gone = !a.bots.is_empty() && a.bots.iter().all(|b| b.2);
            let owners = a.installer.iter().map(|u| self.owner(u, a.installer_via)).collect();
            out.identity(Identity {
                id: id.clone(),
                kind: IdentityKind::AppInstallation,
                name: if a.name.is_empty() { id.clone() } else { a.name.clone() },
                created: a.since,
                last_used: None,
                enabled: Some(!a.removed && !bots_gone),
                owners,
                tags: vec![],
                trusted_by: vec![],
                attrs,
            })?;
            for s in &a.scopes {
                let mut attrs = vec![];
                if let Some(what) = broad(s) {
                    attrs.push(("broad".to_string(), what.to_string()));
                }
                if admin(s) {
                    attrs.push(("admin".to_string(), "true".to_string()));
                }
                out.permission(Permission {
                    identity_id: id.clone(),
                    name: s.clone(),
                    kind: "oauth-scope".into(),
                    actions: vec![s.clone()],
                    resources: vec![],
                    attrs,
                })?;
            }
        }
        // A bot no app claims (a legacy custom bot, or one bots.info could not name).
        for (bot, user, name, deleted) in lone {
            out.identity(Identity {
                id: bot.clone(),
                kind: IdentityKind::AppInstallation,
                name,
                created: None,
                last_used: None,
                enabled: Some(!deleted),
                owners: vec![],
                tags: vec![],
                trusted_by: vec![],
                attrs: vec![
                    ("platform".into(), "slack".into()),
                    ("bot_users".into(), user),
                    ("bot_ids".into(), bot),
                ],
            })?;
        }
        Ok(())
    }

    /// The person behind user id `u`; a deleted (deactivated) user is no accountable owner.
    fn owner(&self, u: &str, via: &str) -> Owner {
        let known = self.users.get(u);
        Owner {
            id: u.to_string(),
            name: known.map(|k| k.0.clone()).unwrap_or_else(|| u.to_string()),
            kind: "user".into(),
            via: via.to_string(),
            enabled: known.map(|k| !k.1),
        }
    }
}

/// GETs one Web API method and checks Slack's `ok`: a refused token is `Denied`, any other
/// `ok: false` fails this method only (with the scope Slack says it needs).
fn call(base: &str, method: &str, query: &str) -> Result<Value, Stop> {
    let resp = http::get(&format!("{base}/{method}?{query}"), &HEADERS).map_err(Stop::Failed)?;
    match resp.status {
        200 => {}
        401 | 403 => {
            return Err(Stop::Denied(format!(
                "{} from {method}: {}",
                resp.status,
                resp.excerpt()
            )));
        }
        code => return Err(Stop::Failed(format!("{code} from {method}: {}", resp.excerpt()))),
    }
    let body = resp.json().map_err(|e| Stop::Failed(format!("{method}: {e}")))?;
    if body.get("ok").and_then(Value::as_bool) == Some(true) {
        return Ok(body);
    }
    let error = field(&body, "error");
    if REFUSED.contains(&error.as_str()) {
        return Err(Stop::Denied(format!("{method}: Slack refused the token ({error})")));
    }
    let needed = field(&body, "needed");
    let needed = if needed.is_empty() {
        String::new()
    } else {
        format!(" (needs scope {needed})")
    };
    let error = if error.is_empty() {
        "no ok: true in the answer".into()
    } else {
        error
    };
    Err(Stop::Failed(format!("Slack answered {error}{needed}")))
}

/// Every item under `key` of a cursor-paged method (`response_metadata.next_cursor`, sent back
/// as `cursor`). A cursor seen before ends the listing with an error instead of looping.
fn list(base: &str, method: &str, key: &str, mut each: impl FnMut(&Value)) -> Result<(), Stop> {
    let mut seen = BTreeSet::new();
    let mut query = "limit=200".to_string();
    loop {
        let body = call(base, method, &query)?;
        let items = body
            .get(key)
            .and_then(Value::as_array)
            .ok_or_else(|| Stop::Failed(format!("{method}: no `{key}` list in the answer")))?;
        items.iter().for_each(&mut each);
        let next = body
            .pointer("/response_metadata/next_cursor")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if next.is_empty() {
            return Ok(());
        }
        if !seen.insert(next.to_string()) {
            return Err(Stop::Failed(format!(
                "{method}: the next cursor loops back to a page already read"
            )));
        }
        query = format!("limit=200&cursor={}", encode(next));
    }
}

/// `team.integrationLogs`, paged by number (`paging.page` of `paging.pages`).
fn integration_logs(base: &str, inv: &mut Inv) -> Result<(), Stop> {
    let mut page = 1;
    loop {
        let body = call(base, "team.integrationLogs", &format!("count=100&page={page}"))?;
        let logs = body.get("logs").and_then(Value::as_array).into_iter().flatten();
        logs.for_each(|e| inv.log(e));
        let pages = body.pointer("/paging/pages").and_then(Value::as_i64).unwrap_or(1);
        if page >= pages || page >= 1000 {
            return Ok(());
        }
        page += 1;
    }
}

fn collect_api(base: &str, p: &mut Progress, inv: &mut Inv) -> Result<(), Stop> {
    let r = list(base, "users.list", "members", |m| inv.member(m));
    p.part("users.list", r)?;
    let bots: Vec<String> = inv.bot_users.keys().cloned().collect();
    for b in bots {
        let r = call(base, "bots.info", &format!("bot={}", encode(&b))).map(|v| inv.bot(&v));
        p.part(&format!("bots.info of {b}"), r)?;
    }
    let r = list(base, "admin.apps.approved.list", "approved_apps", |x| inv.approved(x));
    p.part("admin.apps.approved.list (Enterprise Grid, admin.apps:read)", r)?;
    let r = integration_logs(base, inv);
    p.part("team.integrationLogs (paid plan, admin scope)", r)
}

const FORMATS: [(&str, &str); 4] = [
    ("users", "members"),
    ("bots", "bot"),
    ("integration-logs", "logs"),
    ("approved-apps", "approved_apps"),
];

fn read_files(inv: &mut Inv, files: &[ExportFile]) -> Result<(), ConnectorError> {
    let mut docs = vec![];
    for f in files {
        let Some((_, key)) = FORMATS.iter().find(|(n, _)| *n == f.format) else {
            return Err(ConnectorError::Config(format!(
                "{}: unknown export format {:?} (slack reads: users, bots, integration-logs, approved-apps)",
                f.name, f.format
            )));
        };
        let items = if f.format == "bots" {
            // bots.info answers: one, or an array of them.
            let doc: Value = serde_json::from_slice(&f.data)
                .map_err(|e| ConnectorError::Config(format!("{}: not JSON ({e})", f.name)))?;
            let all = match doc {
                Value::Array(a) => a,
                v => vec![v],
            };
            if let Some(bad) = all.iter().position(|b| !b.get(*key).is_some_and(Value::is_object)) {
                return Err(ConnectorError::Config(format!(
                    "{}: answer {} is not a bots.info answer (no `bot` object)",
                    f.name,
                    bad + 1
                )));
            }
            all
        } else {
            export_items(f, key)?
        };
        docs.push((f.format.as_str(), items));
    }
    // People first, so that installers are named whatever the order of the files.
    docs.sort_by_key(|(format, _)| FORMATS.iter().position(|(n, _)| n == format));
    for (format, items) in docs {
        for x in &items {
            match format {
                "users" => inv.member(x),
                "bots" => inv.bot(x),
                "integration-logs" => inv.log(x),
                _ => inv.approved(x),
            }
        }
    }
    Ok(())
}

/// Exports: `users` (`users.list`), `bots` (`bots.info` answers), `integration-logs`
/// (`team.integrationLogs`) and `approved-apps` (`admin.apps.approved.list`), as saved from the
/// API: one answer or an array of them (one per page).
///
/// Public so that the fuzz targets (crates/fuzzing) can run it natively.
pub fn read_exports(out: &mut Emitter, files: &[ExportFile]) -> Result<(), ConnectorError> {
    let mut inv = Inv::default();
    read_files(&mut inv, files)?;
    inv.emit(out).map_err(Stop::into_error)
}

impl Guest for Slack {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            id: "slack".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Slack apps and bots, their scopes, installers and approvers".into(),
            record_schema: 1,
        }
    }

    fn collect(request: CollectRequest) -> Result<CollectSummary, ConnectorError> {
        gather(
            &request,
            Inv::default(),
            read_files,
            |p, inv, base| collect_api(base, p, inv),
            Inv::emit,
        )
    }
}

export!(Slack);
