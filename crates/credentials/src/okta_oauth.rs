//! Okta access tokens for an API service app, minted by the host: the client-credentials grant
//! at the org authorization server (`{org}/oauth2/v1/token`), authenticated with `private_key_jwt`
//! (a short JWT signed with the app's private key), for the `okta.*` read scopes the connector
//! needs. Tokens last an hour; the host re-mints them five minutes before they expire. The plugin
//! sees neither the key nor the assertion; it gets `Authorization: Bearer <token>`.
//!
//! An app that requires DPoP (RFC 9449; Okta's "Require Demonstrating Proof of Possession")
//! refuses a plain token request with `invalid_dpop_proof`. The minter then binds its tokens to
//! a P-256 key it generates for this run and never stores: the token request carries a DPoP proof
//! (retried once with the `DPoP-Nonce` Okta asks for), and every API request carries
//! `Authorization: DPoP <token>` with a fresh proof for its method and URL, bound to the token
//! (`ath`).

use crate::entra::HostHttp;
use crate::mint::{MINT_LIMIT, MintCache, rs256_assertion, token_answer};
use base64::Engine as _;
use jsonwebtoken::EncodingKey;
use roster_plugin_host::manifest::{Secret, TokenMinter};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// The key DPoP proofs are signed with, and its public JWK.
    dpop_key: p256::ecdsa::SigningKey,
    dpop_jwk: serde_json::Value,
    /// Set once Okta said this app requires DPoP.
    dpop: AtomicBool,
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn random_hex() -> Result<String, String> {
    let mut jti = [0u8; 16];
    getrandom::fill(&mut jti).map_err(|e| format!("no system randomness: {e}"))?;
    Ok(jti.iter().map(|b| format!("{b:02x}")).collect())
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
        let dpop_key = loop {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| format!("no system randomness: {e}"))?;
            if let Ok(k) = p256::ecdsa::SigningKey::from_slice(&seed) {
                break k;
            }
        };
        let point = dpop_key.verifying_key().to_encoded_point(false);
        let dpop_jwk = serde_json::json!({
            "kty": "EC", "crv": "P-256",
            "x": b64(point.x().ok_or("the DPoP key has no x coordinate")?),
            "y": b64(point.y().ok_or("the DPoP key has no y coordinate")?),
        });
        Ok(OktaServiceAppMinter {
            http: HostHttp::new(None, false)?,
            token_url: format!("{}/oauth2/v1/token", org_url.trim_end_matches('/')),
            client_id: client_id.to_owned(),
            key,
            key_id,
            scopes: scopes.unwrap_or_else(|| DEFAULT_SCOPES.to_owned()),
            cache: MintCache::default(),
            dpop_key,
            dpop_jwk,
            dpop: AtomicBool::new(false),
        })
    }

    /// A DPoP proof JWT (RFC 9449 §4.2) for `htm` `htu`, with the server's nonce and the access
    /// token's hash when given.
    fn dpop_proof(&self, htm: &str, htu: &str, nonce: Option<&str>, ath: Option<String>) -> Result<String, String> {
        use p256::ecdsa::signature::Signer as _;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|_| "the system clock is before 1970")?
            .as_secs();
        let header = serde_json::json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.dpop_jwk});
        let mut claims = serde_json::json!({"htm": htm, "htu": htu, "iat": now, "jti": random_hex()?});
        if let Some(n) = nonce {
            claims["nonce"] = n.into();
        }
        if let Some(a) = ath {
            claims["ath"] = a.into();
        }
        let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
        let sig: p256::ecdsa::Signature = self.dpop_key.sign(input.as_bytes());
        Ok(format!("{input}.{}", b64(sig.to_bytes())))
    }

    fn assertion(&self) -> Result<String, String> {
        let jti = random_hex()?;
        rs256_assertion(&self.key, self.key_id.clone(), |now| {
            serde_json::json!({
                "iss": self.client_id, "sub": self.client_id, "aud": self.token_url,
                "iat": now, "exp": now + 300, "jti": jti,
            })
        })
    }

    async fn mint(&self) -> Result<(Secret, Duration), String> {
        let mut nonce: Option<String> = None;
        loop {
            let dpop = self.dpop.load(Ordering::Relaxed);
            let form = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("grant_type", "client_credentials")
                .append_pair("scope", &self.scopes)
                .append_pair(
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                )
                .append_pair("client_assertion", &self.assertion()?)
                .finish();
            let proof = if dpop {
                Some(self.dpop_proof("POST", &self.token_url, nonce.as_deref(), None)?)
            } else {
                None
            };
            let headers: Vec<(&str, &str)> = proof.iter().map(|p| ("dpop", p.as_str())).collect();
            let (status, answer_headers, body) = self.http.post_form_with(&self.token_url, form, &headers).await?;
            let code = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned))
                .unwrap_or_default();
            // The app requires DPoP: bind the tokens to this run's key.
            if status == 400 && !dpop && code == "invalid_dpop_proof" {
                self.dpop.store(true, Ordering::Relaxed);
                continue;
            }
            // Okta asks for its nonce in the proof, once.
            if status == 400
                && dpop
                && code == "use_dpop_nonce"
                && nonce.is_none()
                && let Some(n) = answer_headers.get("dpop-nonce").and_then(|v| v.to_str().ok())
            {
                nonce = Some(n.to_owned());
                continue;
            }
            return token_answer("Okta", &self.token_url, status, &body, |code| {
                match code {
                    "invalid_dpop_proof" | "use_dpop_nonce" => {
                        "; Okta refused Roster's DPoP proof (check this machine's clock)"
                    }
                    "invalid_client" => {
                        "; check client_id and that the app's public key matches private_key_file (and key_id)"
                    }
                    "invalid_scope" => {
                        "; grant the app these okta.* scopes on its Okta API Scopes tab, or set `scopes`"
                    }
                    _ => "",
                }
                .to_owned()
            });
        }
    }
}

impl TokenMinter for OktaServiceAppMinter {
    fn describe(&self) -> String {
        format!("Okta token, service app {} (private_key_jwt)", self.client_id)
    }

    fn proof(&self, method: &str, url: &str, token: &Secret) -> Result<Option<String>, String> {
        if !self.dpop.load(Ordering::Relaxed) {
            return Ok(None);
        }
        use sha2::Digest as _;
        let ath = b64(sha2::Sha256::digest(token.expose().as_bytes()));
        self.dpop_proof(method, url, None, Some(ath)).map(Some)
    }

    fn token(&self) -> Pin<Box<dyn Future<Output = Result<Secret, String>> + Send + '_>> {
        Box::pin(async move {
            let what = self.describe();
            self.cache.get(&what, MINT_LIMIT, || self.mint()).await
        })
    }
}
