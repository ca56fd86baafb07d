//! moto (the AWS emulator) on a free loopback port, for tests and benchmarks: started through
//! crates/testkit/moto_launcher.py with the venv scripts/test.sh installs.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_iam::config::{BehaviorVersion, Credentials, Region};

/// moto's server, killed on drop.
pub struct Moto {
    child: Child,
    /// Its endpoint, `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Moto {
    /// Starts moto with `ROSTER_TEST_PYTHON`, else the test venv's python, and waits (30 s at
    /// most) until it listens.
    pub fn start() -> Self {
        let python = std::env::var_os("ROSTER_TEST_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| crate::test_deps().join("venv/bin/python"));
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(&python)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("moto_launcher.py"))
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {}: {e}; install the test dependencies with scripts/test.sh",
                    python.display()
                )
            });
        let mut moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!(
                    "moto exited ({status}); is moto[server] installed in {}? run scripts/test.sh",
                    python.display()
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "moto did not start within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// An IAM client signed with the given access key (moto records the key's last use).
    pub fn iam(&self, key_id: &str, secret: &str) -> aws_sdk_iam::Client {
        use aws_smithy_http_client::tls;
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
            .build_https();
        let conf = aws_sdk_iam::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&self.url)
            .http_client(http)
            .credentials_provider(Credentials::new(key_id, secret, None, None, "test"))
            .build();
        aws_sdk_iam::Client::from_conf(conf)
    }

    /// Sets dates moto cannot set through its API (see the launcher).
    pub fn backdate(&self, body: serde_json::Value) {
        self.test_route("iam/backdate", body);
    }

    /// Turns on moto's IAM authorization from now on: every later request must be signed by a
    /// key whose policies allow it (see the launcher).
    pub fn enforce_auth(&self) {
        self.test_route("auth/enforce", serde_json::json!({}));
    }

    fn test_route(&self, route: &str, body: serde_json::Value) {
        let out = Command::new("curl")
            .args([
                "-sf",
                "-XPOST",
                &format!("{}/_test/{route}", self.url),
                "-d",
                &body.to_string(),
            ])
            .output()
            .expect("curl");
        assert!(
            out.status.success(),
            "{route} {body}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
