//! `over-privileged-agent`: an agent's identity that holds a broad permission.
//!
//! ## What it finds
//!
//! An enabled identity that is an agent's (AI-capable, used by a code agent, the role a
//! platform's agent acts as (a Bedrock agent's resource role), or registered as an agent) and
//! holds at least one broad permission, as its connector marks it: full
//! administrative access (`AdministratorAccess`, a privileged directory role), a directory-wide
//! grant, wildcard actions, or another broad grant such as `iam:PassRole` on `*`. Severity:
//! **high**. The evidence lists each reason it is an agent's, then each broad permission.
//!
//! Placeholders, AI projects and identities the provider manages are not checked.
//!
//! ## Why it matters
//!
//! An agent acts on what it reads, and what it reads can be written by others (prompt
//! injection). With admin or wildcard rights, one misled or hijacked agent can change or delete
//! anything its identity reaches (OWASP NHI5, overprivileged NHI).
//!
//! ## Threshold
//!
//! None.
//!
//! ## Remediation
//!
//! Replace admin and wildcard grants with the actions and resources the agent needs (IAM Access
//! Analyzer policy generation, Graph least-privilege scopes).
//!
//! ## Controls
//!
//! - OWASP NHI5: non-human identities are not over-privileged.
//! - ISO/IEC 27001 A.8.2: privileged access rights are restricted and managed.

use super::IdentityFacts;
use crate::correlation::Correlation;
use crate::util::{controls, ev, fixed_text};
use roster_model::{GapKind, Severity};

impl Correlation<'_, '_> {
    /// Raises the gap of an agent's identity with broad permissions.
    pub(super) fn over_privileged_agent(&mut self, x: &IdentityFacts) {
        let ident = &self.r.identities[x.i];
        let privs = self.privilege_reasons(x.i);
        if !x.enabled || x.ai.is_empty() || privs.is_empty() {
            return;
        }
        let gap = self.push(
            GapKind::OverPrivilegedAgent,
            &x.subject,
            Severity::High,
            format!(
                "agent identity `{}` holds {}",
                ident.name,
                if privs.len() == 1 {
                    "a broad permission".to_string()
                } else {
                    format!("{} broad permissions", privs.len())
                }
            ),
            vec![self.ident_entity(x.i)],
        );
        gap.said =
            x.ai.iter()
                .map(|w| ev(&x.src, format!("agent link: {w}"), None))
                .collect();
        gap.said.extend(privs.into_iter().map(|p| ev(&x.src, p, None)));
        gap.owner = x.owner.clone();
        gap.remediation = fixed_text!(
            "Replace admin and wildcard grants with the actions and resources the agent needs (IAM Access Analyzer policy generation, Graph least-privilege scopes)."
        );
        gap.standards = controls!["OWASP NHI5", "ISO/IEC 27001 A.8.2"];
    }
}

snapshot_test! {
    /// A role Bedrock may assume with AdministratorAccess and `s3:*`, and a user whose policy
    /// allows Bedrock and `iam:PassRole` on `*`. The near misses: an admin role no agent uses,
    /// and a Bedrock role with read-only access.
    over_privileged_agent, OverPrivilegedAgent
}
