//! `unregistered-agent`: an AI agent the agent registry does not list.
//!
//! ## What it finds
//!
//! Two things:
//!
//! - An enabled, AI-capable identity that no registry entry lists, by id, name, app, client or
//!   user id, credential id, or the fingerprint of a secret in code tied to it. AI-capable means
//!   any of: an AI provider's key or service account, an identity its provider calls an agent,
//!   a trust policy that lets an AI service assume it, policies that allow AI-service actions, a
//!   credential last used with an AI service or issued for one, or audit-log events from AI
//!   clients or to AI services. An identity a code agent uses, or a role a platform's agent
//!   acts as (a Bedrock agent's `role_arn`), is left to that agent's gap, and a
//!   person's identity used by an AI client to `human-credential-used-by-agent`. Severity:
//!   **medium**; the evidence lists each reason.
//! - A code agent (agent framework imports, MCP configuration, agent cards, ...) whose directory
//!   no registry entry's `code` paths cover. Severity: **high** when a secret was found in its
//!   files, **medium** otherwise. The evidence lists up to six pieces of code evidence, the
//!   secrets it uses, and how it reaches identities (a secret tied to the identity, or the
//!   identity's client id named in its code).
//!
//! Placeholders, AI projects and identities the provider manages (service-linked roles, managed
//! identities, Microsoft's first-party applications) are not checked.
//!
//! ## Why it matters
//!
//! An agent no one registered has no declared owner, purpose or review date: nobody reviews what
//! it can reach, and nobody retires it. An inventory of AI systems is the first governance
//! control (NIST AI RMF GOVERN 1.6).
//!
//! ## Threshold
//!
//! None.
//!
//! ## Remediation
//!
//! Register the agent in agents.toml with an accountable owner, purpose, the identities it uses
//! and a review date (`roster registry init` drafts entries), or remove its AI access, or
//! decommission it.
//!
//! ## Controls
//!
//! - NIST AI RMF GOVERN 1.6: AI systems are inventoried.
//! - CIS Controls v8 5.1: an inventory of all accounts is established and maintained.

use super::IdentityFacts;
use crate::correlation::Correlation;
use crate::util::{controls, ent, ev, fixed_text};
use roster_model::{Evidence, GapKind, Severity};

impl Correlation<'_, '_> {
    /// Raises the gap of an AI-capable identity no registry entry lists.
    pub(super) fn unregistered_identity(&mut self, x: &IdentityFacts) {
        let (i, r) = (x.i, self.r);
        let ident = &r.identities[i];
        // Unless a code agent already stands for it, or it is a person's: that is the
        // human-credential gap.
        let ai_client_uses = self.ident_acts[i]
            .iter()
            .filter(|&&a| r.activities[a].attrs.contains_key("ai_client"))
            .count();
        if x.enabled
            && (x.human.is_empty() || ai_client_uses == 0)
            && self.identity_reg[i].is_none()
            && !self.ai_reasons(i).is_empty()
            && !x.agent_linked
        {
            let why = self.ai_reasons(i);
            let gap = self.push(
                GapKind::UnregisteredAgent,
                &x.subject,
                Severity::Medium,
                format!(
                    "AI-capable {} `{}` is not in the agent registry",
                    ident.kind, ident.name
                ),
                vec![self.ident_entity(i)],
            );
            gap.said = why.into_iter().map(|w| ev(&x.src, w, None)).collect();
            gap.said.push(ev(
                "registry",
                "no registry entry lists this identity or its credentials".into(),
                None,
            ));
            gap.owner = x.owner.clone();
            gap.remediation = fixed_text!(
                "Register the agent in agents.toml with an accountable owner, purpose and review date (`roster registry init` drafts entries), or remove its AI access."
            );
            gap.standards = controls!["NIST AI RMF GOVERN 1.6", "CIS Controls v8 5.1"];
        }
    }

    /// Raises the gap of code agent `ai` when no registry entry covers its path.
    pub(super) fn unregistered_code_agent(&mut self, ai: usize) {
        if self.agent_reg[ai].is_some() {
            return;
        }
        let a = &self.r.agents[ai];
        let mut entities = vec![ent("agent", &a.id, &a.path)];
        entities.extend(self.agent_idents[ai].iter().map(|&i| self.ident_entity(i)));
        let mut evidence: Vec<Evidence> = a
            .evidence
            .iter()
            .take(6)
            .map(|e| {
                ev(
                    &a.source,
                    format!(
                        "{} ({}) at {}:{}: {}",
                        e.framework,
                        e.category.as_str(),
                        e.path,
                        e.line,
                        e.evidence
                    ),
                    None,
                )
            })
            .collect();
        for c in a.credentials.iter().filter(|c| c.kind == "finding") {
            evidence.push(ev(
                &a.source,
                format!(
                    "uses secret {} ({}) at {}:{}",
                    c.redacted.as_deref().unwrap_or("?"),
                    c.name,
                    c.path,
                    c.line
                ),
                None,
            ));
        }
        for &i in &self.agent_idents[ai] {
            for how in self.agent_links.get(&(ai, i)).into_iter().flatten() {
                evidence.push(ev("correlation", how.clone(), None));
            }
        }
        evidence.push(ev(
            "registry",
            format!("no registry entry covers the path `{}`", a.path),
            None,
        ));
        let sev = if a.credentials.iter().any(|c| c.kind == "finding") {
            Severity::High
        } else {
            Severity::Medium
        };
        let title = format!(
            "agent `{}` ({}) is not in the agent registry",
            a.path,
            a.frameworks.join(", ")
        );
        let subject = format!("{}\u{0}{}", a.source, a.path);
        let owner = self.agent_owner[ai].clone();
        let gap = self.push(GapKind::UnregisteredAgent, &subject, sev, title, entities);
        gap.said = evidence;
        gap.owner = owner;
        gap.remediation = fixed_text!(
            "Register the agent in agents.toml with an accountable owner, purpose, the identities it uses and a review date (`roster registry init` drafts the entry), or decommission it."
        );
        gap.standards = controls!["NIST AI RMF GOVERN 1.6", "CIS Controls v8 5.1"];
    }
}

snapshot_test! {
    /// An OpenAI service account and a CrewAI agent with a secret in its directory, neither in
    /// the registry. The near misses: a service account and a LangChain agent the registry lists.
    unregistered_agent, UnregisteredAgent
}
