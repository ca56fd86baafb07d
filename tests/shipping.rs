//! What ships: the binary alone (its connectors built in), `roster --version` and
//! `roster connectors`.

use crate::ROSTER;
use crate::discover::assert_every_sample_gap;
use roster_testkit::Env;
use serde_json::Value;

/// The binary copied alone into an empty folder, far from any checkout or build folder, runs the
/// whole demo: every connector comes from inside it.
#[test]
fn a_copied_binary_runs_the_whole_demo_alone() {
    let env = Env::new(ROSTER);
    let bin = env.path("elsewhere/bin/roster");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::copy(ROSTER, &bin).unwrap();
    std::fs::create_dir_all(env.path("work")).unwrap();
    let out = std::process::Command::new(&bin)
        .args(["demo", "--output", "out"])
        .current_dir(env.path("work"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.path("home"))
        .env("ROSTER_STATE_DIR", env.state())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: Value = serde_json::from_slice(&std::fs::read(env.path("work/out/report.json")).unwrap()).unwrap();
    let runs = report["connectors"].as_array().unwrap();
    assert_eq!(runs.len(), 13, "{runs:#?}");
    for r in runs {
        assert_eq!(r["status"], "complete", "{r:#}");
    }
    assert_every_sample_gap(&report);
}

#[test]
fn version_names_the_commit() {
    let env = Env::new(ROSTER);
    let out = env.roster(&["--version"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let version = env!("CARGO_PKG_VERSION");
    assert!(text.starts_with(&format!("roster {version}")), "{text}");
    let root = roster_testkit::workspace_root();
    if root.join(".git").exists() {
        let head = std::process::Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .current_dir(root)
            .output()
            .unwrap();
        let head = String::from_utf8_lossy(&head.stdout).trim().to_owned();
        assert_eq!(text.trim(), format!("roster {version} ({head})"));
    }
}

/// `roster connectors` lists every folder of connectors/ with a profile, each with the hash of
/// the component the build made (what a source pins), and says when ROSTER_CONNECTOR_DIR
/// replaces one.
#[test]
fn connectors_lists_every_built_in_with_its_hash() {
    let env = Env::new(ROSTER);
    let out = env.roster(&["connectors", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let mut folders: Vec<String> = std::fs::read_dir(roster_testkit::workspace_root().join("connectors"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("profile.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    let names: Vec<&str> = list.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, folders);
    for c in &list {
        let file = format!("connector_{}", c["name"].as_str().unwrap().replace('-', "_"));
        let built = roster_testkit::guest_bytes(&file);
        assert_eq!(c["sha256"], roster_plugin_host::sha256_hex(&built), "{c:#}");
        assert_eq!(c["bytes"], built.len());
        assert_eq!(c["version"], env!("CARGO_PKG_VERSION"));
        assert!(c["replaced_by"].is_null());
    }
    let text = env.roster(&["connectors"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(list[0]["sha256"].as_str().unwrap()), "{text}");
    assert!(text.contains("13 built-in connectors"), "{text}");

    // A folder of components replaces the built-in one it holds.
    env.write(
        "override/connector_okta.wasm",
        roster_testkit::guest_bytes("connector_hostile"),
    );
    let dir = env.path("override").display().to_string();
    let out = env.roster_env(&["connectors", "--format", "json"], &[("ROSTER_CONNECTOR_DIR", &dir)]);
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let okta = list.iter().find(|c| c["name"] == "okta").unwrap();
    assert!(
        okta["replaced_by"].as_str().unwrap().ends_with("connector_okta.wasm"),
        "{okta:#}"
    );

    // The demo with a broken connector in its place does not pass for a demo: exit 3, the
    // source named.
    env.write("override/connector_okta.wasm", "not a component");
    let out = env.roster_env(&["demo", "--output", "broken"], &[("ROSTER_CONNECTOR_DIR", &dir)]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&std::fs::read(env.path("broken/report.json")).unwrap()).unwrap();
    assert_eq!(report["incomplete"], true);
    let failed: Vec<&str> = report["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] != "complete")
        .map(|c| c["connector"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["okta"]);
}

/// The tree can be tagged as its own version: Cargo.toml, Cargo.lock, CHANGELOG.md, the Action's
/// default version and the wheel-based pre-commit hooks agree (what the release workflow checks
/// before building).
#[test]
fn this_tree_is_releasable_as_its_version() {
    let version = env!("CARGO_PKG_VERSION");
    let out = std::process::Command::new("bash")
        .arg("scripts/check-release.sh")
        .arg(format!("v{version}"))
        .current_dir(roster_testkit::workspace_root())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), version);
}
