//! `roster collect` with the github connector against a fixture server in GitHub's documented
//! REST shapes: Link paging, a 429, a 5xx, a 403 and a 404 (no audit log on this plan).

use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{Env, identity};

const TOKEN: &str = "ghs_fixtureTokenForRosterTests0123456789";

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

async fn github_fixture() -> MockServer {
    let server = MockServer::start().await;
    let uri = server.uri();
    let auth = || header("authorization", format!("Bearer {TOKEN}").as_str());
    let installation = |id: u64, slug: &str, suspended: Value, perms: Value| {
        json!({"id": id, "app_id": id + 9000, "app_slug": slug, "client_id": "Iv1.abc", "target_type": "Organization",
               "account": {"login": "acme", "id": 1, "type": "Organization"}, "repository_selection": "all",
               "permissions": perms, "events": ["pull_request", "push"], "created_at": "2025-03-01T10:00:00Z",
               "updated_at": "2025-03-02T10:00:00Z", "suspended_at": suspended, "suspended_by": null})
    };
    Mock::given(method("GET"))
        .and(path("/orgs/acme/installations"))
        .and(query_param_is_missing("page"))
        .and(auth())
        .respond_with(
            ok(json!({"total_count": 2, "installations": [installation(101, "claude-code-review", Value::Null,
                json!({"contents": "write", "pull_requests": "write", "administration": "write"}))]}))
            .insert_header("link", format!("<{uri}/orgs/acme/installations?per_page=100&page=2>; rel=\"next\", <{uri}/orgs/acme/installations?per_page=100&page=2>; rel=\"last\"").as_str()),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/orgs/acme/installations"))
        .and(query_param("page", "2"))
        .and(auth())
        .respond_with(ok(
            json!({"total_count": 2, "installations": [installation(102, "old-ci-bot",
            json!("2025-06-01T00:00:00Z"), json!({"metadata": "read"}))]}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/orgs/acme/personal-access-tokens"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/orgs/acme/personal-access-tokens"))
        .and(auth())
        .respond_with(ok(json!([{"id": 25381, "owner": {"login": "octocat", "id": 1, "type": "User"},
            "repository_selection": "all", "repositories_url": format!("{uri}/organizations/652551/personal-access-tokens/25381/repositories"),
            "permissions": {"organization": {"members": "read"}, "repository": {"contents": "write", "metadata": "read"}},
            "access_granted_at": "2023-05-16T08:47:09.000-07:00", "token_id": 98716, "token_name": "agent-deploy",
            "token_expired": false, "token_expires_at": "2026-12-31T00:00:00.000-07:00",
            "token_last_used_at": "2026-11-20T00:00:00Z"}])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/orgs/acme/actions/secrets"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"message": "Resource not accessible by integration",
            "documentation_url": "https://docs.github.com/rest/actions/secrets#list-organization-secrets", "status": "403"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/orgs/acme/repos"))
        .respond_with(ResponseTemplate::new(502).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/orgs/acme/repos"))
        .and(auth())
        .respond_with(ok(
            json!([{"id": 1, "name": "support-bot", "full_name": "acme/support-bot", "archived": false},
                                {"id": 2, "name": "attic", "full_name": "acme/attic", "archived": true}]),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/support-bot/keys"))
        .and(auth())
        .respond_with(ok(json!([{"id": 77, "key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFixtureKeyOnly", "url": format!("{uri}/repos/acme/support-bot/keys/77"),
            "title": "deploy-bot", "verified": true, "created_at": "2024-01-10T09:00:00Z", "read_only": false,
            "added_by": "octocat", "last_used": "2026-10-01T12:00:00Z", "enabled": true}])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/orgs/acme/audit-log"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})))
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_connector_inventories_apps_tokens_and_deploy_keys() {
    let server = github_fixture().await;
    let uri = server.uri();
    let (_env, code, report, stderr) = Env::collect_json(
        format!("[[source]]\nconnector = \"github\"\norg = \"acme\"\nendpoint_url = \"{uri}\"\nhttp_retries = 2\n"),
        vec![("GITHUB_TOKEN", TOKEN.to_string())],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    let run = &report["connectors"][0];
    assert_eq!(run["status"], "incomplete", "{run:#}");
    let notes: Vec<&str> = run["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("organization Actions secrets: 403 from") && n.contains("Resource not accessible")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.contains("audit log: not available")),
        "{notes:?}"
    );

    let app = identity(&report, "github-installation:101");
    assert_eq!(app["kind"], "app-installation");
    assert_eq!(app["name"], "claude-code-review");
    assert_eq!(app["attrs"]["admin"], "true");
    assert!(
        app["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "contents:write")
    );
    assert_eq!(
        identity(&report, "github-installation:102")["enabled"],
        false,
        "second page, suspended"
    );

    let pat = identity(&report, "github-pat:98716");
    assert_eq!(pat["owner"]["name"], "octocat");
    assert_eq!(pat["credentials"][0]["created"], "2023-05-16T15:47:09Z");
    assert_eq!(pat["credentials"][0]["expires"], "2026-12-31T07:00:00Z");
    assert_eq!(pat["credentials"][0]["last_used"], "2026-11-20T00:00:00Z");
    assert!(
        pat["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "repository/contents:write")
    );

    let key = identity(&report, "github-deploy-key:77");
    assert_eq!(key["attrs"]["repository"], "acme/support-bot");
    assert_eq!(key["attrs"]["read_only"], "false");
    assert_eq!(key["owner"]["name"], "octocat");
    assert!(
        report["identities"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["attrs"]["repository"] != "acme/attic")
    );

    let got = server.received_requests().await.unwrap();
    assert!(
        got.iter()
            .all(|r| r.headers.get("authorization").unwrap() == &format!("Bearer {TOKEN}")[..])
    );
    assert!(
        got.iter()
            .all(|r| r.headers.get("x-github-api-version").unwrap() == "2022-11-28")
    );
    assert!(
        got.iter()
            .any(|r| r.url.path() == "/orgs/acme/installations" && r.url.query() == Some("per_page=100&page=2"))
    );
    assert_eq!(
        got.iter()
            .filter(|r| r.url.path() == "/orgs/acme/personal-access-tokens")
            .count(),
        2,
        "429, then retried"
    );
    assert_eq!(
        got.iter().filter(|r| r.url.path() == "/orgs/acme/repos").count(),
        2,
        "502, then retried"
    );
    assert!(
        got.iter().all(|r| !r.url.path().starts_with("/repos/acme/attic")),
        "archived repositories are skipped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_links_outside_the_organization_are_refused() {
    let server = MockServer::start().await;
    let uri = server.uri();
    // A hostile or confused API answer: its next link points at another organization.
    Mock::given(method("GET"))
        .and(path("/orgs/acme/installations"))
        .respond_with(ok(json!({"total_count": 1, "installations": []})).insert_header(
            "link",
            format!("<{uri}/orgs/other-org/installations?page=2>; rel=\"next\"").as_str(),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ok(json!([])))
        .with_priority(10)
        .mount(&server)
        .await;
    let (_env, code, report, stderr) = Env::collect_json(
        format!("[[source]]\nconnector = \"github\"\norg = \"acme\"\nendpoint_url = \"{uri}\"\naudit_log = false\n"),
        vec![("GITHUB_TOKEN", TOKEN.to_string())],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    let run = &report["connectors"][0];
    assert_eq!(run["denied_requests"], 1, "{run:#}");
    assert_eq!(run["status"], "incomplete");
    let got = server.received_requests().await.unwrap();
    assert!(
        got.iter().all(|r| !r.url.path().contains("other-org")),
        "the request never left the host"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_github_app_installation_token_is_minted_by_the_host_with_octocrab() {
    let server = github_fixture().await;
    let uri = server.uri();
    // GitHub's token exchange: the app's JWT in, an installation token out.
    Mock::given(method("POST"))
        .and(path("/app/installations/777/access_tokens"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "token": TOKEN, "expires_at": "2099-01-01T00:00:00Z",
            "permissions": {"members": "read", "organization_administration": "read"},
            "repository_selection": "all"})))
        .mount(&server)
        .await;
    let key = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(key.path(), crate::common::TEST_RSA_KEY).unwrap();
    let (env, code, report, stderr) = Env::collect_json(
        format!(
            "[[source]]\nconnector = \"github\"\norg = \"acme\"\nendpoint_url = \"{uri}\"\nhttp_retries = 2\n\
             auth = \"app\"\napp_id = 424242\ninstallation_id = 777\nprivate_key_file = \"{}\"\n",
            key.path().display()
        ),
        vec![],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    // The same inventory as with a token: the minted token opened every endpoint.
    assert_eq!(
        identity(&report, "github-installation:101")["name"],
        "claude-code-review"
    );

    let got = server.received_requests().await.unwrap();
    let exchanges: Vec<_> = got.iter().filter(|r| r.url.path().starts_with("/app/")).collect();
    assert_eq!(exchanges.len(), 1, "one token for the whole run");
    // The JWT: RS256, issued by the app, valid for at most ten minutes, signed with its key.
    let jwt = exchanges[0].headers["authorization"]
        .to_str()
        .unwrap()
        .strip_prefix("Bearer ")
        .unwrap()
        .to_owned();
    let (head, claims) = crate::common::verify_jwt(&jwt);
    assert_eq!(head["alg"], "RS256");
    assert_eq!(claims["iss"], 424242);
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert!(lifetime > 0 && lifetime <= 600, "{claims}");
    // Every API call carried the installation token, never the JWT; the log names the app.
    assert!(
        got.iter()
            .filter(|r| !r.url.path().starts_with("/app/"))
            .all(|r| r.headers["authorization"] == format!("Bearer {TOKEN}")[..])
    );
    let audit = std::fs::read_to_string(env.state().join("audit.jsonl")).unwrap();
    assert!(
        audit.contains("Bearer <GitHub App 424242 installation token, installation 777>"),
        "{audit}"
    );
    for s in [TOKEN, &jwt, "PRIVATE KEY"] {
        assert!(!crate::common::contains(
            &crate::common::all_bytes_under(&env.state()),
            s
        ));
        assert!(!serde_json::to_string(&report).unwrap().contains(s));
    }
}

#[test]
fn app_settings_without_auth_app_are_an_error_not_silently_ignored() {
    let env = Env::new();
    env.write(
        "roster.toml",
        "[[source]]\nconnector = \"github\"\norg = \"acme\"\napp_id = 424242\ninstallation_id = 777\n",
    );
    let out = env.roster_env(&["collect", "--format", "json"], &[("GITHUB_TOKEN", TOKEN)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    // The source fails, saying what to add; the report keeps the message.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(r#"source github: app_id is set but auth is not: add auth = \"app\""#),
        "{stdout}"
    );
}
