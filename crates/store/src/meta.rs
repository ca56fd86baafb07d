//! Small keyed state: stored values (the fingerprint key) and the commits incremental history
//! scans covered.

use crate::{Store, StoreError};
use rusqlite::params;

impl Store {
    /// The value stored under `key`, or `candidate` stored now if there is none (one writer at
    /// a time, so two first runs agree on the value).
    pub fn meta_get_or_insert(&mut self, key: &str, candidate: &str) -> Result<String, StoreError> {
        let path = self.path.clone();
        let e = move |x: rusqlite::Error| StoreError(format!("state database {path}: cannot read or store {key}: {x}"));
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(&e)?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
            params![key, candidate],
        )
        .map_err(&e)?;
        let v: String = tx
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .map_err(&e)?;
        tx.commit().map_err(&e)?;
        Ok(v)
    }

    /// Commits an incremental history scan of `repo` (a keyed id, not the path) covered in
    /// `scope`.
    pub fn scanned_tips(&self, scope: &str, repo: &str) -> Result<Vec<String>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT tip FROM scanned_tips WHERE scope = ?1 AND repo = ?2 ORDER BY tip")
            .map_err(|e| self.err("cannot read scanned commits", e))?;
        st.query_map([scope, repo], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err("cannot read scanned commits", e))
    }

    /// Records commits an incremental history scan of `repo` covered in `scope` (with the
    /// earlier ones).
    pub fn record_tips(&mut self, scope: &str, repo: &str, tips: &[String]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let e =
            move |x: rusqlite::Error| StoreError(format!("state database {path}: cannot record scanned commits: {x}"));
        let tx = self.conn.transaction().map_err(&e)?;
        for t in tips {
            tx.execute(
                "INSERT INTO scanned_tips (scope, repo, tip) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                params![scope, repo, t],
            )
            .map_err(&e)?;
        }
        tx.commit().map_err(&e)
    }
}
