//! `kind = "jira"`: one issue per gap, labelled with the gap's id, and never two. Before creating
//! one, Roster searches for the label with JQL (Cloud: `GET /rest/api/3/search/jql`; Data
//! Center and Server: `GET /rest/api/2/search`); issues and comments are created with the v2
//! API both accept (`POST /rest/api/2/issue`, `POST /rest/api/2/issue/{key}/comment`), whose
//! text is wiki markup: everything from outside goes into a `{noformat}` block.
//!
//! A new gap gets an issue (or, if one exists, a comment that it is back); a worsened gap or a
//! lapsed acceptance gets a comment on its issue (an issue is created if there is none); a
//! resolved gap gets a comment on its issue, if it has one.

use crate::RunInfo;
use crate::changes::{Change, ChangeKind};
use crate::config::{Flavour, JiraAuth, JiraSpec};
use crate::http::{Client, Once, Response, RetryPolicy, status_line};
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::Full;
use roster_model::Gap;
use std::fmt::Write as _;

/// The label every issue Roster creates carries, beside its gap's.
pub const ROSTER_LABEL: &str = "roster";

/// A gap's label: its id (`gap-` and 16 hex digits), with anything a Jira label cannot hold
/// (spaces, and to be safe anything but letters, digits, `-`, `_` and `.`) turned into `-`.
pub fn label(gap_id: &str) -> String {
    gap_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Text from outside, made literal inside a `{noformat}` block (which only its own closing
/// tag can end).
fn literal(s: &str) -> String {
    let mut out = s.to_owned();
    while let Some(i) = out.to_ascii_lowercase().find("{noformat") {
        out.replace_range(i..i + 1, "(");
    }
    out
}

/// The summary: plain text, one line, at most 255 characters.
fn summary(g: &Gap) -> String {
    let s = format!("[Roster] {}: {}", g.severity, g.title);
    let one: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if one.chars().count() <= 255 {
        one
    } else {
        one.chars().take(254).collect::<String>() + "…"
    }
}

/// The gap's facts, for a description or a comment.
fn facts(g: &Gap) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Title: {}", g.title);
    let _ = writeln!(s, "Gap id: {}", g.id);
    let _ = writeln!(s, "Kind: {}", g.kind);
    let _ = writeln!(s, "Severity: {}", g.severity);
    match &g.owner {
        Some(o) => {
            let _ = writeln!(
                s,
                "Owner: {} (via {}{})",
                o.name,
                o.via,
                if o.attested { "" } else { "; inferred, to confirm" }
            );
        }
        None => s.push_str("Owner: none (no accountable owner)\n"),
    }
    if let Some(a) = &g.accepted {
        let _ = writeln!(
            s,
            "Accepted: {}{}",
            a.reason,
            a.until.as_deref().map(|u| format!(" (until {u})")).unwrap_or_default()
        );
    }
    s.push_str("\nEvidence:\n");
    for e in &g.said {
        let _ = writeln!(s, "- [{}] {}", e.source, e.detail);
    }
    let _ = writeln!(s, "\nRemediation: {}", g.remediation);
    if !g.standards.is_empty() {
        let _ = writeln!(s, "Controls: {}", g.standards.join(", "));
    }
    s
}

fn block(lead: &str, g: &Gap) -> String {
    format!("{lead}\n\n{{noformat}}\n{}{{noformat}}\n", literal(&facts(g)))
}

fn run_words(run: &RunInfo) -> String {
    format!("run {} of scope {}", run.run, literal(&run.scope))
}

/// What to say in a comment about `c` on an issue that already exists.
fn comment(c: &Change, run: &RunInfo) -> String {
    let r = run_words(run);
    let lead = match c.change {
        ChangeKind::New => format!("Roster reports this gap again: it is new in {r}."),
        ChangeKind::Worsened => format!(
            "This gap became more severe in {r}: {} → {}.",
            c.previous_severity.map(|s| s.as_str()).unwrap_or("?"),
            c.gap.severity
        ),
        ChangeKind::Lapsed => {
            let was = c.previous_acceptance.as_ref().map_or(String::new(), |a| {
                format!(
                    " (\"{}\"{})",
                    literal(&a.reason).replace(['{', '}'], ""),
                    a.until.as_deref().map(|u| format!(", until {u}")).unwrap_or_default()
                )
            });
            format!("The acceptance of this gap{was} is no longer in force in {r}: decide again.")
        }
        ChangeKind::Resolved => {
            return format!(
                "Roster no longer finds this gap: resolved in {r} (last seen in run {}).\n",
                run.previous_run.map_or("?".into(), |p| p.to_string())
            );
        }
    };
    block(&lead, &c.gap)
}

/// A Jira site and the client to reach it.
struct Site<'a> {
    client: &'a Client,
    spec: &'a JiraSpec,
    policy: &'a RetryPolicy,
    run: &'a RunInfo,
    auth: String,
}

fn describe(r: &Response) -> String {
    // Jira's errors: {"errorMessages": [...], "errors": {"field": "message"}}.
    let said = serde_json::from_slice::<serde_json::Value>(&r.body)
        .ok()
        .map(|v| {
            let mut m: Vec<String> = v["errorMessages"]
                .as_array()
                .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            if let Some(o) = v["errors"].as_object() {
                m.extend(o.iter().map(|(k, x)| format!("{k}: {}", x.as_str().unwrap_or(""))));
            }
            m.join("; ")
        })
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| r.snippet());
    let hint = match r.status {
        401 => " (check the e-mail and token)",
        403 => " (the account lacks a permission: Browse projects, Create issues, Add comments)",
        _ => "",
    };
    let said: String = said.chars().take(300).collect();
    if said.is_empty() {
        format!("{}{hint}", status_line(r.status))
    } else {
        format!("{}: {said}{hint}", status_line(r.status))
    }
}

impl Site<'_> {
    fn url(&self, path: &str) -> url::Url {
        let mut base = self.spec.base.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        base.join(path).expect("a relative path joins")
    }

    fn request(
        &self,
        method: http::Method,
        url: &url::Url,
        body: Option<&Bytes>,
    ) -> Result<http::Request<Full<Bytes>>, String> {
        let mut b = http::Request::builder()
            .method(method)
            .uri(url.as_str())
            .header(http::header::ACCEPT, "application/json")
            .header(http::header::AUTHORIZATION, &self.auth)
            .header(http::header::USER_AGENT, crate::user_agent(self.run));
        if body.is_some() {
            b = b.header(http::header::CONTENT_TYPE, "application/json");
        }
        b.body(Full::new(body.cloned().unwrap_or_default()))
            .map_err(|e| format!("cannot build the request: {e}"))
    }

    /// The key of the issue labelled with the gap's id, if there is one.
    async fn find(&self, gap_id: &str, attempts: &mut u32) -> Result<Option<String>, String> {
        let path = match self.spec.flavour {
            Flavour::Cloud => "rest/api/3/search/jql",
            Flavour::DataCenter => "rest/api/2/search",
        };
        let mut url = self.url(path);
        url.query_pairs_mut()
            .append_pair("jql", &format!("labels = \"{}\" ORDER BY created ASC", label(gap_id)))
            .append_pair("fields", "key")
            .append_pair("maxResults", "1");
        let make = || self.request(http::Method::GET, &url, None);
        let r = self
            .client
            .send(&make, self.policy, attempts, "issue search", &describe)
            .await?;
        let v: serde_json::Value =
            serde_json::from_slice(&r.body).map_err(|e| format!("issue search: the answer is not JSON: {e}"))?;
        let issues = v["issues"]
            .as_array()
            .ok_or("issue search: the answer has no \"issues\" list")?;
        Ok(issues.first().and_then(|i| i["key"].as_str()).map(str::to_owned))
    }

    /// Creates the gap's issue, unless one exists: before each attempt to create it, the
    /// label is searched again, so a create that timed out but went through is not repeated.
    /// Returns the key and whether it was created now.
    async fn ensure(&self, g: &Gap, lead: &str, attempts: &mut u32) -> Result<(String, bool), String> {
        let mut labels = vec![ROSTER_LABEL.to_owned(), label(&g.id)];
        labels.extend(self.spec.labels.iter().cloned());
        let body = Bytes::from(
            serde_json::to_vec(&serde_json::json!({"fields": {
                "project": {"key": self.spec.project},
                "issuetype": {"name": self.spec.issue_type},
                "summary": summary(g),
                "description": block(lead, g),
                "labels": labels,
            }}))
            .map_err(|e| e.to_string())?,
        );
        let url = self.url("rest/api/2/issue");
        let mut tries = 0u32;
        loop {
            tries += 1;
            if let Some(key) = self.find(&g.id, attempts).await? {
                return Ok((key, false));
            }
            match self
                .client
                .once(
                    self.request(http::Method::POST, &url, Some(&body))?,
                    self.policy,
                    attempts,
                    "issue creation",
                    &describe,
                )
                .await
            {
                Once::Done(r) => {
                    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
                    return v["key"]
                        .as_str()
                        .map(|k| (k.to_owned(), true))
                        .ok_or_else(|| "issue creation: the answer names no issue key".to_owned());
                }
                Once::Fail(why) => return Err(why),
                Once::Retry(why, _) if tries > self.policy.retries => {
                    return Err(format!("{why} (after {tries} attempt(s))"));
                }
                Once::Retry(_, wait) => tokio::time::sleep(wait.unwrap_or_else(|| self.policy.wait(tries))).await,
            }
        }
    }

    async fn comment(&self, key: &str, text: String, attempts: &mut u32) -> Result<(), String> {
        let body = Bytes::from(serde_json::to_vec(&serde_json::json!({"body": text})).map_err(|e| e.to_string())?);
        let url = self.url(&format!("rest/api/2/issue/{}/comment", label(key)));
        let make = || self.request(http::Method::POST, &url, Some(&body));
        self.client
            .send(&make, self.policy, attempts, &format!("comment on {key}"), &describe)
            .await
            .map(|_| ())
    }

    /// Handles one change; returns what was done.
    async fn handle(&self, c: &Change, attempts: &mut u32) -> Result<Option<String>, String> {
        let id = &c.gap.id;
        let r = run_words(self.run);
        match c.change {
            ChangeKind::Resolved => match self.find(id, attempts).await? {
                Some(key) => {
                    self.comment(&key, comment(c, self.run), attempts).await?;
                    Ok(Some(format!("commented on {key}: {id} resolved")))
                }
                None => Ok(None),
            },
            _ => {
                let lead = format!("Roster found this ownership gap in {r}.");
                let (key, created) = self.ensure(&c.gap, &lead, attempts).await?;
                if created && c.change == ChangeKind::New {
                    return Ok(Some(format!("created {key} for {id}")));
                }
                self.comment(&key, comment(c, self.run), attempts).await?;
                let what = if created { "created" } else { "commented on" };
                Ok(Some(format!("{what} {key}: {id} {}", c.change.as_str())))
            }
        }
    }
}

/// The credentials of basic auth: base64 of `email:token`.
pub(crate) fn basic(email: &str, token: &crate::config::Secret) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{email}:{}", token.expose()))
}

/// Files the changes; returns what was done, and the first error with how many changes failed.
pub async fn send(
    client: &Client,
    spec: &JiraSpec,
    policy: &RetryPolicy,
    run: &RunInfo,
    changes: &[&Change],
    attempts: &mut u32,
) -> (Vec<String>, Option<String>) {
    let auth = match &spec.auth {
        JiraAuth::Basic { email, token } => format!("Basic {}", basic(email, token)),
        JiraAuth::Bearer(token) => format!("Bearer {}", token.expose()),
    };
    let site = Site {
        client,
        spec,
        policy,
        run,
        auth,
    };
    let (mut done, mut first, mut failed) = (vec![], None, 0);
    for (i, c) in changes.iter().enumerate() {
        match site.handle(c, attempts).await {
            Ok(d) => done.extend(d),
            Err(e) => {
                failed += 1;
                // Credentials, permissions, a wrong site or project, or a site that is down:
                // the other changes would fail the same way.
                let fatal = [" 401 ", " 403 ", " 404 ", "cannot connect", "no answer within"]
                    .iter()
                    .any(|m| format!(" {e}").contains(m));
                first.get_or_insert(e);
                if fatal {
                    failed += changes.len() - i - 1;
                    break;
                }
            }
        }
    }
    let error = first.map(|e| format!("{e}; {failed} of {} change(s) not filed", changes.len()));
    (done, error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changes::tests::gap;
    use roster_model::Severity;

    #[test]
    fn labels_are_gap_ids_without_spaces() {
        assert_eq!(label("gap-3f0c9a1e5b7d2468"), "gap-3f0c9a1e5b7d2468");
        assert_eq!(label("gap 1/\"x\""), "gap-1--x-");
    }

    #[test]
    fn outside_text_stays_inside_the_noformat_block() {
        let mut g = gap("gap-1", Severity::High);
        g.title = "x{noformat}[evil|https://evil.example]{NoFormat}".into();
        let text = block("lead", &g);
        assert_eq!(text.matches("{noformat}").count(), 2, "{text}");
        assert!(text.ends_with("{noformat}\n"));
        assert!(!text.to_ascii_lowercase()[..text.len() - 11].contains("{noformat}x"));
    }

    #[test]
    fn summaries_are_one_line_and_short() {
        let mut g = gap("gap-1", Severity::High);
        g.title = format!("a\nb{}", "c".repeat(400));
        let s = summary(&g);
        assert!(!s.contains('\n') && s.chars().count() == 255, "{s}");
    }
}
