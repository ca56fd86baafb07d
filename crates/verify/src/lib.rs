//! Opt-in live validation (`--validate`): for each distinct secret whose built-in rule declares
//! a read-only endpoint (`[rules.verify]`), the host asks the provider whether it works.
//!
//! Requests go through the plugin host's egress ([`roster_plugin_host::host_request`]): an
//! allowlist of exactly the rule's endpoint, the secret attached by the host (a header, or an
//! AWS SigV4 signature with the secret access key paired with the key id), timeouts, size caps,
//! retries on throttling, never a redirect followed, and an audit log entry without the secret.
//! Only built-in rules validate: a user's rules file cannot send secrets anywhere.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use roster_model::{Finding, Severity, Validation, ValidationStats};
use roster_plugin_host::{AllowRule, Auth, HttpLimits, Manifest, RequestLog, RequestLogs, Secret, host_request};
use roster_rules::{Outcome, RuleSet, Verify, VerifyAuth};
use tokio::sync::Semaphore;

/// How validation runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Endpoint overrides: a URL prefix of the rules (`https://api.github.com`) and what
    /// replaces it (a GitHub Enterprise server, a gateway, or a local stand-in in tests).
    pub endpoints: Vec<(String, String)>,
    /// Bounds of each request.
    pub limits: HttpLimits,
    /// Requests in flight at once to one host.
    pub per_host: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            endpoints: vec![],
            limits: HttpLimits {
                timeout: std::time::Duration::from_secs(15),
                max_response_body: 1 << 20,
                max_retries: 2,
                max_retry_wait: std::time::Duration::from_secs(10),
                ..HttpLimits::default()
            },
            per_host: 2,
        }
    }
}

/// What validation did: the counts (also set on the report) and the audit log of its requests.
#[derive(Debug, Default)]
pub struct Validated {
    /// Distinct secrets checked, by answer.
    pub stats: ValidationStats,
    /// Every request, as the egress saw it.
    pub requests: Vec<RequestLog>,
}

/// One distinct secret to check.
struct Job<'r> {
    verify: &'r Verify,
    /// The secret, or the access key id for SigV4.
    secret: String,
    /// SigV4: the secret access key paired with the id.
    paired: Option<String>,
    /// Findings (indices) that get the answer.
    findings: Vec<usize>,
}

/// Asks each provider about the secrets in `findings` (which still hold their raw bytes), sets
/// each finding's `validation` and `validation_detail`, and moves its severity with the answer:
/// a live secret is critical, a refused one at most low.
pub fn validate(findings: &mut [Finding], rules: &RuleSet, opts: &Options) -> Validated {
    let mut out = Validated::default();
    let jobs = jobs(findings, rules, &mut out.stats);
    if jobs.is_empty() {
        return out;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            for j in &jobs {
                apply(
                    findings,
                    j,
                    Validation::Error,
                    format!("no async runtime: {e}"),
                    &mut out.stats,
                );
            }
            return out;
        }
    };
    let log = Arc::new(Mutex::new(RequestLogs::default()));
    let mut hosts: HashMap<String, Arc<Semaphore>> = HashMap::new();
    let answers: Vec<(Validation, String)> = runtime.block_on(async {
        let mut tasks = Vec::new();
        for j in &jobs {
            let url = rewrite(&j.verify.url, &opts.endpoints);
            let host = url::Url::parse(&url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default();
            let gate = hosts
                .entry(host.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(opts.per_host.max(1))))
                .clone();
            let (verify, secret, paired) = (Verify::clone(j.verify), j.secret.clone(), j.paired.clone());
            let (limits, log) = (opts.limits.clone(), log.clone());
            tasks.push(tokio::spawn(async move {
                let _turn = gate.acquire_owned().await;
                ask(&verify, &url, &host, &secret, paired.as_deref(), &limits, &log).await
            }));
        }
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(
                t.await
                    .unwrap_or_else(|e| (Validation::Error, format!("validation task failed: {e}"))),
            );
        }
        answers
    });
    for (j, (v, detail)) in jobs.iter().zip(answers) {
        apply(findings, j, v, detail, &mut out.stats);
    }
    out.requests = log
        .lock()
        .map(|mut l| std::mem::take(&mut l.entries))
        .unwrap_or_default();
    out
}

/// The raw secret as text (headers and signatures need it so).
fn text(f: &Finding) -> Option<&str> {
    f.raw().and_then(|r| std::str::from_utf8(&r.0).ok())
}

/// The distinct secrets that can be checked; counts the others as not checkable.
fn jobs<'r>(findings: &[Finding], rules: &'r RuleSet, stats: &mut ValidationStats) -> Vec<Job<'r>> {
    // Only built-in rules validate: a user's rules file cannot send a secret anywhere.
    let verify_of = |rule_id: &str| {
        rules
            .rule_by_id(rule_id)
            .filter(|r| r.origin.starts_with("builtin:"))
            .and_then(|r| r.verify.as_ref())
    };
    let mut by_fp: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, f) in findings.iter().enumerate() {
        by_fp.entry(f.fingerprint.as_str()).or_default().push(i);
    }
    let mut jobs: Vec<Job<'r>> = Vec::new();
    let mut index: HashMap<(&str, &str, &str), usize> = HashMap::new();
    let mut not_checkable = std::collections::BTreeSet::new();
    for (i, f) in findings.iter().enumerate() {
        let partner = f.paired_with().filter(|p| by_fp.contains_key(p));
        let Some(verify) = verify_of(&f.rule_id) else {
            // The other half of a pair is checked with its partner.
            if partner.is_none_or(|p| verify_of(&findings[by_fp[p][0]].rule_id).is_none()) {
                not_checkable.insert(f.fingerprint.as_str());
            }
            continue;
        };
        // SigV4 signs with the secret access key paired with the key id found.
        let sigv4 = matches!(verify.auth, VerifyAuth::AwsSigV4 { .. });
        let paired = if sigv4 { partner } else { None };
        let paired_secret = paired.and_then(|p| text(&findings[by_fp[p][0]]));
        let (Some(secret), false) = (text(f), sigv4 && paired_secret.is_none()) else {
            not_checkable.insert(f.fingerprint.as_str());
            continue;
        };
        let key = (f.rule_id.as_str(), f.fingerprint.as_str(), paired.unwrap_or_default());
        let at = *index.entry(key).or_insert_with(|| {
            jobs.push(Job {
                verify,
                secret: secret.to_owned(),
                paired: paired_secret.map(str::to_owned),
                // Every finding of the paired secret gets the answer too.
                findings: paired.map(|p| by_fp[p].clone()).unwrap_or_default(),
            });
            jobs.len() - 1
        });
        jobs[at].findings.push(i);
    }
    stats.not_checkable = not_checkable.len() as u64;
    jobs
}

/// Replaces the first matching endpoint prefix.
fn rewrite(url: &str, endpoints: &[(String, String)]) -> String {
    for (from, to) in endpoints {
        if let Some(rest) = url.strip_prefix(from.trim_end_matches('/'))
            && (rest.is_empty() || rest.starts_with('/') || rest.starts_with('?'))
        {
            return format!("{}{rest}", to.trim_end_matches('/'));
        }
    }
    url.to_owned()
}

/// Sends one validation request and reads the answer.
async fn ask(
    v: &Verify,
    url: &str,
    host: &str,
    secret: &str,
    paired: Option<&str>,
    limits: &HttpLimits,
    log: &Mutex<RequestLogs>,
) -> (Validation, String) {
    let auth = match &v.auth {
        VerifyAuth::Authorization(scheme) => Auth::Authorization {
            scheme: scheme.clone(),
            secret: Secret::new(secret),
        },
        VerifyAuth::Header(name) => match http::HeaderName::from_bytes(name.as_bytes()) {
            Ok(name) => Auth::Header {
                name,
                secret: Secret::new(secret),
            },
            Err(_) => {
                return (
                    Validation::Error,
                    format!("verify header {name:?} is not a header name"),
                );
            }
        },
        VerifyAuth::AwsSigV4 { service, region } => Auth::AwsSigV4 {
            service: service.clone(),
            region: region.clone(),
            provider: aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new(
                    secret,
                    paired.unwrap_or_default(),
                    None,
                    None,
                    "roster-validate",
                ),
            ),
        },
    };
    let prefix = url.split(['?', '#']).next().unwrap_or(url);
    let mut rule = match AllowRule::new(prefix, auth) {
        Ok(r) => r,
        Err(e) => return (Validation::Error, format!("endpoint refused: {e}")),
    };
    let method = http::Method::from_bytes(v.method.as_bytes()).unwrap_or(http::Method::GET);
    rule.methods = vec![method.clone()];
    if let VerifyAuth::AwsSigV4 { .. } = v.auth {
        // An AWS API request names its operation: only the one the rule's body names passes.
        let named = url::form_urlencoded::parse(v.body.as_bytes())
            .filter(|(k, _)| k == "Action")
            .map(|(_, a)| a.into_owned());
        rule.actions = Some(named.collect());
    }
    let manifest = Manifest {
        plugin: "validate".into(),
        allow: vec![rule],
    };
    let mut req = http::Request::builder().method(method).uri(url).header(
        "user-agent",
        concat!("roster/", env!("CARGO_PKG_VERSION"), " (--validate)"),
    );
    for (k, val) in &v.headers {
        req = req.header(k.as_str(), val.as_str());
    }
    let req = match req.body(Bytes::from(v.body.clone())) {
        Ok(r) => r,
        Err(e) => return (Validation::Error, format!("cannot build the request: {e}")),
    };
    match host_request(&manifest, limits, log, req).await {
        Err(why) => (Validation::Error, format!("no answer from {host}: {why}")),
        Ok((status, body)) => {
            let s = status.as_u16();
            let answer = if matches(&v.live, s, &body) {
                Validation::Live
            } else if matches(&v.revoked, s, &body) {
                Validation::Revoked
            } else if s == 429 || status.is_server_error() {
                Validation::Error
            } else {
                Validation::Unknown
            };
            (answer, format!("HTTP {s} from {host}"))
        }
    }
}

/// True when the answer has one of the outcome's statuses and its JSON holds the values.
fn matches(o: &Outcome, status: u16, body: &[u8]) -> bool {
    if !o.status.contains(&status) {
        return false;
    }
    if o.json.is_empty() {
        return true;
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return false;
    };
    o.json.iter().all(|(pointer, want)| {
        v.pointer(pointer).is_some_and(|got| {
            let got = match got {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            want.contains(&got)
        })
    })
}

fn apply(findings: &mut [Finding], j: &Job<'_>, v: Validation, detail: String, stats: &mut ValidationStats) {
    stats.checked += 1;
    match v {
        Validation::Live => stats.live += 1,
        Validation::Revoked => stats.revoked += 1,
        Validation::Unknown => stats.unknown += 1,
        Validation::Error => stats.error += 1,
    }
    for &i in &j.findings {
        let f = &mut findings[i];
        let x = f.extra_mut();
        x.validation = Some(v);
        x.validation_detail = Some(detail.clone());
        f.severity = match v {
            Validation::Live => Severity::Critical,
            Validation::Revoked => f.severity.min(Severity::Low),
            _ => f.severity,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_rewritten_by_prefix_only() {
        let e = vec![("https://api.github.com".to_owned(), "http://127.0.0.1:9/gh/".to_owned())];
        assert_eq!(rewrite("https://api.github.com/user", &e), "http://127.0.0.1:9/gh/user");
        assert_eq!(
            rewrite("https://api.github.com.evil.example/user", &e),
            "https://api.github.com.evil.example/user"
        );
        assert_eq!(
            rewrite("https://api.openai.com/v1/models", &e),
            "https://api.openai.com/v1/models"
        );
    }

    #[test]
    fn answers_are_read_by_status_and_json() {
        let o = Outcome {
            status: vec![200],
            json: vec![("/ok".into(), vec!["true".into()])],
        };
        assert!(matches(&o, 200, br#"{"ok":true,"user":"bot"}"#));
        assert!(!matches(&o, 200, br#"{"ok":false,"error":"invalid_auth"}"#));
        assert!(!matches(&o, 200, b"not json"));
        assert!(!matches(&o, 401, br#"{"ok":true}"#));
    }
}
