//! Small keyed state: stored values (the fingerprint key) and the commits incremental history
//! scans covered.

use crate::db::{Exec as _, params};
use crate::{Store, StoreError};

impl Store {
    /// The value stored under `key`, or `candidate` stored now if there is none (one writer at
    /// a time, so two first runs agree on the value).
    pub fn meta_get_or_insert(&mut self, key: &str, candidate: &str) -> Result<String, StoreError> {
        let e = |x: String| self.err(&format!("cannot read or store {key}"), x);
        let mut db = self.db.borrow_mut();
        let mut tx = db.transaction(true).map_err(e)?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
            params![key, candidate],
        )
        .map_err(e)?;
        let v = tx
            .query_one("SELECT value FROM meta WHERE key = ?1", params![key])
            .and_then(|r| r.text(0))
            .map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(v)
    }

    /// Commits an incremental history scan of `repo` (a keyed id, not the path) covered in
    /// `scope`.
    pub fn scanned_tips(&self, scope: &str, repo: &str) -> Result<Vec<String>, StoreError> {
        self.query(
            "SELECT tip FROM scanned_tips WHERE scope = ?1 AND repo = ?2 ORDER BY tip",
            params![scope, repo],
            "scanned commits",
        )?
        .iter()
        .map(|r| r.text(0).map_err(|e| self.err("cannot read scanned commits", e)))
        .collect()
    }

    /// Records commits an incremental history scan of `repo` covered in `scope` (with the
    /// earlier ones).
    pub fn record_tips(&mut self, scope: &str, repo: &str, tips: &[String]) -> Result<(), StoreError> {
        let e = |x: String| self.err("cannot record scanned commits", x);
        let mut db = self.db.borrow_mut();
        let mut tx = db.transaction(false).map_err(e)?;
        for t in tips {
            tx.execute(
                "INSERT INTO scanned_tips (scope, repo, tip) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                params![scope, repo, t],
            )
            .map_err(e)?;
        }
        tx.commit().map_err(e)
    }
}
