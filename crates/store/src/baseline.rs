//! The baseline: gaps the organization accepted, with the reason and how long for.

use crate::db::{Exec as _, params};
use crate::{Store, StoreError};
use roster_model::{Acceptance, Gap};
use serde::Serialize;
use std::collections::BTreeMap;

/// A gap in the baseline: what it was when accepted, and the acceptance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AcceptedGap {
    /// Gap kind.
    pub kind: String,
    /// Its title when accepted.
    pub title: String,
    /// Its severity when accepted: a gap that became more severe is open again.
    pub severity: String,
    /// The decision.
    pub acceptance: Acceptance,
}

impl Store {
    /// Accepts gaps into the baseline, replacing earlier acceptances of the same gaps.
    pub fn accept(&mut self, gaps: &[&Gap], a: &Acceptance) -> Result<(), StoreError> {
        let e = |x: String| self.err("cannot record the acceptance", x);
        let mut db = self.db.borrow_mut();
        let mut tx = db.transaction(false).map_err(e)?;
        for g in gaps {
            tx.execute(
                "INSERT INTO accepted (gap_id, kind, title, reason, accepted, until, by, severity)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (gap_id) DO UPDATE SET kind = excluded.kind, title = excluded.title,
                     reason = excluded.reason, accepted = excluded.accepted, until = excluded.until,
                     by = excluded.by, severity = excluded.severity",
                params![
                    &g.id,
                    g.kind.as_str(),
                    &g.title,
                    &a.reason,
                    &a.accepted,
                    a.until.as_deref(),
                    a.by.as_deref(),
                    g.severity.as_str()
                ],
            )
            .map_err(e)?;
        }
        tx.commit().map_err(e)
    }

    /// Every accepted gap, by gap id.
    pub fn acceptances(&self) -> Result<BTreeMap<String, AcceptedGap>, StoreError> {
        let rows = self.query(
            "SELECT gap_id, kind, title, reason, accepted, until, by, severity FROM accepted ORDER BY gap_id",
            &[],
            "the baseline",
        )?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.text(0)?,
                    AcceptedGap {
                        kind: r.text(1)?,
                        title: r.text(2)?,
                        severity: r.text(7)?,
                        acceptance: Acceptance {
                            reason: r.text(3)?,
                            accepted: r.text(4)?,
                            until: r.opt_text(5)?,
                            by: r.opt_text(6)?,
                        },
                    },
                ))
            })
            .collect::<Result<_, String>>()
            .map_err(|e| self.err("cannot read the baseline", e))
    }

    /// Removes gaps from the baseline; returns how many were in it.
    pub fn revoke(&mut self, ids: &[String]) -> Result<usize, StoreError> {
        let e = |x: String| self.err("cannot change the baseline", x);
        let mut db = self.db.borrow_mut();
        let mut tx = db.transaction(false).map_err(e)?;
        let mut n = 0;
        for id in ids {
            n += tx
                .execute("DELETE FROM accepted WHERE gap_id = ?1", params![id])
                .map_err(e)?;
        }
        tx.commit().map_err(e)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use roster_model::{GapKind, Severity};

    #[test]
    fn key_baseline_and_tips_survive_reopening() {
        for b in crate::testing::backends() {
            key_baseline_and_tips_on(&b);
        }
    }

    fn key_baseline_and_tips_on(b: &crate::testing::Backend) {
        let mut s = b.open();
        assert_eq!(s.meta_get_or_insert("k", "first").unwrap(), "first");
        assert_eq!(s.meta_get_or_insert("k", "second").unwrap(), "first", "never replaced");
        let a = Acceptance {
            reason: "vendor-managed".into(),
            accepted: "2026-12-01T00:00:00Z".into(),
            until: Some("2027-03-01T00:00:00Z".into()),
            by: Some("kim".into()),
        };
        let g = Gap::new("gap-1".into(), GapKind::NoOwner, Severity::Medium, "t".into(), vec![]);
        s.accept(&[&g], &a).unwrap();
        s.record_tips("a", "repo", &["c1".into(), "c2".into()]).unwrap();
        s.record_tips("a", "repo", &["c2".into(), "c3".into()]).unwrap();
        s.record_tips("b", "repo", &["c9".into()]).unwrap();
        drop(s);
        let mut s = b.open();
        assert_eq!(s.meta_get_or_insert("k", "third").unwrap(), "first");
        assert_eq!(s.acceptances().unwrap()["gap-1"].acceptance, a);
        assert_eq!(s.acceptances().unwrap()["gap-1"].severity, "medium");
        assert_eq!(s.scanned_tips("a", "repo").unwrap(), ["c1", "c2", "c3"]);
        assert_eq!(s.scanned_tips("b", "repo").unwrap(), ["c9"], "tips are per scope");
        assert_eq!(s.revoke(&["gap-1".into(), "gap-2".into()]).unwrap(), 1);
        assert!(s.acceptances().unwrap().is_empty());
    }
}
