//! Connector plugin benchmarks (`cargo bench --bench connectors`). Figures are reported, never
//! asserted. Needs the connectors built (scripts/build-connectors.sh).
//!
//! - `load_plugin`: a plugin from bytes into a ready-to-instantiate state, with the compiled-code
//!   cache warm (the CLI's start-up cost per plugin).
//! - `instantiate_and_collect`: a fresh store, instantiation and one `collect` of the test plugin
//!   emitting N identities with one credential each (the per-run overhead, and the cost per record
//!   crossing the sandbox boundary).
//!
//! Collecting 10,000 IAM users from moto is a separate run: `cargo bench --bench aws_iam_moto`.

use std::path::PathBuf;
use std::sync::Arc;

use divan::Bencher;
use roster_plugin_host::{Host, Limits, Manifest, RunRequest};
use roster_testkit::guest_bytes;

fn main() {
    divan::main();
}

fn host() -> Host {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-plugin-cache");
    Host::new(Some(roster_plugin_host::CodeCache::new(dir, [3; 32]))).unwrap()
}

#[divan::bench(args = ["connector_hostile", "connector_aws_iam"])]
fn load_plugin(bencher: Bencher, name: &str) {
    let host = host();
    let bytes = guest_bytes(name);
    host.load(name, &bytes, None).unwrap(); // warm the cache
    bencher.bench_local(|| host.load(name, &bytes, None).unwrap());
}

#[divan::bench(args = [0, 100, 10_000])]
fn instantiate_and_collect(bencher: Bencher, records: usize) {
    let host = host();
    let plugin = Arc::new(host.load("hostile", &guest_bytes("connector_hostile"), None).unwrap());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let req = RunRequest {
        source: "bench".into(),
        connector: "hostile".into(),
        config: vec![("mode".into(), "ok".into()), ("count".into(), records.to_string())],
        files: vec![],
        manifest: Arc::new(Manifest::default()),
        limits: Limits::default(),
        progress: None,
    };
    bencher.bench_local(|| {
        let out = rt.block_on(host.run(&plugin, req.clone()));
        assert_eq!(out.identities.len(), records);
        out
    });
}
