//! `[[notify]]`: what `roster discover` tells webhooks, Slack and Jira about the changes since
//! the previous run of the scope, through the real binary, against local receivers that answer
//! as each service documents (wiremock; a small stateful Jira).

use crate::ROSTER;
use crate::discover::{SAMPLE_SECRETS, assert_every_sample_gap};
use roster_testkit::{Env, all_bytes_under, contains, fake};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const HOOK_SECRET: &str = "whsec-notify-test-Zq8vR2mK7pL4sD9x";

fn read_json(p: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

/// Runs roster off the async runtime the receivers are on.
fn roster(env: &Env, args: &[&str], vars: &[(&str, &str)]) -> Output {
    tokio::task::block_in_place(|| env.roster_env(args, vars))
}

fn discover(env: &Env, config: &str, out: &str, vars: &[(&str, &str)]) -> (Output, Value) {
    let o = roster(env, &["discover", "--config", config, "--output-dir", out], vars);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    let report = read_json(&env.path(&format!("{out}/report.json")));
    (o, report)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The requests `server` received at `at`.
async fn received(server: &MockServer, at: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == at)
        .collect()
}

fn notification<'a>(report: &'a Value, target: &str) -> &'a Value {
    report["notifications"]
        .as_array()
        .unwrap_or_else(|| panic!("no notifications in the report"))
        .iter()
        .find(|n| n["target"] == target)
        .unwrap_or_else(|| panic!("no notification for {target}: {:#}", report["notifications"]))
}

fn gap_ids<'a>(gaps: impl IntoIterator<Item = &'a Value>) -> BTreeSet<String> {
    gaps.into_iter().map(|g| g["id"].as_str().unwrap().to_owned()).collect()
}

/// The gap ids a webhook delivery carried, with their change.
fn delivered(r: &Request) -> BTreeSet<(String, String)> {
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["change"].as_str().unwrap().to_owned(),
                c["gap"]["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The signature header verifies: HMAC-SHA256 under `secret` over the exact body received.
fn assert_signed(r: &Request, secret: &str) {
    let sig = r.headers["x-roster-signature"].to_str().unwrap();
    let hex = sig.strip_prefix("sha256=").unwrap_or_else(|| panic!("{sig}"));
    let tag = roster_model::unhex(hex).unwrap();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    ring::hmac::verify(&key, &r.body, &tag).expect("the signature verifies over the received body");
    let wrong = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"another secret");
    assert!(ring::hmac::verify(&wrong, &r.body, &tag).is_err());
}

/// The sample organization written out by `roster demo` (which records its own run in
/// demo/state; the tests below record in the Env's state directory).
fn sample_org(env: &Env) -> String {
    let out = roster(env, &["demo", "--output", "demo"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    "demo/sample-org/roster.toml".into()
}

fn append(env: &Env, config: &str, more: &str) {
    let mut s = std::fs::read_to_string(env.path(config)).unwrap();
    s.push_str(more);
    env.write(config, s);
}

/// A small organization: a working tree with three committed keys (three gaps).
fn three_keys(env: &Env, notify: &str) {
    env.write("app/.env", format!("OPENAI_API_KEY={}\n", fake::openai_project()));
    env.write("app/hf.py", format!("token = \"{}\"\n", fake::huggingface()));
    env.write("app/gh.sh", format!("GITHUB_TOKEN={}\n", fake::github_pat()));
    env.write("roster.toml", format!("[scan]\npaths = [\"app\"]\n{notify}"));
}

/// The first run of the sample organization sends each of its gaps, new, in one signed POST;
/// an identical second run sends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_gets_every_new_gap_signed_and_nothing_when_nothing_changed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let env = Env::new(ROSTER);
    let config = sample_org(&env);
    append(
        &env,
        &config,
        &format!(
            "\n[[notify]]\nname = \"soc\"\nkind = \"webhook\"\nurl = \"{}/hook\"\nsecret_env = \"ROSTER_TEST_HOOK_SECRET\"\n",
            server.uri()
        ),
    );
    let vars = [("ROSTER_TEST_HOOK_SECRET", HOOK_SECRET)];
    let (out, report) = discover(&env, &config, "out", &vars);
    assert_every_sample_gap(&report);
    let stdout = text(&out.stdout);

    let reqs = received(&server, "/hook").await;
    assert_eq!(reqs.len(), 1, "one delivery");
    let r = &reqs[0];
    assert_signed(r, HOOK_SECRET);
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(r.headers["x-roster-event"], "gaps.changed");
    let delivery = r.headers["x-roster-delivery"].to_str().unwrap();
    assert!(
        delivery.len() == 32 && delivery.chars().all(|c| c.is_ascii_hexdigit()),
        "{delivery}"
    );
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["event"], "gaps.changed");
    assert_eq!(body["delivery"], delivery);
    assert_eq!(body["scope"], "acme");
    assert_eq!(body["run"], 1);
    assert_eq!(body["previous_run"], Value::Null, "the scope's first run");
    assert_eq!(body["roster_version"], env!("CARGO_PKG_VERSION"));
    let gaps = report["gaps"].as_array().unwrap();
    assert_eq!(
        body["counts"],
        json!({"new": gaps.len(), "worsened": 0, "resolved": 0, "lapsed": 0})
    );
    // Exactly the report's gaps, each new, each with what a receiver acts on.
    let changes = body["changes"].as_array().unwrap();
    assert_eq!(
        gap_ids(changes.iter().map(|c| &c["gap"])),
        gap_ids(gaps),
        "the gap ids of the report"
    );
    assert_eq!(changes.len(), gaps.len());
    for c in changes {
        assert_eq!(c["change"], "new");
        let g = &c["gap"];
        let mine = gaps.iter().find(|x| x["id"] == g["id"]).unwrap();
        for field in ["kind", "severity", "title", "owner", "evidence", "remediation"] {
            assert_eq!(g[field], mine[field], "{field} of {}", g["id"]);
        }
        assert!(!g["evidence"].as_array().unwrap().is_empty());
    }

    let n = notification(&report, "soc");
    assert_eq!(n["kind"], "webhook");
    assert_eq!(n["status"], "delivered");
    assert_eq!(n["attempts"], 1);
    assert_eq!(n["changes"]["new"], gaps.len());
    assert!(
        stdout.contains(&format!("Notify soc (webhook): delivered {} change(s)", gaps.len())),
        "{stdout}"
    );
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));

    // An identical run: nothing changed, nothing is sent.
    let (out, report) = discover(&env, &config, "out", &vars);
    assert_eq!(received(&server, "/hook").await.len(), 1, "nothing sent");
    let n = notification(&report, "soc");
    assert_eq!(n["status"], "nothing-to-send");
    assert_eq!(n["attempts"], 0);
    assert!(text(&out.stdout).contains("Notify soc (webhook): nothing to send"));
    let md = std::fs::read_to_string(env.path("out/report.md")).unwrap();
    assert!(
        md.contains("## Notifications") && md.contains("| soc | webhook | nothing-to-send |"),
        "{md}"
    );

    // No output holds the signing secret or a planted secret.
    let mut outputs = all_bytes_under(&env.path("out"));
    outputs.extend(all_bytes_under(&env.state()));
    outputs.extend(out.stdout);
    outputs.extend(out.stderr);
    for s in SAMPLE_SECRETS.iter().chain([&HOOK_SECRET]) {
        assert!(!contains(&outputs, s), "{}… is in the output", &s[..8]);
    }
}

/// Each target gets only what its filters let through: one owner's gaps, the critical ones,
/// one kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_route_each_owners_gaps_to_them() {
    let server = roster_testkit::http::answering_all("").await;
    let env = Env::new(ROSTER);
    let config = sample_org(&env);
    let uri = server.uri();
    let hook = |name: &str, filter: &str| {
        format!(
            "\n[[notify]]\nname = \"{name}\"\nkind = \"webhook\"\nurl = \"{uri}/{name}\"\nsecret_env = \"S\"\n{filter}\n"
        )
    };
    append(
        &env,
        &config,
        &[
            hook("bob", "owners = [\"BOB@acme.example\"]"),
            hook("critical", "min_severity = \"critical\""),
            hook(
                "secrets",
                "kinds = [\"committed-secret\", \"shared-credential\"]\nmin_severity = \"high\"",
            ),
            hook("nobody", "owners = [\"nobody@acme.example\"]"),
        ]
        .concat(),
    );
    let (_, report) = discover(&env, &config, "out", &[("S", HOOK_SECRET)]);
    assert_every_sample_gap(&report);
    let gaps = report["gaps"].as_array().unwrap();
    let sev = |g: &Value| {
        ["info", "low", "medium", "high", "critical"]
            .iter()
            .position(|s| g["severity"] == *s)
            .unwrap()
    };
    let expect = |f: &dyn Fn(&Value) -> bool| -> BTreeSet<(String, String)> {
        gaps.iter()
            .filter(|g| f(g))
            .map(|g| ("new".to_owned(), g["id"].as_str().unwrap().to_owned()))
            .collect()
    };
    let got = |reqs: Vec<Request>| {
        assert_eq!(reqs.len(), 1);
        assert_signed(&reqs[0], HOOK_SECRET);
        delivered(&reqs[0])
    };
    let bob = expect(&|g| g["owner"]["name"] == "bob@acme.example");
    assert!(!bob.is_empty());
    assert_eq!(got(received(&server, "/bob").await), bob);
    let critical = expect(&|g| g["severity"] == "critical");
    assert!(!critical.is_empty() && critical.len() < gaps.len());
    assert_eq!(got(received(&server, "/critical").await), critical);
    let secrets = expect(&|g| (g["kind"] == "committed-secret" || g["kind"] == "shared-credential") && sev(g) >= 3);
    assert!(!secrets.is_empty());
    assert_eq!(got(received(&server, "/secrets").await), secrets);
    assert!(received(&server, "/nobody").await.is_empty());
    assert_eq!(notification(&report, "nobody")["status"], "nothing-to-send");
    assert_eq!(notification(&report, "bob")["changes"]["new"], bob.len());
}

/// A 503, then a 429 with `Retry-After`, then a timeout, then success: delivered on the fourth
/// attempt. A receiver that keeps failing, or answers a 4xx, is reported on standard error and
/// in the report, while the run is recorded, its reports written and its exit code unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_receiver_is_retried_and_a_failure_never_loses_the_run() {
    let server = MockServer::start().await;
    for answer in [
        ResponseTemplate::new(503),
        ResponseTemplate::new(429).insert_header("Retry-After", "1"),
        ResponseTemplate::new(200).set_delay(Duration::from_secs(3)),
    ] {
        Mock::given(method("POST"))
            .and(path("/flaky"))
            .respond_with(answer)
            .up_to_n_times(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/flaky"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/down"))
        .respond_with(ResponseTemplate::new(500).set_body_string("database is down"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/gone"))
        .respond_with(ResponseTemplate::new(410))
        .mount(&server)
        .await;
    let env = Env::new(ROSTER);
    let uri = server.uri();
    let hook = |name: &str, policy: &str| {
        format!(
            "\n[[notify]]\nname = \"{name}\"\nkind = \"webhook\"\nurl = \"{uri}/{name}\"\nsecret_env = \"S\"\n{policy}\n"
        )
    };
    three_keys(
        &env,
        &[
            hook("flaky", "retries = 3\nbackoff_ms = 50\ntimeout_secs = 1"),
            hook("down", "retries = 2\nbackoff_ms = 10"),
            hook("gone", "retries = 3\nbackoff_ms = 10"),
        ]
        .concat(),
    );
    // The same run without targets, for the exit code.
    let plain = Env::new(ROSTER);
    three_keys(&plain, "");
    let baseline = roster(
        &plain,
        &["discover", "--config", "roster.toml", "--output-dir", "out"],
        &[],
    );

    let started = Instant::now();
    let (out, report) = discover(&env, "roster.toml", "out", &[("S", HOOK_SECRET)]);
    let took = started.elapsed();
    assert_eq!(
        out.status.code(),
        baseline.status.code(),
        "a failed delivery changes no exit code"
    );
    assert_eq!(report["gaps"].as_array().unwrap().len(), 3, "{:#}", report["gaps"]);

    let flaky = received(&server, "/flaky").await;
    assert_eq!(flaky.len(), 4, "503, 429, timeout, 200");
    for r in &flaky {
        assert_signed(r, HOOK_SECRET);
    }
    assert_eq!(
        flaky.iter().map(|r| r.body.clone()).collect::<BTreeSet<_>>().len(),
        1,
        "every attempt sends the same body"
    );
    let ids: BTreeSet<_> = flaky.iter().map(|r| r.headers["x-roster-delivery"].clone()).collect();
    assert_eq!(ids.len(), 1, "one delivery id across retries");
    assert!(
        took >= Duration::from_secs(2),
        "Retry-After (1 s) and the timeout (1 s) were waited: {took:?}"
    );
    let n = notification(&report, "flaky");
    assert_eq!(
        (n["status"].as_str(), n["attempts"].as_u64()),
        (Some("delivered"), Some(4))
    );

    assert_eq!(received(&server, "/down").await.len(), 3, "1 + 2 retries");
    let n = notification(&report, "down");
    assert_eq!(n["status"], "failed");
    assert_eq!(n["attempts"], 3);
    assert_eq!(n["changes"]["new"], 3);
    let host = uri.trim_start_matches("http://");
    let err = n["error"].as_str().unwrap();
    assert_eq!(
        err,
        format!("POST at {host}: 500 Internal Server Error: database is down (after 3 attempt(s))")
    );
    assert_eq!(received(&server, "/gone").await.len(), 1, "a 4xx is not retried");
    let n = notification(&report, "gone");
    assert_eq!(
        (n["status"].as_str(), n["attempts"].as_u64()),
        (Some("failed"), Some(1))
    );
    assert!(n["error"].as_str().unwrap().contains("410 Gone"), "{n:#}");

    // One line per failed target on standard error, none for the delivered one.
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("roster: notify")).collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines[0].starts_with("roster: notify \"down\" (webhook): failed: POST at "),
        "{stderr}"
    );
    assert!(
        lines[1].starts_with("roster: notify \"gone\" (webhook): failed: POST at "),
        "{stderr}"
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("Notify down (webhook): FAILED to deliver 3 change(s)"),
        "{stdout}"
    );

    // The run is recorded and every report written.
    let runs = roster(&env, &["runs", "--format", "json"], &[]);
    let runs: Value = serde_json::from_slice(&runs.stdout).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 1);
    assert_eq!(runs[0]["gaps"], 3);
    for f in [
        "report.html",
        "report.md",
        "gaps.csv",
        "report.sarif",
        "report.ocsf.jsonl",
    ] {
        assert!(env.path(&format!("out/{f}")).exists(), "{f}");
    }
    let html = std::fs::read_to_string(env.path("out/report.html")).unwrap();
    assert!(html.contains("class=\"notification\"") && html.contains("database is down"));
    assert!(!contains(&all_bytes_under(&env.path("out")), HOOK_SECRET));
}

/// Slack: a Block Kit message (header, counts, a section per gap up to `max_gaps` and "and N
/// more", a `text` fallback); Slack's 4xx answers are reported, not retried, and the webhook
/// URL (a secret) appears nowhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_gets_a_block_kit_summary_and_its_errors_are_reported() {
    let server = MockServer::start().await;
    let ok_path = "/services/T0ROSTER1/B0ROSTER2/q9Xw3LmN7pKs2VbZ8cRt4YhU";
    let gone_path = "/services/T0ROSTER1/B0ROSTER3/Hj6Tg5Rf4Ed3Ws2Qa1ZxCvBn";
    Mock::given(method("POST"))
        .and(path(ok_path))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(gone_path))
        .respond_with(ResponseTemplate::new(410).set_body_string("channel_is_archived"))
        .mount(&server)
        .await;
    let env = Env::new(ROSTER);
    three_keys(
        &env,
        "\n[[notify]]\nname = \"team-channel\"\nkind = \"slack\"\nurl_env = \"SLACK_OK\"\nmax_gaps = 2\n\
         \n[[notify]]\nname = \"old-channel\"\nkind = \"slack\"\nurl_env = \"SLACK_GONE\"\nbackoff_ms = 10\n",
    );
    let ok_url = format!("{}{ok_path}", server.uri());
    let gone_url = format!("{}{gone_path}", server.uri());
    let vars = [("SLACK_OK", ok_url.as_str()), ("SLACK_GONE", gone_url.as_str())];
    let (out, report) = discover(&env, "roster.toml", "out", &vars);

    let reqs = received(&server, ok_path).await;
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].headers["content-type"], "application/json");
    let m: Value = serde_json::from_slice(&reqs[0].body).unwrap();
    let blocks = m["blocks"].as_array().unwrap();
    let types: Vec<&str> = blocks.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["header", "section", "divider", "section", "section", "context"]);
    assert_eq!(blocks[0]["text"]["type"], "plain_text");
    let scope = report_scope(&env);
    assert_eq!(blocks[0]["text"]["text"], format!("Roster: 3 new in {scope}"));
    let counts = blocks[1]["text"]["text"].as_str().unwrap();
    assert_eq!(blocks[1]["text"]["type"], "mrkdwn");
    assert!(
        counts.contains("*New:* 3 · *Worsened:* 0 · *Lapsed:* 0 · *Resolved:* 0"),
        "{counts}"
    );
    let gaps = report["gaps"].as_array().unwrap();
    for (b, sev) in blocks[3..5].iter().zip(["critical", "high"]) {
        let t = b["text"]["text"].as_str().unwrap();
        assert!(t.starts_with(&format!("*NEW* · *{sev}* · committed-secret")), "{t}");
        assert!(gaps.iter().any(|g| t.contains(g["id"].as_str().unwrap())), "{t}");
    }
    assert_eq!(blocks[5]["elements"][0]["type"], "mrkdwn");
    assert!(
        blocks[5]["elements"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("… and 1 more")
    );
    assert!(
        m["text"]
            .as_str()
            .unwrap()
            .starts_with(&format!("Roster: 3 new in {scope} (run 1, first run of the scope)"))
    );
    assert_eq!(notification(&report, "team-channel")["status"], "delivered");

    assert_eq!(received(&server, gone_path).await.len(), 1, "a 410 is not retried");
    let n = notification(&report, "old-channel");
    assert_eq!(n["status"], "failed");
    let err = n["error"].as_str().unwrap();
    assert!(
        err.contains("410 Gone channel_is_archived: the webhook's channel is gone or archived"),
        "{err}"
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("roster: notify \"old-channel\" (slack): failed: POST at 127.0.0.1:"),
        "{stderr}"
    );

    // The URLs' secret parts are in no output.
    let mut outputs = all_bytes_under(&env.path("out"));
    outputs.extend(all_bytes_under(&env.state()));
    outputs.extend(out.stdout);
    outputs.extend(out.stderr);
    for p in [ok_path, gone_path] {
        assert!(
            !contains(&outputs, &p[p.len() - 24..]),
            "a Slack webhook's token is in the output"
        );
        assert!(!contains(&outputs, p), "a Slack webhook's path is in the output");
    }
}

fn report_scope(env: &Env) -> String {
    let runs = roster(env, &["runs", "--format", "json"], &[]);
    let runs: Value = serde_json::from_slice(&runs.stdout).unwrap();
    runs[0]["scope"].as_str().unwrap().to_owned()
}

/// A Jira site with issues, search by label, and comments; it checks the credentials and
/// answers as Jira's REST API documents (Cloud's `/rest/api/3/search/jql` or Data Center's
/// `/rest/api/2/search`, and v2 issue creation and comments).
#[derive(Clone)]
struct FakeJira {
    cloud: bool,
    /// The site's context path (Data Center often runs under `/jira`).
    prefix: &'static str,
    authorization: String,
    issues: Arc<Mutex<Vec<Issue>>>,
}

#[derive(Clone, Debug)]
struct Issue {
    key: String,
    fields: Value,
    comments: Vec<String>,
}

impl FakeJira {
    fn issues(&self) -> Vec<Issue> {
        self.issues.lock().unwrap().clone()
    }

    fn with_label(&self, label: &str) -> Vec<Issue> {
        self.issues()
            .into_iter()
            .filter(|i| i.fields["labels"].as_array().unwrap().iter().any(|l| l == label))
            .collect()
    }
}

impl Respond for FakeJira {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let error = |status: u16, msg: &str| {
            ResponseTemplate::new(status).set_body_json(json!({"errorMessages": [msg], "errors": {}}))
        };
        if r.headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(self.authorization.as_str()) {
            return error(
                401,
                "You are not authenticated. Authentication required to perform this operation.",
            );
        }
        let search = if self.cloud {
            "/rest/api/3/search/jql"
        } else {
            "/rest/api/2/search"
        };
        let Some(p) = r.url.path().strip_prefix(self.prefix) else {
            return error(404, "not found");
        };
        let mut issues = self.issues.lock().unwrap();
        if r.method == "GET" && p == search {
            let jql = r
                .url
                .query_pairs()
                .find(|(k, _)| k == "jql")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            // labels = "gap-..." ORDER BY created ASC
            let Some(label) = jql.strip_prefix("labels = \"").and_then(|s| s.split('"').next()) else {
                return error(400, &format!("Error in the JQL Query: {jql}"));
            };
            let found: Vec<Value> = issues
                .iter()
                .filter(|i| i.fields["labels"].as_array().unwrap().iter().any(|l| l == label))
                .map(|i| json!({"id": i.key.trim_start_matches("SEC-"), "key": i.key, "fields": {}}))
                .collect();
            return ResponseTemplate::new(200).set_body_json(if self.cloud {
                json!({"issues": found, "isLast": true})
            } else {
                json!({"startAt": 0, "maxResults": 1, "total": found.len(), "issues": found})
            });
        }
        if r.method == "POST" && p == "/rest/api/2/issue" {
            let body: Value = r.body_json().unwrap();
            let f = &body["fields"];
            if f["project"]["key"] != "SEC" {
                return ResponseTemplate::new(400)
                    .set_body_json(json!({"errorMessages": [], "errors": {"project": "valid project is required"}}));
            }
            if f["issuetype"]["name"] != "Task" || f["summary"].as_str().is_none_or(str::is_empty) {
                return error(400, "issue type and summary are required");
            }
            let key = format!("SEC-{}", issues.len() + 1);
            issues.push(Issue {
                key: key.clone(),
                fields: f.clone(),
                comments: vec![],
            });
            return ResponseTemplate::new(201).set_body_json(json!({"id": "1", "key": key, "self": "x"}));
        }
        if r.method == "POST"
            && let Some(key) = p
                .strip_prefix("/rest/api/2/issue/")
                .and_then(|s| s.strip_suffix("/comment"))
        {
            let body: Value = r.body_json().unwrap();
            return match issues.iter_mut().find(|i| i.key == key) {
                Some(i) => {
                    i.comments.push(body["body"].as_str().unwrap().to_owned());
                    ResponseTemplate::new(201).set_body_json(json!({"id": "1", "body": body["body"]}))
                }
                None => error(404, "Issue does not exist or you do not have permission to see it."),
            };
        }
        error(404, "not found")
    }
}

async fn jira_site(cloud: bool, prefix: &'static str, authorization: String) -> (MockServer, FakeJira) {
    let server = MockServer::start().await;
    let jira = FakeJira {
        cloud,
        prefix,
        authorization,
        issues: Arc::default(),
    };
    Mock::given(wiremock::matchers::any())
        .respond_with(jira.clone())
        .mount(&server)
        .await;
    (server, jira)
}

/// Jira: one issue per new gap, labelled with its id; a comment when the gap is resolved; never
/// a duplicate, even when every gap looks new again (a new state directory). Cloud with basic
/// auth and Data Center with a bearer token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jira_files_one_issue_per_gap_comments_when_resolved_and_never_duplicates() {
    use base64::Engine as _;
    let token = "ATATT3xFfGF0-jira-test-token-Vb8nM2qW";
    let pat = "NjM2NzQ0MzEyODQ2OkRhdGFDZW50ZXJQQVQ";
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("roster@acme.example:{token}"));
    let (cloud_server, cloud) = jira_site(true, "", format!("Basic {basic}")).await;
    let (dc_server, dc) = jira_site(false, "/jira", format!("Bearer {pat}")).await;
    let env = Env::new(ROSTER);
    three_keys(
        &env,
        &format!(
            "\n[[notify]]\nname = \"jira-cloud\"\nkind = \"jira\"\nurl = \"{}\"\nproject = \"SEC\"\nemail = \"roster@acme.example\"\ntoken_env = \"JIRA_TOKEN\"\nlabels = [\"nhi\"]\n\
             \n[[notify]]\nname = \"jira-dc\"\nkind = \"jira\"\nflavour = \"data-center\"\nurl = \"{}/jira\"\nproject = \"SEC\"\nauth = \"bearer\"\ntoken_env = \"JIRA_PAT\"\nmin_severity = \"high\"\n",
            cloud_server.uri(),
            dc_server.uri()
        ),
    );
    // One fingerprint key for every run, so that a new state directory (below) finds the same
    // gap ids.
    let key = "5c".repeat(32);
    let vars = [
        ("JIRA_TOKEN", token),
        ("JIRA_PAT", pat),
        ("ROSTER_FINGERPRINT_KEY", key.as_str()),
    ];
    let (out, report) = discover(&env, "roster.toml", "out", &vars);
    let gaps = report["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 3);
    let issues = cloud.issues();
    assert_eq!(issues.len(), 3, "one issue per new gap");
    for g in gaps {
        let id = g["id"].as_str().unwrap();
        let mine = cloud.with_label(id);
        assert_eq!(mine.len(), 1, "{id}");
        let f = &mine[0].fields;
        let labels: BTreeSet<&str> = f["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        assert_eq!(labels, BTreeSet::from(["roster", id, "nhi"]));
        assert!(labels.iter().all(|l| !l.contains(' ')));
        let d = f["description"].as_str().unwrap();
        assert!(d.contains(&format!("Gap id: {id}")), "{d}");
        assert!(d.contains("Owner: none (no accountable owner)"), "{d}");
        for e in g["evidence"].as_array().unwrap() {
            assert!(
                d.contains(e["detail"].as_str().unwrap()),
                "the evidence is in the description: {d}"
            );
        }
        let summary = f["summary"].as_str().unwrap();
        assert!(
            summary.starts_with(&format!("[Roster] {}: ", g["severity"].as_str().unwrap())),
            "{summary}"
        );
    }
    let n = notification(&report, "jira-cloud");
    assert_eq!(n["status"], "delivered", "{n:#}");
    assert_eq!(n["detail"].as_array().unwrap().len(), 3);
    assert!(n["detail"][0].as_str().unwrap().starts_with("created SEC-"));
    // 3 x (search + create).
    assert_eq!(n["attempts"], 6);
    assert!(
        out.stderr.is_empty() || !text(&out.stderr).contains("notify"),
        "{}",
        text(&out.stderr)
    );

    // Data Center: under its context path, with its own search endpoint.
    let dc_paths: BTreeSet<String> = dc_server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    assert_eq!(
        dc_paths,
        BTreeSet::from([
            "GET /jira/rest/api/2/search".to_owned(),
            "POST /jira/rest/api/2/issue".to_owned()
        ]),
    );
    assert_eq!(notification(&report, "jira-dc")["status"], "delivered");
    assert_eq!(dc.issues().len(), 3);

    // The Hugging Face token is removed: its gap is resolved, and its issue gets a comment.
    let hf = std::fs::read(env.path("app/hf.py")).unwrap();
    std::fs::remove_file(env.path("app/hf.py")).unwrap();
    let (_, second) = discover(&env, "roster.toml", "out", &vars);
    let now = gap_ids(second["gaps"].as_array().unwrap());
    let gone: Vec<&str> = gaps
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .filter(|id| !now.contains(*id))
        .collect();
    assert_eq!(gone.len(), 1);
    let issue = &cloud.with_label(gone[0])[0];
    assert_eq!(issue.comments.len(), 1, "{issue:?}");
    assert!(issue.comments[0].starts_with("Roster no longer finds this gap: resolved in run 2 of scope"));
    assert_eq!(cloud.issues().len(), 3, "nothing created");
    let n = notification(&second, "jira-cloud");
    assert_eq!(n["changes"]["resolved"], 1);
    assert_eq!(
        n["detail"][0],
        format!("commented on {}: {} resolved", issue.key, gone[0])
    );

    // The token comes back: its gap is new again, and its issue is found, not duplicated.
    env.write("app/hf.py", &hf);
    let (_, third) = discover(&env, "roster.toml", "out", &vars);
    assert_eq!(cloud.issues().len(), 3, "no duplicate");
    let issue = &cloud.with_label(gone[0])[0];
    assert_eq!(issue.comments.len(), 2, "{issue:?}");
    assert!(issue.comments[1].starts_with("Roster reports this gap again: it is new in run 3 of scope"));
    let n = notification(&third, "jira-cloud");
    assert_eq!(n["detail"][0], format!("commented on {}: {} new", issue.key, gone[0]));

    // A new state directory (the database lost): every gap is new, and each has its issue.
    let fresh = env.path("fresh-state");
    let o = roster(
        &env,
        &[
            "discover",
            "--config",
            "roster.toml",
            "--output-dir",
            "out3",
            "--state-dir",
            fresh.to_str().unwrap(),
        ],
        &vars,
    );
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o.stderr));
    let fourth = read_json(&env.path("out3/report.json"));
    assert_eq!(
        gap_ids(fourth["gaps"].as_array().unwrap()),
        gap_ids(gaps),
        "the same gap ids"
    );
    assert_eq!(cloud.issues().len(), 3, "no duplicate");
    for g in gaps {
        let i = &cloud.with_label(g["id"].as_str().unwrap())[0];
        let last = i.comments.last().unwrap();
        assert!(
            last.starts_with("Roster reports this gap again: it is new in run 1 of scope"),
            "{i:?}"
        );
    }
    let n = notification(&fourth, "jira-cloud");
    assert_eq!(n["status"], "delivered");
    assert_eq!(n["changes"]["new"], 3);

    // The tokens are in no output.
    let mut outputs = all_bytes_under(&env.path("out"));
    outputs.extend(all_bytes_under(&env.path("out3")));
    outputs.extend(all_bytes_under(&env.state()));
    outputs.extend(o.stdout);
    outputs.extend(o.stderr);
    for s in [token, pat, basic.as_str()] {
        assert!(!contains(&outputs, s), "a Jira token is in the output");
    }
}

/// Worsened and lapsed reach the webhook: an unregistered agent gains a committed key (medium to
/// high, and its acceptance no longer holds), and an acceptance in force is revoked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worsened_and_lapsed_gaps_reach_the_webhook() {
    let server = roster_testkit::http::answering_all("").await;
    let env = Env::new(ROSTER);
    env.write(
        "app/bot/agent.py",
        "from langchain_openai import ChatOpenAI\nllm = ChatOpenAI()\n",
    );
    env.write("app/bot/requirements.txt", "langchain-openai==0.2.9\n");
    env.write(
        "roster.toml",
        format!(
            "scope = \"bots\"\n[scan]\npaths = [\"app\"]\n\n[[notify]]\nname = \"all\"\nkind = \"webhook\"\nurl = \"{}/all\"\nsecret_env = \"S\"\n\
             \n[[notify]]\nname = \"no-new\"\nkind = \"webhook\"\nurl = \"{}/no-new\"\nsecret_env = \"S\"\nchanges = [\"worsened\", \"lapsed\", \"resolved\"]\n",
            server.uri(),
            server.uri()
        ),
    );
    let vars = [("S", HOOK_SECRET)];
    let run = |out: &str| discover(&env, "roster.toml", out, &vars).1;

    let first = run("out1");
    let agent = first["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["kind"] == "unregistered-agent")
        .unwrap_or_else(|| panic!("{:#}", first["gaps"]))
        .clone();
    assert_eq!(agent["severity"], "medium");
    let agent_id = agent["id"].as_str().unwrap().to_owned();
    assert_eq!(received(&server, "/all").await.len(), 1);
    assert!(
        received(&server, "/no-new").await.is_empty(),
        "only new gaps: filtered out"
    );

    // Accepting a gap is not a change.
    let out = roster(
        &env,
        &[
            "baseline",
            "accept",
            &agent_id,
            "--reason",
            "SEC-9 pilot",
            "--until",
            "2099-12-31",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let second = run("out2");
    assert!(notification(&second, "all")["status"] == "nothing-to-send");

    // The agent's code gains a key: the agent gap is high now (worsened, and its acceptance
    // at medium no longer holds), and the key is a new gap.
    env.write("app/bot/.env", format!("OPENAI_API_KEY={}\n", fake::openai_project()));
    let third = run("out3");
    let all = received(&server, "/all").await;
    assert_eq!(all.len(), 2);
    let body: Value = serde_json::from_slice(&all[1].body).unwrap();
    assert_eq!(
        (body["run"].as_i64(), body["previous_run"].as_i64()),
        (Some(3), Some(2))
    );
    assert_eq!(
        body["counts"],
        json!({"new": 1, "worsened": 1, "resolved": 0, "lapsed": 0})
    );
    let worse = body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["change"] == "worsened")
        .unwrap();
    assert_eq!(worse["gap"]["id"], agent_id.as_str());
    assert_eq!(worse["gap"]["severity"], "high");
    assert_eq!(worse["previous_severity"], "medium");
    assert_eq!(worse["previous_acceptance"]["reason"], "SEC-9 pilot");
    let no_new = received(&server, "/no-new").await;
    assert_eq!(no_new.len(), 1);
    assert_eq!(
        delivered(&no_new[0]),
        BTreeSet::from([("worsened".to_owned(), agent_id.clone())])
    );

    // The key's gap is accepted, then the acceptance is revoked: it lapsed.
    let key_id = third["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["kind"] == "committed-secret")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = roster(
        &env,
        &[
            "baseline",
            "accept",
            &key_id,
            "--reason",
            "SEC-10 rotating",
            "--until",
            "2099-12-31",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    run("out4");
    assert_eq!(received(&server, "/all").await.len(), 2, "accepting is not a change");
    let out = roster(&env, &["baseline", "revoke", &key_id], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let fifth = run("out5");
    let all = received(&server, "/all").await;
    assert_eq!(all.len(), 3);
    assert_eq!(
        delivered(&all[2]),
        BTreeSet::from([("lapsed".to_owned(), key_id.clone())])
    );
    let body: Value = serde_json::from_slice(&all[2].body).unwrap();
    assert_eq!(body["changes"][0]["previous_acceptance"]["reason"], "SEC-10 rotating");
    assert_eq!(notification(&fifth, "no-new")["changes"]["lapsed"], 1);
}

/// A `[[notify]]` table with an unknown kind, a field of another kind, or a variable that is
/// not set stops the run before any work, naming the table and the field, and never the value
/// of a variable.
#[test]
fn a_broken_notify_table_stops_discover_before_any_work() {
    let env = Env::new(ROSTER);
    env.write("app/.env", format!("OPENAI_API_KEY={}\n", fake::openai_project()));
    env.write(
        "roster.toml",
        "[scan]\npaths = [\"app\"]\n\n[[notify]]\nkind = \"teams\"\n\n[[notify]]\nname = \"chat\"\nkind = \"slack\"\nurl = \"https://hooks.slack.com/services/T/B/x\"\n",
    );
    let out = env.roster(&["discover", "--config", "roster.toml", "--output-dir", "out"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for needle in [
        "3 problem(s); nothing was run",
        "[[notify]] #1 (\"teams\"): kind: unknown kind \"teams\" (expected one of: webhook, slack, jira)",
        "[[notify]] #2 (\"chat\"): url: does not apply to kind \"slack\"",
        "a Slack webhook URL is a secret",
        "[[notify]] #2 (\"chat\"): url_env: a Slack target needs url_env",
    ] {
        assert!(stderr.contains(needle), "missing {needle:?} in:\n{stderr}");
    }
    assert!(!env.path("out").exists());

    // Well formed, but the variables are missing or hold a bad URL: named, values never shown.
    env.write(
        "roster.toml",
        "[scan]\npaths = [\"app\"]\n\n[[notify]]\nname = \"chat\"\nkind = \"slack\"\nurl_env = \"ROSTER_TEST_SLACK\"\n\
         \n[[notify]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"https://hooks.example/in\"\nsecret_env = \"ROSTER_TEST_UNSET\"\n",
    );
    let out = env.roster_env(
        &["discover", "--config", "roster.toml", "--output-dir", "out"],
        &[(
            "ROSTER_TEST_SLACK",
            "http://hooks.example.com/services/T/B/Zk9sQ2xVb3pXrTy",
        )],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("[[notify]] #1 (\"chat\"): url_env: the URL in ROSTER_TEST_SLACK is not usable: plain http only to a loopback address; use https"),
        "{stderr}"
    );
    assert!(
        stderr.contains("[[notify]] #2 (\"hook\"): secret_env: the environment variable ROSTER_TEST_UNSET is not set"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("Zk9sQ2xVb3pXrTy") && !stderr.contains("hooks.example.com"),
        "{stderr}"
    );
    assert!(!env.path("out").exists());
    assert!(!env.state().join("roster.db").exists(), "no run was recorded");
}
