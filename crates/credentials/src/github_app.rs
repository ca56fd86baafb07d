//! GitHub App installation tokens minted by the host with octocrab: the app's private key signs
//! a short JWT (RS256), which is exchanged for an installation access token that lives one hour.
//! The host re-mints it before it expires. The plugin sees neither the key nor the JWT; it gets
//! `Authorization: Bearer <installation token>` on its allowed GitHub requests.

use crate::mint::{MINT_LIMIT, MintCache};
use octocrab::Octocrab;
use octocrab::models::{AppId, InstallationId};
use octocrab::secrecy::ExposeSecret as _;
use roster_plugin_host::manifest::{Secret, TokenMinter};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// Installation tokens last an hour; re-mint after 50 minutes.
const REFRESH_AFTER: Duration = Duration::from_secs(50 * 60);

/// Mints installation tokens for one GitHub App installation.
pub struct GithubAppMinter {
    app: Octocrab,
    installation: u64,
    app_id: u64,
    cache: MintCache,
}

impl GithubAppMinter {
    /// `base` is the API root (`https://api.github.com`, or a GitHub Enterprise Server's
    /// `https://host/api/v3`); `private_key_pem` is the app's key as GitHub issued it.
    pub fn new(base: &str, app_id: u64, installation: u64, private_key_pem: &[u8]) -> Result<GithubAppMinter, String> {
        let url = url::Url::parse(base).map_err(|e| format!("GitHub API base {base:?}: {e}"))?;
        if url.scheme() != "https" && !roster_plugin_host::manifest::is_loopback(&url) {
            return Err(format!(
                "GitHub API base {base:?}: the app's JWT is sent over https only (plain http only to a loopback address)"
            ));
        }
        let key = octocrab::EncodingKey::from_rsa_pem(private_key_pem)
            .map_err(|e| format!("the GitHub App private key is not an RSA key in PEM form: {e}"))?;
        let app = Octocrab::builder()
            .base_uri(base)
            .map_err(|e| format!("GitHub API base {base:?}: {e}"))?
            .app(AppId::from(app_id), key)
            .set_connect_timeout(Some(Duration::from_secs(15)))
            .set_read_timeout(Some(Duration::from_secs(30)))
            .build()
            .map_err(|e| format!("GitHub client: {e}"))?;
        Ok(GithubAppMinter {
            app,
            installation,
            app_id,
            cache: MintCache::default(),
        })
    }
}

impl TokenMinter for GithubAppMinter {
    fn describe(&self) -> String {
        format!(
            "GitHub App {} installation token, installation {}",
            self.app_id, self.installation
        )
    }

    fn token(&self) -> Pin<Box<dyn Future<Output = Result<Secret, String>> + Send + '_>> {
        Box::pin(async move {
            let what = self.describe();
            self.cache
                .get(&what, MINT_LIMIT, || async {
                    let (_, token) = self
                        .app
                        .installation_and_token(InstallationId::from(self.installation))
                        .await
                        .map_err(|e| {
                            format!(
                                "{what} failed: {}; check the app id, the installation id and that the key is the app's",
                                roster_model::error_chain(&e)
                            )
                        })?;
                    Ok((Secret::new(token.expose_secret()), REFRESH_AFTER))
                })
                .await
        })
    }
}
