//! Audit-log events collected by connectors.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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
