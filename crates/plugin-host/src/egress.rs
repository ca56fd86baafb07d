//! The one place every plugin request passes: the manifest's allowlist, credential stripping and
//! injection, timeouts, size caps, retries on throttling, and the audit log.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use tokio::sync::Semaphore;
use url::Url;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use crate::canonical;

mod auth;
mod retry;
use crate::manifest::{AllowRule, Auth, Manifest};
use auth::authenticate;
use retry::{backoff, is_throttled, retry_wait, retryable_error};

/// Bounds on one plugin's HTTP traffic.
#[derive(Clone, Debug)]
pub struct HttpLimits {
    /// Per attempt: connect, first byte and between bytes.
    pub timeout: Duration,
    /// Largest request body a plugin may send.
    pub max_request_body: usize,
    /// Largest response body handed to a plugin.
    pub max_response_body: usize,
    /// Response bytes the host holds for one plugin at once (in flight and not yet read by
    /// it), over all its requests.
    pub max_buffered: usize,
    /// Requests of one plugin in flight at once; more wait their turn.
    pub max_in_flight: usize,
    /// Requests kept in the audit log; more are counted and dropped.
    pub max_logged: usize,
    /// Retries after a 429, a 5xx or a connection failure.
    pub max_retries: u32,
    /// Longest single wait between retries (a longer Retry-After is cut to this).
    pub max_retry_wait: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            max_request_body: 1 << 20,
            max_response_body: 32 << 20,
            max_buffered: 96 << 20,
            max_in_flight: 16,
            max_logged: 10_000,
            max_retries: 4,
            max_retry_wait: Duration::from_secs(60),
        }
    }
}

/// One request as the host saw it: the audit log of a plugin run.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RequestLog {
    /// HTTP method.
    pub method: String,
    /// The URL without its query string.
    pub url: String,
    /// Final status, when a response came.
    pub status: Option<u16>,
    /// `allowed`, `denied` or `failed`.
    pub outcome: String,
    /// Why it was denied or failed.
    pub detail: Option<String>,
    /// How the host authenticated it.
    pub auth: String,
    /// Attempts made (retries included).
    pub attempts: u32,
    /// Wall time in milliseconds.
    pub elapsed_ms: u64,
}

impl RequestLog {
    /// The entry of a request not yet allowed; the URL is logged without its query string.
    fn denied(method: &http::Method, uri: &http::Uri) -> Self {
        let mut shown = uri.clone().into_parts();
        if let Some(pq) = &shown.path_and_query {
            shown.path_and_query = pq.path().parse().ok();
        }
        RequestLog {
            method: method.to_string(),
            url: http::Uri::from_parts(shown).map_or_else(|_| "<invalid>".into(), |u| u.to_string()),
            status: None,
            outcome: "denied".into(),
            detail: None,
            auth: "none".into(),
            attempts: 0,
            elapsed_ms: 0,
        }
    }
}

/// Adds a finished request to the run's log, within its bound.
fn record(log: &Mutex<RequestLogs>, entry: RequestLog, limits: &HttpLimits) {
    if let Ok(mut l) = log.lock() {
        l.total += 1;
        if entry.outcome == "denied" {
            l.denied += 1;
        }
        if l.entries.len() < limits.max_logged {
            l.entries.push(entry);
        } else {
            l.dropped += 1;
        }
    }
}

/// The audit log of one run: the first `max_logged` requests, and counts of all of them.
#[derive(Debug, Default)]
pub struct RequestLogs {
    /// The requests kept, in the order they ended.
    pub entries: Vec<RequestLog>,
    /// Requests made in all.
    pub total: u64,
    /// Requests refused by the manifest.
    pub denied: u64,
    /// Requests not kept because the log was full.
    pub dropped: u64,
}

/// The per-run hook state.
pub(crate) struct Egress {
    pub manifest: Arc<Manifest>,
    pub limits: HttpLimits,
    pub log: Arc<Mutex<RequestLogs>>,
    /// Requests in flight.
    pub in_flight: Arc<Semaphore>,
    /// Response bytes held for this plugin.
    pub buffered: Arc<AtomicUsize>,
}

impl Egress {
    pub fn new(manifest: Arc<Manifest>, limits: HttpLimits, log: Arc<Mutex<RequestLogs>>) -> Self {
        let in_flight = Arc::new(Semaphore::new(limits.max_in_flight.max(1)));
        Self {
            manifest,
            limits,
            log,
            in_flight,
            buffered: Arc::default(),
        }
    }
}

/// Headers a guest may not set: the host owns authentication, signing and the target host.
const STRIPPED: [&str; 11] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "x-goog-api-key",
    "x-amz-security-token",
    "x-amz-date",
    "x-amz-content-sha256",
    "x-amz-user-agent-signature",
    "dpop",
    "host",
];

type BoxFut<T> = Box<dyn Future<Output = T> + Send>;

impl WasiHttpHooks for Egress {
    fn send_request(
        &mut self,
        request: Request<WasiBody>,
        _options: Option<RequestOptions>,
        _fut: BoxFut<Result<(), HttpError>>,
    ) -> BoxFut<Result<(Response<WasiBody>, BoxFut<Result<(), HttpError>>), HttpError>> {
        let manifest = self.manifest.clone();
        let limits = self.limits.clone();
        let log = self.log.clone();
        let in_flight = self.in_flight.clone();
        let buffered = self.buffered.clone();
        Box::new(async move {
            let started = Instant::now();
            let mut entry = RequestLog::denied(request.method(), request.uri());
            let result = match canonical::checked_url(request.uri()) {
                Err(why) => {
                    entry.detail = Some(why);
                    Err(HttpError::HttpRequestDenied)
                }
                Ok(url) => match manifest.check(request.method(), &url) {
                    Err(why) => {
                        entry.detail = Some(why);
                        Err(HttpError::HttpRequestDenied)
                    }
                    Ok(rule) => {
                        entry.auth = rule.auth.describe();
                        // Held until the response body is buffered: a bound on concurrent requests.
                        match in_flight.acquire().await {
                            Ok(_permit) => send(request, url, rule, &limits, &buffered, &mut entry).await,
                            Err(_) => Err(HttpError::InternalError(Some("the plugin run is over".into()))),
                        }
                    }
                },
            };
            entry.elapsed_ms = started.elapsed().as_millis() as u64;
            record(&log, entry, &limits);
            result.map(|res| (res, Box::new(async { Ok(()) }) as BoxFut<Result<(), HttpError>>))
        })
    }
}

/// A request the host makes on its own behalf (checking whether a found key is live), through
/// the same gate as a plugin's: the canonical URL, the manifest's allowlist and methods, the
/// credential attached by the host, timeouts, size caps, retries on throttling, no redirects, and
/// an entry in `log`. Returns the status and the body.
pub async fn host_request(
    manifest: &Manifest,
    limits: &HttpLimits,
    log: &Mutex<RequestLogs>,
    request: Request<Bytes>,
) -> Result<(StatusCode, Bytes), String> {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let mut entry = RequestLog::denied(&parts.method, &parts.uri);
    let buffered = Arc::new(AtomicUsize::new(0));
    let result = match canonical::checked_url(&parts.uri).and_then(|url| {
        let rule = manifest.check(&parts.method, &url)?;
        Ok((url, rule))
    }) {
        Err(why) => {
            entry.detail = Some(why.clone());
            Err(why)
        }
        Ok((url, rule)) => {
            entry.auth = rule.auth.describe();
            match send_bytes(parts, body, url, rule, limits, &buffered, &mut entry).await {
                Ok(res) => {
                    let status = res.status();
                    match res.into_body().collect().await {
                        Ok(b) => Ok((status, b.to_bytes())),
                        Err(e) => Err(format!("response body: {e}")),
                    }
                }
                Err(e) => Err(entry.detail.clone().unwrap_or_else(|| format!("{e:?}"))),
            }
        }
    };
    entry.elapsed_ms = started.elapsed().as_millis() as u64;
    record(log, entry, limits);
    result
}

/// A response body the plugin has not read yet, counted against its buffer budget until dropped.
struct Held {
    body: Full<Bytes>,
    len: usize,
    buffered: Arc<AtomicUsize>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.buffered.fetch_sub(self.len, Ordering::Relaxed);
    }
}

impl http_body::Body for Held {
    type Data = Bytes;
    type Error = HttpError;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, HttpError>>> {
        Pin::new(&mut self.body).poll_frame(cx).map_err(|never| match never {})
    }
    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }
    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// Reads a response body within the per-response cap and the plugin's buffer budget.
async fn buffer<B>(mut body: B, limits: &HttpLimits, buffered: &Arc<AtomicUsize>) -> Result<Held, String>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let mut held = Held {
        body: Full::new(Bytes::new()),
        len: 0,
        buffered: buffered.clone(),
    };
    let mut data = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("response body: {e}"))?;
        let Ok(chunk) = frame.into_data() else { continue };
        if held.len + chunk.len() > limits.max_response_body {
            return Err(format!(
                "response body over the {} byte limit of one response",
                limits.max_response_body
            ));
        }
        let before = buffered.fetch_add(chunk.len(), Ordering::Relaxed);
        held.len += chunk.len();
        if before + chunk.len() > limits.max_buffered {
            return Err(format!(
                "response bodies held for this plugin over the {} byte limit (too many large responses at once)",
                limits.max_buffered
            ));
        }
        data.extend_from_slice(&chunk);
    }
    held.body = Full::new(data.freeze());
    Ok(held)
}

async fn send(
    request: Request<WasiBody>,
    url: Url,
    rule: &AllowRule,
    limits: &HttpLimits,
    buffered: &Arc<AtomicUsize>,
    entry: &mut RequestLog,
) -> Result<Response<WasiBody>, HttpError> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, limits.max_request_body).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            entry.outcome = "failed".into();
            entry.detail = Some(format!("request body over {} bytes", limits.max_request_body));
            return Err(HttpError::HttpRequestBodySize(None));
        }
    };
    send_bytes(parts, body, url, rule, limits, buffered, entry).await
}

/// Sends a checked request whose body is read: the allowed actions, the host's headers and
/// credential, retries on throttling, and the response body within its limits. Redirects are
/// never followed: a 3xx is the answer.
async fn send_bytes(
    parts: http::request::Parts,
    body: Bytes,
    url: Url,
    rule: &AllowRule,
    limits: &HttpLimits,
    buffered: &Arc<AtomicUsize>,
    entry: &mut RequestLog,
) -> Result<Response<WasiBody>, HttpError> {
    let auth = &rule.auth;
    if let Err(why) = rule.check_actions(&url, &parts.headers, &body) {
        entry.detail = Some(why);
        return Err(HttpError::HttpRequestDenied);
    }
    // The request goes to exactly the URL that was checked, with the Host header it names.
    let uri: http::Uri = url.as_str().parse().map_err(|_| HttpError::HttpRequestUriInvalid)?;
    let mut headers = parts.headers.clone();
    for h in STRIPPED {
        headers.remove(h);
    }
    let host = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    headers.insert(
        http::header::HOST,
        HeaderValue::from_str(&host).map_err(|_| HttpError::HttpRequestUriInvalid)?,
    );
    if let Auth::Header { name, .. } = auth {
        headers.remove(name);
    }
    let options = RequestOptions {
        connect_timeout: Some(limits.timeout),
        first_byte_timeout: Some(limits.timeout),
        between_bytes_timeout: Some(limits.timeout),
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        entry.attempts = attempt;
        let mut req = Request::builder()
            .method(parts.method.clone())
            .uri(uri.clone())
            .version(parts.version);
        if let Some(h) = req.headers_mut() {
            *h = headers.clone();
        }
        let mut req = req.body(()).map_err(|_| HttpError::HttpRequestUriInvalid)?;
        if let Err(why) = authenticate(&mut req, auth, &body).await {
            entry.outcome = "failed".into();
            entry.detail = Some(why.clone());
            // The reason names the credential's kind and the provider's error, never a secret.
            return Err(HttpError::InternalError(Some(format!(
                "the host could not authenticate this request: {why}"
            ))));
        }
        let req = req.map(|()| Full::new(body.clone()).map_err(|never| match never {}).boxed_unsync());
        let sent = tokio::time::timeout(
            limits.timeout * 2,
            wasmtime_wasi_http::default_send_request(req, Some(options)),
        )
        .await
        .unwrap_or(Err(HttpError::ConnectionTimeout));
        let retries_left = attempt <= limits.max_retries;
        match sent {
            Ok((res, io)) => {
                tokio::spawn(io);
                let status = res.status();
                entry.status = Some(status.as_u16());
                if retries_left && is_throttled(status, res.headers()) {
                    let wait = retry_wait(res.headers(), attempt).min(limits.max_retry_wait);
                    drop(res);
                    tokio::time::sleep(wait).await;
                    continue;
                }
                let (rparts, rbody) = res.into_parts();
                return match buffer(Box::pin(rbody), limits, buffered).await {
                    Ok(held) => {
                        entry.outcome = "allowed".into();
                        Ok(Response::from_parts(rparts, held.boxed_unsync()))
                    }
                    Err(why) => {
                        entry.outcome = "failed".into();
                        entry.detail = Some(why);
                        Err(HttpError::HttpResponseBodySize(None))
                    }
                };
            }
            Err(e) if retries_left && retryable_error(&e) => {
                tokio::time::sleep(backoff(attempt).min(limits.max_retry_wait)).await;
            }
            Err(e) => {
                entry.outcome = "failed".into();
                entry.detail = Some(format!("{e:?}"));
                return Err(e);
            }
        }
    }
}
