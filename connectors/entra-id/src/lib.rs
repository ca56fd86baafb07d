//! Roster connector for Microsoft Entra ID (through Microsoft Graph): applications and service
//! principals (managed identities included) with their password and key credentials (start and
//! end), owners (with whether each is enabled), agent identities (Entra Agent ID) with their
//! sponsors and blueprint, application permissions (app role assignments,
//! directory-wide ones flagged), delegated grants, last sign-in per service principal, and, from
//! `log_since` on, every service-principal and managed-identity sign-in (which credential, from
//! where, to which resource, with what outcome).
//!
//! Graph reference: <https://learn.microsoft.com/graph/api/overview>. The host obtains and
//! attaches the access token; this plugin never has it. The same objects are read from Graph
//! responses saved to files (see [`read_exports`]); with `api = false`, only those.

use std::collections::HashMap;

use roster_connector_sdk::http;
use roster_connector_sdk::rest::{Next, Progress, Stop, export_items, field, pages, push_fields};
use roster_connector_sdk::types::*;
use roster_connector_sdk::{Emitter, Guest, export, parse_time, progress, setting};
use serde_json::Value;

struct Entra;

const HEADERS: [(&str, &str); 2] = [("accept", "application/json"), ("consistencylevel", "eventual")];

/// Microsoft Graph's app id, and the application permissions on it that reach the whole directory.
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
const DIRECTORY_WIDE: [&str; 12] = [
    "Directory.ReadWrite.All",
    "Directory.Read.All",
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "RoleManagement.ReadWrite.Directory",
    "User.ReadWrite.All",
    "Group.ReadWrite.All",
    "Mail.ReadWrite",
    "Mail.Send",
    "Files.ReadWrite.All",
    "Sites.FullControl.All",
    "Sites.ReadWrite.All",
];

fn time(v: &Value, k: &str) -> Option<i64> {
    v.get(k).and_then(Value::as_str).and_then(parse_time)
}

fn credentials(holder: &str, v: &Value, out: &mut Emitter) -> Result<(), Stop> {
    for (list, kind) in [
        ("passwordCredentials", CredentialKind::ClientSecret),
        ("keyCredentials", CredentialKind::Certificate),
    ] {
        for c in v.get(list).and_then(Value::as_array).into_iter().flatten() {
            let end = time(c, "endDateTime");
            let mut attrs = vec![];
            let hint = field(c, "hint");
            for k in ["type", "usage"] {
                let x = field(c, k);
                if !x.is_empty() {
                    attrs.push((k.to_string(), x));
                }
            }
            out.credential(Credential {
                id: field(c, "keyId"),
                identity_id: holder.to_string(),
                kind,
                status: CredentialStatus::Unknown,
                name: Some(field(c, "displayName")).filter(|n| !n.is_empty()),
                created: time(c, "startDateTime"),
                expires: end,
                last_used: None,
                last_used_service: None,
                redacted: (!hint.is_empty()).then(|| format!("{hint}…")),
                attrs,
            })?;
        }
    }
    Ok(())
}

fn owners(v: &Value) -> Vec<Owner> {
    v.get("owners")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|o| {
            let upn = field(o, "userPrincipalName");
            let kind = field(o, "@odata.type");
            Owner {
                id: field(o, "id"),
                name: if upn.is_empty() { field(o, "displayName") } else { upn },
                kind: if kind.ends_with(".user") {
                    "user".into()
                } else if kind.ends_with(".servicePrincipal") {
                    "service-principal".into()
                } else {
                    "unknown".into()
                },
                via: "idp-owner".into(),
                enabled: o.get("accountEnabled").and_then(Value::as_bool),
            }
        })
        .collect()
}

fn application_records(out: &mut Emitter, a: &Value) -> Result<(), Stop> {
    let id = field(a, "id");
    out.identity(Identity {
        id: id.clone(),
        kind: IdentityKind::ServicePrincipal,
        name: field(a, "displayName"),
        created: time(a, "createdDateTime"),
        last_used: None,
        enabled: None,
        owners: owners(a),
        tags: vec![],
        trusted_by: vec![],
        attrs: vec![
            ("object".into(), "application".into()),
            ("app_id".into(), field(a, "appId")),
            ("sign_in_audience".into(), field(a, "signInAudience")),
        ],
    })?;
    credentials(&id, a, out)
}

/// A service principal; returns its object id and app id.
fn service_principal_records(out: &mut Emitter, sp: &Value) -> Result<(String, String), Stop> {
    let id = field(sp, "id");
    let ty = field(sp, "servicePrincipalType");
    let kind = if ty == "ManagedIdentity" {
        IdentityKind::ManagedIdentity
    } else {
        IdentityKind::ServicePrincipal
    };
    let tags: Vec<String> = sp
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_str().map(str::to_string))
        .collect();
    let mut attrs = vec![
        ("object".to_string(), "servicePrincipal".to_string()),
        ("app_id".into(), field(sp, "appId")),
        ("service_principal_type".into(), ty),
        ("app_owner_tenant".into(), field(sp, "appOwnerOrganizationId")),
    ];
    if !tags.is_empty() {
        attrs.push(("tags".into(), tags.join(",")));
    }
    out.identity(Identity {
        id: id.clone(),
        kind,
        name: field(sp, "displayName"),
        created: time(sp, "createdDateTime"),
        last_used: None,
        enabled: sp.get("accountEnabled").and_then(Value::as_bool),
        owners: owners(sp),
        tags: vec![],
        trusted_by: vec![],
        attrs,
    })?;
    credentials(&id, sp, out)?;
    Ok((id, field(sp, "appId")))
}

/// An agent identity (Entra Agent ID, `servicePrincipals/microsoft.graph.agentIdentity`): an
/// `agent` identity whose sponsors, the people accountable for it, are its owners.
fn agent_identity_records(out: &mut Emitter, a: &Value) -> Result<(), Stop> {
    let id = field(a, "id");
    let mut owners = owners(a);
    for s in a.get("sponsors").and_then(Value::as_array).into_iter().flatten() {
        let upn = field(s, "userPrincipalName");
        let kind = field(s, "@odata.type");
        owners.push(Owner {
            id: field(s, "id"),
            name: if upn.is_empty() { field(s, "displayName") } else { upn },
            kind: if kind.ends_with(".group") {
                "group".into()
            } else {
                "user".into()
            },
            via: "sponsor".into(),
            enabled: s.get("accountEnabled").and_then(Value::as_bool),
        });
    }
    let mut attrs = vec![
        ("object".to_string(), "servicePrincipal".to_string()),
        ("agent_identity".into(), "true".into()),
        ("app_id".into(), field(a, "appId")),
    ];
    push_fields(
        &mut attrs,
        a,
        &[
            ("agent_blueprint_id", "agentIdentityBlueprintId"),
            ("created_by_app_id", "createdByAppId"),
            ("app_owner_tenant", "appOwnerOrganizationId"),
        ],
    );
    out.identity(Identity {
        id: id.clone(),
        kind: IdentityKind::Agent,
        name: field(a, "displayName"),
        created: time(a, "createdDateTime"),
        last_used: None,
        enabled: a.get("accountEnabled").and_then(Value::as_bool),
        owners,
        tags: vec![],
        trusted_by: vec![],
        attrs,
    })?;
    credentials(&id, a, out)
}

/// An app role assignment, its role named (`name`) when the resource's app roles are known.
fn assignment_record(out: &mut Emitter, sp: &str, a: &Value, app_id: &str, name: Option<String>) -> Result<(), Stop> {
    let name = name.unwrap_or_else(|| field(a, "appRoleId"));
    let mut attrs = vec![("resource".to_string(), field(a, "resourceDisplayName"))];
    if app_id == GRAPH_APP_ID && DIRECTORY_WIDE.contains(&name.as_str()) {
        attrs.push(("admin".into(), "true".into()));
        attrs.push(("directory_wide".into(), "true".into()));
    }
    out.permission(Permission {
        identity_id: sp.to_string(),
        name: name.clone(),
        kind: "app-role".into(),
        actions: vec![name],
        resources: vec![field(a, "resourceDisplayName")],
        attrs,
    })?;
    Ok(())
}

fn grant_record(out: &mut Emitter, g: &Value) -> Result<(), Stop> {
    let scopes: Vec<String> = field(g, "scope").split_whitespace().map(str::to_string).collect();
    let all = field(g, "consentType") == "AllPrincipals";
    let wide = all && scopes.iter().any(|s| DIRECTORY_WIDE.contains(&s.as_str()));
    let mut attrs = vec![("consent_type".to_string(), field(g, "consentType"))];
    if wide {
        attrs.push(("admin".into(), "true".into()));
        attrs.push(("directory_wide".into(), "true".into()));
    }
    out.permission(Permission {
        identity_id: field(g, "clientId"),
        name: scopes.join(" "),
        kind: "delegated-grant".into(),
        actions: scopes,
        resources: vec![field(g, "resourceId")],
        attrs,
    })?;
    Ok(())
}

/// A `servicePrincipalSignInActivity` as the application's last-sign-in activity.
fn sign_in_record(out: &mut Emitter, a: &Value) -> Result<(), Stop> {
    let last = a
        .pointer("/lastSignInActivity/lastSignInDateTime")
        .and_then(Value::as_str)
        .and_then(parse_time);
    if let Some(t) = last {
        out.activity(Activity {
            id: format!("last-sign-in:{}", field(a, "appId")),
            time: t,
            credential_id: None,
            identity_id: Some(field(a, "appId")),
            action: "last-sign-in".into(),
            service: Some("entra".into()),
            source_ip: None,
            user_agent: None,
            outcome: None,
            attrs: vec![("app_id".into(), field(a, "appId"))],
        })?;
    }
    Ok(())
}

/// A service-principal or managed-identity sign-in (`auditLogs/signIns` item, beta) as activity:
/// by application id, with the key id of the secret or certificate used.
fn sign_in_event(out: &mut Emitter, e: &Value) -> Result<(), Stop> {
    let Some(t) = time(e, "createdDateTime") else {
        return Ok(());
    };
    let status = e.get("status").cloned().unwrap_or(Value::Null);
    let ok = status.get("errorCode").and_then(Value::as_i64) == Some(0);
    let mut attrs = vec![("app_id".to_string(), field(e, "appId"))];
    push_fields(
        &mut attrs,
        e,
        &[
            ("service_principal_id", "servicePrincipalId"),
            ("client_credential_type", "clientCredentialType"),
            ("resource_id", "resourceId"),
            ("certificate_thumbprint", "servicePrincipalCredentialThumbprint"),
        ],
    );
    if !ok {
        attrs.push(("failure_reason".into(), field(&status, "failureReason")));
    }
    let events = e
        .get("signInEventTypes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(",");
    out.activity(Activity {
        id: field(e, "id"),
        time: t,
        credential_id: Some(field(e, "servicePrincipalCredentialKeyId")).filter(|k| !k.is_empty()),
        identity_id: Some(field(e, "appId")).filter(|a| !a.is_empty()),
        action: if events.is_empty() {
            "sign-in".into()
        } else {
            format!("sign-in:{events}")
        },
        service: Some(field(e, "resourceDisplayName")).filter(|r| !r.is_empty()),
        source_ip: Some(field(e, "ipAddress")).filter(|i| !i.is_empty()),
        user_agent: Some(field(e, "userAgent")).filter(|u| !u.is_empty()),
        outcome: Some(if ok { "success" } else { "failure" }.into()),
        attrs,
    })?;
    Ok(())
}

/// Exports saved from Graph: `applications`, `service-principals` (with `$expand=owners`; the
/// `appRoles` of resource service principals name the roles in assignments),
/// `app-role-assignments` (each item's `principalId` is the holder), `oauth2-permission-grants`
/// `sign-in-activity` (`reports/servicePrincipalSignInActivities`) and `sign-ins`
/// (`auditLogs/signIns`).
///
/// Public so that the fuzz targets (crates/fuzzing) can run it natively.
pub fn read_exports(out: &mut Emitter, files: &[ExportFile]) -> Result<(), ConnectorError> {
    const FORMATS: [&str; 7] = [
        "agent-identities",
        "sign-ins",
        "applications",
        "service-principals",
        "app-role-assignments",
        "oauth2-permission-grants",
        "sign-in-activity",
    ];
    let mut docs = vec![];
    for f in files {
        if !FORMATS.contains(&f.format.as_str()) {
            return Err(ConnectorError::Config(format!(
                "{}: unknown export format {:?} (entra-id reads: {})",
                f.name,
                f.format,
                FORMATS.join(", ")
            )));
        }
        docs.push((f, export_items(f, "value")?));
    }
    let stop = Stop::into_error;
    // Service principals first: assignments are named from their app roles.
    let mut roles: HashMap<String, (String, HashMap<String, String>)> = HashMap::new();
    for (_, items) in docs.iter().filter(|(f, _)| f.format == "service-principals") {
        for sp in items {
            service_principal_records(out, sp).map_err(stop)?;
            let names = sp
                .get("appRoles")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|r| (field(r, "id"), field(r, "value")))
                .collect();
            roles.insert(field(sp, "id"), (field(sp, "appId"), names));
        }
    }
    for (f, items) in &docs {
        for item in items {
            match f.format.as_str() {
                "applications" => application_records(out, item),
                "app-role-assignments" => {
                    let (app_id, name) = roles
                        .get(&field(item, "resourceId"))
                        .map(|(a, n)| (a.clone(), n.get(&field(item, "appRoleId")).cloned()))
                        .unwrap_or_default();
                    assignment_record(out, &field(item, "principalId"), item, &app_id, name)
                }
                "oauth2-permission-grants" => grant_record(out, item),
                "sign-in-activity" => sign_in_record(out, item),
                "sign-ins" => sign_in_event(out, item),
                "agent-identities" => agent_identity_records(out, item),
                _ => Ok(()),
            }
            .map_err(stop)?;
        }
    }
    Ok(())
}

struct Run {
    graph: String,
    p: Progress,
    /// Resource service principal id → (appId, app role id → permission name).
    roles: HashMap<String, (String, HashMap<String, String>)>,
}

impl Run {
    fn applications(&mut self) -> Result<(), Stop> {
        let url = format!(
            "{}/v1.0/applications?$select=id,appId,displayName,createdDateTime,signInAudience,passwordCredentials,keyCredentials&$expand=owners($select=id,displayName,userPrincipalName,accountEnabled)&$top=999",
            self.graph
        );
        let out = &mut self.p.out;
        pages(&url, &HEADERS, Some("value"), Next::ODataNextLink, |a| {
            application_records(out, a)
        })
    }

    /// Agent identities with their sponsors (read before the service principals they also are,
    /// so that they are known as agents).
    fn agent_identities(&mut self) -> Result<(), Stop> {
        let url = format!(
            "{}/v1.0/servicePrincipals/microsoft.graph.agentIdentity?$expand=sponsors&$top=100",
            self.graph
        );
        let out = &mut self.p.out;
        pages(&url, &HEADERS, Some("value"), Next::ODataNextLink, |a| {
            agent_identity_records(out, a)
        })
    }

    fn service_principals(&mut self) -> Result<Vec<(String, String)>, Stop> {
        let url = format!(
            "{}/v1.0/servicePrincipals?$select=id,appId,displayName,servicePrincipalType,accountEnabled,appOwnerOrganizationId,tags,passwordCredentials,keyCredentials&$expand=owners($select=id,displayName,userPrincipalName,accountEnabled)&$top=999",
            self.graph
        );
        let mut sps = vec![];
        let out = &mut self.p.out;
        pages(&url, &HEADERS, Some("value"), Next::ODataNextLink, |sp| {
            sps.push(service_principal_records(out, sp)?);
            Ok(())
        })?;
        Ok(sps)
    }
    /// The names of a resource's app roles (cached per resource).
    fn role_name(&mut self, resource: &str, role: &str) -> (String, Option<String>) {
        if !self.roles.contains_key(resource) {
            let url = format!(
                "{}/v1.0/servicePrincipals/{resource}?$select=appId,appRoles",
                self.graph
            );
            let mut names = HashMap::new();
            let mut app_id = String::new();
            if let Ok(r) = http::get(&url, &HEADERS)
                && r.status == 200
                && let Ok(v) = r.json()
            {
                app_id = field(&v, "appId");
                for ar in v.get("appRoles").and_then(Value::as_array).into_iter().flatten() {
                    names.insert(field(ar, "id"), field(ar, "value"));
                }
            }
            self.roles.insert(resource.to_string(), (app_id, names));
        }
        let (app_id, names) = &self.roles[resource];
        (app_id.clone(), names.get(role).cloned())
    }

    fn app_role_assignments(&mut self, sp: &str) -> Result<(), Stop> {
        let url = format!("{}/v1.0/servicePrincipals/{sp}/appRoleAssignments", self.graph);
        let mut assignments = vec![];
        pages(&url, &HEADERS, Some("value"), Next::ODataNextLink, |a| {
            assignments.push(a.clone());
            Ok(())
        })?;
        for a in assignments {
            let (app_id, name) = self.role_name(&field(&a, "resourceId"), &field(&a, "appRoleId"));
            assignment_record(&mut self.p.out, sp, &a, &app_id, name)?;
        }
        Ok(())
    }

    fn delegated_grants(&mut self) -> Result<(), Stop> {
        let url = format!("{}/v1.0/oauth2PermissionGrants?$top=999", self.graph);
        let out = &mut self.p.out;
        pages(&url, &HEADERS, Some("value"), Next::ODataNextLink, |g| {
            grant_record(out, g)
        })
    }

    /// Last sign-in per application (beta report), as activity the correlation reads.
    fn sign_in_activity(&mut self) -> Result<(), Stop> {
        let url = format!("{}/beta/reports/servicePrincipalSignInActivities", self.graph);
        let out = &mut self.p.out;
        pages(&url, &HEADERS, Some("value"), Next::ODataNextLink, |a| {
            sign_in_record(out, a)
        })
    }

    /// Every service-principal and managed-identity sign-in since `since` (beta audit log).
    fn sign_ins(&mut self, since: &str) -> Result<(), Stop> {
        let filter = format!(
            "(signInEventTypes/any(t: t eq 'servicePrincipal') or signInEventTypes/any(t: t eq 'managedIdentity')) and createdDateTime ge {since}"
        );
        let url = format!(
            "{}/beta/auditLogs/signIns?$filter={}",
            self.graph,
            http::encode(&filter)
        );
        let out = &mut self.p.out;
        pages(&url, &HEADERS, Some("value"), Next::ODataNextLink, |e| {
            sign_in_event(out, e)
        })
    }
}

impl Guest for Entra {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            id: "entra-id".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Entra ID applications, service principals, managed identities, permissions, sign-ins".into(),
            record_schema: 1,
        }
    }

    fn collect(request: CollectRequest) -> Result<CollectSummary, ConnectorError> {
        let p = match Progress::default().exports(&request, read_exports) {
            Ok(p) => p,
            Err(done) => return done,
        };
        let graph = roster_connector_sdk::endpoint(&request.config)?;
        let since = setting(&request.config, "log_since").map(str::to_string);
        let mut run = Run {
            graph: graph.to_string(),
            p,
            roles: HashMap::new(),
        };
        let result = (|| -> Result<(), Stop> {
            let r = run.applications();
            run.p.part("applications", r)?;
            let r = run.agent_identities();
            run.p.part("agent identities (needs AgentIdentity.Read.All)", r)?;
            let sps = match run.service_principals() {
                Ok(s) => s,
                Err(Stop::Failed(m)) => {
                    run.p.notes.push(format!("service principals: {m}"));
                    vec![]
                }
                Err(e) => return Err(e),
            };
            for (n, (sp, _)) in sps.iter().enumerate() {
                progress(n as u64, Some(sps.len() as u64), "service principals");
                let r = run.app_role_assignments(sp);
                run.p.part(&format!("app role assignments of {sp}"), r)?;
            }
            let r = run.delegated_grants();
            run.p.part("delegated permission grants", r)?;
            let r = run.sign_in_activity();
            run.p.part(
                "service principal sign-in activity (needs AuditLog.Read.All, Entra ID P1)",
                r,
            )?;
            if let Some(since) = &since {
                let r = run.sign_ins(since);
                run.p
                    .part("service principal sign-ins (needs AuditLog.Read.All, Entra ID P1)", r)?;
            }
            Ok(())
        })();
        run.p.finish(result)
    }
}

export!(Entra);
