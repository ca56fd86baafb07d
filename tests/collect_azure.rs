//! `roster collect` with the azure-rbac connector against a fixture server in Azure Resource
//! Manager's documented shapes (role assignments and definitions, Cognitive Services accounts,
//! Machine Learning workspaces; `nextLink` paging, a 429 with Retry-After, a 503, a 403 on one
//! subscription), with the ARM token minted by the host; and from `az` CLI exports, joined to
//! Entra's record of the same service principal in `roster discover`.

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::ROSTER;
use crate::collect_entra::token_endpoint;
use roster_testkit::http::ok;
use roster_testkit::{Env, identity};

const SUB1: &str = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
const SUB2: &str = "0b1f6471-1bf0-4dda-aec3-cb9272f09591";
const APP_ID: &str = "2b5c7e1a-4c3d-4e5f-8a9b-0c1d2e3f4a5b";
/// A service principal (an app's) with Owner on SUB1 and a role on the OpenAI account.
const AGENT: &str = "5d1c2f3a-7b8e-4c9d-a0b1-c2d3e4f5a001";
/// The OpenAI account's system-assigned managed identity.
const OPENAI_MI: &str = "5d1c2f3a-7b8e-4c9d-a0b1-c2d3e4f5a002";
/// Contributor and a custom `*` role on a resource group.
const DEPLOYER: &str = "5d1c2f3a-7b8e-4c9d-a0b1-c2d3e4f5a003";
/// The AI Foundry hub's managed identity, Reader on its resource group.
const HUB_MI: &str = "5d1c2f3a-7b8e-4c9d-a0b1-c2d3e4f5a004";
/// A person with Owner: not a service principal, left out.
const USER: &str = "5d1c2f3a-7b8e-4c9d-a0b1-c2d3e4f5b001";

const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
const OPENAI_USER: &str = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd";
const CUSTOM: &str = "7f9e2b1c-1111-4a2b-9c3d-4e5f6a7b8c9d";

fn account_id() -> String {
    format!("/subscriptions/{SUB1}/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/oai-chat")
}

/// A role assignment as ARM returns it.
fn assignment(n: u32, principal: &str, ty: &str, role: &str, scope: &str) -> Value {
    json!({"id": format!("{scope}/providers/Microsoft.Authorization/roleAssignments/00000000-0000-4000-8000-00000000000{n}"),
        "name": format!("00000000-0000-4000-8000-00000000000{n}"), "type": "Microsoft.Authorization/roleAssignments",
        "properties": {"roleDefinitionId": format!("/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleDefinitions/{role}"),
            "principalId": principal, "principalType": ty, "scope": scope, "condition": null, "conditionVersion": null,
            "createdOn": "2026-03-01T10:00:00.0000000Z", "updatedOn": "2026-03-01T10:00:00.0000000Z",
            "createdBy": "d93a2b3c-0000-4000-8000-000000000001", "updatedBy": "d93a2b3c-0000-4000-8000-000000000001",
            "delegatedManagedIdentityResourceId": null, "description": null}})
}

/// A role definition as ARM returns it.
fn definition(id: &str, name: &str, ty: &str, actions: &[&str]) -> Value {
    json!({"id": format!("/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleDefinitions/{id}"),
        "name": id, "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {"roleName": name, "type": ty, "description": format!("{name} (fixture)"),
            "assignableScopes": ["/"], "permissions": [{"actions": actions, "notActions": [],
            "dataActions": [], "notDataActions": []}]}})
}

fn openai_account() -> Value {
    json!({"id": account_id(), "name": "oai-chat", "type": "Microsoft.CognitiveServices/accounts",
        "kind": "OpenAI", "location": "eastus", "sku": {"name": "S0"}, "etag": "\"0a00c9c4-0000-0100-0000-6540cf0b0000\"",
        "identity": {"type": "SystemAssigned", "principalId": OPENAI_MI, "tenantId": "72f988bf-0000-0000-0000-000000000000"},
        "properties": {"endpoint": "https://oai-chat.openai.azure.com/", "provisioningState": "Succeeded",
            "customSubDomainName": "oai-chat", "publicNetworkAccess": "Enabled"}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_rbac_reads_role_assignments_per_subscription_with_the_hosts_arm_token() {
    const SECRET: &str = "fixture-arm-client-secret";
    const MINTED: &str = "minted.arm.access.token";
    let (sts, port, ca) = token_endpoint(MINTED).await;
    let arm = MockServer::start().await;
    let uri = arm.uri();
    let auth = || wiremock::matchers::header("authorization", format!("Bearer {MINTED}").as_str());
    let sub = |p: &str| format!("/subscriptions/{SUB1}/providers/{p}");
    let assignments = sub("Microsoft.Authorization/roleAssignments");

    Mock::given(method("GET"))
        .and(path(sub("Microsoft.Authorization/roleDefinitions")))
        .and(query_param("api-version", "2022-04-01"))
        .and(auth())
        .respond_with(ok(json!({"value": [
            definition(OWNER, "Owner", "BuiltInRole", &["*"]),
            definition(CONTRIBUTOR, "Contributor", "BuiltInRole", &["*"]),
            definition(READER, "Reader", "BuiltInRole", &["*/read"]),
            definition(OPENAI_USER, "Cognitive Services OpenAI User", "BuiltInRole",
                &["Microsoft.CognitiveServices/*/read"]),
            definition(CUSTOM, "Deployer (custom)", "CustomRole", &["*"])]})))
        .mount(&arm)
        .await;
    // Role assignments: a 429 first, then two pages linked by nextLink.
    Mock::given(method("GET"))
        .and(path(assignments.as_str()))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(json!({"error": {"code": "TooManyRequests",
                    "message": "The request is being throttled as the limit has been reached for operation type - Read_ObservationWindow_00:05:00."}})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&arm)
        .await;
    Mock::given(method("GET"))
        .and(path(assignments.as_str()))
        .and(query_param("api-version", "2022-04-01"))
        .and(query_param_is_missing("$skiptoken"))
        .and(auth())
        .respond_with(ok(json!({
            "value": [assignment(1, AGENT, "ServicePrincipal", OWNER, &format!("/subscriptions/{SUB1}")),
                assignment(2, USER, "User", OWNER, &format!("/subscriptions/{SUB1}"))],
            "nextLink": format!("{uri}{assignments}?api-version=2022-04-01&$skiptoken=page2")})))
        .mount(&arm)
        .await;
    let rg_app = format!("/subscriptions/{SUB1}/resourceGroups/rg-app");
    Mock::given(method("GET"))
        .and(path(assignments.as_str()))
        .and(query_param("$skiptoken", "page2"))
        .and(auth())
        .respond_with(ok(json!({"value": [
            assignment(3, OPENAI_MI, "ServicePrincipal", READER, &format!("/subscriptions/{SUB1}/resourceGroups/rg-ai")),
            assignment(4, DEPLOYER, "ServicePrincipal", CONTRIBUTOR, &rg_app),
            assignment(5, DEPLOYER, "ServicePrincipal", CUSTOM, &rg_app),
            assignment(6, HUB_MI, "ServicePrincipal", READER, &format!("/subscriptions/{SUB1}/resourceGroups/rg-ai")),
            assignment(7, AGENT, "ServicePrincipal", OPENAI_USER, &account_id())]})))
        .mount(&arm)
        .await;
    // Cognitive Services accounts: a 503 first.
    let accounts = sub("Microsoft.CognitiveServices/accounts");
    Mock::given(method("GET"))
        .and(path(accounts.as_str()))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&arm)
        .await;
    Mock::given(method("GET"))
        .and(path(accounts.as_str()))
        .and(query_param("api-version", "2024-10-01"))
        .and(auth())
        .respond_with(ok(json!({"value": [openai_account(),
            {"id": format!("/subscriptions/{SUB1}/resourceGroups/rg-app/providers/Microsoft.CognitiveServices/accounts/ocr"),
             "name": "ocr", "kind": "FormRecognizer", "identity": {"type": "None"}}]})))
        .mount(&arm)
        .await;
    Mock::given(method("GET"))
        .and(path(sub("Microsoft.MachineLearningServices/workspaces")))
        .and(query_param("api-version", "2024-10-01"))
        .and(auth())
        .respond_with(ok(json!({"value": [
            {"id": format!("/subscriptions/{SUB1}/resourceGroups/rg-ai/providers/Microsoft.MachineLearningServices/workspaces/foundry-hub"),
             "name": "foundry-hub", "type": "Microsoft.MachineLearningServices/workspaces", "kind": "Hub",
             "location": "eastus", "identity": {"type": "SystemAssigned", "principalId": HUB_MI, "tenantId": "72f988bf-0000-0000-0000-000000000000"},
             "properties": {"friendlyName": "Foundry hub"}}]})))
        .mount(&arm)
        .await;
    // The second subscription refuses the reader.
    Mock::given(method("GET"))
        .and(path_regex(format!("^/subscriptions/{SUB2}/")))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error": {"code": "AuthorizationFailed",
            "message": format!("The client 'roster-reader' does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/read' over scope '/subscriptions/{SUB2}' or the scope is invalid.")}})))
        .mount(&arm)
        .await;

    let (env, code, report, stderr) = Env::new(ROSTER)
        .collect_json(
            format!(
                "[[source]]\nname = \"azure\"\nconnector = \"azure-rbac\"\nendpoint_url = \"{uri}\"\nhttp_retries = 2\n\
                 subscriptions = [\"{SUB1}\", \"{SUB2}\"]\nauth = \"client-secret\"\ntenant_id = \"contoso.onmicrosoft.com\"\n\
                 client_id = \"{APP_ID}\"\nauthority_host = \"https://127.0.0.1:{port}\"\nca_file = \"{}\"\n",
                ca.path().display()
            ),
            vec![("AZURE_CLIENT_SECRET", SECRET.to_string())],
        )
        .await;
    assert_eq!(code, 3, "an incomplete run exits 3: {stderr}");
    let run = &report["connectors"][0];
    assert_eq!(run["status"], "incomplete", "{run:#}");
    let notes: Vec<&str> = run["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(notes.len(), 4, "each list of the second subscription: {notes:#?}");
    for n in &notes {
        assert!(
            n.starts_with(&format!("subscription {SUB2}: ")) && n.contains("403") && n.contains("Reader role"),
            "{n}"
        );
    }

    // The first subscription is kept whole: both pages, after the 429 and the 503.
    let agent = identity(&report, AGENT);
    assert_eq!(agent["kind"], "service-principal");
    assert_eq!(agent["attrs"]["entra_object_id"], AGENT);
    assert_eq!(
        agent["attrs"]["ai_platform"], "azure-openai",
        "a role on the OpenAI account"
    );
    let perms = agent["permissions"].as_array().unwrap();
    let owner = perms.iter().find(|p| p["name"] == "Owner").unwrap();
    assert_eq!(owner["kind"], "iam-role");
    assert_eq!(owner["resources"], json!([format!("/subscriptions/{SUB1}")]));
    assert_eq!(owner["attrs"]["admin"], "true");
    assert_eq!(owner["attrs"]["scope_level"], "subscription");
    let openai = perms
        .iter()
        .find(|p| p["name"] == "Cognitive Services OpenAI User")
        .unwrap();
    assert_eq!(openai["resources"], json!([account_id()]));
    assert_eq!(openai["attrs"]["scope_level"], "resource");

    let mi = identity(&report, OPENAI_MI);
    assert_eq!(mi["kind"], "managed-identity");
    assert_eq!(mi["name"], "oai-chat (system-assigned managed identity)");
    assert_eq!(mi["attrs"]["ai_platform"], "azure-openai");
    let hub = identity(&report, HUB_MI);
    assert_eq!(hub["attrs"]["ai_platform"], "azure-ai-foundry");

    let deployer = identity(&report, DEPLOYER);
    assert!(deployer["attrs"].get("ai_platform").is_none(), "{deployer:#}");
    let perms = deployer["permissions"].as_array().unwrap();
    let contributor = perms.iter().find(|p| p["name"] == "Contributor").unwrap();
    assert_eq!(
        contributor["attrs"]["broad"],
        "write access to every resource under its scope"
    );
    assert_eq!(contributor["attrs"]["scope_level"], "resource-group");
    let custom = perms.iter().find(|p| p["name"] == "Deployer (custom)").unwrap();
    assert_eq!(custom["attrs"]["wildcard_actions"], "*");

    let ids: Vec<&str> = report["identities"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert!(
        !ids.contains(&USER),
        "a person's assignment is not an identity: {ids:?}"
    );
    assert_eq!(ids.len(), 4, "{ids:?}");

    // What ARM received: every request with the host's ARM token, the documented api-versions,
    // no $filter (all scopes at and below each subscription), the second page, the retries.
    let got = arm.received_requests().await.unwrap();
    assert!(
        got.iter()
            .all(|r| r.headers["authorization"] == format!("Bearer {MINTED}")[..])
    );
    assert!(
        got.iter()
            .all(|r| !r.url.query().unwrap_or_default().contains("filter"))
    );
    let count = |p: &str| got.iter().filter(|r| r.url.path() == p).count();
    assert_eq!(count(&assignments), 3, "429, then two pages");
    assert_eq!(count(&accounts), 2, "503, then the list");
    assert_eq!(
        got.iter()
            .filter(|r| r.url.path().starts_with(&format!("/subscriptions/{SUB2}/")))
            .count(),
        4,
        "a 403 is not retried"
    );
    let minted = sts.received_requests().await.unwrap();
    assert_eq!(minted.len(), 1, "one token for the run");
    let form = String::from_utf8_lossy(&minted[0].body).into_owned();
    for part in [
        "grant_type=client_credentials".to_string(),
        format!("client_id={APP_ID}"),
        "scope=https%3A%2F%2Fmanagement.azure.com%2F.default".to_string(),
    ] {
        assert!(form.contains(&part), "{part} not in {form}");
    }
    let out = serde_json::to_string(&report).unwrap() + &stderr;
    for s in [SECRET, MINTED] {
        assert!(!out.contains(s));
    }
    env.assert_state_holds_none(&[SECRET, MINTED]);
    let audit = std::fs::read_to_string(env.state().join("audit.jsonl")).unwrap();
    assert!(
        audit.contains(&format!(
            "Authorization: Bearer <Entra ID token, client secret of app {APP_ID}>"
        )),
        "{audit}"
    );

    // A token from the environment (`auth = "token"`) that ARM no longer accepts: 401, the
    // source fails and says so.
    const EXPIRED: &str = "expired.arm.token";
    let refused = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"error": {"code": "ExpiredAuthenticationToken",
            "message": "The access token expiry UTC time is earlier than current UTC time."}})),
        )
        .mount(&refused)
        .await;
    let (_env, code, report, _stderr) = Env::new(ROSTER)
        .collect_json(
            format!(
                "[[source]]\nname = \"azure\"\nconnector = \"azure-rbac\"\nendpoint_url = \"{}\"\nsubscriptions = \"{SUB1}\"\n",
                refused.uri()
            ),
            vec![("AZURE_ARM_ACCESS_TOKEN", EXPIRED.to_string())],
        )
        .await;
    assert_ne!(code, 0);
    let run = &report["connectors"][0];
    assert_eq!(run["status"], "failed", "{run:#}");
    assert!(run.to_string().contains("ExpiredAuthenticationToken"), "{run:#}");
    let got = refused.received_requests().await.unwrap();
    assert_eq!(got.len(), 1, "a 401 ends the source");
    assert_eq!(got[0].headers["authorization"], format!("Bearer {EXPIRED}")[..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_rbac_reads_az_exports_and_joins_entras_record_of_the_same_principal() {
    let env = Env::new(ROSTER);
    // `az role assignment list --all --include-inherited -o json`: flattened, with names.
    let cli = |n: u32, principal: &str, role: &str, role_name: &str, scope: &str| {
        json!({"condition": null, "conditionVersion": null, "createdBy": "d93a2b3c-0000-4000-8000-000000000001",
            "createdOn": "2026-03-01T10:00:00.000000+00:00", "delegatedManagedIdentityResourceId": null,
            "description": null, "id": format!("{scope}/providers/Microsoft.Authorization/roleAssignments/00000000-0000-4000-8000-00000000001{n}"),
            "name": format!("00000000-0000-4000-8000-00000000001{n}"), "principalId": principal,
            "principalName": APP_ID, "principalType": "ServicePrincipal",
            "roleDefinitionId": format!("/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleDefinitions/{role}"),
            "roleDefinitionName": role_name, "scope": scope, "type": "Microsoft.Authorization/roleAssignments",
            "updatedBy": "d93a2b3c-0000-4000-8000-000000000001", "updatedOn": "2026-03-01T10:00:00.000000+00:00"})
    };
    env.write(
        "exports/assignments.json",
        json!([
            cli(1, AGENT, OWNER, "Owner", &format!("/subscriptions/{SUB1}")),
            cli(2, AGENT, OPENAI_USER, "Cognitive Services OpenAI User", &account_id()),
            // Built-in roles that grant roles, known by id alone (no definition exported).
            cli(
                3,
                AGENT,
                "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
                "User Access Administrator",
                &format!("/subscriptions/{SUB1}/resourceGroups/rg-a")
            ),
            cli(
                4,
                AGENT,
                "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
                "Role Based Access Control Administrator",
                &format!("/subscriptions/{SUB1}/resourceGroups/rg-b")
            ),
            // Custom roles: one may write role assignments, one allows `*` but not that.
            cli(
                5,
                AGENT,
                "0c0c0c0c-0000-4000-8000-00000000000a",
                "access-granter",
                &format!("/subscriptions/{SUB1}/resourceGroups/rg-c")
            ),
            cli(
                6,
                AGENT,
                "0c0c0c0c-0000-4000-8000-00000000000b",
                "almost-contributor",
                &format!("/subscriptions/{SUB1}/resourceGroups/rg-d")
            )
        ])
        .to_string(),
    );
    // `az role definition list -o json`.
    env.write(
        "exports/definitions.json",
        json!([{"assignableScopes": ["/"], "description": "Grants full access to manage all resources.",
            "id": format!("/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleDefinitions/{OWNER}"),
            "name": OWNER, "permissions": [{"actions": ["*"], "dataActions": [], "notActions": [], "notDataActions": []}],
            "roleName": "Owner", "roleType": "BuiltInRole", "type": "Microsoft.Authorization/roleDefinitions"},
            {"assignableScopes": [format!("/subscriptions/{SUB1}")], "name": "0c0c0c0c-0000-4000-8000-00000000000a",
             "permissions": [{"actions": ["Microsoft.Authorization/roleAssignments/*", "Microsoft.Resources/subscriptions/resourceGroups/read"],
                 "notActions": [], "dataActions": [], "notDataActions": []}],
             "roleName": "access-granter", "roleType": "CustomRole", "type": "Microsoft.Authorization/roleDefinitions"},
            {"assignableScopes": [format!("/subscriptions/{SUB1}")], "name": "0c0c0c0c-0000-4000-8000-00000000000b",
             "permissions": [{"actions": ["*"], "notActions": ["Microsoft.Authorization/*/Write", "Microsoft.Authorization/*/Delete"],
                 "dataActions": [], "notDataActions": []}],
             "roleName": "almost-contributor", "roleType": "CustomRole", "type": "Microsoft.Authorization/roleDefinitions"}])
        .to_string(),
    );
    // `az cognitiveservices account list -o json`.
    env.write("exports/ai.json", json!([openai_account()]).to_string());
    // Entra's record of the same service principal (Graph's shape), with no owner.
    env.write(
        "exports/sps.json",
        json!({"value": [{"id": AGENT, "appId": APP_ID, "displayName": "chat-agent",
            "servicePrincipalType": "Application", "accountEnabled": true, "appOwnerOrganizationId": "contoso-tenant",
            "passwordCredentials": [], "keyCredentials": [], "owners": []}]})
        .to_string(),
    );
    env.write(
        "exports/broken.json",
        json!([{"principalType": "ServicePrincipal"}]).to_string(),
    );
    let azure_files = "{ path = \"exports/assignments.json\", format = \"role-assignments\" },\n\
        { path = \"exports/definitions.json\", format = \"role-definitions\" },\n\
        { path = \"exports/ai.json\", format = \"ai-resources\" }";
    let config = |extra: &str| {
        format!(
            "[[source]]\nname = \"entra\"\nconnector = \"entra-id\"\napi = false\n\
             files = [{{ path = \"exports/sps.json\", format = \"service-principals\" }}]\n\n\
             [[source]]\nname = \"azure\"\nconnector = \"azure-rbac\"\napi = false\nfiles = [\n{azure_files}{extra}\n]\n"
        )
    };
    let report = env.collect_config(config(""));
    roster_testkit::assert_complete(&report);
    let agent = report["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["source"] == "azure" && i["id"] == AGENT)
        .unwrap();
    assert_eq!(agent["name"], APP_ID, "the principal name az prints");
    assert_eq!(agent["attrs"]["ai_platform"], "azure-openai");
    let owner = agent["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Owner")
        .unwrap();
    assert_eq!(owner["attrs"]["admin"], "true");
    let role = |name: &str| {
        agent["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {agent:#}"))
    };
    for admin in [
        "User Access Administrator",
        "Role Based Access Control Administrator",
        "access-granter",
    ] {
        assert_eq!(role(admin)["attrs"]["admin"], "true", "{admin} grants roles: {agent:#}");
    }
    let almost = role("almost-contributor");
    assert_eq!(almost["attrs"]["wildcard_actions"], "*");
    assert!(
        almost["attrs"]["admin"].is_null(),
        "its notActions keep role assignments out: {almost:#}"
    );

    // A broken export names the file and what is wrong; the run keeps nothing of it.
    let broken = env.collect_config(config(
        ",\n{ path = \"exports/broken.json\", format = \"role-assignments\" }",
    ));
    let run = broken["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["source"] == "azure")
        .unwrap()
        .to_string();
    assert!(
        run.contains("broken.json") && run.contains("without principalId"),
        "{run}"
    );

    // discover joins the two records: the gaps are raised once, on Entra's service principal,
    // with Azure's Owner assignment and AI resource as evidence.
    env.write("roster.toml", config(""));
    let report = env.discover_json().await;
    let gaps: Vec<(&str, &str, &str)> = report["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["kind"].as_str().unwrap(),
                g["entities"][0]["name"].as_str().unwrap(),
                g["entities"][0]["id"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(gaps.iter().all(|(_, _, id)| *id == AGENT), "{gaps:#?}");
    for kind in ["over-privileged-agent", "no-owner", "unregistered-agent"] {
        assert_eq!(
            gaps.iter()
                .filter(|(k, name, _)| *k == kind && *name == "chat-agent")
                .count(),
            1,
            "{kind}: {gaps:#?}"
        );
    }
    assert_eq!(gaps.len(), 3, "{gaps:#?}");
    let over = roster_testkit::gap(&report, "over-privileged-agent", "chat-agent").unwrap();
    let evidence = over["evidence"].to_string();
    assert!(
        evidence.contains("azure marks it an identity of azure-openai")
            && evidence.contains(&format!(
                "iam-role `Owner` on /subscriptions/{SUB1} grants full administrative access"
            )),
        "{evidence}"
    );
    assert_eq!(over["severity"], "high");
}
