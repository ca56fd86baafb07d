//! Code repositories listed by code-host connectors.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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
