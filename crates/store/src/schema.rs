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
    // Scopes: each configuration keeps its own history. Rows recorded before scopes existed
    // go to the scope `default` (`crate::DEFAULT_SCOPE`). A primary key cannot be altered in
    // place, so `seen` and `scanned_tips` are copied into new tables with the scope in it.
    r#"
ALTER TABLE runs ADD COLUMN scope TEXT NOT NULL DEFAULT 'default';
CREATE INDEX runs_by_scope ON runs (scope, id);
CREATE TABLE seen_scoped (
    scope       TEXT NOT NULL,
    what        TEXT NOT NULL,
    key         TEXT NOT NULL,
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    PRIMARY KEY (scope, what, key)
);
INSERT INTO seen_scoped (scope, what, key, first_seen, last_seen)
    SELECT 'default', what, key, first_seen, last_seen FROM seen;
DROP TABLE seen;
ALTER TABLE seen_scoped RENAME TO seen;
CREATE TABLE scanned_tips_scoped (
    scope  TEXT NOT NULL,
    repo   TEXT NOT NULL,
    tip    TEXT NOT NULL,
    PRIMARY KEY (scope, repo, tip)
);
INSERT INTO scanned_tips_scoped (scope, repo, tip) SELECT 'default', repo, tip FROM scanned_tips;
DROP TABLE scanned_tips;
ALTER TABLE scanned_tips_scoped RENAME TO scanned_tips;
"#,
    // Agents join the stored inventory (the dashboard lists them per run), and gaps are looked
    // up by id across runs (a gap's history).
    r#"
CREATE TABLE agents (
    run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    agent_id  TEXT NOT NULL,
    source    TEXT NOT NULL,
    owner     TEXT,
    body      TEXT NOT NULL,
    PRIMARY KEY (run_id, agent_id)
);
CREATE INDEX gaps_by_id ON gaps (gap_id, run_id);
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
        assert_eq!(s.runs(None).unwrap().len(), 1);
        assert_eq!(s.meta_get_or_insert("k", "v").unwrap(), "v");
    }

    /// A database written before scopes (version 2) keeps its history: its runs, first seen and
    /// incremental-scan state move to the scope `default`, and the baseline stays.
    #[test]
    fn a_version_two_database_moves_its_history_into_the_default_scope() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("roster.db");
        let c = Connection::open(&db).unwrap();
        c.execute_batch(MIGRATIONS[0]).unwrap();
        c.execute_batch(MIGRATIONS[1]).unwrap();
        let gap = |id: &str| {
            serde_json::to_string(&roster_model::Gap::new(
                id.into(),
                roster_model::GapKind::NoOwner,
                roster_model::Severity::High,
                id.into(),
                vec![],
            ))
            .unwrap()
        };
        c.execute_batch(&format!(
            "PRAGMA user_version = 2;
             INSERT INTO runs (started, as_of, config, incomplete, summary) VALUES
                 ('2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'roster.toml', 0, '{{}}'),
                 ('2026-01-02T00:00:00Z', '2026-01-02T00:00:00Z', 'roster.toml', 0, '{{}}');
             INSERT INTO gaps (run_id, gap_id, kind, severity, title, body) VALUES
                 (1, 'g1', 'no-owner', 'high', 'g1', '{g1}'),
                 (2, 'g1', 'no-owner', 'high', 'g1', '{g1}'),
                 (2, 'g2', 'no-owner', 'high', 'g2', '{g2}');
             INSERT INTO seen (what, key, first_seen, last_seen) VALUES
                 ('gap', 'g1', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z');
             INSERT INTO accepted (gap_id, kind, title, reason, accepted, severity) VALUES
                 ('g1', 'no-owner', 'g1', 'SEC-1', '2026-01-03T00:00:00Z', 'high');
             INSERT INTO scanned_tips (repo, tip) VALUES ('r', 'c1');",
            g1 = gap("g1"),
            g2 = gap("g2")
        ))
        .unwrap();
        drop(c);
        let mut s = Store::open(&db).unwrap();
        assert_eq!(s.version().unwrap(), MIGRATIONS.len() as i64);
        let runs = s.runs(Some(crate::DEFAULT_SCOPE)).unwrap();
        assert_eq!(runs.iter().map(|r| r.id).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(runs[0].config, "roster.toml");
        let d = s.diff(crate::DEFAULT_SCOPE, None, None).unwrap().unwrap();
        assert_eq!(d.new.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(), ["g2"]);
        assert_eq!(s.scanned_tips(crate::DEFAULT_SCOPE, "r").unwrap(), ["c1"]);
        assert_eq!(s.acceptances().unwrap()["g1"].acceptance.reason, "SEC-1");
        // The next run of the default scope keeps g1's first seen; another scope starts afresh.
        let mut r = roster_model::Report::empty("test");
        r.gaps = vec![serde_json::from_str(&gap("g1")).unwrap()];
        let (run, first) = s
            .record(
                &r,
                1_800_000_000_000,
                1_800_000_000_000,
                "roster.toml",
                crate::DEFAULT_SCOPE,
            )
            .unwrap();
        assert_eq!(run, 3);
        assert_eq!(first["g1"], "2026-01-01T00:00:00Z");
        let (_, first) = s
            .record(&r, 1_800_000_000_000, 1_800_000_000_000, "other.toml", "other")
            .unwrap();
        assert_ne!(first["g1"], "2026-01-01T00:00:00Z");
    }
}
