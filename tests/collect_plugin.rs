//! A third-party plugin configured as docs/connectors.md shows (by path, pinned by sha256, with
//! one `[[source.allow]]` prefix and a bearer credential), tried as an attacker would: only
//! GET and HEAD inside the prefix reach the server, with the host's credential; every other
//! request is refused with its reason in audit.jsonl, and the run says it was incomplete.

use crate::ROSTER;
use roster_testkit::Env;
use roster_testkit::http::answering_all;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_third_party_plugin_gets_only_reads_inside_its_prefix() {
    let token = "acme-host-token-7f3a9c";
    let server = answering_all("[]").await;
    let uri = server.uri();
    let wasm = roster_testkit::guest_bytes("connector_hostile");
    let sha = roster_plugin_host::sha256_hex(&wasm);
    let env = Env::new(ROSTER);
    env.write("plugins/acme.wasm", &wasm);
    let urls = [
        format!("{uri}/v2/tokens"),
        format!("{uri}/v2/..%2F..%2Fadmin/users"),
        format!("{uri}/v2/%2e%2e/admin/users"),
        format!("{uri}/v2/..%5Cadmin"),
        format!("{uri}/v2/../admin/users"),
        format!("{uri}/admin/users"),
        "https://evil.example.com/exfil".to_string(),
    ]
    .join(",");
    env.write(
        "roster.toml",
        format!(
            "[[source]]\nname = \"acme-saas\"\nconnector = \"acme\"\nplugin = \"plugins/acme.wasm\"\nsha256 = \"{sha}\"\n\
             mode = \"fetch\"\nmethods = \"GET,HEAD,POST,PUT,PATCH,DELETE\"\nurls = \"{urls}\"\n\
             [[source.allow]]\nprefix = \"{uri}/v2/\"\nauth = \"bearer\"\nsecret_env = \"ACME_TOKEN\"\n"
        ),
    );
    // Off the async runtime: the fixture server runs on it.
    let (env, out) = tokio::task::spawn_blocking(move || {
        let out = env.roster_env(
            &[
                "collect",
                "--config",
                "roster.toml",
                "--format",
                "json",
                "--output",
                "inv.json",
            ],
            &[("ACME_TOKEN", token)],
        );
        (env, out)
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let inv: serde_json::Value = serde_json::from_slice(&std::fs::read(env.path("inv.json")).unwrap())
        .unwrap_or_else(|e| panic!("{e}: {stderr}"));

    let got = server.received_requests().await.unwrap();
    let seen: Vec<String> = got.iter().map(|r| format!("{} {}", r.method, r.url.path())).collect();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen.contains(&"GET /v2/tokens".into()) && seen.contains(&"HEAD /v2/tokens".into()));
    for r in &got {
        assert_eq!(
            r.headers.get("authorization").unwrap().to_str().unwrap(),
            format!("Bearer {token}")
        );
    }

    let run = &inv["connectors"][0];
    assert_eq!(run["status"], "incomplete", "{run:#}");
    assert_eq!(run["denied_requests"], 7 * 6 - 2, "{run:#}");
    // audit.jsonl: every request, each refusal with its reason, no secret.
    let audit = std::fs::read_to_string(env.state().join("audit.jsonl")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(env.state().join("audit.jsonl"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "audit.jsonl is private");
    }
    assert!(!audit.contains(token));
    let lines: Vec<serde_json::Value> = audit.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 42);
    let reason = |method: &str, url: &str| {
        lines
            .iter()
            .find(|l| l["request"]["method"] == method && l["request"]["url"] == url)
            .and_then(|l| l["request"]["detail"].as_str())
            .unwrap_or_else(|| panic!("{method} {url} not in {audit}"))
            .to_string()
    };
    assert!(reason("DELETE", &format!("{uri}/v2/tokens")).contains("method DELETE is not allowed"));
    assert!(reason("GET", &format!("{uri}/v2/..%2F..%2Fadmin/users")).contains("encoded slash"));
    assert!(reason("GET", &format!("{uri}/v2/../admin/users")).contains("dot segment"));
    assert!(reason("GET", &format!("{uri}/admin/users")).contains("outside the allowed URL prefixes"));
    // The plugin saw each refusal as an error.
    let attrs = &inv["identities"][0]["attrs"];
    let refused = attrs
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, v)| k.starts_with("fetch") && v.as_str().unwrap().starts_with("error"))
        .count();
    assert_eq!(refused, 40);
}

/// `ROSTER_PLUGIN_CACHE` keeps compiled connectors in a folder of the user's choosing (a CI
/// cache) under `ROSTER_PLUGIN_CACHE_KEY`: the folder without its key is refused with what to
/// set, code planted in it is never loaded, and a different key compiles again.
#[test]
fn a_chosen_plugin_cache_is_used_only_with_its_key() {
    let env = Env::new(ROSTER);
    env.write(
        "exports/users.json",
        r#"[{"ok": true, "members": [{"id": "U1", "name": "alice", "real_name": "Alice", "deleted": false}], "response_metadata": {"next_cursor": ""}}]"#,
    );
    env.write(
        "roster.toml",
        "[[source]]\nconnector = \"slack\"\napi = false\nfiles = [{ path = \"exports/users.json\", format = \"users\" }]\n",
    );
    let cache = env.path("ci-cache");
    let cache_s = cache.to_str().unwrap();
    let collect = |key: &str| {
        env.roster_env(
            &["collect", "--config", "roster.toml"],
            &[("ROSTER_PLUGIN_CACHE", cache_s), ("ROSTER_PLUGIN_CACHE_KEY", key)],
        )
    };

    let out = collect("");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("ROSTER_PLUGIN_CACHE is set without ROSTER_PLUGIN_CACHE_KEY"),
        "{stderr}"
    );
    let out = collect("not-hex");
    assert!(String::from_utf8_lossy(&out.stderr).contains("ROSTER_PLUGIN_CACHE_KEY must be 64 hex characters"));

    let key = "5a".repeat(32);
    let out = collect(&key);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let compiled = |ext: &str| -> Vec<std::path::PathBuf> {
        let mut v: Vec<_> = std::fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == ext))
            .collect();
        v.sort();
        v
    };
    let cwasm = compiled("cwasm");
    assert_eq!(cwasm.len(), 1, "the slack connector, compiled once: {cwasm:?}");
    assert!(
        !env.state().join("plugin-cache").exists(),
        "the state folder's cache is not used"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "the cache folder Roster made is private");
    }

    // Planted bytes carry no valid tag: the run compiles again and replaces them.
    std::fs::write(&cwasm[0], b"planted machine code").unwrap();
    let out = collect(&key);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_ne!(std::fs::read(&cwasm[0]).unwrap(), b"planted machine code");

    // Another key does not trust what the first one signed: the tag is written again.
    let mac = compiled("mac");
    let before = std::fs::read(&mac[0]).unwrap();
    let out = collect(&"c3".repeat(32));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_ne!(std::fs::read(&mac[0]).unwrap(), before);
}
