//! `committed-secret`: a secret found in code or git history.
//!
//! ## What it finds
//!
//! One gap per secret, not per finding: findings with the same keyed fingerprint are one secret,
//! and an AWS access key id found with its secret access key (each naming the other) is one
//! credential. The secret is then tied to a credential a connector collected, by the keyed
//! fingerprint of the provider's key id, or by the provider's redacted form (same visible
//! prefix, same last four, same provider); only a single candidate counts.
//!
//! Severity: **critical** when the credential it was tied to is still active (status `active`,
//! or no status and not expired); **low** when it is not (inactive, expired, revoked); when it
//! was tied to nothing, the highest severity of the findings' rules. With `validate` on, a
//! provider that accepts the secret makes it **critical** whatever the records say, and one
//! that refuses a secret tied to nothing makes it **low**; its answer is in the evidence. The title names where it was
//! first committed. The evidence lists every place it was found (commit and author from
//! history), how it was tied to the provider's credential, and the credential's status, creation
//! and last use.
//!
//! The owner is the owner of the identity the credential belongs to, or else the CODEOWNERS
//! owners of the paths it was found in, or else the commit author, when the identity provider
//! does not show that person disabled.
//!
//! ## Why it matters
//!
//! Anyone who can read the repository, a clone or a fork can use the secret, and history keeps
//! it after the file is fixed (OWASP NHI2, secret leakage). A secret in history but gone from
//! HEAD is still live until it is revoked: rewriting history is not remediation.
//!
//! ## Threshold
//!
//! None: every secret found raises it.
//!
//! ## Remediation
//!
//! Rotate the credential at the provider now, then remove it from the code and use a secret
//! manager. Deleting the file or rewriting history does not revoke it. When Roster could not tie
//! the secret to a collected credential, check with the provider.
//!
//! ## Controls
//!
//! - OWASP NHI2: secrets do not leak into code and history.
//! - ISO/IEC 27001 A.5.17: authentication information is allocated and handled securely.
//! - CIS Controls v8 16.1: a secure application development process keeps secrets out of code.

use super::shared_credential::{self, SharedSecret};
use crate::correlation::Correlation;
use crate::util::{controls, ent, ev, is_active, reports_usage};
use roster_model::{EntityRef, Evidence, Finding, GapKind, Report, Severity, Validation};
use std::collections::BTreeSet;
use std::sync::Arc;

impl<'r> Correlation<'r, '_> {
    /// Raises the committed-secret gap of secret group `gi`; returns what the shared-credential
    /// gap needs when the secret sits in several places.
    pub(super) fn committed_secret(&mut self, gi: usize) -> Option<SharedSecret<'r>> {
        let r: &'r Report = self.r;
        let findings = self.groups[gi].findings.clone();
        let joined = self.groups[gi].joined.clone();
        let f: Vec<&Finding> = findings.iter().map(|&i| &r.findings[i]).collect();
        // The subject is the group's first finding (report order: most severe first); the
        // location named is where it was first committed.
        let head = *f.first().expect("groups are not empty");
        let first_at = f
            .iter()
            .filter(|x| x.fingerprint == head.fingerprint)
            .min_by(|a, b| a.date.cmp(&b.date).then_with(|| a.path.cmp(&b.path)))
            .unwrap_or(&head);
        let paired: Option<&str> = f
            .iter()
            .find(|x| x.fingerprint != head.fingerprint)
            .map(|x| x.rule_name.as_str());
        let severity_of_group = f.iter().map(|x| x.severity).max().unwrap_or(head.severity);
        let locations: BTreeSet<(&str, &str)> = f.iter().map(|x| (x.source.as_str(), x.path.as_str())).collect();
        let mut entities: Vec<EntityRef> = vec![];
        for x in &f {
            if !entities.iter().any(|e| e.id == x.fingerprint) {
                entities.push(ent("secret", &x.fingerprint, format!("{} {}", x.rule_name, x.redacted)));
            }
        }
        // Each finding's line is written from the finding when the gap is (`Gap::evidence`).
        let mut evidence: Vec<Evidence> = vec![];
        let mut severity = severity_of_group;
        let mut owner = None;
        let mut live = String::new();
        if let Some(((i, j), how)) = &joined {
            let ident = &r.identities[*i];
            let c = &ident.credentials[*j];
            entities.push(ent("credential", &c.id, c.name.as_deref().unwrap_or(&c.id)));
            entities.push(self.ident_entity(*i));
            evidence.push(ev(
                "correlation",
                format!("{how}; it belongs to {} `{}`", ident.kind, ident.name),
                None,
            ));
            evidence.push(ev(
                &ident.source,
                format!(
                    "credential {} is {}{}{}",
                    c.id,
                    c.status,
                    c.created
                        .as_deref()
                        .map(|t| format!(", created {t}"))
                        .unwrap_or_default(),
                    c.last_used
                        .as_deref()
                        .map(|t| format!(", last used {t}"))
                        .unwrap_or_else(|| {
                            if reports_usage(ident) {
                                ", never used".into()
                            } else {
                                ", last use not reported by the provider".into()
                            }
                        })
                ),
                c.last_used.as_deref(),
            ));
            if is_active(c, self.cx.now_ms) {
                severity = Severity::Critical;
                live = " and still active".into();
            } else {
                severity = Severity::Low;
                live = format!(" (the provider shows it {})", c.status);
            }
            owner = self.identity_owner[*i].clone();
        }
        // `--validate`: the provider's own answer outranks what the collected record says.
        if let Some((x, v)) = f.iter().find_map(|x| x.validation().map(|v| (x, v))) {
            evidence.push(ev(
                "validation",
                format!(
                    "the provider answered {}: {}",
                    v.as_str(),
                    x.validation_detail().unwrap_or("")
                ),
                None,
            ));
            match v {
                Validation::Live => {
                    severity = Severity::Critical;
                    live = " and live (the provider accepted it)".into();
                }
                Validation::Revoked if joined.is_none() => {
                    severity = Severity::Low;
                    live = " (the provider refused it)".into();
                }
                _ => {}
            }
        }
        if owner.is_none() {
            owner = self.code_owner(&findings).map(std::sync::Arc::new);
        }
        // The smallest fingerprint in the group: the same whichever copy sorts first.
        let subject = f
            .iter()
            .map(|x| x.fingerprint.as_str())
            .min()
            .unwrap_or(&head.fingerprint)
            .to_owned();
        let title = format!(
            "{} {}{} committed in {}{live}",
            head.rule_name,
            head.redacted,
            paired.map(|p| format!(" with its {p}")).unwrap_or_default(),
            first_at.location()
        );
        let remediation = self.texts.get(&format!(
            "Rotate the {} credential at the provider now{}, then remove it from the code and use a secret manager. Deleting the file or rewriting history does not revoke it.",
            head.provider,
            if joined.is_some() {
                ""
            } else {
                " (Roster could not tie it to a collected credential: check with the provider)"
            }
        ));
        let shared = shared_credential::is_shared(&locations);
        let entities: Arc<[EntityRef]> = entities.into();
        let gap = self.push(GapKind::CommittedSecret, &subject, severity, title, entities.clone());
        let committed_id = gap.id.clone();
        let cited: Box<[u32]> = findings.iter().map(|&i| i as u32).collect();
        let shared_cited = shared.then(|| cited.clone());
        gap.cited = cited;
        gap.said = evidence;
        gap.owner = owner.clone();
        gap.remediation = remediation;
        gap.standards = controls!["OWASP NHI2", "ISO/IEC 27001 A.5.17", "CIS Controls v8 16.1"];
        shared_cited.map(|cited| SharedSecret {
            subject,
            head,
            cited,
            locations,
            entities,
            committed_id,
            owner,
        })
    }
}

snapshot_test! {
    /// An AWS key id committed with its secret key and joined to an active IAM key, an OpenAI
    /// key joined to a revoked key by its redacted form, and a Slack token Roster cannot tie to
    /// anything. The near miss: the secret key paired with the key id is the same credential, so
    /// it raises no gap of its own.
    committed_secret, CommittedSecret
}
