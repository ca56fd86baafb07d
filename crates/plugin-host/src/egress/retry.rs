//! When a request is tried again, and how long the host waits: the provider's `Retry-After` or
//! rate-limit reset, else exponential backoff.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode};
use wasmtime_wasi_http::Error as HttpError;

pub(super) fn retryable_error(e: &HttpError) -> bool {
    matches!(
        e,
        HttpError::Connect(_)
            | HttpError::ConnectionRefused
            | HttpError::ConnectionTimeout
            | HttpError::ConnectionReadTimeout
            | HttpError::ConnectionTerminated
            | HttpError::Hyper(_)
    )
}

/// 429, 5xx, and a 403 that says the rate limit is spent (GitHub).
pub(super) fn is_throttled(status: StatusCode, headers: &HeaderMap) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
        || (status == StatusCode::FORBIDDEN && header_str(headers, "x-ratelimit-remaining") == Some("0"))
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

pub(super) fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250u64 << attempt.min(8))
}

/// How long the provider asks us to wait: `Retry-After` (seconds), else a rate-limit reset time
/// (`X-Rate-Limit-Reset` for Okta, measured against the response's `Date`; `x-ratelimit-reset`
/// for GitHub), else exponential backoff.
pub(super) fn retry_wait(headers: &HeaderMap, attempt: u32) -> Duration {
    let retry_after = header_str(headers, "retry-after");
    // Seconds (only a finite number: "nan" and "inf" parse as floats too), or an HTTP date.
    if let Some(secs) = retry_after
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|s| s.is_finite())
    {
        return Duration::from_secs_f64(secs.clamp(0.0, 3600.0));
    }
    if let Some(at) = retry_after.and_then(parse_http_date) {
        return Duration::from_secs(at.saturating_sub(now_secs(headers)).min(3600));
    }
    let reset = header_str(headers, "x-rate-limit-reset").or_else(|| header_str(headers, "x-ratelimit-reset"));
    if let Some(reset) = reset.and_then(|r| r.parse::<u64>().ok()) {
        return Duration::from_secs(reset.saturating_sub(now_secs(headers)));
    }
    backoff(attempt)
}

/// The response's `Date`, else this machine's clock, in Unix seconds.
fn now_secs(headers: &HeaderMap) -> u64 {
    header_str(headers, "date")
        .and_then(parse_http_date)
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        })
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) into Unix seconds.
fn parse_http_date(s: &str) -> Option<u64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, day, mon, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = MONTHS.iter().position(|x| x == mon)? + 1;
    let iso = format!("{year}-{m:02}-{day:0>2}T{time}Z");
    roster_model::parse_time(&iso).map(|ms| (ms / 1000) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn retry_waits_follow_the_provider() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_wait(&h, 1), Duration::from_secs(2));
        let mut h = HeaderMap::new();
        h.insert("x-rate-limit-reset", HeaderValue::from_static("784111780"));
        h.insert("date", HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"));
        assert_eq!(retry_wait(&h, 1), Duration::from_secs(3));
        assert_eq!(retry_wait(&HeaderMap::new(), 2), Duration::from_millis(1000));
        for odd in ["nan", "NaN", "inf", "-inf", "1e400", "-5"] {
            let mut h = HeaderMap::new();
            h.insert("retry-after", HeaderValue::from_str(odd).unwrap());
            assert!(retry_wait(&h, 1) <= Duration::from_secs(3600), "{odd}");
        }
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("Sun, 06 Nov 1994 08:49:40 GMT"));
        h.insert("date", HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"));
        assert_eq!(retry_wait(&h, 1), Duration::from_secs(3));
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        assert!(is_throttled(StatusCode::FORBIDDEN, &h));
        assert!(!is_throttled(StatusCode::FORBIDDEN, &HeaderMap::new()));
        assert!(is_throttled(StatusCode::BAD_GATEWAY, &HeaderMap::new()));
    }
}
