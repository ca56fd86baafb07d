//! The schema: migrations numbered by SQLite's `user_version`, applied under a write lock.

use crate::{Store, StoreError};

/// Migrations, in order; migration `i` brings the schema to version `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    started     TEXT NOT NULL,
    as_of       TEXT NOT NULL,
    config      TEXT NOT NULL,
    incomplete  INTEGER NOT NULL,
    summary     TEXT NOT NULL
);
CREATE TABLE gaps (
    run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    gap_id    TEXT NOT NULL,
    kind      TEXT NOT NULL,
    severity  TEXT NOT NULL,
    title     TEXT NOT NULL,
    owner     TEXT,
    body      TEXT NOT NULL,
    PRIMARY KEY (run_id, gap_id)
);
CREATE TABLE identities (
    run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    source       TEXT NOT NULL,
    identity_id  TEXT NOT NULL,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    owner        TEXT,
    body         TEXT NOT NULL,
    PRIMARY KEY (run_id, source, identity_id)
);
CREATE TABLE seen (
    what        TEXT NOT NULL,
    key         TEXT NOT NULL,
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    PRIMARY KEY (what, key)
);
"#,
    r#"
CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
CREATE TABLE accepted (
    gap_id    TEXT PRIMARY KEY,
    kind      TEXT NOT NULL,
    title     TEXT NOT NULL,
    reason    TEXT NOT NULL,
    accepted  TEXT NOT NULL,
    until     TEXT,
    by        TEXT,
    severity  TEXT NOT NULL
);
CREATE TABLE scanned_tips (
    repo  TEXT NOT NULL,
    tip   TEXT NOT NULL,
    PRIMARY KEY (repo, tip)
);
"#,
];

impl Store {
    pub(crate) fn migrate(&mut self) -> Result<(), StoreError> {
        let v = self.version()?;
        let known = MIGRATIONS.len() as i64;
        if v > known {
            return Err(StoreError(format!(
                "state database {} has schema version {v}, newer than this Roster knows ({known}): upgrade Roster, or give another --state-dir",
                self.path
            )));
        }
        if v == known {
            return Ok(());
        }
        // One writer at a time: the version is read again inside the write lock, so two first
        // runs at once do not both migrate.
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| StoreError(format!("state database {path}: cannot lock it to migrate: {e}")))?;
        let v: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| StoreError(format!("state database {path}: {e}")))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(v).unwrap_or(0)) {
            tx.execute_batch(sql)
                .and_then(|()| tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1)))
                .map_err(|e| {
                    StoreError(format!(
                        "state database {path}: migration to version {} failed: {e}",
                        i + 1
                    ))
                })?;
        }
        tx.commit()
            .map_err(|e| StoreError(format!("state database {path}: cannot commit the migration: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    #[test]
    fn a_newer_schema_and_a_non_database_are_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("roster.db");
        Store::open(&db)
            .unwrap()
            .conn
            .execute_batch("PRAGMA user_version = 99")
            .unwrap();
        let e = Store::open(&db).err().unwrap().0;
        assert!(e.contains("schema version 99, newer than this Roster knows"), "{e}");
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, vec![b'x'; 4096]).unwrap();
        let e = Store::open(&junk).err().unwrap().0;
        assert!(e.contains("junk.db") && e.contains("move it aside"), "{e}");
    }

    #[test]
    fn a_version_one_database_is_migrated_and_keeps_its_runs() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("roster.db");
        let c = Connection::open(&db).unwrap();
        c.execute_batch(MIGRATIONS[0]).unwrap();
        c.execute_batch("PRAGMA user_version = 1; INSERT INTO runs (started, as_of, config, incomplete, summary) VALUES ('2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'x', 0, '{}');").unwrap();
        drop(c);
        let mut s = Store::open(&db).unwrap();
        assert_eq!(s.version().unwrap(), MIGRATIONS.len() as i64);
        assert_eq!(s.runs().unwrap().len(), 1);
        assert_eq!(s.meta_get_or_insert("k", "v").unwrap(), "v");
    }
}
