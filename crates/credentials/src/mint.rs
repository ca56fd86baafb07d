//! What every token minter shares: one mint at a time (concurrent plugin requests wait for it
//! rather than each asking the provider), the token kept until it is due for refresh, and a
//! failure remembered for a short while so that queued requests fail at once instead of each
//! running its own round of retries against a token endpoint that is down.

use roster_plugin_host::manifest::Secret;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long a failed mint is remembered.
const FAILURE_TTL: Duration = Duration::from_secs(30);

/// The longest a mint may take (the token endpoints' own retries included).
pub(crate) const MINT_LIMIT: Duration = Duration::from_secs(60);

enum State {
    Empty,
    Token(Secret, Instant),
    Failed(String, Instant),
}

/// A cached token, or the last failure.
pub(crate) struct MintCache(Mutex<State>);

impl Default for MintCache {
    fn default() -> Self {
        MintCache(Mutex::new(State::Empty))
    }
}

impl MintCache {
    /// The cached token if still fresh, else `mint()`'s: `(token, refresh after)`. Minting is
    /// bounded by `limit`.
    pub(crate) async fn get<F, Fut>(&self, what: &str, limit: Duration, mint: F) -> Result<Secret, String>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(Secret, Duration), String>>,
    {
        let mut state = self.0.lock().await;
        let now = Instant::now();
        match &*state {
            State::Token(t, until) if now < *until => return Ok(t.clone()),
            State::Failed(e, until) if now < *until => return Err(e.clone()),
            _ => {}
        }
        let result = match tokio::time::timeout(limit, mint()).await {
            Ok(r) => r,
            Err(_) => Err(format!("{what}: no token after {limit:?}")),
        };
        match result {
            Ok((t, refresh)) => {
                *state = State::Token(t.clone(), Instant::now() + refresh);
                Ok(t)
            }
            Err(e) => {
                *state = State::Failed(e.clone(), Instant::now() + FAILURE_TTL);
                Err(e)
            }
        }
    }
}

/// A JWT assertion signed RS256 with `key` (header `kid` when given); `claims(now)` builds the
/// claims from the current Unix time in seconds.
pub(crate) fn rs256_assertion(
    key: &jsonwebtoken::EncodingKey,
    kid: Option<String>,
    claims: impl FnOnce(u64) -> serde_json::Value,
) -> Result<String, String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| "the system clock is before 1970")?
        .as_secs();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = kid;
    jsonwebtoken::encode(&header, &claims(now), key).map_err(|e| format!("cannot sign the JWT assertion: {e}"))
}

/// An OAuth token endpoint's JSON answer (RFC 6749 §5.1, §5.2): the access token and when to
/// refresh it (five minutes before it expires, at least a minute on), or the error with
/// `hint(error code)` appended.
pub(crate) fn token_answer(
    provider: &str,
    url: &str,
    status: u16,
    body: &[u8],
    hint: impl Fn(&str) -> String,
) -> Result<(Secret, Duration), String> {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    if status != 200 {
        let code = v["error"].as_str().unwrap_or("");
        let why = v["error_description"].as_str().unwrap_or("");
        return Err(format!(
            "{provider} token endpoint {url} answered {status} {code}: {why}{}",
            hint(code)
        ));
    }
    let token = v["access_token"]
        .as_str()
        .ok_or_else(|| format!("{provider} token endpoint {url}: no access_token in the answer"))?;
    let life = Duration::from_secs(v["expires_in"].as_u64().unwrap_or(3600));
    Ok((
        Secret::new(token),
        life.saturating_sub(Duration::from_secs(300))
            .max(Duration::from_secs(60)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn tokens_are_reused_until_due_and_failures_briefly_remembered() {
        let cache = MintCache::default();
        let calls = AtomicU32::new(0);
        let mint = |ok: bool, refresh: Duration| {
            calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if ok {
                    Ok((Secret::new("t"), refresh))
                } else {
                    Err("down".to_string())
                }
            }
        };
        let limit = Duration::from_secs(5);
        assert!(
            cache
                .get("x", limit, || mint(true, Duration::from_secs(60)))
                .await
                .is_ok()
        );
        assert!(
            cache
                .get("x", limit, || mint(true, Duration::from_secs(60)))
                .await
                .is_ok()
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1, "reused");
        let fresh = MintCache::default();
        assert!(fresh.get("x", limit, || mint(false, Duration::ZERO)).await.is_err());
        assert_eq!(
            fresh.get("x", limit, || mint(true, Duration::ZERO)).await.unwrap_err(),
            "down"
        );
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "the failure is remembered, not retried"
        );
        let slow = MintCache::default();
        let e = slow
            .get("slow minter", Duration::from_millis(50), || async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                Ok((Secret::new("late"), Duration::ZERO))
            })
            .await
            .unwrap_err();
        assert_eq!(e, "slow minter: no token after 50ms");
    }
}
