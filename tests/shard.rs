//! Sharded discovery on PostgreSQL: three shard processes at once (one failing, then retried)
//! and the merge give exactly the gaps of a run on one machine; the merge names missing shards;
//! `roster runs`, `diff` and `serve` read the history from PostgreSQL.

use crate::ROSTER;
use roster_testkit::Env;
use serde_json::Value;
use std::process::{Command, Output, Stdio};

/// One fingerprint key for the single-machine run and the shards (gap ids of committed secrets
/// derive from fingerprints): what one shared database gives them.
const KEY: &str = "0707070707070707070707070707070707070707070707070707070707070707";
const CONFIG: &str = "demo/sample-org/roster.toml";

fn roster(env: &Env, db: &str, state: &str, args: &[&str]) -> Command {
    let mut c = Command::new(ROSTER);
    c.args(["discover", "--config", CONFIG, "--state-dir", state])
        .args(args)
        .env("ROSTER_DATABASE_URL", db)
        .env("ROSTER_FINGERPRINT_KEY", KEY)
        .current_dir(env.dir.path())
        .stdin(Stdio::null());
    c
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A report's gaps without the times that say when a run saw them.
fn gaps_without_times(report: &Value) -> Vec<Value> {
    report["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let mut g = g.clone();
            let o = g.as_object_mut().unwrap();
            o.remove("first_seen");
            o.remove("last_seen");
            g
        })
        .collect()
}

fn read(env: &Env, rel: &str) -> Value {
    serde_json::from_slice(&std::fs::read(env.path(rel)).unwrap()).unwrap()
}

#[test]
fn three_shards_and_a_merge_on_postgresql_give_exactly_the_single_machine_gaps() {
    let env = Env::new(ROSTER);
    let out = env.roster(&["demo", "--output", "demo"]);
    assert!(out.status.success(), "{}", text(&out));

    // The whole pipeline on one machine, recorded in PostgreSQL.
    let single_db = roster_testkit::postgres::database();
    let out = roster(&env, &single_db, "st-single", &["--output-dir", "single"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let single = read(&env, "single/report.json");
    crate::discover::assert_every_sample_gap(&single);

    // Three shards at once on another database; shard 1 cannot reach the database and fails.
    let db = roster_testkit::postgres::database();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = format!("postgresql://roster@127.0.0.1:{port}/nothing?sslmode=disable");
    let shards: Vec<_> = (0..3)
        .map(|k| {
            let url = if k == 1 { unreachable.as_str() } else { db.as_str() };
            roster(
                &env,
                url,
                &format!("st-shard{k}"),
                &["--run-id", "nightly-1", "--shard", &format!("{k}/3")],
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    let outs: Vec<Output> = shards.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    assert!(outs[0].status.success(), "{}", text(&outs[0]));
    assert!(outs[2].status.success(), "{}", text(&outs[2]));
    assert_eq!(outs[1].status.code(), Some(2), "{}", text(&outs[1]));
    let e = String::from_utf8_lossy(&outs[1].stderr);
    assert!(
        e.contains(&format!("127.0.0.1:{port}/nothing")) && e.contains("cannot connect"),
        "{e}"
    );
    assert!(String::from_utf8_lossy(&outs[0].stdout).contains("Shard 0/3 of run \"nightly-1\""));

    // What the shards recorded holds none of the planted secrets (findings are stored redacted).
    let stored = Command::new("psql")
        .args([db.as_str(), "-At", "-c", "SELECT units || body FROM shard_results"])
        .output()
        .unwrap();
    assert!(stored.status.success(), "{}", text(&stored));
    let stored = String::from_utf8_lossy(&stored.stdout);
    assert!(stored.contains("\"findings\""), "{stored:.200}");
    for secret in crate::discover::SAMPLE_SECRETS {
        assert!(!stored.contains(secret), "a shard stored {secret:.12}…");
    }

    // The merge names the shard that has not finished, and records nothing.
    let merge = |out_dir: &str| {
        roster(
            &env,
            &db,
            "st-merge",
            &["--run-id", "nightly-1", "--merge", "--output-dir", out_dir],
        )
        .output()
        .unwrap()
    };
    let out = merge("early");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("1 of 3 shards have not finished: shard(s) 1"), "{e}");
    assert!(!env.path("early/report.json").exists());

    // Shard 1 retried; shard 0 retried too (a pod run twice replaces its own share).
    for k in [1, 0] {
        let out = roster(
            &env,
            &db,
            &format!("st-retry{k}"),
            &["--run-id", "nightly-1", "--shard", &format!("{k}/3")],
        )
        .output()
        .unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
    let out = merge("merged");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let merged = read(&env, "merged/report.json");
    assert_eq!(gaps_without_times(&merged), gaps_without_times(&single));
    for part in ["findings", "agents", "identities", "repositories", "compliance"] {
        assert_eq!(merged[part], single[part], "{part}");
    }
    assert_eq!(merged["incomplete"], single["incomplete"]);

    // A second sharded run with another N, as an Indexed Job's pods run it (the same arguments
    // in every pod): shard 0 does its share, waits for shard 1 and merges.
    let pod = |k: u32| {
        roster(
            &env,
            &db,
            &format!("st-pod{k}"),
            &[
                "--run-id",
                "nightly-2",
                "--shard",
                &format!("{k}/2"),
                "--merge",
                "--output-dir",
                "merged2",
            ],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
    };
    let first = pod(0);
    std::thread::sleep(std::time::Duration::from_secs(2));
    let second = pod(1).wait_with_output().unwrap();
    assert!(second.status.success(), "{}", text(&second));
    assert!(
        !String::from_utf8_lossy(&second.stdout).contains("Report:"),
        "only shard 0 merges"
    );
    let out = first.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("0 new gap(s), 0 resolved, 44 still open"), "{stdout}");
    let pg = [("ROSTER_DATABASE_URL", db.as_str())];
    let runs = env.roster_env(&["runs", "--format", "json", "--state-dir", "elsewhere"], &pg);
    assert!(runs.status.success(), "{}", text(&runs));
    let runs: Value = serde_json::from_slice(&runs.stdout).unwrap();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(runs.iter().all(|r| r["scope"] == "acme" && r["gaps"] == 44), "{runs:?}");
    let diff = env.roster_env(
        &[
            "diff",
            "--scope",
            "acme",
            "--format",
            "json",
            "--state-dir",
            "elsewhere",
        ],
        &pg,
    );
    assert!(diff.status.success(), "{}", text(&diff));
    let diff: Value = serde_json::from_slice(&diff.stdout).unwrap();
    assert_eq!(diff["still_open"].as_array().unwrap().len(), 44);

    let server = crate::serve::serve_env(&env, &["--state-dir", "elsewhere"], None, &pg);
    let api = crate::serve::get(&server, "/api/v1/gaps", None);
    assert_eq!(api.status, 200);
    let listed: std::collections::BTreeSet<String> = api.json()["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_owned())
        .collect();
    let expected: std::collections::BTreeSet<String> = merged["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, expected);

    // Merging a run whose shards are gone (merged already) says what to do.
    let out = merge("again");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no shard of run \"nightly-1\" is recorded"));
}
