//! `[[notify]]` tables: what each target is, checked before any work, its filters, and the
//! secrets it reads from the environment.
//!
//! This module holds the tables as written ([`TargetConfig`]) and the checked targets they
//! become ([`Target`]); `check` finds what is wrong with the tables ([`problems`]), `resolve`
//! reads their secrets from the environment and builds the targets ([`resolve()`]).

mod check;
mod resolve;

pub use check::problems;
pub use resolve::resolve;

use crate::changes::{Change, ChangeKind};
use crate::http::RetryPolicy;
use roster_model::{GapKind, Severity};
use serde::Deserialize;

/// One `[[notify]]` table as written. Which fields apply depends on `kind`; [`problems`] says
/// which are missing or do not apply.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// The name in output and reports (default: the kind).
    pub name: Option<String>,
    /// `webhook`, `slack` or `jira`.
    pub kind: String,
    /// Only gaps at least this severe (`info`, `low`, `medium`, `high`, `critical`).
    pub min_severity: Option<String>,
    /// Only gaps of these kinds (`committed-secret`, `no-owner`, ...).
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Only gaps whose owner is one of these (compared without case).
    #[serde(default)]
    pub owners: Vec<String>,
    /// Only these changes (`new`, `worsened`, `lapsed`, `resolved`; default all).
    #[serde(default)]
    pub changes: Vec<String>,
    /// webhook: the receiver's URL (https; plain http only to a loopback address); jira: the
    /// site's base URL.
    pub url: Option<String>,
    /// webhook, slack: the environment variable holding the URL (a Slack webhook URL is a
    /// secret).
    pub url_env: Option<String>,
    /// webhook: the environment variable holding the HMAC-SHA256 signing secret.
    pub secret_env: Option<String>,
    /// Retries after a 5xx, a 429, a timeout or a connection failure (default 3).
    pub retries: Option<u32>,
    /// The first retry's wait in milliseconds, doubled for each further retry (default 1000).
    pub backoff_ms: Option<u64>,
    /// Seconds each attempt may take (default 10).
    pub timeout_secs: Option<u64>,
    /// slack: gaps listed one by one before "and N more" (default 20, at most 40).
    pub max_gaps: Option<usize>,
    /// jira: the project key (`SEC`).
    pub project: Option<String>,
    /// jira: the issue type's name (default `Task`).
    pub issue_type: Option<String>,
    /// jira: `cloud` (default) or `data-center` (also `server`).
    #[serde(alias = "flavor")]
    pub flavour: Option<String>,
    /// jira: `basic` (an e-mail and an API token; default) or `bearer` (a personal access token).
    pub auth: Option<String>,
    /// jira: the account's e-mail for `basic`.
    pub email: Option<String>,
    /// jira: the environment variable holding the API token or personal access token.
    pub token_env: Option<String>,
    /// jira: more labels for each issue created.
    #[serde(default)]
    pub labels: Vec<String>,
}

impl TargetConfig {
    /// The name in output: `name`, else the kind.
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.kind)
    }
}

/// A secret read from the environment: shown as `[redacted]` by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The value, for the one place it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Which gaps and changes a target is told about.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Lowest severity let through.
    pub min_severity: Option<Severity>,
    /// Kinds let through (empty: all).
    pub kinds: Vec<GapKind>,
    /// Owners let through, lowercase (empty: all, ownerless gaps included).
    pub owners: Vec<String>,
    /// Changes let through (empty: all).
    pub changes: Vec<ChangeKind>,
}

impl Filter {
    /// Whether `c` goes to the target. A resolved gap is judged as the previous run last saw
    /// it; an owners filter never lets an ownerless gap through.
    pub fn matches(&self, c: &Change) -> bool {
        let g = &c.gap;
        self.min_severity.is_none_or(|m| g.severity >= m)
            && (self.kinds.is_empty() || self.kinds.contains(&g.kind))
            && (self.changes.is_empty() || self.changes.contains(&c.change))
            && (self.owners.is_empty()
                || g.owner
                    .as_ref()
                    .is_some_and(|o| self.owners.contains(&o.name.to_lowercase())))
    }
}

/// Where a Jira issue search goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// Jira Cloud: `GET /rest/api/3/search/jql`.
    Cloud,
    /// Jira Data Center or Server: `GET /rest/api/2/search`.
    DataCenter,
}

/// How Roster authenticates to Jira.
#[derive(Debug, Clone)]
pub enum JiraAuth {
    /// `Authorization: Basic base64(email:token)` (Jira Cloud API tokens).
    Basic {
        /// The account's e-mail.
        email: String,
        /// Its API token.
        token: Secret,
    },
    /// `Authorization: Bearer <PAT>` (Data Center personal access tokens).
    Bearer(Secret),
}

/// A Jira target's settings.
#[derive(Debug, Clone)]
pub struct JiraSpec {
    /// The site, without a trailing slash.
    pub base: url::Url,
    /// Project key.
    pub project: String,
    /// Issue type name.
    pub issue_type: String,
    /// Cloud or Data Center.
    pub flavour: Flavour,
    /// Credentials.
    pub auth: JiraAuth,
    /// Extra labels.
    pub labels: Vec<String>,
}

/// What a target sends, and where.
#[derive(Debug, Clone)]
pub enum Spec {
    /// A signed JSON POST.
    Webhook {
        /// The receiver (may hold a token: never shown).
        url: Secret,
        /// The signing secret.
        secret: Secret,
    },
    /// A Slack incoming webhook.
    Slack {
        /// The webhook URL (a secret).
        url: Secret,
        /// Gaps listed one by one.
        max_gaps: usize,
    },
    /// Jira issues and comments.
    Jira(JiraSpec),
}

/// A checked target with its secrets, ready to deliver.
#[derive(Debug, Clone)]
pub struct Target {
    /// Its name.
    pub name: String,
    /// Its filters.
    pub filter: Filter,
    /// Its retry policy.
    pub policy: RetryPolicy,
    /// What it sends.
    pub spec: Spec,
}

impl Target {
    /// `webhook`, `slack` or `jira`.
    pub fn kind(&self) -> &'static str {
        match self.spec {
            Spec::Webhook { .. } => "webhook",
            Spec::Slack { .. } => "slack",
            Spec::Jira(_) => "jira",
        }
    }

    /// Every secret value it holds (and the forms it is sent in), to scrub from anything shown.
    pub(crate) fn secrets(&self) -> Vec<String> {
        match &self.spec {
            Spec::Webhook { url, secret } => vec![url.expose().to_owned(), secret.expose().to_owned()],
            Spec::Slack { url, .. } => vec![url.expose().to_owned()],
            Spec::Jira(j) => match &j.auth {
                JiraAuth::Basic { email, token } => vec![token.expose().to_owned(), crate::jira::basic(email, token)],
                JiraAuth::Bearer(token) => vec![token.expose().to_owned()],
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changes::tests::gap;
    use roster_model::ResolvedOwner;

    /// The `[[notify]]` tables of a roster.toml.
    pub(super) fn parse(toml_text: &str) -> Vec<TargetConfig> {
        #[derive(Deserialize)]
        struct File {
            notify: Vec<TargetConfig>,
        }
        toml::from_str::<File>(toml_text).unwrap().notify
    }

    fn change(kind: ChangeKind, severity: Severity, gap_kind: GapKind, owner: Option<&str>) -> Change {
        let mut g = gap("g", severity);
        g.kind = gap_kind;
        g.owner = owner.map(|o| {
            std::sync::Arc::new(ResolvedOwner {
                name: o.into(),
                via: "tag".into(),
                attested: true,
                evidence: String::new().into(),
            })
        });
        Change {
            change: kind,
            gap: g,
            previous_severity: None,
            previous_acceptance: None,
        }
    }

    #[test]
    fn filters_route_by_severity_kind_owner_and_change() {
        let f = Filter {
            min_severity: Some(Severity::High),
            kinds: vec![GapKind::CommittedSecret, GapKind::NoOwner],
            owners: vec!["bob@acme.example".into()],
            changes: vec![],
        };
        let c = |s, k, o| change(ChangeKind::New, s, k, o);
        assert!(f.matches(&c(
            Severity::Critical,
            GapKind::CommittedSecret,
            Some("Bob@Acme.example")
        )));
        assert!(!f.matches(&c(Severity::Medium, GapKind::CommittedSecret, Some("bob@acme.example"))));
        assert!(!f.matches(&c(Severity::High, GapKind::StaleIdentity, Some("bob@acme.example"))));
        assert!(!f.matches(&c(Severity::High, GapKind::NoOwner, Some("alice@acme.example"))));
        assert!(!f.matches(&c(Severity::High, GapKind::NoOwner, None)), "ownerless");
        let all = Filter::default();
        assert!(all.matches(&c(Severity::Info, GapKind::NoOwner, None)));
        let resolved_only = Filter {
            changes: vec![ChangeKind::Resolved],
            ..Filter::default()
        };
        assert!(!resolved_only.matches(&c(Severity::Info, GapKind::NoOwner, None)));
        assert!(resolved_only.matches(&change(ChangeKind::Resolved, Severity::Low, GapKind::NoOwner, None)));
    }
}
