//! Google access tokens for a service account, minted by the host: the JWT bearer grant
//! (RFC 7523) at the key file's `token_uri`, as Google's "Using OAuth 2.0 for Server to Server
//! Applications" describes. With domain-wide delegation the assertion names the Workspace user to
//! act as (`sub`), an administrator who may read the audit reports. Tokens last an hour; the host
//! re-mints them five minutes before they expire. The plugin sees neither the key nor the
//! assertion; it gets `Authorization: Bearer <token>`.

use crate::entra::HostHttp;
use crate::mint::{MINT_LIMIT, MintCache, rs256_assertion, token_answer};
use jsonwebtoken::EncodingKey;
use roster_plugin_host::manifest::{Secret, TokenMinter};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The scope the google-workspace connector needs: read the audit activity reports.
pub const REPORTS_SCOPE: &str = "https://www.googleapis.com/auth/admin.reports.audit.readonly";

/// Mints tokens for one service account.
pub struct GoogleServiceAccountMinter {
    http: HostHttp,
    token_uri: String,
    client_email: String,
    client_id: String,
    key: EncodingKey,
    key_id: Option<String>,
    subject: Option<String>,
    scopes: String,
    cache: MintCache,
}

impl GoogleServiceAccountMinter {
    /// `key_file` is the JSON key Google issues for a service account (`type`
    /// `service_account`, `client_email`, `private_key`, `private_key_id`, `token_uri`);
    /// `subject` the user to act as under domain-wide delegation.
    pub fn new(
        key_file: &[u8],
        subject: Option<String>,
        scopes: Option<String>,
    ) -> Result<GoogleServiceAccountMinter, String> {
        let v: serde_json::Value =
            serde_json::from_slice(key_file).map_err(|e| format!("the service account key file is not JSON: {e}"))?;
        let text = |k: &str| v.get(k).and_then(serde_json::Value::as_str).filter(|s| !s.is_empty());
        match text("type") {
            Some("service_account") => {}
            other => {
                return Err(format!(
                    "the key file is of type {other:?}, not \"service_account\": create a JSON key for a service account (IAM & Admin > Service accounts > Keys)"
                ));
            }
        }
        let need = |k: &str| {
            text(k)
                .map(str::to_owned)
                .ok_or_else(|| format!("the service account key file has no {k}"))
        };
        let key = EncodingKey::from_rsa_pem(need("private_key")?.as_bytes())
            .map_err(|e| format!("the service account key file's private_key is not an RSA key in PEM form: {e}"))?;
        Ok(GoogleServiceAccountMinter {
            http: HostHttp::new(None, false)?,
            token_uri: text("token_uri")
                .unwrap_or("https://oauth2.googleapis.com/token")
                .to_owned(),
            client_email: need("client_email")?,
            client_id: text("client_id").unwrap_or_default().to_owned(),
            key,
            key_id: text("private_key_id").map(str::to_owned),
            subject,
            scopes: scopes.unwrap_or_else(|| REPORTS_SCOPE.to_owned()),
            cache: MintCache::default(),
        })
    }

    fn assertion(&self) -> Result<String, String> {
        rs256_assertion(&self.key, self.key_id.clone(), |now| {
            let mut claims = serde_json::json!({
                "iss": self.client_email, "scope": self.scopes, "aud": self.token_uri,
                "iat": now, "exp": now + 3600,
            });
            if let Some(s) = &self.subject {
                claims["sub"] = s.clone().into();
            }
            claims
        })
    }

    async fn mint(&self) -> Result<(Secret, Duration), String> {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
            .append_pair("assertion", &self.assertion()?)
            .finish();
        let (status, body) = self.http.post_form(&self.token_uri, form).await?;
        token_answer("Google", &self.token_uri, status, &body, |code| {
            match code {
            "unauthorized_client" => format!(
                "; allow client id {} the scopes {} under Security > API controls > Domain-wide delegation in the Admin console",
                if self.client_id.is_empty() { "(the key file's client_id)" } else { &self.client_id },
                self.scopes
            ),
            "invalid_grant" if self.subject.is_none() && self.scopes == REPORTS_SCOPE => {
                "; set subject = \"admin@your-domain\": reading audit reports needs domain-wide delegation to an administrator".into()
            }
            "invalid_grant" if self.subject.is_some() => {
                "; check that subject is an active administrator with the Reports privilege, that the key is not deleted, and this machine's clock".into()
            }
            "invalid_grant" => "; check that the key is not deleted or disabled, and this machine's clock".into(),
            _ => String::new(),
        }
        })
    }
}

impl TokenMinter for GoogleServiceAccountMinter {
    fn describe(&self) -> String {
        match &self.subject {
            Some(s) => format!("Google token, service account {} as {s}", self.client_email),
            None => format!("Google token, service account {}", self.client_email),
        }
    }

    fn token(&self) -> Pin<Box<dyn Future<Output = Result<Secret, String>> + Send + '_>> {
        Box::pin(async move {
            let what = self.describe();
            self.cache.get(&what, MINT_LIMIT, || self.mint()).await
        })
    }
}
