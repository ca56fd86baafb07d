//! `shared-credential`: one secret found in several places.
//!
//! ## What it finds
//!
//! A secret (one keyed fingerprint, or an AWS key id with its paired secret key) found at two or
//! more distinct locations, a location being a scanned source (repository or directory) and a
//! path in it: the same secret in two repositories, or in two files of one repository. Copies in
//! one file count once. It always comes with the secret's committed-secret gap, which holds the
//! commits and the provider's view; this gap's evidence lists the locations and points to it.
//!
//! Severity: **high**. The owner is the committed-secret gap's.
//!
//! ## Why it matters
//!
//! A credential used by several workloads or environments cannot be rotated without breaking all
//! of them, and its use cannot be attributed to one of them (OWASP NHI9, NHI reuse; NHI8,
//! environment isolation).
//!
//! ## Threshold
//!
//! None in time. The count is two distinct (source, path) locations: two repositories, or two
//! files of one repository.
//!
//! ## Remediation
//!
//! Issue one credential per workload and environment, revoke the shared one, and record each new
//! credential's owner in the registry.
//!
//! ## Controls
//!
//! - OWASP NHI9: a non-human identity is not reused across workloads.
//! - ISO/IEC 27001 A.5.17: authentication information is allocated and handled securely.

use crate::correlation::Correlation;
use crate::util::{controls, ev, fixed_text};
use roster_model::{CiteAs, EntityRef, Finding, GapKind, ResolvedOwner, Severity, Text};
use std::collections::BTreeSet;

/// What the shared-credential gap takes from the secret's committed-secret gap.
pub(super) struct SharedSecret<'r> {
    /// The committed-secret gap's subject (the group's smallest fingerprint).
    pub(super) subject: String,
    /// The group's first finding.
    pub(super) head: &'r Finding,
    /// The group's findings, by position in the report.
    pub(super) cited: Box<[u32]>,
    /// Every (source, path) the secret was found at.
    pub(super) locations: BTreeSet<(&'r str, &'r str)>,
    /// The committed-secret gap's entities.
    pub(super) entities: std::sync::Arc<[EntityRef]>,
    /// The committed-secret gap's id.
    pub(super) committed_id: Text,
    /// The committed-secret gap's owner.
    pub(super) owner: Option<std::sync::Arc<ResolvedOwner>>,
}

/// Whether a secret found at `locations` is shared: two or more distinct (source, path).
pub(super) fn is_shared(locations: &BTreeSet<(&str, &str)>) -> bool {
    locations.len() >= 2
}

impl Correlation<'_, '_> {
    /// Raises the shared-credential gap of a secret found in several places.
    pub(super) fn shared_credential(&mut self, s: SharedSecret<'_>) {
        let gap = self.push(
            GapKind::SharedCredential,
            &s.subject,
            Severity::High,
            format!(
                "{} {} is shared by {} locations",
                s.head.rule_name,
                s.head.redacted,
                s.locations.len()
            ),
            s.entities,
        );
        // The places are written from the findings when the gap is (`Gap::evidence`); the
        // commits and the provider's view are in the committed-secret gap's chain.
        gap.cited = s.cited;
        gap.cite_as = CiteAs::Places;
        gap.said = vec![ev(
            "correlation",
            format!("how it was committed, and by whom: gap {}", s.committed_id),
            None,
        )];
        gap.owner = s.owner;
        gap.remediation = fixed_text!(
            "Issue one credential per workload and environment, revoke the shared one, and record each new credential's owner in the registry."
        );
        gap.standards = controls!["OWASP NHI9", "ISO/IEC 27001 A.5.17"];
    }
}

snapshot_test! {
    /// A Hugging Face token in two files of one repository and in a second repository. The near
    /// miss: an Anthropic key twice in one file, one location.
    shared_credential, SharedCredential
}
