//! `roster collect` with the slack connector against a fixture server in the Slack Web API's
//! documented shapes: cursor paging (`response_metadata.next_cursor`), page-numbered
//! integration logs, a 429 with Retry-After, a 5xx, `ok: false` on one method while the rest is
//! kept, and a refused token (`invalid_auth`).

use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::ROSTER;
use roster_testkit::http::ok;
use roster_testkit::{Env, has_permission, identity};

const TOKEN: &str = "xoxb-fixture-0000000000-roster-tests-only";

fn member(id: &str, name: &str, deleted: bool, bot: Option<&str>) -> Value {
    let mut profile = json!({"real_name": name});
    if let Some(b) = bot {
        profile["bot_id"] = json!(b);
    }
    json!({"id": id, "team_id": "T1", "name": name.to_lowercase(), "deleted": deleted,
        "is_bot": bot.is_some(), "is_app_user": false, "profile": profile})
}

fn users_page(members: Vec<Value>, next: &str) -> Value {
    json!({"ok": true, "members": members, "cache_ts": 1730000000,
        "response_metadata": {"next_cursor": next}})
}

fn logs_page(logs: Value, page: i64) -> Value {
    json!({"ok": true, "logs": logs, "paging": {"count": 2, "total": 3, "page": page, "pages": 2}})
}

async fn once(server: &MockServer, at: &str, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(response)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
}

fn config(uri: &str) -> String {
    format!("[[source]]\nconnector = \"slack\"\nendpoint_url = \"{uri}\"\nhttp_retries = 2\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_connector_inventories_apps_bots_scopes_and_installers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/users.list"))
        .and(query_param_is_missing("cursor"))
        .respond_with(ok(users_page(
            vec![
                member("U1", "Alice", false, None),
                member("U2", "Dave", true, None),
                member("UB1", "ChatGPT", false, Some("B1")),
            ],
            "dXNlcjpVQjE=",
        )))
        .mount(&server)
        .await;
    once(
        &server,
        "/users.list",
        ResponseTemplate::new(429)
            .insert_header("retry-after", "0")
            .set_body_json(json!({"ok": false, "error": "ratelimited"})),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/users.list"))
        .and(query_param("cursor", "dXNlcjpVQjE="))
        .respond_with(ok(users_page(
            vec![member("UB2", "standup-bot", false, Some("B2"))],
            "",
        )))
        .mount(&server)
        .await;
    once(
        &server,
        "/bots.info",
        ResponseTemplate::new(503).insert_header("retry-after", "0"),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/bots.info"))
        .and(query_param("bot", "B1"))
        .respond_with(ok(
            json!({"ok": true, "bot": {"id": "B1", "deleted": false, "name": "ChatGPT",
            "updated": 1730000000, "app_id": "A1CHAT", "user_id": "UB1"}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/bots.info"))
        .and(query_param("bot", "B2"))
        .respond_with(ok(
            json!({"ok": true, "bot": {"id": "B2", "deleted": false, "name": "standup-bot",
            "updated": 1600000000}}),
        ))
        .mount(&server)
        .await;
    // A workspace token: the Enterprise Grid admin API is not for it.
    Mock::given(method("GET"))
        .and(path("/admin.apps.approved.list"))
        .respond_with(ok(json!({"ok": false, "error": "not_allowed_token_type"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/team.integrationLogs"))
        .and(query_param("page", "1"))
        .respond_with(ok(logs_page(
            json!([
                {"app_id": "A1CHAT", "app_type": "ChatGPT", "user_id": "U2", "user_name": "Dave",
                 "date": "1730000000", "change_type": "added", "scope": "channels:history,chat:write,files:read"},
                {"app_id": "A9ZOOM", "app_type": "Zoom", "user_id": "U1", "user_name": "Alice",
                 "date": "1731000000", "change_type": "removed", "reason": "user", "scope": "calls:write"}
            ]),
            1,
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/team.integrationLogs"))
        .and(query_param("page", "2"))
        .respond_with(ok(logs_page(
            json!([{"app_id": "A9ZOOM", "app_type": "Zoom", "user_id": "U1", "user_name": "Alice",
                "date": "1700000000", "change_type": "added", "scope": "calls:write"}]),
            2,
        )))
        .mount(&server)
        .await;

    let (_env, code, report, stderr) = Env::new(ROSTER)
        .collect_json(config(&server.uri()), vec![("SLACK_TOKEN", TOKEN.to_string())])
        .await;
    assert_eq!(code, 3, "incomplete: {stderr}");
    let run = &report["connectors"][0];
    assert_eq!(run["status"], "incomplete", "{run:#}");
    assert!(
        run.to_string().contains("admin.apps.approved.list") && run.to_string().contains("not_allowed_token_type"),
        "the note names the method and Slack's error: {run:#}"
    );

    let chat = identity(&report, "A1CHAT");
    assert_eq!(chat["kind"], "app-installation");
    assert_eq!(chat["name"], "ChatGPT");
    assert_eq!(chat["attrs"]["ai_platform"], "chatgpt");
    assert_eq!(
        chat["attrs"]["bot_users"], "UB1",
        "the bot user on page one, its app from bots.info after a 503"
    );
    assert_eq!(chat["owner"]["name"], "Dave");
    assert_eq!(
        chat["owner"]["enabled"], false,
        "a deleted installer is no accountable owner"
    );
    assert!(has_permission(chat, "channels:history"), "{chat:#}");
    let history = chat["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "channels:history")
        .unwrap();
    assert_eq!(history["attrs"]["broad"], "messages");
    let zoom = identity(&report, "A9ZOOM");
    assert_eq!(zoom["enabled"], false, "the latest log entry (page one) removed it");
    assert_eq!(
        zoom["owner"]["name"], "Alice",
        "installed on page two, before its removal"
    );
    let bot = identity(&report, "B2");
    assert_eq!(
        bot["name"], "standup-bot",
        "a bot of no app, from the second users.list page"
    );
    assert_eq!(bot["enabled"], true);

    let got = server.received_requests().await.unwrap();
    assert!(
        got.iter()
            .all(|r| r.headers["authorization"] == format!("Bearer {TOKEN}")[..]),
        "the host attached the token to every request"
    );
    let users: Vec<_> = got.iter().filter(|r| r.url.path() == "/users.list").collect();
    assert_eq!(users.len(), 3, "a 429 on the first request, then pages one and two");
    assert_eq!(users[2].url.query(), Some("limit=200&cursor=dXNlcjpVQjE%3D"));
    assert_eq!(
        got.iter().filter(|r| r.url.path() == "/bots.info").count(),
        3,
        "503, then B1 and B2"
    );
    assert_eq!(
        got.iter().filter(|r| r.url.path() == "/team.integrationLogs").count(),
        2
    );
    assert!(got.iter().all(|r| r.method == "GET"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_slack_token_fails_the_source() {
    // Slack refuses a token with HTTP 200 and `invalid_auth`; an HTTP 401 is refused the same way.
    let answers = [
        (ok(json!({"ok": false, "error": "invalid_auth"})), "invalid_auth"),
        (ResponseTemplate::new(401), "401 from users.list"),
    ];
    for (answer, says) in answers {
        let server = MockServer::start().await;
        Mock::given(method("GET")).respond_with(answer).mount(&server).await;
        let (_env, code, report, stderr) = Env::new(ROSTER)
            .collect_json(config(&server.uri()), vec![("SLACK_TOKEN", TOKEN.to_string())])
            .await;
        assert_ne!(code, 0, "{stderr}");
        let run = &report["connectors"][0];
        assert_eq!(run["status"], "failed", "{run:#}");
        let error = run["error"].as_str().unwrap();
        assert!(error.contains("users.list") && error.contains(says), "{run:#}");
        assert!(!report.to_string().contains(TOKEN) && !stderr.contains(TOKEN));
        let got = server.received_requests().await.unwrap();
        assert_eq!(got.len(), 1, "a refused token ends the run: {got:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_exports_give_an_ai_app_of_a_deleted_installer_its_gaps() {
    let env = Env::new(ROSTER);
    env.write(
        "exports/users.json",
        json!([
            users_page(vec![member("U1", "Alice", false, None)], "dXNlcjpVMg=="),
            users_page(
                vec![
                    member("U2", "Dave", true, None),
                    member("UB1", "Claude", false, Some("B1"))
                ],
                ""
            )
        ])
        .to_string(),
    );
    env.write(
        "exports/bots.json",
        json!([{"ok": true, "bot": {"id": "B1", "name": "Claude", "app_id": "A1CLAUDE", "deleted": false}}])
            .to_string(),
    );
    env.write(
        "exports/approved.json",
        json!({"ok": true, "approved_apps": [{
            "app": {"id": "A1CLAUDE", "name": "Claude", "is_internal": false},
            "scopes": [{"name": "channels:history", "description": "View messages", "is_sensitive": true, "token_type": "bot"},
                       {"name": "admin.users:read", "description": "Read users", "is_sensitive": true, "token_type": "user"}],
            "date_updated": 1730000000,
            "last_resolved_by": {"actor_id": "U2", "actor_type": "user"}},
            {"app": {"id": "A2POLLS", "name": "Polly"}, "scopes": [{"name": "chat:write"}], "date_updated": 1730000000,
             "last_resolved_by": {"actor_id": "U1", "actor_type": "user"}}],
            "response_metadata": {"next_cursor": ""}})
        .to_string(),
    );
    env.write("exports/broken.json", "{\"ok\": false, \"error\": \"paid_only\"}");
    let files = "{ path = \"exports/approved.json\", format = \"approved-apps\" },\n\
        { path = \"exports/users.json\", format = \"users\" },\n\
        { path = \"exports/bots.json\", format = \"bots\" }";
    let source = |files: &str| format!("[[source]]\nconnector = \"slack\"\napi = false\nfiles = [\n{files}\n]\n");

    // A broken export names the file and what is wrong.
    let report = env.collect_config(source(&format!(
        "{files},\n{{ path = \"exports/broken.json\", format = \"integration-logs\" }}"
    )));
    let run = report["connectors"][0].to_string();
    assert!(
        run.contains("broken.json") && run.contains("not a list response"),
        "{run}"
    );

    let report = env.collect_config(source(files));
    roster_testkit::assert_complete(&report);
    let claude = identity(&report, "A1CLAUDE");
    assert_eq!(claude["attrs"]["ai_platform"], "claude");
    assert_eq!(claude["attrs"]["approved"], "true");
    assert_eq!(
        claude["owner"]["name"], "Dave",
        "approver named from the users export read after it"
    );
    let admin = claude["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "admin.users:read")
        .unwrap();
    assert_eq!(admin["attrs"]["admin"], "true");

    let report = env.discover_json().await;
    let gaps = report["gaps"].as_array().unwrap();
    let about = |kind: &str, name: &str| roster_testkit::gap(&report, kind, name).cloned();
    assert!(about("no-owner", "Claude").is_some(), "{gaps:#?}");
    assert!(about("unregistered-agent", "Claude").is_some(), "{gaps:#?}");
    assert!(about("unregistered-agent", "Polly").is_none(), "{gaps:#?}");
    assert!(
        about("no-owner", "Polly").is_none(),
        "an active approver owns it: {gaps:#?}"
    );
}
