//! What is wrong with the `[[notify]]` tables, told without the environment.

use super::TargetConfig;
use crate::changes::ChangeKind;
use crate::http::check_url;
use roster_model::{GapKind, Severity};

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
pub(super) fn label(i: usize, t: &TargetConfig) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::parse;

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
}
