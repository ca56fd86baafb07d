//! Credentials found in files and git history, and the rules that find them.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::{Interner, Severity, Text};

/// What a rule detects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// A credential: the capture group is the secret.
    #[default]
    Secret,
    /// Evidence of an AI agent workload.
    Agent,
}

impl RuleKind {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Secret => "secret",
            RuleKind::Agent => "agent",
        }
    }
}

/// The commit that introduced a finding (history scans only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitInfo {
    /// Full commit id (hex).
    pub id: String,
    /// Author name.
    pub author: String,
    /// Author email.
    pub email: String,
    /// Author date, RFC 3339 in UTC.
    pub date: String,
    /// First line of the commit message.
    pub summary: String,
}

/// A credential found in a file or in git history. It never holds the raw secret unless the user
/// asked for it (`secret` is filled only with `--show-secrets`).
///
/// The fields most findings leave empty (a decoding, a pair, a checksum, `--validate`'s answer,
/// the raw secret) are in one box, [`FindingExtra`], read through the accessors below: a million
/// findings then take about 200 bytes each rather than 350. It serializes exactly as if they were
/// fields of their own.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The rule that matched.
    pub rule_id: Text,
    /// The rule's name ("OpenAI project API key").
    pub rule_name: Text,
    /// The provider whose credential this is.
    pub provider: Text,
    /// Always `secret` for findings.
    pub kind: RuleKind,
    /// Severity from the rule.
    pub severity: Severity,
    /// Path relative to the scan root (or inside the repository for history).
    pub path: Text,
    /// 1-based line of the secret's first byte.
    pub line: u32,
    /// 1-based byte column of the secret's first byte.
    pub column: u32,
    /// Keyed fingerprint: HMAC-SHA256 of the secret under the installation's key, hex.
    pub fingerprint: Text,
    /// A redacted form: a short prefix, an ellipsis, the last four characters.
    pub redacted: Text,
    /// Length of the secret in bytes.
    pub length: usize,
    /// Shannon entropy (bits per byte) of the secret.
    pub entropy: f64,
    /// The scanned source: the directory or repository given on the command line.
    pub source: Text,
    /// The commit that introduced the secret at this path (history scans).
    pub commit: Option<Text>,
    /// The author of that commit, as `Name <email>`.
    pub author: Option<Text>,
    /// The commit's author date (RFC 3339, UTC).
    pub date: Option<Text>,
    /// The commit's summary line.
    pub commit_summary: Option<Text>,
    /// The rarely set fields; `None` when all of them are empty.
    pub extra: Option<Box<FindingExtra>>,
}

/// The fields of a [`Finding`] that most findings leave empty.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FindingExtra {
    /// Set when the secret was found in decoded content (e.g. `base64`, Kubernetes Secret data).
    pub decoded: Option<String>,
    /// The fingerprint of the finding that completes this one (an AWS access key id and its
    /// secret access key found together): the pair is a usable credential.
    pub paired_with: Option<String>,
    /// Set when the rule's format checksum was verified (`github-crc32`, `jwt`).
    pub validated: Option<String>,
    /// What the provider said when `--validate` asked whether the secret works; absent when
    /// it was not asked (no flag, or no read-only endpoint for this kind of secret).
    pub validation: Option<Validation>,
    /// The answer behind `validation` ("HTTP 401 from api.openai.com").
    pub validation_detail: Option<String>,
    /// The raw secret: present only when the user passed `--show-secrets`.
    pub secret: Option<String>,
    /// The raw secret, in memory only for the duration of the run (never serialized).
    pub raw: Option<SecretBytes>,
}

impl FindingExtra {
    /// Whether every field is empty.
    pub fn is_empty(&self) -> bool {
        *self == FindingExtra::default()
    }
}

/// A [`Finding`] as it is written and read, the boxed fields in their places among the others:
/// written with `T = &Text, S = &str`, read with `T = Text, S = String`.
#[derive(Serialize, Deserialize)]
struct Wire<T, S> {
    rule_id: T,
    rule_name: T,
    provider: T,
    kind: RuleKind,
    severity: Severity,
    path: T,
    line: u32,
    column: u32,
    fingerprint: T,
    redacted: T,
    length: usize,
    entropy: f64,
    source: T,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    decoded: Option<S>,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    paired_with: Option<S>,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    validated: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    validation: Option<Validation>,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    validation_detail: Option<S>,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    commit: Option<T>,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    author: Option<T>,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    date: Option<T>,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    commit_summary: Option<T>,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    secret: Option<S>,
}

fn none<X>() -> Option<X> {
    None
}

impl Serialize for Finding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Wire {
            rule_id: &self.rule_id,
            rule_name: &self.rule_name,
            provider: &self.provider,
            kind: self.kind,
            severity: self.severity,
            path: &self.path,
            line: self.line,
            column: self.column,
            fingerprint: &self.fingerprint,
            redacted: &self.redacted,
            length: self.length,
            entropy: self.entropy,
            source: &self.source,
            decoded: self.decoded(),
            paired_with: self.paired_with(),
            validated: self.validated(),
            validation: self.validation(),
            validation_detail: self.validation_detail(),
            commit: self.commit.as_ref(),
            author: self.author.as_ref(),
            date: self.date.as_ref(),
            commit_summary: self.commit_summary.as_ref(),
            secret: self.secret(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Finding {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let f = Wire::<Text, String>::deserialize(d)?;
        let mut out = Finding {
            rule_id: f.rule_id,
            rule_name: f.rule_name,
            provider: f.provider,
            kind: f.kind,
            severity: f.severity,
            path: f.path,
            line: f.line,
            column: f.column,
            fingerprint: f.fingerprint,
            redacted: f.redacted,
            length: f.length,
            entropy: f.entropy,
            source: f.source,
            commit: f.commit,
            author: f.author,
            date: f.date,
            commit_summary: f.commit_summary,
            extra: None,
        };
        out.set_extra(FindingExtra {
            decoded: f.decoded,
            paired_with: f.paired_with,
            validated: f.validated,
            validation: f.validation,
            validation_detail: f.validation_detail,
            secret: f.secret,
            raw: None,
        });
        Ok(out)
    }
}

/// What the provider said about a secret `--validate` sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Validation {
    /// The provider accepted it: the secret works now.
    Live,
    /// The provider refused it: revoked, expired or never valid.
    Revoked,
    /// The provider answered neither way (a 403 for a missing permission, a redirect).
    Unknown,
    /// No answer: the request failed or was throttled after its retries.
    Error,
}

impl Validation {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Validation::Live => "live",
            Validation::Revoked => "revoked",
            Validation::Unknown => "unknown",
            Validation::Error => "error",
        }
    }
}

/// Raw secret bytes. `Debug` never shows them and they are never serialized.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretBytes(pub Vec<u8>);

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes(<{} bytes redacted>)", self.0.len())
    }
}

/// Accessors for the optional strings of [`FindingExtra`].
macro_rules! extra_text {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        $(
            $(#[$doc])*
            pub fn $name(&self) -> Option<&str> {
                self.extra.as_ref()?.$name.as_deref()
            }
        )*
    };
}

impl Finding {
    /// Makes the strings findings repeat (the rule, the source, the path, the commit, the
    /// fingerprint of a secret found in several places) the interner's shared copies.
    pub fn share_strings(&mut self, i: &mut Interner) {
        for t in [
            &mut self.rule_id,
            &mut self.rule_name,
            &mut self.provider,
            &mut self.path,
            &mut self.fingerprint,
            &mut self.redacted,
            &mut self.source,
        ] {
            i.share(t);
        }
        for t in [
            &mut self.commit,
            &mut self.author,
            &mut self.date,
            &mut self.commit_summary,
        ] {
            i.share_opt(t);
        }
    }

    extra_text! {
        /// The decoding the secret was found under (`base64`), if any.
        decoded,
        /// The fingerprint of the finding that completes this one, if any.
        paired_with,
        /// The format checksum verified (`github-crc32`, `jwt`), if any.
        validated,
        /// The answer behind [`Finding::validation`].
        validation_detail,
        /// The raw secret shown with `--show-secrets`.
        secret,
    }

    /// What the provider said when `--validate` asked, if it was asked.
    pub fn validation(&self) -> Option<Validation> {
        self.extra.as_ref()?.validation
    }

    /// The raw secret held for the run.
    pub fn raw(&self) -> Option<&SecretBytes> {
        self.extra.as_ref()?.raw.as_ref()
    }

    /// The rarely set fields, to set one (boxed on first use).
    pub fn extra_mut(&mut self) -> &mut FindingExtra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// Replaces the rarely set fields; an empty set takes no memory.
    pub fn set_extra(&mut self, x: FindingExtra) {
        self.extra = (!x.is_empty()).then(|| Box::new(x));
    }

    /// Takes the raw secret out, dropping the box when nothing else is in it.
    pub fn take_raw(&mut self) -> Option<SecretBytes> {
        let raw = self.extra.as_mut()?.raw.take();
        if self.extra.as_ref().is_some_and(|x| x.is_empty()) {
            self.extra = None;
        }
        raw
    }

    /// The `path:line:column` location string.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.path, self.line, self.column)
    }

    /// The line of evidence a gap cites this finding with: what was found where, and in which
    /// commit and by whom when it came from history.
    pub fn evidence(&self) -> crate::Evidence {
        let at = match (&self.commit, &self.author) {
            (Some(c), Some(a)) => format!(" in commit {} by {a}", &c[..c.len().min(12)]),
            _ => String::new(),
        };
        crate::Evidence {
            source: self.source.clone(),
            detail: format!("{} {} at {}{at}", self.rule_name, self.redacted, self.location()),
            time: self.date.clone(),
        }
    }
}
