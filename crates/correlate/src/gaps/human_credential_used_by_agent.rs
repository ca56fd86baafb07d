//! `human-credential-used-by-agent`: a person's identity that an AI client uses.
//!
//! ## What it finds
//!
//! An identity that acts as a person, and that audit logs show used by an AI client (an agent
//! framework, AI SDK or AI coding tool recognized by its user agent or app name). It acts as a
//! person when it signs in to the console with a password, its provider says it is a person, a
//! tag (`type`, `kind`, `identity-type`) says `human`, or it is an API token that acts as the
//! person who created it (Okta SSWS tokens). Disabled identities are checked too: the events
//! happened. Severity: **high**. The evidence gives each reason it is a person's, then up to
//! five of the AI client's events (action, credential, service, source IP, user agent, client).
//!
//! Placeholders, AI projects and identities the provider manages are not checked.
//!
//! ## Why it matters
//!
//! The agent runs with all of the person's access, its actions are logged as the person's, and
//! the credential lives as long as the person's account; an Okta token also holds its creator's
//! privileges and dies with them (OWASP NHI10, human use of NHI, the same boundary crossed the
//! other way).
//!
//! ## Threshold
//!
//! None: one event from an AI client is enough.
//!
//! ## Remediation
//!
//! Give the agent its own identity with short-lived credentials and only the permissions it
//! needs, then rotate the person's key.
//!
//! ## Controls
//!
//! - OWASP NHI10: people do not use non-human identities, nor workloads people's credentials.
//! - ISO/IEC 27001 A.5.16: the full life cycle of identities is managed.

use super::IdentityFacts;
use crate::correlation::Correlation;
use crate::util::{controls, ev, fixed_text};
use roster_model::{Activity, Evidence, GapKind, Severity};

/// At most this many AI-client events are quoted as evidence.
const EVENTS_QUOTED: usize = 5;

impl Correlation<'_, '_> {
    /// Raises the gap of a person's identity used by an AI client.
    pub(super) fn human_credential_used_by_agent(&mut self, x: &IdentityFacts) {
        if x.human.is_empty() {
            return;
        }
        let r = self.r;
        let ident = &r.identities[x.i];
        let uses: Vec<&Activity> = self.ident_acts[x.i]
            .iter()
            .map(|&a| &r.activities[a])
            .filter(|a| a.attrs.contains_key("ai_client"))
            .collect();
        if uses.is_empty() {
            return;
        }
        let mut evidence: Vec<Evidence> = x.human.iter().map(|h| ev(&x.src, h.clone(), None)).collect();
        for a in uses.iter().take(EVENTS_QUOTED) {
            evidence.push(ev(
                &a.source,
                format!(
                    "{} via {}{} from {} with user agent `{}` ({})",
                    a.action,
                    a.credential_id.as_deref().unwrap_or("its session"),
                    a.service.as_deref().map(|s| format!(" on {s}")).unwrap_or_default(),
                    a.source_ip.as_deref().unwrap_or("?"),
                    a.user_agent.as_deref().unwrap_or_default(),
                    a.attrs["ai_client"]
                ),
                Some(&a.time),
            ));
        }
        let n = uses.len();
        let gap = self.push(
            GapKind::HumanCredentialUsedByAgent,
            &x.subject,
            Severity::High,
            format!(
                "{} `{}` acts as a person and is used by an AI client ({n} event{})",
                ident.kind,
                ident.name,
                if n == 1 { "" } else { "s" }
            ),
            vec![self.ident_entity(x.i)],
        );
        gap.said = evidence;
        gap.owner = x.owner.clone();
        gap.remediation = fixed_text!(
            "Give the agent its own identity with short-lived credentials and only the permissions it needs, then rotate the person's key."
        );
        gap.standards = controls!["OWASP NHI10", "ISO/IEC 27001 A.5.16"];
    }
}

snapshot_test! {
    /// A console user whose access key Claude Code calls Bedrock and S3 with, and an Okta API
    /// token (acting as the admin who created it) that an MCP server uses. The near miss: a
    /// console user whose key is used from a browser.
    human_credential_used_by_agent, HumanCredentialUsedByAgent
}
