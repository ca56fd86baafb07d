//! Okta access tokens for an API service app, minted by the host: the client-credentials grant
//! at the org authorization server (`{org}/oauth2/v1/token`), authenticated with `private_key_jwt`
//! (a short JWT signed with the app's private key), for the `okta.*` read scopes the connector
//! needs. Tokens last an hour; the host re-mints them five minutes before they expire. The plugin
//! sees neither the key nor the assertion; it gets `Authorization: Bearer <token>`.
//!
//! Apps that require DPoP-bound tokens are refused by Okta with `invalid_dpop_proof`; the error
//! says to turn that requirement off for this app, since Roster does not send DPoP proofs yet.

use crate::entra::HostHttp;
use crate::manifest::{Secret, TokenMinter};
use crate::mint::{MINT_LIMIT, MintCache, rs256_assertion, token_answer};
use jsonwebtoken::EncodingKey;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The scopes the okta connector's reads need.
pub const DEFAULT_SCOPES: &str = "okta.apps.read okta.apiTokens.read okta.users.read okta.logs.read";

/// Mints tokens for one Okta API service app.
pub struct OktaServiceAppMinter {
    http: HostHttp,
    token_url: String,
    client_id: String,
    key: EncodingKey,
    key_id: Option<String>,
    scopes: String,
    cache: MintCache,
}

impl OktaServiceAppMinter {
    /// `org_url` is `https://acme.okta.com`; `private_key_pem` the app's RSA key (PKCS#8 or
    /// PKCS#1 PEM); `key_id` the `kid` Okta shows for the app's public key, when it has several.
    pub fn new(
        org_url: &str,
        client_id: &str,
        private_key_pem: &[u8],
        key_id: Option<String>,
        scopes: Option<String>,
    ) -> Result<OktaServiceAppMinter, String> {
        let key = EncodingKey::from_rsa_pem(private_key_pem)
            .map_err(|e| format!("the Okta service app's private key is not an RSA key in PEM form: {e}"))?;
        Ok(OktaServiceAppMinter {
            http: HostHttp::new(None, false)?,
            token_url: format!("{}/oauth2/v1/token", org_url.trim_end_matches('/')),
            client_id: client_id.to_owned(),
            key,
            key_id,
            scopes: scopes.unwrap_or_else(|| DEFAULT_SCOPES.to_owned()),
            cache: MintCache::default(),
        })
    }

    fn assertion(&self) -> Result<String, String> {
        let mut jti = [0u8; 16];
        getrandom::fill(&mut jti).map_err(|e| format!("no system randomness: {e}"))?;
        rs256_assertion(&self.key, self.key_id.clone(), |now| {
            serde_json::json!({
                "iss": self.client_id, "sub": self.client_id, "aud": self.token_url,
                "iat": now, "exp": now + 300,
                "jti": jti.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            })
        })
    }

    async fn mint(&self) -> Result<(Secret, Duration), String> {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("scope", &self.scopes)
            .append_pair(
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            )
            .append_pair("client_assertion", &self.assertion()?)
            .finish();
        let (status, body) = self.http.post_form(&self.token_url, form).await?;
        token_answer("Okta", &self.token_url, status, &body, |code| {
            match code {
                "invalid_dpop_proof" | "use_dpop_nonce" => {
                    "; this app requires DPoP-bound tokens, which Roster does not send yet: turn off \"Require Demonstrating Proof of Possession\" in the app's settings"
                }
                "invalid_client" => {
                    "; check client_id and that the app's public key matches private_key_file (and key_id)"
                }
                "invalid_scope" => "; grant the app these okta.* scopes on its Okta API Scopes tab, or set `scopes`",
                _ => "",
            }
            .to_owned()
        })
    }
}

impl TokenMinter for OktaServiceAppMinter {
    fn describe(&self) -> String {
        format!("Okta token, service app {} (private_key_jwt)", self.client_id)
    }

    fn token(&self) -> Pin<Box<dyn Future<Output = Result<Secret, String>> + Send + '_>> {
        Box::pin(async move {
            let what = self.describe();
            self.cache.get(&what, MINT_LIMIT, || self.mint()).await
        })
    }
}
