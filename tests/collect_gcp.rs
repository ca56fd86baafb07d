//! `roster collect` and `roster discover` with the gcp-iam connector against a fixture server in
//! the documented shapes of Google Cloud's IAM (`serviceAccounts.list`, `keys.list`), Resource
//! Manager (`projects.getIamPolicy`), Policy Intelligence (`activities.query`,
//! `serviceAccountKeyLastAuthentication`) and Cloud Logging (`entries.list` of the Admin Activity
//! audit log, for who created each service account) APIs: `nextPageToken` paging, a 429 with Retry-After,
//! a 503, a 403 and a 401; the host mints the token from a service account key (no subject).
//! Google Cloud has no local emulator, hence fixtures.

use serde_json::{Value, json};
use wiremock::matchers::{body_json, body_partial_json, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::ROSTER;
use roster_testkit::http::ok;
use roster_testkit::{Env, identity};

const MINTED: &str = "ya29.fixture-gcp-access-token-for-roster-tests";
const ACCOUNTS: &str = "/v1/projects/acme-prod/serviceAccounts";
const POLICY: &str = "/v1/projects/acme-prod:getIamPolicy";
const ACTIVITY: &str =
    "/v1/projects/acme-prod/locations/global/activityTypes/serviceAccountKeyLastAuthentication/activities:query";
const DEPLOYER: &str = "ci-deployer@acme-prod.iam.gserviceaccount.com";
const VERTEX: &str = "vertex-runner@acme-prod.iam.gserviceaccount.com";
const LEGACY: &str = "legacy-exporter@acme-prod.iam.gserviceaccount.com";
const NIGHTLY: &str = "nightly-report@acme-prod.iam.gserviceaccount.com";
const AGENT: &str = "service-123456789012@gcp-sa-aiplatform.iam.gserviceaccount.com";
const OLD_KEY: &str = "1f7e2c9a5b3d4e6f8a0b1c2d3e4f5a6b7c8d9e0f";
const SPARE_KEY: &str = "2a8b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b";
const VERTEX_KEY: &str = "3b9c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c";
const NIGHTLY_KEY: &str = "4cad5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d";
const LOGS: &str = "/v2/entries:list";

/// An Admin Activity audit log entry of `CreateServiceAccount` (Cloud Logging's `LogEntry`, as
/// `entries.list` and `gcloud logging read --format=json` give it); `code` 0 succeeded.
fn created(email: &str, by: &str, at: &str, code: i64) -> Value {
    json!({"insertId": format!("ins-{email}"), "logName": "projects/acme-prod/logs/cloudaudit.googleapis.com%2Factivity",
        "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "authenticationInfo": {"principalEmail": by}, "methodName": "google.iam.admin.v1.CreateServiceAccount",
            "serviceName": "iam.googleapis.com", "resourceName": "projects/acme-prod",
            "status": if code == 0 { json!({}) } else { json!({"code": code, "message": "PERMISSION_DENIED"}) },
            "request": {"@type": "type.googleapis.com/google.iam.admin.v1.CreateServiceAccountRequest",
                "account_id": email.split('@').next().unwrap(), "name": "projects/acme-prod"},
            "response": if code == 0 { json!({"@type": "type.googleapis.com/google.iam.admin.v1.ServiceAccount",
                "email": email, "project_id": "acme-prod", "display_name": "x"}) } else { json!({}) }},
        "resource": {"type": "service_account", "labels": {"project_id": "acme-prod"}},
        "severity": "NOTICE", "timestamp": at, "receiveTimestamp": at})
}

/// A `ServiceAccount` as the IAM API returns it.
fn account(email: &str, display: &str, disabled: bool) -> Value {
    json!({"name": format!("projects/acme-prod/serviceAccounts/{email}"), "projectId": "acme-prod",
        "uniqueId": format!("1{}", email.len() * 1_000_003), "email": email, "displayName": display,
        "etag": "MDEwMjE5MjA=", "description": format!("{display} (fixture)"),
        "oauth2ClientId": "1099511627776", "disabled": disabled})
}

/// A `ServiceAccountKey` as `keys.list` returns it (no key material).
fn key(email: &str, id: &str, after: &str, before: &str, disabled: bool) -> Value {
    json!({"name": format!("projects/acme-prod/serviceAccounts/{email}/keys/{id}"),
        "validAfterTime": after, "validBeforeTime": before, "keyAlgorithm": "KEY_ALG_RSA_2048",
        "keyOrigin": "GOOGLE_PROVIDED", "keyType": "USER_MANAGED", "disabled": disabled})
}

fn config(api: &str, key: &std::path::Path) -> String {
    format!(
        "[[source]]\nname = \"gcp\"\nconnector = \"gcp-iam\"\nendpoint_url = \"{api}\"\nprojects = [\"acme-prod\"]\n\
         http_retries = 3\ncredentials_file = \"{}\"\n",
        key.display()
    )
}

async fn mount_token(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ok(
            json!({"access_token": MINTED, "expires_in": 3599, "token_type": "Bearer"}),
        ))
        .mount(server)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcp_iam_lists_service_accounts_keys_last_use_and_project_bindings() {
    let server = MockServer::start().await;
    let uri = server.uri();
    mount_token(&server).await;
    let accounts = || {
        Mock::given(method("GET"))
            .and(path(ACCOUNTS))
            .and(query_param("pageSize", "100"))
    };
    accounts()
        .and(query_param_is_missing("pageToken"))
        .respond_with(ok(json!({"accounts": [account(DEPLOYER, "CI deployer", false),
            account(VERTEX, "Vertex runner", false)], "nextPageToken": "CkBwYWdlLTI"})))
        .mount(&server)
        .await;
    // Page 2: throttled once, then a server error once, then the page.
    roster_testkit::http::mount_after_google_429_and_503(
        &server,
        || accounts().and(query_param("pageToken", "CkBwYWdlLTI")),
        ok(json!({"accounts": [account(LEGACY, "Legacy exporter", true),
            account(NIGHTLY, "Nightly report", false)]})),
    )
    .await;
    let keys = |email: &str, body: Value| {
        Mock::given(method("GET"))
            .and(path(format!("{ACCOUNTS}/{email}/keys")))
            .and(query_param("keyTypes", "USER_MANAGED"))
            .respond_with(ok(body))
    };
    keys(
        DEPLOYER,
        json!({"keys": [key(DEPLOYER, OLD_KEY, "2025-01-15T10:00:00Z", "9999-12-31T23:59:59Z", false),
            key(DEPLOYER, SPARE_KEY, "2026-11-01T10:00:00Z", "9999-12-31T23:59:59Z", true)]}),
    )
    .mount(&server)
    .await;
    keys(
        VERTEX,
        json!({"keys": [key(VERTEX, VERTEX_KEY, "2026-10-01T00:00:00Z", "2027-01-01T00:00:00Z", false)]}),
    )
    .mount(&server)
    .await;
    // A key the activity never saw: never used.
    keys(
        NIGHTLY,
        json!({"keys": [key(NIGHTLY, NIGHTLY_KEY, "2025-06-01T00:00:00Z", "9999-12-31T23:59:59Z", false)]}),
    )
    .mount(&server)
    .await;
    // An account without keys: the API leaves the list out.
    keys(LEGACY, json!({})).mount(&server).await;
    Mock::given(method("POST"))
        .and(path(POLICY))
        .and(body_json(json!({"options": {"requestedPolicyVersion": 3}})))
        .respond_with(ok(json!({"version": 3, "etag": "BwYUjHYKH4w=", "bindings": [
            {"role": "roles/owner", "members": ["user:alice@acme.example", format!("serviceAccount:{DEPLOYER}")]},
            {"role": "roles/editor", "members": [format!("serviceAccount:{VERTEX}")]},
            {"role": "roles/aiplatform.user", "members": [format!("serviceAccount:{VERTEX}")]},
            {"role": "roles/aiplatform.serviceAgent", "members": [format!("serviceAccount:{AGENT}")]},
            {"role": "roles/storage.objectViewer", "members": [format!("serviceAccount:{LEGACY}")],
             "condition": {"title": "exports-bucket-only", "expression": "resource.name.startsWith('projects/_/buckets/exports')"}},
        ]})))
        .mount(&server)
        .await;
    let activity = |id: &str, email: &str, when: &str| {
        json!({"activityType": "serviceAccountKeyLastAuthentication",
            "fullResourceName": format!("//iam.googleapis.com/projects/acme-prod/serviceAccounts/{email}/keys/{id}"),
            "observationPeriod": {"startTime": "2026-12-01T07:00:00Z", "endTime": "2026-12-02T07:00:00Z"},
            "activity": {"lastAuthenticatedTime": when, "serviceAccountKey": {
                "serviceAccountId": "102030405060708090", "projectNumber": "123456789012",
                "fullResourceName": format!("//iam.googleapis.com/projects/acme-prod/serviceAccounts/{email}/keys/{id}")}}})
    };
    Mock::given(method("GET"))
        .and(path(ACTIVITY))
        .and(query_param_is_missing("pageToken"))
        .respond_with(ok(
            json!({"activities": [activity(OLD_KEY, DEPLOYER, "2026-11-30T07:00:00Z")],
            "nextPageToken": "act-2"}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(ACTIVITY))
        .and(query_param("pageToken", "act-2"))
        .respond_with(ok(
            json!({"activities": [activity(VERTEX_KEY, VERTEX, "2026-12-01T07:00:00Z")]}),
        ))
        .mount(&server)
        .await;

    // Who created the accounts: two pages of the Admin Activity log; a refused creation of the
    // nightly account (someone tried and failed) names no one.
    Mock::given(method("POST"))
        .and(path(LOGS))
        .and(body_partial_json(json!({"pageToken": "log-2"})))
        .respond_with(ok(
            json!({"entries": [created(VERTEX, "dana@acme.example", "2026-10-01T09:30:00Z", 0),
            created(NIGHTLY, "mallory@acme.example", "2025-05-30T00:00:00Z", 7)]}),
        ))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(LOGS))
        .and(body_partial_json(json!({"resourceNames": ["projects/acme-prod"]})))
        .respond_with(ok(json!({"entries": [created(DEPLOYER, "terraform@acme-ops.iam.gserviceaccount.com", "2025-01-10T08:00:00Z", 0)],
            "nextPageToken": "log-2"})))
        .with_priority(2)
        .mount(&server)
        .await;

    let keys_env = Env::new(ROSTER);
    let key_path = keys_env.write(
        "sa.json",
        roster_testkit::keys::google_key_file(
            "roster-reader@acme-prod.iam.gserviceaccount.com",
            "fixture-key-2",
            "104857600000000000002",
            &format!("{uri}/token"),
        ),
    );
    let (env, code, report, stderr) = Env::new(ROSTER).collect_json(config(&uri, &key_path), vec![]).await;
    assert_eq!(code, 0, "{stderr}");
    roster_testkit::assert_complete(&report);

    let deployer = identity(&report, DEPLOYER);
    assert_eq!(deployer["name"], "CI deployer");
    assert_eq!(deployer["enabled"], true);
    assert_eq!(deployer["attrs"]["project"], "acme-prod");
    assert_eq!(deployer["last_used"], "2026-11-30T07:00:00Z");
    let cred = |ident: &Value, id: &str| {
        ident["credentials"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no key {id}: {ident:#}"))
            .clone()
    };
    let old = cred(deployer, OLD_KEY);
    assert_eq!(old["kind"], "access-key");
    assert_eq!(old["status"], "active");
    assert_eq!(old["created"], "2025-01-15T10:00:00Z");
    assert!(
        old.get("expires").is_none_or(Value::is_null),
        "9999-12-31 is no expiry: {old:#}"
    );
    assert_eq!(old["last_used"], "2026-11-30T07:00:00Z");
    assert_eq!(old["attrs"]["key_origin"], "GOOGLE_PROVIDED");
    let spare = cred(deployer, SPARE_KEY);
    assert_eq!(spare["status"], "inactive");
    assert!(spare.get("last_used").is_none_or(Value::is_null));
    let owner = deployer["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "roles/owner")
        .expect("roles/owner");
    assert_eq!(owner["attrs"]["admin"], "true");
    assert_eq!(owner["resources"], json!(["projects/acme-prod"]));

    let vertex = identity(&report, VERTEX);
    assert_eq!(vertex["attrs"]["ai_platform"], "vertex-ai");
    assert_eq!(
        vertex["owner"]["name"], "dana@acme.example",
        "its creator, page 2 of the log: {vertex:#}"
    );
    assert_eq!(vertex["owner"]["via"], "creator");
    assert_eq!(vertex["created"], "2026-10-01T09:30:00Z");
    assert_eq!(
        deployer["attrs"]["created_by"], "terraform@acme-ops.iam.gserviceaccount.com",
        "made by an automation: recorded, and no owner"
    );
    assert!(deployer.get("owner").is_none_or(Value::is_null), "{deployer:#}");
    assert!(
        identity(&report, NIGHTLY)["attrs"].get("created_by").is_none(),
        "a failed creation"
    );
    assert_eq!(cred(vertex, VERTEX_KEY)["expires"], "2027-01-01T00:00:00Z");
    assert_eq!(
        cred(vertex, VERTEX_KEY)["last_used"],
        "2026-12-01T07:00:00Z",
        "page 2 of the activity"
    );
    let legacy = identity(&report, LEGACY);
    assert_eq!(legacy["enabled"], false, "page 2 of the accounts");
    assert_eq!(legacy["permissions"][0]["attrs"]["condition"], "exports-bucket-only");
    assert!(legacy["permissions"][0]["attrs"].get("admin").is_none());
    let agent = identity(&report, AGENT);
    assert_eq!(agent["attrs"]["provider_owned"], "Google (Vertex AI service agent)");
    assert_eq!(agent["attrs"]["ai_platform"], "vertex-ai");
    assert_eq!(agent["attrs"]["listed"], "false");
    assert!(
        report["identities"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["id"] != "alice@acme.example"),
        "people in the policy are not service accounts"
    );

    // What the server received: one token (no subject, cloud-platform), every API call with it.
    let got = server.received_requests().await.unwrap();
    let (_, claims) = roster_testkit::keys::google_token_assertion(&got);
    assert_eq!(claims["iss"], "roster-reader@acme-prod.iam.gserviceaccount.com");
    assert_eq!(claims["scope"], "https://www.googleapis.com/auth/cloud-platform");
    assert!(claims.get("sub").is_none(), "no domain-wide delegation: {claims}");
    let api: Vec<_> = got.iter().filter(|r| r.url.path() != "/token").collect();
    assert!(
        api.iter()
            .all(|r| r.headers["authorization"] == format!("Bearer {MINTED}")[..]),
        "the host attaches the token"
    );
    let count = |p: &str| api.iter().filter(|r| r.url.path() == p).count();
    assert_eq!(count(ACCOUNTS), 4, "page 1, then page 2 after a 429 and a 503");
    assert_eq!(count(POLICY), 1);
    assert_eq!(count(ACTIVITY), 2);
    assert!(
        api.iter()
            .filter(|r| r.method.as_str() == "POST")
            .all(|r| r.url.path() == POLICY || r.url.path() == LOGS)
    );
    let logs: Vec<Value> = api
        .iter()
        .filter(|r| r.url.path() == LOGS)
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(logs.len(), 2, "two pages");
    assert!(
        logs[0]["filter"]
            .as_str()
            .unwrap()
            .contains("protoPayload.methodName=\"google.iam.admin.v1.CreateServiceAccount\"")
            && logs[0]["filter"]
                .as_str()
                .unwrap()
                .contains("cloudaudit.googleapis.com%2Factivity"),
        "{:#}",
        logs[0]
    );
    assert!(
        api.iter()
            .filter(|r| r.url.path().ends_with("/keys"))
            .all(|r| r.url.query() == Some("keyTypes=USER_MANAGED")),
        "only user-managed keys"
    );
    env.assert_state_holds_none(&[MINTED, "BEGIN PRIVATE KEY"]);

    // discover: the deployer's key is older than 90 days, nobody owns the deployer (an automation
    // made it), the Vertex runner is an AI-capable editor its creator answers for; Google's own
    // service agent raises nothing.
    let report = env.discover_json().await;
    let gaps = report["gaps"].as_array().unwrap();
    let about = |kind: &str, name: &str| roster_testkit::gap(&report, kind, name).cloned();
    let long = about("long-lived-credential", "CI deployer").unwrap_or_else(|| panic!("{gaps:#?}"));
    assert!(long["evidence"].to_string().contains(OLD_KEY), "{long:#}");
    assert!(
        about("long-lived-credential", "Vertex runner").is_none(),
        "a 2-month-old key"
    );
    assert!(about("no-owner", "CI deployer").is_some(), "{gaps:#?}");
    assert!(
        about("no-owner", "Vertex runner").is_none(),
        "dana created it: {gaps:#?}"
    );
    let over = about("over-privileged-agent", "Vertex runner").unwrap_or_else(|| panic!("{gaps:#?}"));
    assert!(over["evidence"].to_string().contains("roles/editor"), "{over:#}");
    let dormant = about("stale-identity", "Nightly report").unwrap_or_else(|| panic!("{gaps:#?}"));
    assert!(dormant["evidence"].to_string().contains("never used"), "{dormant:#}");
    assert!(about("stale-identity", "CI deployer").is_none(), "used a week ago");
    assert!(gaps.iter().all(|g| g["entities"][0]["id"] != AGENT), "{gaps:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcp_iam_refusals_say_what_to_grant() {
    // The caller may list service accounts but not read the project's policy (403): the run is
    // incomplete, keeps the accounts and says what to grant.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(ACCOUNTS))
        .respond_with(ok(json!({"accounts": [account(DEPLOYER, "CI deployer", false)]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{ACCOUNTS}/{DEPLOYER}/keys")))
        .respond_with(ok(json!({"keys": []})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(POLICY))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error": {"code": 403,
            "message": "The caller does not have permission", "status": "PERMISSION_DENIED"}})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(ACTIVITY))
        .respond_with(ok(json!({})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(LOGS))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error": {"code": 403,
            "message": "Permission 'logging.logEntries.list' denied on resource", "status": "PERMISSION_DENIED"}})))
        .mount(&server)
        .await;
    let given = "ya29.given-token-from-gcloud";
    let cfg = |uri: &str| {
        format!(
            "[[source]]\nname = \"gcp\"\nconnector = \"gcp-iam\"\nendpoint_url = \"{uri}\"\nprojects = \"acme-prod\"\nauth = \"token\"\n"
        )
    };
    let (_env, code, report, stderr) = Env::new(ROSTER)
        .collect_json(cfg(&server.uri()), vec![("GOOGLE_ACCESS_TOKEN", given.to_string())])
        .await;
    assert_eq!(code, 3, "an incomplete run exits 3: {stderr}");
    let run = report["connectors"][0].to_string();
    assert!(
        run.contains("does not have permission") && run.contains("resourcemanager.projects.getIamPolicy"),
        "{run}"
    );
    assert!(
        run.contains("service account creators") && run.contains("roles/logging.viewer"),
        "{run}"
    );
    assert_eq!(identity(&report, DEPLOYER)["name"], "CI deployer");
    let got = server.received_requests().await.unwrap();
    assert_eq!(
        got.iter().filter(|r| r.url.path() == POLICY).count(),
        1,
        "a 403 is not retried"
    );
    assert!(
        got.iter()
            .all(|r| r.headers["authorization"] == format!("Bearer {given}")[..])
    );

    // An expired token: 401, the source fails and says so.
    let expired = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(ACCOUNTS))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {"code": 401,
            "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}})))
        .mount(&expired)
        .await;
    let (_env, _code, report, _stderr) = Env::new(ROSTER)
        .collect_json(cfg(&expired.uri()), vec![("GOOGLE_ACCESS_TOKEN", given.to_string())])
        .await;
    let run = &report["connectors"][0];
    assert_eq!(run["status"], "failed", "{run:#}");
    assert!(
        run.to_string().contains("invalid authentication credentials"),
        "{run:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcp_iam_reads_gcloud_exports_without_the_api() {
    let env = Env::new(ROSTER);
    // `gcloud iam service-accounts list --format=json`: a bare list.
    env.write(
        "exports/accounts.json",
        json!([
            account(DEPLOYER, "CI deployer", false),
            account(VERTEX, "Vertex runner", false)
        ])
        .to_string(),
    );
    // `gcloud iam service-accounts keys list --iam-account=X --format=json`, one file per account;
    // gcloud lists the system-managed keys too.
    env.write(
        "exports/keys-deployer.json",
        json!([key(DEPLOYER, OLD_KEY, "2025-01-15T10:00:00Z", "9999-12-31T23:59:59Z", false),
            {"name": format!("projects/acme-prod/serviceAccounts/{DEPLOYER}/keys/0123456789abcdef"),
             "validAfterTime": "2026-12-01T00:00:00Z", "validBeforeTime": "2026-12-17T00:00:00Z",
             "keyAlgorithm": "KEY_ALG_RSA_2048", "keyOrigin": "GOOGLE_PROVIDED", "keyType": "SYSTEM_MANAGED"}])
        .to_string(),
    );
    env.write("exports/keys-vertex.json", json!([]).to_string());
    // `gcloud projects get-iam-policy acme-prod --format=json`.
    env.write(
        "exports/policy.json",
        json!({"version": 1, "etag": "BwYUjHYKH4w=", "bindings": [
            {"role": "roles/aiplatform.user", "members": [format!("serviceAccount:{VERTEX}")]}]})
        .to_string(),
    );
    // `gcloud logging read 'protoPayload.methodName="google.iam.admin.v1.CreateServiceAccount"'
    // --format=json`: a bare list of entries, newest first, with other entries mixed in.
    env.write(
        "exports/created.json",
        json!([created(VERTEX, "dana@acme.example", "2026-10-01T09:30:00Z", 0),
            {"protoPayload": {"methodName": "google.iam.admin.v1.SetIAMPolicy",
                "authenticationInfo": {"principalEmail": "eve@acme.example"}}, "timestamp": "2026-10-02T00:00:00Z"}])
        .to_string(),
    );
    env.write("exports/broken.json", "{\"bindings\": 7}");
    let files = "{ path = \"exports/accounts.json\", format = \"service-accounts\" },\n\
        { path = \"exports/created.json\", format = \"audit-log\" },\n\
        { path = \"exports/keys-deployer.json\", format = \"service-account-keys\" },\n\
        { path = \"exports/keys-vertex.json\", format = \"service-account-keys\" },\n\
        { path = \"exports/policy.json\", format = \"iam-policy\" }";
    let report = env.collect_config(format!(
        "[[source]]\nconnector = \"gcp-iam\"\napi = false\nprojects = \"acme-prod\"\nfiles = [\n{files}\n]\n"
    ));
    roster_testkit::assert_complete(&report);
    let deployer = identity(&report, DEPLOYER);
    let creds = deployer["credentials"].as_array().unwrap();
    assert_eq!(creds.len(), 1, "the system-managed key is Google's: {creds:#?}");
    assert_eq!(creds[0]["id"], OLD_KEY);
    let vertex = identity(&report, VERTEX);
    assert_eq!(vertex["permissions"][0]["resources"], json!(["projects/acme-prod"]));
    assert_eq!(vertex["attrs"]["ai_platform"], "vertex-ai");
    assert_eq!(vertex["owner"]["name"], "dana@acme.example");

    // A broken export names the file; what came before it is kept.
    let report = env.collect_config(format!(
            "[[source]]\nconnector = \"gcp-iam\"\napi = false\nfiles = [\n{files},\n{{ path = \"exports/broken.json\", format = \"iam-policy\" }}\n]\n"
        ));
    let run = report["connectors"][0].to_string();
    assert!(
        run.contains("broken.json") && run.contains("not an IAM policy"),
        "{run}"
    );
    assert_eq!(identity(&report, DEPLOYER)["name"], "CI deployer");
}
