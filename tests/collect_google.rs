//! `roster collect` and `roster discover` with the google-workspace connector against a fixture
//! server in the Admin SDK Reports API's documented shapes (`activities.list`,
//! `applicationName=token`): `nextPageToken` paging, a 429 with Retry-After, a 503, a 403 and a
//! 401; the host mints the token from a service account key with domain-wide delegation.

use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::ROSTER;
use roster_testkit::http::ok;
use roster_testkit::{Env, identity};

const MINTED: &str = "ya29.fixture-google-access-token-for-roster-tests";
const REPORTS: &str = "/admin/reports/v1/activity/users/all/applications/token";
const CHATGPT: &str = "1234567890-chatgpt.apps.googleusercontent.com";
const ZOOM: &str = "987654321-zoom.apps.googleusercontent.com";
const CHROME: &str = "77185425430.apps.googleusercontent.com";
const DRIVE: &str = "https://www.googleapis.com/auth/drive";
const EMAIL_SCOPE: &str = "https://www.googleapis.com/auth/userinfo.email";

/// One `activities.list` item: `user` did `event` with app `client` at `time`.
fn item(time: &str, user: &str, event: &str, client: &str, app: &str, extra: Value) -> Value {
    let mut params = vec![
        json!({"name": "client_id", "value": client}),
        json!({"name": "app_name", "value": app}),
        json!({"name": "client_type", "value": "WEB"}),
    ];
    if let Value::Array(more) = extra {
        params.extend(more);
    }
    json!({"kind": "admin#reports#activity",
        "id": {"time": time, "uniqueQualifier": format!("-{}", time.len() * 7 + user.len()), "applicationName": "token", "customerId": "C03az79cb"},
        "etag": "\"fixture\"",
        "actor": {"email": user, "profileId": "10" , "callerType": "USER"},
        "ipAddress": "198.51.100.23",
        "events": [{"type": "auth", "name": event, "parameters": params}]})
}

fn scopes(s: &[&str]) -> Value {
    json!([{"name": "scope", "multiValue": s}])
}

fn key_file(token_uri: &str) -> String {
    roster_testkit::keys::google_key_file(
        "roster-audit@roster-fixture.iam.gserviceaccount.com",
        "fixture-key-1",
        "104857600000000000001",
        token_uri,
    )
}

fn config(api: &str, key: &std::path::Path) -> String {
    format!(
        "[[source]]\nname = \"workspace\"\nconnector = \"google-workspace\"\nendpoint_url = \"{api}\"\n\
         log_since = \"2026-06-01T00:00:00Z\"\nhttp_retries = 3\nauth = \"service-account\"\n\
         credentials_file = \"{}\"\nsubject = \"admin@acme.example\"\n",
        key.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_workspace_token_audit_lists_oauth_apps_their_grants_and_use() {
    let server = MockServer::start().await;
    let uri = server.uri();
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ok(
            json!({"access_token": MINTED, "expires_in": 3599, "token_type": "Bearer"}),
        ))
        .mount(&server)
        .await;
    let first = || {
        Mock::given(method("GET"))
            .and(path(REPORTS))
            .and(query_param("maxResults", "1000"))
            .and(query_param("startTime", "2026-06-01T00:00:00Z"))
    };
    // Page 1, newest first as the API answers.
    first()
        .and(query_param_is_missing("pageToken"))
        .respond_with(ok(json!({
        "kind": "admin#reports#activities", "nextPageToken": "A:1731000000000:P2",
        "items": [
            item("2026-11-20T09:00:00.000Z", "alice@acme.example", "activity", CHATGPT, "ChatGPT",
                json!([{"name": "api_name", "value": "drive"}, {"name": "method_name", "value": "drive.files.list"},
                       {"name": "num_response_bytes", "intValue": "5120"}])),
            item("2026-10-01T12:00:00.000Z", "alice@acme.example", "authorize", CHATGPT, "ChatGPT",
                scopes(&[DRIVE, EMAIL_SCOPE])),
            item("2026-09-15T08:00:00.000Z", "bob@acme.example", "authorize", ZOOM, "Zoom",
                scopes(&["https://www.googleapis.com/auth/calendar.readonly"])),
        ]})))
        .mount(&server)
        .await;
    // Page 2: throttled once, then a server error once, then the page.
    roster_testkit::http::mount_after_google_429_and_503(
        &server,
        || first().and(query_param("pageToken", "A:1731000000000:P2")),
        ok(json!({
            "kind": "admin#reports#activities",
            "items": [
                item("2026-08-02T10:00:00.000Z", "carol@acme.example", "revoke", CHATGPT, "ChatGPT", json!([])),
                item("2026-08-01T10:00:00.000Z", "carol@acme.example", "authorize", CHATGPT, "ChatGPT", scopes(&[DRIVE])),
                item("2026-07-01T10:00:00.000Z", "alice@acme.example", "authorize", CHROME, "Google Chrome",
                    scopes(&["https://www.google.com/accounts/OAuthLogin"])),
                // An app that calls itself "macOS" but reads mail is not taken for Google's own.
                item("2026-06-20T10:00:00.000Z", "dan@acme.example", "authorize", "4242-fake.apps.googleusercontent.com", "macOS",
                    scopes(&["https://mail.google.com/"])),
                // An older grant by alice with fewer scopes: her newer one stands.
                item("2026-06-10T10:00:00.000Z", "alice@acme.example", "authorize", CHATGPT, "ChatGPT", scopes(&[EMAIL_SCOPE])),
            ]})),
    )
    .await;

    let keys = Env::new(ROSTER);
    let key = keys.write("sa.json", key_file(&format!("{uri}/token")));
    let (env, code, report, stderr) = Env::new(ROSTER).collect_json(config(&uri, &key), vec![]).await;
    assert_eq!(code, 0, "{stderr}");
    roster_testkit::assert_complete(&report);

    let chatgpt = identity(&report, CHATGPT);
    assert_eq!(chatgpt["kind"], "idp-app");
    assert_eq!(chatgpt["name"], "ChatGPT");
    assert_eq!(chatgpt["enabled"], true);
    assert_eq!(chatgpt["last_used"], "2026-11-20T09:00:00Z");
    assert_eq!(chatgpt["attrs"]["granted_users"], "1", "carol revoked her grant");
    assert_eq!(chatgpt["attrs"]["apis"], "drive");
    let grant = |user: &str| {
        chatgpt["credentials"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == format!("{CHATGPT}/{user}"))
            .unwrap_or_else(|| panic!("no grant by {user}: {chatgpt:#}"))
            .clone()
    };
    let alice = grant("alice@acme.example");
    assert_eq!(alice["status"], "active");
    assert_eq!(alice["created"], "2026-10-01T12:00:00Z", "the newest authorization");
    assert_eq!(alice["last_used"], "2026-11-20T09:00:00Z");
    assert_eq!(alice["attrs"]["scopes"], format!("{DRIVE} {EMAIL_SCOPE}"));
    let carol = grant("carol@acme.example");
    assert_eq!(carol["status"], "revoked");
    assert_eq!(
        (carol["created"].as_str(), carol["attrs"]["scopes"].as_str()),
        (Some("2026-08-01T10:00:00Z"), Some(DRIVE)),
        "the revoke came first (newest first), the grant it revoked is still known"
    );
    let drive = chatgpt["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == DRIVE)
        .expect("drive scope");
    assert_eq!(drive["kind"], "oauth-scope");
    assert_eq!(drive["resources"], json!(["alice@acme.example"]));
    assert_eq!(drive["attrs"]["granted_users"], "1");
    assert!(drive["attrs"]["broad"].as_str().unwrap().contains("Drive"));
    assert_eq!(identity(&report, ZOOM)["attrs"]["granted_users"], "1");
    assert!(
        identity(&report, CHROME)["attrs"]["provider_owned"]
            .as_str()
            .is_some_and(|p| p.starts_with("Google"))
    );
    let fake = identity(&report, "4242-fake.apps.googleusercontent.com");
    assert!(fake["attrs"].get("provider_owned").is_none(), "{fake:#}");

    let acts = report["activities"].as_array().unwrap();
    assert_eq!(acts.len(), 8, "every event of both pages, once");
    let used = acts.iter().find(|a| a["action"] == "token.activity").unwrap();
    assert_eq!(used["identity_id"], CHATGPT);
    assert_eq!(used["credential_id"], format!("{CHATGPT}/alice@acme.example"));
    assert_eq!(used["source_ip"], "198.51.100.23");
    assert_eq!(used["service"], "drive");
    assert_eq!(used["attrs"]["ai_client"], "chatgpt", "an AI app is classified by name");
    assert!(
        acts.iter()
            .filter(|a| a["identity_id"] == ZOOM)
            .all(|a| a["attrs"].get("ai_client").is_none())
    );

    // The requests: one token for the run; every API call carries it, set by the host.
    let got = server.received_requests().await.unwrap();
    let (head, claims) = roster_testkit::keys::google_token_assertion(&got);
    assert_eq!((&head["alg"], &head["kid"]), (&json!("RS256"), &json!("fixture-key-1")));
    assert_eq!(claims["iss"], "roster-audit@roster-fixture.iam.gserviceaccount.com");
    assert_eq!(claims["sub"], "admin@acme.example", "domain-wide delegation");
    assert_eq!(
        claims["scope"],
        "https://www.googleapis.com/auth/admin.reports.audit.readonly"
    );
    assert_eq!(claims["aud"], format!("{uri}/token"));
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert!(lifetime > 0 && lifetime <= 3600, "{claims}");
    let api: Vec<_> = got.iter().filter(|r| r.url.path() == REPORTS).collect();
    assert_eq!(api.len(), 4, "page 1, then page 2 after a 429 and a 503");
    assert!(
        api.iter()
            .all(|r| r.headers["authorization"] == format!("Bearer {MINTED}")[..])
    );
    let audit = std::fs::read_to_string(env.state().join("audit.jsonl")).unwrap();
    assert!(
        audit.contains(
            "Bearer <Google token, service account roster-audit@roster-fixture.iam.gserviceaccount.com as admin@acme.example>"
        ),
        "{audit}"
    );
    env.assert_state_holds_none(&[MINTED, "BEGIN PRIVATE KEY"]);

    // discover: ChatGPT holds a broad Drive grant and is not registered; Google's own Chrome
    // sign-in is Google's, not an ownerless app.
    let report = env.discover_json().await;
    let gaps = report["gaps"].as_array().unwrap();
    let about = |kind: &str, name: &str| roster_testkit::gap(&report, kind, name).cloned();
    let over = about("over-privileged-agent", "ChatGPT").unwrap_or_else(|| panic!("{gaps:#?}"));
    let evidence = over["evidence"].to_string();
    assert!(
        evidence.contains("full access to the granting users' Drive files") && evidence.contains("chatgpt"),
        "{evidence}"
    );
    assert!(about("unregistered-agent", "ChatGPT").is_some());
    assert!(about("no-owner", "Zoom").is_some());
    assert!(
        gaps.iter().all(|g| g["entities"][0]["name"] != "Google Chrome"),
        "{gaps:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_workspace_refusals_say_what_to_grant() {
    // The Reports API refuses a user without the Reports privilege with a 403.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(REPORTS))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error": {"code": 403,
            "message": "Not Authorized to access this resource/api", "status": "PERMISSION_DENIED"}})))
        .mount(&server)
        .await;
    let given = "ya29.given-token-from-gcloud";
    let (_env, code, report, stderr) = Env::new(ROSTER)
        .collect_json(
            format!(
                "[[source]]\nname = \"workspace\"\nconnector = \"google-workspace\"\nendpoint_url = \"{}\"\n",
                server.uri()
            ),
            vec![("GOOGLE_ACCESS_TOKEN", given.to_string())],
        )
        .await;
    assert_eq!(code, 3, "an incomplete run exits 3: {stderr}");
    let run = &report["connectors"][0];
    assert_ne!(run["status"], "complete", "{run:#}");
    assert!(
        run.to_string().contains("Not Authorized") && run.to_string().contains("Domain-wide delegation"),
        "{run:#}"
    );
    let got = server.received_requests().await.unwrap();
    assert_eq!(got.len(), 1, "a 403 is not retried");
    assert_eq!(got[0].headers["authorization"], format!("Bearer {given}")[..]);

    // An expired token: 401, the source fails and says so.
    let expired = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(REPORTS))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {"code": 401,
            "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}})))
        .mount(&expired)
        .await;
    let (_env, _code, report, _stderr) = Env::new(ROSTER)
        .collect_json(
            format!(
                "[[source]]\nname = \"workspace\"\nconnector = \"google-workspace\"\nendpoint_url = \"{}\"\n",
                expired.uri()
            ),
            vec![("GOOGLE_ACCESS_TOKEN", given.to_string())],
        )
        .await;
    let run = &report["connectors"][0];
    assert_eq!(run["status"], "failed", "{run:#}");
    assert!(
        run.to_string().contains("invalid authentication credentials"),
        "{run:#}"
    );

    // A service account whose client id is not allowed the scope: the token endpoint refuses,
    // and the error names the client id to allow in the Admin console.
    let tokens = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": "unauthorized_client",
            "error_description": "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested."})))
        .mount(&tokens)
        .await;
    let keys = Env::new(ROSTER);
    let key = keys.write("sa.json", key_file(&format!("{}/token", tokens.uri())));
    let (_env, _code, report, _stderr) = Env::new(ROSTER).collect_json(config(&tokens.uri(), &key), vec![]).await;
    let run = report["connectors"][0].to_string();
    assert!(
        run.contains("unauthorized_client") && run.contains("allow client id 104857600000000000001"),
        "{run}"
    );
    assert!(
        tokens
            .received_requests()
            .await
            .unwrap()
            .iter()
            .all(|r| r.url.path() == "/token"),
        "nothing reaches the API without a token"
    );

    // A key file of the wrong kind is a configuration error naming the file.
    let keys = Env::new(ROSTER);
    let bad = keys.write(
        "user.json",
        r#"{"type": "authorized_user", "client_id": "x", "refresh_token": "y"}"#,
    );
    let (_env, code, report, _stderr) = Env::new(ROSTER)
        .collect_json(config("https://admin.googleapis.com", &bad), vec![])
        .await;
    assert_ne!(code, 0);
    let run = report["connectors"][0].to_string();
    assert!(
        run.contains("user.json") && run.contains("not \\\"service_account\\\""),
        "{run}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_workspace_reads_saved_token_reports_without_the_api() {
    let env = Env::new(ROSTER);
    let page = |items: Value| json!({"kind": "admin#reports#activities", "items": items});
    env.write(
        "exports/token.json",
        json!([
            page(json!([item("2026-11-01T00:00:00Z", "dan@acme.example", "authorize", "55-claude.apps.googleusercontent.com",
                "Claude", scopes(&["https://mail.google.com/"]))])),
            {"kind": "admin#reports#activities"},
        ])
        .to_string(),
    );
    let report = env.collect_config("[[source]]\nconnector = \"google-workspace\"\napi = false\nfiles = [{ path = \"exports/token.json\", format = \"token-activities\" }]\n");
    roster_testkit::assert_complete(&report);
    let claude = identity(&report, "55-claude.apps.googleusercontent.com");
    assert_eq!(claude["name"], "Claude");
    assert_eq!(claude["permissions"][0]["name"], "https://mail.google.com/");
    assert_eq!(report["activities"][0]["attrs"]["ai_client"], "claude");
}
