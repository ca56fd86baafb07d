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
