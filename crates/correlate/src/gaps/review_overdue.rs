//! `review-overdue`: a registry entry whose review is due, or that says nothing of its purpose.
//!
//! ## What it finds
//!
//! A registry entry (agents.toml) whose `review_by` date has passed (the date holds through
//! that day, UTC, measured at the run's "now" or `as_of`), or whose `purpose` is empty. One gap
//! per entry, with each reason as evidence.
//!
//! Severity: **medium**. The owner is the entry's, when active (an entry without one is also a
//! `no-owner` gap).
//!
//! ## Why it matters
//!
//! A registry is only an inventory while it is kept: CIS Controls v8 5.5 asks for each service
//! account's owner, purpose and review date, and for the review to happen. An entry nobody has
//! reviewed may describe an agent whose permissions, identities or owner changed since; an entry
//! with no purpose cannot be reviewed at all, because nobody can say whether what the agent
//! holds is still needed for it.
//!
//! ## Threshold
//!
//! None: the entry's own `review_by` date. An entry without `review_by` is not flagged; set one
//! on each entry (`roster registry init` writes the field).
//!
//! ## Remediation
//!
//! Review the entry with its owner: confirm the agent is still needed, what it is for, who owns
//! it, and which identities, credentials and systems it uses; then write its purpose and a new
//! `review_by` date, or retire the agent and remove the entry.
//!
//! ## Controls
//!
//! - CIS Controls v8 5.5: an inventory of service accounts, with owner, purpose and review date,
//!   reviewed at least quarterly.
//! - NIST AI RMF GOVERN 1.6: an inventory of AI systems is kept.

use super::registry_entity;
use crate::correlation::Correlation;
use crate::util::{controls, days, ev, fixed_text};
use roster_model::{GapKind, Severity, parse_time};

/// One day, in milliseconds.
const DAY_MS: i64 = 86_400_000;

impl Correlation<'_, '_> {
    /// Raises the gap of registry entry `r` when its review date has passed or it has no purpose.
    pub(super) fn review_overdue(&mut self, r: usize) {
        let Some(reg) = self.cx.registry else { return };
        let a = &reg.agents[r];
        let now = self.cx.now_ms;
        let mut evidence = vec![];
        // `review_by` was checked to be a date when the registry was loaded; it holds through
        // that day.
        let overdue = a
            .review_by
            .as_deref()
            .and_then(|d| Some((d, parse_time(d)?)))
            .filter(|(_, t)| now >= t + DAY_MS);
        let no_purpose = a.purpose.trim().is_empty();
        if let Some((due, t)) = overdue {
            evidence.push(ev(
                "registry",
                {
                    let late = days(now - t - DAY_MS) + 1;
                    format!(
                        "{} says `{}` must be reviewed by {due}: {late} day{} overdue",
                        reg.origin,
                        a.id,
                        if late == 1 { "" } else { "s" }
                    )
                },
                Some(&roster_model::format_millis(t)),
            ));
        }
        if no_purpose {
            evidence.push(ev(
                "registry",
                format!("{} lists `{}` with no purpose", reg.origin, a.id),
                None,
            ));
        }
        let what = match (overdue.is_some(), no_purpose) {
            (true, true) => "is overdue for review and has no purpose",
            (true, false) => "is overdue for review",
            (false, true) => "has no purpose",
            (false, false) => return,
        };
        let owner = self.registry_owner(r);
        let gap = self.push(
            GapKind::ReviewOverdue,
            &a.id,
            Severity::Medium,
            format!("registered agent `{}` {what}", a.id),
            vec![registry_entity(a)],
        );
        gap.said = evidence;
        gap.owner = owner.map(std::sync::Arc::new);
        gap.remediation = fixed_text!(
            "Review the entry with its owner: confirm the agent is still needed, what it is for, who owns it and what it holds; then write its purpose and a new review_by date in agents.toml, or retire the agent and remove the entry."
        );
        gap.standards = controls!["CIS Controls v8 5.5", "NIST AI RMF GOVERN 1.6"];
    }
}

snapshot_test! {
    /// An entry whose review was due the day before "now", an entry with no purpose, and one
    /// with both. The near misses: an entry due on "now"'s day (it holds through that day), one
    /// due next year, and one without `review_by` but with a purpose.
    review_overdue, ReviewOverdue
}
