//! Roster's shared vocabulary: findings, agents, severities and the scan report.
//!
//! This crate does no I/O. Every type that can leave the process (JSON, SARIF, state files)
//! is defined here so the writers and the scanner agree on one shape.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The version of the JSON report contract (`docs/report-format.md`).
pub const REPORT_VERSION: u32 = 1;

/// How bad a finding is. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational (agent evidence, inventory).
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// All severities, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The lowercase name used in rule files, reports and flags.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses a lowercase severity name.
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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

/// What an agent rule's evidence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum AgentCategory {
    /// An agent framework or SDK used in code or declared as a dependency.
    Framework,
    /// An MCP server configuration.
    McpConfig,
    /// An A2A agent card.
    AgentCard,
    /// An AI agent action in a CI workflow.
    CiAction,
    /// An agent resource in infrastructure as code.
    Iac,
    /// The name of an environment variable holding a credential, read by a workload.
    CredentialRef,
}

impl AgentCategory {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentCategory::Framework => "framework",
            AgentCategory::McpConfig => "mcp-config",
            AgentCategory::AgentCard => "agent-card",
            AgentCategory::CiAction => "ci-action",
            AgentCategory::Iac => "iac",
            AgentCategory::CredentialRef => "credential-ref",
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
    pub rule_id: String,
    /// The rule's name ("OpenAI project API key").
    pub rule_name: String,
    /// The provider whose credential this is.
    pub provider: String,
    /// Always `secret` for findings.
    pub kind: RuleKind,
    /// Severity from the rule.
    pub severity: Severity,
    /// Path relative to the scan root (or inside the repository for history).
    pub path: String,
    /// 1-based line of the secret's first byte.
    pub line: u32,
    /// 1-based byte column of the secret's first byte.
    pub column: u32,
    /// Keyed fingerprint: HMAC-SHA256 of the secret under the installation's key, hex.
    pub fingerprint: String,
    /// A redacted form: a short prefix, an ellipsis, the last four characters.
    pub redacted: String,
    /// Length of the secret in bytes.
    pub length: usize,
    /// Shannon entropy (bits per byte) of the secret.
    pub entropy: f64,
    /// The scanned source: the directory or repository given on the command line.
    pub source: String,
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
    /// The commit that introduced the secret at this path (history scans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The author of that commit, as `Name <email>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// The commit's author date (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// The commit's summary line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_summary: Option<String>,
    /// The raw secret: present only when the user passed `--show-secrets`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The raw secret, in memory only for the duration of the run (never serialized).
    #[serde(skip)]
    pub raw: Option<SecretBytes>,
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
    /// The `path:line:column` location string.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.path, self.line, self.column)
    }
}

/// One piece of evidence that an agent workload exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
pub struct AgentEvidence {
    /// What the evidence is.
    pub category: AgentCategory,
    /// The framework or surface ("LangChain", "MCP").
    pub framework: String,
    /// The rule that found it.
    pub rule_id: String,
    /// Path of the file.
    pub path: String,
    /// 1-based line.
    pub line: u32,
    /// The matched evidence (package, resource type, server name); never a secret.
    pub evidence: String,
    /// The commit it was seen in (history scans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// A credential an agent uses: a secret found near it, or an environment variable it reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
pub struct AgentCredential {
    /// `finding` (a secret found in the agent's code) or `env-var` (a variable it reads).
    pub kind: String,
    /// The env var name, or the finding's rule id.
    pub name: String,
    /// Where it was seen.
    pub path: String,
    /// 1-based line.
    pub line: u32,
    /// The finding's keyed fingerprint (for `finding`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The finding's redacted form (for `finding`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redacted: Option<String>,
}

/// An MCP server declared in a client configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
pub struct McpServer {
    /// The server's name (its key under `mcpServers` / `servers`).
    pub name: String,
    /// The config file.
    pub path: String,
    /// `stdio` (a command) or `http` (a URL).
    pub transport: String,
    /// The command, or the URL without credentials.
    pub target: String,
    /// The package it runs (`npx -y @scope/pkg@1.2.3`), when one is named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Whether the package is pinned to an exact version.
    pub pinned: bool,
    /// Names of the environment variables and headers it is given.
    pub env: Vec<String>,
}

/// A discovered AI agent workload: a project directory (or repository) with agent evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    /// Stable id: `agent:` + the source and path.
    pub id: String,
    /// The project directory, relative to the scan root ("." for the root).
    pub path: String,
    /// The scan root or repository it was found in.
    pub source: String,
    /// Frameworks and surfaces seen (sorted, unique).
    pub frameworks: Vec<String>,
    /// Credentials it uses: findings in its files and env vars it reads.
    pub credentials: Vec<AgentCredential>,
    /// MCP servers it configures.
    pub mcp_servers: Vec<McpServer>,
    /// Every piece of evidence.
    pub evidence: Vec<AgentEvidence>,
}

/// Something that could not be scanned, or was skipped on purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanIssue {
    /// `error` (the source is incomplete) or `skipped` (by policy: binary, too large).
    pub level: String,
    /// The file, blob or repository.
    pub source: String,
    /// What went wrong, and what to do.
    pub message: String,
}

/// Counters for one scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanStats {
    /// Files (or blobs) whose content was scanned.
    pub files_scanned: u64,
    /// Bytes scanned.
    pub bytes_scanned: u64,
    /// Files skipped as binary.
    pub skipped_binary: u64,
    /// Files skipped as larger than the size cap.
    pub skipped_large: u64,
    /// Commits walked (history scans).
    pub commits: u64,
    /// Unique blobs scanned (history scans).
    pub blobs: u64,
    /// Findings suppressed by `roster:allow` comments.
    pub suppressed_inline: u64,
    /// Findings suppressed by the baseline.
    pub suppressed_baseline: u64,
    /// Wall time in milliseconds.
    pub elapsed_ms: u64,
}

impl ScanStats {
    /// Adds another scan's counters to these (wall time excepted: scans may overlap).
    pub fn add(&mut self, o: &ScanStats) {
        self.files_scanned += o.files_scanned;
        self.bytes_scanned += o.bytes_scanned;
        self.skipped_binary += o.skipped_binary;
        self.skipped_large += o.skipped_large;
        self.commits += o.commits;
        self.blobs += o.blobs;
        self.suppressed_inline += o.suppressed_inline;
        self.suppressed_baseline += o.suppressed_baseline;
    }
}

/// The tool that wrote a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    /// "roster".
    pub name: String,
    /// The crate version.
    pub version: String,
}

/// The JSON report: the contract documented in `docs/report-format.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Schema version ([`REPORT_VERSION`]).
    pub version: u32,
    /// The tool.
    pub tool: ToolInfo,
    /// The sources given (paths and repositories).
    pub sources: Vec<String>,
    /// True when some source could not be read completely (see `issues`).
    pub incomplete: bool,
    /// Counters.
    pub stats: ScanStats,
    /// Secrets found, sorted by severity (highest first), then path and line.
    pub findings: Vec<Finding>,
    /// AI agent workloads discovered.
    pub agents: Vec<Agent>,
    /// What could not be scanned, or was skipped.
    pub issues: Vec<ScanIssue>,
}
