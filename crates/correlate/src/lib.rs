//! Correlation: findings from code, identities and activity from connectors, and the agent
//! registry become one inventory with owners resolved, and the ownership gaps a security team must
//! act on. Pure: records in, conclusions out, each with its evidence chain.
//!
//! Joins (each kept as evidence):
//! - a secret in code ↔ a provider credential: by keyed fingerprint of the provider's key id (an
//!   AWS access key id), or by the provider's redacted value (same prefix, same last four);
//! - one fingerprint in several places ↔ a shared secret;
//! - audit-log activity ↔ its credential or identity, and AI user agents ↔ agent activity;
//! - a cloud role holder named by its Entra object id (Azure RBAC) ↔ the directory's record of
//!   that service principal (Entra ID), which then carries the holder's roles and AI marks;
//! - code agents ↔ the secrets in their directories ↔ the identities those secrets belong to;
//! - the registry ↔ code agents (by path) and identities (by id, name or key id).
//!
//! Layout: `joins` makes the joins, `owners` resolves owners, `classify` says what makes an
//! identity an agent's, a person's or over-privileged, and `gaps` holds one module per gap kind,
//! each with its detection code and its documentation. `compliance` maps the gaps to controls.

mod classify;
mod codeowners;
mod compliance;
mod correlation;
mod gaps;
mod joins;
mod owners;
mod registry;
mod util;

pub use codeowners::CodeOwners;
pub use registry::{RegisteredAgent, Registry, RegistryFile};

use correlation::Correlation;
use roster_model::{Gap, GapKind, Report, Text};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Thresholds for the time-based gaps (`[thresholds]` in roster.toml), in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// An active access key older than this is long-lived. Default 90: CIS AWS Foundations
    /// v3.0.0 §1.14 (rotate access keys every 90 days).
    pub access_key_max_age_days: i64,
    /// A secret, token or key whose lifetime (expiry − creation) is longer than this, or that
    /// never expires, is long-lived. Default 365: Entra's recommended maximum client-secret
    /// lifetime, OpenAI's one-year maximum for service-account keys, GitHub's fine-grained PAT
    /// default maximum (366).
    pub secret_max_lifetime_days: i64,
    /// An enabled identity unused this long is stale. Default 90: IAM Access Analyzer and
    /// Security Hub's unused-access window (CIS Controls v8 5.3 says 45 for dormant accounts).
    pub unused_days: i64,
    /// A registered agent whose identities were all unused this long is an offboarding
    /// candidate. Default 90.
    pub registry_unused_days: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            access_key_max_age_days: 90,
            secret_max_lifetime_days: 365,
            unused_days: 90,
            registry_unused_days: 90,
        }
    }
}

/// The scanner's keyed fingerprint function (HMAC-SHA256 under the installation key, hex).
pub type FingerprintFn<'f> = dyn Fn(&[u8]) -> String + 'f;

/// What correlation needs besides the report.
pub struct Context<'a> {
    /// "Now", in Unix milliseconds (the run's start).
    pub now_ms: i64,
    /// Time thresholds.
    pub thresholds: Thresholds,
    /// The agent registry, if the organization keeps one.
    pub registry: Option<&'a Registry>,
    /// CODEOWNERS per scanned source (the `source` of findings and agents).
    pub codeowners: &'a BTreeMap<String, CodeOwners>,
    /// The keyed fingerprint function the scanner used, to recognize provider key ids in code.
    pub fingerprint: Option<&'a FingerprintFn<'a>>,
}

/// Correlates `report` in place: fills each identity's and agent's `accountable` and
/// `registered_as`, and replaces `report.gaps`.
pub fn correlate(report: &mut Report, cx: &Context) {
    let mut c = Correlation::new(report, cx);
    c.run();
    // The joins are dropped here, before the sort and the compliance map, which reuse their memory.
    let (mut gaps, identity_owner, identity_reg, agent_owner, agent_reg) = c.into_results();
    for (i, ident) in report.identities.iter_mut().enumerate() {
        ident.accountable = identity_owner[i].clone();
        ident.registered_as =
            identity_reg[i].map(|r| cx.registry.map(|g| g.agents[r].id.as_str().into()).unwrap_or_default());
    }
    for (i, a) in report.agents.iter_mut().enumerate() {
        a.accountable = agent_owner[i].clone();
        a.registered_as = agent_reg[i].map(|r| cx.registry.map(|g| g.agents[r].id.clone()).unwrap_or_default());
    }
    sort_gaps(&mut gaps);
    report.compliance = compliance::assess(report, &gaps, &cx.thresholds, cx.registry.is_some());
    report.gaps = gaps;
}

/// Sorts the gaps most severe first, then by kind in report order, then by title; ties keep the
/// order they were raised in. A stable sort of the gaps themselves would hold a buffer of half
/// of them (80 MB for 700k gaps): this sorts their positions, then swaps each gap into place.
fn sort_gaps(gaps: &mut [Gap]) {
    let mut order: Vec<usize> = (0..gaps.len()).collect();
    order.sort_unstable_by(|&a, &b| {
        let (x, y) = (&gaps[a], &gaps[b]);
        y.severity
            .cmp(&x.severity)
            .then_with(|| kind_rank(x.kind).cmp(&kind_rank(y.kind)))
            .then_with(|| x.title.cmp(&y.title))
            .then(a.cmp(&b))
    });
    // Position k takes the gap at order[k]: follow each cycle of the permutation, marking
    // positions done as they are filled.
    for start in 0..order.len() {
        let mut j = start;
        loop {
            let k = order[j];
            order[j] = j;
            if k == start {
                break;
            }
            gaps.swap(j, k);
            j = k;
        }
    }
}

fn kind_rank(k: GapKind) -> usize {
    GapKind::ALL.iter().position(|x| *x == k).unwrap_or(usize::MAX)
}

/// The stable id of a gap: the same kind and subject give the same id in every run.
pub fn gap_id(kind: GapKind, subject: &str) -> Text {
    let mut h = Sha256::new();
    h.update(kind.as_str().as_bytes());
    h.update([0]);
    h.update(subject.as_bytes());
    let d = h.finalize();
    let mut s = String::from("gap-");
    for b in &d[..8] {
        s.push_str(&format!("{b:02x}"));
    }
    Text::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_sort_most_severe_first_and_ties_keep_their_order() {
        use roster_model::Severity;
        let g = |id: &str, kind, severity, title: &str| Gap::new(id.into(), kind, severity, title.into(), vec![]);
        let mut gaps = vec![
            g("a", GapKind::NoOwner, Severity::Low, "t"),
            g("b", GapKind::NoOwner, Severity::High, "z"),
            g("c", GapKind::CommittedSecret, Severity::High, "z"),
            g("d", GapKind::NoOwner, Severity::High, "a"),
            g("e", GapKind::NoOwner, Severity::Low, "t"),
            g("f", GapKind::NoOwner, Severity::High, "z"),
            g("g", GapKind::NoOwner, Severity::Low, "t"),
        ];
        sort_gaps(&mut gaps);
        let ids: Vec<&str> = gaps.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(ids, ["c", "d", "b", "f", "a", "e", "g"]);
    }

    #[test]
    fn gap_ids_are_stable_and_distinct() {
        assert_eq!(gap_id(GapKind::NoOwner, "a"), gap_id(GapKind::NoOwner, "a"));
        assert_ne!(gap_id(GapKind::NoOwner, "a"), gap_id(GapKind::StaleIdentity, "a"));
        assert_eq!(gap_id(GapKind::NoOwner, "a").len(), 20);
    }
}
