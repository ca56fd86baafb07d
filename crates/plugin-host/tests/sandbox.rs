//! The hostile-plugin suite: each way a plugin can misbehave is stopped with an error naming
//! it, what it emitted before is kept, and other plugins go on.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use roster_plugin_host::{AllowRule, Auth, Host, Limits, Manifest, Plugin, RunOutcome, RunRequest, Secret};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The built connectors (scripts/build-connectors.sh); ROSTER_CONNECTOR_DIR overrides.
fn connector_wasm(name: &str) -> Vec<u8> {
    let dir = std::env::var_os("ROSTER_CONNECTOR_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/wasm32-wasip2/release"));
    let p = dir.join(format!("{name}.wasm"));
    std::fs::read(&p).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; build the connectors first: bash scripts/build-connectors.sh",
            p.display()
        )
    })
}

fn host() -> Host {
    let cache = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-deps/plugin-cache");
    Host::new(Some(cache)).unwrap()
}

fn hostile(host: &Host) -> Arc<Plugin> {
    Arc::new(
        host.load("hostile", &connector_wasm("connector_hostile"), None)
            .unwrap(),
    )
}

fn request(mode: &str, manifest: Manifest, limits: Limits) -> RunRequest {
    RunRequest {
        source: format!("test-{mode}"),
        connector: "hostile".into(),
        config: vec![("mode".into(), mode.into())],
        files: vec![],
        manifest: Arc::new(manifest),
        limits,
        progress: None,
    }
}

fn quick_limits() -> Limits {
    Limits {
        time: Duration::from_secs(2),
        memory: 64 << 20,
        ..Limits::default()
    }
}

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
    assert_eq!(o.run.status, "failed", "{:?}", o.run);
    o.run.error.as_deref().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_well_behaved_plugin_delivers_its_records() {
    let (o, _) = run("ok").await;
    assert_eq!(o.run.status, "complete", "{:?}", o.run);
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
    assert_eq!(o.run.status, "incomplete", "{:?}", o.run);
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

/// The plugin looks everywhere for the credential: environment, files, what its allowed host
/// answers, and requests to hosts outside its manifest. It finds nothing; the allowed host gets
/// the host's credential and never the one the plugin tried to set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credential_or_host_resource_reaches_the_plugin() {
    let secret = "sk-host-held-secret-0123456789abcdef";
    // SAFETY-free: the host process has the secret in its environment too.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/users"))
        .respond_with(ResponseTemplate::new(200).set_body_string("[\"alice\"]"))
        .mount(&server)
        .await;
    let allowed = format!("{}/api/", server.uri());
    let manifest = Manifest {
        plugin: "hostile".into(),
        allow: vec![
            AllowRule::new(
                &allowed,
                Auth::Authorization {
                    scheme: "Bearer".into(),
                    secret: Secret::new(secret),
                },
            )
            .unwrap(),
        ],
    };
    let urls = [
        format!("{allowed}users"),
        "https://evil.example.com/exfil".to_string(),
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/".to_string(),
        format!("{}/other/", server.uri()),
    ]
    .join(",");
    let host = host();
    let plugin = hostile(&host);
    let mut req = request("fetch", manifest, quick_limits());
    req.config.push(("urls".into(), urls));
    let o = host.run(&plugin, req).await;

    let dump = serde_json::to_string(&o.identities).unwrap();
    assert!(!dump.contains(secret), "the secret reached the plugin: {dump}");
    let attrs = &o.identities[0].attrs;
    assert!(attrs["env"] == "[]", "{}", attrs["env"]);
    for (k, v) in attrs
        .iter()
        .filter(|(k, _)| k.starts_with("file:") || k.starts_with("dir:"))
    {
        assert!(v.starts_with("error:"), "{k}: {v}");
    }
    let fetched: Vec<&String> = attrs
        .iter()
        .filter(|(k, _)| k.starts_with("fetch"))
        .map(|(_, v)| v)
        .collect();
    assert!(
        fetched[0].starts_with("status=200") && fetched[0].contains("[\"alice\"]"),
        "{}",
        fetched[0]
    );
    for f in &fetched[1..] {
        assert!(f.starts_with("error"), "an off-list request got through: {f}");
    }

    // The server saw the host's credential, never the guest's.
    let got = server.received_requests().await.unwrap();
    assert_eq!(got.len(), 1, "only the allowed request reaches the server");
    assert_eq!(
        got[0].headers.get("authorization").unwrap().to_str().unwrap(),
        format!("Bearer {secret}")
    );
    assert!(got[0].headers.get("x-api-key").is_none());

    // Denied requests are in the audit log and mark the source incomplete.
    assert_eq!(o.run.status, "incomplete");
    assert_eq!(o.run.denied_requests, 3);
    let denied: Vec<_> = o.requests.iter().filter(|r| r.outcome == "denied").collect();
    assert!(denied.iter().any(|r| r.url.starts_with("https://evil.example.com/")));
    assert!(
        denied[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("outside the allowed URL prefixes of plugin hostile")
    );
    assert!(o.requests.iter().all(|r| !format!("{r:?}").contains(secret)));
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
    let statuses: Vec<&str> = outs.iter().map(|o| o.run.status.as_str()).collect();
    assert_eq!(
        statuses,
        ["failed", "complete", "failed", "complete", "failed", "complete"]
    );
    assert!(t.elapsed() < Duration::from_secs(5), "took {:?}", t.elapsed());
}

#[test]
fn a_changed_plugin_is_refused() {
    let host = host();
    let wasm = connector_wasm("connector_hostile");
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
        .load("sockets", &connector_wasm("connector_hostile_sockets"), None)
        .err()
        .unwrap()
        .to_string();
    assert!(err.starts_with("plugin sockets imports wasi:sockets/"), "{err}");
    assert!(err.contains("connectors may not open sockets"), "{err}");
}

/// A response larger than the size cap never reaches the plugin: the request fails, the audit
/// log says why, and the plugin's other requests still work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_response_is_refused_at_the_size_cap() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/huge"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'x'; 3 << 20]))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/small"))
        .respond_with(ResponseTemplate::new(200).set_body_string("[]"))
        .mount(&server)
        .await;
    let allowed = format!("{}/api/", server.uri());
    let manifest = Manifest {
        plugin: "hostile".into(),
        allow: vec![AllowRule::new(&allowed, Auth::None).unwrap()],
    };
    let mut limits = quick_limits();
    limits.http.max_response_body = 1 << 20;
    let host = host();
    let plugin = hostile(&host);
    let mut req = request("fetch", manifest, limits);
    req.config
        .push(("urls".into(), format!("{allowed}huge,{allowed}small")));
    let o = host.run(&plugin, req).await;

    let attrs = &o.identities[0].attrs;
    let huge = attrs.iter().find(|(k, _)| k.ends_with("/api/huge")).unwrap().1;
    let small = attrs.iter().find(|(k, _)| k.ends_with("/api/small")).unwrap().1;
    assert!(huge.starts_with("error"), "{}", &huge[..huge.len().min(200)]);
    assert!(small.starts_with("status=200"), "{small}");
    let log = o.requests.iter().find(|r| r.url.ends_with("/api/huge")).unwrap();
    assert_eq!(log.outcome, "failed");
    assert!(
        log.detail.as_deref().unwrap_or_default().contains("response body"),
        "{log:?}"
    );
}
