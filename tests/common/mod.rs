//! Test helpers: a temp workspace, the binary, fake secrets, git.

pub mod moto;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicU64, Ordering};

/// A temp dir with its own state dir, and the roster command.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Default for Env {
    fn default() -> Self {
        Self::new()
    }
}

impl Env {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    pub fn state(&self) -> PathBuf {
        self.path(".roster-state")
    }

    /// Runs roster with `args`; the state dir is private to this Env.
    pub fn roster(&self, args: &[&str]) -> Output {
        self.roster_env(args, &[])
    }

    /// Runs roster with `args` and extra environment variables.
    pub fn roster_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = assert_cmd::Command::cargo_bin("roster").expect("roster binary");
        cmd.args(args)
            .env("ROSTER_STATE_DIR", self.state())
            .env_remove("ROSTER_FINGERPRINT_KEY")
            .current_dir(self.dir.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run roster")
    }

    /// Runs `roster collect --format json` on `config` (written as roster.toml) with extra
    /// environment variables, off the async runtime (fixture servers run on it); returns the
    /// env, the exit code, the report and standard error.
    pub async fn collect_json(
        config: String,
        vars: Vec<(&'static str, String)>,
    ) -> (Env, i32, serde_json::Value, String) {
        tokio::task::spawn_blocking(move || {
            let env = Env::new();
            env.write("roster.toml", config);
            let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let out = env.roster_env(&["collect", "--config", "roster.toml", "--format", "json"], &vars);
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
            (env, out.status.code().unwrap_or(-1), report, stderr)
        })
        .await
        .unwrap()
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

    pub fn git(&self, repo: &str, args: &[&str]) -> String {
        git_in(&self.path(repo), args)
    }
}

pub fn git_in(dir: &Path, args: &[&str]) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let out = std::process::Command::new("git")
        .args(args)
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

static SEED: AtomicU64 = AtomicU64::new(0);

/// A pseudo-random generator seeded from the clock and a counter (fake secrets need no CSPRNG).
pub fn rand_u64() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut x = t ^ SEED.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed).rotate_left(17) ^ 0xD6E8_FEB8_6659_FD93;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

pub const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

pub fn rand_from(alphabet: &[u8], n: usize) -> String {
    (0..n)
        .map(|_| alphabet[(rand_u64() % alphabet.len() as u64) as usize] as char)
        .collect()
}

pub fn b62(n: usize) -> String {
    rand_from(B62, n)
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Fake secrets in real formats.
pub mod fake {
    use super::*;

    pub fn openai_project() -> String {
        let a = rand_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 74);
        let b = rand_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 74);
        format!("sk-proj-{a}T3BlbkFJ{b}")
    }

    pub fn anthropic() -> String {
        format!(
            "sk-ant-api03-{}AA",
            rand_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 93)
        )
    }

    pub fn github_pat() -> String {
        let body = b62(30);
        let mut v = crc32(body.as_bytes()) as u64;
        let mut check = [b'0'; 6];
        for slot in check.iter_mut().rev() {
            *slot = B62[(v % 62) as usize];
            v /= 62;
        }
        format!("ghp_{body}{}", std::str::from_utf8(&check).unwrap())
    }

    pub fn aws_key_id() -> String {
        format!("AKIA{}", rand_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16))
    }

    pub fn aws_secret() -> String {
        rand_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40)
    }

    pub fn huggingface() -> String {
        format!(
            "hf_{}",
            rand_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 34)
        )
    }

    pub fn slack_bot() -> String {
        format!(
            "xoxb-{}-{}-{}",
            rand_from(b"0123456789", 12),
            rand_from(b"0123456789", 13),
            b62(24)
        )
    }
}

/// Every string value in the report's findings with this field.
pub fn field<'a>(v: &'a serde_json::Value, key: &str) -> Vec<&'a str> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f[key].as_str())
        .collect()
}

/// Every byte written anywhere under `dir`, concatenated (for leak checks).
pub fn all_bytes_under(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(b) = std::fs::read(&p) {
                out.extend(b);
            }
        }
    }
    out
}

pub fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The report's (first) connector source read everything.
pub fn assert_complete(report: &serde_json::Value) {
    assert_eq!(
        report["connectors"][0]["status"], "complete",
        "{:#}",
        report["connectors"]
    );
}

/// The identity with this id in a report's `identities`.
pub fn identity<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["identities"]
        .as_array()
        .expect("identities")
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("no identity {id} in {:#}", report["identities"]))
}

/// A test-only RSA key (generated for these tests, registered nowhere): the private key of the
/// fictional GitHub App and Okta service app in the token-minting tests.
pub const TEST_RSA_KEY: &str = include_str!("../fixtures/test-rsa-key.pem");

/// [`TEST_RSA_KEY`] in a file, for `private_key_file`.
pub fn test_key_file() -> tempfile::NamedTempFile {
    let key = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(key.path(), TEST_RSA_KEY).unwrap();
    key
}

/// Checks that `jwt` is an RS256 or PS256 JWT signed with [`TEST_RSA_KEY`]; returns its header
/// and claims.
pub fn verify_jwt(jwt: &str) -> (serde_json::Value, serde_json::Value) {
    use base64::Engine as _;
    use rustls::pki_types::pem::PemObject as _;
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "not a JWT: {jwt}");
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let head: serde_json::Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    let alg: &dyn ring::signature::VerificationAlgorithm = match head["alg"].as_str() {
        Some("RS256") => &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        Some("PS256") => &ring::signature::RSA_PSS_2048_8192_SHA256,
        other => panic!("unexpected JWT algorithm {other:?}"),
    };
    let der = rustls::pki_types::PrivatePkcs1KeyDer::from_pem_slice(TEST_RSA_KEY.as_bytes()).unwrap();
    let pair = ring::signature::RsaKeyPair::from_der(der.secret_pkcs1_der()).unwrap();
    ring::signature::UnparsedPublicKey::new(alg, ring::signature::KeyPair::public_key(&pair).as_ref())
        .verify(
            format!("{}.{}", parts[0], parts[1]).as_bytes(),
            &b64.decode(parts[2]).unwrap(),
        )
        .expect("the JWT is signed with the test key");
    (head, claims)
}
