//! Roster connector for Google Cloud IAM. Every service account of each configured project
//! becomes an identity, with its user-managed keys as credentials (created, expiry, disabled,
//! last authentication), and every project IAM binding that names a service account as a
//! permission. Owner, editor and `*.admin` roles are marked privileged. A service account a
//! binding names that the project does not list (a Google-managed service agent, or one from
//! another project) becomes an identity too; Vertex AI service agents and holders of
//! `roles/aiplatform.*` are marked AI-capable.
//!
//! APIs (read-only): IAM `projects.serviceAccounts.list` and `projects.serviceAccounts.keys.list`
//! (<https://cloud.google.com/iam/docs/reference/rest>), Resource Manager
//! `projects.getIamPolicy` (<https://cloud.google.com/resource-manager/reference/rest/v1/projects/getIamPolicy>),
//! and Policy Intelligence `activities.query` for the activity type
//! `serviceAccountKeyLastAuthentication`
//! (<https://cloud.google.com/policy-intelligence/docs/activity-analyzer-service-account-authentication>).
//! The host attaches the access token; this plugin never has it. It also reads the JSON that
//! `gcloud iam service-accounts list`, `gcloud iam service-accounts keys list` and
//! `gcloud projects get-iam-policy` print (`--format=json`); with `api = false`, only those.
//!
//! Google Cloud records no owner. The creator of each service account comes from the project's
//! Admin Activity audit log (Cloud Logging `entries.list`, the `CreateServiceAccount` entries of
//! the last 400 days, <https://cloud.google.com/iam/docs/audit-logging/examples-service-accounts>),
//! or from `gcloud logging read` output: a person who created it is its `creator` owner.

use std::collections::{BTreeMap, BTreeSet};

use roster_connector_sdk::http::{self, encode};
use roster_connector_sdk::rest::{
    Next, PostPaging, Progress, Stop, answer, export_items, field, gather_each, pages, post_pages, push_fields,
};
use roster_connector_sdk::types::*;
use roster_connector_sdk::{Emitter, Guest, export, parse_time, setting};
use serde_json::Value;

struct GcpIam;

const HEADERS: [(&str, &str); 1] = [("accept", "application/json")];

/// A service account, as listed or as a binding names it.
#[derive(Default)]
struct Account {
    project: String,
    unique_id: String,
    display_name: String,
    description: String,
    disabled: Option<bool>,
    /// Listed by its project (else only named by a binding).
    listed: bool,
}

/// A user-managed key.
struct Key {
    id: String,
    account: String,
    created: Option<i64>,
    expires: Option<i64>,
    disabled: bool,
    attrs: Vec<(String, String)>,
}

/// A role a binding grants to a service account.
struct Grant {
    account: String,
    role: String,
    resource: String,
    condition: Option<String>,
}

/// What a run learned, emitted at its end (keys and bindings may come before their accounts).
#[derive(Default)]
struct Inventory {
    accounts: BTreeMap<String, Account>,
    keys: BTreeMap<(String, String), Key>,
    grants: Vec<Grant>,
    /// Key id to its last authentication.
    last_auth: BTreeMap<String, i64>,
    /// Projects whose key activity was read: a key of theirs with none was never used.
    activity_read: BTreeSet<String>,
    /// Service account email to who created it and when (the latest creation of that email).
    creators: BTreeMap<String, (String, Option<i64>)>,
}

/// The method whose Admin Activity audit entries name the creator of a service account.
const CREATE: &str = "google.iam.admin.v1.CreateServiceAccount";

/// The project of a service account's email (`name@PROJECT.iam.gserviceaccount.com`).
fn email_project(email: &str) -> Option<&str> {
    email.split_once('@')?.1.strip_suffix(".iam.gserviceaccount.com")
}

/// A Google-managed service account (service agent, default account of a Google service), and
/// who manages it. User-created accounts end in `@PROJECT.iam.gserviceaccount.com`.
fn google_managed(email: &str) -> Option<&'static str> {
    let domain = email.split_once('@')?.1;
    if domain.starts_with("gcp-sa-aiplatform") {
        Some("Google (Vertex AI service agent)")
    } else if domain.starts_with("gcp-sa-") || domain == "cloudservices.gserviceaccount.com" {
        Some("Google (service agent)")
    } else if domain.ends_with(".gserviceaccount.com") && !domain.ends_with(".iam.gserviceaccount.com") {
        Some("Google (Google-managed service account)")
    } else {
        None
    }
}

/// What a privileged role gives; none for other roles.
fn privileged(role: &str) -> Option<(&'static str, &'static str)> {
    match role {
        "roles/owner" => Some(("admin", "true")),
        "roles/editor" => Some(("broad", "edit access to every resource of the project")),
        // `*.admin`, and the `*Admin` roles that administer one kind of resource
        // (roles/iam.serviceAccountKeyAdmin mints keys for any service account).
        r if r.starts_with("roles/") && (r.ends_with(".admin") || r.ends_with("Admin")) => Some(("admin", "true")),
        _ => None,
    }
}

/// A Vertex AI (Gemini) role.
fn vertex_role(role: &str) -> bool {
    role.starts_with("roles/aiplatform.")
}

fn time(v: &Value, k: &str) -> Option<i64> {
    v.get(k).and_then(Value::as_str).and_then(parse_time)
}

impl Inventory {
    /// One `ServiceAccount` (API or `gcloud iam service-accounts list`).
    fn account(&mut self, v: &Value) -> Result<(), String> {
        let email = field(v, "email");
        if email.is_empty() {
            return Err("a service account without email".into());
        }
        let project = match field(v, "projectId") {
            p if p.is_empty() => email_project(&email).unwrap_or_default().to_string(),
            p => p,
        };
        let a = self.accounts.entry(email).or_default();
        *a = Account {
            project,
            unique_id: field(v, "uniqueId"),
            display_name: field(v, "displayName"),
            description: field(v, "description"),
            disabled: Some(v.get("disabled").and_then(Value::as_bool).unwrap_or(false)),
            listed: true,
        };
        Ok(())
    }

    /// One `ServiceAccountKey`; system-managed keys (Google rotates them) are left out.
    fn key(&mut self, v: &Value, account: Option<&str>) -> Result<(), String> {
        let name = field(v, "name");
        // projects/PROJECT/serviceAccounts/EMAIL/keys/KEY_ID
        let parts: Vec<&str> = name.split('/').collect();
        let (email, id) = match parts.as_slice() {
            ["projects", _, "serviceAccounts", email, "keys", id] if !id.is_empty() => {
                (email.to_string(), id.to_string())
            }
            _ => {
                return Err(format!(
                    "a key whose name {name:?} is not projects/*/serviceAccounts/*/keys/*"
                ));
            }
        };
        let email = account.map_or(email, str::to_string);
        let key_type = field(v, "keyType");
        if key_type == "SYSTEM_MANAGED" {
            return Ok(());
        }
        let mut attrs = vec![("provider".to_string(), "gcp".to_string())];
        push_fields(
            &mut attrs,
            v,
            &[
                ("key_type", "keyType"),
                ("key_origin", "keyOrigin"),
                ("key_algorithm", "keyAlgorithm"),
            ],
        );
        // Google writes "no expiry" as the end of year 9999.
        let expires = v
            .get("validBeforeTime")
            .and_then(Value::as_str)
            .filter(|t| !t.starts_with("9999-"))
            .and_then(parse_time);
        self.keys.insert(
            (email.clone(), id.clone()),
            Key {
                id,
                account: email,
                created: time(v, "validAfterTime"),
                expires,
                disabled: v.get("disabled").and_then(Value::as_bool).unwrap_or(false),
                attrs,
            },
        );
        Ok(())
    }

    /// A project's IAM policy (`Policy`: `bindings` of `role`, `members`, `condition`).
    fn policy(&mut self, project: &str, v: &Value) -> Result<(), String> {
        if !v.is_object() || v.get("bindings").is_some_and(|b| !b.is_array()) {
            return Err("not an IAM policy (an object with a bindings array)".into());
        }
        for b in v.get("bindings").and_then(Value::as_array).into_iter().flatten() {
            let role = field(b, "role");
            let condition = b
                .pointer("/condition/title")
                .and_then(Value::as_str)
                .map(str::to_string);
            for m in b.get("members").and_then(Value::as_array).into_iter().flatten() {
                let Some(email) = m.as_str().and_then(|m| m.strip_prefix("serviceAccount:")) else {
                    continue;
                };
                self.accounts.entry(email.to_string()).or_insert_with(|| Account {
                    project: email_project(email).unwrap_or_default().to_string(),
                    ..Account::default()
                });
                self.grants.push(Grant {
                    account: email.to_string(),
                    role: role.clone(),
                    resource: format!("projects/{project}"),
                    condition: condition.clone(),
                });
            }
        }
        Ok(())
    }

    /// One `serviceAccountKeyLastAuthentication` activity.
    fn activity(&mut self, v: &Value) {
        let act = v.get("activity").unwrap_or(&Value::Null);
        let Some(when) = time(act, "lastAuthenticatedTime") else {
            return;
        };
        let name = act
            .pointer("/serviceAccountKey/fullResourceName")
            .and_then(Value::as_str)
            .or_else(|| v.get("fullResourceName").and_then(Value::as_str))
            .unwrap_or_default();
        if let Some((_, id)) = name.rsplit_once("/keys/").filter(|(_, id)| !id.is_empty()) {
            let t = self.last_auth.entry(id.to_string()).or_insert(when);
            *t = (*t).max(when);
        }
    }

    /// One Cloud Logging entry: a successful `CreateServiceAccount` names the creator of the
    /// account in its response; other entries are left out.
    fn log_entry(&mut self, e: &Value) {
        let Some(pp) = e.get("protoPayload") else {
            return;
        };
        let failed = pp
            .pointer("/status/code")
            .and_then(Value::as_i64)
            .is_some_and(|c| c != 0);
        if field(pp, "methodName") != CREATE || failed {
            return;
        }
        let who = pp
            .pointer("/authenticationInfo/principalEmail")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let email = pp
            .pointer("/response/email")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if who.is_empty() || email.is_empty() {
            return;
        }
        let at = time(e, "timestamp");
        let entry = self.creators.entry(email.to_string()).or_insert((who.to_string(), at));
        if at >= entry.1 {
            *entry = (who.to_string(), at);
        }
    }

    fn emit(self, out: &mut Emitter) -> Result<(), Stop> {
        let mut keys: BTreeMap<&str, Vec<&Key>> = BTreeMap::new();
        for k in self.keys.values() {
            keys.entry(k.account.as_str()).or_default().push(k);
        }
        let mut grants: BTreeMap<&str, Vec<&Grant>> = BTreeMap::new();
        for g in &self.grants {
            grants.entry(g.account.as_str()).or_default().push(g);
        }
        for (email, a) in &self.accounts {
            let keys = keys.remove(email.as_str()).unwrap_or_default();
            let grants = grants.remove(email.as_str()).unwrap_or_default();
            let mut attrs = vec![("platform".to_string(), "gcp".to_string())];
            for (k, v) in [
                ("project", &a.project),
                ("unique_id", &a.unique_id),
                ("description", &a.description),
            ] {
                if !v.is_empty() {
                    attrs.push((k.into(), v.clone()));
                }
            }
            if let Some(who) = google_managed(email) {
                attrs.push(("provider_owned".into(), who.into()));
            }
            if !a.listed {
                attrs.push(("listed".into(), "false".into()));
            }
            let vertex: BTreeSet<&str> = grants
                .iter()
                .map(|g| g.role.as_str())
                .filter(|r| vertex_role(r))
                .collect();
            if email
                .split_once('@')
                .is_some_and(|(_, d)| d.starts_with("gcp-sa-aiplatform"))
                || !vertex.is_empty()
            {
                attrs.push(("ai_platform".into(), "vertex-ai".into()));
            }
            let last = |k: &Key| self.last_auth.get(&k.id).copied();
            let creator = self.creators.get(email);
            let mut owners = vec![];
            if let Some((who, _)) = creator {
                attrs.push(("created_by".into(), who.clone()));
                // A person; an automation's service account answers for nothing.
                if !who.ends_with(".gserviceaccount.com") {
                    owners.push(Owner {
                        id: who.clone(),
                        name: who.clone(),
                        kind: "user".into(),
                        via: "creator".into(),
                        enabled: None,
                    });
                }
            }
            out.identity(Identity {
                id: email.clone(),
                kind: IdentityKind::ServicePrincipal,
                name: if a.display_name.is_empty() {
                    email.clone()
                } else {
                    a.display_name.clone()
                },
                created: creator.and_then(|c| c.1),
                last_used: keys.iter().filter_map(|k| last(k)).max(),
                enabled: a.disabled.map(|d| !d),
                owners,
                tags: vec![],
                trusted_by: vec![],
                attrs,
            })?;
            for k in keys {
                let project = email_project(email).unwrap_or(&a.project);
                let mut attrs = k.attrs.clone();
                if !self.activity_read.contains(project) {
                    // Without the activity, a key without last use is unknown, not unused.
                    attrs.retain(|(n, _)| n != "provider");
                }
                out.credential(Credential {
                    id: k.id.clone(),
                    identity_id: email.clone(),
                    kind: CredentialKind::AccessKey,
                    status: if k.disabled {
                        CredentialStatus::Inactive
                    } else {
                        CredentialStatus::Active
                    },
                    name: Some(format!("key {} of {email}", short(&k.id))),
                    created: k.created,
                    expires: k.expires,
                    last_used: last(k),
                    last_used_service: None,
                    redacted: None,
                    attrs,
                })?;
            }
            for g in grants {
                let mut attrs = vec![];
                if let Some((k, v)) = privileged(&g.role) {
                    attrs.push((k.to_string(), v.to_string()));
                }
                if let Some(c) = &g.condition {
                    attrs.push(("condition".into(), c.clone()));
                }
                out.permission(Permission {
                    identity_id: email.clone(),
                    name: g.role.clone(),
                    kind: "iam-role".into(),
                    actions: vec![g.role.clone()],
                    resources: vec![g.resource.clone()],
                    attrs,
                })?;
            }
        }
        Ok(())
    }
}

/// The first characters of a key id, for names.
fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// The configured projects: a list, or one name (the host hands a list over as JSON text).
fn read_files(inv: &mut Inventory, files: &[ExportFile], project: Option<&str>) -> Result<(), ConnectorError> {
    let bad = |f: &ExportFile, m: String| ConnectorError::Config(format!("{}: {m}", f.name));
    for f in files {
        match f.format.as_str() {
            "service-accounts" => {
                for v in export_items(f, "accounts")? {
                    inv.account(&v).map_err(|m| bad(f, m))?;
                }
            }
            "service-account-keys" => {
                for v in export_items(f, "keys")? {
                    inv.key(&v, None).map_err(|m| bad(f, m))?;
                }
            }
            "audit-log" => {
                for v in export_items(f, "entries")? {
                    inv.log_entry(&v);
                }
            }
            "iam-policy" => {
                let doc: Value = serde_json::from_slice(&f.data).map_err(|e| bad(f, format!("not JSON ({e})")))?;
                let p = project.map_or_else(|| f.name.clone(), str::to_string);
                inv.policy(&p, &doc).map_err(|m| bad(f, m))?;
            }
            other => {
                return Err(bad(
                    f,
                    format!(
                        "unknown export format {other:?} (gcp-iam reads: service-accounts, service-account-keys, iam-policy, audit-log)"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Reads the export files and emits what they show, as a run with `api = false` does. Public so
/// that the fuzz targets (crates/fuzzing) can run it natively.
pub fn read_exports(out: &mut Emitter, files: &[ExportFile]) -> Result<(), ConnectorError> {
    let mut inv = Inventory::default();
    read_files(&mut inv, files, None)?;
    inv.emit(out).map_err(Stop::into_error)
}

/// Adds what to grant to a 403.
fn explain(what: &str, permission: &str) -> impl Fn(Stop) -> Stop {
    move |e| match e {
        Stop::Failed(m) if m.starts_with("403 ") => Stop::Failed(format!(
            "{m} (the service account needs {permission} on the project, e.g. through {what})"
        )),
        other => other,
    }
}

/// The project's IAM policy: `projects.getIamPolicy`, a POST that only reads.
fn get_policy(base: &str, project: &str) -> Result<Value, Stop> {
    let path = format!("/v1/projects/{project}:getIamPolicy");
    let body = br#"{"options":{"requestedPolicyVersion":3}}"#.to_vec();
    let resp = http::post(
        &format!("{base}{path}"),
        &[("accept", "application/json"), ("content-type", "application/json")],
        body,
    )
    .map_err(Stop::Failed)?;
    answer(resp, &path)
}

fn collect_project(
    p: &mut Progress,
    inv: &mut Inventory,
    cfg: &[(String, String)],
    base: &str,
    project: &str,
) -> Result<(), Stop> {
    let other = |name: &str| setting(cfg, &format!("endpoint_url.{name}")).map(|u| u.trim_end_matches('/'));
    let accounts_url = format!("{base}/v1/projects/{project}/serviceAccounts?pageSize=100");
    let r = pages(&accounts_url, &HEADERS, Some("accounts"), Next::PageToken, |v| {
        inv.account(v)
            .map_err(|m| Stop::Failed(format!("/v1/projects/{project}/serviceAccounts: {m}")))
    });
    p.part(
        &format!("project {project}: service accounts"),
        r.map_err(explain("roles/iam.serviceAccountViewer", "iam.serviceAccounts.list")),
    )?;
    let emails: Vec<String> = inv
        .accounts
        .iter()
        .filter(|(_, a)| a.listed && a.project == project)
        .map(|(e, _)| e.clone())
        .collect();
    for email in &emails {
        let url = format!(
            "{base}/v1/projects/{project}/serviceAccounts/{}/keys?keyTypes=USER_MANAGED",
            encode(email).replace("%40", "@")
        );
        let r = pages(&url, &HEADERS, Some("keys"), Next::PageToken, |v| {
            inv.key(v, Some(email))
                .map_err(|m| Stop::Failed(format!("keys of {email}: {m}")))
        });
        p.part(
            &format!("project {project}: keys of {email}"),
            r.map_err(explain(
                "roles/iam.serviceAccountKeyAdmin or roles/iam.serviceAccountViewer",
                "iam.serviceAccountKeys.list",
            )),
        )?;
    }
    if let Some(crm) = other("resourcemanager") {
        let r = get_policy(crm, project).and_then(|v| {
            inv.policy(project, &v)
                .map_err(|m| Stop::Failed(format!("/v1/projects/{project}:getIamPolicy: {m}")))
        });
        p.part(
            &format!("project {project}: IAM policy"),
            r.map_err(explain(
                "roles/iam.securityReviewer",
                "resourcemanager.projects.getIamPolicy",
            )),
        )?;
    }
    if setting(cfg, "creators") != Some("false")
        && let Some(logging) = other("logging")
    {
        let body = serde_json::json!({
            "resourceNames": [format!("projects/{project}")],
            "filter": format!(
                "logName=\"projects/{project}/logs/cloudaudit.googleapis.com%2Factivity\" AND protoPayload.methodName=\"{CREATE}\""
            ),
            "pageSize": 1000,
        });
        let paging = PostPaging {
            token_in: "pageToken",
            token_out: "nextPageToken",
            items: "entries",
            omits_empty: true,
        };
        let r = post_pages(&format!("{logging}/v2/entries:list"), body, &paging, |e| {
            inv.log_entry(e);
            Ok(())
        });
        p.part(
            &format!("project {project}: service account creators (Admin Activity audit log)"),
            r.map_err(explain("roles/logging.viewer", "logging.logEntries.list")),
        )?;
    }
    if setting(cfg, "key_last_used") != Some("false")
        && let Some(pa) = other("policyanalyzer")
    {
        let url = format!(
            "{pa}/v1/projects/{project}/locations/global/activityTypes/serviceAccountKeyLastAuthentication/activities:query?pageSize=1000"
        );
        let r = pages(&url, &HEADERS, Some("activities"), Next::PageToken, |v| {
            inv.activity(v);
            Ok(())
        });
        let read = r.is_ok();
        p.part(
            &format!("project {project}: key last authentication"),
            r.map_err(explain(
                "roles/policyanalyzer.activityAnalysisViewer",
                "policyanalyzer.serviceAccountKeyLastAuthenticationActivities.query",
            )),
        )?;
        if read {
            inv.activity_read.insert(project.to_string());
        }
    }
    Ok(())
}

impl Guest for GcpIam {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            id: "gcp-iam".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Google Cloud IAM: service accounts, keys and their last use, project IAM bindings".into(),
            record_schema: 1,
        }
    }

    fn collect(request: CollectRequest) -> Result<CollectSummary, ConnectorError> {
        let cfg = &request.config;
        gather_each(
            &request,
            "projects",
            "set projects = [\"my-project\", ...]: the projects whose service accounts to read",
            Inventory::default(),
            |inv, files, list| read_files(inv, files, (list.len() == 1).then(|| list[0].as_str())),
            |p, inv, base, project| collect_project(p, inv, cfg, base, project),
            Inventory::emit,
        )
    }
}

export!(GcpIam);
