//! PostgreSQL for tests: a fresh, empty database per call on one server. The server is the one
//! scripts/test.sh started for the whole suite (`ROSTER_TEST_POSTGRES_URL`), else one started
//! for this test process with scripts/postgres.sh (Debian's `postgresql` package), stopped when
//! the process exits.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// The URL of the server's administrative database.
fn server() -> &'static str {
    static SERVER: OnceLock<String> = OnceLock::new();
    SERVER.get_or_init(|| {
        if let Some(url) = std::env::var("ROSTER_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) {
            return url;
        }
        let dir = tempfile::Builder::new()
            .prefix("roster-pg-")
            .tempdir()
            .expect("a temp folder")
            .keep();
        let out = std::process::Command::new("bash")
            .arg(crate::workspace_root().join("scripts/postgres.sh"))
            .arg("start")
            .arg(&dir)
            .arg(std::process::id().to_string())
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("bash runs scripts/postgres.sh");
        assert!(
            out.status.success(),
            "cannot start PostgreSQL for the tests: install Debian's postgresql package (scripts/test.sh does), or set ROSTER_TEST_POSTGRES_URL"
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    })
}

/// A new empty database on the test server, as a connection URL.
pub fn database() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let admin = server();
    let name = format!(
        "roster_test_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let out = std::process::Command::new("psql")
        .arg(admin)
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-c", &format!("CREATE DATABASE {name}")])
        .output()
        .expect("psql (Debian's postgresql-client) is on PATH");
    assert!(
        out.status.success(),
        "cannot create a test database on {admin}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    with_database(admin, &name)
}

/// `url` with its database name replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let base = match base.rfind('/') {
        Some(i) if i > base.find("://").map_or(0, |s| s + 2) => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}
