//! Entra ID (Microsoft Graph) access tokens minted by the host with Microsoft's own
//! `azure_identity` credentials: client secret, managed identity and workload identity
//! federation. The plugin sees neither the credential nor how the token was made; it gets
//! `Authorization: Bearer <token>` on its allowed Graph requests. Tokens live about an hour and
//! `azure_identity` caches and refreshes them.
//!
//! `azure_identity` talks HTTP through a client Roster provides ([`HostHttp`], hyper with rustls
//! on the system's roots, plus an extra CA for the token endpoint when the configuration names
//! one), so no second HTTP stack is built. Without `authority_host`, azure_identity reads
//! `AZURE_AUTHORITY_HOST`, then uses the public cloud's.

use crate::mint::{MINT_LIMIT, MintCache};
use azure_core::credentials::{Secret as AzureSecret, TokenCredential};
use azure_core::http::{
    AsyncRawResponse, Body, ClientOptions, ExponentialRetryOptions, HttpClient, Request, RetryOptions, StatusCode,
    Transport, headers::Headers,
};
use azure_identity::{
    ClientAssertion, ClientAssertionCredential, ClientAssertionCredentialOptions, ClientSecretCredential,
    ClientSecretCredentialOptions, ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use roster_model::error_chain;
use roster_plugin_host::manifest::{Secret, TokenMinter};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// Which Entra credential the host uses.
#[derive(Debug, Clone)]
pub enum EntraCredential {
    /// An app registration's client secret.
    ClientSecret {
        /// Directory (tenant) id.
        tenant_id: String,
        /// Application (client) id.
        client_id: String,
        /// The secret.
        secret: Secret,
    },
    /// An app registration's certificate: the host signs a client assertion (PS256, with the
    /// certificate's SHA-256 thumbprint) with its private key, as Microsoft documents for
    /// certificate credentials.
    Certificate {
        /// Directory (tenant) id.
        tenant_id: String,
        /// Application (client) id.
        client_id: String,
        /// PEM holding the certificate and its private key (PKCS#8 or PKCS#1 RSA).
        pem: Secret,
    },
    /// The managed identity of the Azure resource Roster runs on (system-assigned, or the
    /// user-assigned one with this client id).
    ManagedIdentity {
        /// A user-assigned identity's client id.
        client_id: Option<String>,
    },
    /// Workload identity federation: a Kubernetes service account token exchanged for an Entra
    /// token (AKS and the like). Unset fields come from `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and
    /// `AZURE_FEDERATED_TOKEN_FILE`.
    WorkloadIdentity {
        /// Directory (tenant) id.
        tenant_id: Option<String>,
        /// Application (client) id.
        client_id: Option<String>,
        /// The federated token file.
        token_file: Option<PathBuf>,
    },
}

/// Where and how tokens are requested.
#[derive(Debug, Clone)]
pub struct EntraOptions {
    /// The scope asked for (`https://graph.microsoft.com/.default`).
    pub scope: String,
    /// The authority host (`https://login.microsoftonline.com` by default; sovereign clouds and
    /// tests set it). Must be https.
    pub authority_host: Option<String>,
    /// PEM certificates to trust besides the system's roots.
    pub extra_ca_pem: Option<Vec<u8>>,
}

/// Mints Entra tokens for one source.
pub struct EntraMinter {
    credential: Arc<dyn TokenCredential>,
    scope: String,
    what: String,
    /// What went wrong on the last token request, which azure_identity's own error (after its
    /// retries) does not say.
    last_error: Arc<std::sync::Mutex<Option<String>>>,
    cache: MintCache,
}

impl EntraMinter {
    /// Builds the credential. Errors name what is wrong with the configuration.
    pub fn new(credential: &EntraCredential, options: &EntraOptions) -> Result<EntraMinter, String> {
        // Managed identity is reached over plain http at the instance metadata address (or a
        // local App Service endpoint); nothing else may be.
        let metadata = matches!(credential, EntraCredential::ManagedIdentity { .. });
        let http = HostHttp::new(options.extra_ca_pem.as_deref(), metadata)?;
        let last_error = Arc::clone(&http.last_error);
        let mut client = ClientOptions {
            transport: Some(Transport::new(Arc::new(http))),
            // A few quick retries: a token endpoint that keeps failing should fail the source in
            // seconds, not minutes.
            retry: RetryOptions::exponential(ExponentialRetryOptions {
                initial_delay: azure_core::time::Duration::milliseconds(200),
                max_retries: 3,
                max_total_elapsed: azure_core::time::Duration::seconds(20),
                max_delay: azure_core::time::Duration::seconds(5),
            }),
            ..ClientOptions::default()
        };
        if let Some(host) = &options.authority_host {
            let mut custom = azure_core::cloud::CustomConfiguration::default();
            custom.authority_host = host.clone();
            client.cloud = Some(Arc::new(custom.into()));
        }
        let failed = |e: azure_core::Error| format!("Entra ID credential: {e}");
        let (credential, what): (Arc<dyn TokenCredential>, String) = match credential {
            EntraCredential::ClientSecret {
                tenant_id,
                client_id,
                secret,
            } => (
                ClientSecretCredential::new(
                    tenant_id,
                    client_id.clone(),
                    AzureSecret::new(secret.expose().to_owned()),
                    Some(ClientSecretCredentialOptions { client_options: client }),
                )
                .map_err(failed)?,
                format!("Entra ID token, client secret of app {client_id}"),
            ),
            EntraCredential::Certificate {
                tenant_id,
                client_id,
                pem,
            } => {
                let authority = options
                    .authority_host
                    .clone()
                    .or_else(|| std::env::var("AZURE_AUTHORITY_HOST").ok())
                    .unwrap_or_else(|| "https://login.microsoftonline.com".into());
                let assertion = CertificateAssertion::new(
                    client_id,
                    format!("{}/{tenant_id}/oauth2/v2.0/token", authority.trim_end_matches('/')),
                    pem.expose().as_bytes(),
                )?;
                let thumbprint = assertion.thumbprint.clone();
                (
                    ClientAssertionCredential::new(
                        tenant_id.clone(),
                        client_id.clone(),
                        assertion,
                        Some(ClientAssertionCredentialOptions { client_options: client }),
                    )
                    .map_err(failed)?,
                    format!("Entra ID token, certificate {thumbprint} of app {client_id}"),
                )
            }
            EntraCredential::ManagedIdentity { client_id } => (
                ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                    user_assigned_id: client_id.clone().map(UserAssignedId::ClientId),
                    client_options: client,
                }))
                .map_err(failed)?,
                match client_id {
                    Some(id) => format!("Entra ID token, managed identity {id}"),
                    None => "Entra ID token, system-assigned managed identity".into(),
                },
            ),
            EntraCredential::WorkloadIdentity {
                tenant_id,
                client_id,
                token_file,
            } => {
                let mut o = WorkloadIdentityCredentialOptions {
                    client_id: client_id.clone(),
                    tenant_id: tenant_id.clone(),
                    token_file_path: token_file.clone(),
                    ..WorkloadIdentityCredentialOptions::default()
                };
                o.credential_options.client_options = client;
                (
                    WorkloadIdentityCredential::new(Some(o)).map_err(failed)?,
                    "Entra ID token, workload identity federation".into(),
                )
            }
        };
        Ok(EntraMinter {
            credential,
            scope: options.scope.clone(),
            what,
            last_error,
            cache: MintCache::default(),
        })
    }
}

impl TokenMinter for EntraMinter {
    fn describe(&self) -> String {
        self.what.clone()
    }

    fn token(&self) -> Pin<Box<dyn Future<Output = Result<Secret, String>> + Send + '_>> {
        Box::pin(async move {
            self.cache
                .get(&self.what, MINT_LIMIT, || async {
                    if let Ok(mut last) = self.last_error.lock() {
                        *last = None;
                    }
                    let t = self
                        .credential
                        .get_token(&[self.scope.as_str()], None)
                        .await
                        .map_err(|e| {
                            let last = self.last_error.lock().ok().and_then(|l| l.clone());
                            let e = e.to_string().replace('\n', " ");
                            match last {
                                Some(l) => format!("{} failed: {e} (last attempt: {l})", self.what),
                                None => format!("{} failed: {e}", self.what),
                            }
                        })?;
                    // Refresh five minutes before it expires (azure_identity caches it too).
                    let left = (t.expires_on - azure_core::time::OffsetDateTime::now_utc()).whole_seconds();
                    let refresh = Duration::from_secs(u64::try_from(left - 300).unwrap_or(0));
                    Ok((Secret::new(t.token.secret()), refresh))
                })
                .await
        })
    }
}

/// Signs client assertions with an app's certificate key.
struct CertificateAssertion {
    client_id: String,
    audience: String,
    key: jsonwebtoken::EncodingKey,
    /// Base64url SHA-256 of the certificate's DER (`x5t#S256`).
    thumbprint: String,
}

impl std::fmt::Debug for CertificateAssertion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CertificateAssertion({}, <key redacted>)", self.thumbprint)
    }
}

impl CertificateAssertion {
    fn new(client_id: &str, audience: String, pem: &[u8]) -> Result<CertificateAssertion, String> {
        use rustls::pki_types::{CertificateDer, pem::PemObject as _};
        use sha2::Digest as _;
        let cert = CertificateDer::pem_slice_iter(pem)
            .next()
            .ok_or("the certificate file holds no CERTIFICATE block")?
            .map_err(|e| format!("the certificate file: {e}"))?;
        let text = std::str::from_utf8(pem).map_err(|_| "the certificate file is not PEM text")?;
        // The private key block on its own (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`).
        let key_pem = ["PRIVATE KEY", "RSA PRIVATE KEY"]
            .iter()
            .find_map(|label| {
                let begin = text.find(&format!("-----BEGIN {label}-----"))?;
                let end_marker = format!("-----END {label}-----");
                let end = text[begin..].find(&end_marker)? + begin + end_marker.len();
                Some(&text[begin..end])
            })
            .ok_or("the certificate file holds no private key block (PRIVATE KEY or RSA PRIVATE KEY)")?;
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(key_pem.as_bytes())
            .map_err(|e| format!("the certificate's private key is not an RSA key: {e}"))?;
        let thumbprint = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            sha2::Sha256::digest(cert.as_ref()),
        );
        Ok(CertificateAssertion {
            client_id: client_id.to_owned(),
            audience,
            key,
            thumbprint,
        })
    }
}

#[async_trait::async_trait]
impl ClientAssertion for CertificateAssertion {
    async fn secret(&self, _options: Option<azure_core::http::ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        use azure_core::error::{Error, ErrorKind};
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| Error::with_error(ErrorKind::Other, e, "the system clock is before 1970"))?
            .as_secs();
        let mut jti = [0u8; 16];
        getrandom::fill(&mut jti).map_err(|e| Error::with_message(ErrorKind::Other, format!("no randomness: {e}")))?;
        let claims = serde_json::json!({
            "aud": self.audience, "iss": self.client_id, "sub": self.client_id,
            "jti": jti.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "nbf": now, "iat": now, "exp": now + 600,
        });
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::PS256);
        header.x5t_s256 = Some(self.thumbprint.clone());
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| Error::with_message(ErrorKind::Credential, format!("cannot sign the client assertion: {e}")))
    }
}

/// Why a round trip failed: the connection (azure_identity retries it as such) or the exchange.
enum Failure {
    Connect(String),
    Io(String),
}

impl Failure {
    fn into_message(self) -> String {
        match self {
            Failure::Connect(m) | Failure::Io(m) => m,
        }
    }
}

/// The host's own HTTP client for token endpoints (azure_identity's, Okta's): hyper over rustls
/// (ring), trusting the system's roots (Mozilla's when the system has none) plus an optional
/// extra CA; https only, except plain http to a loopback address (local test stand-ins).
#[derive(Clone)]
pub struct HostHttp {
    client: hyper_util::client::legacy::Client<roster_tls::Connector, Full<Bytes>>,
    last_error: Arc<std::sync::Mutex<Option<String>>>,
    /// Plain http to the instance metadata address is allowed (managed identity).
    metadata: bool,
}

impl std::fmt::Debug for HostHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HostHttp")
    }
}

impl HostHttp {
    /// A client trusting the system's roots plus the certificates in `extra_ca_pem`; `metadata`
    /// allows plain http to the cloud instance metadata address (managed identity only).
    pub fn new(extra_ca_pem: Option<&[u8]>, metadata: bool) -> Result<HostHttp, String> {
        use rustls::pki_types::{CertificateDer, pem::PemObject as _};
        let mut roots = roster_tls::roots();
        if let Some(pem) = extra_ca_pem {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
                .collect::<Result<_, _>>()
                .map_err(|e| format!("the CA file is not PEM certificates: {e}"))?;
            if certs.is_empty() {
                return Err("the CA file holds no PEM certificate".into());
            }
            for c in certs {
                roots
                    .add(c)
                    .map_err(|e| format!("the CA file holds a certificate rustls cannot use: {e}"))?;
            }
        }
        let connector = roster_tls::connector(roster_tls::client_config(roots)?);
        let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
        Ok(HostHttp {
            client,
            last_error: Arc::default(),
            metadata,
        })
    }
}

#[async_trait::async_trait]
impl HttpClient for HostHttp {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let res = self.send(request).await;
        let failure = match &res {
            Err(e) => Some(e.to_string()),
            Ok(r) if u16::from(r.status()) >= 400 => Some(format!("{} {}", request.url(), u16::from(r.status()))),
            Ok(_) => None,
        };
        if let (Some(f), Ok(mut last)) = (failure, self.last_error.lock()) {
            *last = Some(f);
        }
        res
    }
}

/// Plain http is for a loopback address only, and for the instance metadata address when
/// `metadata` is set.
fn check_scheme(url: &url::Url, metadata: bool) -> Result<(), String> {
    let imds = url.host() == Some(url::Host::Ipv4(std::net::Ipv4Addr::new(169, 254, 169, 254)));
    match url.scheme() {
        "https" => Ok(()),
        "http" if roster_plugin_host::manifest::is_loopback(url) || (metadata && imds) => Ok(()),
        s => Err(format!(
            "{url}: the host sends credentials over https only (not {s}), except to a loopback address"
        )),
    }
}

impl HostHttp {
    /// POSTs a form (`application/x-www-form-urlencoded`); returns the status and body.
    pub async fn post_form(&self, url: &str, form: String) -> Result<(u16, Bytes), String> {
        let (status, _, body) = self.post_form_with(url, form, &[]).await?;
        Ok((status, body))
    }

    /// POSTs a form with extra headers; returns the status, the answer's headers and its body.
    pub async fn post_form_with(
        &self,
        url: &str,
        form: String,
        headers: &[(&str, &str)],
    ) -> Result<(u16, http::HeaderMap, Bytes), String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
        check_scheme(&parsed, self.metadata)?;
        let mut req = http::Request::post(url)
            .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(http::header::ACCEPT, "application/json");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req
            .body(Full::new(Bytes::from(form)))
            .map_err(|e| format!("{url}: {e}"))?;
        let (parts, body) = self.roundtrip(req, url).await.map_err(Failure::into_message)?;
        Ok((parts.status.as_u16(), parts.headers, body))
    }

    /// Sends `req` and reads the whole answer, each step bounded at 30 s.
    async fn roundtrip(
        &self,
        req: http::Request<Full<Bytes>>,
        url: &str,
    ) -> Result<(http::response::Parts, Bytes), Failure> {
        let res = tokio::time::timeout(Duration::from_secs(30), self.client.request(req))
            .await
            .map_err(|_| Failure::Io(format!("{url} did not answer in 30 s")))?
            .map_err(|e| Failure::Connect(format!("cannot reach {url}: {}", error_chain(&e))))?;
        let (parts, body) = res.into_parts();
        let body = tokio::time::timeout(Duration::from_secs(30), body.collect())
            .await
            .map_err(|_| Failure::Io(format!("{url}: the answer did not arrive in 30 s")))?
            .map_err(|e| Failure::Io(format!("{url}: cannot read the answer: {e}")))?
            .to_bytes();
        Ok((parts, body))
    }

    async fn send(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        use azure_core::error::{Error, ErrorKind};
        let body = match request.body() {
            Body::Bytes(b) => b.clone(),
            #[allow(unreachable_patterns, reason = "streams exist only on some targets")]
            _ => {
                return Err(Error::with_message(
                    ErrorKind::Other,
                    "streamed request bodies are not supported by Roster's HTTP client",
                ));
            }
        };
        check_scheme(request.url(), self.metadata).map_err(|e| Error::with_message(ErrorKind::Other, e))?;
        let mut builder = http::Request::builder()
            .method(request.method().as_str())
            .uri(request.url().as_str());
        for (name, value) in request.headers().iter() {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let req = builder
            .body(Full::new(body))
            .map_err(|e| Error::with_error(ErrorKind::Other, e, "cannot build the HTTP request"))?;
        let (parts, body) = self.roundtrip(req, request.url().as_str()).await.map_err(|f| match f {
            Failure::Connect(m) => Error::with_message(ErrorKind::Connection, m),
            Failure::Io(m) => Error::with_message(ErrorKind::Io, m),
        })?;
        let status = parts.status.as_u16();
        let mut headers = Headers::new();
        for (k, v) in &parts.headers {
            if let Ok(v) = v.to_str() {
                headers.insert(k.as_str().to_owned(), v.to_owned());
            }
        }
        Ok(AsyncRawResponse::from_bytes(StatusCode::from(status), headers, body))
    }
}
