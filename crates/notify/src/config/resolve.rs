//! The checked `[[notify]]` tables made into targets, with their secrets read from the
//! environment.

use super::check::label;
use super::{Filter, Flavour, JiraAuth, JiraSpec, Secret, Spec, Target, TargetConfig, problems};
use crate::changes::ChangeKind;
use crate::http::{RetryPolicy, check_url};
use roster_model::{GapKind, Severity};
use std::time::Duration;

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
    use crate::config::tests::parse;

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
