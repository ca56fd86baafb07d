//! `roster scan PATH`: planted keys in realistic files, hard negatives, outputs, CI behaviour.

use crate::ROSTER;
use base64::Engine as _;
use roster_testkit::fake::{self, b62, rand_from};
use roster_testkit::{Env, all_bytes_under, contains, field};

struct Planted {
    env: Env,
    /// (secret, rule id, path, line)
    keys: Vec<(String, &'static str, &'static str, u64)>,
}

fn planted() -> Planted {
    let env = Env::new(ROSTER);
    let openai = fake::openai_project();
    let openai2 = fake::openai_project();
    let openai3 = fake::openai_project();
    let anthropic = fake::anthropic();
    let gh = fake::github_pat();
    let akia = fake::aws_key_id();
    let aws_secret = fake::aws_secret();
    let hf = fake::huggingface();
    let slack = fake::slack_bot();
    env.write(
        "repo/app/.env",
        format!("# dev settings\nDEBUG=true\nOPENAI_API_KEY={openai}\n"),
    );
    env.write(
        "repo/app/agent.py",
        format!("from crewai import Agent, Crew\nfrom anthropic import Anthropic\n\nclient = Anthropic(api_key=\"{anthropic}\")\n"),
    );
    env.write(
        "repo/.github/workflows/deploy.yml",
        format!("name: deploy\non: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    env:\n      AWS_ACCESS_KEY_ID: {akia}\n      AWS_SECRET_ACCESS_KEY: {aws_secret}\n    steps:\n      - run: ./deploy.sh\n"),
    );
    env.write(
        "repo/notebooks/eval.ipynb",
        format!("{{\n \"cells\": [{{\"cell_type\": \"code\", \"source\": [\n    \"from huggingface_hub import login\\n\",\n    \"login(token=\\\"{hf}\\\")\\n\"\n ]}}]\n}}\n"),
    );
    let b64 = base64::engine::general_purpose::STANDARD.encode(&gh);
    env.write(
        "repo/k8s/secret.yaml",
        format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: bot\ntype: Opaque\ndata:\n  GITHUB_TOKEN: {b64}\n"),
    );
    env.write(
        "repo/.bash_history",
        format!("ls\nexport SLACK_BOT_TOKEN={slack}\ncurl https://slack.com/api/auth.test\n"),
    );
    env.write(
        "repo/docker-compose.yml",
        format!("services:\n  bot:\n    image: bot:1\n    environment:\n      - OPENAI_API_KEY={openai2}\n"),
    );
    env.write(
        "repo/src/config.py",
        format!("import os\n\nos.environ[\"OPENAI_API_KEY\"] = \"{openai3}\"\n"),
    );
    let keys = vec![
        (openai, "openai.project-key", "app/.env", 3),
        (anthropic, "anthropic.api-key", "app/agent.py", 4),
        (akia, "aws.access-key-id", ".github/workflows/deploy.yml", 7),
        (aws_secret, "aws.secret-access-key", ".github/workflows/deploy.yml", 8),
        (hf, "huggingface.access-token", "notebooks/eval.ipynb", 4),
        (gh, "github.classic-pat", "k8s/secret.yaml", 7),
        (slack, "slack.bot-token", ".bash_history", 2),
        (openai2, "openai.project-key", "docker-compose.yml", 5),
        (openai3, "openai.project-key", "src/config.py", 3),
    ];
    Planted { env, keys }
}

const HARD_NEGATIVES: &str = r#"
import os
OPENAI_API_KEY = os.environ["OPENAI_API_KEY"]
ANTHROPIC_API_KEY = os.getenv("ANTHROPIC_API_KEY")
openai_key = "sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
api_key = "your-api-key-here"
token = "${GITHUB_TOKEN}"
password = "{{ .Values.db.password }}"
masked = "sk-ant-api03-****************************************"
commit = "9fceb02d0ae598e95dc970b74767f19372d61af8"
checksum = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
request_id = "123e4567-e89b-12d3-a456-426614174000"
AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
"#;

const LOCKFILE: &str = r#"{
  "name": "app",
  "lockfileVersion": 3,
  "packages": {
    "node_modules/openai": {
      "version": "4.73.0",
      "resolved": "https://registry.npmjs.org/openai/-/openai-4.73.0.tgz",
      "integrity": "sha512-NZstV77w3CEol9KQTRBRrjGHeCm1O3ZnRnLbPe5tkZmy3ZN7fg0QXSsFI5c3jq5DHivcUlvJ57VJr4i8N+9Lzng=="
    }
  }
}
"#;

#[test]
fn planted_keys_are_found_where_they_sit() {
    let p = planted();
    let (code, v, stderr) = p.env.scan_json(&["repo"]);
    assert_eq!(code, 1, "findings exit 1; stderr: {stderr}");
    let findings = v["findings"].as_array().unwrap();
    for (secret, rule, path, line) in &p.keys {
        let hit = findings.iter().find(|f| {
            f["rule_id"] == *rule
                && f["path"] == *path
                && roster_testkit::is_redaction_of(f["redacted"].as_str().unwrap(), secret)
        });
        let hit = hit.unwrap_or_else(|| panic!("{rule} in {path} not found; findings: {findings:#?}"));
        assert_eq!(hit["line"].as_u64(), Some(*line), "{rule} line in {path}");
        assert_eq!(hit["fingerprint"].as_str().unwrap().len(), 64);
        for k in [
            "rule_id",
            "provider",
            "kind",
            "severity",
            "path",
            "line",
            "fingerprint",
            "redacted",
        ] {
            assert!(!hit[k].is_null(), "finding lacks {k}: {hit}");
        }
    }
    // The AWS key id and its secret, two lines apart, are paired.
    let akia = findings.iter().find(|f| f["rule_id"] == "aws.access-key-id").unwrap();
    let secret = findings
        .iter()
        .find(|f| f["rule_id"] == "aws.secret-access-key")
        .unwrap();
    assert_eq!(akia["paired_with"], secret["fingerprint"]);
    assert_eq!(secret["paired_with"], akia["fingerprint"]);
    let k8s = findings.iter().find(|f| f["path"] == "k8s/secret.yaml").unwrap();
    assert!(k8s["decoded"].as_str().unwrap().contains("base64"));
    // The agent in app/ uses the keys next to it; CrewAI is its framework.
    let agents = v["agents"].as_array().unwrap();
    assert!(
        agents
            .iter()
            .any(|a| a["frameworks"].as_array().unwrap().iter().any(|f| f == "CrewAI")),
        "CrewAI agent not discovered: {agents:#?}"
    );
    assert_eq!(v["version"], 1);
    assert_eq!(v["incomplete"], false);
}

#[test]
fn clean_tree_exits_zero() {
    let env = Env::new(ROSTER);
    env.write("clean/settings.py", HARD_NEGATIVES);
    env.write("clean/package-lock.json", LOCKFILE);
    env.write(
        "clean/README.md",
        "Set OPENAI_API_KEY to your key: `export OPENAI_API_KEY=sk-...`\n",
    );
    let (code, v, stderr) = env.scan_json(&["clean"]);
    assert_eq!(
        v["findings"].as_array().unwrap().len(),
        0,
        "hard negatives must stay quiet: {v:#}"
    );
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn no_raw_secret_in_any_output_unless_asked() {
    let p = planted();
    let mut written = Vec::new();
    for format in ["text", "json", "jsonl", "sarif", "csv", "md"] {
        let out = p.env.roster(&["scan", "repo", "--format", format]);
        assert_eq!(out.status.code(), Some(1), "{format}");
        written.extend(out.stdout);
        written.extend(out.stderr);
        let file = format!("report.{format}");
        let out = p.env.roster(&["scan", "repo", "--format", format, "--output", &file]);
        written.extend(out.stdout);
        written.extend(out.stderr);
    }
    written.extend(all_bytes_under(&p.env.state()));
    for f in ["text", "json", "jsonl", "sarif", "csv", "md"] {
        written.extend(std::fs::read(p.env.path(&format!("report.{f}"))).unwrap());
    }
    assert!(
        p.env
            .roster(&["baseline", "create", "repo", "--output", "baseline.json"])
            .status
            .success()
    );
    written.extend(std::fs::read(p.env.path("baseline.json")).unwrap());
    for (secret, rule, ..) in &p.keys {
        assert!(!contains(&written, secret), "raw {rule} secret leaked into an output");
    }
    // With --show-secrets the user sees them.
    let out = p.env.roster(&["scan", "repo", "--show-secrets"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        p.keys.iter().all(|(s, ..)| text.contains(s.as_str())),
        "--show-secrets shows every secret"
    );
}

#[test]
fn sarif_has_what_code_scanning_needs() {
    let p = planted();
    let out = p.env.roster(&["scan", "repo", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert!(v["$schema"].as_str().unwrap().contains("sarif"));
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    let got: Vec<String> = results
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            )
        })
        .collect();
    assert_eq!(results.len(), p.keys.len(), "{got:#?}");
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(
            !loc["artifactLocation"]["uri"].as_str().unwrap().starts_with('/'),
            "relative URIs"
        );
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        assert_eq!(
            r["partialFingerprints"]["rosterFingerprint/v1"].as_str().unwrap().len(),
            64
        );
    }
    for rule in rules {
        let sev: f64 = rule["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&sev));
        assert!(rule["shortDescription"]["text"].is_string());
    }
}

/// The official SARIF 2.1.0 schema validates our output (scripts/test.sh installs the schema and a
/// validator under target/test-deps; without them this test fails, it never skips).
#[test]
fn sarif_validates_against_the_official_schema() {
    let deps = roster_testkit::test_deps();
    let schema = deps.join("sarif-2.1.0-rtm.5.json");
    let python = deps.join("venv/bin/python");
    assert!(
        schema.exists() && python.exists(),
        "the SARIF schema validator is missing: run ./scripts/test.sh once (it installs {} and {})",
        schema.display(),
        python.display()
    );
    let p = planted();
    let sarif = p.env.path("out.sarif");
    let out = p.env.roster(&[
        "scan",
        "repo",
        "--git",
        "repo",
        "--format",
        "sarif",
        "--output",
        sarif.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate_sarif.py");
    let check = std::process::Command::new(python)
        .arg(script)
        .arg(&schema)
        .arg(&sarif)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "SARIF does not validate:\n{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn one_secret_in_two_files_has_one_fingerprint_and_keys_differ_per_installation() {
    let env = Env::new(ROSTER);
    let key = fake::openai_project();
    env.write("a/one/.env", format!("OPENAI_API_KEY={key}\n"));
    env.write("a/two/config.yaml", format!("openai:\n  api_key: {key}\n"));
    let (_, v, _) = env.scan_json(&["a"]);
    let fps = field(&v, "fingerprint");
    assert_eq!(fps.len(), 2, "{v:#}");
    assert_eq!(fps[0], fps[1]);
    // A different installation (state dir) has a different key, hence another fingerprint.
    let other = Env::new(ROSTER);
    other.write("a/.env", format!("OPENAI_API_KEY={key}\n"));
    let (_, w, _) = other.scan_json(&["a"]);
    assert_ne!(field(&w, "fingerprint")[0], fps[0]);
    // The key lives in the state database, which is private.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(env.state().join("roster.db"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the state database is readable by others");
    }
    // The same installation keeps its key: a second scan gives the same fingerprint.
    let (_, again, _) = env.scan_json(&["a"]);
    assert_eq!(field(&again, "fingerprint")[0], fps[0]);
}

#[test]
fn a_key_file_from_an_earlier_roster_is_imported_so_fingerprints_do_not_change() {
    let key = fake::openai_project();
    let hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    // The fingerprint this key gives, through the environment variable.
    let reference = Env::new(ROSTER);
    reference.write("a/.env", format!("OPENAI_API_KEY={key}\n"));
    let out = reference.roster_env(
        &["scan", "a", "-f", "json", "--fail-on", "none"],
        &[("ROSTER_FINGERPRINT_KEY", hex)],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected = field(&v, "fingerprint")[0].to_owned();
    // An installation with the same key in the old `fingerprint.key` file.
    let env = Env::new(ROSTER);
    env.write("a/.env", format!("OPENAI_API_KEY={key}\n"));
    std::fs::create_dir_all(env.state()).unwrap();
    std::fs::write(env.state().join("fingerprint.key"), format!("{hex}\n")).unwrap();
    let (_, v, _) = env.scan_json(&["a"]);
    assert_eq!(field(&v, "fingerprint")[0], expected);
    assert!(
        !env.state().join("fingerprint.key").exists(),
        "imported into roster.db and removed"
    );
    let (_, v, _) = env.scan_json(&["a"]);
    assert_eq!(field(&v, "fingerprint")[0], expected, "still the same key");
}

#[test]
fn baseline_lets_only_new_leaks_fail() {
    let env = Env::new(ROSTER);
    env.write("r/old.env", format!("OPENAI_API_KEY={}\n", fake::openai_project()));
    assert!(
        env.roster(&["baseline", "create", "r", "--output", "baseline.json"])
            .status
            .success()
    );
    let (code, v, _) = env.scan_json(&["r", "--baseline", "baseline.json"]);
    assert_eq!((code, v["findings"].as_array().unwrap().len()), (0, 0));
    assert_eq!(v["stats"]["suppressed_baseline"], 1);
    env.write("r/new.env", format!("ANTHROPIC_API_KEY={}\n", fake::anthropic()));
    let (code, v, _) = env.scan_json(&["r", "--baseline", "baseline.json"]);
    assert_eq!(code, 1);
    assert_eq!(field(&v, "path"), ["new.env"]);
    // The baseline works on another machine (another fingerprint key): it carries its own salt.
    let other = Env::new(ROSTER);
    std::fs::copy(env.path("baseline.json"), other.path("baseline.json")).unwrap();
    copy_dir(&env.path("r"), &other.path("r"));
    let (_, v, _) = other.scan_json(&["r", "--baseline", "baseline.json"]);
    assert_eq!(field(&v, "path"), ["new.env"]);
    // A broken baseline is an error, not a silent pass.
    env.write("bad.json", "{\"not\": \"a baseline\"}");
    let out = env.roster(&["scan", "r", "--baseline", "bad.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.json"));
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let t = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &t)
        } else {
            std::fs::copy(e.path(), t).unwrap();
        }
    }
}

#[test]
fn inline_allow_comment_suppresses_a_line() {
    let env = Env::new(ROSTER);
    env.write(
        "r/test_fixtures.py",
        format!(
            "KEY = \"{}\"  # roster:allow test fixture\nOTHER = \"{}\"\n",
            fake::openai_project(),
            fake::anthropic()
        ),
    );
    let (_, v, _) = env.scan_json(&["r"]);
    assert_eq!(field(&v, "rule_id"), ["anthropic.api-key"]);
    assert_eq!(v["stats"]["suppressed_inline"], 1);
}

#[test]
fn fail_on_threshold_and_exit_codes() {
    let env = Env::new(ROSTER);
    env.write("r/.env", format!("HF_TOKEN={}\n", fake::huggingface()));
    let (code, _, _) = env.scan_json(&["r", "--fail-on", "critical"]);
    assert_eq!(code, 0, "a high finding does not fail a critical threshold");
    let (code, _, _) = env.scan_json(&["r", "--fail-on", "high"]);
    assert_eq!(code, 1);
    let out = env.roster(&["scan", "r", "--fail-on", "bogus"]);
    assert_eq!(out.status.code(), Some(2));
    let out = env.roster(&["scan"]);
    assert_eq!(out.status.code(), Some(2), "nothing to scan is an error");
}

#[test]
fn hidden_files_scanned_git_internals_not_and_gitignore_is_optional() {
    let env = Env::new(ROSTER);
    let key = fake::openai_project();
    env.write("r/.env", format!("OPENAI_API_KEY={key}\n"));
    env.write("r/.gitignore", ".env\nbuild/\n");
    env.write("r/build/out.txt", format!("{}\n", fake::anthropic()));
    env.write("r/.git/config", format!("[remote]\n\ttoken = {}\n", fake::github_pat()));
    let (_, v, _) = env.scan_json(&["r"]);
    let mut paths = field(&v, "path");
    paths.sort();
    assert_eq!(paths, [".env", "build/out.txt"]);
    let (_, v, _) = env.scan_json(&["r", "--respect-gitignore"]);
    assert!(field(&v, "path").is_empty());
    let (_, v, _) = env.scan_json(&["r", "--exclude", "build/**"]);
    assert_eq!(field(&v, "path"), [".env"]);
}

#[test]
fn hostile_inputs_are_reported_and_the_scan_goes_on() {
    let env = Env::new(ROSTER);
    let key = fake::anthropic();
    // binary file holding a key: skipped as binary
    let mut bin = vec![0u8, 1, 2, 3, 0, 255];
    bin.extend(key.as_bytes());
    env.write("r/blob.bin", bin);
    // invalid UTF-8 around a key: still found
    let mut bad = b"\xff\xfe garbage \xc3\x28 ANTHROPIC_API_KEY=".to_vec();
    bad.extend(key.as_bytes());
    bad.extend(b"\n\xe2\x82\n");
    env.write("r/latin1.cfg", bad);
    // a file above the size cap (sparse: costs no disk)
    let big = std::fs::File::create(env.path("r/huge.log")).unwrap();
    big.set_len(2 * 1024 * 1024 * 1024 + 1).unwrap();
    // a symlink loop
    #[cfg(unix)]
    std::os::unix::fs::symlink(env.path("r"), env.path("r/loop")).unwrap();
    // an unreadable file: /proc/self/mem is a regular file whose read fails (even for root,
    // whom permissions do not stop)
    #[cfg(target_os = "linux")]
    std::os::unix::fs::symlink("/proc/self/mem", env.path("r/core.dump")).unwrap();
    let (code, v, stderr) = env.scan_json(&["r", "--follow-symlinks"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(field(&v, "path"), ["latin1.cfg"], "{v:#}");
    let issues = v["issues"].as_array().unwrap();
    let text = serde_json::to_string(issues).unwrap();
    assert!(text.contains("huge.log") && text.contains("--max-file-size"), "{text}");
    #[cfg(unix)]
    assert!(text.contains("loop"), "symlink loop reported: {text}");
    #[cfg(target_os = "linux")]
    assert!(
        text.contains("core.dump") && text.contains("cannot read"),
        "unreadable file reported: {text}"
    );
    assert_eq!(v["stats"]["skipped_binary"], 1);
    assert_eq!(v["incomplete"], true, "a loop is an unreadable part of the source");
}

#[test]
fn malformed_rule_file_names_file_rule_and_regex_error() {
    let env = Env::new(ROSTER);
    env.write("r/a.txt", "nothing\n");
    env.write(
        "my-rules.toml",
        "[[rules]]\nid = \"acme.token\"\nregex = '''acme_([a-z]{8'''\nkeywords = [\"acme_\"]\n",
    );
    let out = env.roster(&["scan", "r", "--rules", "my-rules.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("my-rules.toml") && err.contains("acme.token") && err.contains("regex"),
        "{err}"
    );
    env.write("broken.toml", "[[rules]\nid=");
    let out = env.roster(&["scan", "r", "--rules", "broken.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.toml"));
}

#[test]
fn user_rules_extend_builtins_and_are_checked() {
    let env = Env::new(ROSTER);
    let rule = r#"
[[rules]]
id = "acme.deploy-token"
name = "Acme deploy token"
provider = "acme"
severity = "critical"
regex = '''\b(acme_dt_[a-z0-9]{24})\b'''
keywords = ["acme_dt_"]
examples = ["ACME=acme_dt_q8w7e6r5t4y3u2i1o9p8a7s6", "token: acme_dt_z1x2c3v4b5n6m7l8k9j0h1g2"]
negative_examples = ["acme_dt_short"]
"#;
    env.write("acme.toml", rule);
    let out = env.roster(&["rules", "check", "acme.toml"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    env.write(
        "r/deploy.sh",
        format!(
            "ACME=acme_dt_{}\nOPENAI_API_KEY={}\n",
            rand_from(b"abcdefghijklmnopqrstuvwxyz0123456789", 24),
            fake::openai_project()
        ),
    );
    let (_, v, _) = env.scan_json(&["r", "--rules", "acme.toml"]);
    let mut ids = field(&v, "rule_id");
    ids.sort();
    assert_eq!(
        ids,
        ["acme.deploy-token", "openai.project-key"],
        "user rules extend, built-ins stay"
    );
    // A rule whose example does not match fails the check, naming the rule.
    env.write("bad.toml", rule.replace("acme_dt_q8w7", "acme_xx_q8w7"));
    let out = env.roster(&["rules", "check", "bad.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("acme.deploy-token") && err.contains("example 1"), "{err}");
    // Reusing a built-in id is refused, never a silent replacement.
    env.write("dup.toml", rule.replace("acme.deploy-token", "openai.project-key"));
    let out = env.roster(&["scan", "r", "--rules", "dup.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("duplicate id"));
}

#[test]
fn gitleaks_config_is_accepted_as_is() {
    let env = Env::new(ROSTER);
    env.write(
        ".gitleaks.toml",
        r#"title = "team config"
[extend]
useDefault = true

[[rules]]
id = "internal-service-token"
description = "Internal service token"
regex = '''(?i)svc[_-]?token\s*[:=]\s*["']?(ist_[a-f0-9]{32})'''
secretGroup = 1
entropy = 2.5
keywords = ["ist_"]
tags = ["internal"]

[[rules.allowlists]]
description = "test tokens"
regexes = ['''^ist_0{8}''']

[allowlist]
paths = ['''(^|/)vendor/''']
"#,
    );
    let tok = format!("ist_{}", rand_from(b"0123456789abcdef", 32));
    env.write("r/app.env", format!("SVC_TOKEN={tok}\n"));
    env.write(
        "r/vendor/lib.env",
        format!("SVC_TOKEN=ist_{}\n", rand_from(b"0123456789abcdef", 32)),
    );
    env.write(
        "r/test.env",
        format!("SVC_TOKEN=ist_00000000{}\n", rand_from(b"0123456789abcdef", 24)),
    );
    let (code, v, stderr) = env.scan_json(&["r", "--gitleaks-config", ".gitleaks.toml"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(field(&v, "path"), ["app.env"], "{v:#}");
    assert_eq!(field(&v, "rule_id"), ["internal-service-token"]);
}

/// gitleaks' own default config (v8.30.1, tests/fixtures/gitleaks), unchanged: its Go regular
/// expressions are translated, so the rules the `regex` crate refused (too large once Unicode,
/// or with literal braces in their allowlists) load and find their tokens, and the global
/// allowlist's `${VAR}` placeholders stay quiet.
#[test]
fn gitleaks_own_default_config_loads_and_finds_its_tokens() {
    let env = Env::new(ROSTER);
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gitleaks/gitleaks.toml");
    let word = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    env.write(
        "r/publish.env",
        format!("TWINE_PASSWORD=pypi-AgEIcHlwaS5vcmc{}\n", rand_from(word, 80)),
    );
    env.write("r/vault.env", format!("VAULT_TOKEN=hvb.{}\n", rand_from(word, 160)));
    env.write("r/placeholder.env", "API_KEY=${API_KEY}\nsecret_token = \"$1\"\n");
    let (code, v, stderr) = env.scan_json(&["r", "--gitleaks-config", config.to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    let found: std::collections::BTreeSet<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["rule_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        found.contains(&("publish.env".into(), "pypi-upload-token".into())),
        "{found:?}"
    );
    assert!(
        found.contains(&("vault.env".into(), "vault-batch-token".into())),
        "{found:?}"
    );
    assert!(!found.iter().any(|(p, _)| p == "placeholder.env"), "{found:?}");
    assert!(
        !stderr.contains("invalid") && !stderr.contains("size limit"),
        "{stderr}"
    );
}

#[test]
fn every_builtin_rule_is_listed_and_checked_by_the_cli() {
    let env = Env::new(ROSTER);
    let out = env.roster(&["rules", "list", "--format", "json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v.as_array().unwrap().len() > 100, "at least a hundred built-in rules");
    let rules_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let files: Vec<String> = std::fs::read_dir(&rules_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path().display().to_string())
        .filter(|p| p.ends_with(".toml"))
        .collect();
    let mut args = vec!["rules", "check"];
    args.extend(files.iter().map(String::as_str));
    let out = env.roster(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn help_documents_every_scan_flag() {
    let env = Env::new(ROSTER);
    let out = env.roster(&["scan", "--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--git",
        "--since",
        "--staged",
        "--incremental",
        "--format",
        "--output",
        "--fail-on",
        "--baseline",
        "--rules",
        "--gitleaks-config",
        "--respect-gitignore",
        "--exclude",
        "--max-file-size",
        "--follow-symlinks",
        "--threads",
        "--show-secrets",
        "--state-dir",
        "--no-progress",
    ] {
        assert!(help.contains(flag), "scan --help does not mention {flag}:\n{help}");
    }
    let out = env.roster(&["--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in ["scan", "demo", "baseline", "rules"] {
        assert!(help.contains(cmd), "--help does not list {cmd}");
    }
    let out = env.roster(&["scan", "--frobnicate"]);
    assert_eq!(out.status.code(), Some(2), "unknown flags are usage errors");
}

/// A monorepo with several agent workloads: each project directory is one agent, with the
/// frameworks seen in it and the credentials it uses (secrets found in its files, and the
/// credential variables it reads); MCP servers are listed with their package and pinning.
#[test]
fn agents_are_discovered_per_project_with_their_credentials() {
    let env = Env::new(ROSTER);
    let key = fake::openai_project();
    env.write(
        "mono/services/triage/pyproject.toml",
        "[project]\nname = \"triage\"\ndependencies = [\"openai-agents>=0.2\"]\n",
    );
    env.write(
        "mono/services/triage/main.py",
        format!(
            "import os\nfrom agents import Agent, Runner, function_tool\n\nclient_key = \"{key}\"\nzendesk = os.environ[\"ZENDESK_API_TOKEN\"]\n"
        ),
    );
    env.write(
        "mono/services/research/package.json",
        "{\n  \"name\": \"research\",\n  \"dependencies\": {\"@langchain/langgraph\": \"^0.2.0\"}\n}\n",
    );
    env.write(
        "mono/services/research/src/agent.ts",
        "import { StateGraph } from \"@langchain/langgraph\";\nconst apiKey = process.env.ANTHROPIC_API_KEY;\n",
    );
    env.write(
        "mono/.mcp.json",
        "{\"mcpServers\": {\"linear\": {\"command\": \"npx\", \"args\": [\"-y\", \"@acme/linear-mcp@1.4.0\"], \"env\": {\"LINEAR_API_KEY\": \"${LINEAR_API_KEY}\"}}}}\n",
    );
    env.write(
        "mono/.github/workflows/review.yml",
        "on: pull_request\njobs:\n  review:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: anthropics/claude-code-action@v1\n        with:\n          anthropic_api_key: ${{ secrets.ANTHROPIC_API_KEY }}\n",
    );
    env.write(
        "mono/infra/bedrock.tf",
        "resource \"aws_bedrockagent_agent\" \"support\" {\n  agent_name = \"support\"\n  foundation_model = \"anthropic.claude-3-5-sonnet\"\n}\n",
    );
    let (code, v, stderr) = env.scan_json(&["mono"]);
    assert_eq!(code, 1, "the committed key fails the scan: {stderr}");
    let agents = v["agents"].as_array().unwrap();
    let by_path = |p: &str| {
        agents
            .iter()
            .find(|a| a["path"] == p)
            .unwrap_or_else(|| panic!("no agent at {p}: {agents:#?}"))
    };
    let names = |a: &serde_json::Value, kind: &str| -> Vec<String> {
        a["credentials"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["kind"] == kind)
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let triage = by_path("services/triage");
    assert!(
        triage["frameworks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "OpenAI Agents SDK"),
        "{triage:#}"
    );
    assert_eq!(names(triage, "finding"), ["openai.project-key"]);
    assert!(
        names(triage, "env-var").contains(&"ZENDESK_API_TOKEN".to_owned()),
        "{triage:#}"
    );
    let research = by_path("services/research");
    assert!(
        research["frameworks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "LangGraph"),
        "{research:#}"
    );
    assert!(
        names(research, "env-var").contains(&"ANTHROPIC_API_KEY".to_owned()),
        "{research:#}"
    );
    // Repository-level surfaces: the MCP config, the CI agent, the Bedrock agent in Terraform.
    let root = by_path(".");
    let categories: Vec<&str> = root["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["category"].as_str().unwrap())
        .collect();
    for c in ["mcp-config", "ci-action", "iac"] {
        assert!(categories.contains(&c), "root agent lacks {c} evidence: {root:#}");
    }
    let server = &root["mcp_servers"][0];
    assert_eq!(
        (
            server["name"].as_str(),
            server["package"].as_str(),
            server["pinned"].as_bool()
        ),
        (Some("linear"), Some("@acme/linear-mcp@1.4.0"), Some(true))
    );
    assert!(names(root, "env-var").contains(&"LINEAR_API_KEY".to_owned()));
    // Agent evidence never carries a secret.
    let text = serde_json::to_string(&v["agents"]).unwrap();
    assert!(!text.contains(&key));
}

#[test]
fn gitleaks_composite_rules_report_only_with_their_required_rules_nearby() {
    let env = Env::new(ROSTER);
    env.write(
        "composite.toml",
        r#"[[rules]]
id = "acme-client-id"
description = "Acme OAuth client id"
regex = '''acme_client_id\s*=\s*"?(ci_[a-z0-9]{16})'''
keywords = ["acme_client_id"]
skipReport = true

[[rules]]
id = "acme-client-secret"
description = "Acme OAuth client secret (with its client id)"
regex = '''acme_client_secret\s*=\s*"?(cs_[A-Za-z0-9]{32})'''
keywords = ["acme_client_secret"]

[[rules.required]]
id = "acme-client-id"
withinLines = 3
"#,
    );
    let id = || {
        format!(
            "acme_client_id = \"ci_{}\"",
            rand_from(b"abcdefghijklmnopqrstuvwxyz0123456789", 16)
        )
    };
    let secret = || format!("acme_client_secret = \"cs_{}\"", b62(32));
    env.write("r/together.env", format!("{}\n{}\n", id(), secret()));
    env.write("r/alone.env", format!("{}\n", secret()));
    env.write(
        "r/far.env",
        format!("{}\n{}{}\n", id(), "# filler\n".repeat(10), secret()),
    );
    env.write("r/only-id.env", format!("{}\n", id()));
    let (code, v, stderr) = env.scan_json(&["r", "--gitleaks-config", "composite.toml"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(field(&v, "path"), ["together.env"], "{v:#}");
    assert_eq!(field(&v, "rule_id"), ["acme-client-secret"]);
    // A required id that names no rule is an error naming the rule.
    env.write(
        "bad.toml",
        "[[rules]]\nid = \"x\"\nregex = '''x_(\\d+)'''\nkeywords = [\"x_\"]\n[[rules.required]]\nid = \"nope\"\n",
    );
    let out = env.roster(&["scan", "r", "--gitleaks-config", "bad.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml") && err.contains("nope"), "{err}");
}

/// A CI job with a mistyped path must not pass forever: a target that cannot be read makes the
/// run incomplete, said on stderr, and exit 3 unless partial results are accepted.
#[test]
fn a_missing_target_is_loud() {
    let env = Env::new(ROSTER);
    env.write("ok/readme.md", "nothing here\n");
    for args in [
        vec!["scan", "no/such/path"],
        vec!["scan", "--git", "ok"],
        vec!["scan", "ok", "--git", "not-a-repo"],
    ] {
        let out = env.roster(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(
            stderr.contains("incomplete") && stderr.contains("exit 3"),
            "{args:?}: {stderr}"
        );
    }
    let out = env.roster(&["scan", "no/such/path", "--allow-incomplete"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let out = env.roster(&["scan", "ok"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Reports and baselines can hold what a secret is and where (with --show-secrets, the secret
/// itself): Roster creates them readable by the user only, and makes a file it replaces so.
#[cfg(unix)]
#[test]
fn files_roster_writes_are_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let env = Env::new(ROSTER);
    env.write("repo/.env", format!("OPENAI_API_KEY={}\n", fake::openai_project()));
    let mode = |p: &str| std::fs::metadata(env.path(p)).unwrap().permissions().mode() & 0o777;
    env.write("old.sarif", "{}");
    std::fs::set_permissions(env.path("old.sarif"), std::fs::Permissions::from_mode(0o644)).unwrap();
    for (args, file) in [
        (
            vec!["scan", "repo", "-f", "json", "-o", "report.json", "--show-secrets"],
            "report.json",
        ),
        (vec!["scan", "repo", "-f", "sarif", "-o", "old.sarif"], "old.sarif"),
        (vec!["scan", "repo", "-f", "csv", "-o", "gaps.csv"], "gaps.csv"),
        (
            vec!["baseline", "create", "repo", "-o", "baseline.json"],
            "baseline.json",
        ),
    ] {
        let out = env.roster(&args);
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(mode(file), 0o600, "{file}");
    }
}

/// A gitleaks config with a rule the regex crate cannot compile still scans with its other
/// rules: the skipped rule is a warning on standard error and a `skipped` issue naming the
/// config and the rule, and the scan is not incomplete.
#[test]
fn a_gitleaks_rule_that_cannot_compile_is_skipped_and_the_rest_scan() {
    let env = Env::new(ROSTER);
    env.write(
        "theirs.toml",
        "[[rules]]\nid = \"any-byte\"\nregex = '''tok=(\\C+)'''\nkeywords = [\"tok=\"]\n\
         [[rules]]\nid = \"acme-token\"\nregex = '''acme_[a-z0-9]{24}'''\nkeywords = [\"acme_\"]\n",
    );
    let token = format!("acme_{}", rand_from(b"abcdefghijklmnopqrstuvwxyz0123456789", 24));
    env.write("r/app.env", format!("ACME_TOKEN={token}\n"));
    let (code, v, stderr) = env.scan_json(&["r", "--gitleaks-config", "theirs.toml"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("theirs.toml: rule any-byte: skipped (not applied)"),
        "{stderr}"
    );
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"acme-token"), "{rules:?}");
    let issue = v["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["message"]
                .as_str()
                .unwrap()
                .starts_with("rule any-byte was not applied")
        })
        .unwrap_or_else(|| panic!("{:#}", v["issues"]));
    assert_eq!(issue["level"], "skipped");
    assert_eq!(issue["source"], "theirs.toml");
    assert_eq!(v["incomplete"], false);
}
