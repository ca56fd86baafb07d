//! `kind = "webhook"`: one JSON POST of the run's changes, signed with HMAC-SHA256 over the exact
//! body bytes (`X-Roster-Signature: sha256=<hex>`).

use crate::RunInfo;
use crate::changes::{Change, counts};
use crate::config::Secret;
use crate::http::{Client, Response, RetryPolicy, status_line};
use bytes::Bytes;
use hmac::{Hmac, Mac as _};
use http_body_util::Full;
use sha2::Sha256;

/// The event name in `X-Roster-Event` and the payload's `event`.
pub const EVENT: &str = "gaps.changed";

/// The payload: the run, the counts, and each change with its gap as the JSON report has it.
pub fn payload(run: &RunInfo, delivery: &str, changes: &[&Change]) -> serde_json::Value {
    serde_json::json!({
        "event": EVENT,
        "delivery": delivery,
        "roster_version": run.roster_version,
        "scope": run.scope,
        "run": run.run,
        "previous_run": run.previous_run,
        "run_started": run.started,
        "counts": counts(changes.iter().copied()),
        "changes": changes,
    })
}

/// `sha256=` and the lowercase hex HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as hmac::Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", roster_model::hex(&mac.finalize().into_bytes()))
}

/// Posts the changes; returns the receiver's answer, or why it failed.
pub async fn send(
    client: &Client,
    url: &Secret,
    secret: &Secret,
    policy: &RetryPolicy,
    run: &RunInfo,
    changes: &[&Change],
    attempts: &mut u32,
) -> Result<Response, String> {
    let delivery = crate::delivery_id();
    let body = Bytes::from(serde_json::to_vec(&payload(run, &delivery, changes)).map_err(|e| e.to_string())?);
    let sig = signature(secret.expose().as_bytes(), &body);
    let make = || {
        http::Request::post(url.expose())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::USER_AGENT, crate::user_agent(run))
            .header("X-Roster-Event", EVENT)
            .header("X-Roster-Delivery", &delivery)
            .header("X-Roster-Signature", &sig)
            .body(Full::new(body.clone()))
            .map_err(|e| format!("cannot build the request: {e}"))
    };
    let describe = |r: &Response| {
        let s = r.snippet();
        if s.is_empty() {
            status_line(r.status)
        } else {
            format!("{}: {s}", status_line(r.status))
        }
    };
    client.send(&make, policy, attempts, "POST", &describe).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_hex() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
