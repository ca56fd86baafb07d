//! `stale-identity`: an enabled identity no one has used for a long time.
//!
//! ## What it finds
//!
//! An enabled identity whose latest use is more than `unused_days` ago. Its latest use is the
//! latest of: the identity's last use, each credential's last use, and the audit-log events
//! joined to it (by credential id, identity id, or app or client id). Where the provider reports
//! use (AWS users and roles, GitHub fine-grained tokens and deploy keys, OpenAI keys, Google
//! Cloud service account keys when their last authentication was read), an
//! identity with no recorded use is stale once it was created more than `unused_days` ago (its
//! own creation, else its oldest credential's); elsewhere no date means unknown, not unused.
//! Severity: **medium** while it still has an active credential, **low** otherwise.
//!
//! Placeholders, AI projects and identities the provider manages are not checked.
//!
//! ## Why it matters
//!
//! An identity nobody uses still works for whoever holds its credentials: it is attack surface
//! with no business value, and often the sign that its workload or owner is gone (OWASP NHI1,
//! improper offboarding).
//!
//! ## Threshold
//!
//! `unused_days`, default **90**: the unused-access window of IAM Access Analyzer and Security
//! Hub. CIS AWS Foundations v3.0.0 §1.12 (Prowler `max_unused_access_keys_days`) and CIS
//! Controls v8 5.3 say 45 days: with the default, the compliance mapping fails those two
//! controls as assessed with a looser threshold; set `unused_days = 45` to assess them.
//!
//! ## Remediation
//!
//! Confirm with the owner, then disable the identity and deactivate its credentials; delete it
//! after a grace period.
//!
//! ## Controls
//!
//! - CIS Controls v8 5.3: dormant accounts are deleted or disabled after 45 days of inactivity.
//! - CIS AWS Foundations 1.12: credentials unused for 45 days or more are disabled.
//! - OWASP NHI1: non-human identities are offboarded and owned.

use super::IdentityFacts;
use crate::correlation::Correlation;
use crate::util::{controls, days, ev, fixed_text, is_active, reports_usage};
use roster_model::{GapKind, Severity, format_millis, parse_time};

impl Correlation<'_, '_> {
    /// Raises the gap of an enabled identity unused for longer than the threshold.
    pub(super) fn stale_identity(&mut self, x: &IdentityFacts) {
        let now = self.cx.now_ms;
        let max = self.cx.thresholds.unused_days;
        let src = &x.src;
        let ident = &self.r.identities[x.i];
        let created = ident.created.as_deref().and_then(parse_time).or_else(|| {
            ident
                .credentials
                .iter()
                .filter_map(|c| c.created.as_deref().and_then(parse_time))
                .min()
        });
        let stale = match self.last_use(x.i) {
            Some((t_used, what)) if days(now - t_used) > max => Some(ev(
                src,
                format!("{what} {} days ago (threshold {} days)", days(now - t_used), max),
                Some(&format_millis(t_used)),
            )),
            // "Never used" only where the provider reports use: elsewhere no date means
            // unknown, not unused.
            None if reports_usage(ident) => created.filter(|c| days(now - c) > max).map(|c| {
                ev(
                    src,
                    format!(
                        "never used since it was created {} days ago (threshold {} days)",
                        days(now - c),
                        max
                    ),
                    Some(&format_millis(c)),
                )
            }),
            _ => None,
        };
        let Some(e) = stale else { return };
        let active = ident.credentials.iter().filter(|c| is_active(c, now)).count();
        let gap = self.push(
            GapKind::StaleIdentity,
            &x.subject,
            if active > 0 { Severity::Medium } else { Severity::Low },
            format!("{} `{}` is enabled but unused", ident.kind, ident.name),
            vec![self.ident_entity(x.i)],
        );
        gap.said = vec![e];
        if active > 0 {
            gap.said
                .push(ev(src, format!("{active} active credential(s) still valid"), None));
        }
        gap.owner = x.owner.clone();
        gap.remediation = fixed_text!(
            "Confirm with the owner, then disable the identity and deactivate its credentials; delete it after a grace period."
        );
        gap.standards = controls!["CIS Controls v8 5.3", "CIS AWS Foundations 1.12", "OWASP NHI1"];
    }
}

snapshot_test! {
    /// A user last used 213 days ago with an active key, and a role never used since it was
    /// created 302 days ago. The near misses: an Okta app (Okta reports no last use), a user
    /// used 30 days ago, a disabled user, a role whose last use is old but CloudTrail saw it
    /// ten days ago.
    stale_identity, StaleIdentity
}
