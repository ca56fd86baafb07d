//! Credentials the host holds for its connectors, and the tokens it mints from them: a
//! connector profile's `[[auth]]` entry (see `roster_plugin_host::profile`) and a source's
//! settings become the [`Auth`] the egress attaches to each allowed request. The mechanisms are
//! generic (a bearer token or header from the environment, AWS SigV4 from the SDK's chain) or
//! the identity platforms' own token flows: Entra ID via `azure_identity`, GitHub App
//! installation tokens via octocrab, Okta service apps (client credentials, `private_key_jwt`,
//! DPoP) and Google service accounts (JWT bearer grant with domain-wide delegation).

pub mod aws_org;
pub mod entra;
pub mod github_app;
pub mod google_sa;
mod mint;
pub mod okta_oauth;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_credential_types::provider::SharedCredentialsProvider;
use roster_plugin_host::profile::{AuthSpec, Profile};
use roster_plugin_host::{Auth, Secret};

/// A credential that cannot be set up; the message names the source and what to set.
#[derive(Debug, thiserror::Error)]
#[error("source {source_name}: {reason}")]
pub struct CredentialError {
    /// The configured source.
    pub source_name: String,
    /// What is missing or wrong.
    pub reason: String,
}

/// What a source says about its credential.
pub struct AuthRequest<'a> {
    /// The source's name, for messages.
    pub source: &'a str,
    /// Its settings, as text.
    pub setting: &'a dyn Fn(&str) -> Option<String>,
    /// `secret_env`: the variable holding the secret instead of the profile's.
    pub secret_env: Option<&'a str>,
    /// Where relative paths (key files, CA files) start: the configuration's folder.
    pub base_dir: &'a Path,
    /// The provider's endpoint for this source (token endpoints derive from it).
    pub endpoint: &'a str,
    /// The AWS signing region.
    pub region: &'a str,
    /// The AWS profile (`~/.aws/config`).
    pub aws_profile: Option<&'a str>,
}

impl AuthRequest<'_> {
    fn err(&self, reason: impl Into<String>) -> CredentialError {
        CredentialError {
            source_name: self.source.to_string(),
            reason: reason.into(),
        }
    }

    fn need(&self, key: &str, how: &str) -> Result<String, CredentialError> {
        (self.setting)(key).ok_or_else(|| self.err(format!("auth = \"{how}\" needs {key} = \"...\"")))
    }

    fn secret(&self, spec: &AuthSpec, connector: &str) -> Result<Secret, CredentialError> {
        let var = self
            .secret_env
            .or(spec.secret_env.as_deref())
            .ok_or_else(|| self.err(format!("auth = \"{}\" needs secret_env = \"VARIABLE\"", spec.name)))?;
        std::env::var(var).map(Secret::new).map_err(|_| {
            self.err(format!(
                "the {connector} credential is read from ${var}, which is not set"
            ))
        })
    }

    /// A private key (PEM) from `private_key_file`, else the secret variable.
    fn private_key(&self, spec: &AuthSpec) -> Result<Vec<u8>, CredentialError> {
        match (self.setting)("private_key_file") {
            Some(f) => {
                let p = self.base_dir.join(f);
                std::fs::read(&p).map_err(|e| self.err(format!("cannot read private_key_file {}: {e}", p.display())))
            }
            None => {
                let var = self.secret_env.or(spec.secret_env.as_deref()).unwrap_or("PRIVATE_KEY");
                std::env::var(var).map(String::into_bytes).map_err(|_| {
                    self.err(format!(
                        "the private key is read from private_key_file or ${var}, and neither is set"
                    ))
                })
            }
        }
    }

    fn number(&self, key: &str, how: &str) -> Result<u64, CredentialError> {
        let v = self.need(key, how)?;
        v.parse()
            .map_err(|_| self.err(format!("{key} must be a number, not {v:?}")))
    }
}

/// Which of the profile's ways to authenticate a source uses: its `auth` setting, else the
/// first. A setting that only another way reads is an error naming that way, not silently
/// unused.
pub fn auth_spec<'p>(profile: &'p Profile, req: &AuthRequest<'_>) -> Result<&'p AuthSpec, CredentialError> {
    let chosen = (req.setting)("auth");
    let spec = profile.auth_spec(chosen.as_deref()).map_err(|e| req.err(e))?;
    if chosen.is_none() {
        for other in &profile.auth[1..] {
            if let Some(k) = other
                .settings
                .iter()
                .find(|k| !spec.settings.contains(k) && (req.setting)(k).is_some())
            {
                return Err(req.err(format!("{k} is set but auth is not: add auth = \"{}\"", other.name)));
            }
        }
    }
    Ok(spec)
}

/// The [`Auth`] for `spec`: the secret read or the minter set up, never a request sent.
pub async fn resolve(spec: &AuthSpec, connector: &str, req: &AuthRequest<'_>) -> Result<Auth, CredentialError> {
    let minted = |m: Result<Arc<dyn roster_plugin_host::TokenMinter>, String>| {
        m.map(|minter| Auth::Minted {
            scheme: "Bearer".into(),
            minter,
        })
        .map_err(|e| req.err(e))
    };
    match spec.mechanism.as_str() {
        "none" => Ok(Auth::None),
        "bearer" => Ok(Auth::Authorization {
            scheme: spec.scheme.clone().unwrap_or_else(|| "Bearer".into()),
            secret: req.secret(spec, connector)?,
        }),
        "header" => {
            let name = spec
                .header
                .as_deref()
                .ok_or_else(|| req.err("a header auth names no header"))?;
            Ok(Auth::Header {
                name: http::HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| req.err(format!("{name:?} is not a valid header name")))?,
                secret: req.secret(spec, connector)?,
            })
        }
        "aws-sigv4" => Ok(Auth::AwsSigV4 {
            service: spec
                .service
                .clone()
                .ok_or_else(|| req.err("aws-sigv4 needs a service"))?,
            region: req.region.to_string(),
            provider: aws_credentials(Some(req.region), req.aws_profile).await,
        }),
        "github-app" => {
            let key = req.private_key(spec)?;
            minted(
                github_app::GithubAppMinter::new(
                    req.endpoint,
                    req.number("app_id", &spec.name)?,
                    req.number("installation_id", &spec.name)?,
                    &key,
                )
                .map(|m| Arc::new(m) as _),
            )
        }
        "okta-service-app" => {
            let client_id = req.need("client_id", &spec.name)?;
            let key = req.private_key(spec)?;
            let scopes = (req.setting)("scopes").or_else(|| spec.scope.clone());
            minted(
                okta_oauth::OktaServiceAppMinter::new(req.endpoint, &client_id, &key, (req.setting)("key_id"), scopes)
                    .map(|m| Arc::new(m) as _),
            )
        }
        "google-service-account" => {
            let file = match (req.setting)("credentials_file") {
                Some(f) => req.base_dir.join(f),
                None => PathBuf::from(std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS").ok_or_else(|| {
                    req.err(format!(
                        "auth = \"{}\" needs credentials_file = \"key.json\" (or $GOOGLE_APPLICATION_CREDENTIALS)",
                        spec.name
                    ))
                })?),
            };
            let key = std::fs::read(&file)
                .map_err(|e| req.err(format!("cannot read the service account key {}: {e}", file.display())))?;
            let scopes = (req.setting)("scopes").or_else(|| spec.scope.clone());
            minted(
                google_sa::GoogleServiceAccountMinter::new(&key, (req.setting)("subject"), scopes)
                    .map(|m| Arc::new(m) as _)
                    .map_err(|e| format!("{}: {e}", file.display())),
            )
        }
        "entra" => entra_auth(spec, connector, req).map(|m| Auth::Minted {
            scheme: "Bearer".into(),
            minter: Arc::new(m),
        }),
        other => Err(req.err(format!(
            "the {connector} profile names an unknown auth mechanism {other:?}"
        ))),
    }
}

fn entra_auth(spec: &AuthSpec, connector: &str, req: &AuthRequest<'_>) -> Result<entra::EntraMinter, CredentialError> {
    use entra::{EntraCredential, EntraMinter, EntraOptions};
    let how = spec.name.as_str();
    let text = |k: &str| (req.setting)(k);
    let credential = match spec.credential.as_deref().unwrap_or_default() {
        "client-secret" => EntraCredential::ClientSecret {
            tenant_id: req.need("tenant_id", how)?,
            client_id: req.need("client_id", how)?,
            secret: req.secret(spec, connector)?,
        },
        "certificate" => EntraCredential::Certificate {
            tenant_id: req.need("tenant_id", how)?,
            client_id: req.need("client_id", how)?,
            pem: Secret::new(
                String::from_utf8(req.private_key(spec)?).map_err(|_| req.err("the certificate is not PEM text"))?,
            ),
        },
        "managed-identity" => EntraCredential::ManagedIdentity {
            client_id: text("client_id"),
        },
        "workload-identity" => EntraCredential::WorkloadIdentity {
            tenant_id: text("tenant_id"),
            client_id: text("client_id"),
            token_file: text("token_file").map(|f| req.base_dir.join(f)),
        },
        other => return Err(req.err(format!("unknown Entra credential {other:?} in the {connector} profile"))),
    };
    let extra_ca_pem = match text("ca_file") {
        Some(f) => {
            let p = req.base_dir.join(&f);
            Some(std::fs::read(&p).map_err(|e| req.err(format!("cannot read ca_file {}: {e}", p.display())))?)
        }
        None => None,
    };
    let options = EntraOptions {
        scope: spec.scope.clone().unwrap_or_default(),
        authority_host: text("authority_host"),
        extra_ca_pem,
    };
    EntraMinter::new(&credential, &options).map_err(|e| req.err(e))
}

/// AWS credentials from the SDK's chain (environment, profile, SSO, assume-role, process,
/// instance metadata), on the host's rustls HTTP client.
pub async fn aws_credentials(region: Option<&str>, profile: Option<&str>) -> SharedCredentialsProvider {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(aws_https_client());
    if let Some(r) = region {
        loader = loader.region(aws_config::Region::new(r.to_string()));
    }
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    let conf = loader.load().await;
    conf.credentials_provider().unwrap_or_else(|| {
        SharedCredentialsProvider::new(aws_credential_types::Credentials::new("", "", None, None, "none"))
    })
}

/// The HTTP client of the host's own AWS calls: rustls with ring.
fn aws_https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
        .build_https()
}
