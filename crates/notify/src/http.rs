//! The notifiers' HTTP client: hyper over rustls, https only (plain http only to a loopback
//! address), no redirects followed, a time limit per attempt, and retries with exponential
//! backoff on a 5xx, a 429 (honouring a short `Retry-After`), a timeout or a connection failure.

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use std::time::Duration;

/// The longest `Retry-After` Roster waits for; a receiver asking for more is given up on.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How a target retries.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// The first retry's wait, doubled for each further one.
    pub backoff: Duration,
    /// The time limit of each attempt (sending and reading the whole answer).
    pub timeout: Duration,
}

/// A whole answer.
#[derive(Debug)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: http::HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl Response {
    /// The start of the body as one line of text, for an error message.
    pub fn snippet(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let one: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(200)
            .collect();
        one.trim().to_owned()
    }
}

/// A URL a notifier may send to: https, or plain http to a loopback address; no user name or
/// password in it. The error names the URL's scheme and host only.
pub fn check_url(u: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(u).map_err(|e| format!("not a URL: {e}"))?;
    let host = host(&url);
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(format!(
                "http://{host}: plain http only to a loopback address; use https"
            ));
        }
        s => return Err(format!("{s}://{host}: https only")),
    }
    if url.host().is_none() {
        return Err("the URL has no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{host}: no user name or password in the URL"));
    }
    Ok(url)
}

/// A loopback address (`localhost`, 127.0.0.0/8, ::1).
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `host[:port]` of a URL: what errors show of a receiver (its path or query may be a secret).
pub fn host(url: &url::Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        (None, _) => "?".into(),
    }
}

/// The client.
#[derive(Clone)]
pub struct Client {
    client: hyper_util::client::legacy::Client<roster_tls::Connector, Full<Bytes>>,
}

/// Why an attempt got no answer.
enum Failure {
    Timeout,
    Other(String),
}

impl Client {
    /// A client trusting the system's roots (Mozilla's when the system has none).
    pub fn new() -> Result<Client, String> {
        let connector = roster_tls::connector(roster_tls::client_config(roster_tls::roots())?);
        Ok(Client {
            client: hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector),
        })
    }

    async fn attempt(&self, req: http::Request<Full<Bytes>>, timeout: Duration) -> Result<Response, Failure> {
        let exchange = async {
            let res = self
                .client
                .request(req)
                .await
                .map_err(|e| Failure::Other(format!("cannot connect: {}", roster_model::error_chain(&e))))?;
            let (parts, body) = res.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| Failure::Other(format!("cannot read the answer: {e}")))?
                .to_bytes();
            Ok(Response {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body,
            })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or(Err(Failure::Timeout))
    }

    /// Sends the request `make` builds until it gets a 2xx answer or gives up: retries after a
    /// 5xx, a 429, a timeout or a connection failure, waiting `backoff`, then twice that, ...
    /// (or a `Retry-After` of at most a minute); never retries another 4xx, never follows a
    /// redirect. `attempts` counts every request sent. The error says `what` failed at which
    /// host, how, and after how many attempts; `describe` words a failed answer.
    pub async fn send(
        &self,
        make: &dyn Fn() -> Result<http::Request<Full<Bytes>>, String>,
        policy: &RetryPolicy,
        attempts: &mut u32,
        what: &str,
        describe: &dyn Fn(&Response) -> String,
    ) -> Result<Response, String> {
        let mut tries = 0u32;
        loop {
            tries += 1;
            match self.once(make()?, policy, attempts, what, describe).await {
                Once::Done(r) => return Ok(r),
                Once::Fail(why) => return Err(format!("{why} (after {tries} attempt(s))")),
                Once::Retry(why, _) if tries > policy.retries => {
                    return Err(format!("{why} (after {tries} attempt(s))"));
                }
                Once::Retry(_, wait) => tokio::time::sleep(wait.unwrap_or_else(|| policy.wait(tries))).await,
            }
        }
    }

    /// One attempt: a 2xx answer, a failure worth retrying (with the wait the receiver asked
    /// for), or one that is not.
    pub async fn once(
        &self,
        req: http::Request<Full<Bytes>>,
        policy: &RetryPolicy,
        attempts: &mut u32,
        what: &str,
        describe: &dyn Fn(&Response) -> String,
    ) -> Once {
        let host = req.uri().authority().map_or("?".into(), ToString::to_string);
        *attempts += 1;
        let at = |why: String| format!("{what} at {host}: {why}");
        match self.attempt(req, policy.timeout).await {
            Ok(r) if (200..300).contains(&r.status) => Once::Done(r),
            Ok(r) if (300..400).contains(&r.status) => Once::Fail(at(format!(
                "{}: redirects are not followed; configure the final URL",
                status_line(r.status)
            ))),
            Ok(r) if r.status == 429 || r.status >= 500 => {
                let why = describe(&r);
                match retry_after(&r.headers) {
                    Some(d) if d > MAX_RETRY_AFTER => Once::Fail(at(format!(
                        "{why}; it asked to retry after {} s, longer than Roster waits ({} s)",
                        d.as_secs(),
                        MAX_RETRY_AFTER.as_secs()
                    ))),
                    wait => Once::Retry(at(why), wait),
                }
            }
            Ok(r) => Once::Fail(at(describe(&r))),
            Err(Failure::Timeout) => {
                Once::Retry(at(format!("no answer within {} s", policy.timeout.as_secs_f32())), None)
            }
            Err(Failure::Other(m)) => Once::Retry(at(m), None),
        }
    }
}

/// How one attempt ended.
pub enum Once {
    /// A 2xx answer.
    Done(Response),
    /// A failure worth retrying, and how long the receiver asked to wait (`Retry-After`).
    Retry(String, Option<Duration>),
    /// A failure retrying does not mend.
    Fail(String),
}

impl RetryPolicy {
    /// The wait before retry number `n` (from 1): `backoff`, then twice that, ...
    pub fn wait(&self, n: u32) -> Duration {
        self.backoff.saturating_mul(1u32 << (n.saturating_sub(1)).min(16))
    }
}

/// `404 Not Found`.
pub fn status_line(status: u16) -> String {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    format!("{status} {reason}").trim_end().to_owned()
}

/// `Retry-After` in seconds (the HTTP-date form is not honoured: the backoff applies).
fn retry_after(h: &http::HeaderMap) -> Option<Duration> {
    let v = h.get(http::header::RETRY_AFTER)?.to_str().ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_https_or_loopback_http_without_credentials() {
        assert!(check_url("https://hooks.example/x?token=1").is_ok());
        assert!(check_url("http://127.0.0.1:8080/hook").is_ok());
        assert!(check_url("http://[::1]:8080/hook").is_ok());
        assert!(check_url("http://localhost/hook").is_ok());
        let e = check_url("http://hooks.example/secret-path").unwrap_err();
        assert!(
            e.contains("plain http only to a loopback") && !e.contains("secret-path"),
            "{e}"
        );
        let e = check_url("https://user:pw@hooks.example/").unwrap_err();
        assert!(e.contains("no user name or password") && !e.contains("pw"), "{e}");
        assert!(check_url("file:///etc/passwd").is_err());
        assert!(check_url("not a url").is_err());
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut h = http::HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(http::header::RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert(
            http::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
    }
}
