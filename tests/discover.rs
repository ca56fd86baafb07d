//! `roster discover`, `roster diff` and `roster demo`: the whole pipeline (scan, connectors,
//! registry, correlation, state database, reports) through the real binary.

use crate::ROSTER;
use roster_testkit::moto::Moto;
use roster_testkit::{Env, all_bytes_under, contains, fake, git_in};
use serde_json::Value;
use std::collections::BTreeSet;

fn read_json(p: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

fn gaps(report: &Value) -> &Vec<Value> {
    report["gaps"].as_array().expect("gaps array")
}

/// (kind, subject kind, subject name) of every gap.
fn gap_keys(report: &Value) -> BTreeSet<(String, String, String)> {
    gaps(report)
        .iter()
        .map(|g| {
            let s = &g["entities"][0];
            (
                g["kind"].as_str().unwrap().to_owned(),
                s["kind"].as_str().unwrap().to_owned(),
                s["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn gap<'a>(report: &'a Value, kind: &str, subject: &str) -> &'a Value {
    gaps(report)
        .iter()
        .find(|g| g["kind"] == kind && g["entities"][0]["name"] == subject)
        .unwrap_or_else(|| panic!("no {kind} gap on {subject}: {:#?}", gap_keys(report)))
}

fn evidence(g: &Value) -> String {
    g["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["detail"].as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The secrets planted in the sample organization (fake, in the providers' formats). The AWS
/// access key id is not among them: it is an identifier (AWS: "the access key ID is not secret"),
/// and the inventory names it as IAM reports it so that it can be deactivated.
pub(crate) const SAMPLE_SECRETS: [&str; 6] = [
    "JqNSqkVX+rb4fcZqm22qUFcBFHejuQJjKdCRiNL6",
    "sk-proj-sa9tPxPBd8znG4HlVasEAy0RLg2c_Pb3aIwE7jiHhGYIdp3WvdmdjyHi-8UpVZL4T3BlbkFJqIeTl6Muxhyp5Dh8uuUm8AQzNWGxVNFmQrPWYnrq6d6h5QIQYiSkDXWCk86ThDxU",
    "sk-ant-api03-VFk2en9glP6gH0vWW82na43MJemHJ40-n2zYZwacVX4YGOWfnvde_HF4j90J4ecQLTHjJcVkNWy0pYFK0oXZ8UgzotsuLAA",
    "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",
    "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",
    "sk-proj-6cfQNgbAFcput_GC-1Idud8hBsTYLjw42VFboXdnrvLOe8IUDihcfiCe2M8aGp3YT3BlbkFJ7-DBDBZsgBFXRJj_w0Pc1KgXCG2DX3n1Y4dJWXkdmmU_mx2YOLIUwZgR5Xdqw9Sp",
];

/// The demo's report is complete (every source read) and holds exactly the gaps planted in the
/// sample organization.
pub(crate) fn assert_every_sample_gap(report: &Value) {
    assert_eq!(report["incomplete"], false, "{:#}", report["issues"]);
    let s = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    let expected: BTreeSet<_> = [
        s("committed-secret", "secret", "AWS access key ID AKIA…D2QG"),
        s(
            "committed-secret",
            "secret",
            "GitHub personal access token (classic) ghp_…Yw2s",
        ),
        s("committed-secret", "secret", "Anthropic API key sk-ant-api…uLAA"),
        s("committed-secret", "secret", "Hugging Face user access token hf_…WUhI"),
        s("committed-secret", "secret", "OpenAI project API key sk-proj-…hDxU"),
        s("committed-secret", "secret", "OpenAI project API key sk-proj-…w9Sp"),
        s("shared-credential", "secret", "AWS access key ID AKIA…D2QG"),
        s("human-credential-used-by-agent", "identity", "alice"),
        s("human-credential-used-by-agent", "identity", "crm-sync"),
        s("over-privileged-agent", "identity", "support-bot-runtime"),
        s("unregistered-agent", "agent", "."),
        s("unregistered-agent", "agent", "agents/triage"),
        s("unregistered-agent", "identity", "triage-agent-role"),
        s("no-owner", "identity", "triage-agent-role"),
        s("no-owner", "identity", "data-export"),
        s("no-owner", "registry-entry", "Release-notes writer"),
        s("no-owner", "identity", "crm-sync"),
        s("no-owner", "identity", "invoice-ocr"),
        s("long-lived-credential", "identity", "ci-deploy"),
        s("long-lived-credential", "identity", "invoice-bot"),
        s("long-lived-credential", "identity", "data-export"),
        s("long-lived-credential", "identity", "support-bot production"),
        s("long-lived-credential", "identity", "invoice-ocr"),
        s("long-lived-credential", "identity", "release-notes-bot"),
        s("long-lived-credential", "identity", "support-bot local"),
        s("stale-identity", "identity", "invoice-bot"),
        s("registry-zombie", "registry-entry", "Invoice summarizer"),
        // Its review was due on 2025-06-30.
        s("review-overdue", "registry-entry", "Invoice summarizer"),
        // Google Workspace: employees granted ChatGPT read access to their Drive.
        s("over-privileged-agent", "identity", "ChatGPT"),
        s("unregistered-agent", "identity", "ChatGPT"),
        s("no-owner", "identity", "ChatGPT"),
        s("long-lived-credential", "identity", "ChatGPT"),
        // Google Cloud: a service account key from March 2025 that never expires; Google Cloud
        // records no owner.
        s("long-lived-credential", "identity", "analytics-export"),
        s("no-owner", "identity", "analytics-export"),
        // Azure: the Entra service principal contract-drafter (no owner) holds Owner on the
        // subscription and uses the Azure OpenAI account (azure-rbac, joined to entra-id).
        s("over-privileged-agent", "identity", "contract-drafter"),
        s("unregistered-agent", "identity", "contract-drafter"),
        s("no-owner", "identity", "contract-drafter"),
        // GitLab: a project access token with `api` that never expires, created by a user
        // GitLab shows deactivated.
        s("long-lived-credential", "identity", "project_318_bot_7c1e9a"),
        s("no-owner", "identity", "project_318_bot_7c1e9a"),
        // Bedrock: the agent procurement-assistant is not registered; the role it acts as
        // (owned by grace, by tag) may do anything in S3 and DynamoDB.
        s("unregistered-agent", "identity", "procurement-assistant"),
        s(
            "over-privileged-agent",
            "identity",
            "AmazonBedrockExecutionRoleForAgents_procurement",
        ),
        // Slack: Claude, installed by frank (deactivated since), reads channel history and files.
        s("unregistered-agent", "identity", "Claude"),
        s("over-privileged-agent", "identity", "Claude"),
        s("no-owner", "identity", "Claude"),
    ]
    .into_iter()
    .collect();
    let found = gap_keys(report);
    assert_eq!(
        found.difference(&expected).collect::<Vec<_>>(),
        Vec::<&(String, String, String)>::new(),
        "unexpected gaps"
    );
    assert_eq!(
        expected.difference(&found).collect::<Vec<_>>(),
        Vec::<&(String, String, String)>::new(),
        "planted gaps not found"
    );
}

#[test]
fn demo_finds_every_planted_gap_and_nothing_else() {
    let env = Env::new(ROSTER);
    let out = env.roster(&["demo", "--output", "demo"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in ["report.html", "report.json", "report.md", "gaps.csv", "report.sarif"] {
        assert!(stdout.contains(&format!("demo/{f}")), "{f} not announced: {stdout}");
    }
    let report = read_json(&env.path("demo/report.json"));
    assert_every_sample_gap(&report);
    // The reports name the organization (`organization` in roster.toml).
    assert_eq!(report["organization"], "Acme");
    let md = std::fs::read_to_string(env.path("demo/report.md")).unwrap();
    assert!(md.starts_with("# Roster discovery report: Acme\n"), "{}", &md[..80]);
    let html = std::fs::read_to_string(env.path("demo/report.html")).unwrap();
    assert!(html.contains("<h1>Non-human identity and AI agent discovery: Acme</h1>"));

    // Every gap is actionable: id, evidence, remediation, standards, first seen.
    for g in gaps(&report) {
        assert!(g["id"].as_str().unwrap().starts_with("gap-"), "{g:#}");
        assert!(!g["evidence"].as_array().unwrap().is_empty(), "{g:#}");
        assert!(!g["remediation"].as_str().unwrap().is_empty(), "{g:#}");
        assert!(!g["standards"].as_array().unwrap().is_empty(), "{g:#}");
        assert!(g["first_seen"].is_string(), "{g:#}");
    }

    // The AWS key in code is joined to the IAM user that owns it, still active: critical, and
    // its owner comes from the user's owner tag.
    let aws = gap(&report, "committed-secret", "AWS access key ID AKIA…D2QG");
    assert_eq!(aws["severity"], "critical");
    let ev = evidence(aws);
    assert!(ev.contains("the key id in code is AKIAUEQ6IFSGBEIND2QG"), "{ev}");
    assert!(ev.contains("belongs to cloud-user `ci-deploy`"), "{ev}");
    assert!(ev.contains("in commit") && ev.contains("Bob Okafor"), "{ev}");
    assert_eq!(aws["owner"]["name"], "bob@acme.example");
    assert_eq!(aws["owner"]["via"], "tag");
    let shared = evidence(gap(&report, "shared-credential", "AWS access key ID AKIA…D2QG"));
    assert!(
        shared.contains("scripts/deploy.sh") && shared.contains("billing-service/worker.py"),
        "{shared}"
    );
    // The OpenAI key in the support bot's code is the admin API's key (prefix and last four):
    // still in use, so critical; it belongs to the registered support bot.
    let openai = gap(&report, "committed-secret", "OpenAI project API key sk-proj-…hDxU");
    assert_eq!(openai["severity"], "critical");
    assert!(evidence(openai).contains("has the prefix and last four of openai's key key_Xk2cR9aVbN4mP7qL"));
    assert_eq!(openai["owner"]["via"], "registry");
    // An Okta API token whose creator was deprovisioned: no owner, and it acts as that person
    // for a LangGraph agent.
    let token = evidence(gap(&report, "no-owner", "crm-sync"));
    assert!(token.contains("frank@acme.example (idp-owner) is disabled"), "{token}");
    let token = evidence(gap(&report, "human-credential-used-by-agent", "crm-sync"));
    assert!(
        token.contains("acts as its creator frank@acme.example") && token.contains("(langgraph)"),
        "{token}"
    );
    // An Entra app whose only owner is disabled, with a client secret good until 2299; its last
    // sign-in (joined by app id) keeps it from being stale.
    let ocr = evidence(gap(&report, "no-owner", "invoice-ocr"));
    assert!(ocr.contains("henry@acme.example (idp-owner) is disabled"), "{ocr}");
    // The triage crew's code names invoice-ocr's application (client) id: the agent is joined to
    // the Entra app, and the app's no-owner gap names the code's CODEOWNERS as a candidate only.
    let triage = gap(&report, "unregistered-agent", "agents/triage");
    assert!(
        evidence(triage).contains(
            "agents/triage/main.py:10 names the client id 9c1e7b42-0d3a-4f5e-b6a8-2c9d0e1f3a54 of service-principal `invoice-ocr` in entra"
        ),
        "{triage:#}"
    );
    assert!(
        triage["entities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "invoice-ocr"),
        "{triage:#}"
    );
    assert!(
        ocr.contains("candidate owner @acme/platform: agents/triage/main.py names its client id, and acme-app/.github/CODEOWNERS assigns"),
        "{ocr}"
    );
    let ocr = evidence(gap(&report, "long-lived-credential", "invoice-ocr"));
    assert!(
        ocr.contains("client-secret b7d54c11-9e2f-4a63-8c70-1f0e2d3c4b5a lives 100652 days"),
        "{ocr}"
    );
    // A fine-grained PAT the registered release-notes bot uses never expires.
    let pat = gap(&report, "long-lived-credential", "release-notes-bot");
    assert_eq!(pat["severity"], "high", "agent-linked");
    assert!(evidence(pat).contains("token github-pat:98716 is active and never expires"));
    // The key in a .env deleted from HEAD the next day is still reported, and the Anthropic
    // admin API says it is still active: critical (deleting the file revoked nothing).
    let env_key = gap(&report, "committed-secret", "Anthropic API key sk-ant-api…uLAA");
    assert_eq!(env_key["severity"], "critical");
    assert!(evidence(env_key).contains("prefix and last four of anthropic's key apikey_01Rj2N8SBvJ3Zq4W9C8gqkW1"));
    assert_eq!(env_key["owner"]["name"], "alice@acme.example");
    assert_eq!(env_key["owner"]["via"], "registry");
    // The Hugging Face token has no provider record: its owner is the CODEOWNERS entry.
    let hf = gap(&report, "committed-secret", "Hugging Face user access token hf_…WUhI");
    assert_eq!(hf["owner"]["name"], "@carol");
    assert_eq!(hf["owner"]["via"], "codeowners");
    // A person's key used by LangChain, from CloudTrail.
    let human = evidence(gap(&report, "human-credential-used-by-agent", "alice"));
    assert!(
        human.contains("InvokeModel") && human.contains("203.0.113.24") && human.contains("(langchain)"),
        "{human}"
    );
    // The registered agent's role is admin; its owner comes from the registry.
    let admin = gap(&report, "over-privileged-agent", "support-bot-runtime");
    assert_eq!(admin["owner"]["via"], "registry");
    assert!(evidence(admin).contains("AdministratorAccess"));
    // Time thresholds are measured from the export date (as_of), not from today.
    let old = evidence(gap(&report, "long-lived-credential", "ci-deploy"));
    assert!(old.contains("created 638 days ago (threshold 90 days)"), "{old}");
    let stale = evidence(gap(&report, "stale-identity", "invoice-bot"));
    assert!(stale.contains("607 days ago"), "{stale}");

    // Owners resolved on the inventory itself.
    let ident = |name: &str| {
        report["identities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == name)
            .unwrap_or_else(|| panic!("no identity {name}"))
            .clone()
    };
    assert_eq!(ident("support-bot-runtime")["registered_as"], "support-bot");
    assert_eq!(ident("invoice-bot")["accountable"]["name"], "erin@acme.example");
    assert!(ident("data-export")["accountable"].is_null());

    // The other formats carry the gaps too, and no output holds a raw secret.
    let md = std::fs::read_to_string(env.path("demo/report.md")).unwrap();
    assert!(md.contains("## Ownership gaps") && md.contains("human-credential-used-by-agent"));
    let csv = std::fs::read_to_string(env.path("demo/gaps.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + gaps(&report).len());
    let mut outputs = vec![];
    for f in ["report.html", "report.json", "report.md", "gaps.csv", "report.sarif"] {
        outputs.extend(std::fs::read(env.path(&format!("demo/{f}"))).unwrap());
    }
    outputs.extend(all_bytes_under(&env.path("demo/state")));
    outputs.extend(stdout.as_bytes());
    for secret in SAMPLE_SECRETS {
        assert!(
            !contains(&outputs, secret),
            "a raw secret ({}…) is in the output",
            &secret[..8]
        );
    }

    html_renders_in_chromium(&env.path("demo/report.html"), gaps(&report).len());

    // A second run into the same folder: the state database shows nothing changed.
    let again = env.roster(&["demo", "--output", "demo"]);
    assert_eq!(again.status.code(), Some(0));
    let again = String::from_utf8_lossy(&again.stdout);
    let n = gaps(&report).len();
    assert!(
        again.contains(&format!("0 new gap(s), 0 resolved, {n} still open")),
        "{again}"
    );
    let diff = env.roster(&["diff", "--state-dir", "demo/state", "--format", "json"]);
    assert_eq!(diff.status.code(), Some(0), "{}", String::from_utf8_lossy(&diff.stderr));
    let diff: Value = serde_json::from_slice(&diff.stdout).unwrap();
    assert_eq!(diff["still_open"].as_array().unwrap().len(), n);
    assert_eq!(diff["from"]["id"], 1);
    assert_eq!(diff["to"]["id"], 2);

    // Onboarding: draft registry entries for what was found unregistered, name the missing
    // owner, merge them into the registry, and run again: no unregistered agent is left.
    let init = [
        "registry",
        "init",
        "--report",
        "demo/report.json",
        "--output",
        "drafts.toml",
    ];
    let out = env.roster(&init);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let drafts = std::fs::read_to_string(env.path("drafts.toml")).unwrap();
    assert_eq!(drafts.matches("[[agent]]").count(), 7, "{drafts}");
    assert!(
        drafts.contains(
            "identities = [\"arn:aws:bedrock:us-east-1:111122223333:agent/PQ7ZK2M4XA\", \
             \"arn:aws:iam::111122223333:role/service-role/AmazonBedrockExecutionRoleForAgents_procurement\"]"
        ) && drafts.contains("owner = \"grace@acme.example\"  # from tag"),
        "the Bedrock agent is drafted with the role it acts as, and that role's owner: {drafts}"
    );
    assert!(
        drafts.contains("identities = [\"A06CL4UDE01\"]"),
        "the Slack app: {drafts}"
    );
    assert!(
        drafts.contains("identities = [\"744390188213-chatgpt-connectors.apps.googleusercontent.com\"]"),
        "the Google Workspace OAuth app is drafted too: {drafts}"
    );
    assert!(drafts.contains("code = [\"agents/triage\"]"), "{drafts}");
    assert!(
        drafts.contains("name = \"contract-drafter\""),
        "the Azure OpenAI service principal is drafted too: {drafts}"
    );
    assert!(
        drafts.contains("identities = [\"arn:aws:iam::111122223333:role/agents/triage-agent-role\"]"),
        "{drafts}"
    );
    assert!(drafts.contains("INFERRED from codeowners"), "{drafts}");
    let again = env.roster(&init);
    assert_eq!(again.status.code(), Some(2), "an existing file is not overwritten");
    let registry = std::fs::read_to_string(env.path("demo/sample-org/agents.toml")).unwrap()
        + &drafts.replace("owner = \"\"", "owner = \"dana@acme.example\"");
    env.write("merged.toml", registry);
    let out = env.roster(&[
        "discover",
        "--config",
        "demo/sample-org/roster.toml",
        "--registry",
        "merged.toml",
        "--output-dir",
        "after",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let after = read_json(&env.path("after/report.json"));
    let left: Vec<_> = gap_keys(&after)
        .into_iter()
        .filter(|(k, _, n)| k == "unregistered-agent" || (k == "no-owner" && n == "triage-agent-role"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Opens the HTML report in headless Chromium (Debian's `chromium`, which scripts/test.sh
/// installs): the DOM after scripts ran has every section and gap, and a screenshot is drawn.
fn html_renders_in_chromium(html: &std::path::Path, gap_count: usize) {
    let text = std::fs::read_to_string(html).unwrap();
    for external in ["src=\"http", "href=\"http", "url(http", "@import", "<link"] {
        assert!(
            !text.contains(external),
            "the HTML report loads an external asset ({external})"
        );
    }
    let run = |args: &[&str]| roster_testkit::chromium(html, args);
    let dom = String::from_utf8(run(&["--dump-dom"])).unwrap();
    for section in [
        "Executive summary",
        "Gaps by severity",
        "By owner",
        "Evidence and remediation",
        "Inventory",
        "Compliance mapping",
        "Appendix",
    ] {
        assert!(dom.contains(section), "the rendered page has no {section:?}");
    }
    assert_eq!(
        dom.matches("<section class=\"gap\"").count(),
        gap_count,
        "one section per gap"
    );
    let shot = html.with_file_name("screenshot.png");
    run(&[&format!("--screenshot={}", shot.display())]);
    let png = std::fs::read(&shot).expect("chromium wrote a screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let (w, h) = (
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        u32::from_be_bytes(png[20..24].try_into().unwrap()),
    );
    assert_eq!((w, h), (1280, 2000));
    // A blank page compresses to a few kilobytes; the rendered report is far larger.
    assert!(png.len() > 60_000, "the screenshot looks blank ({} bytes)", png.len());
}

#[test]
fn two_discover_runs_show_new_and_resolved_gaps() {
    let env = Env::new(ROSTER);
    let repo = env.path("app");
    git_in(&repo, &["init", "-q"]);
    env.write(
        "app/bot/agent.py",
        "from langchain_openai import ChatOpenAI\nllm = ChatOpenAI()\n",
    );
    env.write("app/bot/requirements.txt", "langchain-openai==0.2.9\n");
    git_in(&repo, &["add", "-A"]);
    git_in(&repo, &["commit", "-qm", "bot"]);
    // Keys may live 180 days here, looser than CIS AWS 1.14's 90; dormancy is CIS's 45 days.
    env.write(
        "roster.toml",
        "registry = \"agents.toml\"\n[scan]\nrepos = [\"app\"]\n[thresholds]\naccess_key_max_age_days = 180\nunused_days = 45\n",
    );
    // The registry lists the bot without an owner: a no-owner gap.
    env.write(
        "agents.toml",
        "[[agent]]\nid = \"bot\"\npurpose = \"Answers questions.\"\ncode = [\"bot\"]\n",
    );
    let run = |env: &Env| {
        let out = env.roster(&["discover", "--config", "roster.toml", "--output-dir", "out"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            read_json(&env.path("out/report.json")),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (first, stdout) = run(&env);
    assert!(stdout.contains("First run of scope \"config-"), "{stdout}");
    // The compliance mapping: the looser key-age threshold fails CIS AWS 1.14 without any gap;
    // the no-owner gap fails CIS Controls 5.5.
    let control = |r: &Value, id: &str| {
        r["compliance"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["control"] == id)
            .unwrap_or_else(|| panic!("no control {id}"))
            .clone()
    };
    let c = control(&first, "CIS AWS Foundations 1.14");
    assert_eq!(c["status"], "fail", "{c:#}");
    assert!(c["gaps"].as_array().unwrap().is_empty());
    assert!(
        c["reasons"][0]
            .as_str()
            .unwrap()
            .contains("access_key_max_age_days = 180 is looser than the control's 90 days"),
        "{c:#}"
    );
    // No secret in the scanned code: NHI2 passes. No connector ran: dormancy is not assessed.
    assert_eq!(control(&first, "OWASP NHI2")["status"], "pass");
    let c = control(&first, "CIS Controls v8 5.3");
    assert_eq!(c["status"], "not-assessed");
    assert_eq!(
        c["reasons"][0],
        "no source in this run reads identities from a connector"
    );
    let c = control(&first, "CIS Controls v8 5.5");
    assert_eq!(c["status"], "fail");
    assert_eq!(c["gaps"][0], gaps(&first)[0]["id"]);
    assert!(stdout.contains("Compliance: "), "{stdout}");
    assert_eq!(
        gap_keys(&first),
        [("no-owner".to_owned(), "registry-entry".to_owned(), "bot".to_owned())]
            .into_iter()
            .collect()
    );

    // Between runs: the owner is named, and someone commits a key.
    env.write(
        "agents.toml",
        "[[agent]]\nid = \"bot\"\nowner = \"dana@example.org\"\npurpose = \"Answers questions.\"\ncode = [\"bot\"]\n",
    );
    let key = fake::openai_project();
    env.write("app/bot/.env", format!("OPENAI_API_KEY={key}\n"));
    git_in(&repo, &["add", "-A"]);
    git_in(&repo, &["commit", "-qm", "env"]);
    let (second, stdout) = run(&env);
    assert!(stdout.contains("1 new gap(s), 1 resolved, 0 still open"), "{stdout}");
    assert_eq!(gaps(&second).len(), 1);
    assert_eq!(gaps(&second)[0]["kind"], "committed-secret");

    let out = env.roster(&["diff", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["new"][0]["kind"], "committed-secret");
    assert_eq!(d["new"][0]["id"], gaps(&second)[0]["id"]);
    assert_eq!(d["resolved"][0]["kind"], "no-owner");
    assert_eq!(d["resolved"][0]["id"], gaps(&first)[0]["id"]);
    let text = env.roster(&["diff"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("NEW") && text.contains("RESOLVED") && text.contains("committed-secret"),
        "{text}"
    );
    assert!(
        !contains(&all_bytes_under(&env.state()), &key),
        "the raw key is in the state directory"
    );
}

/// Issue 12: two configurations sharing a state directory. Each keeps its own runs, diff and
/// first seen: a run of the other one resolves nothing, and the baseline is shared.
#[test]
fn two_configurations_sharing_a_state_dir_keep_their_own_history() {
    let env = Env::new(ROSTER);
    let shared = fake::openai_project();
    env.write("team-a/app/.env", format!("OPENAI_API_KEY={shared}\n"));
    env.write("team-a/app/hf.py", format!("token = \"{}\"\n", fake::huggingface()));
    env.write("team-a/roster.toml", "[scan]\npaths = [\"app\"]\n");
    env.write("team-b/app/.env", format!("OPENAI_API_KEY={shared}\n"));
    env.write("team-b/app/gh.sh", format!("GITHUB_TOKEN={}\n", fake::github_pat()));
    env.write("team-b/roster.toml", "scope = \"team-b\"\n[scan]\npaths = [\"app\"]\n");
    let run = |env: &Env, team: &str| {
        let out = env.roster(&[
            "discover",
            "--config",
            &format!("{team}/roster.toml"),
            "--output-dir",
            &format!("out-{team}"),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let report = read_json(&env.path(&format!("out-{team}/report.json")));
        (report, String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let first_seen = |r: &Value| -> BTreeSet<(String, String)> {
        gaps(r)
            .iter()
            .map(|g| {
                (
                    g["id"].as_str().unwrap().to_owned(),
                    g["first_seen"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let shared_gap = |r: &Value| {
        gaps(r)
            .iter()
            .find(|g| g["kind"] == "committed-secret" && g["title"].as_str().unwrap().contains("OpenAI"))
            .unwrap_or_else(|| panic!("no OpenAI gap: {:#?}", gap_keys(r)))
            .clone()
    };
    let (a1, stdout) = run(&env, "team-a");
    assert!(stdout.contains("First run of scope \"config-"), "{stdout}");
    assert_eq!(gaps(&a1).len(), 2, "{:#?}", gap_keys(&a1));
    // first_seen has a resolution of one second.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (b1, stdout) = run(&env, "team-b");
    assert!(stdout.contains("First run of scope \"team-b\""), "{stdout}");
    assert!(
        !stdout.contains("resolved"),
        "B's first run resolves none of A's gaps: {stdout}"
    );
    // The same secret in both: B sees it for the first time in its own first run.
    assert_eq!(shared_gap(&b1)["id"], shared_gap(&a1)["id"]);
    assert_ne!(shared_gap(&b1)["first_seen"], shared_gap(&a1)["first_seen"]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (a2, stdout) = run(&env, "team-a");
    assert!(
        stdout.contains("Since run 1 ("),
        "A compares with its own run 1: {stdout}"
    );
    assert!(stdout.contains("0 new gap(s), 0 resolved, 2 still open"), "{stdout}");
    assert_eq!(first_seen(&a2), first_seen(&a1), "A's first seen is kept");

    // `roster diff` for A: runs 1 and 3, nothing resolved by B's run in between.
    let out = env.roster(&["diff", "--config", "team-a/roster.toml", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((d["from"]["id"].as_i64(), d["to"]["id"].as_i64()), (Some(1), Some(3)));
    assert_eq!(d["resolved"], serde_json::json!([]));
    assert_eq!(d["new"], serde_json::json!([]));
    assert_eq!(d["still_open"].as_array().unwrap().len(), 2);
    let scope_a = d["to"]["scope"].as_str().unwrap().to_owned();
    assert!(scope_a.starts_with("config-") && scope_a.len() == 19, "{scope_a}");
    let out = env.roster(&["diff", "--scope", &scope_a]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(&format!("Scope \"{scope_a}\": run 1 (")) && text.contains("0 new, 0 resolved, 2 still open"),
        "{text}"
    );

    // Without a scope, in a folder with no roster.toml, the choice is the user's.
    let out = env.roster(&["diff"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "runs of 2 scopes (\"{scope_a}\" (2 runs), \"team-b\" (1 run))"
        )) && stderr.contains("pass --scope NAME"),
        "{stderr}"
    );
    // Runs of two scopes are never compared; the error names both.
    let out = env.roster(&["diff", "--from", "2", "--to", "3"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "runs 2 and 3 are in different scopes (\"team-b\" and \"{scope_a}\")"
        )),
        "{stderr}"
    );
    let out = env.roster(&["diff", "--scope", "team-b"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("only one run is recorded in scope \"team-b\"")
            && stderr.contains("run `roster discover` again"),
        "{stderr}"
    );

    // `roster runs` shows each run's scope; `--scope` lists only that scope's runs.
    let out = env.roster(&["runs"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.trim_start().starts_with("RUN  SCOPE"), "{text}");
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.lines().nth(2).unwrap().contains("team-b"), "{text}");
    assert!(text.contains("team-b/roster.toml"), "{text}");
    let ids = |scope: &str| -> Vec<i64> {
        let out = env.roster(&["runs", "--scope", scope, "--format", "json"]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let runs: Value = serde_json::from_slice(&out.stdout).unwrap();
        runs.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                assert_eq!(r["scope"], scope);
                r["id"].as_i64().unwrap()
            })
            .collect()
    };
    assert_eq!(ids(&scope_a), [1, 3]);
    assert_eq!(ids("team-b"), [2]);
    let out = env.roster(&["runs", "--scope", "team-c"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no runs of scope \"team-c\""),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // `--scope` overrides the config's; a bad name is refused before any work.
    let out = env.roster(&["discover", "--config", "team-b/roster.toml", "--scope", "a b"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--scope \"a b\"") && stderr.contains("letters, digits"),
        "{stderr}"
    );

    // The baseline is shared: a gap accepted from A's last run is accepted in B's runs too, but
    // gaps are picked from the last run of the scope asked for.
    let id = shared_gap(&a2)["id"].as_str().unwrap().to_owned();
    let hf = gaps(&a2).iter().find(|g| g["id"] != id.as_str()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = env.roster(&[
        "baseline",
        "accept",
        &hf,
        "--config",
        "team-b/roster.toml",
        "--reason",
        "x",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is not a gap of the last run (run 2) of scope \"team-b\""),
        "{stderr}"
    );
    let out = env.roster(&["baseline", "accept", &id, "--scope", &scope_a, "--reason", "SEC-7"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Accepted 1 gap(s) of run 3"));
    let (b2, _) = run(&env, "team-b");
    assert_eq!(shared_gap(&b2)["accepted"]["reason"], "SEC-7");
}

/// History recorded before scopes is in scope `default`: a configuration's first run in its
/// own scope says how to continue that history, and `scope = "default"` does.
#[test]
fn history_from_before_scopes_can_be_continued() {
    let env = Env::new(ROSTER);
    env.write("app/.env", format!("OPENAI_API_KEY={}\n", fake::openai_project()));
    env.write("roster.toml", "[scan]\npaths = [\"app\"]\n");
    let discover = |extra: &[&str]| {
        let mut args = vec!["discover", "--output-dir", "out"];
        args.extend(extra);
        let out = env.roster(&args);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // As an upgraded database has it: a run in scope `default`.
    discover(&["--scope", "default"]);
    let stdout = discover(&[]);
    assert!(
        stdout.contains("First run of scope \"config-")
            && stdout.contains("also holds 1 run(s) of scope \"default\"")
            && stdout.contains("set scope = \"default\" in roster.toml or pass --scope default"),
        "{stdout}"
    );
    env.write("roster.toml", "scope = \"default\"\n[scan]\npaths = [\"app\"]\n");
    let stdout = discover(&[]);
    assert!(
        stdout.contains("Since run 1 (") && stdout.contains("0 new gap(s), 0 resolved, 1 still open"),
        "{stdout}"
    );
    // A bad scope in the config is one of the configuration's problems.
    env.write("roster.toml", "scope = \"\"\n");
    let out = env.roster(&["discover"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("scope = \"\": a scope name is 1 to 64 letters"),
        "{stderr}"
    );
}

#[test]
fn accepted_gaps_stay_reported_but_stop_failing_until_revoked() {
    let env = Env::new(ROSTER);
    let repo = env.path("app");
    git_in(&repo, &["init", "-q"]);
    env.write("app/bot/.env", format!("OPENAI_API_KEY={}\n", fake::openai_project()));
    git_in(&repo, &["add", "-A"]);
    git_in(&repo, &["commit", "-qm", "env"]);
    env.write("roster.toml", "[scan]\nrepos = [\"app\"]\n");
    let discover = |env: &Env| {
        let out = env.roster(&[
            "discover",
            "--config",
            "roster.toml",
            "--output-dir",
            "out",
            "--fail-on",
            "high",
        ]);
        (
            out.status.code(),
            read_json(&env.path("out/report.json")),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, report, _) = discover(&env);
    assert_eq!(code, Some(1), "a high gap fails --fail-on high");
    let id = gaps(&report)[0]["id"].as_str().unwrap().to_owned();

    // An unknown id and an empty reason are refused, naming what to do.
    let out = env.roster(&["baseline", "accept", "gap-0000000000000000", "--reason", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a gap of the last run (run 1)"));
    let out = env.roster(&["baseline", "accept", &id, "--reason", " "]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--reason is empty"));
    let out = env.roster(&["baseline", "accept", &id, "--reason", "x", "--until", "2001-01-01"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("has passed: give a date from today on"));

    let out = env.roster(&[
        "baseline",
        "accept",
        &id,
        "--reason",
        "SEC-42: key rotated, history rewrite scheduled",
        "--until",
        "2099-01-31",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let (code, report, stdout) = discover(&env);
    assert_eq!(code, Some(0), "an accepted gap no longer fails: {stdout}");
    let g = &gaps(&report)[0];
    assert_eq!(g["id"], id.as_str(), "still reported");
    assert_eq!(
        g["accepted"]["reason"],
        "SEC-42: key rotated, history rewrite scheduled"
    );
    assert_eq!(g["accepted"]["until"], "2099-01-31T00:00:00Z");
    assert!(
        stdout.contains("ACCEPTED: SEC-42") && stdout.contains("1 of them accepted in the baseline"),
        "{stdout}"
    );
    let csv = std::fs::read_to_string(env.path("out/gaps.csv")).unwrap();
    assert!(csv.lines().next().unwrap().ends_with(",accepted"), "{csv}");
    assert!(
        csv.contains("SEC-42: key rotated, history rewrite scheduled (until 2099-01-31T00:00:00Z)"),
        "{csv}"
    );
    let html = std::fs::read_to_string(env.path("out/report.html")).unwrap();
    assert!(html.contains("<span class=\"accepted\">accepted</span>"));
    let list = env.roster(&["baseline", "list", "-f", "json"]);
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list[0]["gap_id"], id.as_str());
    assert_eq!(list[0]["kind"], "committed-secret");

    let out = env.roster(&["baseline", "revoke", &id]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Revoked 1"));
    let (code, report, _) = discover(&env);
    assert_eq!(code, Some(1), "revoked: it fails again");
    assert!(gaps(&report)[0].get("accepted").is_none());

    // `--all` accepts every gap of the last run (adopting Roster on an existing estate).
    let out = env.roster(&["baseline", "accept", "--all", "--reason", "initial baseline"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Accepted 1 gap(s) of run 3"));
    assert_eq!(discover(&env).0, Some(0));

    // The state lives in roster.db only: no key file, no history files.
    assert!(env.state().join("roster.db").exists());
    assert!(!env.state().join("fingerprint.key").exists());
    assert!(!env.state().join("history").exists());
}

#[test]
fn a_broken_registry_stops_discover_with_the_file_and_entry_named() {
    let env = Env::new(ROSTER);
    env.write("roster.toml", "registry = \"agents.toml\"\n");
    env.write(
        "agents.toml",
        "[[agent]]\nid = \"a\"\ncode = [\"x\"]\n\n[[agent]]\nid = \"b\"\nreview_by = \"next spring\"\ncode = [\"y\"]\n",
    );
    let out = env.roster(&["discover", "--config", "roster.toml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("agents.toml: agent `b`: review_by `next spring` is not a date (YYYY-MM-DD)"),
        "{stderr}"
    );
    let out = env.roster(&["diff"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `roster discover`"));
}

/// The done-when of the correlation issue: a run against moto ends in gaps for old and shared
/// keys. The key moto issued is committed in two repositories; moto says it is two years old.
#[test]
fn discover_against_moto_finds_old_and_shared_keys() {
    let moto = Moto::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (key_id, secret, scanner_id, scanner_secret) = rt.block_on(async {
        let iam = moto.iam("testing", "testing");
        iam.create_user().user_name("batch-agent").send().await.unwrap();
        let k = iam.create_access_key().user_name("batch-agent").send().await.unwrap();
        let k = k.access_key().unwrap();
        iam.create_user().user_name("roster-scanner").send().await.unwrap();
        let s = iam
            .create_access_key()
            .user_name("roster-scanner")
            .send()
            .await
            .unwrap();
        let s = s.access_key().unwrap();
        (
            k.access_key_id().to_string(),
            k.secret_access_key().to_string(),
            s.access_key_id().to_string(),
            s.secret_access_key().to_string(),
        )
    });
    moto.backdate(serde_json::json!({
        "access_key_id": key_id, "created": "2024-09-01T00:00:00",
        "last_used": "2026-11-01T10:00:00", "last_used_service": "s3"
    }));
    let env = Env::new(ROSTER);
    for repo in ["etl", "reports"] {
        let dir = env.path(repo);
        git_in(&dir, &["init", "-q"]);
        env.write(
            &format!("{repo}/job.sh"),
            format!("export AWS_ACCESS_KEY_ID={key_id}\nexport AWS_SECRET_ACCESS_KEY={secret}\n"),
        );
        git_in(&dir, &["add", "-A"]);
        git_in(&dir, &["commit", "-qm", "job"]);
    }
    env.write(
        "roster.toml",
        format!(
            "[scan]\nrepos = [\"etl\", \"reports\"]\n\n[[source]]\nname = \"aws\"\nconnector = \"aws-iam\"\n\
             endpoint_url = \"{}\"\nregion = \"us-east-1\"\nservice_specific_credentials = false\n",
            moto.url
        ),
    );
    let home = env.path("home");
    std::fs::create_dir_all(&home).unwrap();
    let out = env.roster_env(
        &["discover", "--config", "roster.toml", "--output-dir", "out"],
        &[
            ("AWS_ACCESS_KEY_ID", &scanner_id),
            ("AWS_SECRET_ACCESS_KEY", &scanner_secret),
            ("HOME", home.to_str().unwrap()),
            ("AWS_CONFIG_FILE", env.path("none").to_str().unwrap()),
            ("AWS_SHARED_CREDENTIALS_FILE", env.path("none").to_str().unwrap()),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = read_json(&env.path("out/report.json"));
    roster_testkit::assert_complete(&report);
    let redacted = format!("AWS access key ID {}…{}", &key_id[..4], &key_id[key_id.len() - 4..]);

    let committed = gap(&report, "committed-secret", &redacted);
    assert_eq!(committed["severity"], "critical", "the key is active in moto");
    let ev = evidence(committed);
    assert!(ev.contains(&format!("the key id in code is {key_id}")), "{ev}");
    assert!(ev.contains("belongs to cloud-user `batch-agent`"), "{ev}");
    assert!(
        ev.contains("created 2024-09-01T00:00:00Z, last used 2026-11-01T10:00:00Z"),
        "{ev}"
    );

    let shared = evidence(gap(&report, "shared-credential", &redacted));
    assert!(
        shared.contains("etl: job.sh") && shared.contains("reports: job.sh"),
        "{shared}"
    );

    let old = evidence(gap(&report, "long-lived-credential", "batch-agent"));
    assert!(
        old.contains(&format!("access key {key_id} is active and was created")),
        "{old}"
    );
    // The scanner's own key is new: not long-lived.
    assert!(
        !gaps(&report)
            .iter()
            .any(|g| g["kind"] == "long-lived-credential" && g["entities"][0]["name"] == "roster-scanner"),
        "{:#?}",
        gap_keys(&report)
    );
    // No owner tag or registry entry: the owner is inferred from the commit that leaked the key,
    // and marked as needing confirmation.
    let agent = report["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "batch-agent")
        .unwrap();
    assert_eq!(agent["accountable"]["via"], "commit-author", "{agent:#}");
    assert_eq!(agent["accountable"]["attested"], false);
    assert!(
        agent["accountable"]["name"]
            .as_str()
            .unwrap()
            .contains("test@example.org")
    );
}

/// A broken export fails only its own source: the run goes on, the report says what was
/// incomplete and why, naming the file.
#[test]
fn a_broken_export_fails_only_its_source() {
    let env = Env::new(ROSTER);
    env.write("exports/users.json", r#"{"Users": 5}"#);
    env.write("exports/gaad.json", "{ not json");
    env.write(
        "exports/trail.json",
        r#"{"Records": [{"eventTime": "2026-11-01T00:00:00Z", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
            "eventID": "e1", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/x", "accessKeyId": "AKIAEXAMPLEEXAMPLE01"}}]}"#,
    );
    env.write(
        "roster.toml",
        "[[source]]\nname = \"users\"\nconnector = \"aws-iam\"\napi = false\nfiles = [{ path = \"exports/users.json\", format = \"users\" }]\n\n\
         [[source]]\nname = \"gaad\"\nconnector = \"aws-iam\"\napi = false\nfiles = [{ path = \"exports/gaad.json\", format = \"gaad\" }]\n\n\
         [[source]]\nname = \"trail\"\nconnector = \"aws-cloudtrail\"\napi = false\nfiles = [{ path = \"exports/trail.json\", format = \"cloudtrail-records\" }]\n",
    );
    let out = env.roster(&["discover", "--config", "roster.toml", "--output-dir", "out"]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let report = read_json(&env.path("out/report.json"));
    assert_eq!(report["incomplete"], true);
    let run = |name: &str| {
        report["connectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["source"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(run("users")["status"], "failed");
    assert!(
        run("users")["error"]
            .as_str()
            .unwrap()
            .contains("exports/users.json: not list-users output (no Users)")
    );
    assert_eq!(run("gaad")["status"], "failed");
    assert!(
        run("gaad")["error"]
            .as_str()
            .unwrap()
            .contains("exports/gaad.json: not JSON")
    );
    assert_eq!(run("trail")["status"], "complete");
    assert_eq!(report["activities"].as_array().unwrap().len(), 1);
    let html = std::fs::read_to_string(env.path("out/report.html")).unwrap();
    assert!(html.contains("incomplete: see the appendix") && html.contains("not list-users output"));
}

/// The whole configuration is checked before any work, and every problem is listed: a
/// misspelled connector, a setting the connector does not take, a missing required setting, an
/// export format it does not read, a `[scan]` target that does not exist.
#[test]
fn a_broken_configuration_lists_every_problem_and_runs_nothing() {
    let env = Env::new(ROSTER);
    env.write(
        "roster.toml",
        "[scan]\nrepos = [\"missing-repo\"]\n\n\
         [[source]]\nconnector = \"aws-iamm\"\n\n\
         [[source]]\nname = \"gh\"\nconnector = \"github\"\norgg = \"acme\"\n\n\
         [[source]]\nname = \"iam\"\nconnector = \"aws-iam\"\napi = false\nfiles = [{ path = \"x.json\", format = \"gaad-export\" }]\n",
    );
    let out = env.roster(&["discover", "--config", "roster.toml", "--output-dir", "out"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for needle in [
        "5 problem(s); nothing was run",
        "unknown connector \"aws-iamm\" (built in: ",
        "the github connector has no setting \"orgg\" (it takes: org, audit_log",
        "the github connector needs org = ",
        "reads no export format \"gaad-export\" (it reads: credential-report, gaad, users, access-keys)",
        "[scan] repos: ",
    ] {
        assert!(stderr.contains(needle), "missing {needle:?} in:\n{stderr}");
    }
    assert!(!env.path("out").exists(), "nothing was written");
}

/// A CODEOWNERS file that is a symbolic link in a scanned working tree is not followed
/// (`CODEOWNERS -> ~/.aws/credentials` must not put that file into the report); the same file
/// as a regular file names the owner.
#[test]
fn a_codeowners_symlink_is_not_followed() {
    let env = Env::new(ROSTER);
    let outside = fake::aws_secret();
    env.write(
        "home/.aws/credentials",
        format!("[default]\naws_secret_access_key = {outside}\n* @owner-from-outside\n"),
    );
    env.write("app/.env", format!("HF_TOKEN={}\n", fake::huggingface()));
    std::os::unix::fs::symlink(env.path("home/.aws/credentials"), env.path("app/CODEOWNERS")).unwrap();
    env.write("roster.toml", "[scan]\npaths = [\"app\"]\n");
    let discover = |out: &str| {
        let o = env.roster(&["discover", "--config", "roster.toml", "--output-dir", out]);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        read_json(&env.path(&format!("{out}/report.json")))
    };
    let owner = |report: &Value| {
        let g = gaps(report).iter().find(|g| g["kind"] == "committed-secret").unwrap();
        g["owner"]["name"].as_str().map(str::to_owned)
    };

    let report = discover("out");
    assert_eq!(owner(&report), None);
    let issue = report["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["source"] == "app/CODEOWNERS")
        .unwrap_or_else(|| panic!("{:#}", report["issues"]));
    assert!(
        issue["message"]
            .as_str()
            .unwrap()
            .contains("is a symbolic link: not followed")
    );
    let written = all_bytes_under(&env.path("out"));
    assert!(!contains(&written, "owner-from-outside") && !contains(&written, &outside[..8]));

    // The control: the same lines in a regular file do name the owner.
    std::fs::remove_file(env.path("app/CODEOWNERS")).unwrap();
    env.write("app/CODEOWNERS", "* @owner-from-outside\n");
    assert_eq!(owner(&discover("out2")).as_deref(), Some("@owner-from-outside"));
}
