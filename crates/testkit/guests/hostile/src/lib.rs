//! A test-only connector that misbehaves on request (setting `mode`), to prove the sandbox:
//! it loops, hogs memory, calls hosts outside its manifest, looks for files, environment and
//! credentials, emits malformed, invalid or endless output, or panics. `mode = "ok"` behaves.

use roster_connector_sdk::types::*;
use roster_connector_sdk::{Emitter, Guest, export, setting};

struct Hostile;

fn identity(id: &str, attrs: Vec<(String, String)>) -> Identity {
    Identity {
        id: id.to_string(),
        kind: IdentityKind::CloudUser,
        name: id.to_string(),
        created: Some(1_700_000_000_000),
        last_used: None,
        enabled: Some(true),
        owners: vec![],
        tags: vec![],
        trusted_by: vec![],
        attrs,
    }
}

fn credential(id: &str, owner: &str) -> Credential {
    Credential {
        id: id.to_string(),
        identity_id: owner.to_string(),
        kind: CredentialKind::AccessKey,
        status: CredentialStatus::Active,
        name: None,
        created: Some(1_700_000_000_000),
        expires: None,
        last_used: None,
        last_used_service: None,
        redacted: None,
        attrs: vec![],
    }
}

/// Sends a request through wasi:http, with headers a guest is not allowed to set (and for a
/// body, an AWS Query API write), and says what came back (status and body, or the error).
fn fetch(method: &str, url: &str) -> String {
    wstd::runtime::block_on(send(method.to_string(), url.to_string()))
}

async fn send(method: String, url: String) -> String {
    {
        let body = if matches!(method.as_str(), "GET" | "HEAD") {
            wstd::http::Body::empty()
        } else {
            wstd::http::Body::from("Action=CreateAccessKey&UserName=admin&Version=2010-05-08")
        };
        let req = match wstd::http::Request::builder()
            .method(method.as_str())
            .uri(url.as_str())
            .header("authorization", "Bearer guest-chosen-token")
            .header("x-api-key", "guest-chosen-key")
            .body(body)
        {
            Ok(r) => r,
            Err(e) => return format!("request error: {e}"),
        };
        match wstd::http::Client::new().send(req).await {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let headers: Vec<String> = resp
                    .headers()
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.to_str().unwrap_or("?")))
                    .collect();
                let body = match resp.body_mut().str_contents().await {
                    Ok(s) => s.to_string(),
                    Err(e) => format!("<body error {e}>"),
                };
                format!("status={status} headers={} body={body}", headers.join(";"))
            }
            Err(e) => format!("error: {e}"),
        }
    }
}

fn snoop() -> Vec<(String, String)> {
    let mut seen = vec![];
    seen.push(("env".into(), format!("{:?}", std::env::vars().collect::<Vec<_>>())));
    seen.push(("args".into(), format!("{:?}", std::env::args().collect::<Vec<_>>())));
    for path in ["/etc/passwd", "/proc/self/environ", ".", "/", "/root/.aws/credentials"] {
        let r = match std::fs::read_to_string(path) {
            Ok(s) => format!("READ {} bytes", s.len()),
            Err(e) => format!("error: {e}"),
        };
        seen.push((format!("file:{path}"), r));
        let d = match std::fs::read_dir(path) {
            Ok(it) => format!("LISTED {} entries", it.count()),
            Err(e) => format!("error: {e}"),
        };
        seen.push((format!("dir:{path}"), d));
    }
    seen.push(("cwd".into(), format!("{:?}", std::env::current_dir())));
    seen
}

#[allow(unsafe_code, reason = "deliberately builds an invalid UTF-8 string to test the host")]
fn invalid_utf8() -> String {
    // SAFETY: not safe at all; the canonical ABI must reject this string at the boundary.
    unsafe { String::from_utf8_unchecked(vec![b'a', 0xff, 0xfe, b'b']) }
}

impl Guest for Hostile {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            id: "hostile".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "test plugin that misbehaves on request".into(),
            record_schema: 1,
        }
    }

    fn collect(request: CollectRequest) -> Result<CollectSummary, ConnectorError> {
        let cfg = &request.config;
        let mode = setting(cfg, "mode").unwrap_or("ok");
        let mut out = Emitter::new(1);
        let emit_first = |out: &mut Emitter| out.identity(identity("before-failure", vec![])).map_err(|e| e.0);
        match mode {
            "ok" => {
                let n: usize = setting(cfg, "count").and_then(|c| c.parse().ok()).unwrap_or(3);
                let mut out = Emitter::new(500);
                for i in 0..n {
                    let id = format!("user-{i}");
                    out.identity(identity(&id, vec![]))
                        .map_err(|e| ConnectorError::Internal(e.0))?;
                    out.credential(credential(&format!("AKIA{i:016}"), &id))
                        .map_err(|e| ConnectorError::Internal(e.0))?;
                }
                for f in &request.files {
                    out.identity(identity(&format!("file:{}:{}", f.name, f.data.len()), vec![]))
                        .map_err(|e| ConnectorError::Internal(e.0))?;
                }
                out.flush().map_err(|e| ConnectorError::Internal(e.0))?;
            }
            "loop" => {
                emit_first(&mut out).map_err(ConnectorError::Internal)?;
                let mut x: u64 = 0;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }
            "hog" => {
                emit_first(&mut out).map_err(ConnectorError::Internal)?;
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![7u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "panic" => {
                emit_first(&mut out).map_err(ConnectorError::Internal)?;
                panic!("deliberate panic in the hostile plugin");
            }
            "fetch" => {
                // Everything the plugin can learn goes into its output, for the test to search.
                let mut attrs = snoop();
                let methods = setting(cfg, "methods").unwrap_or("GET");
                let mut n = 0;
                for url in setting(cfg, "urls").unwrap_or_default().split(',') {
                    for method in methods.split(',') {
                        if !url.is_empty() {
                            attrs.push((format!("fetch{n}:{method} {url}"), fetch(method, url)));
                            n += 1;
                        }
                    }
                }
                attrs.push(("config".into(), format!("{cfg:?}")));
                out.identity(identity("snooper", attrs))
                    .map_err(|e| ConnectorError::Internal(e.0))?;
            }
            "parallel" | "deny-flood" => {
                // Many requests at once (large responses, or all refused): the host bounds what
                // it holds and logs; the plugin reports what it got.
                let count: usize = setting(cfg, "count").and_then(|c| c.parse().ok()).unwrap_or(16);
                let urls: Vec<String> = setting(cfg, "urls")
                    .unwrap_or_default()
                    .split(',')
                    .filter(|u| !u.is_empty())
                    .map(str::to_string)
                    .collect();
                if urls.is_empty() {
                    return Err(ConnectorError::Config("set urls".into()));
                }
                // `hold`: keep every response unread until all have come.
                let hold = setting(cfg, "hold") == Some("true");
                let results = wstd::runtime::block_on(async {
                    let tasks: Vec<_> = (0..count)
                        .map(|i| {
                            let url = urls[i % urls.len()].clone();
                            wstd::runtime::spawn(async move {
                                if !hold {
                                    return (send("GET".into(), url).await, None);
                                }
                                let req = wstd::http::Request::get(url.as_str()).body(wstd::http::Body::empty());
                                let client = wstd::http::Client::new();
                                match req {
                                    Ok(r) => match client.send(r).await {
                                        Ok(resp) => (format!("status={}", resp.status().as_u16()), Some(resp)),
                                        Err(e) => (format!("error: {e}"), None),
                                    },
                                    Err(e) => (format!("request error: {e}"), None),
                                }
                            })
                        })
                        .collect();
                    let mut out = vec![];
                    let mut held = vec![];
                    for t in tasks {
                        let (r, resp) = t.await;
                        out.push(r);
                        held.push(resp);
                    }
                    drop(held);
                    out
                });
                let ok = results.iter().filter(|r| r.starts_with("status=200")).count();
                let mut attrs = vec![
                    ("ok".to_string(), ok.to_string()),
                    ("failed".to_string(), (results.len() - ok).to_string()),
                ];
                if let Some(e) = results.iter().find(|r| !r.starts_with("status=200")) {
                    attrs.push(("first-failure".into(), e.chars().take(300).collect()));
                }
                out.identity(identity(mode, attrs))
                    .map_err(|e| ConnectorError::Internal(e.0))?;
            }
            "malformed" => {
                emit_first(&mut out).map_err(ConnectorError::Internal)?;
                let _ = out.identity(identity("", vec![]));
            }
            "bad-utf8" => {
                emit_first(&mut out).map_err(ConnectorError::Internal)?;
                let _ = out.identity(identity(&invalid_utf8(), vec![]));
            }
            "flood" | "flood-polite" => {
                let mut out = Emitter::new(1000);
                for i in 0u64.. {
                    if let Err(limit) = out.identity(identity(&format!("flood-{i}"), vec![]))
                        && mode == "flood-polite"
                    {
                        return Ok(CollectSummary {
                            complete: false,
                            notes: vec![limit.0],
                        });
                    }
                }
            }
            "error" => {
                emit_first(&mut out).map_err(ConnectorError::Internal)?;
                return Err(ConnectorError::Upstream("the provider said no (test)".into()));
            }
            other => return Err(ConnectorError::Config(format!("unknown mode {other:?}"))),
        }
        Ok(CollectSummary {
            complete: true,
            notes: vec![],
        })
    }
}

export!(Hostile);
