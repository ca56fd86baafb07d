//! The requests a plugin makes: only what its manifest allows reaches a server, with the
//! host's credential; every refusal is in the audit log with its reason.

use std::sync::Arc;
use std::time::{Duration, Instant};

use roster_model::RunStatus;
use roster_plugin_host::{AllowRule, Auth, Manifest, RunOutcome, Secret};
use roster_testkit::http::{answering_all, mount_get, ok_text};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::{host, hostile, quick_limits, request};

/// The plugin looks everywhere for the credential: environment, files, what its allowed host
/// answers, and requests to hosts outside its manifest. It finds nothing; the allowed host gets
/// the host's credential and never the one the plugin tried to set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credential_or_host_resource_reaches_the_plugin() {
    let secret = "sk-host-held-secret-0123456789abcdef";
    // SAFETY-free: the host process has the secret in its environment too.
    let server = MockServer::start().await;
    mount_get(&server, "/api/users", ok_text("[\"alice\"]")).await;
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
    assert_eq!(o.run.status, RunStatus::Incomplete);
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

/// A response larger than the size cap never reaches the plugin: the request fails, the audit
/// log says why, and the plugin's other requests still work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_response_is_refused_at_the_size_cap() {
    let server = MockServer::start().await;
    let huge = ResponseTemplate::new(200).set_body_bytes(vec![b'x'; 3 << 20]);
    mount_get(&server, "/api/huge", huge).await;
    mount_get(&server, "/api/small", ok_text("[]")).await;
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

fn bearer_manifest(prefix: &str, secret: &str) -> Manifest {
    Manifest {
        plugin: "hostile".into(),
        allow: vec![
            AllowRule::new(
                prefix,
                Auth::Authorization {
                    scheme: "Bearer".into(),
                    secret: Secret::new(secret),
                },
            )
            .unwrap(),
        ],
    }
}

/// The fetch results the plugin reported, by its key (`fetch<n>:<METHOD> <url>`).
fn fetched(o: &RunOutcome) -> Vec<(&str, &str)> {
    o.identities[0]
        .attrs
        .iter()
        .filter(|(k, _)| k.starts_with("fetch"))
        .map(|(k, v)| (k.split_once(':').unwrap().1, v.as_str()))
        .collect()
}

/// A plugin allowed one prefix with a bearer credential tries every method there and every
/// encoding trick that could lead a server outside it: only GET and HEAD inside the prefix
/// reach the server, each refusal is in the audit log with its reason and reaches the plugin
/// as an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_reads_inside_the_prefix_reach_the_server() {
    let secret = "host-held-bearer-0123456789";
    let server = answering_all("ok").await;
    let uri = server.uri();
    let allowed = format!("{uri}/api/");
    let urls = [
        format!("{allowed}users"),
        format!("{allowed}..%2F..%2Fadmin"),
        format!("{allowed}..%2f..%2fadmin"),
        format!("{allowed}..%5Cadmin"),
        format!("{allowed}%2e%2e/admin"),
        format!("{allowed}%2E%2E/admin"),
        format!("{allowed}%252e%252e/admin"),
        format!("{allowed}../admin"),
        format!("{allowed}./users"),
        format!("{allowed}/users"),
        format!("{uri}/apix/users"),
    ];
    let mut req = request("fetch", bearer_manifest(&allowed, secret), quick_limits());
    req.config.push(("urls".into(), urls.join(",")));
    req.config
        .push(("methods".into(), "GET,HEAD,POST,PUT,PATCH,DELETE,OPTIONS".into()));
    let host = host();
    let o = host.run(&hostile(&host), req).await;

    let got = server.received_requests().await.unwrap();
    let seen: Vec<String> = got.iter().map(|r| format!("{} {}", r.method, r.url.path())).collect();
    assert_eq!(seen.len(), 2, "only the two reads reach the server: {seen:?}");
    assert!(seen.contains(&"GET /api/users".to_string()) && seen.contains(&"HEAD /api/users".to_string()));
    for r in &got {
        assert_eq!(
            r.headers.get("authorization").unwrap().to_str().unwrap(),
            format!("Bearer {secret}")
        );
    }
    let results = fetched(&o);
    assert_eq!(results.len(), urls.len() * 7);
    for (what, result) in &results {
        let read_ok = what == &format!("GET {allowed}users") || what == &format!("HEAD {allowed}users");
        assert_eq!(result.starts_with("status=200"), read_ok, "{what}: {result}");
        if !read_ok {
            assert!(result.starts_with("error"), "{what}: {result}");
        }
    }
    // Every refusal is in the audit log with its reason; the run says it was refused.
    assert_eq!(o.run.denied_requests as usize, results.len() - 2);
    let reason = |url: &str, method: &str| {
        o.requests
            .iter()
            .find(|r| r.url == url && r.method == method)
            .and_then(|r| r.detail.clone())
            .unwrap_or_else(|| panic!("{method} {url} is not in the audit log"))
    };
    assert!(reason(&format!("{allowed}users"), "POST").contains("method POST is not allowed"));
    assert!(reason(&format!("{allowed}users"), "DELETE").contains("GET, HEAD"));
    assert!(
        reason(&format!("{allowed}..%2F..%2Fadmin"), "GET")
            .contains("dot segment (\"..\") once its encoded slashes (%2F) are decoded")
    );
    assert!(reason(&format!("{allowed}..%5Cadmin"), "GET").contains("encoded backslash"));
    assert!(reason(&format!("{allowed}%2e%2e/admin"), "GET").contains("encoded dot"));
    assert!(reason(&format!("{allowed}../admin"), "GET").contains("dot segment"));
    assert!(reason(&format!("{uri}/apix/users"), "GET").contains("outside the allowed URL prefixes"));
    assert_eq!(o.run.status, RunStatus::Incomplete);
}

/// An AWS rule lets through only the operations it names, whatever the method.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aws_rule_refuses_writes_sent_as_a_read_method() {
    let server = answering_all("<ok/>").await;
    let prefix = format!("{}/", server.uri());
    let manifest = Manifest {
        plugin: "hostile".into(),
        allow: vec![
            AllowRule::new(&prefix, Auth::None)
                .unwrap()
                .methods([http::Method::GET, http::Method::POST])
                .actions(["ListUsers"]),
        ],
    };
    let mut req = request("fetch", manifest, quick_limits());
    req.config.push((
        "urls".into(),
        format!("{prefix}?Action=ListUsers&Version=2010-05-08,{prefix}?Action=DeleteUser&UserName=a"),
    ));
    // POST carries Action=CreateAccessKey in its body.
    req.config.push(("methods".into(), "GET,POST".into()));
    let host = host();
    let o = host.run(&hostile(&host), req).await;
    let got = server.received_requests().await.unwrap();
    assert_eq!(
        got.len(),
        1,
        "{:?}",
        got.iter().map(|r| r.url.to_string()).collect::<Vec<_>>()
    );
    assert_eq!(got[0].url.query(), Some("Action=ListUsers&Version=2010-05-08"));
    let details: Vec<String> = o.requests.iter().filter_map(|r| r.detail.clone()).collect();
    assert!(
        details
            .iter()
            .any(|d| d.contains("AWS action DeleteUser is not allowed")),
        "{details:?}"
    );
    assert!(details.iter().any(|d| d.contains("several AWS actions")), "{details:?}");
}

/// Thousands of refused requests: the audit log keeps its limit and counts the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_denied_requests_is_counted_not_kept() {
    let mut limits = quick_limits();
    limits.time = Duration::from_secs(30);
    limits.http.max_logged = 50;
    let mut req = request("deny-flood", Manifest::default(), limits);
    req.config.push(("urls".into(), "https://evil.example.com/x".into()));
    req.config.push(("count".into(), "2000".into()));
    let host = host();
    let o = host.run(&hostile(&host), req).await;
    assert!(!o.identities.is_empty(), "{:?}", o.run);
    assert_eq!(o.requests.len(), 50);
    assert_eq!((o.run.requests, o.run.denied_requests), (2000, 2000));
    assert!(
        o.run
            .notes
            .iter()
            .any(|n| n.contains("1950 request(s) over the audit log's limit of 50")),
        "{:?}",
        o.run.notes
    );
    assert_eq!(o.identities[0].attrs["failed"], "2000");
}

/// Many large responses at once, none read by the plugin: the host holds no more than its
/// budget, refuses the rest with the reason, and bounds the requests in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_large_responses_are_bounded_in_total() {
    let server = MockServer::start().await;
    let big = ResponseTemplate::new(200)
        .set_body_bytes(vec![b'x'; 1 << 20])
        .set_delay(Duration::from_millis(300));
    mount_get(&server, "/api/big", big).await;
    let mut limits = quick_limits();
    limits.time = Duration::from_secs(20);
    limits.http.max_buffered = (3 << 20) + 1000;
    limits.http.max_in_flight = 4;
    let mut req = request("parallel", Manifest::default(), limits);
    req.manifest = Arc::new(Manifest {
        plugin: "hostile".into(),
        allow: vec![AllowRule::new(&format!("{}/api/", server.uri()), Auth::None).unwrap()],
    });
    req.config.push(("urls".into(), format!("{}/api/big", server.uri())));
    req.config.push(("count".into(), "8".into()));
    req.config.push(("hold".into(), "true".into()));
    let host = host();
    let t = Instant::now();
    let o = host.run(&hostile(&host), req).await;
    let a = &o.identities[0].attrs;
    assert_eq!((a["ok"].as_str(), a["failed"].as_str()), ("3", "5"), "{a:?}");
    let refused = o
        .requests
        .iter()
        .filter(|r| {
            r.detail
                .as_deref()
                .is_some_and(|d| d.contains("held for this plugin over"))
        })
        .count();
    assert_eq!(refused, 5);
    // Four at a time, 300 ms each: two waves at least.
    assert!(t.elapsed() >= Duration::from_millis(600), "{:?}", t.elapsed());
}

/// A 429 whose Retry-After is not a finite number is retried after a bounded wait, without
/// harm to the host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_that_is_not_a_number_is_survived() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/x"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "nan"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_get(&server, "/api/x", ok_text("[]")).await;
    let allowed = format!("{}/api/", server.uri());
    let mut req = request("fetch", bearer_manifest(&allowed, "t"), quick_limits());
    req.config.push(("urls".into(), format!("{allowed}x")));
    let host = host();
    let o = host.run(&hostile(&host), req).await;
    assert_eq!(o.run.status, RunStatus::Complete, "{:?}", o.run);
    assert!(fetched(&o)[0].1.starts_with("status=200"), "{:?}", fetched(&o));
    assert_eq!(o.requests[0].attempts, 2);
}
