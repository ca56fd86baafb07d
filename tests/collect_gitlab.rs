//! `roster collect` and `roster discover` with the gitlab connector against a fixture server in
//! GitLab's documented REST v4 shapes (group and project access tokens, deploy tokens and keys,
//! group service accounts and their tokens, members, audit events, projects): `Link` paging, a
//! 429 with Retry-After, a 502 and a 403 on one endpoint while the rest is kept. The group is a
//! subgroup, so every request carries its URL-encoded path (`acme%2Fplatform`).

use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::ROSTER;
use roster_testkit::http::ok;
use roster_testkit::{Env, identity};

const TOKEN: &str = "glpat-fixtureTokenForRosterTests01";
const GROUP: &str = "/api/v4/groups/acme%2Fplatform";
const PROJECT: &str = "/api/v4/projects/acme%2Fplatform%2Fagent";

fn member(id: u64, username: &str, state: &str, bot: bool) -> Value {
    json!({"id": id, "username": username, "name": username, "state": state, "bot": bot,
        "avatar_url": null, "web_url": format!("https://gitlab.example.com/{username}"),
        "created_at": "2024-01-05T10:00:00.000Z", "expires_at": null, "access_level": 30,
        "group_saml_identity": null, "membership_state": "active"})
}

/// An access token as `/groups/:id/access_tokens` and `/projects/:id/access_tokens` list it.
fn access_token(id: u64, user: u64, name: &str, scopes: &[&str], expires: Value, level: u64) -> Value {
    json!({"id": id, "user_id": user, "name": name, "description": "", "scopes": scopes,
        "expires_at": expires, "active": true, "revoked": false, "created_at": "2025-01-10T09:00:00.000Z",
        "last_used_at": "2026-11-28T08:00:00.000Z", "access_level": level})
}

/// A personal access token as `/groups/:id/manage/personal_access_tokens` and
/// `/personal_access_tokens` list it.
fn personal_token(id: u64, user: u64, name: &str, scopes: &[&str], expires: Value) -> Value {
    json!({"id": id, "user_id": user, "name": name, "description": "", "scopes": scopes,
        "expires_at": expires, "active": true, "revoked": false, "created_at": "2025-03-02T11:00:00.000Z",
        "last_used_at": "2026-11-20T16:30:00.000Z"})
}

/// A `*_access_token_created` audit event by `author`.
fn token_created(id: u64, author: u64, author_name: &str, token: u64, entity: &str, kind: &str) -> Value {
    json!({"id": id, "author_id": author, "entity_id": 6, "entity_type": kind,
        "event_name": format!("{}_access_token_created", kind.to_lowercase()),
        "details": {"author_name": author_name, "author_class": "User", "target_id": token,
            "target_type": "PersonalAccessToken", "target_details": "token",
            "custom_message": format!("Created {} access token with token_id: {token} with scopes: [:api]", kind.to_lowercase()),
            "ip_address": "203.0.113.7", "entity_path": entity},
        "created_at": "2025-01-10T09:00:00.000Z"})
}

async fn mount(server: &MockServer, p: String, body: Value) {
    Mock::given(method("GET"))
        .and(path(p))
        .respond_with(ok(body))
        .mount(server)
        .await;
}

/// The first GET of `p` answers `status` with `Retry-After: 0`; the host retries.
async fn fail_once(server: &MockServer, p: String, status: u16) {
    Mock::given(method("GET"))
        .and(path(p))
        .respond_with(ResponseTemplate::new(status).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
}

async fn gitlab_fixture() -> MockServer {
    let server = MockServer::start().await;
    let uri = server.uri();
    // Members: two pages linked by `Link`, as GitLab's offset pagination sends them.
    Mock::given(method("GET"))
        .and(path(format!("{GROUP}/members/all")))
        .and(query_param_is_missing("page"))
        .respond_with(
            ok(json!([member(7, "alice", "active", false), member(9, "bob", "deactivated", false)])).insert_header(
                "link",
                format!("<{uri}{GROUP}/members/all?page=2&per_page=100>; rel=\"next\", <{uri}{GROUP}/members/all?page=2&per_page=100>; rel=\"last\"").as_str(),
            ),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{GROUP}/members/all")))
        .and(query_param("page", "2"))
        .respond_with(ok(json!([member(500, "project_12_bot_4f2a", "active", true)])))
        .mount(&server)
        .await;
    // Audit events: a 429 first.
    fail_once(&server, format!("{GROUP}/audit_events"), 429).await;
    mount(
        &server,
        format!("{GROUP}/audit_events"),
        json!([token_created(1, 7, "Alice", 41, "acme/platform", "Group")]),
    )
    .await;
    mount(
        &server,
        format!("{GROUP}/access_tokens"),
        json!([access_token(
            41,
            400,
            "ci-reader",
            &["read_api"],
            json!("2027-01-31"),
            30
        )]),
    )
    .await;
    // Deploy tokens: a 502 first.
    fail_once(&server, format!("{GROUP}/deploy_tokens"), 502).await;
    mount(
        &server,
        format!("{GROUP}/deploy_tokens"),
        json!([{"id": 1, "name": "registry-pull",
        "username": "gitlab+deploy-token-1", "expires_at": null, "revoked": false, "expired": false,
        "scopes": ["read_registry"]}]),
    )
    .await;
    mount(
        &server,
        format!("{GROUP}/service_accounts"),
        json!([{"id": 57,
        "username": "service_account_group_345_9a1b", "name": "Release bot",
        "email": "service_account_group_345_9a1b@noreply.gitlab.example.com"}]),
    )
    .await;
    mount(
        &server,
        format!("{GROUP}/service_accounts/57/personal_access_tokens"),
        json!([{"id": 60,
        "name": "release", "revoked": false, "created_at": "2025-06-01T00:00:00.000Z", "description": "",
        "scopes": ["api", "write_repository"], "user_id": 57, "last_used_at": null, "active": true,
        "expires_at": "2027-06-01"}]),
    )
    .await;
    // The credentials inventory: people's tokens (the service account's token is not one).
    mount(
        &server,
        format!("{GROUP}/manage/personal_access_tokens"),
        json!([
            personal_token(70, 7, "laptop", &["read_api"], json!("2027-02-01")),
            personal_token(71, 9, "langgraph-agent", &["api"], Value::Null)
        ]),
    )
    .await;
    let project = |id: u64, name: &str, archived: bool| {
        json!({"id": id, "name": name, "path": name, "path_with_namespace": format!("acme/platform/{name}"),
            "default_branch": "main", "visibility": "private", "archived": archived,
            "http_url_to_repo": format!("{uri}/acme/platform/{name}.git"),
            "last_activity_at": "2026-11-30T10:00:00.000Z"})
    };
    Mock::given(method("GET"))
        .and(path(format!("{GROUP}/projects")))
        .and(query_param("include_subgroups", "true"))
        .respond_with(ok(json!([project(12, "agent", false), project(13, "attic", true)])))
        .mount(&server)
        .await;
    mount(
        &server,
        format!("{PROJECT}/access_tokens"),
        json!([access_token(42, 500, "deploy-agent", &["api"], Value::Null, 40)]),
    )
    .await;
    Mock::given(method("GET"))
        .and(path(format!("{PROJECT}/deploy_keys")))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"message": "403 Forbidden"})))
        .mount(&server)
        .await;
    mount(
        &server,
        format!("{PROJECT}/audit_events"),
        json!([token_created(2, 9, "Bob", 42, "acme/platform/agent", "Project")]),
    )
    .await;
    server
}

fn config(uri: &str) -> String {
    format!(
        "[[source]]\nname = \"gl\"\nconnector = \"gitlab\"\ngroup = \"acme/platform\"\nbase_url = \"{uri}\"\nhttp_retries = 2\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_connector_inventories_tokens_bots_service_accounts_and_their_creators() {
    let server = gitlab_fixture().await;
    let uri = server.uri();
    let (env, code, report, stderr) = Env::new(ROSTER)
        .collect_json(config(&uri), vec![("GITLAB_TOKEN", TOKEN.to_string())])
        .await;
    assert_eq!(code, 3, "an incomplete run exits 3: {stderr}");
    let run = &report["connectors"][0];
    assert_eq!(run["status"], "incomplete", "{run:#}");
    let notes = run["notes"].to_string();
    assert!(
        notes.contains("deploy keys of acme/platform/agent: 403 from"),
        "{notes}"
    );
    assert_eq!(run["notes"].as_array().unwrap().len(), 1, "{notes}");

    // The group access token's bot, created by an active member.
    let reader = identity(&report, "gitlab-user:400");
    assert_eq!(reader["kind"], "service-principal");
    assert_eq!(reader["owner"]["name"], "alice", "{reader:#}");
    let cred = &reader["credentials"][0];
    assert_eq!(cred["id"], "gitlab-token:41");
    assert_eq!(cred["expires"], "2027-01-31T00:00:00Z");
    assert_eq!(cred["last_used"], "2026-11-28T08:00:00Z");
    assert_eq!(cred["attrs"]["scopes"], "read_api");

    // The project access token's bot (a member on page 2): `api`, no expiry, created by a
    // deactivated user, so it has no active owner.
    let bot = identity(&report, "gitlab-user:500");
    assert_eq!(bot["name"], "project_12_bot_4f2a");
    assert_eq!(bot["attrs"]["project"], "acme/platform/agent");
    assert_eq!(bot["owner"]["name"], "bob", "{bot:#}");
    assert_eq!(bot["owner"]["via"], "creator");
    assert_eq!(bot["owner"]["enabled"], false, "bob is deactivated");
    assert!(bot["credentials"][0]["expires"].is_null());
    assert!(roster_testkit::has_permission(bot, "api"), "{bot:#}");

    // The service account and its token; the deploy token after a 502.
    let sa = identity(&report, "gitlab-user:57");
    assert_eq!(sa["name"], "service_account_group_345_9a1b");
    assert_eq!(sa["credentials"][0]["id"], "gitlab-token:60");
    assert_eq!(
        identity(&report, "gitlab-deploy-token:1")["attrs"]["username"],
        "gitlab+deploy-token-1"
    );
    let events = report["activities"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{events:#?}");

    // People's personal access tokens from the credentials inventory, owned by their users.
    let pat = identity(&report, "gitlab-pat:71");
    assert_eq!(pat["kind"], "personal-access-token");
    assert_eq!(pat["name"], "langgraph-agent");
    assert_eq!(pat["owner"]["name"], "bob", "{pat:#}");
    assert_eq!(pat["owner"]["enabled"], false, "bob is deactivated");
    assert!(pat["credentials"][0]["expires"].is_null());
    assert!(roster_testkit::has_permission(pat, "api"), "{pat:#}");
    let laptop = identity(&report, "gitlab-pat:70");
    assert_eq!(laptop["owner"]["name"], "alice");
    assert_eq!(laptop["credentials"][0]["expires"], "2027-02-01T00:00:00Z");

    let got = server.received_requests().await.unwrap();
    assert!(
        got.iter()
            .all(|r| r.headers.get("authorization").unwrap() == &format!("Bearer {TOKEN}")[..]),
        "the host attaches the token"
    );
    let count = |p: &str| got.iter().filter(|r| r.url.path() == p).count();
    assert_eq!(count(&format!("{GROUP}/members/all")), 2, "two pages");
    assert!(
        got.iter()
            .any(|r| r.url.path() == format!("{GROUP}/members/all") && r.url.query() == Some("page=2&per_page=100"))
    );
    assert_eq!(count(&format!("{GROUP}/audit_events")), 2, "429, then retried");
    assert_eq!(count(&format!("{GROUP}/deploy_tokens")), 2, "502, then retried");
    assert!(
        got.iter().all(|r| !r.url.path().contains("attic")),
        "archived projects are not read"
    );
    env.assert_state_holds_none(&[TOKEN]);

    // discover: the deactivated creator leaves the `api` bot without an owner.
    let out = tokio::task::spawn_blocking(move || {
        let out = env.roster_env(
            &["discover", "--config", "roster.toml", "--output-dir", "out"],
            &[("GITLAB_TOKEN", TOKEN)],
        );
        (env, out)
    })
    .await
    .unwrap();
    let (env, out) = out;
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&std::fs::read(env.path("out/report.json")).unwrap()).unwrap();
    let gap = roster_testkit::gap(&report, "no-owner", "project_12_bot_4f2a")
        .unwrap_or_else(|| panic!("{:#}", report["gaps"]));
    assert!(gap["evidence"].to_string().contains("bob"), "{gap:#}");
    assert!(roster_testkit::gap(&report, "no-owner", "ci-reader").is_none());
    assert!(
        roster_testkit::gap(&report, "no-owner", "langgraph-agent").is_some(),
        "bob's own token has no active owner either: {:#}",
        report["gaps"]
    );
    assert!(roster_testkit::gap(&report, "no-owner", "laptop").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_gitlab_token_fails_the_source_at_the_first_401() {
    let server = MockServer::start().await;
    mount(
        &server,
        format!("{GROUP}/members/all"),
        json!([member(7, "alice", "active", false)]),
    )
    .await;
    // The token is revoked between two requests: GitLab answers 401 from then on.
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "401 Unauthorized"})))
        .with_priority(10)
        .mount(&server)
        .await;
    let (_env, code, report, stderr) = Env::new(ROSTER)
        .collect_json(config(&server.uri()), vec![("GITLAB_TOKEN", TOKEN.to_string())])
        .await;
    assert_ne!(code, 0, "{stderr}");
    let run = &report["connectors"][0];
    assert_eq!(run["status"], "failed", "{run:#}");
    let error = run["error"].as_str().unwrap();
    assert!(
        error.contains("401 from") && error.contains("401 Unauthorized"),
        "{run:#}"
    );
    assert!(!error.contains(TOKEN));
    let got = server.received_requests().await.unwrap();
    assert_eq!(got.len(), 2, "a 401 ends the run: {got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_links_outside_the_group_are_refused() {
    let server = MockServer::start().await;
    let uri = server.uri();
    // A hostile next link: the parent group, then a path that decodes out of the group.
    Mock::given(method("GET"))
        .and(path(format!("{GROUP}/members/all")))
        .respond_with(ok(json!([])).insert_header(
            "link",
            format!("<{uri}/api/v4/groups/acme/members/all?page=2>; rel=\"next\"").as_str(),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{GROUP}/projects")))
        .respond_with(
            ok(json!([])).insert_header(
                "link",
                format!("<{uri}/api/v4/projects/acme%2Fplatform%2F..%2F..%2Fother%2Fapp/access_tokens>; rel=\"next\"")
                    .as_str(),
            ),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ok(json!([])))
        .with_priority(10)
        .mount(&server)
        .await;
    let (_env, code, report, stderr) = Env::new(ROSTER)
        .collect_json(
            format!("{}audit_events = false\n", config(&uri)),
            vec![("GITLAB_TOKEN", TOKEN.to_string())],
        )
        .await;
    assert_eq!(code, 3, "an incomplete run exits 3: {stderr}");
    let run = &report["connectors"][0];
    assert_eq!(run["denied_requests"], 2, "{run:#}");
    let got = server.received_requests().await.unwrap();
    assert!(
        got.iter().all(|r| r.url.path().starts_with(GROUP)),
        "no request left the group: {:?}",
        got.iter().map(|r| r.url.path().to_string()).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discover_clones_the_groups_projects_with_the_oauth2_token_and_finds_a_planted_key() {
    use base64::Engine as _;
    use roster_testkit::{fake, git_in};
    let work = Env::new(ROSTER);
    let key = fake::openai_project();
    work.write("agent/agent.py", format!("OPENAI_API_KEY = \"{key}\"\n"));
    work.git("agent", &["init", "-q", "-b", "main"]);
    work.git("agent", &["add", "."]);
    work.git("agent", &["commit", "-qm", "agent"]);
    let served = work.path("served/agent.git");
    git_in(
        &work.path("served"),
        &[
            "clone",
            "-q",
            "--bare",
            work.path("agent").to_str().unwrap(),
            "agent.git",
        ],
    );
    git_in(&served, &["update-server-info"]);

    let server = gitlab_fixture().await;
    let uri = server.uri();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("oauth2:{TOKEN}"));
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex("^/acme/platform/agent\\.git/"))
        .respond_with(crate::collect_github::DumbGit {
            root: served.clone(),
            prefix: "/acme/platform/agent.git/".into(),
            authorization: format!("Basic {basic}"),
        })
        .mount(&server)
        .await;
    let env = Env::new(ROSTER);
    env.write("roster.toml", format!("{}scan_repos = true\n", config(&uri)));
    let (env, out) = tokio::task::spawn_blocking(move || {
        let out = env.roster_env(
            &["discover", "--config", "roster.toml", "--output-dir", "out"],
            &[("GITLAB_TOKEN", TOKEN)],
        );
        (env, out)
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&std::fs::read(env.path("out/report.json")).unwrap()).unwrap();
    let scan_of = |name: &str| {
        report["repositories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["full_name"] == format!("acme/platform/{name}"))
            .unwrap_or_else(|| panic!("{:#}", report["repositories"]))["scan"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(scan_of("agent"), "scanned");
    assert!(scan_of("attic").starts_with("skipped: archived"));
    let found = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "openai.project-key")
        .unwrap_or_else(|| panic!("{:#}", report["findings"]));
    assert_eq!(found["source"], "gl:acme/platform/agent");
    assert_eq!(found["path"], "agent.py");
    let got = server.received_requests().await.unwrap();
    let git: Vec<_> = got
        .iter()
        .filter(|r| r.url.path().starts_with("/acme/platform/agent.git/"))
        .collect();
    assert!(git.iter().any(|r| r.url.path().ends_with("/info/refs")));
    assert!(
        git.iter()
            .all(|r| r.headers["authorization"] == format!("Basic {basic}")[..]),
        "git sends the token as oauth2's password"
    );
    assert!(env.state().join("repos/gl/acme/platform/agent.git/HEAD").is_file());
    env.assert_state_holds_none(&[TOKEN, &basic]);
}

#[test]
fn gitlab_reads_glab_api_exports_without_the_api() {
    let env = Env::new(ROSTER);
    // `glab api --paginate groups/acme/members/all`: two pages, saved as an array of pages.
    env.write(
        "exports/members.json",
        json!([
            [member(9, "bob", "deactivated", false)],
            [member(500, "project_12_bot_4f2a", "active", true)]
        ])
        .to_string(),
    );
    env.write(
        "exports/audit.json",
        json!([token_created(2, 9, "Bob", 42, "acme/agent", "Project")]).to_string(),
    );
    env.write(
        "exports/tokens/acme-agent.json",
        json!([access_token(42, 500, "deploy-agent", &["api"], Value::Null, 40)]).to_string(),
    );
    env.write(
        "exports/keys/acme-agent.json",
        json!([{"id": 3, "title": "ci-push", "key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFixtureKeyOnly",
            "fingerprint_sha256": "SHA256:fixture", "created_at": "2025-02-01T00:00:00.000Z",
            "expires_at": null, "can_push": true}])
        .to_string(),
    );
    // `glab api --paginate personal_access_tokens` by an administrator: every token of the
    // instance, the bot's (listed above as its project's) among them.
    env.write(
        "exports/pats.json",
        json!([
            personal_token(42, 500, "deploy-agent", &["api"], Value::Null),
            personal_token(73, 9, "notebook", &["read_repository"], json!("2026-12-31"))
        ])
        .to_string(),
    );
    env.write("exports/broken.json", "{\"message\": \"404 Not Found\"}");
    let files = "{ path = \"exports/members.json\", format = \"members\" },\n\
        { path = \"exports/audit.json\", format = \"audit-events\" },\n\
        { path = \"exports/tokens/acme-agent.json\", format = \"project-access-tokens\" },\n\
        { path = \"exports/keys/acme-agent.json\", format = \"deploy-keys\" },\n\
        { path = \"exports/pats.json\", format = \"personal-access-tokens\" }";
    let source = |files: &str| {
        format!("[[source]]\nconnector = \"gitlab\"\napi = false\ngroup = \"acme\"\nfiles = [\n{files}\n]\n")
    };
    let report = env.collect_config(source(files));
    roster_testkit::assert_complete(&report);
    let bot = identity(&report, "gitlab-user:500");
    assert_eq!(bot["attrs"]["project"], "acme-agent", "the file names the project");
    assert_eq!(bot["owner"]["name"], "bob");
    assert_eq!(bot["owner"]["enabled"], false);
    assert_eq!(bot["credentials"][0]["id"], "gitlab-token:42");
    let key = identity(&report, "gitlab-deploy-key:acme-agent:3");
    assert_eq!(key["kind"], "deploy-key");
    assert_eq!(key["attrs"]["can_push"], "true");
    assert!(roster_testkit::has_permission(key, "write_repository"), "{key:#}");
    assert_eq!(identity(&report, "gitlab-pat:73")["owner"]["name"], "bob");
    let ids = report["identities"].to_string();
    assert!(
        !ids.contains("gitlab-pat:42"),
        "the bot's token is its project's, not a person's"
    );

    // A broken export names the file; what the other files gave is kept.
    let report = env.collect_config(source(&format!(
        "{files},\n{{ path = \"exports/broken.json\", format = \"deploy-tokens\" }}"
    )));
    let run = report["connectors"][0].to_string();
    assert!(
        run.contains("broken.json") && run.contains("not a list response"),
        "{run}"
    );
    assert_eq!(
        identity(&report, "gitlab-user:500")["credentials"][0]["id"],
        "gitlab-token:42"
    );
}
