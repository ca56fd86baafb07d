//! `roster serve` over the sample organization's history: the token, the API against the run's
//! own report, the pages in headless Chromium (tests/browse_dashboard.py, with screenshots),
//! and what it refuses.

use crate::ROSTER;
use crate::discover::SAMPLE_SECRETS;
use roster_testkit::{Env, test_deps};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

const TOKEN: &str = "serve-test-token-8c1f0b7e2d";

/// A running `roster serve`, stopped on drop.
pub(crate) struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `roster serve` on a free loopback port and waits for its ready line.
fn serve(env: &Env, args: &[&str], token: Option<&str>) -> Server {
    serve_env(env, args, token, &[])
}

/// [`serve`] with more environment variables.
pub(crate) fn serve_env(env: &Env, args: &[&str], token: Option<&str>, vars: &[(&str, &str)]) -> Server {
    let mut cmd = Command::new(ROSTER);
    cmd.envs(vars.iter().copied());
    cmd.arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env("ROSTER_STATE_DIR", env.state())
        .env_remove("ROSTER_SERVE_TOKEN")
        .current_dir(env.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(t) = token {
        cmd.env("ROSTER_SERVE_TOKEN", t);
    }
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .trim_end_matches('/')
        .to_owned();
    Server { child, base }
}

/// A response: status, headers (lowercase names) and body.
pub(crate) struct Answer {
    pub(crate) status: u16,
    headers: String,
    body: String,
}

impl Answer {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// One HTTP/1.1 request over a plain socket.
fn request(base: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    Answer {
        status: head[9..12].parse().unwrap(),
        headers: head.to_lowercase(),
        body: body.to_owned(),
    }
}

pub(crate) fn get(server: &Server, path: &str, token: Option<&str>) -> Answer {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    request(&server.base, "GET", path, &headers, "")
}

fn ids(v: &Value, list: &str) -> BTreeSet<String> {
    v[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} in {v:#}"))
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The ids of the report's critical gaps.
fn critical_ids(report: &Value) -> BTreeSet<String> {
    report["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["severity"] == "critical")
        .map(|g| g["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The sample organization run twice (a history of two runs), its report, and the server.
fn sample(env: &Env) -> Value {
    for _ in 0..2 {
        let out = env.roster(&["demo", "--output", "demo"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    serde_json::from_slice(&std::fs::read(env.path("demo/report.json")).unwrap()).unwrap()
}

#[test]
fn the_api_needs_the_token_and_lists_exactly_the_latest_runs_gaps() {
    let env = Env::new(ROSTER);
    let report = sample(&env);
    let server = serve(&env, &["--state-dir", "demo/state"], Some(TOKEN));

    // Without the token, or with another one: 401, on the API and on the pages.
    for path in [
        "/api/v1/gaps",
        "/api/v1/runs",
        "/api/v1/gaps/x",
        "/",
        "/gaps",
        "/nothing",
    ] {
        for token in [None, Some("serve-test-token-8c1f0b7e2X"), Some("")] {
            let a = get(&server, path, token);
            assert_eq!(a.status, 401, "{path} with {token:?}: {}", a.body);
            assert!(a.headers.contains("www-authenticate: bearer"), "{}", a.headers);
        }
    }
    let a = get(&server, "/", None);
    assert!(a.body.contains("name=\"token\""), "{}", a.body);
    assert!(!a.body.contains(TOKEN));

    // The latest run's gaps, exactly: the ids of the report the run wrote.
    let runs = get(&server, "/api/v1/runs", Some(TOKEN)).json();
    let listed: Vec<i64> = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, [1, 2], "{runs:#}");
    let gaps = get(&server, "/api/v1/gaps", Some(TOKEN)).json();
    assert_eq!(gaps["run"]["id"], 2);
    assert_eq!(ids(&gaps, "gaps"), ids(&report, "gaps"));
    assert_eq!(gaps["count"], report["gaps"].as_array().unwrap().len());
    for g in gaps["gaps"].as_array().unwrap() {
        let r = report["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == g["id"])
            .unwrap();
        for field in ["kind", "severity", "title"] {
            assert_eq!(g[field], r[field], "{field} of {}", g["id"]);
        }
        assert_eq!(g["owner"], r["owner"]["name"], "owner of {}", g["id"]);
        assert_eq!(g["accepted"], false);
        // First seen is the first run's start, kept by the second run.
        assert_eq!(g["first_seen"], runs["runs"][0]["started"], "{g:#}");
        assert_eq!(g["last_seen"], runs["runs"][1]["started"], "{g:#}");
    }

    // Filters are query parameters, and a wrong value is an error, not an empty list.
    let critical = critical_ids(&report);
    assert!(!critical.is_empty());
    let v = get(&server, "/api/v1/gaps?severity=critical", Some(TOKEN)).json();
    assert_eq!(ids(&v, "gaps"), critical);
    let kind = get(&server, "/api/v1/gaps?kind=no-owner&min_severity=high", Some(TOKEN)).json();
    assert!(
        kind["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["kind"] == "no-owner" && (g["severity"] == "high" || g["severity"] == "critical"))
    );
    let none = get(&server, "/api/v1/gaps?owner=(none)", Some(TOKEN)).json();
    assert!(
        none["count"].as_u64().unwrap() > 0 && none["gaps"].as_array().unwrap().iter().all(|g| g["owner"].is_null())
    );
    assert_eq!(get(&server, "/api/v1/gaps?new_since=1", Some(TOKEN)).json()["count"], 0);
    let a = get(&server, "/api/v1/gaps?severity=urgent", Some(TOKEN));
    assert_eq!(a.status, 400);
    assert!(a.json()["error"].as_str().unwrap().contains("urgent"));
    assert_eq!(get(&server, "/api/v1/gaps?run=99", Some(TOKEN)).status, 404);

    // One gap in full, with its history; identities, agents, diff.
    let id = critical.iter().next().unwrap();
    let one = get(&server, &format!("/api/v1/gaps/{id}"), Some(TOKEN)).json();
    assert_eq!(one["gap"]["id"], id.as_str());
    assert!(!one["gap"]["evidence"].as_array().unwrap().is_empty());
    assert_eq!(one["history"].as_array().unwrap().len(), 2);
    assert_eq!(
        get(&server, "/api/v1/gaps/gap-0000000000000000", Some(TOKEN)).status,
        404
    );
    let idents = get(&server, "/api/v1/identities", Some(TOKEN)).json();
    assert_eq!(idents["count"], report["identities"].as_array().unwrap().len());
    let agents = get(&server, "/api/v1/agents", Some(TOKEN)).json();
    assert_eq!(ids(&agents, "agents"), ids(&report, "agents"));
    let diff = get(&server, "/api/v1/diff?from=1&to=2", Some(TOKEN)).json();
    assert_eq!(diff["new"].as_array().unwrap().len(), 0);
    assert_eq!(
        diff["still_open"].as_array().unwrap().len(),
        report["gaps"].as_array().unwrap().len()
    );

    // Every page answers under a strict policy, and nothing shows a planted secret.
    for path in [
        "/",
        "/gaps",
        &format!("/gaps/{id}"),
        "/owners",
        "/inventory",
        "/runs",
        "/diff?from=1&to=2",
    ] {
        let a = get(&server, path, Some(TOKEN));
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        assert!(
            a.headers
                .contains("content-security-policy: default-src 'none'; style-src 'self'")
        );
        assert!(
            !a.body.contains("<script") && !a.body.contains("http://") && !a.body.contains("https://"),
            "{path}"
        );
        for s in SAMPLE_SECRETS {
            assert!(!a.body.contains(s), "{path} shows a planted secret");
        }
    }
    for path in [
        "/api/v1/gaps",
        "/api/v1/identities",
        "/api/v1/agents",
        &format!("/api/v1/gaps/{id}"),
    ] {
        let body = get(&server, path, Some(TOKEN)).body;
        for s in SAMPLE_SECRETS {
            assert!(!body.contains(s), "{path} shows a planted secret");
        }
    }
}

#[test]
fn the_dashboard_works_in_a_real_browser() {
    let env = Env::new(ROSTER);
    let report = sample(&env);
    let server = serve(&env, &["--state-dir", "demo/state"], Some(TOKEN));
    let shots = roster_testkit::target_dir().join("serve-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new(test_deps().join("venv/bin/python"))
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browse_dashboard.py"))
        .args([&server.base, TOKEN])
        .arg(&shots)
        .output()
        .expect("the test venv's python (scripts/test.sh installs selenium)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    let all: BTreeSet<String> = ids(&report, "gaps");
    let listed: BTreeSet<String> = serde_json::from_value(seen["all_gaps"].clone()).unwrap();
    assert_eq!(listed, all, "the gaps page after signing in");
    assert_eq!(seen["login_title"], "Sign in · Roster");
    assert!(seen["after_login_url"].as_str().unwrap().ends_with("/gaps"), "{seen:#}");
    assert_eq!(seen["overview_h1"], "Overview");
    assert!(
        seen["chart_bars"].as_u64().unwrap() >= 2,
        "a bar per run and severity: {seen:#}"
    );
    // The filter lists exactly the critical gaps.
    let critical = critical_ids(&report);
    let filtered: BTreeSet<String> = serde_json::from_value(seen["critical_gaps"].clone()).unwrap();
    assert_eq!(filtered, critical);
    assert!(filtered.len() < listed.len());
    assert!(
        seen["filtered_url"].as_str().unwrap().contains("min_severity=critical"),
        "{seen:#}"
    );
    assert!(
        seen["critical_badges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b == "critical")
    );
    // The click opened that gap's page, with its evidence chain and history.
    assert_eq!(seen["gap_h1"], seen["clicked_title"]);
    assert!(seen["gap_url"].as_str().unwrap().contains("/gaps/gap-"));
    assert!(!seen["gap_evidence"].as_array().unwrap().is_empty(), "{seen:#}");
    for section in ["Evidence", "Remediation", "History"] {
        assert!(
            seen["gap_sections"].as_array().unwrap().iter().any(|h| h == section),
            "{seen:#}"
        );
    }
    assert!(seen["owners_rows"].as_u64().unwrap() > 1);
    assert_eq!(seen["runs_rows"], 2);
    // Nothing refused by the policy, nothing missing.
    assert_eq!(seen["console"], serde_json::json!([]), "{seen:#}");
    for name in ["overview", "gaps", "gaps-critical", "gap", "inventory"] {
        let png = std::fs::read(shots.join(format!("{name}.png"))).unwrap();
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 20_000,
            "{name}.png: {} bytes",
            png.len()
        );
    }
}

#[test]
fn serve_refuses_to_expose_the_history() {
    let env = Env::new(ROSTER);
    // Without a token, only loopback.
    let out = env.roster(&["serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a loopback address") && err.contains("ROSTER_SERVE_TOKEN"),
        "{err}"
    );
    // A short token protects nothing.
    let out = env.roster_env(&["serve"], &[("ROSTER_SERVE_TOKEN", "abc")]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 16"), "{out:?}");
    // Nothing recorded yet: says what to run.
    let out = env.roster(&["serve", "--listen", "127.0.0.1:0"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no state database") && err.contains("roster discover"),
        "{err}"
    );
    // A token file works like the variable, and its token is never printed.
    sample(&env);
    env.write("token", format!("{TOKEN}\n"));
    let server = serve(&env, &["--state-dir", "demo/state", "--token-file", "token"], None);
    assert_eq!(get(&server, "/api/v1/runs", None).status, 401);
    assert_eq!(get(&server, "/api/v1/runs", Some(TOKEN)).status, 200);
    // The login form sets a session cookie that is not the token, and goes back where asked,
    // never elsewhere.
    let form = format!("token={TOKEN}&next=%2Fowners");
    let ct = [("Content-Type", "application/x-www-form-urlencoded")];
    let a = request(&server.base, "POST", "/login", &ct, &form);
    assert_eq!(a.status, 303, "{}", a.body);
    assert!(a.headers.contains("location: /owners"), "{}", a.headers);
    let cookie = a
        .headers
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(!cookie.contains(TOKEN) && a.headers.contains("httponly") && a.headers.contains("samesite=strict"));
    let page = request(&server.base, "GET", "/owners", &[("Cookie", &cookie)], "");
    assert_eq!(page.status, 200);
    let away = request(
        &server.base,
        "POST",
        "/login",
        &ct,
        &format!("token={TOKEN}&next=%2F%2Fevil.example"),
    );
    assert!(
        away.headers.contains("location: /\r") || away.headers.contains("location: /\n"),
        "{}",
        away.headers
    );
    let wrong = request(
        &server.base,
        "POST",
        "/login",
        &ct,
        "token=wrong-token-0123456789&next=%2F",
    );
    assert_eq!(wrong.status, 401);
}
