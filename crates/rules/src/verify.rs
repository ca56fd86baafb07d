//! `[rules.verify]`: how `--validate` asks the provider whether a found secret is live. Data
//! only; the host sends the request (roster-verify) through its egress.
//!
//! ```toml
//! [rules.verify]
//! url = "https://api.openai.com/v1/models"   # a read-only identity or listing endpoint
//! method = "GET"                              # GET (default), HEAD or POST
//! auth = "bearer"                             # bearer | token | header:NAME | aws-sigv4:SERVICE:REGION
//! headers = { "anthropic-version" = "2023-06-01" }   # optional, never secrets
//! body = "Action=GetCallerIdentity&Version=2011-06-15"   # optional (POST)
//! live = { status = [200] }                   # the key works
//! revoked = { status = [401] }                # the provider refused the key
//! # a JSON body can decide too (Slack answers 200 either way):
//! # live = { status = [200], json = { "/ok" = true } }
//! # revoked = { status = [200], json = { "/error" = ["invalid_auth", "token_revoked"] } }
//! ```

use serde::Deserialize;
use std::collections::BTreeMap;

/// `[rules.verify]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifySyntax {
    /// The endpoint.
    pub url: String,
    /// HTTP method.
    #[serde(default)]
    pub method: Option<String>,
    /// How the secret is attached.
    pub auth: String,
    /// Extra headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A request body.
    #[serde(default)]
    pub body: Option<String>,
    /// What a live key's answer looks like.
    pub live: OutcomeSyntax,
    /// What a refused key's answer looks like.
    pub revoked: OutcomeSyntax,
}

/// One expected answer as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeSyntax {
    /// Any of these statuses.
    pub status: Vec<u16>,
    /// JSON pointers into the body and the values (one, or a list of any) they must hold.
    #[serde(default)]
    pub json: BTreeMap<String, toml::Value>,
}

/// How the host attaches the secret to a validation request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyAuth {
    /// `Authorization: <scheme> <secret>` (`Bearer`, `token`).
    Authorization(String),
    /// A header holds the secret (`x-api-key`).
    Header(String),
    /// AWS Signature Version 4 with the access key id found and the secret access key paired
    /// with it (`pairs_with`).
    AwsSigV4 {
        /// Signing name of the service.
        service: String,
        /// Signing region.
        region: String,
    },
}

/// An expected answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Any of these statuses.
    pub status: Vec<u16>,
    /// JSON pointer and the values (as text: `true`, `invalid_auth`) any of which it must hold.
    pub json: Vec<(String, Vec<String>)>,
}

/// A rule's validation request and how to read its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verify {
    /// HTTP method.
    pub method: String,
    /// The endpoint (https).
    pub url: String,
    /// How the secret is attached.
    pub auth: VerifyAuth,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The request body.
    pub body: String,
    /// A live key.
    pub live: Outcome,
    /// A refused key.
    pub revoked: Outcome,
}

impl Verify {
    /// Checks and compiles a `[rules.verify]` table.
    pub(crate) fn compile(syn: VerifySyntax) -> Result<Verify, String> {
        let method = syn.method.as_deref().unwrap_or("GET").to_ascii_uppercase();
        if !matches!(method.as_str(), "GET" | "HEAD" | "POST") {
            return Err(format!("verify.method {method:?}: expected GET, HEAD or POST"));
        }
        let Some(rest) = syn.url.strip_prefix("https://") else {
            return Err(format!("verify.url {:?} must be an https:// URL", syn.url));
        };
        if rest.is_empty() || rest.contains('@') || rest.contains(char::is_whitespace) {
            return Err(format!("verify.url {:?} is not a plain https URL", syn.url));
        }
        let auth = match syn.auth.split(':').collect::<Vec<_>>().as_slice() {
            ["bearer"] => VerifyAuth::Authorization("Bearer".into()),
            ["token"] => VerifyAuth::Authorization("token".into()),
            ["header", name] if !name.is_empty() => VerifyAuth::Header(name.to_ascii_lowercase()),
            ["aws-sigv4", service, region] if !service.is_empty() && !region.is_empty() => VerifyAuth::AwsSigV4 {
                service: (*service).to_owned(),
                region: (*region).to_owned(),
            },
            _ => {
                return Err(format!(
                    "verify.auth {:?}: expected bearer, token, header:NAME or aws-sigv4:SERVICE:REGION",
                    syn.auth
                ));
            }
        };
        let outcome = |o: OutcomeSyntax, what: &str| -> Result<Outcome, String> {
            if o.status.is_empty() || o.status.iter().any(|s| !(100..600).contains(s)) {
                return Err(format!("verify.{what}.status needs HTTP statuses (100-599)"));
            }
            let mut json = Vec::new();
            for (pointer, v) in o.json {
                if !pointer.starts_with('/') {
                    return Err(format!("verify.{what}.json: {pointer:?} is not a JSON pointer (/a/b)"));
                }
                let values = match v {
                    toml::Value::Array(a) => a.iter().map(text).collect::<Result<Vec<_>, _>>()?,
                    v => vec![text(&v)?],
                };
                json.push((pointer, values));
            }
            Ok(Outcome { status: o.status, json })
        };
        let live = outcome(syn.live, "live")?;
        let revoked = outcome(syn.revoked, "revoked")?;
        if live.json.is_empty() && revoked.json.is_empty() && live.status.iter().any(|s| revoked.status.contains(s)) {
            return Err("verify: a status is both live and revoked, with no json to tell them apart".into());
        }
        Ok(Verify {
            method,
            url: syn.url,
            auth,
            headers: syn.headers.into_iter().collect(),
            body: syn.body.unwrap_or_default(),
            live,
            revoked,
        })
    }
}

fn text(v: &toml::Value) -> Result<String, String> {
    match v {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        other => Err(format!(
            "verify json value {other:?}: expected a string, boolean or integer"
        )),
    }
}

#[cfg(test)]
mod tests {
    use crate::{Flavor, RuleSetBuilder, VerifyAuth};

    fn rule_with(verify: &str) -> Result<crate::RuleSet, String> {
        let text = format!(
            "[[rules]]\nid = \"acme.key\"\nregex = '''\\b(acme_[a-z0-9]{{20}})\\b'''\nkeywords = [\"acme_\"]\n\n[rules.verify]\n{verify}\n"
        );
        let mut b = RuleSetBuilder::new();
        b.add("user.toml", text, Flavor::Roster);
        b.build().map_err(|e| e.to_string())
    }

    #[test]
    fn a_verify_table_compiles_with_its_auth_and_answers() {
        let set = rule_with(
            "url = \"https://slack.com/api/auth.test\"\nmethod = \"post\"\nauth = \"bearer\"\n\
             live = { status = [200], json = { \"/ok\" = true } }\n\
             revoked = { status = [200], json = { \"/error\" = [\"invalid_auth\", \"token_revoked\"] } }",
        )
        .unwrap();
        let v = set.rule_by_id("acme.key").unwrap().verify.clone().unwrap();
        assert_eq!(v.method, "POST");
        assert_eq!(v.auth, VerifyAuth::Authorization("Bearer".into()));
        assert_eq!(v.live.json, [("/ok".to_owned(), vec!["true".to_owned()])]);
        assert_eq!(v.revoked.json[0].1, ["invalid_auth", "token_revoked"]);
    }

    #[test]
    fn unsafe_or_ambiguous_verify_tables_are_refused_with_the_reason() {
        for (verify, says) in [
            (
                "url = \"http://api.example/x\"\nauth = \"bearer\"\nlive = { status = [200] }\nrevoked = { status = [401] }",
                "https://",
            ),
            (
                "url = \"https://u:p@api.example/x\"\nauth = \"bearer\"\nlive = { status = [200] }\nrevoked = { status = [401] }",
                "plain https",
            ),
            (
                "url = \"https://api.example/x\"\nauth = \"basic\"\nlive = { status = [200] }\nrevoked = { status = [401] }",
                "verify.auth",
            ),
            (
                "url = \"https://api.example/x\"\nmethod = \"DELETE\"\nauth = \"bearer\"\nlive = { status = [200] }\nrevoked = { status = [401] }",
                "GET, HEAD or POST",
            ),
            (
                "url = \"https://api.example/x\"\nauth = \"bearer\"\nlive = { status = [200] }\nrevoked = { status = [200] }",
                "both live and revoked",
            ),
            (
                "url = \"https://api.example/x\"\nauth = \"bearer\"\nlive = { status = [] }\nrevoked = { status = [401] }",
                "HTTP statuses",
            ),
            (
                "url = \"https://api.example/x\"\nauth = \"bearer\"\nlive = { status = [200], json = { ok = true } }\nrevoked = { status = [401] }",
                "JSON pointer",
            ),
        ] {
            let err = rule_with(verify).unwrap_err();
            assert!(err.contains(says) && err.contains("acme.key"), "{says}: {err}");
        }
    }
}
