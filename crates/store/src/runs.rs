//! Recording discover runs, and reading them back: the run list, a run's gaps, the diff.

use crate::{Store, StoreError};
use roster_model::{Gap, Report, format_millis};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A run's id and its gaps by id.
pub type RunGaps = (i64, BTreeMap<String, Gap>);

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
    use crate::schema::MIGRATIONS;
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
}
