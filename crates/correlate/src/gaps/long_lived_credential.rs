//! `long-lived-credential`: an identity that holds active credentials that live too long.
//!
//! ## What it finds
//!
//! An enabled identity with at least one active credential (status `active`, or no status and
//! not expired) that is long-lived:
//!
//! - an access key created more than `access_key_max_age_days` ago;
//! - a client secret, certificate, API key, token, service-specific credential or personal
//!   access token that never expires, or whose lifetime (expiry minus creation) is longer than
//!   `secret_max_lifetime_days` (ENT-SECRET-LIFETIME, ENT-SECRET-NOEXPIRY, OAI-KEY-NOEXPIRY,
//!   GH-PAT-LIFETIME). An expiry that cannot be read is unknown, not "never".
//!
//! Okta API tokens are not checked: Okta ends a token after 30 days without use, so a live token
//! has been used recently. One gap per identity lists each such credential.
//! Severity: **high** when the identity is an agent's (AI-capable, used by a code agent, or
//! registered), **medium** otherwise.
//!
//! Placeholders, AI projects and identities the provider manages are not checked.
//!
//! ## Why it matters
//!
//! A static secret that never changes is valid wherever it was copied, for as long as it lives:
//! every leak, old laptop and departed colleague keeps working access (OWASP NHI7, long-lived
//! secrets).
//!
//! ## Threshold
//!
//! - `access_key_max_age_days`, default **90**: CIS AWS Foundations v3.0.0 §1.14 (rotate access
//!   keys every 90 days), Prowler `iam_rotate_access_key_90_days`. A value above 90 fails CIS AWS
//!   Foundations 1.14 in the compliance mapping.
//! - `secret_max_lifetime_days`, default **365**: P365D for Entra client secrets where the
//!   tenant's `passwordLifetime` policy sets no limit (Prowler recommends 6 to 12 months),
//!   OpenAI's one-year maximum for service-account keys, GitHub's 366-day default maximum for
//!   fine-grained personal access tokens.
//!
//! ## Remediation
//!
//! Rotate the credential and move the workload to short-lived credentials (IAM roles, workload
//! identity federation, Bedrock short-term keys, expiring secrets).
//!
//! ## Controls
//!
//! - OWASP NHI7: secrets are short-lived.
//! - CIS AWS Foundations 1.14: access keys are rotated every 90 days or less (when an access key
//!   is too old).

use super::IdentityFacts;
use crate::correlation::Correlation;
use crate::util::{days, ent, ev, fixed_text, is_active};
use roster_model::{Evidence, GapKind, Severity, format_millis, parse_time};

impl Correlation<'_, '_> {
    /// Raises the gap of an enabled identity holding long-lived credentials.
    pub(super) fn long_lived_credential(&mut self, x: &IdentityFacts) {
        let now = self.cx.now_ms;
        let t = self.cx.thresholds;
        let src = &x.src;
        let ident = &self.r.identities[x.i];
        let okta_token = ident.kind == "api-token";
        let mut long: Vec<(String, Evidence, &'static str)> = vec![];
        for c in ident.credentials.iter().filter(|c| is_active(c, now)) {
            let created = c.created.as_deref().and_then(parse_time);
            if c.kind == "access-key" {
                if let Some(cr) = created
                    && days(now - cr) > t.access_key_max_age_days
                {
                    long.push((
                        c.id.to_string(),
                        ev(
                            src,
                            format!(
                                "access key {} is active and was created {} days ago (threshold {} days)",
                                c.id,
                                days(now - cr),
                                t.access_key_max_age_days
                            ),
                            c.created.as_deref(),
                        ),
                        "CIS AWS Foundations 1.14",
                    ));
                }
            } else if !okta_token
                && matches!(
                    c.kind.as_str(),
                    "client-secret"
                        | "certificate"
                        | "api-key"
                        | "token"
                        | "service-specific"
                        | "personal-access-token"
                )
            {
                let expires = c.expires.as_deref().and_then(parse_time);
                match (created, expires) {
                    // An expiry that cannot be read is unknown, not "never".
                    (_, None) if c.expires.is_none() => long.push((
                        c.id.to_string(),
                        ev(
                            src,
                            format!("{} {} is active and never expires", c.kind, c.id),
                            c.created.as_deref(),
                        ),
                        "OWASP NHI7",
                    )),
                    (Some(cr), Some(ex)) if days(ex - cr) > t.secret_max_lifetime_days => long.push((
                        c.id.to_string(),
                        ev(
                            src,
                            format!(
                                "{} {} lives {} days, {} to {} (threshold {} days)",
                                c.kind,
                                c.id,
                                days(ex - cr),
                                format_millis(cr),
                                format_millis(ex),
                                t.secret_max_lifetime_days
                            ),
                            c.expires.as_deref(),
                        ),
                        "OWASP NHI7",
                    )),
                    _ => {}
                }
            }
        }
        if long.is_empty() {
            return;
        }
        let mut entities = vec![self.ident_entity(x.i)];
        entities.extend(long.iter().map(|(id, _, _)| ent("credential", id, id)));
        let mut standards: Vec<String> = long.iter().map(|(_, _, s)| (*s).to_string()).collect();
        standards.push("OWASP NHI7".into());
        standards.sort();
        standards.dedup();
        let standards = self.shared_list(standards);
        let sev = if x.ai.is_empty() {
            Severity::Medium
        } else {
            Severity::High
        };
        let n = long.len();
        let gap = self.push(
            GapKind::LongLivedCredential,
            &x.subject,
            sev,
            format!(
                "`{}` holds {n} long-lived credential{}",
                ident.name,
                if n == 1 { "" } else { "s" }
            ),
            entities,
        );
        gap.said = long.into_iter().map(|(_, e, _)| e).collect();
        gap.owner = x.owner.clone();
        gap.remediation = fixed_text!(
            "Rotate the credential and move the workload to short-lived credentials (IAM roles, workload identity federation, Bedrock short-term keys, expiring secrets)."
        );
        gap.standards = standards;
    }
}

snapshot_test! {
    /// A user with a 319-day-old access key (and a young one), an Entra app with a secret that
    /// never expires and one that lives two years, an OpenAI service-account key that never
    /// expires. The near misses: a young key next to an old inactive one, secrets that live half
    /// a year, an Okta API token.
    long_lived_credential, LongLivedCredential
}
