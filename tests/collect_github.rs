//! `roster collect` with the github connector against a fixture server in GitHub's documented
//! REST shapes: Link paging, a 429, a 5xx, a 403 and a 404 (no audit log on this plan).

use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::ROSTER;
use roster_testkit::http::ok;
use roster_testkit::{Env, identity};

const TOKEN: &str = "ghs_fixtureTokenForRosterTests0123456789";

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
    let (_env, code, report, stderr) = Env::new(ROSTER)
        .collect_json(
            format!("[[source]]\nconnector = \"github\"\norg = \"acme\"\nendpoint_url = \"{uri}\"\nhttp_retries = 2\n"),
            vec![("GITHUB_TOKEN", TOKEN.to_string())],
        )
        .await;
    assert_eq!(code, 3, "an incomplete run exits 3: {stderr}");
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
    assert!(roster_testkit::has_permission(app, "contents:write"), "{app:#}");
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
        roster_testkit::has_permission(pat, "repository/contents:write"),
        "{pat:#}"
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
    let (_env, code, report, stderr) = Env::new(ROSTER)
        .collect_json(
            format!(
                "[[source]]\nconnector = \"github\"\norg = \"acme\"\nendpoint_url = \"{uri}\"\naudit_log = false\n"
            ),
            vec![("GITHUB_TOKEN", TOKEN.to_string())],
        )
        .await;
    assert_eq!(code, 3, "an incomplete run exits 3: {stderr}");
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
    let key = roster_testkit::keys::test_key_file();
    let (env, code, report, stderr) = Env::new(ROSTER)
        .collect_json(
            format!(
                "[[source]]\nconnector = \"github\"\norg = \"acme\"\nendpoint_url = \"{uri}\"\nhttp_retries = 2\n\
             auth = \"app\"\napp_id = 424242\ninstallation_id = 777\nprivate_key_file = \"{}\"\n",
                key.path().display()
            ),
            vec![],
        )
        .await;
    assert_eq!(code, 3, "an incomplete run exits 3: {stderr}");
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
    let (head, claims) = roster_testkit::keys::verify_jwt(&jwt);
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
        assert!(!roster_testkit::contains(
            &roster_testkit::all_bytes_under(&env.state()),
            s
        ));
        assert!(!serde_json::to_string(&report).unwrap().contains(s));
    }
}

#[test]
fn app_settings_without_auth_app_are_an_error_not_silently_ignored() {
    let env = Env::new(ROSTER);
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

/// A github source of organization acme on the fixture server at `uri` whose repositories are
/// fetched and scanned.
fn scan_repos_config(uri: &str) -> String {
    format!(
        "[[source]]\nname = \"gh\"\nconnector = \"github\"\norg = \"acme\"\nendpoint_url = \"{uri}\"\nhttp_retries = 0\nscan_repos = true\n"
    )
}

/// Serves a bare repository over git's "dumb" HTTP protocol (plain files, as any static web
/// server would), only to requests carrying `authorization` (also GitLab's, in collect_gitlab).
pub(crate) struct DumbGit {
    pub(crate) root: std::path::PathBuf,
    pub(crate) prefix: String,
    pub(crate) authorization: String,
}

impl wiremock::Respond for DumbGit {
    fn respond(&self, req: &wiremock::Request) -> ResponseTemplate {
        if req.headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(self.authorization.as_str()) {
            return ResponseTemplate::new(401).insert_header("www-authenticate", "Basic realm=\"GitHub\"");
        }
        let rel = req.url.path().strip_prefix(self.prefix.as_str()).unwrap_or_default();
        if rel.split('/').any(|p| p == "..") {
            return ResponseTemplate::new(404);
        }
        match std::fs::read(self.root.join(rel)) {
            Ok(bytes) => ResponseTemplate::new(200)
                .insert_header("content-type", "text/plain")
                .set_body_bytes(bytes),
            Err(_) => ResponseTemplate::new(404),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discover_clones_the_organizations_repositories_with_the_host_credential_and_scans_their_history() {
    use base64::Engine as _;
    use roster_testkit::{fake, git_in};
    // acme/app: a key committed, then removed.
    let work = Env::new(ROSTER);
    let key = fake::openai_project();
    work.write("app/README.md", "app\n");
    work.write("app/.github/CODEOWNERS", "* @acme/ml-platform\n");
    work.git("app", &["init", "-q", "-b", "main"]);
    work.git("app", &["add", "."]);
    work.git("app", &["commit", "-qm", "init"]);
    work.write("app/agent.py", format!("OPENAI_API_KEY = \"{key}\"\n"));
    work.git("app", &["add", "."]);
    work.git("app", &["commit", "-qm", "add agent"]);
    work.write(
        "app/agent.py",
        "import os\nOPENAI_API_KEY = os.environ[\"OPENAI_API_KEY\"]\n",
    );
    work.git("app", &["commit", "-qam", "read the key from the environment"]);
    let served = work.path("served/app.git");
    git_in(
        &work.path("served"),
        &["clone", "-q", "--bare", work.path("app").to_str().unwrap(), "app.git"],
    );
    git_in(&served, &["update-server-info"]);

    let server = MockServer::start().await;
    let uri = server.uri();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{TOKEN}"));
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex("^/acme/app\\.git/"))
        .respond_with(DumbGit {
            root: served.clone(),
            prefix: "/acme/app.git/".into(),
            authorization: format!("Basic {basic}"),
        })
        .mount(&server)
        .await;
    let repo = |name: &str, clone_url: String, fork: bool, archived: bool| {
        json!({"id": 1, "name": name, "full_name": format!("acme/{name}"), "private": true, "fork": fork,
            "archived": archived, "default_branch": "main", "visibility": "private", "clone_url": clone_url,
            "pushed_at": "2026-11-30T10:00:00Z"})
    };
    Mock::given(method("GET"))
        .and(path("/orgs/acme/repos"))
        .respond_with(ok(json!([
            repo("app", format!("{uri}/acme/app.git"), false, false),
            repo("forked-lib", format!("{uri}/acme/forked-lib.git"), true, false),
            repo("attic", format!("{uri}/acme/attic.git"), false, true),
            // A listing that points the clone at another host does not get the credential.
            repo(
                "elsewhere",
                "https://git.example.net/acme/elsewhere.git".into(),
                false,
                false
            ),
        ])))
        .mount(&server)
        .await;

    let env = Env::new(ROSTER);
    env.write("roster.toml", scan_repos_config(&uri));
    let run = move |env: Env| async move {
        tokio::task::spawn_blocking(move || {
            let out = env.roster_env(
                &["discover", "--config", "roster.toml", "--output-dir", "out"],
                &[("GITHUB_TOKEN", TOKEN)],
            );
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert_eq!(out.status.code(), Some(3), "{stderr}");
            let report: Value = serde_json::from_slice(&std::fs::read(env.path("out/report.json")).unwrap()).unwrap();
            (env, report)
        })
        .await
        .unwrap()
    };
    let (env, report) = run(env).await;
    let scan_of = |r: &Value, name: &str| {
        r["repositories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["full_name"] == format!("acme/{name}"))
            .unwrap_or_else(|| panic!("{:#}", r["repositories"]))["scan"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(scan_of(&report, "app"), "scanned");
    assert!(scan_of(&report, "forked-lib").starts_with("skipped: fork"));
    assert!(scan_of(&report, "attic").starts_with("skipped: archived"));
    assert!(
        scan_of(&report, "elsewhere").contains("not on the code host"),
        "{}",
        scan_of(&report, "elsewhere")
    );
    assert_eq!(report["incomplete"], true, "a repository was not scanned");
    let findings = report["findings"].as_array().unwrap();
    let found = findings
        .iter()
        .find(|f| f["rule_id"] == "openai.project-key")
        .unwrap_or_else(|| panic!("{findings:#?}"));
    assert_eq!(found["source"], "gh:acme/app");
    assert_eq!(found["path"], "agent.py");
    // CODEOWNERS comes from the clone's default branch: the committed key has an owner.
    let gap = report["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["kind"] == "committed-secret")
        .unwrap_or_else(|| panic!("{:#}", report["gaps"]));
    assert_eq!(gap["owner"]["name"], "@acme/ml-platform", "{gap:#}");
    // The credential went only to the code host's git endpoint, from the host; it is nowhere in
    // the clone's config or the state directory.
    let got = server.received_requests().await.unwrap();
    assert!(got.iter().any(|r| r.url.path() == "/acme/app.git/info/refs"));
    assert!(
        got.iter()
            .filter(|r| r.url.path().starts_with("/acme/app.git/"))
            .all(|r| r.headers["authorization"] == format!("Basic {basic}")[..])
    );
    let state = roster_testkit::all_bytes_under(&env.state());
    assert!(!roster_testkit::contains(&state, TOKEN));
    assert!(!roster_testkit::contains(&state, &basic));
    assert!(env.state().join("repos/gh/acme/app.git/HEAD").is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for dir in [env.state(), env.state().join("repos")] {
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{} holds private source: {mode:o}", dir.display());
        }
    }

    // A new commit upstream: the next run fetches into the same clone and finds it.
    let later = fake::anthropic();
    work.write("app/summarize.py", format!("ANTHROPIC_API_KEY = \"{later}\"\n"));
    work.git("app", &["add", "."]);
    work.git("app", &["commit", "-qm", "summarizer"]);
    work.git("app", &["push", "-q", served.to_str().unwrap(), "main"]);
    git_in(&served, &["update-server-info"]);
    let (env, report) = run(env).await;
    let found_in = |r: &Value, file: &str| {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["source"] == "gh:acme/app" && f["path"] == file)
    };
    assert!(found_in(&report, "summarize.py"), "{:#}", report["findings"]);

    // The code host is unreachable for a run: the clone from before is scanned, so nothing
    // found earlier vanishes, and the report says the copy is stale.
    server.reset().await;
    let (_env, report) = run(env).await;
    assert!(
        scan_of(&report, "app").starts_with("stale: "),
        "{}",
        scan_of(&report, "app")
    );
    assert!(found_in(&report, "agent.py") && found_in(&report, "summarize.py"));
    assert_eq!(report["incomplete"], true);
}

/// On a terminal, `collect` shows one progress line with every source's progress; piped, it
/// writes none. The terminal is a real pseudo-terminal (util-linux `script`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_shows_per_source_on_a_terminal_and_stays_quiet_when_piped() {
    let server = github_fixture().await;
    let uri = server.uri();
    let env = Env::new(ROSTER);
    env.write(
        "roster.toml",
        format!(
            "[[source]]\nname = \"gh-one\"\nconnector = \"github\"\norg = \"acme\"\nendpoint_url = \"{uri}\"\nhttp_retries = 2\n\
             [[source]]\nname = \"gh-two\"\nconnector = \"github\"\norg = \"acme\"\nendpoint_url = \"{uri}\"\nhttp_retries = 2\n"
        ),
    );
    let (env, tty, piped) = tokio::task::spawn_blocking(move || {
        let tty = std::process::Command::new("script")
            .args([
                "-qefc",
                &format!("'{ROSTER}' collect --config roster.toml --output out.json"),
                "/dev/null",
            ])
            .current_dir(env.dir.path())
            .env("ROSTER_STATE_DIR", env.state())
            .env("GITHUB_TOKEN", TOKEN)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("util-linux script runs");
        let piped = env.roster_env(
            &["collect", "--config", "roster.toml", "--output", "out.json"],
            &[("GITHUB_TOKEN", TOKEN)],
        );
        (env, tty, piped)
    })
    .await
    .unwrap();
    let shown = String::from_utf8_lossy(&tty.stdout);
    assert!(
        shown.contains("\r\x1b[2Kcollecting: ") && shown.contains("GitHub repositories"),
        "{shown:?}"
    );
    for source in ["gh-one: ", "gh-two: "] {
        assert!(shown.contains(source), "{source} not shown: {shown:?}");
    }
    let quiet = String::from_utf8_lossy(&piped.stderr);
    assert!(!quiet.contains("collecting:") && !quiet.contains('\x1b'), "{quiet:?}");
    assert!(env.path("out.json").is_file());
}

/// A code host's repositories split across shards: the organization is listed once for the
/// run (by the first shard), each repository is fetched by exactly one shard, and the merged
/// run equals the run on one machine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharded_discover_lists_the_code_host_once_and_fetches_each_repository_in_one_shard() {
    use base64::Engine as _;
    use roster_testkit::{fake, git_in};
    let work = Env::new(ROSTER);
    let server = MockServer::start().await;
    let uri = server.uri();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{TOKEN}"));
    let names: Vec<String> = (0..6).map(|i| format!("svc-{i}")).collect();
    let mut listed = vec![];
    for name in &names {
        work.write(
            &format!("{name}/agent.py"),
            format!("OPENAI_API_KEY = \"{}\"\n", fake::openai_project()),
        );
        work.git(name, &["init", "-q", "-b", "main"]);
        work.git(name, &["add", "."]);
        work.git(name, &["commit", "-qm", "agent"]);
        git_in(
            &work.path("served"),
            &[
                "clone",
                "-q",
                "--bare",
                work.path(name).to_str().unwrap(),
                &format!("{name}.git"),
            ],
        );
        git_in(&work.path(&format!("served/{name}.git")), &["update-server-info"]);
        Mock::given(method("GET"))
            .and(wiremock::matchers::path_regex(format!("^/acme/{name}\\.git/")))
            .respond_with(DumbGit {
                root: work.path(&format!("served/{name}.git")),
                prefix: format!("/acme/{name}.git/"),
                authorization: format!("Basic {basic}"),
            })
            .mount(&server)
            .await;
        listed.push(
            json!({"id": 1, "name": name, "full_name": format!("acme/{name}"), "private": true, "fork": false,
            "archived": false, "default_branch": "main", "visibility": "private",
            "clone_url": format!("{uri}/acme/{name}.git"), "pushed_at": "2026-11-30T10:00:00Z"}),
        );
    }
    Mock::given(method("GET"))
        .and(path("/orgs/acme/repos"))
        .respond_with(ok(Value::Array(listed)))
        .mount(&server)
        .await;

    let env = Env::new(ROSTER);
    env.write("roster.toml", scan_repos_config(&uri));
    let key = "0a".repeat(32);
    let db = roster_testkit::postgres::database();
    let env = tokio::task::spawn_blocking(move || {
        let run = |state: &str, db: Option<&str>, args: &[&str]| {
            let mut cmd = std::process::Command::new(ROSTER);
            cmd.args(["discover", "--config", "roster.toml", "--state-dir", state])
                .args(args)
                .env("GITHUB_TOKEN", TOKEN)
                .env("ROSTER_FINGERPRINT_KEY", &key)
                .current_dir(env.dir.path())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            if let Some(db) = db {
                cmd.env("ROSTER_DATABASE_URL", db);
            }
            cmd.spawn().unwrap()
        };
        let single = run("st-single", None, &["--output-dir", "single"])
            .wait_with_output()
            .unwrap();
        assert!(
            single.status.code() == Some(3),
            "{}",
            String::from_utf8_lossy(&single.stderr)
        );
        let shards: Vec<_> = (0..3)
            .map(|k| {
                run(
                    &format!("st-{k}"),
                    Some(&db),
                    &["--run-id", "r", "--shard", &format!("{k}/3")],
                )
            })
            .collect();
        for s in shards {
            let out = s.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        let merged = run(
            "st-merge",
            Some(&db),
            &["--run-id", "r", "--merge", "--output-dir", "merged"],
        )
        .wait_with_output()
        .unwrap();
        assert_eq!(
            merged.status.code(),
            Some(3),
            "{}",
            String::from_utf8_lossy(&merged.stderr)
        );
        env
    })
    .await
    .unwrap();
    let read = |rel: &str| -> Value { serde_json::from_slice(&std::fs::read(env.path(rel)).unwrap()).unwrap() };
    let (single, merged) = (read("single/report.json"), read("merged/report.json"));
    let scanned = |r: &Value| {
        r["repositories"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["scan"] == "scanned")
            .count()
    };
    assert_eq!(scanned(&single), 6);
    assert_eq!(merged["repositories"], single["repositories"]);
    assert_eq!(merged["findings"], single["findings"]);
    assert_eq!(merged["findings"].as_array().unwrap().len(), 6);
    let ids = |r: &Value| -> Vec<String> {
        r["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&merged), ids(&single));
    // The organization was listed twice in all: once by the single run, once for the shards;
    // each repository was fetched twice: once by the single run, once by its shard.
    let got = server.received_requests().await.unwrap();
    let count = |p: &str| got.iter().filter(|r| r.url.path() == p).count();
    assert_eq!(count("/orgs/acme/repos"), 2);
    for name in &names {
        assert_eq!(count(&format!("/acme/{name}.git/info/refs")), 2, "{name}");
    }
    // Each shard cloned only its own repositories.
    let cloned: usize = (0..3)
        .map(|k| {
            std::fs::read_dir(env.path(&format!("st-{k}/repos/gh/acme")))
                .map(|d| d.count())
                .unwrap_or(0)
        })
        .sum();
    assert_eq!(cloned, 6);
}
