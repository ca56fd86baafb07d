//! The gaps: one module per [`GapKind`](roster_model::GapKind), each holding its detection
//! code and its documentation in fixed sections (`## What it finds`, `## Why it matters`,
//! `## Threshold`, `## Remediation`, `## Controls`), and one snapshot test on a fixture in
//! `fixtures/` that triggers it next to a near miss that must not.
//!
//! The checks run in a fixed order, which is the order gaps are raised in before `correlate`
//! sorts them (ties keep it): the secrets in code, then each identity, then each code agent, then
//! each registry entry.

/// The snapshot test of one gap kind: correlates `fixtures/<module>.json`, checks that no near
/// miss raised the kind, and compares the kind's gaps with the snapshot in `snapshots/`.
macro_rules! snapshot_test {
    ($(#[$doc:meta])* $module:ident, $kind:ident) => {
        $(#[$doc])*
        #[cfg(test)]
        #[test]
        fn $module() {
            let kind = roster_model::GapKind::$kind;
            let json = include_str!(concat!("fixtures/", stringify!($module), ".json"));
            let gaps = crate::gaps::fixture::check(json, kind);
            insta::assert_snapshot!(kind.as_str(), gaps);
        }
    };
}

mod committed_secret;
mod human_credential_used_by_agent;
mod long_lived_credential;
mod no_owner;
mod over_privileged_agent;
mod registry_zombie;
mod review_overdue;
mod shared_credential;
mod stale_identity;
mod unregistered_agent;

#[cfg(test)]
mod fixture;

use crate::RegisteredAgent;
use crate::correlation::Correlation;
use crate::util::ent;
use roster_model::{EntityRef, ResolvedOwner};
use std::collections::BTreeMap;

/// What the identity checks share about one identity.
pub(crate) struct IdentityFacts {
    /// The identity's index in the report.
    i: usize,
    /// The provider does not say it is disabled.
    enabled: bool,
    /// Why it is an agent's: its AI reasons, the code agents using it, its registration.
    ai: Vec<String>,
    /// Why it is a person's.
    human: Vec<String>,
    /// A code agent uses it, or a platform's agent acts as it.
    agent_linked: bool,
    /// Its accountable owner, as resolved.
    owner: Option<std::sync::Arc<ResolvedOwner>>,
    /// The gap subject: source and id.
    subject: String,
    /// The source it came from (the evidence source).
    src: roster_model::Text,
}

impl Correlation<'_, '_> {
    /// The committed-secret gap of each secret group, and its shared-credential gap when it is
    /// found in several places.
    pub(crate) fn secret_gaps(&mut self) {
        for gi in 0..self.groups.len() {
            if let Some(shared) = self.committed_secret(gi) {
                self.shared_credential(shared);
            }
        }
    }

    /// The gaps of each identity, in this order: unregistered agent, no owner, over-privileged
    /// agent, human credential used by an agent, and for enabled identities long-lived credential
    /// and stale identity.
    pub(crate) fn identity_gaps(&mut self) {
        // Identities used by code agents, and roles platform agents act as.
        let mut agent_linked: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for (ai, set) in self.agent_idents.iter().enumerate() {
            for &i in set {
                agent_linked
                    .entry(i)
                    .or_default()
                    .push(format!("used by agent code at {}", self.r.agents[ai].path));
            }
        }
        // Roles a platform's agent acts as (a Bedrock agent's resource role, an AgentCore
        // runtime's role: its `role_arn`): the agent raises the unregistered gap, the role's
        // permissions are the agent's.
        for (a, role) in self.acts_as.iter().enumerate() {
            if let Some(i) = *role {
                let a = &self.r.identities[a];
                agent_linked
                    .entry(i)
                    .or_default()
                    .push(format!("the {} agent `{}` ({}) acts as it", a.source, a.name, a.id));
            }
        }
        for i in 0..self.r.identities.len() {
            let ident = &self.r.identities[i];
            // A record joined to its directory record raises its gaps there.
            if Self::skip_identity(ident) || self.directory_record[i].is_some() {
                continue;
            }
            let mut ai = self.ai_reasons(i);
            ai.extend(agent_linked.get(&i).cloned().unwrap_or_default());
            if let Some(r) = self.identity_reg[i] {
                ai.push(format!(
                    "registered as agent `{}`",
                    self.cx.registry.map(|g| g.agents[r].id.as_str()).unwrap_or("?")
                ));
            }
            let facts = IdentityFacts {
                i,
                enabled: ident.enabled != Some(false),
                ai,
                human: self.human_reasons(i),
                agent_linked: agent_linked.contains_key(&i),
                owner: self.identity_owner[i].clone(),
                subject: format!("{}\u{0}{}", ident.source, ident.id),
                src: ident.source.clone(),
            };
            self.unregistered_identity(&facts);
            self.identity_without_owner(&facts);
            self.over_privileged_agent(&facts);
            self.human_credential_used_by_agent(&facts);
            if !facts.enabled {
                continue;
            }
            self.long_lived_credential(&facts);
            self.stale_identity(&facts);
        }
    }

    /// The unregistered-agent gap of each code agent no registry entry covers.
    pub(crate) fn agent_gaps(&mut self) {
        for ai in 0..self.r.agents.len() {
            self.unregistered_code_agent(ai);
        }
    }

    /// The gaps of each registry entry: no owner, review overdue, then registry zombie.
    pub(crate) fn registry_gaps(&mut self) {
        let Some(reg) = self.cx.registry else { return };
        // "Gone" needs every connector to have read its provider completely.
        let collected = !self.r.connectors.is_empty()
            && self
                .r
                .connectors
                .iter()
                .all(|c| c.status == roster_model::RunStatus::Complete);
        for r in 0..reg.agents.len() {
            self.registered_agent_without_owner(r);
            self.review_overdue(r);
            self.registry_zombie(r, collected);
        }
    }
}

/// The entity of a registry entry: its id, and its name when it has one.
fn registry_entity(a: &RegisteredAgent) -> EntityRef {
    ent("registry-entry", &a.id, if a.name.is_empty() { &a.id } else { &a.name })
}
