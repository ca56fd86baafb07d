//! Roster connector for AWS Bedrock Agents and Bedrock AgentCore runtimes. Each Bedrock agent
//! becomes an `agent` identity (its ARN as id) with its foundation model, status, action groups
//! and knowledge bases, and the ARN of its resource role (`role_arn`): the IAM role it acts as,
//! which `roster discover` joins to the aws-iam record of that role, so the role's policies count
//! as the agent's. Each AgentCore runtime likewise, with its `roleArn`.
//!
//! APIs (read-only): Agents for Amazon Bedrock `ListAgents` (`POST /agents/`), `GetAgent`
//! (`GET /agents/{agentId}/`), `ListAgentActionGroups` and `ListAgentKnowledgeBases`
//! (`POST /agents/{agentId}/agentversions/{agentVersion}/actiongroups/` and `.../knowledgebases/`)
//! (<https://docs.aws.amazon.com/bedrock/latest/APIReference/API_Operations_Agents_for_Amazon_Bedrock.html>),
//! and Bedrock AgentCore control `ListAgentRuntimes` (`POST /runtimes/`) and `GetAgentRuntime`
//! (`GET /runtimes/{agentRuntimeId}/`)
//! (<https://docs.aws.amazon.com/bedrock-agentcore-control/latest/APIReference/>). The host signs
//! each request (SigV4, `bedrock` and `bedrock-agentcore`); this plugin never has a credential.
//! It also reads what `aws bedrock-agent list-agents` / `get-agent` and
//! `aws bedrock-agentcore-control list-agent-runtimes` / `get-agent-runtime` print; with
//! `api = false`, only those.

use std::collections::BTreeMap;

use roster_connector_sdk::http::{self, encode};
use roster_connector_sdk::rest::{self, PostPaging, Progress, Stop, answer, field, gather, push_fields};
use roster_connector_sdk::types::*;
use roster_connector_sdk::{Emitter, Guest, export, parse_time, setting};
use serde_json::Value;

struct AwsBedrock;

/// An agent or runtime, from a listing and its details (the details win).
#[derive(Default)]
struct Agent {
    /// `bedrock-agent` or `agentcore-runtime`.
    platform: &'static str,
    /// The provider's id (`agentId`, `agentRuntimeId`).
    id: String,
    /// The ARN, once the details (or a runtime listing) gave it.
    arn: String,
    name: String,
    status: String,
    created: Option<i64>,
    role_arn: String,
    attrs: Vec<(String, String)>,
    action_groups: Option<Vec<String>>,
    knowledge_bases: Option<Vec<String>>,
}

/// What a run learned, emitted at its end (an export's details may come after its listing).
#[derive(Default)]
struct Inventory {
    agents: BTreeMap<String, Agent>,
    runtimes: BTreeMap<String, Agent>,
}

/// A time field: an ISO 8601 string (the API and the CLI) or Unix seconds.
fn time(v: &Value, k: &str) -> Option<i64> {
    match v.get(k)? {
        Value::String(s) => parse_time(s),
        Value::Number(n) => n.as_f64().map(|s| (s * 1000.0) as i64),
        _ => None,
    }
}

impl Inventory {
    /// An agent from `ListAgents` (`agentSummaries[]`) or `GetAgent` (`agent`).
    fn agent(&mut self, v: &Value) -> Result<(), String> {
        let id = field(v, "agentId");
        if id.is_empty() {
            return Err("an agent without agentId".into());
        }
        let a = self.agents.entry(id.clone()).or_insert_with(|| Agent {
            platform: "bedrock-agent",
            id,
            ..Agent::default()
        });
        merge(a, v, "agentName", "agentStatus", "agentResourceRoleArn", "agentArn");
        push_fields(
            &mut a.attrs,
            v,
            &[
                ("foundation_model", "foundationModel"),
                ("agent_version", "agentVersion"),
                ("latest_agent_version", "latestAgentVersion"),
                ("description", "description"),
                ("orchestration_type", "orchestrationType"),
                ("agent_collaboration", "agentCollaboration"),
            ],
        );
        Ok(())
    }

    /// A runtime from `ListAgentRuntimes` (`agentRuntimes[]`) or `GetAgentRuntime`.
    fn runtime(&mut self, v: &Value) -> Result<(), String> {
        let id = field(v, "agentRuntimeId");
        if id.is_empty() {
            return Err("an agent runtime without agentRuntimeId".into());
        }
        let r = self.runtimes.entry(id.clone()).or_insert_with(|| Agent {
            platform: "agentcore-runtime",
            id,
            ..Agent::default()
        });
        merge(r, v, "agentRuntimeName", "status", "roleArn", "agentRuntimeArn");
        push_fields(
            &mut r.attrs,
            v,
            &[
                ("agent_runtime_version", "agentRuntimeVersion"),
                ("description", "description"),
            ],
        );
        if let Some(w) = v
            .pointer("/workloadIdentityDetails/workloadIdentityArn")
            .and_then(Value::as_str)
        {
            r.attrs.push(("workload_identity_arn".into(), w.into()));
        }
        if let Some(c) = v
            .pointer("/agentRuntimeArtifact/containerConfiguration/containerUri")
            .and_then(Value::as_str)
        {
            r.attrs.push(("container_uri".into(), c.into()));
        }
        if let Some(p) = v
            .pointer("/protocolConfiguration/serverProtocol")
            .and_then(Value::as_str)
        {
            r.attrs.push(("server_protocol".into(), p.into()));
        }
        Ok(())
    }

    fn emit(self, out: &mut Emitter) -> Result<(), Stop> {
        for a in self.agents.into_values().chain(self.runtimes.into_values()) {
            let mut attrs = vec![
                ("platform".to_string(), a.platform.to_string()),
                ("resource_id".into(), a.id.clone()),
            ];
            if !a.status.is_empty() {
                attrs.push(("status".into(), a.status.clone()));
            }
            if !a.role_arn.is_empty() {
                attrs.push(("role_arn".into(), a.role_arn.clone()));
            }
            // Later values of an attribute (the details) replace earlier ones (the listing).
            let mut extra: BTreeMap<String, String> = BTreeMap::new();
            extra.extend(a.attrs);
            attrs.extend(extra);
            if let Some(g) = a.action_groups {
                attrs.push(("action_groups".into(), g.join(", ")));
            }
            if let Some(k) = a.knowledge_bases {
                attrs.push(("knowledge_bases".into(), k.join(", ")));
            }
            let stopped = matches!(
                a.status.as_str(),
                "DELETING" | "FAILED" | "DELETE_FAILED" | "CREATE_FAILED"
            );
            out.identity(Identity {
                id: if a.arn.is_empty() { a.id } else { a.arn },
                kind: IdentityKind::Agent,
                name: a.name,
                created: a.created,
                last_used: None,
                enabled: Some(!stopped),
                owners: vec![],
                tags: vec![],
                trusted_by: vec![],
                attrs,
            })?;
        }
        Ok(())
    }
}

/// Sets the fields an agent and a runtime share, from the JSON names of one of them.
fn merge(a: &mut Agent, v: &Value, name: &str, status: &str, role: &str, arn: &str) {
    for (slot, key) in [
        (&mut a.name, name),
        (&mut a.status, status),
        (&mut a.role_arn, role),
        (&mut a.arn, arn),
    ] {
        let s = field(v, key);
        if !s.is_empty() {
            *slot = s;
        }
    }
    if let Some(t) = time(v, "createdAt") {
        a.created = Some(t);
    }
}

/// The items of an export: one response or an array of them, each either the object under
/// `one` (a get), a list under `many` (a list), or a bare item.
fn export_objects(f: &ExportFile, many: &str, one: Option<&str>) -> Result<Vec<Value>, ConnectorError> {
    let doc: Value =
        serde_json::from_slice(&f.data).map_err(|e| ConnectorError::Config(format!("{}: not JSON ({e})", f.name)))?;
    let docs = match doc {
        Value::Array(a) => a,
        v => vec![v],
    };
    let mut items = vec![];
    for d in docs {
        match d {
            Value::Object(mut m) => match (m.remove(many), one.and_then(|k| m.remove(k))) {
                (Some(Value::Array(list)), _) => items.extend(list),
                (Some(_), _) => return Err(ConnectorError::Config(format!("{}: `{many}` is not a list", f.name))),
                (None, Some(o @ Value::Object(_))) => items.push(o),
                (None, Some(_)) => {
                    return Err(ConnectorError::Config(format!(
                        "{}: `{}` is not an object",
                        f.name,
                        one.unwrap_or_default()
                    )));
                }
                (None, None) => items.push(Value::Object(m)),
            },
            _ => {
                return Err(ConnectorError::Config(format!(
                    "{}: an item is not a JSON object",
                    f.name
                )));
            }
        }
    }
    Ok(items)
}

fn read_files(inv: &mut Inventory, files: &[ExportFile]) -> Result<(), ConnectorError> {
    for f in files {
        let bad = |m: String| ConnectorError::Config(format!("{}: {m}", f.name));
        match f.format.as_str() {
            "agents" | "agent" => {
                for v in export_objects(f, "agentSummaries", Some("agent"))? {
                    inv.agent(&v).map_err(bad)?;
                }
            }
            "agent-runtimes" | "agent-runtime" => {
                for v in export_objects(f, "agentRuntimes", None)? {
                    inv.runtime(&v).map_err(bad)?;
                }
            }
            other => return Err(ConnectorError::Config(format!("{}: unknown format {other:?}", f.name))),
        }
    }
    Ok(())
}

/// Reads export files straight into records (the fuzz targets call this natively).
pub fn read_exports(out: &mut Emitter, files: &[ExportFile]) -> Result<(), ConnectorError> {
    let mut inv = Inventory::default();
    read_files(&mut inv, files)?;
    inv.emit(out).map_err(Stop::into_error)
}

/// What a failed part needs, for its note.
fn explain(permission: &'static str) -> impl Fn(Stop) -> Stop {
    move |s| match s {
        Stop::Failed(m) if m.starts_with("403 ") => Stop::Failed(format!("{m} (needs {permission})")),
        other => other,
    }
}

/// Calls `each` on every item of a list the API returns for a POST of `{"maxResults":..}`,
/// following `nextToken` (sent back in the body).
fn post_pages(base: &str, path: &str, items: &str, each: impl FnMut(&Value) -> Result<(), Stop>) -> Result<(), Stop> {
    let paging = PostPaging {
        token_in: "nextToken",
        token_out: "nextToken",
        items,
        omits_empty: false,
    };
    rest::post_pages(
        &format!("{base}{path}"),
        serde_json::json!({ "maxResults": 100 }),
        &paging,
        each,
    )
}

fn get(base: &str, path: &str) -> Result<Value, Stop> {
    let resp = http::get(&format!("{base}{path}"), &[("accept", "application/json")]).map_err(Stop::Failed)?;
    answer(resp, path)
}

/// One agent's details, action groups and knowledge bases; each failure a note.
fn agent_details(p: &mut Progress, inv: &mut Inventory, base: &str, id: &str) -> Result<(), Stop> {
    let path = format!("/agents/{}/", encode(id));
    let r = get(base, &path).and_then(|v| match v.get("agent") {
        Some(a) => inv.agent(a).map_err(|m| Stop::Failed(format!("{path}: {m}"))),
        None => Err(Stop::Failed(format!("{path}: no `agent` in the response"))),
    });
    p.part(&format!("agent {id}: GetAgent"), r.map_err(explain("bedrock:GetAgent")))?;
    let Some(a) = inv.agents.get_mut(id) else {
        return Ok(());
    };
    let version = a
        .attrs
        .iter()
        .rev()
        .find(|(k, _)| k == "agent_version")
        .map_or_else(|| "DRAFT".to_string(), |(_, v)| v.clone());
    let under = format!("/agents/{}/agentversions/{}", encode(id), encode(&version));
    let mut groups = vec![];
    let r = post_pages(base, &format!("{under}/actiongroups/"), "actionGroupSummaries", |g| {
        let name = field(g, "actionGroupName");
        let state = field(g, "actionGroupState");
        groups.push(if state.is_empty() {
            name
        } else {
            format!("{name} ({state})")
        });
        Ok(())
    });
    if r.is_ok() {
        a.action_groups = Some(groups);
    }
    p.part(
        &format!("agent {id}: action groups"),
        r.map_err(explain("bedrock:ListAgentActionGroups")),
    )?;
    let mut kbs = vec![];
    let r = post_pages(
        base,
        &format!("{under}/knowledgebases/"),
        "agentKnowledgeBaseSummaries",
        |k| {
            kbs.push(field(k, "knowledgeBaseId"));
            Ok(())
        },
    );
    if r.is_ok()
        && let Some(a) = inv.agents.get_mut(id)
    {
        a.knowledge_bases = Some(kbs);
    }
    p.part(
        &format!("agent {id}: knowledge bases"),
        r.map_err(explain("bedrock:ListAgentKnowledgeBases")),
    )
}

fn collect_api(p: &mut Progress, inv: &mut Inventory, cfg: &[(String, String)], base: &str) -> Result<(), Stop> {
    let r = post_pages(base, "/agents/", "agentSummaries", |v| {
        inv.agent(v).map_err(|m| Stop::Failed(format!("/agents/: {m}")))
    });
    p.part("Bedrock agents", r.map_err(explain("bedrock:ListAgents")))?;
    let ids: Vec<String> = inv.agents.keys().cloned().collect();
    for (n, id) in ids.iter().enumerate() {
        roster_connector_sdk::progress(n as u64, Some(ids.len() as u64), id);
        agent_details(p, inv, base, id)?;
    }
    let Some(ac) = setting(cfg, "endpoint_url.agentcore").map(|u| u.trim_end_matches('/')) else {
        return Ok(());
    };
    let r = post_pages(ac, "/runtimes/", "agentRuntimes", |v| {
        inv.runtime(v).map_err(|m| Stop::Failed(format!("/runtimes/: {m}")))
    });
    p.part(
        "AgentCore runtimes",
        r.map_err(explain("bedrock-agentcore:ListAgentRuntimes")),
    )?;
    let ids: Vec<String> = inv.runtimes.keys().cloned().collect();
    for id in &ids {
        let path = format!("/runtimes/{}/", encode(id));
        let r = get(ac, &path).and_then(|v| inv.runtime(&v).map_err(|m| Stop::Failed(format!("{path}: {m}"))));
        p.part(
            &format!("agent runtime {id}: GetAgentRuntime"),
            r.map_err(explain("bedrock-agentcore:GetAgentRuntime")),
        )?;
    }
    Ok(())
}

impl Guest for AwsBedrock {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            id: "aws-bedrock".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "AWS Bedrock Agents and AgentCore runtimes, with the roles they run as".into(),
            record_schema: 1,
        }
    }

    fn collect(request: CollectRequest) -> Result<CollectSummary, ConnectorError> {
        let cfg = &request.config;
        gather(
            &request,
            Inventory::default(),
            read_files,
            |p, inv, base| collect_api(p, inv, cfg, base),
            Inventory::emit,
        )
    }
}

export!(AwsBedrock);
