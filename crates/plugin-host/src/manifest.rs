//! The host-side manifest: which URLs a plugin may reach and which credential the host attaches
//! to each. It comes from the user's configuration, never from the plugin.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use aws_credential_types::provider::SharedCredentialsProvider;
use http::{HeaderName, Method};
use url::Url;

/// A secret held by the host. Its `Debug` never shows the value.
#[derive(Clone)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Arc::from(value.into()))
    }
    /// The value, for the places that attach it to a request (the egress, a token minter, git).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A token the host mints itself and refreshes before it expires (an Entra ID access token from
/// azure_identity, a GitHub App installation token, an Okta service app's token). The plugin
/// never sees how, nor the credential behind it.
pub trait TokenMinter: Send + Sync {
    /// What it is, for logs and the audit log ("Entra ID client secret of app 1234...").
    fn describe(&self) -> String;
    /// A current token.
    fn token(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Secret, String>> + Send + '_>>;
    /// For a sender-constrained token (DPoP, RFC 9449): the proof to send in the `DPoP` header
    /// of a request with this method to this URL (without query or fragment).
    fn proof(&self, _method: &str, _url: &str, _token: &Secret) -> Result<Option<String>, String> {
        Ok(None)
    }
}

/// How the host authenticates requests that match one allow rule.
#[derive(Clone)]
pub enum Auth {
    /// No credential is attached.
    None,
    /// `Authorization: <scheme> <secret>` (`Bearer`, `SSWS`, `token`).
    Authorization {
        /// The scheme word before the secret.
        scheme: String,
        /// The token.
        secret: Secret,
    },
    /// A custom header carries the secret (`x-api-key` for Anthropic).
    Header {
        /// Header name.
        name: HeaderName,
        /// The value.
        secret: Secret,
    },
    /// `Authorization: <scheme> <token>` with a token the host mints (short-lived, cached and
    /// refreshed by the minter).
    Minted {
        /// The scheme word (`Bearer`).
        scheme: String,
        /// Where tokens come from.
        minter: Arc<dyn TokenMinter>,
    },
    /// AWS Signature Version 4, with credentials from the AWS SDK's provider chain.
    AwsSigV4 {
        /// Signing name of the service (`iam`, `cloudtrail`).
        service: String,
        /// Signing region.
        region: String,
        /// Where credentials come from (environment, profile, SSO, assume-role, ...).
        provider: SharedCredentialsProvider,
    },
}

impl Auth {
    /// A short description for logs and `roster connectors`.
    pub fn describe(&self) -> String {
        match self {
            Auth::None => "none".into(),
            Auth::Authorization { scheme, .. } => format!("Authorization: {scheme} <secret>"),
            Auth::Header { name, .. } => format!("{name}: <secret>"),
            Auth::Minted { scheme, minter } => format!("Authorization: {scheme} <{}>", minter.describe()),
            Auth::AwsSigV4 { service, region, .. } => format!("AWS SigV4 ({service}, {region})"),
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// One allowed kind of request: a URL prefix, the methods allowed under it, for the AWS Query
/// and JSON APIs the actions allowed, and the credential the host attaches.
#[derive(Clone, Debug)]
pub struct AllowRule {
    /// Scheme, host, port and path prefix.
    pub prefix: Url,
    /// Methods allowed under the prefix; [`AllowRule::new`] allows only GET and HEAD.
    pub methods: Vec<Method>,
    /// For AWS APIs that name the operation in the request (the Query API's `Action`
    /// parameter, the JSON API's `X-Amz-Target` header): the operations allowed, exact names or
    /// `Prefix*`. `None`: the rule does not look at actions.
    pub actions: Option<Vec<String>>,
    /// What the host attaches.
    pub auth: Auth,
    /// The prefix is the whole path, not a prefix: a request matches only that path (with or
    /// without its trailing slash), each `*` segment standing for one segment. For a read that
    /// a REST API sends as a POST where POSTs under the same path write (Bedrock's
    /// `POST /agents/` lists agents, `POST /agents/{id}/` prepares one).
    pub exact: bool,
}

/// The methods a rule allows unless it says otherwise: reads.
pub const READ_METHODS: [Method; 2] = [Method::GET, Method::HEAD];

/// AWS operations that read without changing anything, for an `aws-sigv4` rule that names no
/// actions: `List*`, `Get*` and `Describe*` (minus [`AWS_CREDENTIAL_READS`]), the IAM reports
/// and CloudTrail's event lookup.
pub const AWS_READ_ACTIONS: [&str; 6] = [
    "List*",
    "Get*",
    "Describe*",
    "GenerateCredentialReport",
    "GenerateServiceLastAccessedDetails",
    "LookupEvents",
];

/// AWS "reads" that hand out a credential or a secret: never allowed through a wildcard, only
/// when named exactly.
pub const AWS_CREDENTIAL_READS: [&str; 9] = [
    "GetSessionToken",
    "GetFederationToken",
    "GetSecretValue",
    "GetParameter",
    "GetParameters",
    "GetParametersByPath",
    "GetAuthorizationToken",
    "GetCredentialsForIdentity",
    "GetOpenIdToken",
];

/// Whether `action` is allowed by `patterns` (exact names, or `Prefix*`). A wildcard never
/// allows one of [`AWS_CREDENTIAL_READS`].
pub fn action_allowed(patterns: &[String], action: &str) -> bool {
    patterns.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => action.starts_with(prefix) && !AWS_CREDENTIAL_READS.contains(&action),
        None => p == action,
    })
}

/// What one plugin run may reach.
#[derive(Clone, Debug, Default)]
pub struct Manifest {
    /// The plugin's name, for messages.
    pub plugin: String,
    /// Allowed requests; one matching none is refused.
    pub allow: Vec<AllowRule>,
}

/// A manifest entry that cannot be accepted.
#[derive(Debug, thiserror::Error)]
#[error("allowed URL prefix {prefix:?}: {reason}")]
pub struct ManifestError {
    /// The prefix as written.
    pub prefix: String,
    /// Why it is refused.
    pub reason: String,
}

/// A loopback address (`localhost`, 127.0.0.0/8, ::1).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Link-local (cloud metadata services live at 169.254.169.254 and fd00:ec2::254) and
/// unspecified addresses are never reachable from a plugin.
fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local() || v4.is_unspecified() || v4.is_broadcast(),
        IpAddr::V6(v6) => {
            v6.is_unspecified() || (v6.segments()[0] & 0xffc0) == 0xfe80 || v6.segments()[..4] == [0xfd00, 0xec2, 0, 0]
        }
    }
}

impl AllowRule {
    /// Parses and checks a prefix: https only, except an explicit `http` prefix on a loopback
    /// address (a local emulator in tests); no credentials in the URL; never a metadata address.
    pub fn new(prefix: &str, auth: Auth) -> Result<Self, ManifestError> {
        let err = |reason: &str| ManifestError {
            prefix: prefix.to_string(),
            reason: reason.to_string(),
        };
        let mut url = Url::parse(prefix).map_err(|e| err(&format!("not a URL ({e})")))?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => {
                return Err(err(
                    "plain http is allowed only for a loopback address (a local emulator)",
                ));
            }
            _ => return Err(err("only https URLs can be allowed")),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(err("must not contain credentials"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(err("must not contain a query or fragment"));
        }
        let forbidden = match url.host() {
            Some(url::Host::Ipv4(ip)) => is_forbidden_ip(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => is_forbidden_ip(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => false,
            None => return Err(err("has no host")),
        };
        if forbidden {
            return Err(err("link-local and metadata addresses are never allowed"));
        }
        // A prefix ends at a segment boundary: a `/`, or the `%2F` inside a GitLab namespace
        // path (`/projects/acme%2F` is every project of the group acme).
        if !url.path().ends_with('/') && !url.path().to_ascii_lowercase().ends_with("%2f") {
            let p = format!("{}/", url.path());
            url.set_path(&p);
        }
        // The path as written: the URL parser would resolve `%2e%2e` and `..` away.
        let raw_path = prefix
            .parse::<http::Uri>()
            .map(|u| u.path().to_string())
            .unwrap_or_default();
        crate::canonical::check_path(&raw_path).map_err(|why| err(&why))?;
        Ok(Self {
            prefix: url,
            methods: READ_METHODS.to_vec(),
            actions: None,
            auth,
            exact: false,
        })
    }

    /// Matches only the prefix's whole path, `*` segments standing for one segment each.
    #[must_use]
    pub fn exact(mut self) -> Self {
        self.exact = true;
        self
    }

    /// Allows these methods instead of GET and HEAD (a write only where a read API needs it).
    #[must_use]
    pub fn methods(mut self, methods: impl IntoIterator<Item = Method>) -> Self {
        self.methods = methods.into_iter().collect();
        self
    }

    /// Allows only these AWS operations (exact names or `Prefix*`).
    #[must_use]
    pub fn actions(mut self, actions: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.actions = Some(actions.into_iter().map(Into::into).collect());
        self
    }

    fn matches_url(&self, url: &Url) -> bool {
        let p = &self.prefix;
        url.scheme() == p.scheme()
            && url.host() == p.host()
            && url.port_or_known_default() == p.port_or_known_default()
            && url.username().is_empty()
            && url.password().is_none()
            && if self.exact {
                let path = url.path().strip_suffix('/').unwrap_or(url.path());
                let want = p.path().strip_suffix('/').unwrap_or(p.path());
                let (got, want): (Vec<&str>, Vec<&str>) = (path.split('/').collect(), want.split('/').collect());
                got.len() == want.len()
                    && got
                        .iter()
                        .zip(&want)
                        .all(|(g, w)| g == w || (*w == "*" && !g.is_empty()))
            } else {
                url.path().starts_with(p.path()) || format!("{}/", url.path()) == p.path()
            }
    }
}

impl Manifest {
    /// The rule that allows `method` on `url`, or why none does. The URL is the canonical form
    /// [`crate::canonical::checked_url`] returned; an AWS rule's actions are checked later, on
    /// the whole request ([`AllowRule::check_actions`]).
    pub fn check(&self, method: &Method, url: &Url) -> Result<&AllowRule, String> {
        let under: Vec<&AllowRule> = self.allow.iter().filter(|r| r.matches_url(url)).collect();
        if let Some(rule) = under.iter().find(|r| r.methods.contains(method)) {
            return Ok(rule);
        }
        let mut shown = url.clone();
        shown.set_query(None);
        if !under.is_empty() {
            let allowed: Vec<&str> = under
                .iter()
                .flat_map(|r| r.methods.iter().map(Method::as_str))
                .collect();
            return Err(format!(
                "method {method} is not allowed for {shown} (plugin {} may send only {} there)",
                self.plugin,
                allowed.join(", ")
            ));
        }
        Err(format!(
            "{shown} is outside the allowed URL prefixes of plugin {} ({})",
            self.plugin,
            if self.allow.is_empty() {
                "none are allowed".to_string()
            } else {
                self.allow
                    .iter()
                    .map(|r| r.prefix.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ))
    }
}

impl AllowRule {
    /// For a rule with actions: the AWS operation the request names (in the query string, a
    /// form-encoded body or `X-Amz-Target`), which must be exactly one and allowed.
    pub fn check_actions(&self, url: &Url, headers: &http::HeaderMap, body: &[u8]) -> Result<(), String> {
        let Some(patterns) = &self.actions else {
            return Ok(());
        };
        let mut named: Vec<String> = url
            .query_pairs()
            .chain(url::form_urlencoded::parse(body))
            .filter(|(k, _)| k == "Action")
            .map(|(_, v)| v.into_owned())
            .collect();
        for target in headers.get_all("x-amz-target") {
            let t = target.to_str().map_err(|_| "X-Amz-Target is not text".to_string())?;
            named.push(t.rsplit('.').next().unwrap_or(t).to_string());
        }
        named.sort();
        named.dedup();
        match named.as_slice() {
            [] => Err("the request names no AWS action (Action or X-Amz-Target)".into()),
            [one] if action_allowed(patterns, one) => Ok(()),
            [one] => Err(format!(
                "AWS action {one} is not allowed (allowed: {})",
                patterns.join(", ")
            )),
            many => Err(format!(
                "the request names several AWS actions ({}); one is allowed per request",
                many.join(", ")
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(prefixes: &[&str]) -> Manifest {
        Manifest {
            plugin: "p".into(),
            allow: prefixes
                .iter()
                .map(|p| AllowRule::new(p, Auth::None).unwrap())
                .collect(),
        }
    }

    #[test]
    fn prefixes_match_scheme_host_port_and_path() {
        let m = manifest(&["https://api.github.com/orgs/acme", "http://127.0.0.1:5000/"]);
        let ok = |u: &str| m.check(&Method::GET, &Url::parse(u).unwrap()).is_ok();
        assert!(ok("https://api.github.com/orgs/acme/installations?per_page=100"));
        assert!(ok("https://api.github.com/orgs/acme"));
        assert!(ok("https://API.GITHUB.COM:443/orgs/acme/x"));
        assert!(ok("http://127.0.0.1:5000/"));
        assert!(!ok("https://api.github.com/orgs/acme-evil/x"));
        assert!(!ok("https://api.github.com/orgs/acme/../../users/x"));
        assert!(!ok("https://api.github.com/orgs/acme/%2e%2e/%2e%2e/users"));
        assert!(!ok("https://api.github.com@evil.example.com/orgs/acme/"));
        assert!(!ok("https://user@api.github.com/orgs/acme/"));
        assert!(!ok("http://api.github.com/orgs/acme/"));
        assert!(!ok("https://api.github.com:8443/orgs/acme/"));
        assert!(!ok("http://127.0.0.1:5001/"));
        assert!(!ok("http://169.254.169.254/latest/meta-data/"));
    }

    #[test]
    fn unsafe_prefixes_are_refused() {
        for p in [
            "http://api.github.com/",
            "ftp://example.com/",
            "https://u:p@example.com/",
            "http://169.254.169.254/",
            "https://169.254.169.254/",
            "https://[fd00:ec2::254]/",
            "not a url",
        ] {
            assert!(AllowRule::new(p, Auth::None).is_err(), "{p} accepted");
        }
        assert!(AllowRule::new("http://localhost:8080/api", Auth::None).is_ok());
        assert!(AllowRule::new("https://example.com/a/%2e%2e/", Auth::None).is_err());
        assert!(AllowRule::new("http://[::1]:8080/", Auth::None).is_ok());
    }

    #[test]
    fn exact_rules_match_only_their_path_with_one_segment_per_star() {
        let m = Manifest {
            plugin: "p".into(),
            allow: [
                "https://bedrock-agent.us-east-1.amazonaws.com/agents/",
                "https://bedrock-agent.us-east-1.amazonaws.com/agents/*/agentversions/*/actiongroups/",
            ]
            .iter()
            .map(|p| AllowRule::new(p, Auth::None).unwrap().methods([Method::POST]).exact())
            .collect(),
        };
        let ok = |path: &str| {
            let url = Url::parse(&format!("https://bedrock-agent.us-east-1.amazonaws.com{path}")).unwrap();
            m.check(&Method::POST, &url).is_ok()
        };
        assert!(ok("/agents/"));
        assert!(ok("/agents"));
        assert!(ok("/agents/?x=1"));
        assert!(ok("/agents/AG1/agentversions/DRAFT/actiongroups/"));
        assert!(ok("/agents/AG1/agentversions/DRAFT/actiongroups"));
        for refused in [
            "/agents/AG1/",
            "/agents/AG1/agentversions/DRAFT/actiongroups/GR1/",
            "/agents/AG1/x/agentversions/DRAFT/actiongroups/",
            "/agents//agentversions/DRAFT/actiongroups/",
            "/agents/AG1/agentversions/DRAFT/",
            "/agentsX/",
            "/",
        ] {
            assert!(!ok(refused), "{refused}");
        }
    }

    #[test]
    fn only_the_rules_methods_pass() {
        let m = manifest(&["https://api.example.com/v1/"]);
        let url = Url::parse("https://api.example.com/v1/users").unwrap();
        assert!(m.check(&Method::GET, &url).is_ok());
        assert!(m.check(&Method::HEAD, &url).is_ok());
        for w in [
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ] {
            let e = m.check(&w, &url).unwrap_err();
            assert!(
                e.contains(&format!("method {w} is not allowed")) && e.contains("GET, HEAD"),
                "{e}"
            );
        }
    }

    #[test]
    fn aws_rules_allow_only_named_read_actions() {
        let rule = AllowRule::new("https://iam.amazonaws.com/", Auth::None)
            .unwrap()
            .methods([Method::POST])
            .actions(AWS_READ_ACTIONS);
        let url = Url::parse("https://iam.amazonaws.com/").unwrap();
        let h = http::HeaderMap::new();
        let ok = |body: &str| rule.check_actions(&url, &h, body.as_bytes());
        assert!(ok("Action=ListUsers&Version=2010-05-08").is_ok());
        assert!(ok("Action=GenerateCredentialReport&Version=2010-05-08").is_ok());
        assert!(
            ok("Action=CreateAccessKey&UserName=x")
                .unwrap_err()
                .contains("CreateAccessKey is not allowed")
        );
        assert!(
            ok("Action=ListUsers&Action=DeleteUser")
                .unwrap_err()
                .contains("several AWS actions")
        );
        assert!(ok("Version=2010-05-08").unwrap_err().contains("names no AWS action"));
        assert!(
            ok("Action=GetSessionToken").is_err(),
            "a credential read needs its exact name"
        );
        let q = Url::parse("https://iam.amazonaws.com/?Action=AttachUserPolicy").unwrap();
        assert!(rule.check_actions(&q, &h, b"Action=ListUsers").is_err());
        let mut h = http::HeaderMap::new();
        h.insert(
            "x-amz-target",
            http::HeaderValue::from_static("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"),
        );
        assert!(rule.check_actions(&url, &h, b"{}").is_ok());
        h.insert(
            "x-amz-target",
            http::HeaderValue::from_static("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.StopLogging"),
        );
        assert!(rule.check_actions(&url, &h, b"{}").is_err());
    }
}
