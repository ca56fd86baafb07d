//! Notifications: the `[[notify]]` targets of roster.toml, told after each `roster discover` run
//! what changed since the previous run of the same scope: gaps that are new, worsened (more
//! severe), resolved, or whose acceptance lapsed, keyed by the stable gap id. Nothing is sent
//! when nothing changed that a target's filters let through.
//!
//! - [`config`]: the tables as written, checked before any work, their filters, their secrets.
//! - [`mod@changes`]: the changes between two runs' gaps (pure).
//! - [`webhook`]: a signed JSON POST; [`slack`]: a Block Kit message to an incoming webhook;
//!   [`jira`]: one issue per gap, never two, and comments as it changes.
//! - [`http`]: https only (plain http to loopback), no redirects, a time limit per attempt,
//!   retries with exponential backoff.
//!
//! A delivery never fails the run: [`deliver`] returns one [`Notification`] per target, with its
//! status and, when it failed, why (naming the receiver's host, never a URL path, token or key).

pub mod changes;
pub mod config;
pub mod http;
pub mod jira;
pub mod slack;
pub mod webhook;

pub use changes::{Change, ChangeKind, changes};
pub use config::{Target, TargetConfig, problems, resolve};
use roster_model::{DeliveryStatus, Notification};

/// The run the changes belong to.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// The scope (configuration) whose history the run is in.
    pub scope: String,
    /// The run's number.
    pub run: i64,
    /// The previous run of the scope, compared with; none for its first run.
    pub previous_run: Option<i64>,
    /// When the run started (RFC 3339, UTC).
    pub started: String,
    /// Roster's version.
    pub roster_version: String,
}

/// A unique id for one delivery (the same across its retries): 32 random hex digits.
pub(crate) fn delivery_id() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        // No system randomness: the time still tells deliveries apart.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        b = t.to_be_bytes();
    }
    roster_model::hex(&b)
}

pub(crate) fn user_agent(run: &RunInfo) -> String {
    format!("roster/{}", run.roster_version)
}

/// `text` with every secret of `target` replaced by `[redacted]` (a receiver could echo one).
fn scrub(text: String, target: &Target) -> String {
    target
        .secrets()
        .iter()
        .filter(|s| s.len() >= 4)
        .fold(text, |t, s| t.replace(s.as_str(), "[redacted]"))
}

/// Delivers to one target the changes its filters let through.
async fn deliver_one(
    client: Result<&http::Client, &String>,
    target: &Target,
    run: &RunInfo,
    all: &[Change],
) -> Notification {
    let picked: Vec<&Change> = all.iter().filter(|c| target.filter.matches(c)).collect();
    let mut n = Notification {
        target: target.name.clone(),
        kind: target.kind().to_owned(),
        status: DeliveryStatus::NothingToSend,
        changes: changes::counts(picked.iter().copied()),
        ..Notification::default()
    };
    if picked.is_empty() {
        return n;
    }
    let client = match client {
        Ok(c) => c,
        Err(e) => {
            n.status = DeliveryStatus::Failed;
            n.error = Some(e.clone());
            return n;
        }
    };
    let p = &target.policy;
    let result = match &target.spec {
        config::Spec::Webhook { url, secret } => webhook::send(client, url, secret, p, run, &picked, &mut n.attempts)
            .await
            .map(|_| ()),
        config::Spec::Slack { url, max_gaps } => {
            slack::send(client, url, *max_gaps, p, run, &picked, &mut n.attempts).await
        }
        config::Spec::Jira(spec) => {
            let (done, error) = jira::send(client, spec, p, run, &picked, &mut n.attempts).await;
            n.detail = done;
            error.map_or(Ok(()), Err)
        }
    };
    match result {
        Ok(()) => n.status = DeliveryStatus::Delivered,
        Err(e) => {
            n.status = DeliveryStatus::Failed;
            n.error = Some(scrub(e, target));
        }
    }
    n
}

/// Delivers `changes` to every target at once (each through its filters); one result per
/// target, in their order. Never fails: a failure is in its target's result.
pub async fn deliver(targets: &[Target], run: &RunInfo, changes: &[Change]) -> Vec<Notification> {
    let client = http::Client::new();
    let client = client.as_ref();
    // Concurrently, so that a slow receiver does not hold up the others.
    let jobs: Vec<_> = targets
        .iter()
        .map(|t| Box::pin(deliver_one(client, t, run, changes)))
        .collect();
    join_all(jobs).await
}

/// Polls every future until all are done; their results in order.
async fn join_all<F: std::future::Future + Unpin>(mut futures: Vec<F>) -> Vec<F::Output> {
    let mut results: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, r) in futures.iter_mut().zip(results.iter_mut()) {
            if r.is_none() {
                match std::pin::Pin::new(f).poll(cx) {
                    std::task::Poll::Ready(v) => *r = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    results.into_iter().map(|r| r.expect("every future finished")).collect()
}
