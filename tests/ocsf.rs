//! `--format ocsf` and discover's `report.ocsf.jsonl`: OCSF 1.5.0 Detection Findings, checked by
//! tests/validate_ocsf.py with py-ocsf-models (the OCSF models Prowler uses) and by what a SIEM
//! user would look for: one event per gap with its stable id, accepted gaps suppressed, code
//! findings with their rule, and no raw secret.

use crate::ROSTER;
use crate::discover::SAMPLE_SECRETS;
use roster_testkit::{Env, fake, test_deps};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

/// Runs the validator on `file`, forbidding `secrets`.
fn validate(env: &Env, file: &Path, secrets: &[&str]) -> Output {
    let forbid = env.write("forbidden.txt", secrets.join("\n") + "\n");
    std::process::Command::new(test_deps().join("venv/bin/python"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate_ocsf.py"))
        .arg("--forbid-file")
        .arg(forbid)
        .arg(file)
        .output()
        .expect("the test venv's python (scripts/test.sh installs py-ocsf-models)")
}

fn read_events(file: &Path) -> Vec<Value> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn discover_writes_one_valid_detection_finding_per_gap_and_finding() {
    let env = Env::new(ROSTER);
    let out = env.roster(&["demo", "--output", "demo"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let file = env.path("demo/report.ocsf.jsonl");
    let check = validate(&env, &file, &SAMPLE_SECRETS);
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "{}{}",
        stdout,
        String::from_utf8_lossy(&check.stderr)
    );
    let report: Value = serde_json::from_slice(&std::fs::read(env.path("demo/report.json")).unwrap()).unwrap();
    let events = read_events(&file);
    assert!(stdout.contains(&format!("{} valid", events.len())), "{stdout}");

    // Every gap once, under its stable id, with its severity and kind.
    let gap_ids: BTreeSet<&str> = report["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    let gap_events: Vec<&Value> = events
        .iter()
        .filter(|e| e["finding_info"]["types"][0] == "ownership-gap")
        .collect();
    let event_ids: BTreeSet<&str> = gap_events
        .iter()
        .map(|e| e["finding_info"]["uid"].as_str().unwrap())
        .collect();
    assert_eq!(event_ids, gap_ids);
    for g in report["gaps"].as_array().unwrap() {
        let e = gap_events.iter().find(|e| e["finding_info"]["uid"] == g["id"]).unwrap();
        assert_eq!(e["metadata"]["event_code"], g["kind"]);
        assert_eq!(e["finding_info"]["title"], g["title"]);
        let severity = g["severity"].as_str().unwrap();
        let caption = if severity == "info" {
            "Informational".to_owned()
        } else {
            severity[..1].to_uppercase() + &severity[1..]
        };
        assert_eq!(e["severity"], caption.as_str(), "{e:#}");
        assert_eq!(e["status"], "New");
        assert_eq!(e["resources"][0]["uid"], g["entities"][0]["id"]);
    }
    // Code findings: one per secret and path, with the rule, linked from the gaps about them.
    let findings: Vec<&Value> = events
        .iter()
        .filter(|e| e["finding_info"]["types"][0] == "exposed-secret")
        .collect();
    let distinct: BTreeSet<(&str, &str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap(),
                f["rule_id"].as_str().unwrap(),
                f["fingerprint"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(findings.len(), distinct.len());
    assert_eq!(gap_events.len() + findings.len(), events.len());
    let committed = gap_events
        .iter()
        .find(|e| e["metadata"]["event_code"] == "committed-secret")
        .unwrap();
    let linked = committed["finding_info"]["related_events"][0]["uid"].as_str().unwrap();
    assert!(
        findings.iter().any(|f| f["finding_info"]["uid"] == linked),
        "{committed:#}"
    );

    // An accepted gap is reported Suppressed, with the reason, on the next run (the demo keeps
    // its state in its output folder).
    let gap = gap_events[0]["finding_info"]["uid"].as_str().unwrap();
    let state = env.path("demo/state").display().to_string();
    let out = env.roster(&[
        "baseline",
        "accept",
        gap,
        "--reason",
        "SEC-1234 decommission scheduled",
        "--state-dir",
        &state,
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = env.roster(&["demo", "--output", "demo"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let again = read_events(&file);
    let e = again.iter().find(|e| e["finding_info"]["uid"] == gap).unwrap();
    assert_eq!(
        (e["status_id"].as_u64(), e["status"].as_str()),
        (Some(3), Some("Suppressed"))
    );
    assert_eq!(e["comment"], "SEC-1234 decommission scheduled");
    assert!(e["finding_info"]["first_seen_time"].as_i64().unwrap() <= e["time"].as_i64().unwrap());

    // The validator is not a rubber stamp: an event of another class fails it.
    let broken = std::fs::read_to_string(&file)
        .unwrap()
        .replacen("\"class_uid\":2004", "\"class_uid\":2003", 1);
    let broken = env.write("broken.ocsf.jsonl", broken);
    let check = validate(&env, &broken, &[]);
    assert_eq!(
        check.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    // Nor is its secret check: a raw secret slipped in fails it.
    let with_secret = env.write(
        "leak.ocsf.jsonl",
        std::fs::read_to_string(&file).unwrap().replacen(
            "\"message\":\"",
            &format!("\"message\":\"{} ", SAMPLE_SECRETS[1]),
            1,
        ),
    );
    assert_eq!(validate(&env, &with_secret, &SAMPLE_SECRETS).status.code(), Some(1));
}

#[test]
fn scan_format_ocsf_reports_a_committed_key_as_a_valid_finding() {
    let env = Env::new(ROSTER);
    let key = fake::openai_project();
    env.git("r", &["init", "-q", "-b", "main"]);
    env.write("r/.env", format!("OPENAI_API_KEY={key}\n"));
    env.git("r", &["add", "."]);
    env.git("r", &["commit", "-qm", "bot"]);
    let out = env.roster(&["scan", "--git", "r", "--format", "ocsf", "--output", "scan.ocsf.jsonl"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let file = env.path("scan.ocsf.jsonl");
    let check = validate(&env, &file, &[&key]);
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    let events = read_events(&file);
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e["metadata"]["event_code"], "openai.project-key");
    assert_eq!(e["metadata"]["product"]["feature"]["name"], "scan");
    assert_eq!(e["resources"][1]["name"], ".env");
    assert_eq!(e["evidences"][0]["data"]["line"], 1);
    assert!(e["finding_info"]["uid"].as_str().unwrap().starts_with("finding-"));
    assert!(roster_testkit::is_redaction_of(
        e["resources"][0]["data"]["redacted"].as_str().unwrap(),
        &key
    ));
}
