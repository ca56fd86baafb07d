//! A connector's profile: what the host must know to run it, shipped in the connector's folder
//! as `profile.toml`, so that a provider's facts live in one place. It names the provider's
//! endpoint, the requests the plugin may make there (method, path and for AWS the operations;
//! reads unless a read API needs a write), how the host may authenticate them, which settings
//! it takes and which export formats it reads. The host resolves the endpoint and gives it to
//! the plugin, which keeps no URL of its own.

use std::collections::{BTreeMap, BTreeSet};

use http::Method;
use serde::Deserialize;

use crate::manifest::{AllowRule, Auth, ManifestError};

/// A connector's profile (`connectors/<name>/profile.toml`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The connector's name (`connector = "..."` in a source).
    pub connector: String,
    /// One line on what it reads.
    pub description: String,
    /// The provider's base URL; `{region}` is the source's region. A source's `endpoint_url`
    /// replaces it.
    pub endpoint: Option<String>,
    /// A setting whose value is the base URL (an Okta org URL, a self-managed GitLab); with an
    /// `endpoint` too, that is the default when the setting is not set.
    pub endpoint_setting: Option<String>,
    /// The provider's other API hosts by name, for a provider that spreads its read APIs over
    /// several (Google Cloud: one host per API). The plugin gets each as `endpoint_url.<name>`;
    /// a source's `endpoint_url` replaces them all (one fixture server in tests).
    #[serde(default)]
    pub endpoints: BTreeMap<String, String>,
    /// Settings a source must set.
    #[serde(default)]
    pub required: Vec<String>,
    /// Settings the plugin reads (handed to it as text).
    #[serde(default)]
    pub settings: Vec<String>,
    /// Export formats it reads (`format` of a source's `files`).
    #[serde(default)]
    pub exports: Vec<String>,
    /// Whether it lists code repositories the host may clone and scan (`scan_repos`).
    #[serde(default)]
    pub repositories: bool,
    /// The requests it may make, under the endpoint.
    #[serde(default)]
    pub allow: Vec<AllowSpec>,
    /// How the host may authenticate them; the first is the default (`auth` in a source picks
    /// another).
    #[serde(default)]
    pub auth: Vec<AuthSpec>,
}

/// One allowed kind of request, relative to the endpoint.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowSpec {
    /// The name of one of the profile's other `endpoints` the path is under, instead of the
    /// main endpoint.
    pub endpoint: Option<String>,
    /// Path prefix under the endpoint's path; `{setting}` is a setting's value (one plain path
    /// segment); `{setting:path}` is one or more plain segments joined by `/`, each `/` sent
    /// URL-encoded as `%2F` (a GitLab namespace path as an `:id`); a setting that is a list gives
    /// one prefix per item.
    pub path: String,
    /// Methods (default GET and HEAD).
    #[serde(default)]
    pub methods: Vec<String>,
    /// AWS operations allowed (exact names or `Prefix*`), for the AWS Query and JSON APIs.
    pub actions: Option<Vec<String>>,
    /// The path is the whole path allowed, not a prefix; each `*` segment stands for one
    /// segment (an id the plugin learns from a listing).
    #[serde(default)]
    pub exact: bool,
    /// The SigV4 signing name of the service under this path, when it is not the `aws-sigv4`
    /// auth's `service`: an AWS provider whose APIs live on several endpoints with different
    /// signing names (Bedrock Agents signs as `bedrock`, AgentCore control as
    /// `bedrock-agentcore`). Only for `aws-sigv4` auth.
    pub service: Option<String>,
}

/// One way the host can authenticate a connector's requests.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSpec {
    /// Its name in a source (`auth = "token"`).
    pub name: String,
    /// How the host does it: `bearer`, `header`, `aws-sigv4`, `github-app`, `okta-service-app`,
    /// `google-service-account` or `entra`.
    pub mechanism: String,
    /// `bearer`: the scheme word (default `Bearer`; `SSWS` for Okta API tokens).
    pub scheme: Option<String>,
    /// `header`: the header that carries the secret.
    pub header: Option<String>,
    /// `aws-sigv4`: the signing name of the service.
    pub service: Option<String>,
    /// The environment variable holding the secret, unless the source names another with
    /// `secret_env`.
    pub secret_env: Option<String>,
    /// `entra`: which credential (`client-secret`, `certificate`, `managed-identity`,
    /// `workload-identity`).
    pub credential: Option<String>,
    /// The token's scope, for minted tokens.
    pub scope: Option<String>,
    /// Settings this way of authenticating reads; they stay with the host.
    #[serde(default)]
    pub settings: Vec<String>,
}

/// A profile that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("connector profile {origin}: {reason}")]
pub struct ProfileError {
    /// Where it came from.
    pub origin: String,
    /// What is wrong.
    pub reason: String,
}

/// Settings every source has, handled by the host.
const REPOSITORY_SETTINGS: [&str; 3] = ["scan_repos", "scan_forks", "scan_archived"];

impl Profile {
    /// Parses and checks a profile.
    pub fn parse(origin: &str, text: &str) -> Result<Self, ProfileError> {
        let err = |reason: String| ProfileError {
            origin: origin.to_string(),
            reason,
        };
        let p: Profile = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        if p.endpoint.is_none() && p.endpoint_setting.is_none() && !p.allow.is_empty() {
            return Err(err("allows requests but names no endpoint nor endpoint_setting".into()));
        }
        for a in &p.allow {
            if let Some(e) = a.endpoint.as_ref().filter(|e| !p.endpoints.contains_key(*e)) {
                return Err(err(format!(
                    "allow names the endpoint {e:?}, which [endpoints] does not list"
                )));
            }
            for m in &a.methods {
                Method::from_bytes(m.as_bytes()).map_err(|_| err(format!("{m:?} is not an HTTP method")))?;
            }
            if !a.exact && a.path.split('/').any(|seg| seg == "*") {
                return Err(err(format!(
                    "allow {:?} has a * segment, which only an exact = true path may have",
                    a.path
                )));
            }
            if a.service.is_some() && p.auth.iter().any(|x| x.mechanism != "aws-sigv4") {
                return Err(err(format!(
                    "allow {:?} names a signing service, which only aws-sigv4 auth uses",
                    a.path
                )));
            }
        }
        if p.auth.is_empty() && !p.allow.is_empty() {
            return Err(err("allows requests but has no [[auth]]".into()));
        }
        Ok(p)
    }

    /// The auth spec named `name`, or the default (the first) when `None`.
    pub fn auth_spec(&self, name: Option<&str>) -> Result<&AuthSpec, String> {
        match name {
            None => self
                .auth
                .first()
                .ok_or_else(|| format!("{} authenticates nothing", self.connector)),
            Some(n) => self.auth.iter().find(|a| a.name == n).ok_or_else(|| {
                format!(
                    "unknown auth {n:?} for {} ({})",
                    self.connector,
                    self.auth.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ")
                )
            }),
        }
    }

    /// Settings the host reads itself and never hands to the plugin: `auth`, every auth way's
    /// settings, and the repository-scan settings.
    pub fn host_settings(&self) -> BTreeSet<&str> {
        let mut s: BTreeSet<&str> = self
            .auth
            .iter()
            .flat_map(|a| a.settings.iter().map(String::as_str))
            .collect();
        s.insert("auth");
        if self.repositories {
            s.extend(REPOSITORY_SETTINGS);
        }
        s
    }

    /// The endpoint for a source: its `endpoint_url`, else the setting that names it, else the
    /// default with `{region}` filled in. No trailing slash.
    pub fn endpoint(
        &self,
        endpoint_url: Option<&str>,
        setting: &dyn Fn(&str) -> Option<String>,
        region: &str,
    ) -> Result<String, String> {
        let base = match (endpoint_url, &self.endpoint_setting, &self.endpoint) {
            (Some(u), _, _) => u.to_string(),
            (None, Some(k), default) => setting(k)
                .or_else(|| default.clone())
                .ok_or_else(|| format!("the {} connector needs {k} = \"https://...\"", self.connector))?,
            (None, None, Some(d)) => d.replace("{region}", region),
            (None, None, None) => return Err(format!("the {} connector has no endpoint", self.connector)),
        };
        Ok(base.trim_end_matches('/').to_string())
    }

    /// The other endpoints for a source, by name: each the source's `endpoint_url` when it
    /// sets one, else the profile's with `{region}` filled in. No trailing slash.
    pub fn other_endpoints(&self, endpoint_url: Option<&str>, region: &str) -> BTreeMap<String, String> {
        self.endpoints
            .iter()
            .map(|(k, v)| {
                let url = endpoint_url.map_or_else(|| v.replace("{region}", region), str::to_string);
                (k.clone(), url.trim_end_matches('/').to_string())
            })
            .collect()
    }

    /// The manifest rules for a source: each allowed request under `endpoint` (or the one of
    /// `others` it names), with `auth`.
    pub fn allow_rules(
        &self,
        endpoint: &str,
        others: &BTreeMap<String, String>,
        setting: &dyn Fn(&str) -> Option<String>,
        auth: &Auth,
    ) -> Result<Vec<AllowRule>, ManifestError> {
        let mut rules = vec![];
        for a in &self.allow {
            let err = |reason: String| ManifestError {
                prefix: a.path.clone(),
                reason,
            };
            let base = match &a.endpoint {
                None => endpoint,
                Some(name) => others
                    .get(name)
                    .ok_or_else(|| err(format!("no endpoint named {name:?}")))?,
            };
            let auth = match (auth, &a.service) {
                (Auth::AwsSigV4 { region, provider, .. }, Some(service)) => Auth::AwsSigV4 {
                    service: service.clone(),
                    region: region.clone(),
                    provider: provider.clone(),
                },
                _ => auth.clone(),
            };
            for path in fill(&a.path, setting).map_err(err)? {
                let mut rule = AllowRule::new(&format!("{base}{path}"), auth.clone())?;
                if !a.methods.is_empty() {
                    rule = rule.methods(a.methods.iter().filter_map(|m| Method::from_bytes(m.as_bytes()).ok()));
                }
                if let Some(actions) = &a.actions {
                    rule = rule.actions(actions.iter().cloned());
                }
                if a.exact {
                    rule = rule.exact();
                }
                rules.push(rule);
            }
        }
        Ok(rules)
    }
}

/// The values of a setting for a path: each item of a list (handed over as JSON text), else the
/// value itself.
fn setting_values(value: &str) -> Vec<String> {
    match serde_json::from_str::<Vec<String>>(value) {
        Ok(items) if value.trim_start().starts_with('[') => items,
        _ => vec![value.to_string()],
    }
}

/// Whether `value` is one plain path segment (letters, digits, '-', '_', '.'; not `.` or `..`).
fn plain(value: &str) -> bool {
    !value.is_empty()
        && value != "."
        && value != ".."
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Fills `{setting}` placeholders with settings that are one plain path segment, and
/// `{setting:path}` ones with plain segments joined by `/`, sent as `%2F`; a setting that is a
/// list gives one path per item.
fn fill(path: &str, setting: &dyn Fn(&str) -> Option<String>) -> Result<Vec<String>, String> {
    let mut outs = vec![String::new()];
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').ok_or("an unclosed {")? + start;
        let (key, nested) = match &rest[start + 1..end] {
            k if k.ends_with(":path") => (&k[..k.len() - 5], true),
            k => (k, false),
        };
        let text = setting(key).ok_or_else(|| format!("the setting {key} is not set"))?;
        let mut values = setting_values(&text);
        for value in &mut values {
            if nested && value.split('/').all(plain) {
                *value = value.replace('/', "%2F");
            } else if !plain(value) {
                let what = if nested {
                    "a path of plain names joined by '/'"
                } else {
                    "a plain name"
                };
                return Err(format!(
                    "{key} = {value:?} must be {what} (letters, digits, '-', '_', '.')"
                ));
            }
        }
        outs = outs
            .iter()
            .flat_map(|o| values.iter().map(move |v| format!("{o}{}{v}", &rest[..start])))
            .collect();
        rest = &rest[end + 1..];
    }
    Ok(outs.into_iter().map(|o| format!("{o}{rest}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GITHUB: &str = r#"
connector = "github"
description = "test"
endpoint = "https://api.github.com"
[[allow]]
path = "/orgs/{org}/"
[[auth]]
name = "token"
mechanism = "bearer"
secret_env = "GITHUB_TOKEN"
"#;

    #[test]
    fn rules_are_filled_from_settings_and_read_only() {
        let p = Profile::parse("github", GITHUB).unwrap();
        let org = |v: &'static str| move |k: &str| (k == "org").then(|| v.to_string());
        let ep = p.endpoint(None, &org("acme"), "us-east-1").unwrap();
        let rules = p.allow_rules(&ep, &BTreeMap::new(), &org("acme"), &Auth::None).unwrap();
        assert_eq!(rules[0].prefix.as_str(), "https://api.github.com/orgs/acme/");
        assert_eq!(rules[0].methods, crate::READ_METHODS);
        let both = |k: &str| (k == "org").then(|| r#"["acme","beta"]"#.to_string());
        let rules = p.allow_rules(&ep, &BTreeMap::new(), &both, &Auth::None).unwrap();
        let prefixes: Vec<&str> = rules.iter().map(|r| r.prefix.as_str()).collect();
        assert_eq!(
            prefixes,
            ["https://api.github.com/orgs/acme/", "https://api.github.com/orgs/beta/"],
            "a list setting gives one rule per item"
        );
        for bad in ["..", "acme/../../users", "a%2fb", "", r#"["acme",".."]"#] {
            let e = p
                .allow_rules(&ep, &BTreeMap::new(), &org(bad), &Auth::None)
                .unwrap_err()
                .to_string();
            assert!(e.contains("must be a plain name"), "{bad}: {e}");
        }
        assert_eq!(
            p.endpoint(Some("http://127.0.0.1:9/"), &org("acme"), "x").unwrap(),
            "http://127.0.0.1:9"
        );
    }

    #[test]
    fn a_namespace_path_is_sent_url_encoded_and_its_prefix_check_agrees() {
        let text = r#"
connector = "gitlab"
description = "test"
endpoint = "https://gitlab.com"
endpoint_setting = "base_url"
[[allow]]
path = "/api/v4/groups/{group:path}/access_tokens"
[[allow]]
path = "/api/v4/projects/{group:path}%2F"
[[auth]]
name = "token"
mechanism = "bearer"
"#;
        let p = Profile::parse("gitlab", text).unwrap();
        let none = |_: &str| None;
        assert_eq!(p.endpoint(None, &none, "").unwrap(), "https://gitlab.com");
        let self_managed = |k: &str| (k == "base_url").then(|| "https://git.acme.internal/".to_string());
        assert_eq!(
            p.endpoint(None, &self_managed, "").unwrap(),
            "https://git.acme.internal"
        );
        let group = |k: &str| (k == "group").then(|| "acme/platform".to_string());
        let rules = p
            .allow_rules("https://gitlab.com", &BTreeMap::new(), &group, &Auth::None)
            .unwrap();
        let prefixes: Vec<&str> = rules.iter().map(|r| r.prefix.as_str()).collect();
        assert_eq!(
            prefixes,
            [
                "https://gitlab.com/api/v4/groups/acme%2Fplatform/access_tokens/",
                "https://gitlab.com/api/v4/projects/acme%2Fplatform%2F"
            ]
        );
        let manifest = crate::Manifest {
            plugin: "gitlab".into(),
            allow: rules,
        };
        let check = |p: &str| {
            let uri: http::Uri = format!("https://gitlab.com{p}").parse().unwrap();
            crate::canonical::checked_url(&uri).and_then(|u| manifest.check(&Method::GET, &u).map(|_| ()))
        };
        for ok in [
            "/api/v4/groups/acme%2Fplatform/access_tokens?per_page=100",
            "/api/v4/projects/acme%2Fplatform%2Fapp/access_tokens",
            "/api/v4/projects/acme%2Fplatform%2Fml%2Fagent/deploy_keys",
        ] {
            assert!(check(ok).is_ok(), "{ok}: {:?}", check(ok));
        }
        for refused in [
            "/api/v4/groups/acme/access_tokens",
            "/api/v4/groups/acme%2Fplatform-evil/access_tokens",
            "/api/v4/projects/acme%2Fplatform-evil%2Fapp/access_tokens",
            "/api/v4/projects/acme%2Fplatform%2F..%2F..%2Fother%2Fapp/access_tokens",
            "/api/v4/projects/acme%2Fplatform%2F%2Fapp/access_tokens",
            "/api/v4/projects/acme%2fplatform%2fapp/access_tokens",
            "/api/v4/projects/acme/platform/app/access_tokens",
        ] {
            assert!(check(refused).is_err(), "{refused} was allowed");
        }
        for bad in ["acme/../x", "/acme", "acme//x", "acme/", "acme%2Fx"] {
            let g = move |k: &str| (k == "group").then(|| bad.to_string());
            let e = p
                .allow_rules("https://gitlab.com", &BTreeMap::new(), &g, &Auth::None)
                .unwrap_err()
                .to_string();
            assert!(e.contains("must be a path of plain names"), "{bad}: {e}");
        }
    }

    #[test]
    fn other_endpoints_hold_their_own_rules_and_follow_endpoint_url() {
        let text = r#"
connector = "gcp"
description = "test"
endpoint = "https://iam.googleapis.com"
[endpoints]
crm = "https://cloudresourcemanager.googleapis.com"
[[allow]]
endpoint = "crm"
path = "/v1/projects/{projects}:getIamPolicy"
methods = ["POST"]
[[auth]]
name = "token"
mechanism = "bearer"
"#;
        let p = Profile::parse("gcp", text).unwrap();
        let projects = |k: &str| (k == "projects").then(|| "acme".to_string());
        let rules = p
            .allow_rules(
                "https://iam.googleapis.com",
                &p.other_endpoints(None, "us-east-1"),
                &projects,
                &Auth::None,
            )
            .unwrap();
        assert_eq!(
            rules[0].prefix.as_str(),
            "https://cloudresourcemanager.googleapis.com/v1/projects/acme:getIamPolicy/"
        );
        assert_eq!(rules[0].methods, [Method::POST]);
        let manifest = crate::Manifest {
            plugin: "gcp".into(),
            allow: rules,
        };
        let url = |p: &str| url::Url::parse(&format!("https://cloudresourcemanager.googleapis.com{p}")).unwrap();
        assert!(
            manifest
                .check(&Method::POST, &url("/v1/projects/acme:getIamPolicy"))
                .is_ok()
        );
        for refused in [
            "/v1/projects/acme:setIamPolicy",
            "/v1/projects/acme",
            "/v1/projects/other:getIamPolicy",
        ] {
            assert!(manifest.check(&Method::POST, &url(refused)).is_err(), "{refused}");
        }
        let local = p.other_endpoints(Some("http://127.0.0.1:9/"), "us-east-1");
        assert_eq!(
            local["crm"], "http://127.0.0.1:9",
            "endpoint_url replaces every endpoint"
        );
        let e = Profile::parse("gcp", &text.replace("endpoint = \"crm\"", "endpoint = \"nope\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"nope\""), "{e}");
    }

    #[test]
    fn an_allow_rule_may_sign_for_another_aws_service() {
        let text = r#"
connector = "bedrock"
description = "test"
endpoint = "https://bedrock-agent.{region}.amazonaws.com"
[endpoints]
agentcore = "https://bedrock-agentcore-control.{region}.amazonaws.com"
[[allow]]
path = "/agents/"
methods = ["POST"]
exact = true
[[allow]]
endpoint = "agentcore"
path = "/runtimes/"
service = "bedrock-agentcore"
[[auth]]
name = "aws"
mechanism = "aws-sigv4"
service = "bedrock"
"#;
        let p = Profile::parse("bedrock", text).unwrap();
        let provider = aws_credential_types::provider::SharedCredentialsProvider::new(
            aws_credential_types::Credentials::new("AKIDEXAMPLE", "secret", None, None, "test"),
        );
        let auth = Auth::AwsSigV4 {
            service: "bedrock".into(),
            region: "eu-west-1".into(),
            provider,
        };
        let none = |_: &str| None;
        let rules = p
            .allow_rules(
                "https://bedrock-agent.eu-west-1.amazonaws.com",
                &p.other_endpoints(None, "eu-west-1"),
                &none,
                &auth,
            )
            .unwrap();
        let signed: Vec<(&str, &str)> = rules
            .iter()
            .map(|r| match &r.auth {
                Auth::AwsSigV4 { service, region, .. } => {
                    assert_eq!(region, "eu-west-1");
                    (r.prefix.host_str().unwrap(), service.as_str())
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            signed,
            [
                ("bedrock-agent.eu-west-1.amazonaws.com", "bedrock"),
                ("bedrock-agentcore-control.eu-west-1.amazonaws.com", "bedrock-agentcore")
            ]
        );
        assert!(rules[0].exact && !rules[1].exact);
        let star = text.replace("path = \"/runtimes/\"", "path = \"/runtimes/*/\"");
        let e = Profile::parse("bedrock", &star).unwrap_err().to_string();
        assert!(e.contains("only an exact = true path"), "{e}");
        let bearer = text.replace("mechanism = \"aws-sigv4\"", "mechanism = \"bearer\"");
        let e = Profile::parse("bedrock", &bearer).unwrap_err().to_string();
        assert!(e.contains("only aws-sigv4 auth uses"), "{e}");
    }

    #[test]
    fn broken_profiles_say_what_is_wrong() {
        let e = Profile::parse("x", "connector = 1").unwrap_err().to_string();
        assert!(e.starts_with("connector profile x:"), "{e}");
        let e = Profile::parse("x", &GITHUB.replace("[[auth]]", "[[nope]]"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("nope"), "{e}");
        let e = Profile::parse(
            "x",
            &format!("{GITHUB}\n[[allow]]\npath = \"/\"\nmethods = [\"G ET\"]\n"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("not an HTTP method"), "{e}");
    }
}
