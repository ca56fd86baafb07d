//! How a connector source's run ended.

use serde::{Deserialize, Serialize};

/// How one connector source's run ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorRun {
    /// The source's name in the config.
    pub source: String,
    /// The connector it runs.
    pub connector: String,
    /// `complete`, `incomplete` (some data missing, see `notes`) or `failed`.
    pub status: RunStatus,
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

/// How a connector source's run ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    /// Everything was read.
    Complete,
    /// Some data is missing (see the run's notes).
    Incomplete,
    #[default]
    /// The run failed (see its error); what it emitted before is kept.
    Failed,
}

impl RunStatus {
    /// The kebab-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Complete => "complete",
            RunStatus::Incomplete => "incomplete",
            RunStatus::Failed => "failed",
        }
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
