//! A temp workspace with its own state folder, the binary under test, and git.

use std::path::{Path, PathBuf};
use std::process::Output;

/// One compiled-connector cache for every [`Env`] of this test process, as a CI job keeps one
/// across runs (`ROSTER_PLUGIN_CACHE`): each connector is compiled once for the suite rather than
/// once per test. Its key is new each process (what an earlier suite left fails its HMAC and is
/// compiled again); the folder is made by Roster itself, private, in the target folder's `tmp`
/// (the test binary is in `target/<profile>/deps`), so suites do not leave copies behind.
static PLUGIN_CACHE: std::sync::LazyLock<(PathBuf, String)> = std::sync::LazyLock::new(|| {
    use std::hash::{BuildHasher, Hasher};
    let key: String = (0..4)
        .map(|i| {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u32(i);
            format!("{:016x}", h.finish())
        })
        .collect();
    let target = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.join("tmp")));
    let dir = match target {
        Some(tmp) if tmp.is_dir() => tmp.join("roster-test-plugin-cache"),
        _ => std::env::temp_dir().join(format!("roster-test-plugin-cache-{}", std::process::id())),
    };
    (dir, key)
});

/// A temp folder with its own state folder, and the roster binary to run in it.
pub struct Env {
    /// The temp folder (removed on drop).
    pub dir: tempfile::TempDir,
    bin: PathBuf,
}

impl Env {
    /// A new temp workspace that runs `bin`: the root package's tests and benchmarks pass
    /// `env!("CARGO_BIN_EXE_roster")`, which cargo sets for them.
    pub fn new(bin: impl Into<PathBuf>) -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
            bin: bin.into(),
        }
    }

    /// `rel` inside the workspace.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes `text` to `rel` (creating folders); returns its path.
    pub fn write(&self, rel: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// The state folder private to this workspace (`ROSTER_STATE_DIR`).
    pub fn state(&self) -> PathBuf {
        self.path(".roster-state")
    }

    /// Runs roster with `args`; the state dir is private to this Env.
    pub fn roster(&self, args: &[&str]) -> Output {
        self.roster_env(args, &[])
    }

    /// Writes `config` as roster.toml, runs `roster collect --format json` on it and returns
    /// the report it prints.
    pub fn collect_config(&self, config: impl AsRef<[u8]>) -> serde_json::Value {
        self.write("roster.toml", config);
        let out = self.roster(&["collect", "--config", "roster.toml", "--format", "json"]);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "collect printed no report ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }

    /// Runs roster with `args` and extra environment variables.
    pub fn roster_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = std::process::Command::new(&self.bin);
        let (cache, key) = &*PLUGIN_CACHE;
        cmd.args(args)
            .env("ROSTER_STATE_DIR", self.state())
            .env_remove("ROSTER_FINGERPRINT_KEY")
            .env("ROSTER_PLUGIN_CACHE", cache)
            .env("ROSTER_PLUGIN_CACHE_KEY", key)
            .current_dir(self.dir.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output()
            .unwrap_or_else(|e| panic!("run {}: {e}", self.bin.display()))
    }

    /// Runs `roster collect --format json` on `config` (written as roster.toml) with extra
    /// environment variables, off the async runtime (fixture servers run on it); returns the
    /// env, the exit code, the report and standard error.
    pub async fn collect_json(
        self,
        config: String,
        vars: Vec<(&'static str, String)>,
    ) -> (Env, i32, serde_json::Value, String) {
        tokio::task::spawn_blocking(move || {
            self.write("roster.toml", config);
            let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let out = self.roster_env(&["collect", "--config", "roster.toml", "--format", "json"], &vars);
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
            (self, out.status.code().unwrap_or(-1), report, stderr)
        })
        .await
        .unwrap()
    }

    /// Runs `roster discover` on the roster.toml a [`Env::collect_json`] wrote, off the async
    /// runtime; checks that it exits 0 and returns `out/report.json`.
    pub async fn discover_json(self) -> serde_json::Value {
        tokio::task::spawn_blocking(move || {
            let out = self.roster(&["discover", "--config", "roster.toml", "--output-dir", "out"]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "{stderr}");
            let report = std::fs::read(self.path("out/report.json")).unwrap_or_else(|e| panic!("{e}: {stderr}"));
            serde_json::from_slice(&report).unwrap()
        })
        .await
        .unwrap()
    }

    /// Checks that no file under the state folder holds any of `secrets`.
    pub fn assert_state_holds_none(&self, secrets: &[&str]) {
        let state = crate::all_bytes_under(&self.state());
        for s in secrets {
            assert!(!crate::contains(&state, s), "the state holds {s:?}");
        }
    }

    /// Runs `roster scan ARGS --format json` and parses the report.
    pub fn scan_json(&self, args: &[&str]) -> (i32, serde_json::Value, String) {
        let mut a = vec!["scan", "--format", "json"];
        a.extend_from_slice(args);
        let out = self.roster(&a);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}); stderr: {stderr}"));
        (out.status.code().unwrap_or(-1), v, stderr)
    }

    /// Runs git in the repository `repo` inside the workspace (see [`git_in`]).
    pub fn git(&self, repo: &str, args: &[&str]) -> String {
        git_in(&self.path(repo), args)
    }

    /// As [`git`](Self::git), with the author and committer dates set to `date` (any date git
    /// reads, e.g. `@1700000000 +0000`): a commit made at a given time.
    pub fn git_at(&self, repo: &str, date: &str, args: &[&str]) -> String {
        git_with(
            &self.path(repo),
            &[("GIT_AUTHOR_DATE", date), ("GIT_COMMITTER_DATE", date)],
            args,
        )
    }
}

/// Runs git in `dir` (created if missing) with no user or system config and a fixed author;
/// panics if it fails; returns its trimmed standard output.
pub fn git_in(dir: &Path, args: &[&str]) -> String {
    git_with(dir, &[], args)
}

/// As [`git_in`], with more environment variables set.
fn git_with(dir: &Path, vars: &[(&str, &str)], args: &[&str]) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let out = std::process::Command::new("git")
        .args(args)
        .envs(vars.iter().copied())
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "test@example.org")
        .env("GIT_COMMITTER_NAME", "Test Author")
        .env("GIT_COMMITTER_EMAIL", "test@example.org")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
