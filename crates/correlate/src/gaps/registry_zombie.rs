//! `registry-zombie`: a registry entry whose agent looks decommissioned.
//!
//! ## What it finds
//!
//! A registry entry none of whose code paths matched a code agent in this run, and:
//!
//! - it lists identities or credentials, the connectors found none of them, and every connector
//!   read its provider completely (a failed or incomplete connector could have missed them);
//! - or it lists identities or credentials, and every identity found for it has been unused for
//!   more than `registry_unused_days` (by its latest use, as for `stale-identity`). No recorded
//!   use counts as unused only where the provider reports use, and only once the identity is
//!   older than the threshold or its age is unknown;
//! - or it lists only code paths, code was scanned, and no agent was found at them.
//!
//! Severity: **low**. The owner is the entry's, when active. The evidence says what is missing,
//! or gives each identity's latest use.
//!
//! ## Why it matters
//!
//! A stale registration makes the registry look complete while it hides real gaps: its
//! identities may live on unowned, and a new agent may reuse its name or credentials unnoticed.
//! Retiring an agent means removing its identities and its entry (OWASP NHI1).
//!
//! ## Threshold
//!
//! `registry_unused_days`, default **90**: Roster's own default, the same window as
//! `stale-identity`'s `unused_days`; no standard sets one.
//!
//! ## Remediation
//!
//! Confirm with the owner; if the agent is retired, delete its identities and credentials and
//! remove the registry entry.
//!
//! ## Controls
//!
//! - OWASP NHI1: non-human identities are offboarded and owned.
//! - NIST AI RMF GOVERN 1.7: AI systems are decommissioned safely.

use super::registry_entity;
use crate::correlation::Correlation;
use crate::util::{controls, days, ev, fixed_text, reports_usage};
use roster_model::{GapKind, Severity, format_millis, parse_time};

impl Correlation<'_, '_> {
    /// Raises the gap of registry entry `r` when its agent looks decommissioned. `collected`:
    /// every connector read its provider completely.
    pub(super) fn registry_zombie(&mut self, r: usize, collected: bool) {
        let Some(reg) = self.cx.registry else { return };
        let t = self.cx.thresholds;
        let now = self.cx.now_ms;
        let a = &reg.agents[r];
        // Offboarding candidate: its identities are gone or unused, or its code is gone.
        let mine: Vec<usize> = (0..self.r.identities.len())
            .filter(|&i| self.identity_reg[i] == Some(r))
            .collect();
        let code_found = self.agent_reg.contains(&Some(r));
        let mut evidence = vec![];
        if !a.identities.is_empty() || !a.credentials.is_empty() {
            if mine.is_empty() && collected && !code_found {
                evidence.push(ev(
                    "correlation",
                    format!(
                        "none of its identities or credentials ({}) was found by the connectors",
                        a.identities
                            .iter()
                            .chain(&a.credentials)
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    None,
                ));
            } else if !mine.is_empty() && !code_found {
                let uses: Vec<Option<(i64, String)>> = mine.iter().map(|&i| self.last_use(i)).collect();
                // No recorded use counts as unused only once the identity is old enough (or
                // its age unknown) and its provider reports use.
                let unused = |i: usize, u: &Option<(i64, String)>| match u {
                    Some((t_used, _)) => days(now - t_used) > t.registry_unused_days,
                    None => {
                        let x = &self.r.identities[i];
                        reports_usage(x)
                            && x.created
                                .as_deref()
                                .and_then(parse_time)
                                .is_none_or(|c| days(now - c) > t.registry_unused_days)
                    }
                };
                if mine.iter().zip(&uses).all(|(&i, u)| unused(i, u)) {
                    for (&i, u) in mine.iter().zip(&uses) {
                        let x = &self.r.identities[i];
                        evidence.push(match u {
                            Some((t_used, what)) => ev(
                                &x.source,
                                format!("{what} {} days ago", days(now - t_used)),
                                Some(&format_millis(*t_used)),
                            ),
                            None => ev(&x.source, format!("`{}` has no recorded use", x.name), None),
                        });
                    }
                }
            }
        } else if !code_found && !self.r.sources.is_empty() {
            evidence.push(ev(
                "correlation",
                format!("no agent code was found at {}", a.code.join(", ")),
                None,
            ));
        }
        if evidence.is_empty() {
            return;
        }
        let mut entities = vec![registry_entity(a)];
        entities.extend(mine.iter().map(|&i| self.ident_entity(i)));
        let owner = self.registry_owner(r);
        let gap = self.push(
            GapKind::RegistryZombie,
            &a.id,
            Severity::Low,
            format!("registered agent `{}` looks decommissioned", a.id),
            entities,
        );
        gap.said = evidence;
        gap.owner = owner.map(std::sync::Arc::new);
        gap.remediation = fixed_text!(
            "Confirm with the owner; if the agent is retired, delete its identities and credentials and remove the registry entry."
        );
        gap.standards = controls!["OWASP NHI1", "NIST AI RMF GOVERN 1.7"];
    }
}

snapshot_test! {
    /// An entry whose only key was last used 243 days ago, an entry whose role the (complete)
    /// connectors did not find, and an entry whose code is not in the scanned repository. The
    /// near misses: an entry whose user was used yesterday, an entry whose code was found.
    registry_zombie, RegistryZombie
}
