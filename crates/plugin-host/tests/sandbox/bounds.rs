//! Traps, limits and refused code: each stops the plugin with an error naming it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use roster_model::RunStatus;
use roster_plugin_host::{CodeCache, Host, Limits, Manifest, RunOutcome};
use roster_testkit::guest_bytes;

use crate::{host, hostile, quick_limits, request};

async fn run(mode: &str) -> (RunOutcome, Duration) {
    let host = host();
    let plugin = hostile(&host);
    let t = Instant::now();
    let out = host
        .run(&plugin, request(mode, Manifest::default(), quick_limits()))
        .await;
    (out, t.elapsed())
}

fn ids(o: &RunOutcome) -> Vec<&str> {
    o.identities.iter().map(|i| i.id.as_str()).collect()
}

fn error(o: &RunOutcome) -> &str {
    assert_eq!(o.run.status, RunStatus::Failed, "{:?}", o.run);
    o.run.error.as_deref().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_well_behaved_plugin_delivers_its_records() {
    let (o, _) = run("ok").await;
    assert_eq!(o.run.status, RunStatus::Complete, "{:?}", o.run);
    assert_eq!(ids(&o), ["user-0", "user-1", "user-2"]);
    assert_eq!(o.identities[1].credentials[0].id, "AKIA0000000000000001");
    assert_eq!(o.identities[0].created.as_deref(), Some("2023-11-14T22:13:20Z"));
    assert_eq!((o.run.identities, o.run.credentials), (3, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_loop_is_stopped_at_the_time_limit() {
    let (o, took) = run("loop").await;
    let e = error(&o);
    assert!(
        e.contains("plugin hostile") && e.contains("time limit of 2s exceeded"),
        "{e}"
    );
    assert!(took < Duration::from_secs(4), "took {took:?}");
    assert_eq!(
        ids(&o),
        ["before-failure"],
        "what was emitted before the failure is kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_hog_is_stopped_at_the_memory_limit() {
    let (o, _) = run("hog").await;
    let e = error(&o);
    assert!(
        e.contains("plugin hostile") && e.contains("memory limit exceeded"),
        "{e}"
    );
    assert!(e.contains("the limit is 64 MiB"), "{e}");
    assert_eq!(ids(&o), ["before-failure"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_reported_as_a_trap() {
    let (o, _) = run("panic").await;
    let e = error(&o);
    assert!(e.contains("plugin hostile trapped"), "{e}");
    assert_eq!(ids(&o), ["before-failure"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_records_stop_the_plugin() {
    let (o, _) = run("malformed").await;
    let e = error(&o);
    assert!(
        e.contains("malformed record") && e.contains("identity #0 id is empty"),
        "{e}"
    );
    assert_eq!(ids(&o), ["before-failure"]);

    let (o, _) = run("bad-utf8").await;
    let e = error(&o);
    assert!(
        e.contains("plugin hostile") && e.to_lowercase().contains("utf-8"),
        "{e}"
    );
    assert_eq!(ids(&o), ["before-failure"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_output_is_cut_at_the_output_limit() {
    let host = host();
    let plugin = hostile(&host);
    let limits = Limits {
        max_records: 5000,
        ..quick_limits()
    };
    let o = host
        .run(&plugin, request("flood-polite", Manifest::default(), limits.clone()))
        .await;
    assert_eq!(o.run.status, RunStatus::Incomplete, "{:?}", o.run);
    assert_eq!(o.identities.len(), 5000);
    assert!(
        o.run
            .notes
            .iter()
            .any(|n| n.contains("output limit reached after 5000 records")),
        "{:?}",
        o.run.notes
    );

    // A plugin that ignores the limit is stopped; the 5000 accepted records stay.
    let o = host.run(&plugin, request("flood", Manifest::default(), limits)).await;
    let e = error(&o);
    assert!(
        e.contains("kept emitting after the host said the output limit was reached"),
        "{e}"
    );
    assert_eq!(o.identities.len(), 5000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_error_names_the_plugin_and_keeps_records() {
    let (o, _) = run("error").await;
    assert_eq!(error(&o), "plugin hostile: provider error: the provider said no (test)");
    assert_eq!(ids(&o), ["before-failure"]);
}

/// One plugin spinning does not hold up the others, and every run ends on its own terms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugins_run_concurrently_and_fail_independently() {
    let host = host();
    let plugin = hostile(&host);
    let jobs = ["loop", "ok", "hog", "ok", "panic", "ok"]
        .iter()
        .map(|m| (plugin.clone(), request(m, Manifest::default(), quick_limits())))
        .collect();
    let t = Instant::now();
    let outs = host.run_all(jobs).await;
    let statuses: Vec<RunStatus> = outs.iter().map(|o| o.run.status).collect();
    use RunStatus::{Complete, Failed};
    assert_eq!(statuses, [Failed, Complete, Failed, Complete, Failed, Complete]);
    assert!(t.elapsed() < Duration::from_secs(5), "took {:?}", t.elapsed());
}

#[test]
fn a_changed_plugin_is_refused() {
    let host = host();
    let wasm = guest_bytes("connector_hostile");
    let err = host
        .load("hostile", &wasm, Some(&"0".repeat(64)))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("plugin hostile: sha256 is") && err.contains("refusing to run a changed plugin"),
        "{err}"
    );
    let err = host.load("junk", b"\0asm not really", None).err().unwrap().to_string();
    assert!(err.contains("plugin junk is not a valid component"), "{err}");
}

#[test]
fn a_plugin_that_imports_sockets_is_refused_at_load() {
    let host = host();
    let err = host
        .load("sockets", &guest_bytes("connector_hostile_sockets"), None)
        .err()
        .unwrap()
        .to_string();
    assert!(err.starts_with("plugin sockets imports wasi:sockets/"), "{err}");
    assert!(err.contains("connectors may not open sockets"), "{err}");
}

/// Compiled code planted in the cache is never loaded: the plugin is compiled again, runs, and
/// the planted file is replaced. A cache directory other users can write is not used at all.
#[test]
fn a_planted_compiled_plugin_is_never_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let cache_dir = dir.path().join("cache");
    let wasm = guest_bytes("connector_hostile");
    let host = Host::new(Some(CodeCache::new(cache_dir.clone(), [9; 32]))).unwrap();
    host.load("hostile", &wasm, None).unwrap();
    let compiled: Vec<PathBuf> = std::fs::read_dir(&cache_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "cwasm"))
        .collect();
    assert_eq!(compiled.len(), 1);
    // An attacker swaps in other code and a checksum of it (what the old cache trusted).
    let planted = b"\x7fELF planted code".to_vec();
    std::fs::write(&compiled[0], &planted).unwrap();
    std::fs::write(
        compiled[0].with_extension("sha256"),
        roster_plugin_host::sha256_hex(&planted),
    )
    .unwrap();
    let host = Host::new(Some(CodeCache::new(cache_dir.clone(), [9; 32]))).unwrap();
    let plugin = Arc::new(host.load("hostile", &wasm, None).unwrap());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let o = rt.block_on(host.run(&plugin, request("ok", Manifest::default(), quick_limits())));
    assert_eq!(o.run.status, RunStatus::Complete);
    assert_ne!(
        std::fs::read(&compiled[0]).unwrap(),
        planted,
        "the planted file is replaced"
    );

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&cache_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let host = Host::new(Some(CodeCache::new(cache_dir.clone(), [9; 32]))).unwrap();
        let why = host.cache_problem().unwrap();
        assert!(why.contains("writable by other users"), "{why}");
        std::fs::write(&compiled[0], &planted).unwrap();
        host.load("hostile", &wasm, None).unwrap();
        assert_eq!(
            std::fs::read(&compiled[0]).unwrap(),
            planted,
            "an untrusted cache is not touched"
        );
    }
}
