//! What a scan could not read, and its counters.

use serde::{Deserialize, Serialize};

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
    /// Findings not reported because their rule had already matched the per-rule cap
    /// (`--max-findings-per-rule`) in that file; each such file and rule is in the issues.
    #[serde(default)]
    pub findings_over_cap: u64,
    /// What `--validate` asked the providers (absent without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<ValidationStats>,
}

/// Distinct secrets `--validate` checked with their providers, by answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationStats {
    /// Distinct secrets sent to their provider's endpoint.
    pub checked: u64,
    /// The provider accepted them.
    pub live: u64,
    /// The provider refused them.
    pub revoked: u64,
    /// The answer said neither.
    pub unknown: u64,
    /// No answer (network, throttling, server errors).
    pub error: u64,
    /// Distinct secrets with no read-only endpoint to ask (not sent anywhere).
    pub not_checkable: u64,
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
        self.findings_over_cap += o.findings_over_cap;
    }
}
