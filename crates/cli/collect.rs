//! `roster collect`: runs the connector sources configured in roster.toml, each as a sandboxed
//! plugin, concurrently, and gathers their identities into the report.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use roster_model::{ConnectorRun, Report};
use roster_plugin_host::{AllowRule, Auth, ExportFile, Host, Limits, Manifest, RunRequest, Secret};
use serde::Deserialize;

/// roster.toml.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Connector sources.
    #[serde(default, rename = "source")]
    pub sources: Vec<SourceConfig>,
    /// What `roster discover` scans.
    #[serde(default)]
    pub scan: ScanConfig,
    /// The agent registry (agents.toml), relative to roster.toml.
    pub registry: Option<PathBuf>,
    /// Measure time thresholds from this date (YYYY-MM-DD or RFC 3339) instead of now: for
    /// exports taken earlier.
    pub as_of: Option<String>,
    /// Thresholds for the time-based gaps.
    #[serde(default)]
    pub thresholds: roster_correlate::Thresholds,
}

/// `[scan]`: the code `roster discover` scans. Paths are relative to roster.toml.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanConfig {
    /// Directories and files (working trees).
    #[serde(default)]
    pub paths: Vec<PathBuf>,
    /// Git repositories whose whole history is scanned.
    #[serde(default)]
    pub repos: Vec<PathBuf>,
    /// Globs of paths to skip.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// More rule files (Roster TOML).
    #[serde(default)]
    pub rules: Vec<PathBuf>,
}

/// An extra URL prefix a source's plugin may reach, and how the host authenticates it.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct AllowConfig {
    /// `https://host[:port]/path/` (plain http only for a loopback address).
    pub prefix: String,
    /// `none`, `bearer`, `ssws`, `token`, `header:<name>` or `aws-sigv4`.
    #[serde(default = "none")]
    pub auth: String,
    /// Environment variable holding the secret for bearer/ssws/token/header.
    pub secret_env: Option<String>,
    /// Signing name for aws-sigv4 (`iam`, `cloudtrail`).
    pub service: Option<String>,
}

fn none() -> String {
    "none".into()
}

/// An export file handed to a source's plugin.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Path (relative to roster.toml).
    pub path: PathBuf,
    /// What it is: `credential-report`, ...
    pub format: String,
}

/// One `[[source]]` table.
#[derive(Debug, Deserialize, Clone)]
pub struct SourceConfig {
    /// Name in reports (default: the connector's).
    pub name: Option<String>,
    /// Connector: `aws-iam`, or any name with an explicit `plugin`.
    pub connector: String,
    /// Path of the plugin's .wasm (default: the bundled connector of that name).
    pub plugin: Option<PathBuf>,
    /// The plugin's sha256; required for a `plugin` path, checked whenever given.
    pub sha256: Option<String>,
    /// AWS region (signing region for AWS connectors).
    pub region: Option<String>,
    /// AWS profile from ~/.aws/config.
    pub profile: Option<String>,
    /// Endpoint override (a local emulator); an explicit loopback URL allows plain http.
    pub endpoint_url: Option<String>,
    /// Wall-time budget in seconds (default 600).
    pub timeout_secs: Option<u64>,
    /// Memory limit in MiB (default 256).
    pub memory_mib: Option<usize>,
    /// Environment variable holding the token of a connector
    /// (default `OPENAI_ADMIN_KEY`, `ANTHROPIC_ADMIN_KEY`, `GITHUB_TOKEN`, `OKTA_API_TOKEN`, `ENTRA_ACCESS_TOKEN`,
    /// `GOOGLE_ACCESS_TOKEN`).
    pub secret_env: Option<String>,
    /// Retries after a 429, a 5xx or a connection failure (default 4).
    pub http_retries: Option<u32>,
    /// Export files.
    #[serde(default)]
    pub files: Vec<FileConfig>,
    /// Extra allowed URL prefixes.
    #[serde(default)]
    pub allow: Vec<AllowConfig>,
    /// Every other setting, passed to the plugin as text.
    #[serde(flatten)]
    pub settings: BTreeMap<String, toml::Value>,
}

impl SourceConfig {
    fn name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.connector)
    }
}

/// Reads and checks roster.toml.
pub fn load_config(path: &Path) -> Result<Config> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config {}", path.display()))?;
    let cfg: Config = toml::from_str(&text).with_context(|| format!("config {} is not valid", path.display()))?;
    let mut seen = std::collections::HashSet::new();
    for s in &cfg.sources {
        if s.settings.contains_key("scan_repos") && s.connector != "github" {
            bail!(
                "config {}: source {:?} sets scan_repos, which only github sources have",
                path.display(),
                s.name()
            );
        }
        if !seen.insert(s.name().to_string()) {
            bail!(
                "config {}: two sources are named {:?}; give each a distinct `name`",
                path.display(),
                s.name()
            );
        }
    }
    Ok(cfg)
}

/// Where bundled connectors live: `ROSTER_CONNECTOR_DIR`, else `connectors/` next to the
/// executable, else the workspace's wasm build folder (for a binary under target/).
fn connector_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![];
    if let Some(d) = std::env::var_os("ROSTER_CONNECTOR_DIR") {
        dirs.push(PathBuf::from(d));
    }
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        dirs.push(exe_dir.join("connectors"));
        if let Some(target) = exe_dir.parent() {
            dirs.push(target.join("wasm32-wasip2/release"));
        }
    }
    dirs
}

fn plugin_path(src: &SourceConfig, base: &Path) -> Result<(PathBuf, bool)> {
    if let Some(p) = &src.plugin {
        return Ok((base.join(p), true));
    }
    let file = format!("connector_{}.wasm", src.connector.replace('-', "_"));
    let dirs = connector_dirs();
    dirs.iter()
        .map(|d| d.join(&file))
        .find(|p| p.is_file())
        .map(|p| (p, false))
        .with_context(|| {
            format!(
                "source {}: connector {} not found (looked for {file} in {}); build the connectors with \
             scripts/build-connectors.sh, set ROSTER_CONNECTOR_DIR, or give `plugin = \"path.wasm\"`",
                src.name(),
                src.connector,
                dirs.iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

fn setting_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Datetime(d) => d.to_string(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

async fn aws_credentials(src: &SourceConfig) -> aws_credential_types::provider::SharedCredentialsProvider {
    use aws_smithy_http_client::tls;
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
        .build_https();
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http);
    if let Some(r) = &src.region {
        loader = loader.region(aws_config::Region::new(r.clone()));
    }
    if let Some(p) = &src.profile {
        loader = loader.profile_name(p);
    }
    let conf = loader.load().await;
    conf.credentials_provider().unwrap_or_else(|| {
        aws_credential_types::provider::SharedCredentialsProvider::new(aws_credential_types::Credentials::new(
            "", "", None, None, "none",
        ))
    })
}

/// Settings the host reads itself (how it authenticates); they are not handed to the plugin.
const HOST_SETTINGS: &[&str] = &[
    "auth",
    "tenant_id",
    "client_id",
    "authority_host",
    "ca_file",
    "token_file",
    "app_id",
    "installation_id",
    "private_key_file",
    "key_id",
    "scopes",
    "credentials_file",
    "subject",
    "scan_repos",
    "scan_forks",
    "scan_archived",
];

/// The host-side manifest of a source: the connector's built-in endpoints plus `allow` entries.
async fn manifest(src: &SourceConfig, base_dir: &Path) -> Result<Manifest> {
    let name = src.name();
    let mut allow = vec![];
    let aws_region = src.region.clone().unwrap_or_else(|| "us-east-1".into());
    let endpoint = |default: &str| src.endpoint_url.clone().unwrap_or_else(|| default.to_string());
    let env_secret = |default_var: &str| -> Result<Secret> {
        let var = src.secret_env.as_deref().unwrap_or(default_var);
        let v = std::env::var(var).with_context(|| {
            format!(
                "source {name}: the {} credential is read from ${var}, which is not set",
                src.connector
            )
        })?;
        Ok(Secret::new(v))
    };
    // `api = false`: the source reads only its export files, so its plugin reaches nothing and
    // needs no credential.
    let exports_only = src.settings.get("api").and_then(toml::Value::as_bool) == Some(false);
    match src.connector.as_str() {
        _ if exports_only => {}
        "aws-iam" => {
            let provider = aws_credentials(src).await;
            // IAM is a global service, signed for us-east-1 unless the config names a region.
            let auth = Auth::AwsSigV4 {
                service: "iam".into(),
                region: aws_region.clone(),
                provider,
            };
            allow.push(AllowRule::new(&endpoint("https://iam.amazonaws.com/"), auth)?);
        }
        "aws-cloudtrail" => {
            let provider = aws_credentials(src).await;
            let default = format!("https://cloudtrail.{aws_region}.amazonaws.com/");
            let auth = Auth::AwsSigV4 {
                service: "cloudtrail".into(),
                region: aws_region.clone(),
                provider,
            };
            allow.push(AllowRule::new(&endpoint(&default), auth)?);
        }
        "openai-admin" => {
            let prefix = format!(
                "{}/organization/",
                endpoint("https://api.openai.com/v1").trim_end_matches('/')
            );
            let auth = Auth::Authorization {
                scheme: "Bearer".into(),
                secret: env_secret("OPENAI_ADMIN_KEY")?,
            };
            allow.push(AllowRule::new(&prefix, auth)?);
        }
        "anthropic-admin" => {
            let prefix = format!(
                "{}/v1/organizations/",
                endpoint("https://api.anthropic.com").trim_end_matches('/')
            );
            let auth = Auth::Header {
                name: http::HeaderName::from_static("x-api-key"),
                secret: env_secret("ANTHROPIC_ADMIN_KEY")?,
            };
            allow.push(AllowRule::new(&prefix, auth)?);
        }
        "github" => {
            let org =
                src.settings.get("org").and_then(|v| v.as_str()).with_context(|| {
                    format!("source {name}: the github connector needs org = \"<organization login>\"")
                })?;
            let base = endpoint("https://api.github.com").trim_end_matches('/').to_string();
            let auth = github_auth(src, base.as_str(), base_dir, &env_secret)?;
            // Only this organization's endpoints and its repositories'.
            for prefix in [format!("{base}/orgs/{org}/"), format!("{base}/repos/{org}/")] {
                allow.push(AllowRule::new(&prefix, auth.clone())?);
            }
        }
        "okta" => {
            let base = src
                .endpoint_url
                .clone()
                .or_else(|| src.settings.get("org_url").and_then(|v| v.as_str()).map(str::to_string))
                .with_context(|| {
                    format!("source {name}: the okta connector needs org_url = \"https://<org>.okta.com\"")
                })?;
            let auth = okta_auth(src, &base, base_dir, &env_secret)?;
            allow.push(AllowRule::new(
                &format!("{}/api/v1/", base.trim_end_matches('/')),
                auth,
            )?);
        }
        "entra-id" => {
            let graph = endpoint("https://graph.microsoft.com")
                .trim_end_matches('/')
                .to_string();
            let auth = entra_auth(src, base_dir, &env_secret)?;
            for prefix in [
                format!("{graph}/v1.0/"),
                format!("{graph}/beta/reports/"),
                format!("{graph}/beta/auditLogs/signIns"),
            ] {
                allow.push(AllowRule::new(&prefix, auth.clone())?);
            }
        }
        "google-workspace" => {
            let api = endpoint("https://admin.googleapis.com")
                .trim_end_matches('/')
                .to_string();
            let auth = google_auth(src, base_dir, &env_secret)?;
            allow.push(AllowRule::new(&format!("{api}/admin/reports/v1/"), auth)?);
        }
        _ => {}
    }
    for a in &src.allow {
        let secret = || -> Result<Secret> {
            let var = a.secret_env.as_deref().with_context(|| {
                format!(
                    "source {name}: allow {:?} with auth {:?} needs secret_env",
                    a.prefix, a.auth
                )
            })?;
            let v = std::env::var(var)
                .with_context(|| format!("source {name}: environment variable {var} (secret_env) is not set"))?;
            Ok(Secret::new(v))
        };
        let auth = match a.auth.as_str() {
            "none" => Auth::None,
            "bearer" => Auth::Authorization {
                scheme: "Bearer".into(),
                secret: secret()?,
            },
            "ssws" => Auth::Authorization {
                scheme: "SSWS".into(),
                secret: secret()?,
            },
            "token" => Auth::Authorization {
                scheme: "token".into(),
                secret: secret()?,
            },
            "aws-sigv4" => Auth::AwsSigV4 {
                service: a
                    .service
                    .clone()
                    .with_context(|| format!("source {name}: aws-sigv4 needs `service`"))?,
                region: aws_region.clone(),
                provider: aws_credentials(src).await,
            },
            h if h.starts_with("header:") => Auth::Header {
                name: http::HeaderName::from_bytes(&h.as_bytes()["header:".len()..])
                    .with_context(|| format!("source {name}: {h:?} is not a valid header name"))?,
                secret: secret()?,
            },
            other => {
                bail!("source {name}: unknown auth {other:?} (none, bearer, ssws, token, header:<name>, aws-sigv4)")
            }
        };
        allow.push(AllowRule::new(&a.prefix, auth).with_context(|| format!("source {name}"))?);
    }
    Ok(Manifest {
        plugin: src.connector.clone(),
        allow,
    })
}

/// How the host authenticates a `github` source (`auth` in its table): `token` (default, from
/// `$GITHUB_TOKEN` or `secret_env`), or `app`: a GitHub App's installation token, minted with
/// octocrab from `app_id`, `installation_id` and the app's private key (`private_key_file`, else
/// the PEM in `$GITHUB_APP_PRIVATE_KEY` or `secret_env`).
fn github_auth(
    src: &SourceConfig,
    api: &str,
    base_dir: &Path,
    env_secret: &dyn Fn(&str) -> Result<Secret>,
) -> Result<Auth> {
    use roster_plugin_host::github_app::GithubAppMinter;
    let name = src.name();
    let number = |k: &str| -> Result<u64> {
        let v = src
            .settings
            .get(k)
            .with_context(|| format!("source {name}: auth = \"app\" needs {k} = <number>"))?;
        v.as_integer()
            .and_then(|n| u64::try_from(n).ok())
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .with_context(|| format!("source {name}: {k} must be a number, not {v:?}"))
    };
    match auth_setting(
        src,
        &[
            ("app_id", "app"),
            ("installation_id", "app"),
            ("private_key_file", "app"),
        ],
    )?
    .as_str()
    {
        "token" => Ok(Auth::Authorization {
            scheme: "Bearer".into(),
            secret: env_secret("GITHUB_TOKEN")?,
        }),
        "app" => {
            let key = private_key(src, base_dir, "GITHUB_APP_PRIVATE_KEY")?;
            let minter = GithubAppMinter::new(api, number("app_id")?, number("installation_id")?, &key)
                .map_err(|e| anyhow::anyhow!("source {name}: {e}"))?;
            Ok(Auth::Minted {
                scheme: "Bearer".into(),
                minter: std::sync::Arc::new(minter),
            })
        }
        other => bail!("source {name}: unknown auth {other:?} for github (token, app)"),
    }
}

/// How the host authenticates an `okta` source (`auth` in its table): `token` (default, an API
/// token from `$OKTA_API_TOKEN` or `secret_env`, sent as `SSWS`), or `oauth`: an API service
/// app's access token, minted with the client-credentials grant and `private_key_jwt`
/// (`client_id`, the key from `private_key_file` or the PEM in `$OKTA_PRIVATE_KEY`, optional
/// `key_id` and `scopes`).
fn okta_auth(
    src: &SourceConfig,
    org_url: &str,
    base_dir: &Path,
    env_secret: &dyn Fn(&str) -> Result<Secret>,
) -> Result<Auth> {
    use roster_plugin_host::okta_oauth::OktaServiceAppMinter;
    let name = src.name();
    let text = |k: &str| src.settings.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    match auth_setting(src, &[("client_id", "oauth"), ("private_key_file", "oauth")])?.as_str() {
        "token" => Ok(Auth::Authorization {
            scheme: "SSWS".into(),
            secret: env_secret("OKTA_API_TOKEN")?,
        }),
        "oauth" => {
            let client_id = text("client_id")
                .with_context(|| format!("source {name}: auth = \"oauth\" needs client_id = \"0oa...\""))?;
            let key = private_key(src, base_dir, "OKTA_PRIVATE_KEY")?;
            let minter = OktaServiceAppMinter::new(org_url, &client_id, &key, text("key_id"), text("scopes"))
                .map_err(|e| anyhow::anyhow!("source {name}: {e}"))?;
            Ok(Auth::Minted {
                scheme: "Bearer".into(),
                minter: std::sync::Arc::new(minter),
            })
        }
        other => bail!("source {name}: unknown auth {other:?} for okta (token, oauth)"),
    }
}

/// How the host authenticates a `google-workspace` source (`auth` in its table): `token`
/// (default, an access token from `$GOOGLE_ACCESS_TOKEN` or `secret_env`, for instance from
/// `gcloud auth print-access-token`), or `service-account`: tokens minted from a service account's
/// JSON key (`credentials_file`, else `$GOOGLE_APPLICATION_CREDENTIALS`) acting, by domain-wide
/// delegation, as the administrator `subject`; `scopes` overrides the Reports read scope.
fn google_auth(src: &SourceConfig, base_dir: &Path, env_secret: &dyn Fn(&str) -> Result<Secret>) -> Result<Auth> {
    use roster_plugin_host::google_sa::GoogleServiceAccountMinter;
    let name = src.name();
    let text = |k: &str| src.settings.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    match auth_setting(
        src,
        &[("credentials_file", "service-account"), ("subject", "service-account")],
    )?
    .as_str()
    {
        "token" => Ok(Auth::Authorization {
            scheme: "Bearer".into(),
            secret: env_secret("GOOGLE_ACCESS_TOKEN")?,
        }),
        "service-account" => {
            let file = match text("credentials_file") {
                Some(f) => base_dir.join(f),
                None => PathBuf::from(std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS").with_context(|| {
                    format!(
                        "source {name}: auth = \"service-account\" needs credentials_file = \"key.json\" (or $GOOGLE_APPLICATION_CREDENTIALS)"
                    )
                })?),
            };
            let key = std::fs::read(&file)
                .with_context(|| format!("source {name}: cannot read the service account key {}", file.display()))?;
            let minter = GoogleServiceAccountMinter::new(&key, text("subject"), text("scopes"))
                .map_err(|e| anyhow::anyhow!("source {name}: {}: {e}", file.display()))?;
            Ok(Auth::Minted {
                scheme: "Bearer".into(),
                minter: std::sync::Arc::new(minter),
            })
        }
        other => bail!("source {name}: unknown auth {other:?} for google-workspace (token, service-account)"),
    }
}

/// The source's `auth` setting, `token` when absent; a setting that only makes sense with
/// another `auth` (`implied`: key and the auth it belongs to) is an error, not silently unused.
fn auth_setting(src: &SourceConfig, implied: &[(&str, &str)]) -> Result<String> {
    let name = src.name();
    match src.settings.get("auth") {
        Some(toml::Value::String(s)) => Ok(s.clone()),
        Some(other) => bail!("source {name}: auth must be a string (for example auth = \"token\"), not {other:?}"),
        None => {
            if let Some((key, auth)) = implied.iter().find(|(k, _)| src.settings.contains_key(*k)) {
                bail!("source {name}: {key} is set but auth is not: add auth = \"{auth}\"");
            }
            Ok("token".into())
        }
    }
}

/// A private key (PEM) from `private_key_file` (relative to roster.toml), else from the
/// environment variable `secret_env` or `default_var`.
fn private_key(src: &SourceConfig, base_dir: &Path, default_var: &str) -> Result<Vec<u8>> {
    let name = src.name();
    match src.settings.get("private_key_file").and_then(|v| v.as_str()) {
        Some(f) => {
            let p = base_dir.join(f);
            std::fs::read(&p).with_context(|| format!("source {name}: cannot read private_key_file {}", p.display()))
        }
        None => {
            let var = src.secret_env.as_deref().unwrap_or(default_var);
            Ok(std::env::var(var)
                .with_context(|| {
                    format!(
                        "source {name}: the private key is read from private_key_file or ${var}, and neither is set"
                    )
                })?
                .into_bytes())
        }
    }
}

/// How the host gets Graph tokens for an `entra-id` source (`auth` in its table):
/// - `token` (default): an access token from `$ENTRA_ACCESS_TOKEN` (or `secret_env`), for
///   instance from `az account get-access-token --resource-type ms-graph`;
/// - `client-secret`: azure_identity's client-secret credential for `tenant_id` and `client_id`,
///   the secret from `$AZURE_CLIENT_SECRET` (or `secret_env`);
/// - `certificate`: a client assertion signed with the app's certificate key (`tenant_id`,
///   `client_id`, the PEM with certificate and key from `private_key_file` or
///   `$AZURE_CLIENT_CERTIFICATE`);
/// - `managed-identity`: the Azure resource's managed identity (`client_id` picks a
///   user-assigned one);
/// - `workload-identity`: federation with a Kubernetes service account token (`tenant_id`,
///   `client_id`, `token_file`, else the `AZURE_*` variables AKS sets).
///
/// `authority_host` (https) points at another cloud; `ca_file` adds a trusted CA (PEM) for the
/// token endpoint.
fn entra_auth(src: &SourceConfig, base: &Path, env_secret: &dyn Fn(&str) -> Result<Secret>) -> Result<Auth> {
    use roster_plugin_host::entra::{EntraCredential, EntraMinter, EntraOptions};
    let name = src.name();
    let text = |k: &str| src.settings.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let need =
        |k: &str, how: &str| text(k).with_context(|| format!("source {name}: auth = \"{how}\" needs {k} = \"...\""));
    let how = auth_setting(
        src,
        &[
            ("tenant_id", "client-secret"),
            (
                "client_id",
                "client-secret\" (or \"managed-identity\", \"workload-identity\")",
            ),
            ("token_file", "workload-identity"),
        ],
    )?;
    let credential = match how.as_str() {
        "token" => {
            return Ok(Auth::Authorization {
                scheme: "Bearer".into(),
                secret: env_secret("ENTRA_ACCESS_TOKEN")?,
            });
        }
        "client-secret" => EntraCredential::ClientSecret {
            tenant_id: need("tenant_id", &how)?,
            client_id: need("client_id", &how)?,
            secret: env_secret("AZURE_CLIENT_SECRET")?,
        },
        "certificate" => EntraCredential::Certificate {
            tenant_id: need("tenant_id", &how)?,
            client_id: need("client_id", &how)?,
            pem: {
                let pem = private_key(src, base, "AZURE_CLIENT_CERTIFICATE")?;
                Secret::new(
                    String::from_utf8(pem)
                        .map_err(|_| anyhow::anyhow!("source {name}: the certificate is not PEM text"))?,
                )
            },
        },
        "managed-identity" => EntraCredential::ManagedIdentity {
            client_id: text("client_id"),
        },
        "workload-identity" => EntraCredential::WorkloadIdentity {
            tenant_id: text("tenant_id"),
            client_id: text("client_id"),
            token_file: text("token_file").map(|f| base.join(f)),
        },
        other => bail!(
            "source {name}: unknown auth {other:?} for entra-id (token, client-secret, certificate, managed-identity, workload-identity)"
        ),
    };
    let extra_ca_pem = match text("ca_file") {
        Some(f) => {
            let p = base.join(&f);
            Some(std::fs::read(&p).with_context(|| format!("source {name}: cannot read ca_file {}", p.display()))?)
        }
        None => None,
    };
    let options = EntraOptions {
        scope: "https://graph.microsoft.com/.default".into(),
        authority_host: text("authority_host"),
        extra_ca_pem,
    };
    let minter = EntraMinter::new(&credential, &options).map_err(|e| anyhow::anyhow!("source {name}: {e}"))?;
    Ok(Auth::Minted {
        scheme: "Bearer".into(),
        minter: std::sync::Arc::new(minter),
    })
}

/// What `collect` gathered, for [`merge_into`].
pub struct Collected {
    identities: Vec<roster_model::Identity>,
    activities: Vec<roster_model::Activity>,
    repositories: Vec<roster_model::Repository>,
    runs: Vec<ConnectorRun>,
}

/// Runs every configured source. A source that cannot start or fails is reported in its
/// `ConnectorRun`; the others go on.
pub fn collect(config_path: &Path, cfg: &Config, state_dir: &Path, progress: bool) -> Result<Collected> {
    let base = config_path.parent().unwrap_or(Path::new(".")).to_path_buf();
    // The audit log and the plugin cache live here: private from the start.
    crate::state::private_dir(state_dir)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .event_interval(4)
        .enable_all()
        .thread_name("roster-connector")
        .build()
        .context("cannot start the connector runtime")?;
    let host = Host::new(Some(state_dir.join("plugin-cache")))?;
    let shown: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();
    let progress_fn: Option<roster_plugin_host::ProgressFn> = progress.then(|| {
        let shown = shown.clone();
        Arc::new(move |source: &str, done: u64, total: Option<u64>, msg: &str| {
            let mut s = shown.lock().unwrap_or_else(|e| e.into_inner());
            let of = total.map(|t| format!("/{t}")).unwrap_or_default();
            s.insert(source.to_string(), format!("{source}: {done}{of} {msg}"));
            let line: Vec<&str> = s.values().map(String::as_str).collect();
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2Kcollecting: {}", line.join(" | "));
            let _ = err.flush();
        }) as roster_plugin_host::ProgressFn
    });

    let mut runs: Vec<ConnectorRun> = vec![];
    let mut jobs = vec![];
    for src in &cfg.sources {
        let failed = |e: anyhow::Error| ConnectorRun {
            source: src.name().to_string(),
            connector: src.connector.clone(),
            status: "failed".into(),
            error: Some(format!("{e:#}")),
            ..Default::default()
        };
        let prepared = (|| -> Result<_> {
            let (path, explicit) = plugin_path(src, &base)?;
            let wasm = std::fs::read(&path).with_context(|| format!("cannot read plugin {}", path.display()))?;
            if explicit && src.sha256.is_none() {
                let sha = roster_plugin_host::sha256_hex(&wasm);
                bail!(
                    "source {}: plugin {} is not pinned; after reviewing it, add sha256 = \"{sha}\" to its [[source]]",
                    src.name(),
                    path.display()
                );
            }
            let plugin = host.load(&src.connector, &wasm, src.sha256.as_deref())?;
            let manifest = rt.block_on(manifest(src, &base))?;
            let mut files = vec![];
            for f in &src.files {
                let p = base.join(&f.path);
                let data =
                    std::fs::read(&p).with_context(|| format!("source {}: cannot read {}", src.name(), p.display()))?;
                files.push(ExportFile {
                    name: f.path.display().to_string(),
                    format: f.format.clone(),
                    data,
                });
            }
            let mut config: Vec<(String, String)> = src
                .settings
                .iter()
                .filter(|(k, _)| !HOST_SETTINGS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), setting_text(v)))
                .collect();
            for (k, v) in [("region", &src.region), ("endpoint_url", &src.endpoint_url)] {
                if let Some(v) = v {
                    config.push((k.to_string(), v.clone()));
                }
            }
            let mut limits = Limits {
                time: Duration::from_secs(src.timeout_secs.unwrap_or(600)),
                memory: src.memory_mib.unwrap_or(256) << 20,
                ..Limits::default()
            };
            if let Some(n) = src.http_retries {
                limits.http.max_retries = n;
            }
            Ok((
                Arc::new(plugin),
                RunRequest {
                    source: src.name().to_string(),
                    connector: src.connector.clone(),
                    config,
                    files,
                    manifest: Arc::new(manifest),
                    limits,
                    progress: progress_fn.clone(),
                },
            ))
        })();
        match prepared {
            Ok(job) => jobs.push(job),
            Err(e) => runs.push(failed(e)),
        }
    }
    let outcomes = rt.block_on(host.run_all(jobs));
    if progress {
        eprint!("\r\x1b[2K");
    }
    let mut identities = vec![];
    let mut activities = vec![];
    let mut repositories = vec![];
    let audit_path = state_dir.join("audit.jsonl");
    let mut audit = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&audit_path)
        .ok();
    for o in outcomes {
        for l in o.logs.iter().filter(|l| matches!(l.level, "warn" | "error")) {
            if std::io::stderr().is_terminal() || l.level == "error" {
                #[allow(clippy::print_stderr, reason = "plugin warnings go to the terminal")]
                {
                    eprintln!("{} [{}]: {}", o.run.source, l.level, l.message);
                }
            }
        }
        if let Some(f) = audit.as_mut() {
            for r in &o.requests {
                let line = serde_json::json!({"source": o.run.source, "connector": o.run.connector, "request": r});
                let _ = writeln!(f, "{line}");
            }
        }
        identities.extend(o.identities);
        activities.extend(o.activities);
        repositories.extend(o.repositories);
        runs.push(o.run);
    }
    Ok(Collected {
        identities,
        activities,
        repositories,
        runs,
    })
}

/// Whether the host may send `source`'s credential to `clone_url`: https (plain http only to a
/// loopback address), on the code host whose API the source reads (`github.com` for
/// `api.github.com`, `acme.ghe.com` for `api.acme.ghe.com`), under the organization's path.
fn clone_url_allowed(api: &url::Url, org: &str, clone_url: &str) -> Result<url::Url, String> {
    let u = url::Url::parse(clone_url).map_err(|e| format!("clone URL {clone_url:?} is not a URL: {e}"))?;
    let loopback = roster_plugin_host::manifest::is_loopback(&u);
    if !(u.scheme() == "https" || (u.scheme() == "http" && loopback)) {
        return Err(format!("clone URL {u} is not https"));
    }
    let same_host = u.host_str() == api.host_str() && u.port_or_known_default() == api.port_or_known_default();
    let api_subdomain = api
        .host_str()
        .and_then(|h| h.strip_prefix("api."))
        .is_some_and(|h| u.host_str() == Some(h) && u.scheme() == "https");
    if !(same_host || api_subdomain) {
        return Err(format!(
            "clone URL {u} is not on the code host of {api}: the credential is not sent there"
        ));
    }
    let org_path = format!("/{}/", org.to_ascii_lowercase());
    if !u.path().to_ascii_lowercase().starts_with(&org_path) || !u.username().is_empty() || u.password().is_some() {
        return Err(format!("clone URL {u} is not a repository of {org}"));
    }
    Ok(u)
}

/// `owner/name` made of safe path segments, for the clone's folder.
fn safe_full_name(full_name: &str) -> Option<&str> {
    let parts: Vec<&str> = full_name.split('/').collect();
    (parts.len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && !p.starts_with('.')
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        }))
    .then_some(full_name)
}

/// The bare clones an earlier run left under `dir` (`<owner>/<name>.git`), by `owner/name`.
fn earlier_clones(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut found = vec![];
    for owner in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        for repo in std::fs::read_dir(owner.path()).into_iter().flatten().flatten() {
            let path = repo.path();
            let (Some(o), Some(r)) = (
                owner.file_name().to_str().map(str::to_owned),
                path.file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_suffix(".git"))
                    .map(str::to_owned),
            ) else {
                continue;
            };
            let full_name = format!("{o}/{r}");
            if path.join("HEAD").is_file() && safe_full_name(&full_name).is_some() {
                found.push((full_name, path));
            }
        }
    }
    found.sort();
    found
}

/// For every source with `scan_repos = true`, fetches the repositories its connector listed
/// (forks and archived ones only with `scan_forks` / `scan_archived`) into bare clones under the
/// state directory, and returns them with their labels (`<source>:<owner/name>`) for the
/// history scan. Each repository's `scan` says what happened to it; one that cannot be fetched
/// is reported and the others go on.
pub fn fetch_repositories(
    config_path: &Path,
    cfg: &Config,
    state_dir: &Path,
    collected: &mut Collected,
    progress: bool,
) -> Result<Vec<(PathBuf, String)>> {
    let base = config_path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let flag = |src: &SourceConfig, k: &str| src.settings.get(k).and_then(toml::Value::as_bool) == Some(true);
    let sources: Vec<&SourceConfig> = cfg.sources.iter().filter(|s| flag(s, "scan_repos")).collect();
    if sources.is_empty() {
        return Ok(vec![]);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the repository fetcher")?;
    let mut out = vec![];
    let clones = state_dir.join("repos");
    for src in sources {
        let name = src.name();
        let listed: Vec<usize> = (0..collected.repositories.len())
            .filter(|&i| collected.repositories[i].source == name)
            .collect();
        // A source that failed, or whose listing failed, listed nothing (the failure is already
        // in the report): the clones from earlier runs are still scanned, so what they held
        // does not vanish.
        let failed = collected
            .runs
            .iter()
            .any(|r| r.source == name && r.status != "complete");
        if listed.is_empty() {
            if failed {
                for (full_name, dest) in earlier_clones(&clones.join(name)) {
                    out.push((dest, format!("{name}:{full_name}")));
                    collected.repositories.push(roster_model::Repository {
                        source: name.to_string(),
                        full_name,
                        clone_url: String::new(),
                        default_branch: None,
                        archived: false,
                        fork: false,
                        private: false,
                        pushed_at: None,
                        scan: Some(
                            "stale: the source did not list its repositories; scanned the clone from an earlier run"
                                .into(),
                        ),
                        attrs: Default::default(),
                    });
                }
            }
            continue;
        }
        let org = src.settings.get("org").and_then(|v| v.as_str()).unwrap_or_default();
        let setup = (|| -> Result<(url::Url, Auth)> {
            let api = url::Url::parse(src.endpoint_url.as_deref().unwrap_or("https://api.github.com"))
                .with_context(|| format!("source {name}: endpoint_url is not a URL"))?;
            let manifest = rt.block_on(manifest(src, &base))?;
            crate::state::private_dir(&clones)?;
            Ok((
                api,
                manifest.allow.first().map(|r| r.auth.clone()).unwrap_or(Auth::None),
            ))
        })();
        let (api, auth) = match setup {
            Ok(s) => s,
            Err(e) => {
                for &i in &listed {
                    collected.repositories[i].scan = Some(format!("failed: {e:#}"));
                }
                continue;
            }
        };
        for (n, &i) in listed.iter().enumerate() {
            let repo = &mut collected.repositories[i];
            if repo.archived && !flag(src, "scan_archived") {
                repo.scan = Some("skipped: archived (set scan_archived = true to scan it)".into());
                continue;
            }
            if repo.fork && !flag(src, "scan_forks") {
                repo.scan = Some("skipped: fork (set scan_forks = true to scan it)".into());
                continue;
            }
            if progress {
                #[allow(clippy::print_stderr, reason = "progress on a terminal")]
                {
                    eprint!(
                        "\r\x1b[2Kfetching repositories of {name}: {}/{} {}",
                        n + 1,
                        listed.len(),
                        repo.full_name
                    );
                }
            }
            let Some(full) = safe_full_name(&repo.full_name) else {
                repo.scan = Some(format!("failed: {:?} is not an owner/name", repo.full_name));
                continue;
            };
            let dest = clones.join(name).join(format!("{full}.git"));
            let fetched = clone_url_allowed(&api, org, &repo.clone_url).and_then(|url| {
                rt.block_on(roster_plugin_host::git_fetch::fetch_repository(
                    &url,
                    &dest,
                    &auth,
                    repo.default_branch.as_deref(),
                    Duration::from_secs(1800),
                ))
            });
            let label = format!("{name}:{}", repo.full_name);
            match fetched {
                Ok(()) => {
                    repo.scan = Some("scanned".into());
                    out.push((dest, label));
                }
                // The copy from an earlier run is still scanned, so its findings do not
                // vanish from the report (and from `roster diff`) over a network error.
                Err(e) if dest.join("HEAD").is_file() => {
                    repo.scan = Some(format!(
                        "stale: could not update ({e}); scanned the copy from an earlier run"
                    ));
                    out.push((dest, label));
                }
                Err(e) => repo.scan = Some(format!("failed: {e}")),
            }
        }
    }
    if progress {
        eprint!("\r\x1b[2K");
    }
    Ok(out)
}

/// Puts collected records into a report; a source that did not complete marks it incomplete.
pub fn merge_into(report: &mut Report, c: Collected) {
    let Collected {
        identities,
        activities,
        repositories,
        runs,
    } = c;
    for r in &repositories {
        let problem = r.scan.as_deref().and_then(|s| {
            s.strip_prefix("failed: ")
                .map(|why| format!("repository {} was not scanned: {why}", r.full_name))
                .or_else(|| {
                    s.strip_prefix("stale: ")
                        .map(|why| format!("repository {}: {why}", r.full_name))
                })
        });
        if let Some(message) = problem {
            report.incomplete = true;
            report.issues.push(roster_model::ScanIssue {
                level: "error".into(),
                source: format!("connector:{}", r.source),
                message,
            });
        }
    }
    report.repositories.extend(repositories);
    report.incomplete |= runs.iter().any(|r| r.status != "complete");
    for r in &runs {
        if let Some(e) = &r.error {
            report.issues.push(roster_model::ScanIssue {
                level: "error".into(),
                source: format!("connector:{}", r.source),
                message: e.clone(),
            });
        }
        for n in &r.notes {
            report.issues.push(roster_model::ScanIssue {
                level: "error".into(),
                source: format!("connector:{}", r.source),
                message: n.clone(),
            });
        }
    }
    report.identities.extend(identities);
    report.activities.extend(activities);
    report.connectors.extend(runs);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_goes_only_to_the_sources_code_host_under_its_org() {
        let api = url::Url::parse("https://api.github.com").unwrap();
        let ok = |api: &url::Url, u: &str| clone_url_allowed(api, "acme", u).is_ok();
        assert!(ok(&api, "https://github.com/acme/app.git"));
        assert!(
            ok(&api, "https://github.com/ACME/app.git"),
            "logins are case-insensitive"
        );
        assert!(!ok(&api, "https://github.com/other/app.git"), "another organization");
        assert!(!ok(&api, "https://gist.github.com/acme/app.git"));
        assert!(!ok(&api, "https://git.example.net/acme/app.git"));
        assert!(!ok(&api, "http://github.com/acme/app.git"), "plain http");
        assert!(
            !ok(&api, "https://x:y@github.com/acme/app.git"),
            "credentials in the URL"
        );
        assert!(!ok(&api, "https://github.com/acme/../other/app.git"));
        // GitHub Enterprise Cloud with data residency, and GitHub Enterprise Server.
        let ghe = url::Url::parse("https://api.acme.ghe.com").unwrap();
        assert!(ok(&ghe, "https://acme.ghe.com/acme/app.git"));
        assert!(!ok(&ghe, "https://evil.ghe.com/acme/app.git"));
        let ghes = url::Url::parse("https://git.acme.internal/api/v3").unwrap();
        assert!(ok(&ghes, "https://git.acme.internal/acme/app.git"));
        assert!(
            !ok(&ghes, "https://git.acme.internal:8443/acme/app.git"),
            "another port"
        );
    }

    #[test]
    fn only_plain_owner_and_name_become_folders() {
        assert_eq!(safe_full_name("acme/app"), Some("acme/app"));
        assert_eq!(safe_full_name("acme/app.js"), Some("acme/app.js"));
        for bad in [
            "acme/..",
            "../app",
            "acme/.git",
            "acme/app/extra",
            "acme",
            "acme/a b",
            "/app",
        ] {
            assert_eq!(safe_full_name(bad), None, "{bad}");
        }
    }
}
