//! `roster collect` with the OpenAI and Anthropic admin connectors, against in-process fixture
//! servers that answer in the providers' documented shapes: two pages, a 429, a 5xx, a 401.

use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::ROSTER;
use roster_testkit::http::ok;
use roster_testkit::{Env, identity};

fn list(data: Value, has_more: bool) -> Value {
    let last = data
        .as_array()
        .and_then(|a| a.last())
        .map(|v| v["id"].clone())
        .unwrap_or(Value::Null);
    json!({"object": "list", "data": data, "first_id": null, "last_id": last, "has_more": has_more})
}

const OPENAI_KEY: &str = "sk-admin-fixture-0123456789";

async fn openai_fixture() -> MockServer {
    let server = MockServer::start().await;
    let auth = || header("authorization", format!("Bearer {OPENAI_KEY}").as_str());
    let base = "/v1/organization";
    Mock::given(method("GET"))
        .and(path(format!("{base}/projects")))
        .and(query_param("limit", "100"))
        .and(query_param_is_missing("after"))
        .and(auth())
        .respond_with(ok(list(
            json!([{"id": "proj_1", "object": "organization.project", "name": "Support bot",
                    "created_at": 1711471533, "archived_at": null, "status": "active"}]),
            true,
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{base}/projects")))
        .and(query_param("after", "proj_1"))
        .and(auth())
        .respond_with(ok(list(
            json!([{"id": "proj_2", "object": "organization.project", "name": "Research",
                    "created_at": 1711471600, "archived_at": null, "status": "active"}]),
            false,
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{base}/projects/proj_1/service_accounts")))
        .and(auth())
        .respond_with(ok(list(
            json!([{"object": "organization.project.service_account", "id": "svc_acct_1",
                    "name": "support-bot-runtime", "role": "member", "created_at": 1711471600}]),
            false,
        )))
        .mount(&server)
        .await;
    // Throttled once, then served.
    Mock::given(method("GET"))
        .and(path(format!("{base}/projects/proj_1/api_keys")))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "0")
                .set_body_json(json!({"error": {"message": "Rate limit reached", "type": "requests"}})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{base}/projects/proj_1/api_keys")))
        .and(auth())
        .respond_with(ok(list(
            json!([
                {"object": "organization.project.api_key", "id": "key_user", "name": "alice laptop",
                 "redacted_value": "sk-proj-****abcd", "created_at": 1700000000, "last_used_at": 1760000000,
                 "owner": {"type": "user", "user": {"object": "organization.project.user", "id": "user_alice",
                   "name": "Alice", "email": "alice@example.com", "role": "owner", "added_at": 1690000000}}},
                {"object": "organization.project.api_key", "id": "key_svc", "name": "runtime key",
                 "redacted_value": "sk-svcacct-****wxyz", "created_at": 1710000000, "last_used_at": null,
                 "owner": {"type": "service_account", "service_account": {"object": "organization.project.service_account",
                   "id": "svc_acct_1", "name": "support-bot-runtime", "role": "member", "created_at": 1711471600}}}
            ]),
            false,
        )))
        .mount(&server)
        .await;
    // Always failing: the host retries, then the connector notes it and goes on.
    Mock::given(method("GET"))
        .and(path(format!("{base}/projects/proj_2/service_accounts")))
        .respond_with(
            ResponseTemplate::new(503)
                .insert_header("retry-after", "0")
                .set_body_string("upstream down"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{base}/projects/proj_2/api_keys")))
        .and(auth())
        .respond_with(ok(list(json!([]), false)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{base}/admin_api_keys")))
        .and(auth())
        .respond_with(ok(list(
            json!([{"object": "organization.admin_api_key", "id": "key_admin", "name": "Roster inventory",
                    "redacted_value": "sk-admin-****9876", "created_at": 1720000000, "last_used_at": 1760000100,
                    "owner": {"type": "user", "object": "organization.user", "id": "user_bob", "name": "Bob", "role": "owner"}}]),
            false,
        )))
        .mount(&server)
        .await;
    // Anything without the admin key.
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"error": {"message": "Incorrect API key provided"}})),
        )
        .with_priority(10)
        .mount(&server)
        .await;
    server
}

fn openai_config(uri: &str) -> String {
    format!("[[source]]\nconnector = \"openai-admin\"\nendpoint_url = \"{uri}/v1\"\nhttp_retries = 2\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_admin_connector_inventories_projects_and_keys() {
    let server = openai_fixture().await;
    let (env, code, report, stderr) = Env::new(ROSTER)
        .collect_json(
            openai_config(&server.uri()),
            vec![("OPENAI_ADMIN_KEY", OPENAI_KEY.into())],
        )
        .await;
    assert_eq!(code, 3, "an incomplete run exits 3: {stderr}");
    let run = &report["connectors"][0];
    assert_eq!(run["source"], "openai-admin");
    assert_eq!(run["status"], "incomplete", "{run:#}");
    assert!(
        run["notes"][0]
            .as_str()
            .unwrap()
            .contains("503 from /projects/proj_2/service_accounts"),
        "{run:#}"
    );
    assert_eq!(report["incomplete"], true);

    assert_eq!(
        identity(&report, "proj_2")["kind"],
        "ai-project",
        "the second page was read"
    );
    assert_eq!(identity(&report, "svc_acct_1")["kind"], "ai-service-account");
    let user_key = identity(&report, "key_user");
    assert_eq!(user_key["kind"], "ai-key");
    assert_eq!(user_key["owner"]["name"], "alice@example.com");
    assert_eq!(user_key["attrs"]["owner_type"], "user");
    let cred = &user_key["credentials"][0];
    assert_eq!(cred["redacted"], "sk-proj-****abcd");
    assert_eq!(cred["created"], "2023-11-14T22:13:20Z");
    assert_eq!(cred["last_used"], "2025-10-09T08:53:20Z");
    let svc_key = identity(&report, "key_svc");
    assert!(
        svc_key["owner"].is_null(),
        "a service account is not an accountable owner"
    );
    assert_eq!(svc_key["attrs"]["service_account_id"], "svc_acct_1");
    assert!(svc_key["credentials"][0]["last_used"].is_null());
    assert_eq!(identity(&report, "key_admin")["attrs"]["admin"], "true");

    // What the server saw: the host's key on every request, paging and the retried 429.
    let got = server.received_requests().await.unwrap();
    assert!(
        got.iter()
            .all(|r| r.headers.get("authorization").unwrap() == &format!("Bearer {OPENAI_KEY}")[..])
    );
    assert!(got.iter().any(|r| r.url.query() == Some("limit=100&after=proj_1")));
    let keys_calls = got.iter().filter(|r| r.url.path().ends_with("proj_1/api_keys")).count();
    assert_eq!(keys_calls, 2, "429 then retried");
    let failing = got
        .iter()
        .filter(|r| r.url.path().ends_with("proj_2/service_accounts"))
        .count();
    assert_eq!(failing, 3, "one try and two retries (http_retries = 2)");
    // The admin key is in no output or state file.
    assert!(!roster_testkit::contains(
        &roster_testkit::all_bytes_under(env.dir.path()),
        OPENAI_KEY
    ));
    assert!(!report.to_string().contains(OPENAI_KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_admin_key_fails_the_source_with_a_clear_error() {
    let server = openai_fixture().await;
    let (_env, code, report, stderr) = Env::new(ROSTER)
        .collect_json(
            openai_config(&server.uri()),
            vec![("OPENAI_ADMIN_KEY", "sk-admin-wrong".into())],
        )
        .await;
    assert_eq!(code, 2, "every source failed");
    let run = &report["connectors"][0];
    assert_eq!(run["status"], "failed");
    assert_eq!(
        run["error"].as_str().unwrap(),
        "plugin openai-admin: access denied: 401 from /projects: {\"error\":{\"message\":\"Incorrect API key provided\"}}"
    );
    assert!(stderr.contains("source(s) failed: openai-admin"), "{stderr}");

    // No key in the environment: the source says which variable to set.
    let (_env, code, report, _) = Env::new(ROSTER)
        .collect_json(openai_config(&server.uri()), vec![])
        .await;
    assert_eq!(code, 2);
    let err = report["connectors"][0]["error"].as_str().unwrap();
    assert!(
        err.contains("credential is read from $OPENAI_ADMIN_KEY, which is not set"),
        "{err}"
    );
}

const ANTHROPIC_KEY: &str = "sk-ant-admin01-fixture-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_admin_connector_inventories_workspaces_and_keys() {
    let server = MockServer::start().await;
    let auth = || header("x-api-key", ANTHROPIC_KEY);
    let version = || header("anthropic-version", "2023-06-01");
    let base = "/v1/organizations";
    // Anthropic throttles with a 429 and retry-after, and sheds load with 529 "overloaded".
    Mock::given(method("GET"))
        .and(path(format!("{base}/users")))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .insert_header("anthropic-ratelimit-requests-remaining", "0")
                .set_body_json(json!({"type": "error", "error": {"type": "rate_limit_error", "message": "Number of requests has exceeded your rate limit"}})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{base}/api_keys")))
        .respond_with(
            ResponseTemplate::new(529).set_body_json(
                json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
            ),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{base}/users")))
        .and(auth())
        .and(version())
        .respond_with(ok(list(
            json!([{"id": "user_01A", "type": "user", "email": "carol@example.com", "name": "Carol",
                    "role": "developer", "added_at": "2024-01-02T00:00:00Z"}]),
            false,
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{base}/workspaces")))
        .and(query_param_is_missing("after_id"))
        .and(auth())
        .respond_with(ok(list(
            json!([{"id": "wrkspc_01", "type": "workspace", "name": "Default", "created_at": "2024-02-01T00:00:00Z",
                    "archived_at": null, "display_color": "#6C5BB9"}]),
            true,
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{base}/workspaces")))
        .and(query_param("after_id", "wrkspc_01"))
        .and(auth())
        .respond_with(ok(list(
            json!([{"id": "wrkspc_02", "type": "workspace", "name": "Agents", "created_at": "2024-03-01T00:00:00Z",
                    "archived_at": null, "display_color": "#6C5BB9"}]),
            false,
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{base}/api_keys")))
        .and(auth())
        .respond_with(ok(list(
            json!([{"id": "apikey_01", "type": "api_key", "name": "agents-prod", "workspace_id": "wrkspc_02",
                    "created_at": "2024-10-30T23:58:27.427722Z", "created_by": {"id": "user_01A", "type": "user"},
                    "partial_key_hint": "sk-ant-api03-R2D...igAA", "status": "active"},
                   {"id": "apikey_02", "type": "api_key", "name": "old", "workspace_id": null,
                    "created_at": "2023-05-01T00:00:00Z", "created_by": {"id": "user_gone", "type": "user"},
                    "partial_key_hint": "sk-ant-api03-XyZ...q1AA", "status": "archived"}]),
            false,
        )))
        .mount(&server)
        .await;
    let config = format!(
        "[[source]]\nname = \"anthropic\"\nconnector = \"anthropic-admin\"\nendpoint_url = \"{}\"\n",
        server.uri()
    );
    let (_env, code, report, stderr) = Env::new(ROSTER)
        .collect_json(config, vec![("ANTHROPIC_ADMIN_KEY", ANTHROPIC_KEY.into())])
        .await;
    assert_eq!(code, 0, "{stderr}");
    roster_testkit::assert_complete(&report);
    assert_eq!(identity(&report, "wrkspc_02")["name"], "Agents");
    let key = identity(&report, "apikey_01");
    assert_eq!(key["owner"]["name"], "carol@example.com");
    assert_eq!(key["owner"]["via"], "creator");
    assert_eq!(key["attrs"]["workspace_id"], "wrkspc_02");
    assert_eq!(key["credentials"][0]["redacted"], "sk-ant-api03-R2D...igAA");
    assert_eq!(key["credentials"][0]["created"], "2024-10-30T23:58:27Z");
    assert_eq!(identity(&report, "apikey_02")["credentials"][0]["status"], "revoked");
    assert_eq!(identity(&report, "apikey_02")["owner"]["name"], "user_gone");
    let got = server.received_requests().await.unwrap();
    assert!(got.iter().all(|r| r.headers.get("x-api-key").unwrap() == ANTHROPIC_KEY));
    assert!(got.iter().all(|r| r.headers.get("authorization").is_none()));
    let calls = |p: &str| got.iter().filter(|r| r.url.path() == format!("{base}/{p}")).count();
    assert_eq!(
        (calls("users"), calls("api_keys")),
        (2, 2),
        "a 429 and a 529, each retried"
    );

    // A key that is not an admin key: Anthropic answers 401; the source fails saying so.
    let refused = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}),
        ))
        .mount(&refused)
        .await;
    let (_env, code, report, _stderr) = Env::new(ROSTER)
        .collect_json(
            format!(
                "[[source]]\nname = \"anthropic\"\nconnector = \"anthropic-admin\"\nendpoint_url = \"{}\"\n",
                refused.uri()
            ),
            vec![("ANTHROPIC_ADMIN_KEY", "sk-ant-api03-not-an-admin-key".into())],
        )
        .await;
    assert_ne!(code, 0);
    let run = &report["connectors"][0];
    assert_eq!(run["status"], "failed", "{run:#}");
    assert!(run["error"].as_str().unwrap().contains("invalid x-api-key"), "{run:#}");
}
