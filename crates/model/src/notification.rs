//! How each `[[notify]]` target's delivery of a run's changes ended.

use serde::{Deserialize, Serialize};

/// How many changes of each kind a delivery carried (after the target's filters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeCounts {
    /// Gaps in this run and not in the previous run of the scope.
    pub new: u64,
    /// Gaps in both whose severity went up.
    pub worsened: u64,
    /// Gaps in the previous run and not in this one.
    pub resolved: u64,
    /// Gaps whose acceptance was in force in the previous run and no longer is.
    pub lapsed: u64,
}

impl ChangeCounts {
    /// All changes.
    pub fn total(&self) -> u64 {
        self.new + self.worsened + self.resolved + self.lapsed
    }
}

/// How a target's delivery ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeliveryStatus {
    /// The receiver accepted everything.
    Delivered,
    /// Some or all of it was not delivered (see `error`).
    #[default]
    Failed,
    /// Nothing changed that the target's filters let through: nothing was sent.
    NothingToSend,
}

impl DeliveryStatus {
    /// The kebab-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::NothingToSend => "nothing-to-send",
        }
    }
}

impl std::fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `[[notify]]` target's delivery in a `roster discover` run. Never holds a secret: no
/// URL, token or signing key, only the receiver's host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// The target's name (its `name`, else its kind).
    pub target: String,
    /// `webhook`, `slack` or `jira`.
    pub kind: String,
    /// How it ended.
    pub status: DeliveryStatus,
    /// The changes it was to carry, after its filters.
    pub changes: ChangeCounts,
    /// HTTP requests made (retries included).
    pub attempts: u32,
    /// Why it failed, naming the receiver's host; none when it did not fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What was done at the receiver (Jira: the issues created or commented on).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detail: Vec<String>,
}
