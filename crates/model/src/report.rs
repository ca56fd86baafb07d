//! The JSON report and the compliance results it carries.

use serde::{Deserialize, Serialize, Serializer};

use crate::{
    Activity, Agent, ConnectorRun, Finding, Gap, Identity, Notification, Repository, ScanIssue, ScanStats, Text,
};

/// The version of the JSON report contract (`docs/report-format.md`).
pub const REPORT_VERSION: u32 = 1;

/// The tool that wrote a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    /// "roster".
    pub name: String,
    /// The crate version.
    pub version: String,
}

/// The JSON report: the contract documented in `docs/report-format.md`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Report {
    /// Schema version ([`REPORT_VERSION`]).
    pub version: u32,
    /// The tool.
    pub tool: ToolInfo,
    /// The organization the report is about (`organization` in roster.toml): a consultant's
    /// report names the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
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
    /// The ownership gaps found by correlation (`roster discover`), most severe first. They cite
    /// findings by position, so `findings` keeps its order once correlated.
    #[serde(default)]
    pub gaps: Vec<Gap>,
    /// Each control the gaps map to, passed or failed (`roster discover`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compliance: Vec<ControlResult>,
    /// How each `[[notify]]` target's delivery of this run's changes ended (`roster discover`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<Notification>,
}

/// A report is written field by field in the order above; its gaps are written one at a time,
/// each with the lines of the findings it cites.
impl Serialize for Report {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        fn none<T>(v: &Option<&T>) -> bool {
            v.is_none()
        }
        fn empty<T>(v: &&[T]) -> bool {
            v.is_empty()
        }
        /// The gaps and the findings they cite.
        struct Gaps<'a>(&'a [Gap], &'a [Finding]);
        impl Serialize for Gaps<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                crate::gap::serialize_gaps(self.0, self.1, s)
            }
        }
        #[derive(Serialize)]
        struct Wire<'a> {
            version: u32,
            tool: &'a ToolInfo,
            #[serde(skip_serializing_if = "none")]
            organization: Option<&'a String>,
            sources: &'a [String],
            incomplete: bool,
            stats: &'a ScanStats,
            findings: &'a [Finding],
            agents: &'a [Agent],
            issues: &'a [ScanIssue],
            identities: &'a [Identity],
            activities: &'a [Activity],
            connectors: &'a [ConnectorRun],
            #[serde(skip_serializing_if = "empty")]
            repositories: &'a [Repository],
            gaps: Gaps<'a>,
            #[serde(skip_serializing_if = "empty")]
            compliance: &'a [ControlResult],
            #[serde(skip_serializing_if = "empty")]
            notifications: &'a [Notification],
        }
        // Every field is named: one added to `Report` and not written here does not compile.
        let Report {
            version,
            tool,
            organization,
            sources,
            incomplete,
            stats,
            findings,
            agents,
            issues,
            identities,
            activities,
            connectors,
            repositories,
            gaps,
            compliance,
            notifications,
        } = self;
        Wire {
            version: *version,
            tool,
            organization: organization.as_ref(),
            sources,
            incomplete: *incomplete,
            stats,
            findings,
            agents,
            issues,
            identities,
            activities,
            connectors,
            repositories,
            gaps: Gaps(gaps, findings),
            compliance,
            notifications,
        }
        .serialize(s)
    }
}

/// One control of the compliance mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlResult {
    /// The control (`CIS AWS Foundations 1.14`, `OWASP NHI7`).
    pub control: String,
    /// What it requires, in one line.
    pub requirement: String,
    /// `pass`, `fail`, `not-assessed` or `incomplete` (no gap, but some source was not fully
    /// read).
    pub status: ControlStatus,
    /// Why it failed: gaps that map to it, a threshold looser than the control's limit.
    pub reasons: Vec<String>,
    /// The ids of the gaps that map to it (shared with the gaps).
    pub gaps: Vec<Text>,
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
            organization: None,
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
            notifications: vec![],
        }
    }
}

/// Where a compliance control stands after a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControlStatus {
    /// Assessed, and nothing fails it.
    Pass,
    /// A gap maps to it, or its threshold is looser than the control's limit.
    Fail,
    #[default]
    /// No source in the run read what it needs.
    NotAssessed,
    /// No gap, but a source it needs was not fully read.
    Incomplete,
}

impl ControlStatus {
    /// The kebab-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ControlStatus::Pass => "pass",
            ControlStatus::Fail => "fail",
            ControlStatus::NotAssessed => "not-assessed",
            ControlStatus::Incomplete => "incomplete",
        }
    }
}

impl std::fmt::Display for ControlStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
