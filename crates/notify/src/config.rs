//! `[[notify]]` tables: what each target is, checked before any work, its filters, and the
//! secrets it reads from the environment.

use crate::changes::{Change, ChangeKind};
use crate::http::{RetryPolicy, check_url};
use roster_model::{GapKind, Severity};
use serde::Deserialize;
use std::time::Duration;

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

const KINDS: [&str; 3] = ["webhook", "slack", "jira"];
const COMMON: [&str; 9] = [
    "name",
    "kind",
    "min_severity",
    "kinds",
    "owners",
    "changes",
    "retries",
    "backoff_ms",
    "timeout_secs",
];

impl TargetConfig {
    /// The name in output: `name`, else the kind.
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.kind)
    }

    /// The fields set, by name (for "does not apply" checks).
    fn set_fields(&self) -> Vec<&'static str> {
        let mut v = vec![];
        let mut add = |name, set: bool| {
            if set {
                v.push(name);
            }
        };
        add("url", self.url.is_some());
        add("url_env", self.url_env.is_some());
        add("secret_env", self.secret_env.is_some());
        add("max_gaps", self.max_gaps.is_some());
        add("project", self.project.is_some());
        add("issue_type", self.issue_type.is_some());
        add("flavour", self.flavour.is_some());
        add("auth", self.auth.is_some());
        add("email", self.email.is_some());
        add("token_env", self.token_env.is_some());
        add("labels", !self.labels.is_empty());
        v
    }
}

/// How a `[[notify]]` table is named in errors: its position (from 1) and name.
fn label(i: usize, t: &TargetConfig) -> String {
    format!("[[notify]] #{} ({:?})", i + 1, t.name())
}

/// Everything wrong with the `[[notify]]` tables that can be told without the environment:
/// unknown kinds, fields that are missing or do not apply, bad values and URLs, duplicate names.
/// Each problem names the table (position and name) and the field.
pub fn problems(targets: &[TargetConfig]) -> Vec<String> {
    let mut out = vec![];
    let mut names = std::collections::HashSet::new();
    for (i, t) in targets.iter().enumerate() {
        let at = label(i, t);
        let mut p = |field: &str, what: String| out.push(format!("{at}: {field}: {what}"));
        if !names.insert(t.name().to_owned()) {
            p(
                "name",
                format!(
                    "two [[notify]] tables are named {:?}; give each a distinct name",
                    t.name()
                ),
            );
        }
        if let Some(n) = &t.name
            && (n.is_empty() || n.len() > 64 || n.chars().any(char::is_control))
        {
            p("name", "1 to 64 characters, no control characters".into());
        }
        let applies: &[&str] = match t.kind.as_str() {
            "webhook" => &["url", "url_env", "secret_env"],
            "slack" => &["url_env", "max_gaps"],
            "jira" => &[
                "url",
                "project",
                "issue_type",
                "flavour",
                "auth",
                "email",
                "token_env",
                "labels",
            ],
            other => {
                p(
                    "kind",
                    format!("unknown kind {other:?} (expected one of: {})", KINDS.join(", ")),
                );
                continue;
            }
        };
        for f in t.set_fields().into_iter().filter(|f| !applies.contains(f)) {
            let hint = if t.kind == "slack" && f == "url" {
                " (a Slack webhook URL is a secret: put it in an environment variable and name it in url_env)"
            } else {
                ""
            };
            p(
                f,
                format!(
                    "does not apply to kind {:?} (it takes: {}, {}){hint}",
                    t.kind,
                    COMMON.join(", "),
                    applies.join(", ")
                ),
            );
        }
        if let Some(s) = &t.min_severity
            && Severity::parse(s).is_none()
        {
            p(
                "min_severity",
                format!("{s:?} is not a severity (info, low, medium, high, critical)"),
            );
        }
        for k in &t.kinds {
            if !GapKind::ALL.iter().any(|x| x.as_str() == k) {
                let all: Vec<&str> = GapKind::ALL.iter().map(|x| x.as_str()).collect();
                p("kinds", format!("{k:?} is not a gap kind ({})", all.join(", ")));
            }
        }
        for c in &t.changes {
            if ChangeKind::parse(c).is_none() {
                p(
                    "changes",
                    format!("{c:?} is not a change (new, worsened, lapsed, resolved)"),
                );
            }
        }
        if t.owners.iter().any(|o| o.trim().is_empty()) {
            p("owners", "an owner is empty".into());
        }
        if t.retries.is_some_and(|r| r > 10) {
            p("retries", "at most 10".into());
        }
        if t.backoff_ms.is_some_and(|b| b > 60_000) {
            p("backoff_ms", "at most 60000 (one minute)".into());
        }
        if t.timeout_secs.is_some_and(|s| s == 0 || s > 300) {
            p("timeout_secs", "1 to 300".into());
        }
        for (field, var) in [
            ("url_env", &t.url_env),
            ("secret_env", &t.secret_env),
            ("token_env", &t.token_env),
        ] {
            if let Some(v) = var
                && (v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            {
                p(field, format!("{v:?} is not an environment variable name"));
            }
        }
        match t.kind.as_str() {
            "webhook" => {
                match (&t.url, &t.url_env) {
                    (None, None) => p(
                        "url",
                        "a webhook needs url = \"https://...\" or url_env = \"VAR\"".into(),
                    ),
                    (Some(_), Some(_)) => p("url", "give url or url_env, not both".into()),
                    (Some(u), None) => {
                        if let Err(e) = check_url(u) {
                            p("url", e);
                        }
                    }
                    (None, Some(_)) => {}
                }
                if t.secret_env.is_none() {
                    p(
                        "secret_env",
                        "a webhook needs secret_env = \"VAR\": the environment variable holding the signing secret"
                            .into(),
                    );
                }
            }
            "slack" => {
                if t.url_env.is_none() {
                    p(
                        "url_env",
                        "a Slack target needs url_env = \"VAR\": the environment variable holding the incoming webhook's URL".into(),
                    );
                }
                if t.max_gaps.is_some_and(|m| m == 0 || m > 40) {
                    p("max_gaps", "1 to 40 (a Slack message holds at most 50 blocks)".into());
                }
            }
            _ => {
                match &t.url {
                    None => p(
                        "url",
                        "a Jira target needs url = \"https://your-site.atlassian.net\"".into(),
                    ),
                    Some(u) => match check_url(u) {
                        Err(e) => p("url", e),
                        Ok(parsed) if parsed.query().is_some() || parsed.fragment().is_some() => {
                            p("url", "the site's base URL, without a query or fragment".into());
                        }
                        Ok(_) => {}
                    },
                }
                match &t.project {
                    None => p("project", "a Jira target needs project = \"KEY\"".into()),
                    Some(k)
                        if k.is_empty()
                            || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                            || !k.starts_with(|c: char| c.is_ascii_alphabetic()) =>
                    {
                        p("project", format!("{k:?} is not a project key (letters, digits, _)"));
                    }
                    Some(_) => {}
                }
                if t.issue_type.as_ref().is_some_and(|s| s.trim().is_empty()) {
                    p("issue_type", "empty".into());
                }
                if let Some(f) = &t.flavour
                    && !matches!(f.as_str(), "cloud" | "data-center" | "server")
                {
                    p("flavour", format!("{f:?}: expected cloud or data-center (or server)"));
                }
                match t.auth.as_deref().unwrap_or("basic") {
                    "basic" => {
                        if t.email.as_ref().is_none_or(|e| !e.contains('@')) {
                            p("email", "basic auth needs email = \"the account's e-mail\"".into());
                        }
                    }
                    "bearer" => {
                        if t.email.is_some() {
                            p("email", "bearer auth takes no email".into());
                        }
                    }
                    other => p("auth", format!("{other:?}: expected basic or bearer")),
                }
                if t.token_env.is_none() {
                    p(
                        "token_env",
                        "a Jira target needs token_env = \"VAR\": the environment variable holding the API token"
                            .into(),
                    );
                }
                for l in &t.labels {
                    if l.is_empty() || l.len() > 255 || l.chars().any(char::is_whitespace) {
                        p(
                            "labels",
                            format!("{l:?}: a Jira label is 1 to 255 characters without spaces"),
                        );
                    }
                }
            }
        }
    }
    out
}

/// Checks the tables ([`problems`]) and reads their secrets with `env`: a variable that is not
/// set or is empty, or a URL from the environment that is not a valid https URL, is a problem
/// naming the table and the field (never the value). All or nothing.
pub fn resolve(targets: &[TargetConfig], env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<Target>, Vec<String>> {
    let mut out = problems(targets);
    if !out.is_empty() {
        return Err(out);
    }
    let mut resolved = vec![];
    for (i, t) in targets.iter().enumerate() {
        let at = label(i, t);
        let mut errs = vec![];
        let mut read = |field: &str, var: &Option<String>| -> Option<Secret> {
            let var = var.as_deref()?;
            match env(var) {
                Some(v) if !v.trim().is_empty() => Some(Secret(v.trim().to_owned())),
                Some(_) => {
                    errs.push(format!("{at}: {field}: the environment variable {var} is empty"));
                    None
                }
                None => {
                    errs.push(format!("{at}: {field}: the environment variable {var} is not set"));
                    None
                }
            }
        };
        let url = match (&t.url, t.kind.as_str()) {
            (Some(u), "webhook") => Some(Secret(u.clone())),
            _ => read("url_env", &t.url_env),
        };
        let bad_url = match (&url, &t.url_env) {
            // The URL is a secret: say what is wrong with it, never what it is.
            (Some(u), Some(var)) => check_url(u.expose()).err().map(|e| {
                let why = e.rsplit_once(": ").map_or(e.as_str(), |(_, w)| w).to_owned();
                format!("{at}: url_env: the URL in {var} is not usable: {why}")
            }),
            _ => None,
        };
        let secret = read("secret_env", &t.secret_env);
        let token = read("token_env", &t.token_env);
        out.extend(bad_url.clone());
        out.append(&mut errs);
        if bad_url.is_some() {
            continue;
        }
        for s in [&secret, &token].into_iter().flatten() {
            if http::HeaderValue::from_str(s.expose()).is_err() {
                out.push(format!(
                    "{at}: the secret's value holds characters a header cannot carry"
                ));
            }
        }
        let filter = Filter {
            min_severity: t.min_severity.as_deref().and_then(Severity::parse),
            kinds: GapKind::ALL
                .into_iter()
                .filter(|k| t.kinds.iter().any(|x| x == k.as_str()))
                .collect(),
            owners: t.owners.iter().map(|o| o.trim().to_lowercase()).collect(),
            changes: t.changes.iter().filter_map(|c| ChangeKind::parse(c)).collect(),
        };
        let policy = RetryPolicy {
            retries: t.retries.unwrap_or(3),
            backoff: Duration::from_millis(t.backoff_ms.unwrap_or(1000)),
            timeout: Duration::from_secs(t.timeout_secs.unwrap_or(10)),
        };
        let spec = match t.kind.as_str() {
            "webhook" => match (url, secret) {
                (Some(url), Some(secret)) => Spec::Webhook { url, secret },
                _ => continue,
            },
            "slack" => match url {
                Some(url) => Spec::Slack {
                    url,
                    max_gaps: t.max_gaps.unwrap_or(20),
                },
                None => continue,
            },
            _ => {
                let Some(token) = token else { continue };
                let Ok(base) = check_url(t.url.as_deref().unwrap_or_default()) else {
                    continue;
                };
                Spec::Jira(JiraSpec {
                    base,
                    project: t.project.clone().unwrap_or_default(),
                    issue_type: t.issue_type.clone().unwrap_or_else(|| "Task".into()),
                    flavour: match t.flavour.as_deref() {
                        Some("data-center" | "server") => Flavour::DataCenter,
                        _ => Flavour::Cloud,
                    },
                    auth: match t.auth.as_deref() {
                        Some("bearer") => JiraAuth::Bearer(token),
                        _ => JiraAuth::Basic {
                            email: t.email.clone().unwrap_or_default(),
                            token,
                        },
                    },
                    labels: t.labels.clone(),
                })
            }
        };
        resolved.push(Target {
            name: t.name().to_owned(),
            filter,
            policy,
            spec,
        });
    }
    if out.is_empty() { Ok(resolved) } else { Err(out) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changes::tests::gap;
    use roster_model::ResolvedOwner;

    fn parse(toml_text: &str) -> Vec<TargetConfig> {
        #[derive(Deserialize)]
        struct File {
            notify: Vec<TargetConfig>,
        }
        toml::from_str::<File>(toml_text).unwrap().notify
    }

    fn change(kind: ChangeKind, severity: Severity, gap_kind: GapKind, owner: Option<&str>) -> Change {
        let mut g = gap("g", severity);
        g.kind = gap_kind;
        g.owner = owner.map(|o| ResolvedOwner {
            name: o.into(),
            via: "tag".into(),
            attested: true,
            evidence: String::new(),
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

    #[test]
    fn every_problem_names_the_table_and_the_field() {
        let t = parse(
            r#"
[[notify]]
kind = "webhok"
[[notify]]
name = "hook"
kind = "webhook"
url = "http://example.com/hook"
min_severity = "severe"
kinds = ["no-owner", "nope"]
max_gaps = 3
[[notify]]
kind = "slack"
url = "https://hooks.slack.com/services/T/B/X"
[[notify]]
kind = "jira"
url = "https://acme.atlassian.net"
project = "1SEC"
auth = "oauth"
token_env = "JIRA TOKEN"
"#,
        );
        let p = problems(&t);
        let want = [
            "[[notify]] #1 (\"webhok\"): kind: unknown kind \"webhok\" (expected one of: webhook, slack, jira)",
            "[[notify]] #2 (\"hook\"): max_gaps: does not apply to kind \"webhook\"",
            "[[notify]] #2 (\"hook\"): min_severity: \"severe\" is not a severity",
            "[[notify]] #2 (\"hook\"): kinds: \"nope\" is not a gap kind",
            "[[notify]] #2 (\"hook\"): url: http://example.com: plain http only to a loopback address; use https",
            "[[notify]] #2 (\"hook\"): secret_env: a webhook needs secret_env",
            "[[notify]] #3 (\"slack\"): url: does not apply to kind \"slack\"",
            "a Slack webhook URL is a secret",
            "[[notify]] #3 (\"slack\"): url_env: a Slack target needs url_env",
            "[[notify]] #4 (\"jira\"): project: \"1SEC\" is not a project key",
            "[[notify]] #4 (\"jira\"): auth: \"oauth\": expected basic or bearer",
            "[[notify]] #4 (\"jira\"): token_env: \"JIRA TOKEN\" is not an environment variable name",
        ];
        for w in want {
            assert!(p.iter().any(|x| x.contains(w)), "no {w:?} in {p:#?}");
        }
        assert_eq!(p.len(), want.len() - 1, "{p:#?}");
    }

    #[test]
    fn secrets_come_from_the_environment_and_never_appear_in_errors() {
        let t = parse(
            r#"
[[notify]]
kind = "webhook"
url_env = "HOOK_URL"
secret_env = "HOOK_SECRET"
[[notify]]
kind = "slack"
url_env = "SLACK_URL"
[[notify]]
kind = "jira"
url = "https://acme.atlassian.net/"
project = "SEC"
email = "roster@acme.example"
token_env = "JIRA_TOKEN"
"#,
        );
        let bad_url = "ftp://hooks.example/T0000/B0000/sekrit-path";
        let env = |k: &str| match k {
            "HOOK_URL" => Some(bad_url.to_owned()),
            "SLACK_URL" => Some(String::new()),
            _ => None,
        };
        let errs = resolve(&t, &env).unwrap_err();
        assert_eq!(errs.len(), 4, "{errs:#?}");
        assert!(errs[0].starts_with("[[notify]] #1 (\"webhook\"): url_env: the URL in HOOK_URL is not usable"));
        assert!(errs[1].contains("secret_env: the environment variable HOOK_SECRET is not set"));
        assert!(errs[2].contains("#2 (\"slack\"): url_env: the environment variable SLACK_URL is empty"));
        assert!(errs[3].contains("#3 (\"jira\"): token_env: the environment variable JIRA_TOKEN is not set"));
        assert!(
            !errs.iter().any(|e| e.contains("sekrit") || e.contains("hooks.example")),
            "{errs:#?}"
        );

        let env = |k: &str| {
            Some(match k {
                "HOOK_URL" => "http://127.0.0.1:9/hook".to_owned(),
                "SLACK_URL" => "https://hooks.slack.com/services/T/B/X".to_owned(),
                _ => "s3cret".to_owned(),
            })
        };
        let ok = resolve(&t, &env).unwrap();
        assert_eq!(
            ok.iter().map(Target::kind).collect::<Vec<_>>(),
            ["webhook", "slack", "jira"]
        );
        assert!(!format!("{ok:?}").contains("s3cret"), "Debug hides secrets");
        assert_eq!(ok[0].policy.retries, 3);
        let Spec::Jira(j) = &ok[2].spec else { panic!() };
        assert_eq!((j.flavour, j.issue_type.as_str()), (Flavour::Cloud, "Task"));
    }
}
