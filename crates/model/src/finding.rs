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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Set when the secret was found in decoded content (e.g. `base64`, Kubernetes Secret data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoded: Option<String>,
    /// The fingerprint of the finding that completes this one (an AWS access key id and its
    /// secret access key found together): the pair is a usable credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paired_with: Option<String>,
    /// Set when the rule's format checksum was verified (`github-crc32`, `jwt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validated: Option<String>,
    /// What the provider said when `--validate` asked whether the secret works; absent when
    /// it was not asked (no flag, or no read-only endpoint for this kind of secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<Validation>,
    /// The answer behind `validation` ("HTTP 401 from api.openai.com").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_detail: Option<String>,
    /// The commit that introduced the secret at this path (history scans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<Text>,
    /// The author of that commit, as `Name <email>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Text>,
    /// The commit's author date (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<Text>,
    /// The commit's summary line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_summary: Option<Text>,
    /// The raw secret: present only when the user passed `--show-secrets`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The raw secret, in memory only for the duration of the run (never serialized).
    #[serde(skip)]
    pub raw: Option<SecretBytes>,
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

    /// The `path:line:column` location string.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.path, self.line, self.column)
    }
}
