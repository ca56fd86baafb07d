//! The aws-bedrock connector: Bedrock agents and AgentCore runtimes made with the real AWS CLI
//! in moto (it emulates bedrock-agent and AgentCore control, but not the action group and
//! knowledge base listings: those answer 500, and each agent is kept with a note), the same
//! CLI's output read as exports, and `roster discover` joining an agent to the aws-iam record of
//! its resource role. The action groups and knowledge bases, with `nextToken` pages, a 429, a
//! 503 and a 403, come from a fixture server in the documented shapes, which also shows how each
//! request was signed.

use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::ROSTER;
use crate::collect_aws::aws_cli_as;
use roster_testkit::http::ok;
use roster_testkit::moto::Moto;
use roster_testkit::{Env, identity};

const TESTING: [(&str, &str); 2] = [("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")];
const ROLE: &str = "arn:aws:iam::123456789012:role/support-agent-role";
const MODEL: &str = "anthropic.claude-3-5-sonnet-20240620-v1:0";

fn cli(moto: &Moto, args: &[&str]) -> Value {
    serde_json::from_slice(&aws_cli_as(moto, &TESTING, args)).unwrap_or(Value::Null)
}

/// Runs roster with the moto test credential.
fn run(env: &Env, args: &[&str]) -> std::process::Output {
    let none = env.path("none");
    let none = none.to_str().unwrap();
    env.roster_env(
        args,
        &[
            TESTING[0],
            TESTING[1],
            ("AWS_CONFIG_FILE", none),
            ("AWS_SHARED_CREDENTIALS_FILE", none),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    )
}

#[test]
fn bedrock_agents_and_runtimes_from_moto_and_their_cli_exports() {
    let moto = Moto::start();
    // The agent's role: Bedrock may assume it, and it has full administrative access.
    cli(
        &moto,
        &[
            "iam",
            "create-role",
            "--role-name",
            "support-agent-role",
            "--assume-role-policy-document",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"bedrock.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        ],
    );
    let policy = cli(
        &moto,
        &[
            "iam",
            "create-policy",
            "--policy-name",
            "AdministratorAccess",
            "--policy-document",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        ],
    );
    let policy_arn = policy["Policy"]["Arn"].as_str().unwrap();
    cli(
        &moto,
        &[
            "iam",
            "attach-role-policy",
            "--role-name",
            "support-agent-role",
            "--policy-arn",
            policy_arn,
        ],
    );
    let agent = cli(
        &moto,
        &[
            "bedrock-agent",
            "create-agent",
            "--agent-name",
            "support-agent",
            "--agent-resource-role-arn",
            ROLE,
            "--foundation-model",
            MODEL,
        ],
    );
    let agent_id = agent["agent"]["agentId"].as_str().unwrap().to_string();
    let agent_arn = agent["agent"]["agentArn"].as_str().unwrap().to_string();
    let runtime = cli(
        &moto,
        &[
            "bedrock-agentcore-control",
            "create-agent-runtime",
            "--agent-runtime-name",
            "triage_runtime",
            "--agent-runtime-artifact",
            r#"{"containerConfiguration":{"containerUri":"123456789012.dkr.ecr.us-east-1.amazonaws.com/triage:1"}}"#,
            "--role-arn",
            ROLE,
            "--network-configuration",
            r#"{"networkMode":"PUBLIC"}"#,
        ],
    );
    let runtime_id = runtime["agentRuntimeId"].as_str().unwrap().to_string();
    let runtime_arn = runtime["agentRuntimeArn"].as_str().unwrap().to_string();

    let env = Env::new(ROSTER);
    // The CLI's output of the four reads, as a consultant would be handed them.
    let export = |name: &str, args: &[&str]| {
        env.write(&format!("exports/{name}.json"), aws_cli_as(&moto, &TESTING, args));
    };
    export("agents", &["bedrock-agent", "list-agents"]);
    export("agent", &["bedrock-agent", "get-agent", "--agent-id", &agent_id]);
    export("agent-runtimes", &["bedrock-agentcore-control", "list-agent-runtimes"]);
    export(
        "agent-runtime",
        &[
            "bedrock-agentcore-control",
            "get-agent-runtime",
            "--agent-runtime-id",
            &runtime_id,
        ],
    );
    let files = ["agents", "agent", "agent-runtimes", "agent-runtime"]
        .map(|f| format!("{{ path = \"exports/{f}.json\", format = \"{f}\" }}"))
        .join(", ");
    env.write(
        "roster.toml",
        format!(
            "[[source]]\nname = \"aws\"\nconnector = \"aws-iam\"\nendpoint_url = \"{url}\"\nregion = \"us-east-1\"\n\
             credential_report = false\n\n\
             [[source]]\nname = \"bedrock\"\nconnector = \"aws-bedrock\"\nendpoint_url = \"{url}\"\nregion = \"us-east-1\"\n\
             http_retries = 0\n\n\
             [[source]]\nname = \"bedrock-files\"\nconnector = \"aws-bedrock\"\napi = false\nfiles = [{files}]\n",
            url = moto.url
        ),
    );
    let out = run(&env, &["collect", "--config", "roster.toml", "--format", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert_eq!(
        out.status.code(),
        Some(3),
        "moto does not list action groups: incomplete; {stderr}"
    );

    for source in ["bedrock", "bedrock-files"] {
        let of = |id: &str| -> Value {
            report["identities"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["id"] == id && i["source"] == source)
                .unwrap_or_else(|| panic!("no {id} from {source}: {:#}", report["identities"]))
                .clone()
        };
        let a = of(&agent_arn);
        assert_eq!(a["kind"], "agent");
        assert_eq!(a["name"], "support-agent");
        assert_eq!(a["enabled"], true);
        assert_eq!(a["attrs"]["platform"], "bedrock-agent");
        assert_eq!(a["attrs"]["resource_id"], agent_id.as_str());
        assert_eq!(a["attrs"]["foundation_model"], MODEL);
        assert_eq!(a["attrs"]["role_arn"], ROLE);
        assert_eq!(a["attrs"]["status"], "PREPARED");
        assert!(a["created"].as_str().is_some_and(|c| c.starts_with("20")), "{a:#}");
        let r = of(&runtime_arn);
        assert_eq!(r["kind"], "agent");
        assert_eq!(r["name"], "triage_runtime");
        assert_eq!(r["attrs"]["platform"], "agentcore-runtime");
        assert_eq!(r["attrs"]["role_arn"], ROLE);
        assert_eq!(
            r["attrs"]["container_uri"],
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/triage:1"
        );
    }
    // The listings moto does not serve: a note each, the agent kept without them.
    let runs = report["connectors"].as_array().unwrap();
    let bedrock = runs.iter().find(|c| c["source"] == "bedrock").unwrap();
    let notes = bedrock["notes"].to_string();
    assert!(
        notes.contains(&format!("agent {agent_id}: action groups")) && notes.contains("knowledge bases"),
        "{bedrock:#}"
    );
    assert!(identity(&report, &agent_arn)["attrs"].get("action_groups").is_none());
    let files_run = runs.iter().find(|c| c["source"] == "bedrock-files").unwrap();
    assert_eq!(files_run["status"], "complete", "{files_run:#}");

    // Each request signed as its service: moto dispatches on the signing name, so the runtimes
    // were only found because AgentCore requests were signed for bedrock-agentcore.
    let audit = std::fs::read_to_string(env.state().join("audit.jsonl")).unwrap();
    assert!(audit.contains("AWS SigV4 (bedrock, us-east-1)"), "{audit}");
    assert!(audit.contains("AWS SigV4 (bedrock-agentcore, us-east-1)"), "{audit}");
    assert!(audit.lines().all(|l| l.contains("\"outcome\":\"allowed\"")), "{audit}");

    // discover: the agent is in no registry, and the role it acts as is an administrator
    // (moto's missing listings leave the run incomplete, which discover accepts when told).
    let out = run(
        &env,
        &[
            "discover",
            "--config",
            "roster.toml",
            "--output-dir",
            "out",
            "--allow-incomplete",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&std::fs::read(env.path("out/report.json")).unwrap()).unwrap();
    let gaps = report["gaps"].as_array().unwrap();
    let gap = |kind: &str, name: &str| roster_testkit::gap(&report, kind, name).cloned();
    assert!(gap("unregistered-agent", "support-agent").is_some(), "{gaps:#?}");
    let over = gap("over-privileged-agent", "support-agent-role").unwrap_or_else(|| panic!("{gaps:#?}"));
    let evidence = over["evidence"].to_string();
    assert!(
        evidence.contains("agent `support-agent`") && evidence.contains("AdministratorAccess"),
        "{over:#}"
    );
    assert!(
        gap("unregistered-agent", "support-agent-role").is_none(),
        "the agent acting as the role raises it: {gaps:#?}"
    );
}

/// An AWS error body (restJson1).
fn aws_error(status: u16, kind: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("x-amzn-errortype", kind)
        .set_body_json(json!({ "message": message }))
}

#[tokio::test]
async fn bedrock_action_groups_and_knowledge_bases_from_documented_shapes() {
    let server = MockServer::start().await;
    let post = |p: &str| Mock::given(method("POST")).and(path(p.to_string()));
    let get = |p: &str| Mock::given(method("GET")).and(path(p.to_string()));
    // ListAgents: page 1 after a 429 and a 503, page 2 through nextToken.
    for (priority, answer) in [
        (
            1,
            aws_error(429, "ThrottlingException", "Rate exceeded").insert_header("retry-after", "0"),
        ),
        (2, aws_error(503, "ServiceUnavailableException", "try again")),
    ] {
        post("/agents/")
            .respond_with(answer)
            .up_to_n_times(1)
            .with_priority(priority)
            .mount(&server)
            .await;
    }
    post("/agents/")
        .and(body_partial_json(json!({"nextToken": "page-2"})))
        .respond_with(ok(
            json!({"agentSummaries": [{"agentId": "AGENT00002", "agentName": "billing-helper",
            "agentStatus": "NOT_PREPARED", "latestAgentVersion": "DRAFT", "updatedAt": "2026-11-02T09:00:00Z"}]}),
        ))
        .with_priority(3)
        .mount(&server)
        .await;
    post("/agents/")
        .respond_with(ok(
            json!({"agentSummaries": [{"agentId": "AGENT00001", "agentName": "support-agent",
            "agentStatus": "PREPARED", "latestAgentVersion": "2", "updatedAt": "2026-11-01T09:00:00Z"}],
            "nextToken": "page-2"}),
        ))
        .with_priority(4)
        .mount(&server)
        .await;
    for (id, name, role) in [
        (
            "AGENT00001",
            "support-agent",
            "arn:aws:iam::123456789012:role/support-agent-role",
        ),
        (
            "AGENT00002",
            "billing-helper",
            "arn:aws:iam::123456789012:role/billing-role",
        ),
    ] {
        get(&format!("/agents/{id}/"))
            .respond_with(ok(json!({"agent": {"agentId": id, "agentName": name,
                "agentArn": format!("arn:aws:bedrock:us-east-1:123456789012:agent/{id}"),
                "agentVersion": "DRAFT", "agentStatus": "PREPARED", "foundationModel": MODEL,
                "agentResourceRoleArn": role, "createdAt": "2026-10-01T08:00:00Z",
                "updatedAt": "2026-11-01T09:00:00Z", "idleSessionTTLInSeconds": 600}})))
            .mount(&server)
            .await;
    }
    const GROUPS: &str = "/agents/AGENT00001/agentversions/DRAFT/actiongroups/";
    const KBS: &str = "/agents/AGENT00001/agentversions/DRAFT/knowledgebases/";
    post(GROUPS)
        .and(body_partial_json(json!({"nextToken": "groups-2"})))
        .respond_with(ok(
            json!({"actionGroupSummaries": [{"actionGroupId": "AG2", "actionGroupName": "refunds",
            "actionGroupState": "DISABLED", "updatedAt": "2026-11-01T09:00:00Z"}]}),
        ))
        .with_priority(1)
        .mount(&server)
        .await;
    post(GROUPS)
        .respond_with(ok(
            json!({"actionGroupSummaries": [{"actionGroupId": "AG1", "actionGroupName": "lookup-order",
            "actionGroupState": "ENABLED", "description": "reads orders", "updatedAt": "2026-11-01T09:00:00Z"}],
            "nextToken": "groups-2"}),
        ))
        .with_priority(2)
        .mount(&server)
        .await;
    post(KBS)
        .respond_with(aws_error(500, "InternalServerException", "oops"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    post(KBS)
        .respond_with(ok(
            json!({"agentKnowledgeBaseSummaries": [{"knowledgeBaseId": "KB00001",
            "knowledgeBaseState": "ENABLED", "updatedAt": "2026-11-01T09:00:00Z"}]}),
        ))
        .with_priority(2)
        .mount(&server)
        .await;
    // The second agent's action groups are refused: a note, the agent kept.
    post("/agents/AGENT00002/agentversions/DRAFT/actiongroups/")
        .respond_with(aws_error(
            403,
            "AccessDeniedException",
            "User is not authorized to perform: bedrock:ListAgentActionGroups",
        ))
        .mount(&server)
        .await;
    post("/agents/AGENT00002/agentversions/DRAFT/knowledgebases/")
        .respond_with(ok(json!({"agentKnowledgeBaseSummaries": []})))
        .mount(&server)
        .await;
    post("/runtimes/")
        .respond_with(ok(json!({"agentRuntimes": [{"agentRuntimeArn":
            "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/triage-AbC123", "agentRuntimeId": "triage-AbC123",
            "agentRuntimeName": "triage", "agentRuntimeVersion": "3", "status": "READY",
            "lastUpdatedAt": "2026-11-03T10:00:00Z", "description": "ticket triage"}]})))
        .mount(&server)
        .await;
    get("/runtimes/triage-AbC123/")
        .respond_with(ok(json!({"agentRuntimeArn": "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/triage-AbC123",
            "agentRuntimeId": "triage-AbC123", "agentRuntimeName": "triage", "agentRuntimeVersion": "3",
            "roleArn": "arn:aws:iam::123456789012:role/triage-runtime", "status": "READY",
            "createdAt": "2026-09-01T00:00:00Z", "lastUpdatedAt": "2026-11-03T10:00:00Z",
            "networkConfiguration": {"networkMode": "PUBLIC"},
            "protocolConfiguration": {"serverProtocol": "MCP"},
            "workloadIdentityDetails": {"workloadIdentityArn": "arn:aws:bedrock-agentcore:us-east-1:123456789012:workload-identity-directory/default/workload-identity/triage"}})))
        .mount(&server)
        .await;
    let secret = "fixtureSecretKeyForBedrockTests0123456789";
    let config = format!(
        "[[source]]\nname = \"bedrock\"\nconnector = \"aws-bedrock\"\nendpoint_url = \"{}\"\nregion = \"eu-west-1\"\nhttp_retries = 3\n",
        server.uri()
    );
    let (env, code, report, stderr) = Env::new(ROSTER)
        .collect_json(
            config,
            vec![
                ("AWS_ACCESS_KEY_ID", "AKIAFIXTUREBEDROCK01".into()),
                ("AWS_SECRET_ACCESS_KEY", secret.into()),
                ("AWS_CONFIG_FILE", "/dev/null".into()),
                ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
                ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ],
        )
        .await;
    assert_eq!(code, 3, "a refused listing leaves the run incomplete: {stderr}");
    let support = identity(&report, "arn:aws:bedrock:us-east-1:123456789012:agent/AGENT00001");
    assert_eq!(support["name"], "support-agent");
    assert_eq!(support["created"], "2026-10-01T08:00:00Z");
    assert_eq!(
        support["attrs"]["action_groups"],
        "lookup-order (ENABLED), refunds (DISABLED)"
    );
    assert_eq!(support["attrs"]["knowledge_bases"], "KB00001", "read after a 500");
    assert_eq!(
        support["attrs"]["role_arn"],
        "arn:aws:iam::123456789012:role/support-agent-role"
    );
    let billing = identity(&report, "arn:aws:bedrock:us-east-1:123456789012:agent/AGENT00002");
    assert_eq!(
        billing["attrs"]["status"], "PREPARED",
        "the details win over the listing"
    );
    assert!(billing["attrs"].get("action_groups").is_none(), "{billing:#}");
    assert_eq!(billing["attrs"]["knowledge_bases"], "");
    let triage = identity(
        &report,
        "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/triage-AbC123",
    );
    assert_eq!(
        triage["attrs"]["role_arn"],
        "arn:aws:iam::123456789012:role/triage-runtime"
    );
    assert_eq!(triage["attrs"]["server_protocol"], "MCP");
    assert_eq!(triage["created"], "2026-09-01T00:00:00Z");
    let notes = report["connectors"][0]["notes"].to_string();
    assert!(
        notes.contains("agent AGENT00002: action groups: 403") && notes.contains("needs bedrock:ListAgentActionGroups"),
        "{notes}"
    );
    assert_eq!(report["connectors"][0]["notes"].as_array().unwrap().len(), 1, "{notes}");

    // What the server received: every request signed, Agents as `bedrock` and AgentCore as
    // `bedrock-agentcore`, in the source's region; page 2 asked for by its token.
    let got = server.received_requests().await.unwrap();
    assert!(
        got.iter()
            .all(|r| r.method.as_str() == "GET" || r.method.as_str() == "POST")
    );
    for r in &got {
        let auth = r.headers["authorization"].to_str().unwrap();
        let service = if r.url.path().starts_with("/runtimes/") {
            "bedrock-agentcore"
        } else {
            "bedrock"
        };
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIAFIXTUREBEDROCK01/")
                && auth.contains(&format!("/eu-west-1/{service}/aws4_request")),
            "{} {}: {auth}",
            r.method,
            r.url
        );
    }
    let count = |p: &str| got.iter().filter(|r| r.url.path() == p).count();
    assert_eq!(count("/agents/"), 4, "page 1 after a 429 and a 503, then page 2");
    assert_eq!(count(GROUPS), 2);
    assert_eq!(count(KBS), 2, "retried after the 500");
    assert_eq!(
        count("/agents/AGENT00002/agentversions/DRAFT/actiongroups/"),
        1,
        "a 403 is not retried"
    );
    let second: Value = got
        .iter()
        .filter(|r| r.url.path() == "/agents/")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .next_back()
        .unwrap();
    assert_eq!(second, json!({"maxResults": 100, "nextToken": "page-2"}));
    env.assert_state_holds_none(&[secret]);
}
