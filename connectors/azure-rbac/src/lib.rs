//! Roster connector for Azure RBAC (through Azure Resource Manager). Every role assignment of
//! each configured subscription whose principal is a service principal (managed identities are
//! service principals too) becomes an `iam-role` permission on its scope (the subscription, a
//! resource group or one resource), its role named from the role definitions; Owner and User
//! Access Administrator, Role Based Access Control Administrator and any role that may write role
//! assignments are marked admin, Contributor broad, a custom role allowing `*` wildcard.
//! Each such principal becomes an identity keyed by its object id, which is the id the entra-id
//! connector gives the same service principal: the correlator joins the two
//! (`entra_object_id`). A principal that is the system-assigned managed identity of an Azure
//! OpenAI or AI services account or of an AI Foundry hub or project, or that holds a role on
//! such a resource, carries `ai_platform = azure-openai` or `azure-ai-foundry`.
//!
//! APIs (read-only, <https://learn.microsoft.com/rest/api/authorization/>): Role Assignments
//! List For Subscription and Role Definitions List (`api-version=2022-04-01`), Cognitive Services
//! Accounts List (`2024-10-01`), Machine Learning Workspaces List By Subscription
//! (`2024-10-01`). The host attaches the access token; this plugin never has it. It also reads
//! the JSON that `az role assignment list --all --include-inherited`, `az role definition list`
//! and `az cognitiveservices account list` print (`-o json`), and AI Foundry workspaces from
//! `az resource list --resource-type Microsoft.MachineLearningServices/workspaces`; with
//! `api = false`, only those.

use std::collections::{BTreeMap, BTreeSet};

use roster_connector_sdk::rest::{Next, Progress, Stop, export_items, field, gather_each, pages};
use roster_connector_sdk::types::*;
use roster_connector_sdk::{Emitter, Guest, export};
use serde_json::Value;

struct AzureRbac;

const HEADERS: [(&str, &str); 1] = [("accept", "application/json")];
const AUTHORIZATION_API: &str = "2022-04-01";
const COGNITIVE_API: &str = "2024-10-01";
const ML_API: &str = "2024-10-01";

/// Built-in roles by definition id (the same GUID in every subscription), and what each gives.
/// <https://learn.microsoft.com/azure/role-based-access-control/built-in-roles>
const BUILT_IN: [(&str, &str, (&str, &str)); 4] = [
    ("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner", ("admin", "true")),
    (
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        "User Access Administrator",
        ("admin", "true"),
    ),
    (
        "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
        "Role Based Access Control Administrator",
        ("admin", "true"),
    ),
    (
        "b24988ac-6180-42a0-ab88-20f7382dd24c",
        "Contributor",
        ("broad", "write access to every resource under its scope"),
    ),
];

/// The last segment of an ARM id, lower case (a role definition's GUID).
fn last_segment(id: &str) -> String {
    id.rsplit('/').next().unwrap_or_default().to_ascii_lowercase()
}

/// The field `k` of an ARM resource: under `properties` (the REST shape), else at the top (the
/// Azure CLI flattens role assignments).
fn prop(v: &Value, k: &str) -> String {
    match v.pointer(&format!("/properties/{k}")).and_then(Value::as_str) {
        Some(s) => s.to_string(),
        None => field(v, k),
    }
}

/// The level of an ARM scope.
fn scope_level(scope: &str) -> &'static str {
    let parts: Vec<&str> = scope.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        [""] => "root",
        ["providers", "Microsoft.Management", "managementGroups", ..] => "management-group",
        ["subscriptions", _] => "subscription",
        ["subscriptions", _, g, _] if g.eq_ignore_ascii_case("resourceGroups") => "resource-group",
        _ => "resource",
    }
}

/// A role definition: its name, for a custom role whether it allows every action, and whether
/// it may write role assignments (grant any role, itself included).
struct Role {
    name: String,
    wildcard: bool,
    assigns_roles: bool,
}

/// Whether an RBAC action pattern (`*` matches any run, case-insensitive) covers `action`.
fn covers(pattern: &str, action: &str) -> bool {
    let (p, a) = (pattern.to_ascii_lowercase(), action.to_ascii_lowercase());
    let mut parts = p.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = a.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// A role assignment to a service principal.
struct Assignment {
    principal: String,
    role_id: String,
    /// The role's name as the Azure CLI prints it (`roleDefinitionName`).
    role_name: String,
    scope: String,
    condition: String,
    principal_name: String,
}

/// An Azure OpenAI, AI services or AI Foundry resource.
struct AiResource {
    name: String,
    platform: &'static str,
    /// Its system-assigned managed identity's object id.
    principal: String,
}

/// What a run learned, emitted at its end (assignments may come before their roles and
/// resources).
#[derive(Default)]
struct Inventory {
    roles: BTreeMap<String, Role>,
    /// By assignment id (the same assignment can be listed by two subscriptions when inherited).
    assignments: BTreeMap<String, Assignment>,
    /// By resource id, lower case.
    ai: BTreeMap<String, AiResource>,
}

impl Inventory {
    /// One role definition (ARM, or `az role definition list`).
    fn role(&mut self, v: &Value) -> Result<(), String> {
        let id = field(v, "id");
        let guid = match field(v, "name") {
            n if n.is_empty() => last_segment(&id),
            n => n.to_ascii_lowercase(),
        };
        if guid.is_empty() {
            return Err("a role definition without id or name".into());
        }
        let name = prop(v, "roleName");
        let custom = prop(v, "type") == "CustomRole" || prop(v, "roleType") == "CustomRole";
        let perms = v
            .pointer("/properties/permissions")
            .or_else(|| v.get("permissions"))
            .and_then(Value::as_array);
        let list = |p: &Value, k: &str| -> Vec<String> {
            let items = p.get(k).and_then(Value::as_array).into_iter().flatten();
            items.filter_map(Value::as_str).map(str::to_string).collect()
        };
        let perms: Vec<&Value> = perms.into_iter().flatten().collect();
        let wildcard = custom && perms.iter().any(|p| list(p, "actions").iter().any(|x| x == "*"));
        const WRITE: &str = "Microsoft.Authorization/roleAssignments/write";
        let assigns_roles = perms.iter().any(|p| {
            list(p, "actions").iter().any(|x| covers(x, WRITE))
                && !list(p, "notActions").iter().any(|x| covers(x, WRITE))
        });
        self.roles.insert(
            guid,
            Role {
                name,
                wildcard,
                assigns_roles,
            },
        );
        Ok(())
    }

    /// One role assignment (ARM, or `az role assignment list`); only service principals count.
    fn assignment(&mut self, v: &Value) -> Result<(), String> {
        let principal = prop(v, "principalId");
        let role_id = prop(v, "roleDefinitionId");
        let scope = prop(v, "scope");
        if principal.is_empty() || role_id.is_empty() || scope.is_empty() {
            return Err(format!(
                "a role assignment without principalId, roleDefinitionId or scope ({})",
                field(v, "id")
            ));
        }
        if prop(v, "principalType") != "ServicePrincipal" {
            return Ok(());
        }
        let id = match field(v, "id") {
            i if i.is_empty() => format!("{scope}|{principal}|{role_id}"),
            i => i.to_ascii_lowercase(),
        };
        self.assignments.insert(
            id,
            Assignment {
                principal: principal.to_ascii_lowercase(),
                role_id,
                role_name: prop(v, "roleDefinitionName"),
                scope,
                condition: prop(v, "condition"),
                principal_name: prop(v, "principalName"),
            },
        );
        Ok(())
    }

    /// One Cognitive Services account or Machine Learning workspace; only the AI kinds count.
    fn ai_resource(&mut self, v: &Value) -> Result<(), String> {
        let id = field(v, "id");
        if id.is_empty() {
            return Err("a resource without id".into());
        }
        let lower = id.to_ascii_lowercase();
        let kind = field(v, "kind");
        let platform = if lower.contains("/providers/microsoft.cognitiveservices/accounts/") {
            match kind.as_str() {
                "OpenAI" => "azure-openai",
                "AIServices" => "azure-ai-foundry",
                _ => return Ok(()),
            }
        } else if lower.contains("/providers/microsoft.machinelearningservices/workspaces/") {
            match kind.as_str() {
                "Hub" | "Project" => "azure-ai-foundry",
                _ => return Ok(()),
            }
        } else {
            return Err(format!(
                "{id} is not a Cognitive Services account or Machine Learning workspace"
            ));
        };
        self.ai.insert(
            lower.trim_end_matches('/').to_string(),
            AiResource {
                name: field(v, "name"),
                platform,
                principal: v
                    .pointer("/identity/principalId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
            },
        );
        Ok(())
    }

    /// The AI resource a scope is, or is under.
    fn ai_at(&self, scope: &str) -> Option<(&String, &AiResource)> {
        let s = scope.to_ascii_lowercase();
        self.ai
            .iter()
            .find(|(id, _)| s == **id || s.strip_prefix(id.as_str()).is_some_and(|r| r.starts_with('/')))
    }

    fn emit(self, out: &mut Emitter) -> Result<(), Stop> {
        let mut by_principal: BTreeMap<&str, Vec<&Assignment>> = BTreeMap::new();
        for a in self.assignments.values() {
            by_principal.entry(a.principal.as_str()).or_default().push(a);
        }
        let identity_of: BTreeMap<&str, (&String, &AiResource)> = self
            .ai
            .iter()
            .filter(|(_, r)| !r.principal.is_empty())
            .map(|(id, r)| (r.principal.as_str(), (id, r)))
            .collect();
        for (principal, list) in by_principal {
            let own = identity_of.get(principal);
            let mut attrs = vec![
                ("platform".to_string(), "azure".to_string()),
                ("object".into(), "servicePrincipal".into()),
                ("entra_object_id".into(), principal.to_string()),
            ];
            let subs: BTreeSet<&str> = list
                .iter()
                .filter_map(|a| {
                    a.scope
                        .split('/')
                        .nth(2)
                        .filter(|_| a.scope.starts_with("/subscriptions/"))
                })
                .collect();
            attrs.push(("subscriptions".into(), subs.into_iter().collect::<Vec<_>>().join(",")));
            // AI-capable: the managed identity of an AI resource, or a role on one.
            let mut ai: Vec<(&String, &AiResource)> = own.into_iter().copied().collect();
            ai.extend(list.iter().filter_map(|a| self.ai_at(&a.scope)));
            let platforms: BTreeSet<&str> = ai.iter().map(|(_, r)| r.platform).collect();
            if !platforms.is_empty() {
                attrs.push((
                    "ai_platform".into(),
                    platforms.into_iter().collect::<Vec<_>>().join(","),
                ));
                let ids: BTreeSet<&str> = ai.iter().map(|(id, _)| id.as_str()).collect();
                attrs.push(("ai_resources".into(), ids.into_iter().collect::<Vec<_>>().join(",")));
            }
            let named = list.iter().map(|a| a.principal_name.as_str()).find(|n| !n.is_empty());
            let (kind, name) = match own {
                Some((_, r)) => (
                    IdentityKind::ManagedIdentity,
                    format!("{} (system-assigned managed identity)", r.name),
                ),
                None => (IdentityKind::ServicePrincipal, named.unwrap_or(principal).to_string()),
            };
            out.identity(Identity {
                id: principal.to_string(),
                kind,
                name,
                created: None,
                last_used: None,
                enabled: None,
                owners: vec![],
                tags: vec![],
                trusted_by: vec![],
                attrs,
            })?;
            for a in list {
                let guid = last_segment(&a.role_id);
                let role = self.roles.get(&guid);
                let built_in = BUILT_IN.iter().find(|(g, _, _)| *g == guid);
                let name = match (role, built_in) {
                    (Some(r), _) if !r.name.is_empty() => r.name.clone(),
                    _ if !a.role_name.is_empty() => a.role_name.clone(),
                    (_, Some((_, n, _))) => (*n).to_string(),
                    _ => guid.clone(),
                };
                let mut attrs = vec![
                    ("role_definition_id".to_string(), guid.clone()),
                    ("scope_level".into(), scope_level(&a.scope).into()),
                ];
                if let Some((_, _, (k, v))) = built_in {
                    attrs.push(((*k).into(), (*v).into()));
                } else {
                    if role.is_some_and(|r| r.wildcard) {
                        attrs.push(("wildcard_actions".into(), "*".into()));
                    }
                    if role.is_some_and(|r| r.assigns_roles) {
                        attrs.push(("admin".into(), "true".into()));
                        attrs.push((
                            "assigns_roles".into(),
                            "may write role assignments (Microsoft.Authorization/roleAssignments/write)".into(),
                        ));
                    }
                }
                if !a.condition.is_empty() {
                    attrs.push(("condition".into(), a.condition.clone()));
                }
                if let Some((_, r)) = self.ai_at(&a.scope) {
                    attrs.push(("ai_platform".into(), r.platform.into()));
                }
                out.permission(Permission {
                    identity_id: principal.to_string(),
                    name: name.clone(),
                    kind: "iam-role".into(),
                    actions: vec![name],
                    resources: vec![a.scope.clone()],
                    attrs,
                })?;
            }
        }
        Ok(())
    }
}

fn read_files(inv: &mut Inventory, files: &[ExportFile]) -> Result<(), ConnectorError> {
    let bad = |f: &ExportFile, m: String| ConnectorError::Config(format!("{}: {m}", f.name));
    for f in files {
        let read: fn(&mut Inventory, &Value) -> Result<(), String> = match f.format.as_str() {
            "role-assignments" => Inventory::assignment,
            "role-definitions" => Inventory::role,
            "ai-resources" => Inventory::ai_resource,
            other => {
                return Err(bad(
                    f,
                    format!(
                        "unknown export format {other:?} (azure-rbac reads: role-assignments, role-definitions, ai-resources)"
                    ),
                ));
            }
        };
        for v in export_items(f, "value")? {
            read(inv, &v).map_err(|m| bad(f, m))?;
        }
    }
    Ok(())
}

/// Reads the export files and emits what they show, as a run with `api = false` does. Public so
/// that the fuzz targets (crates/fuzzing) can run it natively.
pub fn read_exports(out: &mut Emitter, files: &[ExportFile]) -> Result<(), ConnectorError> {
    let mut inv = Inventory::default();
    read_files(&mut inv, files)?;
    inv.emit(out).map_err(Stop::into_error)
}

/// Adds what to grant to a 403.
fn explain(e: Stop) -> Stop {
    match e {
        Stop::Failed(m) if m.starts_with("403 ") => Stop::Failed(format!(
            "{m} (the reading identity needs the Reader role on the subscription)"
        )),
        other => other,
    }
}

fn collect_subscription(p: &mut Progress, inv: &mut Inventory, base: &str, sub: &str) -> Result<(), Stop> {
    type Read = fn(&mut Inventory, &Value) -> Result<(), String>;
    let lists: [(&str, &str, &str, Read); 4] = [
        (
            "role definitions",
            "Microsoft.Authorization/roleDefinitions",
            AUTHORIZATION_API,
            Inventory::role,
        ),
        (
            "role assignments",
            "Microsoft.Authorization/roleAssignments",
            AUTHORIZATION_API,
            Inventory::assignment,
        ),
        (
            "Cognitive Services accounts",
            "Microsoft.CognitiveServices/accounts",
            COGNITIVE_API,
            Inventory::ai_resource,
        ),
        (
            "AI Foundry workspaces",
            "Microsoft.MachineLearningServices/workspaces",
            ML_API,
            Inventory::ai_resource,
        ),
    ];
    for (what, path, api, read) in lists {
        let path = format!("/subscriptions/{sub}/providers/{path}");
        let r = pages(
            &format!("{base}{path}?api-version={api}"),
            &HEADERS,
            Some("value"),
            Next::NextLink,
            |v| read(inv, v).map_err(|m| Stop::Failed(format!("{path}: {m}"))),
        );
        p.part(&format!("subscription {sub}: {what}"), r.map_err(explain))?;
    }
    Ok(())
}

impl Guest for AzureRbac {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            id: "azure-rbac".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Azure RBAC role assignments of service principals and managed identities, AI resources"
                .into(),
            record_schema: 1,
        }
    }

    fn collect(request: CollectRequest) -> Result<CollectSummary, ConnectorError> {
        gather_each(
            &request,
            "subscriptions",
            "set subscriptions = [\"<subscription id>\", ...]: the subscriptions whose role assignments to read",
            Inventory::default(),
            |inv, files, _| read_files(inv, files),
            collect_subscription,
            Inventory::emit,
        )
    }
}

export!(AzureRbac);
