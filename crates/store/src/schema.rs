//! The schema: migrations numbered by SQLite's `user_version` (in PostgreSQL, the one row of
//! `roster_schema`), applied under the database's write lock. Both engines run the same
//! migrations: PostgreSQL reads their DDL with 64-bit integers (`db::pg_ddl`).

use crate::db::{Exec as _, Tx, Value};
use crate::{MOVE_ASIDE, Store, StoreError};

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
    // An identity's first/last seen key separates its source and id with U+001F, which both
    // engines' text holds (PostgreSQL's cannot hold the U+0000 used before): `sqlite_only`
    // rewrites the keys recorded earlier.
    "",
    // Sharded discovery: each shard's share of a run, and the repository listing one shard
    // makes for all (crate::shards).
    r#"
CREATE TABLE shard_results (
    scope     TEXT NOT NULL,
    run_key   TEXT NOT NULL,
    shard     INTEGER NOT NULL,
    shards    INTEGER NOT NULL,
    finished  TEXT NOT NULL,
    units     TEXT NOT NULL,
    body      TEXT NOT NULL,
    PRIMARY KEY (scope, run_key, shard)
);
CREATE TABLE shard_listings (
    scope      TEXT NOT NULL,
    run_key    TEXT NOT NULL,
    holder     TEXT NOT NULL,
    heartbeat  INTEGER NOT NULL,
    body       TEXT,
    PRIMARY KEY (scope, run_key)
);
"#,
];

/// Rewrites rows that only a SQLite file can hold from before PostgreSQL was supported, after
/// migration `i` (SQLite's `replace` stops at U+0000, so this is done row by row).
fn sqlite_only(tx: &mut Tx<'_>, i: usize) -> Result<(), String> {
    if i != 4 || !matches!(tx, Tx::Sqlite(_)) {
        return Ok(());
    }
    for r in tx.query("SELECT scope, key FROM seen WHERE what = 'identity'", &[])? {
        let (scope, key) = (r.text(0)?, r.text(1)?);
        if key.contains('\0') {
            tx.execute(
                "UPDATE seen SET key = ?3 WHERE scope = ?1 AND what = 'identity' AND key = ?2",
                &[
                    Value::Text(scope),
                    Value::Text(key.clone()),
                    Value::Text(key.replace('\0', "\u{1f}")),
                ],
            )?;
        }
    }
    Ok(())
}

/// PostgreSQL keeps the schema version in this table (SQLite in its `user_version`).
const PG_VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS roster_schema (version BIGINT NOT NULL)";

fn read_version(tx: &mut Tx<'_>) -> Result<i64, String> {
    match tx {
        Tx::Sqlite(_) => tx.query_one("PRAGMA user_version", &[])?.int(0),
        Tx::Postgres(..) => {
            // Only a migration creates the table (under the write lock): two first runs at
            // once must not both create it.
            let exists = tx.query_one("SELECT to_regclass('roster_schema') IS NOT NULL", &[])?;
            if exists.int(0)? == 0 {
                return Ok(0);
            }
            let rows = tx.query("SELECT version FROM roster_schema", &[])?;
            rows.first().map_or(Ok(0), |r| r.int(0))
        }
    }
}

fn write_version(tx: &mut Tx<'_>, v: i64) -> Result<(), String> {
    match tx {
        Tx::Sqlite(_) => tx.batch(&format!("PRAGMA user_version = {v}")),
        Tx::Postgres(..) => {
            tx.execute("DELETE FROM roster_schema", &[])?;
            tx.execute("INSERT INTO roster_schema (version) VALUES (?1)", &[v.into()])
                .map(drop)
        }
    }
}

impl Store {
    /// The schema version the database is at.
    pub fn version(&self) -> Result<i64, StoreError> {
        let mut db = self.db.borrow_mut();
        let mut tx = db
            .transaction(false)
            .map_err(|e| self.err("cannot read the schema version", e))?;
        let v = read_version(&mut tx).map_err(|e| {
            let hint = if matches!(tx, Tx::Postgres(..)) {
                "check that the URL names Roster's database and that its user may read it"
            } else {
                MOVE_ASIDE
            };
            self.err(
                "cannot read the schema version (is it a Roster database?)",
                format!("{e}; {hint}"),
            )
        })?;
        tx.commit().map_err(|e| self.err("cannot read the schema version", e))?;
        Ok(v)
    }

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
        let mut db = self.db.borrow_mut();
        let mut tx = db
            .transaction(true)
            .map_err(|e| StoreError(format!("state database {path}: cannot lock it to migrate: {e}")))?;
        if matches!(tx, Tx::Postgres(..)) {
            tx.batch(PG_VERSION_TABLE)
                .map_err(|e| StoreError(format!("state database {path}: {e}")))?;
        }
        let v = read_version(&mut tx).map_err(|e| StoreError(format!("state database {path}: {e}")))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(v).unwrap_or(0)) {
            tx.batch(sql)
                .and_then(|()| sqlite_only(&mut tx, i))
                .and_then(|()| write_version(&mut tx, i as i64 + 1))
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
        Store::open(&db).unwrap().batch("PRAGMA user_version = 99");
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

    /// Identity keys written with U+0000 between source and id (before version 5) are read
    /// the same afterwards; a name holding U+0000 is stored (as U+FFFD) on both engines.
    #[test]
    fn identity_keys_move_to_a_separator_both_engines_hold() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("roster.db");
        let c = Connection::open(&db).unwrap();
        for m in &MIGRATIONS[..4] {
            c.execute_batch(m).unwrap();
        }
        c.execute_batch("PRAGMA user_version = 4; INSERT INTO seen VALUES ('default', 'identity', 'aws' || char(0) || 'AIDA1', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');")
            .unwrap();
        drop(c);
        let s = Store::open(&db).unwrap();
        let seen = s.seen(crate::DEFAULT_SCOPE, "identity").unwrap();
        assert_eq!(seen.keys().collect::<Vec<_>>(), ["aws\u{1f}AIDA1"]);
        for b in crate::testing::backends() {
            let mut s = b.open();
            let mut r = roster_model::Report::empty("t");
            r.identities = vec![roster_testkit::records::identity("aws", "user", "AIDA2", "evil\0name")];
            let (run, _) = s.record(&r, 0, 0, "x", "s").unwrap();
            assert_eq!(
                s.run_identities(run).unwrap()[0].name,
                "evil\0name",
                "{}: the body keeps it",
                b.name
            );
            assert!(
                s.seen("s", "identity").unwrap().contains_key("aws\u{1f}AIDA2"),
                "{}",
                b.name
            );
        }
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
            let g = roster_model::Gap::new(
                id.into(),
                roster_model::GapKind::NoOwner,
                roster_model::Severity::High,
                id.into(),
                vec![],
            );
            serde_json::to_string(&g.with(&[])).unwrap()
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
