//! `no-owner`: an identity or registered agent with no accountable, active owner.
//!
//! ## What it finds
//!
//! Two things:
//!
//! - An enabled identity for which owner resolution finds no active person. Resolution tries, in
//!   order: the registry entry that covers it (its owner, else its team); the owners and sponsors
//!   the identity provider declares, then owner tags; the CODEOWNERS owners of the paths where a
//!   secret tied to it was found; the creator the provider records; the author of the commit that
//!   added such a secret. Anyone the identity provider shows disabled is skipped, and the
//!   evidence names the owners and creators skipped. People CODEOWNERS assigns to code that
//!   names the identity's client id are listed as candidates to confirm, never taken as owners.
//!   Severity: **high** when the identity is an agent's (AI-capable, used by a code agent, or
//!   registered) or holds a broad permission, **medium** otherwise.
//! - A registry entry whose owner (or team, when it names no owner) is missing, or disabled in
//!   the identity provider. Severity: **high**.
//!
//! Placeholders, AI projects and identities the provider manages (service-linked roles, managed
//! identities, Microsoft's first-party applications) are not checked.
//!
//! ## Why it matters
//!
//! An identity no one answers for is never reviewed, rotated or offboarded, and in an incident
//! there is no one to ask what it is for. CIS Controls v8 5.5 asks for an owner for every service
//! account; OWASP NHI1 (improper offboarding) starts with identities whose owner left.
//!
//! ## Threshold
//!
//! None: one active owner is enough.
//!
//! ## Remediation
//!
//! Assign an accountable person (owner tag, IdP owner or registry entry) or disable the identity
//! if no one claims it. For a registry entry, name an active, accountable person as the agent's
//! owner in agents.toml, or decommission the agent.
//!
//! ## Controls
//!
//! - CIS Controls v8 5.5: an inventory of service accounts, with owner, purpose and review date.
//! - OWASP NHI1: non-human identities are offboarded and owned.
//! - ISO/IEC 27001 A.5.16: the full life cycle of identities is managed (identities only).

use super::{IdentityFacts, registry_entity};
use crate::correlation::Correlation;
use crate::util::{controls, ev, fixed_text};
use roster_model::{GapKind, Severity};

impl Correlation<'_, '_> {
    /// Raises the gap of an enabled identity whose owner could not be resolved.
    pub(super) fn identity_without_owner(&mut self, x: &IdentityFacts) {
        if !x.enabled || x.owner.is_some() {
            return;
        }
        let ident = &self.r.identities[x.i];
        let (_, skipped) = self.resolve_identity_owner(x.i);
        let candidates = self.client_id_candidates(x.i);
        let sev = if !x.ai.is_empty() || !self.privilege_reasons(x.i).is_empty() {
            Severity::High
        } else {
            Severity::Medium
        };
        let gap = self.push(
            GapKind::NoOwner,
            &x.subject,
            sev,
            format!("{} `{}` has no accountable owner", ident.kind, ident.name),
            vec![self.ident_entity(x.i)],
        );
        gap.said = skipped.into_iter().map(|s| ev(&x.src, s, None)).collect();
        gap.said.push(ev(
            "correlation",
            "no registry entry, owner in the identity provider, owner tag, CODEOWNERS entry, recorded creator or commit author names an active owner".into(),
            None,
        ));
        gap.said
            .extend(candidates.into_iter().map(|c| ev("codeowners", c, None)));
        gap.remediation = fixed_text!(
            "Assign an accountable person (owner tag, IdP owner or registry entry) or disable the identity if no one claims it."
        );
        gap.standards = controls!["CIS Controls v8 5.5", "OWASP NHI1", "ISO/IEC 27001 A.5.16"];
    }

    /// Raises the gap of registry entry `r` when it names no active owner.
    pub(super) fn registered_agent_without_owner(&mut self, r: usize) {
        let Some(reg) = self.cx.registry else { return };
        if self.registry_owner(r).is_some() {
            return;
        }
        let a = &reg.agents[r];
        let detail = if a.owner.is_empty() && a.team.is_empty() {
            format!("{} lists `{}` with no owner or team", reg.origin, a.id)
        } else {
            format!(
                "{} names {} as owner of `{}`, and the identity provider says they are disabled",
                reg.origin,
                if a.owner.is_empty() { &a.team } else { &a.owner },
                a.id
            )
        };
        let gap = self.push(
            GapKind::NoOwner,
            &a.id,
            Severity::High,
            format!("registered agent `{}` has no active owner", a.id),
            vec![registry_entity(a)],
        );
        gap.said = vec![ev("registry", detail, None)];
        gap.remediation = fixed_text!(
            "Name an active, accountable person as the agent's owner in agents.toml, or decommission the agent."
        );
        gap.standards = controls!["CIS Controls v8 5.5", "OWASP NHI1"];
    }
}

snapshot_test! {
    /// An Entra application whose only owner is disabled (its client id named in agent code that
    /// CODEOWNERS assigns: a candidate, not an owner), an admin role with no owner at all, and
    /// two registry entries, one with no owner and one whose owner is disabled. The near misses:
    /// a user with an owner tag, a service-linked role, a disabled user, a registry entry with an
    /// active owner.
    no_owner, NoOwner
}
