//! Roster's state database: an embedded SQLite file (`roster.db` in the state directory) holding
//! every discover run's inventory and gaps, when each gap was first and last seen, the diff
//! between runs, the gaps the organization accepted (the baseline), the fingerprint key and the
//! commits incremental history scans covered. It never holds a raw secret: reports reach it
//! after redaction.
//!
//! Schema changes are migrations numbered by SQLite's `user_version`. A run is written in one
//! transaction, so a run that crashes midway leaves the previous runs intact.

use roster_model::{Acceptance, Gap, Report, format_millis};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Migrations, in order; migration `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &[
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

/// What to do with a damaged database, and what that costs.
const MOVE_ASIDE: &str = "if the file is damaged, restore it from a backup, or move it aside and Roster starts a new one \
     (with a new fingerprint key, so fingerprints change; run history, accepted gaps and incremental-scan state start over)";

/// An error from the state database, naming the file and what to do.
#[derive(Debug)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

/// The state database.
pub struct Store {
    conn: Connection,
    path: String,
}

/// A run's id and its gaps by id.
pub type RunGaps = (i64, BTreeMap<String, Gap>);

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

/// One stored run.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// Run number (1, 2, ...).
    pub id: i64,
    /// When it started (RFC 3339, UTC).
    pub started: String,
    /// The date thresholds were measured from.
    pub as_of: String,
    /// Whether some source was incomplete.
    pub incomplete: bool,
    /// Gap count.
    pub gaps: u64,
}

/// What changed between two runs.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    /// The earlier run.
    pub from: RunInfo,
    /// The later run.
    pub to: RunInfo,
    /// Gaps in `to` and not in `from`.
    pub new: Vec<Gap>,
    /// Gaps in `from` and not in `to`.
    pub resolved: Vec<Gap>,
    /// Gaps in both (ids).
    pub still_open: Vec<String>,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let name = path.display().to_string();
        let err =
            |what: &str, e: rusqlite::Error| StoreError(format!("state database {name}: {what}: {e}; {MOVE_ASIDE}"));
        let conn = Connection::open(path).map_err(|e| err("cannot open", e))?;
        // Inventory and fingerprints are for the state directory's owner only.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| err("cannot configure", e))?;
        conn.execute_batch("PRAGMA foreign_keys = ON;")
            .map_err(|e| err("cannot configure", e))?;
        let mut store = Store { conn, path: name };
        store.migrate()?;
        Ok(store)
    }

    fn err(&self, what: &str, e: impl std::fmt::Display) -> StoreError {
        StoreError(format!("state database {}: {what}: {e}", self.path))
    }

    /// The schema version the file is at.
    pub fn version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| {
                self.err(
                    "cannot read the schema version (is it a SQLite file?)",
                    format!("{e}; {MOVE_ASIDE}"),
                )
            })
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
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

    /// Records a run: its gaps and identities, and first/last seen of each. Returns the run id
    /// and, per gap id, when it was first seen. All or nothing.
    pub fn record(
        &mut self,
        report: &Report,
        started_ms: i64,
        as_of_ms: i64,
        config: &str,
    ) -> Result<(i64, BTreeMap<String, String>), StoreError> {
        let started = format_millis(started_ms);
        let path = self.path.clone();
        let e = move |what: &str, e: rusqlite::Error| StoreError(format!("state database {path}: {what}: {e}"));
        let tx = self
            .conn
            .transaction()
            .map_err(|x| e("cannot start a transaction", x))?;
        let summary = serde_json::json!({
            "gaps": report.gaps.len(), "identities": report.identities.len(),
            "agents": report.agents.len(), "findings": report.findings.len(),
            "sources": report.sources, "connectors": report.connectors.iter().map(|c| (&c.source, &c.status)).collect::<Vec<_>>(),
        });
        tx.execute(
            "INSERT INTO runs (started, as_of, config, incomplete, summary) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                started,
                format_millis(as_of_ms),
                config,
                report.incomplete,
                summary.to_string()
            ],
        )
        .map_err(|x| e("cannot record the run", x))?;
        let run = tx.last_insert_rowid();
        let mut first = BTreeMap::new();
        {
            let mut gap = tx
                .prepare("INSERT OR REPLACE INTO gaps (run_id, gap_id, kind, severity, title, owner, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
                .map_err(|x| e("cannot prepare", x))?;
            let mut seen = tx
                .prepare(
                    "INSERT INTO seen (what, key, first_seen, last_seen) VALUES (?1, ?2, ?3, ?3)
                     ON CONFLICT (what, key) DO UPDATE SET last_seen = excluded.last_seen
                     RETURNING first_seen",
                )
                .map_err(|x| e("cannot prepare", x))?;
            for g in &report.gaps {
                let body = serde_json::to_string(g).map_err(|x| StoreError(x.to_string()))?;
                gap.execute(params![
                    run,
                    g.id,
                    g.kind.as_str(),
                    g.severity.as_str(),
                    g.title,
                    g.owner.as_ref().map(|o| o.name.clone()),
                    body
                ])
                .map_err(|x| e("cannot record a gap", x))?;
                let f: String = seen
                    .query_row(params!["gap", g.id, started], |r| r.get(0))
                    .map_err(|x| e("cannot record first seen", x))?;
                first.insert(g.id.clone(), f);
            }
            let mut ident = tx
                .prepare("INSERT OR REPLACE INTO identities (run_id, source, identity_id, kind, name, owner, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
                .map_err(|x| e("cannot prepare", x))?;
            for i in &report.identities {
                let body = serde_json::to_string(i).map_err(|x| StoreError(x.to_string()))?;
                ident
                    .execute(params![
                        run,
                        i.source,
                        i.id,
                        i.kind,
                        i.name,
                        i.accountable.as_ref().map(|o| o.name.clone()),
                        body
                    ])
                    .map_err(|x| e("cannot record an identity", x))?;
                seen.query_row(
                    params!["identity", format!("{}\u{0}{}", i.source, i.id), started],
                    |_| Ok(()),
                )
                .map_err(|x| e("cannot record first seen", x))?;
            }
        }
        tx.commit().map_err(|x| e("cannot commit the run", x))?;
        Ok((run, first))
    }

    /// The stored runs, oldest first.
    pub fn runs(&self) -> Result<Vec<RunInfo>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT r.id, r.started, r.as_of, r.incomplete, (SELECT COUNT(*) FROM gaps g WHERE g.run_id = r.id)
                 FROM runs r ORDER BY r.id",
            )
            .map_err(|e| self.err("cannot list runs", e))?;
        st.query_map([], |r| {
            Ok(RunInfo {
                id: r.get(0)?,
                started: r.get(1)?,
                as_of: r.get(2)?,
                incomplete: r.get(3)?,
                gaps: r.get::<_, i64>(4)? as u64,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.err("cannot list runs", e))
    }

    fn run(&self, id: i64) -> Result<Option<RunInfo>, StoreError> {
        Ok(self.runs()?.into_iter().find(|r| r.id == id))
    }

    fn gaps(&self, run: i64) -> Result<BTreeMap<String, Gap>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT gap_id, body FROM gaps WHERE run_id = ?1")
            .map_err(|e| self.err("cannot read gaps", e))?;
        let rows: Vec<(String, String)> = st
            .query_map([run], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err("cannot read gaps", e))?;
        rows.into_iter()
            .map(|(id, body)| {
                serde_json::from_str::<Gap>(&body)
                    .map(|g| (id.clone(), g))
                    .map_err(|e| self.err(&format!("gap {id} of run {run} is not readable"), e))
            })
            .collect()
    }

    /// The diff between runs `from` and `to` (default: the last two runs). None when there are
    /// fewer than two runs.
    pub fn diff(&self, from: Option<i64>, to: Option<i64>) -> Result<Option<Diff>, StoreError> {
        let runs = self.runs()?;
        let to = match to {
            Some(t) => self.run(t)?.ok_or_else(|| self.err("no such run", t))?,
            None => match runs.last() {
                Some(r) => r.clone(),
                None => return Ok(None),
            },
        };
        let from = match from {
            Some(f) => self.run(f)?.ok_or_else(|| self.err("no such run", f))?,
            None => match runs.iter().rev().find(|r| r.id < to.id) {
                Some(r) => r.clone(),
                None => return Ok(None),
            },
        };
        let (a, b) = (self.gaps(from.id)?, self.gaps(to.id)?);
        let ka: BTreeSet<&String> = a.keys().collect();
        let kb: BTreeSet<&String> = b.keys().collect();
        let mut new: Vec<Gap> = kb.difference(&ka).map(|k| b[*k].clone()).collect();
        let mut resolved: Vec<Gap> = ka.difference(&kb).map(|k| a[*k].clone()).collect();
        for v in [&mut new, &mut resolved] {
            v.sort_by(|x, y| y.severity.cmp(&x.severity).then_with(|| x.title.cmp(&y.title)));
        }
        let still_open = ka.intersection(&kb).map(|k| (*k).clone()).collect();
        Ok(Some(Diff {
            from,
            to,
            new,
            resolved,
            still_open,
        }))
    }

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

    /// The gaps of run `run` (default: the last run), by id, with the run's id.
    pub fn run_gaps(&self, run: Option<i64>) -> Result<Option<RunGaps>, StoreError> {
        let Some(id) = (match run {
            Some(r) => self.run(r)?.map(|r| r.id),
            None => self.last_run()?,
        }) else {
            return Ok(None);
        };
        Ok(Some((id, self.gaps(id)?)))
    }

    /// Accepts gaps into the baseline, replacing earlier acceptances of the same gaps.
    pub fn accept(&mut self, gaps: &[&Gap], a: &Acceptance) -> Result<(), StoreError> {
        let path = self.path.clone();
        let e =
            move |x: rusqlite::Error| StoreError(format!("state database {path}: cannot record the acceptance: {x}"));
        let tx = self.conn.transaction().map_err(&e)?;
        for g in gaps {
            tx.execute(
                "INSERT OR REPLACE INTO accepted (gap_id, kind, title, reason, accepted, until, by, severity) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![g.id, g.kind.as_str(), g.title, a.reason, a.accepted, a.until, a.by, g.severity.as_str()],
            )
            .map_err(&e)?;
        }
        tx.commit().map_err(&e)
    }

    /// Every accepted gap, by gap id.
    pub fn acceptances(&self) -> Result<BTreeMap<String, AcceptedGap>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT gap_id, kind, title, reason, accepted, until, by, severity FROM accepted ORDER BY gap_id")
            .map_err(|e| self.err("cannot read the baseline", e))?;
        st.query_map([], |r| {
            Ok((
                r.get(0)?,
                AcceptedGap {
                    kind: r.get(1)?,
                    title: r.get(2)?,
                    severity: r.get(7)?,
                    acceptance: Acceptance {
                        reason: r.get(3)?,
                        accepted: r.get(4)?,
                        until: r.get(5)?,
                        by: r.get(6)?,
                    },
                },
            ))
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.err("cannot read the baseline", e))
    }

    /// Removes gaps from the baseline; returns how many were in it.
    pub fn revoke(&mut self, ids: &[String]) -> Result<usize, StoreError> {
        let mut n = 0;
        for id in ids {
            n += self
                .conn
                .execute("DELETE FROM accepted WHERE gap_id = ?1", [id])
                .map_err(|e| self.err("cannot change the baseline", e))?;
        }
        Ok(n)
    }

    /// Commits an incremental history scan of `repo` (a keyed id, not the path) covered.
    pub fn scanned_tips(&self, repo: &str) -> Result<Vec<String>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT tip FROM scanned_tips WHERE repo = ?1 ORDER BY tip")
            .map_err(|e| self.err("cannot read scanned commits", e))?;
        st.query_map([repo], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err("cannot read scanned commits", e))
    }

    /// Records commits an incremental history scan of `repo` covered (with the earlier ones).
    pub fn record_tips(&mut self, repo: &str, tips: &[String]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let e =
            move |x: rusqlite::Error| StoreError(format!("state database {path}: cannot record scanned commits: {x}"));
        let tx = self.conn.transaction().map_err(&e)?;
        for t in tips {
            tx.execute(
                "INSERT OR IGNORE INTO scanned_tips (repo, tip) VALUES (?1, ?2)",
                params![repo, t],
            )
            .map_err(&e)?;
        }
        tx.commit().map_err(&e)
    }

    /// The last run's id, if any.
    pub fn last_run(&self) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row("SELECT MAX(id) FROM runs", [], |r| r.get(0))
            .optional()
            .map(Option::flatten)
            .map_err(|e| self.err("cannot read runs", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use roster_model::{GapKind, Severity};

    fn report(gaps: &[&str]) -> Report {
        let mut r: Report = serde_json::from_value(serde_json::json!({
            "version": 1, "tool": {"name": "roster", "version": "0"}, "sources": [], "incomplete": false,
            "stats": {"files_scanned": 0, "bytes_scanned": 0, "skipped_binary": 0, "skipped_large": 0, "commits": 0,
                      "blobs": 0, "suppressed_inline": 0, "suppressed_baseline": 0, "elapsed_ms": 0},
            "findings": [], "agents": [], "issues": []
        }))
        .unwrap();
        r.gaps = gaps
            .iter()
            .map(|id| {
                Gap::new(
                    (*id).into(),
                    GapKind::NoOwner,
                    Severity::High,
                    format!("gap {id}"),
                    vec![],
                )
            })
            .collect();
        r
    }

    #[test]
    fn runs_diff_and_first_seen() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("roster.db");
        let mut s = Store::open(&db).unwrap();
        assert_eq!(s.version().unwrap(), MIGRATIONS.len() as i64);
        assert!(s.diff(None, None).unwrap().is_none());
        let (r1, f1) = s
            .record(&report(&["a", "b"]), 1_000_000_000_000, 1_000_000_000_000, "x")
            .unwrap();
        let (r2, f2) = s
            .record(&report(&["b", "c"]), 1_000_086_400_000, 1_000_086_400_000, "x")
            .unwrap();
        assert_eq!((r1, r2), (1, 2));
        assert_eq!(f1["b"], f2["b"], "first seen is kept");
        assert_ne!(f2["c"], f2["b"]);
        let d = s.diff(None, None).unwrap().unwrap();
        assert_eq!(d.new.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(), ["c"]);
        assert_eq!(d.resolved.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(), ["a"]);
        assert_eq!(d.still_open, ["b"]);
        drop(s);
        // Reopening migrates nothing and keeps the runs.
        let s = Store::open(&db).unwrap();
        assert_eq!(s.runs().unwrap().len(), 2);
    }

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
    fn a_failed_run_leaves_earlier_runs_intact() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("roster.db")).unwrap();
        s.record(&report(&["a"]), 0, 0, "x").unwrap();
        // A trigger makes the second run fail midway, after its run row and first gap.
        s.conn
            .execute_batch("CREATE TRIGGER boom BEFORE INSERT ON gaps WHEN NEW.gap_id = 'bad' BEGIN SELECT RAISE(ABORT, 'disk full'); END;")
            .unwrap();
        assert!(s.record(&report(&["z", "bad"]), 1, 1, "x").is_err());
        let runs = s.runs().unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].gaps, 1);
    }

    #[test]
    fn key_baseline_and_tips_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("roster.db");
        let mut s = Store::open(&db).unwrap();
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
        s.record_tips("repo", &["c1".into(), "c2".into()]).unwrap();
        s.record_tips("repo", &["c2".into(), "c3".into()]).unwrap();
        drop(s);
        let mut s = Store::open(&db).unwrap();
        assert_eq!(s.meta_get_or_insert("k", "third").unwrap(), "first");
        assert_eq!(s.acceptances().unwrap()["gap-1"].acceptance, a);
        assert_eq!(s.acceptances().unwrap()["gap-1"].severity, "medium");
        assert_eq!(s.acceptances().unwrap()["gap-1"].severity, "medium");
        assert_eq!(s.scanned_tips("repo").unwrap(), ["c1", "c2", "c3"]);
        assert_eq!(s.revoke(&["gap-1".into(), "gap-2".into()]).unwrap(), 1);
        assert!(s.acceptances().unwrap().is_empty());
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
