//! Roster's shared vocabulary: findings, agents, severities and the scan report.
//!
//! This crate does no I/O. Every type that can leave the process (JSON, SARIF, state files)
//! is defined here so the writers and the scanner agree on one shape.

use std::collections::BTreeMap;

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
    /// A public identifier of the identity a workload signs in as: an Entra application (client)
    /// id, an Okta client id. Not a secret; it joins the code to the app.
    IdentityRef,
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
            AgentCategory::IdentityRef => "identity-ref",
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
    /// `finding` (a secret found in the agent's code), `env-var` (a variable it reads) or
    /// `client-id` (the public id of an app it signs in as; `name` is the id).
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
    /// Who is accountable for it, as correlation resolved it (`roster discover`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accountable: Option<ResolvedOwner>,
    /// The registry entry that sanctions it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_as: Option<String>,
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
    /// Non-human identities collected by connectors, each with its credentials and permissions.
    #[serde(default)]
    pub identities: Vec<Identity>,
    /// Audit-log events collected by connectors.
    #[serde(default)]
    pub activities: Vec<Activity>,
    /// One entry per configured connector source: how its run ended.
    #[serde(default)]
    pub connectors: Vec<ConnectorRun>,
    /// Code repositories the code-host connectors listed (the GitHub organization's), and
    /// whether `roster discover` scanned them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repositories: Vec<Repository>,
    /// The ownership gaps found by correlation (`roster discover`), most severe first.
    #[serde(default)]
    pub gaps: Vec<Gap>,
    /// Each control the gaps map to, passed or failed (`roster discover`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compliance: Vec<ControlResult>,
}

/// One control of the compliance mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlResult {
    /// The control (`CIS AWS Foundations 1.14`, `OWASP NHI7`).
    pub control: String,
    /// What it requires, in one line.
    pub requirement: String,
    /// `pass`, `fail`, or `incomplete` (no gap, but some source was not fully read).
    pub status: String,
    /// Why it failed: gaps that map to it, a threshold looser than the control's limit.
    pub reasons: Vec<String>,
    /// The ids of the gaps that map to it.
    pub gaps: Vec<String>,
}

/// The kinds of gap correlation reports; spelled in kebab-case in the JSON report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GapKind {
    /// An AI agent (in code or an AI-capable identity) that the registry does not list.
    UnregisteredAgent,
    /// An identity or agent with no accountable, active owner.
    NoOwner,
    /// One secret in several places, or one credential used by several agents.
    SharedCredential,
    /// An active key older than the rotation threshold, or a secret that lives too long.
    LongLivedCredential,
    /// An enabled identity or active credential unused for longer than the threshold.
    StaleIdentity,
    /// An agent-linked identity with admin, wildcard or directory-wide permissions.
    OverPrivilegedAgent,
    /// A person's credential used by an AI client.
    HumanCredentialUsedByAgent,
    /// A secret committed to a repository or left in files.
    CommittedSecret,
    /// A registered agent whose identities are gone or unused: an offboarding candidate.
    RegistryZombie,
}

impl GapKind {
    /// All kinds, in report order.
    pub const ALL: [GapKind; 9] = [
        GapKind::CommittedSecret,
        GapKind::SharedCredential,
        GapKind::HumanCredentialUsedByAgent,
        GapKind::OverPrivilegedAgent,
        GapKind::UnregisteredAgent,
        GapKind::NoOwner,
        GapKind::LongLivedCredential,
        GapKind::StaleIdentity,
        GapKind::RegistryZombie,
    ];

    /// The kebab-case name used in reports and config.
    pub fn as_str(self) -> &'static str {
        match self {
            GapKind::UnregisteredAgent => "unregistered-agent",
            GapKind::NoOwner => "no-owner",
            GapKind::SharedCredential => "shared-credential",
            GapKind::LongLivedCredential => "long-lived-credential",
            GapKind::StaleIdentity => "stale-identity",
            GapKind::OverPrivilegedAgent => "over-privileged-agent",
            GapKind::HumanCredentialUsedByAgent => "human-credential-used-by-agent",
            GapKind::CommittedSecret => "committed-secret",
            GapKind::RegistryZombie => "registry-zombie",
        }
    }
}

impl fmt::Display for GapKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something a gap is about: an identity, a credential, an agent, a secret found in code, or a
/// registry entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntityRef {
    /// `identity`, `credential`, `agent`, `secret` or `registry-entry`.
    pub kind: String,
    /// Its stable id (ARN, key id, agent id, fingerprint, registry id).
    pub id: String,
    /// A readable name (user name, redacted secret, agent path).
    pub name: String,
}

/// One link in a gap's evidence chain: which source said what, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Where the fact comes from: a source name, `code`, `registry`, `correlation`.
    pub source: String,
    /// The fact, with the raw fields used ("access key created 2024-09-01, last used 2025-01-15").
    pub detail: String,
    /// The time the fact refers to, when there is one (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
}

/// The person or team accountable for an identity or agent, and which step of owner resolution
/// named them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedOwner {
    /// E-mail, user or team name.
    pub name: String,
    /// `registry`, `idp-owner`, `tag`, `codeowners`, `creator` or `commit-author`.
    pub via: String,
    /// True when the owner was declared (registry, IdP, tag); false when inferred (CODEOWNERS,
    /// creator, commit author) and so needs an owner's confirmation.
    pub attested: bool,
    /// The evidence for it ("tag owner=alice@example.com on arn:aws:iam::…:user/bot").
    pub evidence: String,
}

/// A correlated problem a security team must act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// Stable id: the same gap has the same id in every run (`gap-` + 16 hex).
    pub id: String,
    /// What kind of gap.
    pub kind: GapKind,
    /// How urgent.
    pub severity: Severity,
    /// One line saying what is wrong.
    pub title: String,
    /// The identities, credentials, agents and secrets involved; the first is the subject.
    pub entities: Vec<EntityRef>,
    /// Who is accountable, if anyone (the gap may be that no one is).
    pub owner: Option<ResolvedOwner>,
    /// How correlation concluded this, source by source.
    pub evidence: Vec<Evidence>,
    /// What to do about it.
    pub remediation: String,
    /// The controls it maps to (`CIS AWS 1.14`, `OWASP NHI7`, `NIST AI RMF GOVERN 1.6`).
    pub standards: Vec<String>,
    /// The first run that reported it (from the state database; RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    /// Set when the organization accepted this gap (`roster baseline accept`) and the acceptance
    /// has not expired: it is still reported, but no longer fails `--fail-on`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<Box<Acceptance>>,
}

impl Gap {
    /// A gap with no owner, evidence, remediation or standards yet.
    pub fn new(id: String, kind: GapKind, severity: Severity, title: String, entities: Vec<EntityRef>) -> Gap {
        Gap {
            id,
            kind,
            severity,
            title,
            entities,
            owner: None,
            evidence: vec![],
            remediation: String::new(),
            standards: vec![],
            first_seen: None,
            accepted: None,
        }
    }
}

/// A gap accepted into the baseline: a recorded, reasoned and usually time-limited decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    /// Why (a ticket, a compensating control).
    pub reason: String,
    /// When it was accepted (RFC 3339, UTC).
    pub accepted: String,
    /// When the acceptance lapses (RFC 3339, UTC); none for no end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Who accepted it (the user name of whoever ran the command).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

impl Report {
    /// An empty report of the current schema version, written by `tool_version` of Roster.
    pub fn empty(tool_version: &str) -> Report {
        Report {
            version: REPORT_VERSION,
            tool: ToolInfo {
                name: "roster".into(),
                version: tool_version.into(),
            },
            sources: vec![],
            incomplete: false,
            stats: ScanStats::default(),
            findings: vec![],
            agents: vec![],
            issues: vec![],
            identities: vec![],
            activities: vec![],
            connectors: vec![],
            repositories: vec![],
            gaps: vec![],
            compliance: vec![],
        }
    }
}

/// Someone accountable for an identity, and how the connector learned it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// Provider id of the owner, or the name when that is all there is.
    pub id: String,
    /// Display name, e-mail or team name.
    pub name: String,
    /// `user`, `group`, `team` or `unknown`.
    pub kind: String,
    /// How it was learned: `idp-owner`, `tag`, `creator`, `sponsor`, ...
    pub via: String,
    /// False when the provider says the owner is disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// A credential bound to an identity, as the provider reports it (never its value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// Provider id: AWS access key id, Entra keyId, token id.
    pub id: String,
    /// `access-key`, `client-secret`, `certificate`, `api-key`, `token`, `ssh-key`, ...
    pub kind: String,
    /// `active`, `inactive`, `expired`, `revoked` or `unknown`.
    pub status: String,
    /// Display name, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Creation time (RFC 3339, UTC).
    pub created: Option<String>,
    /// Expiry time (RFC 3339, UTC); none for credentials that never expire.
    pub expires: Option<String>,
    /// Last use (RFC 3339, UTC); none when never used or unknown.
    pub last_used: Option<String>,
    /// The service it was last used with (AWS: `bedrock`, `iam`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_service: Option<String>,
    /// The provider's redacted form of the value, if it shows one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redacted: Option<String>,
    /// Further attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, String>,
}

/// A permission an identity holds: a policy, scope or app role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    /// Policy name, scope or role name.
    pub name: String,
    /// `managed-policy`, `inline-policy`, `scope`, `app-role`, `delegated-grant`, ...
    pub kind: String,
    /// Actions granted, where listed (`iam:*`, `bedrock:InvokeModel`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
    /// Resources they apply to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// Further attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, String>,
}

/// A non-human identity collected from a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The configured source it came from (`[[source]] name`).
    pub source: String,
    /// `cloud-user`, `role`, `service-principal`, `idp-app`, `api-token`, `ai-key`, ...
    pub kind: String,
    /// Stable id in its source (ARN, object id, key id).
    pub id: String,
    /// Display name.
    pub name: String,
    /// The first owner the provider names, if any.
    pub owner: Option<Owner>,
    /// Every owner the provider names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<Owner>,
    /// Creation time (RFC 3339, UTC).
    pub created: Option<String>,
    /// Last use (RFC 3339, UTC).
    pub last_used: Option<String>,
    /// Whether the provider says it is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Tags as set in the provider.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Principals allowed to act as this identity (a role's trust policy).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_by: Vec<String>,
    /// Credentials bound to it.
    pub credentials: Vec<Credential>,
    /// Permissions it holds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<Permission>,
    /// Who is accountable for it, as correlation resolved it (`roster discover`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accountable: Option<ResolvedOwner>,
    /// The registry entry that sanctions it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_as: Option<String>,
    /// Further attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, String>,
}

/// One audit-log event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// The configured source it came from.
    pub source: String,
    /// Event id in its source.
    pub id: String,
    /// When (RFC 3339, UTC).
    pub time: String,
    /// The credential used, when the log names it.
    pub credential_id: Option<String>,
    /// The identity that acted.
    pub identity_id: Option<String>,
    /// API call or event type.
    pub action: String,
    /// Service or application called.
    pub service: Option<String>,
    /// Source IP address.
    pub source_ip: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
    /// `success` or `failure`.
    pub outcome: Option<String>,
    /// Further attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, String>,
}

/// A code repository a code host listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repository {
    /// The configured source it came from.
    pub source: String,
    /// `owner/name`.
    pub full_name: String,
    /// HTTPS clone URL.
    pub clone_url: String,
    /// Default branch.
    pub default_branch: Option<String>,
    /// Archived (read-only).
    pub archived: bool,
    /// A fork of another repository.
    pub fork: bool,
    /// Private or internal.
    pub private: bool,
    /// Last push (RFC 3339, UTC).
    pub pushed_at: Option<String>,
    /// How the code scan treated it: `scanned`, `skipped: <why>`, `failed: <why>`; absent when
    /// the source is not set to scan its repositories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan: Option<String>,
    /// Further attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, String>,
}

/// How one connector source's run ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorRun {
    /// The source's name in the config.
    pub source: String,
    /// The connector it runs.
    pub connector: String,
    /// `complete`, `incomplete` (some data missing, see `notes`) or `failed`.
    pub status: String,
    /// Why it failed, naming the plugin; none when it did not fail.
    pub error: Option<String>,
    /// What the connector said was skipped or partial.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Identities received.
    pub identities: u64,
    /// Credentials received.
    pub credentials: u64,
    /// Activity events received.
    pub activities: u64,
    /// HTTP requests made through the host (allowed and denied).
    pub requests: u64,
    /// Requests the host refused (outside the manifest).
    pub denied_requests: u64,
    /// Wall time in milliseconds.
    pub elapsed_ms: u64,
}

/// User-agent fragments of AI agent frameworks, AI SDKs and AI coding tools (compared without
/// case), each with the name reported. Written from the clients' own user-agent code and docs.
const AI_USER_AGENTS: [(&str, &str); 24] = [
    ("langchain", "langchain"),
    ("langgraph", "langgraph"),
    ("llama-index", "llamaindex"),
    ("llama_index", "llamaindex"),
    ("llamaindex", "llamaindex"),
    ("crewai", "crewai"),
    ("autogen", "autogen"),
    ("semantic-kernel", "semantic-kernel"),
    ("haystack", "haystack"),
    ("openai/python", "openai-sdk"),
    ("openai/js", "openai-sdk"),
    ("openai-python", "openai-sdk"),
    ("openai-agents", "openai-agents"),
    ("anthropic/python", "anthropic-sdk"),
    ("anthropic/js", "anthropic-sdk"),
    ("claude-code", "claude-code"),
    ("claude-cli", "claude-code"),
    ("github-copilot", "github-copilot"),
    ("copilot-", "github-copilot"),
    ("cursor/", "cursor"),
    ("modelcontextprotocol", "mcp"),
    ("mcp-client", "mcp"),
    ("bedrock-agent", "bedrock-agents"),
    ("amazon q", "amazon-q"),
];

/// The AI client a user agent names, if any (`langchain`, `openai-sdk`, `claude-code`, ...).
pub fn classify_user_agent(user_agent: &str) -> Option<&'static str> {
    let ua = user_agent.to_ascii_lowercase();
    AI_USER_AGENTS
        .iter()
        .find(|(frag, _)| ua.contains(frag))
        .map(|(_, name)| *name)
}

/// Names of AI products as they appear for the OAuth apps users grant access to (Google
/// Workspace token audit, consent logs), as runs of whole words, and the client they stand for.
/// Names that are also ordinary words ("otter", "read", "copilot", "cursor") count only with
/// the words that make them the AI product.
const AI_APP_NAMES: &[(&[&str], &str)] = &[
    (&["chatgpt"], "chatgpt"),
    (&["openai"], "openai"),
    (&["claude"], "claude"),
    (&["anthropic"], "claude"),
    (&["perplexity"], "perplexity"),
    (&["otter", "ai"], "otter-ai"),
    (&["fireflies", "ai"], "fireflies-ai"),
    (&["fireflies"], "fireflies-ai"),
    (&["read", "ai"], "read-ai"),
    (&["github", "copilot"], "github-copilot"),
    (&["microsoft", "copilot"], "microsoft-copilot"),
    (&["copilot", "studio"], "microsoft-copilot"),
    (&["cursor", "ai"], "cursor"),
    (&["anysphere"], "cursor"),
    (&["glean"], "glean"),
    (&["langchain"], "langchain"),
    (&["mcp"], "mcp"),
];

/// The AI client an OAuth app's name shows, if any (`ChatGPT` → `chatgpt`, `Claude.ai` →
/// `claude`, `Otter.ai` → `otter-ai`). Dots split words, so a product's domain counts as its name.
pub fn classify_app_name(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    let words: Vec<&str> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    AI_APP_NAMES
        .iter()
        .find(|(run, _)| words.windows(run.len()).any(|w| w == *run))
        .map(|(_, client)| *client)
}

/// Formats Unix milliseconds as RFC 3339 UTC (`2024-09-01T00:00:00Z`).
pub fn format_millis(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm), proleptic Gregorian calendar.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parses an RFC 3339 / ISO 8601 UTC time (`2024-09-01T00:00:00Z`, fractional seconds and
/// numeric offsets accepted, a date alone too) into Unix milliseconds.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let (mut h, mut mi, mut sec, mut frac_ms, mut off) = (0, 0, 0, 0i64, 0i64);
    if b.len() > 10 {
        if !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        h = num(11..13)?;
        mi = num(14..16)?;
        sec = num(17..19)?;
        let mut i = 19;
        if b.get(i) == Some(&b'.') {
            let start = i + 1;
            i = start;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let digits = &s[start..i];
            let ms3: String = digits.chars().chain("000".chars()).take(3).collect();
            frac_ms = ms3.parse().ok()?;
        }
        match b.get(i) {
            None | Some(b'Z' | b'z') => {}
            Some(&sign @ (b'+' | b'-')) => {
                let oh = num(i + 1..i + 3)?;
                let om = num(i + 4..i + 6).or_else(|| num(i + 3..i + 5))?;
                off = (oh * 60 + om) * 60 * if sign == b'+' { 1 } else { -1 };
            }
            _ => return None,
        }
    }
    // Days-from-civil (inverse of the above).
    let (yy, mm) = if mo <= 2 { (y - 1, mo + 9) } else { (y, mo - 3) };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * mm + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + sec - off) * 1000 + frac_ms)
}

/// An error and its causes, `outer: cause: root cause`, each cause once (SDK errors such as
/// "dispatch failure" say what went wrong only in their sources).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let next = c.to_string();
        if !s.contains(&next) {
            s.push_str(": ");
            s.push_str(&next);
        }
        cur = c.source();
    }
    s
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Parses lowercase or uppercase hex.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ai_user_agents_are_classified() {
        assert_eq!(
            classify_user_agent("python-httpx/0.27 langchain/0.2"),
            Some("langchain")
        );
        assert_eq!(classify_user_agent("OpenAI/Python 1.51.0"), Some("openai-sdk"));
        assert_eq!(
            classify_user_agent("claude-cli/1.0.3 (external, cli)"),
            Some("claude-code")
        );
        assert_eq!(classify_user_agent("Mozilla/5.0 (X11; Linux x86_64)"), None);
        assert_eq!(classify_user_agent("aws-cli/2.15 Python/3.11"), None);
    }

    #[test]
    fn ai_app_names_are_classified_as_whole_words() {
        assert_eq!(classify_app_name("ChatGPT"), Some("chatgpt"));
        assert_eq!(classify_app_name("ChatGPT.com"), Some("chatgpt"));
        assert_eq!(classify_app_name("Claude for Google Drive"), Some("claude"));
        assert_eq!(classify_app_name("Claude.ai"), Some("claude"));
        assert_eq!(classify_app_name("Perplexity.ai"), Some("perplexity"));
        assert_eq!(classify_app_name("Otter.ai"), Some("otter-ai"));
        assert_eq!(classify_app_name("Read AI"), Some("read-ai"));
        assert_eq!(classify_app_name("GitHub Copilot"), Some("github-copilot"));
        assert_eq!(classify_app_name("Zoom"), None);
        assert_eq!(classify_app_name("Otter Tail Power"), None);
        assert_eq!(classify_app_name("Copilot Money"), None);
        assert_eq!(classify_app_name("Custom Cursor"), None);
        assert_eq!(classify_app_name("Cursorless Editor"), None);
        assert_eq!(classify_app_name("Gleaner CRM"), None);
    }

    #[test]
    fn times_round_trip() {
        assert_eq!(format_millis(0), "1970-01-01T00:00:00Z");
        assert_eq!(parse_time("2024-09-01T00:00:00Z"), Some(1_725_148_800_000));
        assert_eq!(format_millis(1_725_148_800_000), "2024-09-01T00:00:00Z");
        assert_eq!(parse_time("2024-02-29T23:59:59.5+01:00"), Some(1_709_247_599_500));
        assert_eq!(parse_time("2000-03-01"), Some(951_868_800_000));
        assert_eq!(parse_time("2025-13-01T00:00:00Z"), None);
        assert_eq!(parse_time("not a date"), None);
        for ms in [-86_400_000_i64, 951_782_400_000, 4_102_444_800_000] {
            assert_eq!(parse_time(&format_millis(ms)), Some(ms));
        }
    }
}
