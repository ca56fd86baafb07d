//! Recording discover runs, and reading them back: the run list, a run's gaps, the diff.

use crate::db::{Exec as _, Row, Value, params};
use crate::{Store, StoreError};
use roster_model::{Gap, Report, format_millis};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A run's id and its gaps by id.
pub type RunGaps = (i64, BTreeMap<String, Gap>);

/// One stored run.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// Run number (1, 2, ...), counted across every scope of the database.
    pub id: i64,
    /// The scope the run belongs to: its history, diffs and first/last seen are its own.
    pub scope: String,
    /// The configuration the run read (as recorded).
    pub config: String,
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
    #[serde(serialize_with = "Gap::serialize_standalone_list")]
    pub new: Vec<Gap>,
    /// Gaps in `from` and not in `to`.
    #[serde(serialize_with = "Gap::serialize_standalone_list")]
    pub resolved: Vec<Gap>,
    /// Gaps in both (ids).
    pub still_open: Vec<String>,
}

impl Store {
    /// Records a run in `scope`: its gaps and identities, and first/last seen of each (within
    /// the scope). Returns the run id and, per gap id, when it was first seen in the scope. All
    /// or nothing.
    pub fn record(
        &mut self,
        report: &Report,
        started_ms: i64,
        as_of_ms: i64,
        config: &str,
        scope: &str,
    ) -> Result<(i64, BTreeMap<String, String>), StoreError> {
        let started = format_millis(started_ms);
        let e = |what: &str, x: String| self.err(what, x);
        let summary = serde_json::json!({
            "gaps": report.gaps.len(), "identities": report.identities.len(),
            "agents": report.agents.len(), "findings": report.findings.len(),
            "sources": report.sources, "connectors": report.connectors.iter().map(|c| (&c.source, &c.status)).collect::<Vec<_>>(),
            "connector_runs": report.connectors,
            "errors": report.issues.iter().filter(|i| i.level == "error").collect::<Vec<_>>(),
        });
        let mut db = self.db.borrow_mut();
        let mut tx = db.transaction(false).map_err(|x| e("cannot start a transaction", x))?;
        let run = tx
            .query_one(
                "INSERT INTO runs (scope, started, as_of, config, incomplete, summary) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
                params![
                    scope,
                    &started,
                    format_millis(as_of_ms),
                    config,
                    report.incomplete,
                    summary.to_string()
                ],
            )
            .and_then(|r| r.int(0))
            .map_err(|x| e("cannot record the run", x))?;
        let mut first = BTreeMap::new();
        const SEEN: &str = "INSERT INTO seen (scope, what, key, first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?4)
             ON CONFLICT (scope, what, key) DO UPDATE SET last_seen = excluded.last_seen
             RETURNING first_seen";
        // Keys are upserted in one order (by id), so two runs recorded at once never wait on
        // each other's rows in opposite orders.
        let mut gaps: Vec<&Gap> = report.gaps.iter().collect();
        gaps.sort_by(|a, b| a.id.cmp(&b.id));
        let mut identities: Vec<_> = report.identities.iter().collect();
        identities.sort_by(|a, b| (&a.source, &a.id).cmp(&(&b.source, &b.id)));
        for g in gaps {
            tx.execute(
                "INSERT INTO gaps (run_id, gap_id, kind, severity, title, owner, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (run_id, gap_id) DO UPDATE SET kind = excluded.kind, severity = excluded.severity,
                     title = excluded.title, owner = excluded.owner, body = excluded.body",
                params![
                    run,
                    &g.id,
                    g.kind.as_str(),
                    g.severity.as_str(),
                    &g.title,
                    g.owner.as_ref().map(|o| o.name.clone()),
                    serde_json::to_string(&g.with(&report.findings)).map_err(|x| e("cannot encode", x.to_string()))?
                ],
            )
            .map_err(|x| e("cannot record a gap", x))?;
            let f = tx
                .query_one(SEEN, params![scope, "gap", &g.id, &started])
                .and_then(|r| r.text(0))
                .map_err(|x| e("cannot record first seen", x))?;
            first.insert(g.id.to_string(), f);
        }
        for i in identities {
            tx.execute(
                "INSERT INTO identities (run_id, source, identity_id, kind, name, owner, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (run_id, source, identity_id) DO UPDATE SET kind = excluded.kind, name = excluded.name,
                     owner = excluded.owner, body = excluded.body",
                params![
                    run,
                    &i.source,
                    &i.id,
                    &i.kind,
                    &i.name,
                    i.accountable.as_ref().map(|o| o.name.clone()),
                    serde_json::to_string(i).map_err(|x| e("cannot encode", x.to_string()))?
                ],
            )
            .map_err(|x| e("cannot record an identity", x))?;
            tx.query(
                SEEN,
                params![scope, "identity", format!("{}\u{1f}{}", i.source, i.id), &started],
            )
            .map_err(|x| e("cannot record first seen", x))?;
        }
        for a in &report.agents {
            tx.execute(
                "INSERT INTO agents (run_id, agent_id, source, owner, body) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (run_id, agent_id) DO UPDATE SET source = excluded.source, owner = excluded.owner,
                     body = excluded.body",
                params![
                    run,
                    &a.id,
                    &a.source,
                    a.accountable.as_ref().map(|o| o.name.clone()),
                    serde_json::to_string(a).map_err(|x| e("cannot encode", x.to_string()))?
                ],
            )
            .map_err(|x| e("cannot record an agent", x))?;
        }
        tx.commit().map_err(|x| e("cannot commit the run", x))?;
        Ok((run, first))
    }

    /// The stored runs of `scope` (every scope with None), oldest first.
    pub fn runs(&self, scope: Option<&str>) -> Result<Vec<RunInfo>, StoreError> {
        match scope {
            Some(s) => self.query_runs("r.scope = ?1", params![s]),
            None => self.query_runs("1 = 1", &[]),
        }
    }

    /// Run `id`, in whatever scope.
    pub fn run(&self, id: i64) -> Result<Option<RunInfo>, StoreError> {
        Ok(self.query_runs("r.id = ?1", params![id])?.pop())
    }

    fn query_runs(&self, filter: &str, args: &[Value]) -> Result<Vec<RunInfo>, StoreError> {
        let rows = self.query(
            &format!(
                "SELECT r.id, r.scope, r.config, r.started, r.as_of, r.incomplete,
                        (SELECT COUNT(*) FROM gaps g WHERE g.run_id = r.id)
                 FROM runs r WHERE {filter} ORDER BY r.id"
            ),
            args,
            "runs",
        )?;
        let info = |r: &Row| {
            Ok(RunInfo {
                id: r.int(0)?,
                scope: r.text(1)?,
                config: r.text(2)?,
                started: r.text(3)?,
                as_of: r.text(4)?,
                incomplete: r.int(5)? != 0,
                gaps: u64::try_from(r.int(6)?).unwrap_or(0),
            })
        };
        rows.iter()
            .map(info)
            .collect::<Result<_, String>>()
            .map_err(|e| self.err("cannot list runs", e))
    }

    /// Every scope with runs, and how many runs each has, by name.
    pub fn scopes(&self) -> Result<Vec<(String, u64)>, StoreError> {
        self.query(
            "SELECT scope, COUNT(*) FROM runs GROUP BY scope ORDER BY scope",
            &[],
            "scopes",
        )?
        .iter()
        .map(|r| Ok((r.text(0)?, u64::try_from(r.int(1)?).unwrap_or(0))))
        .collect::<Result<_, String>>()
        .map_err(|e| self.err("cannot list scopes", e))
    }

    fn gaps(&self, run: i64) -> Result<BTreeMap<String, Gap>, StoreError> {
        let rows = self.query("SELECT gap_id, body FROM gaps WHERE run_id = ?1", params![run], "gaps")?;
        rows.iter()
            .map(|r| {
                let (id, body) = (r.text(0), r.text(1));
                let (id, body) = id
                    .and_then(|i| Ok((i, body?)))
                    .map_err(|e| self.err("cannot read gaps", e))?;
                serde_json::from_str::<Gap>(&body)
                    .map(|g| (id.clone(), g))
                    .map_err(|e| self.err(&format!("gap {id} of run {run} is not readable"), e))
            })
            .collect()
    }

    /// Run `id`, which must be in `scope`: an error names the scope it is in.
    fn run_in(&self, scope: &str, id: i64) -> Result<RunInfo, StoreError> {
        let r = self.run(id)?.ok_or_else(|| {
            StoreError(format!(
                "state database {}: there is no run {id}; `roster runs` lists the runs",
                self.path
            ))
        })?;
        if r.scope != scope {
            return Err(StoreError(format!(
                "run {id} is in scope {:?}, not {scope:?}: pass --scope {} to read it, or pick a run of {scope:?} (`roster runs --scope {scope}`)",
                r.scope, r.scope
            )));
        }
        Ok(r)
    }

    /// The diff between runs `from` and `to` of `scope` (default: its last two runs). None when
    /// the scope has fewer than two runs. Runs of different scopes are never compared: a run
    /// of another configuration says nothing about this one's gaps.
    pub fn diff(&self, scope: &str, from: Option<i64>, to: Option<i64>) -> Result<Option<Diff>, StoreError> {
        if let (Some(f), Some(t)) = (from, to)
            && let (Some(a), Some(b)) = (self.run(f)?, self.run(t)?)
            && a.scope != b.scope
        {
            return Err(StoreError(format!(
                "runs {f} and {t} are in different scopes ({:?} and {:?}): `roster diff` compares runs of one scope; `roster runs` lists each run's scope",
                a.scope, b.scope
            )));
        }
        let runs = self.runs(Some(scope))?;
        let to = match to {
            Some(t) => self.run_in(scope, t)?,
            None => match runs.last() {
                Some(r) => r.clone(),
                None => return Ok(None),
            },
        };
        let from = match from {
            Some(f) => self.run_in(scope, f)?,
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

    /// The gaps of run `run` of `scope` (default: the scope's last run), by id, with the run's
    /// id.
    pub fn run_gaps(&self, scope: &str, run: Option<i64>) -> Result<Option<RunGaps>, StoreError> {
        let id = match run {
            Some(r) => self.run_in(scope, r)?.id,
            None => match self.last_run(scope)? {
                Some(id) => id,
                None => return Ok(None),
            },
        };
        Ok(Some((id, self.gaps(id)?)))
    }

    /// The last run of `scope`, if any.
    pub fn last_run(&self, scope: &str) -> Result<Option<i64>, StoreError> {
        self.query("SELECT MAX(id) FROM runs WHERE scope = ?1", params![scope], "runs")?
            .first()
            .map_or(Ok(None), |r| r.opt_int(0))
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
        for b in crate::testing::backends() {
            runs_diff_and_first_seen_on(&b);
        }
    }

    fn runs_diff_and_first_seen_on(b: &crate::testing::Backend) {
        let mut s = b.open();
        assert_eq!(s.version().unwrap(), MIGRATIONS.len() as i64);
        assert!(s.diff("s", None, None).unwrap().is_none());
        let (r1, f1) = s
            .record(&report(&["a", "b"]), 1_000_000_000_000, 1_000_000_000_000, "x", "s")
            .unwrap();
        let (r2, f2) = s
            .record(&report(&["b", "c"]), 1_000_086_400_000, 1_000_086_400_000, "x", "s")
            .unwrap();
        assert_eq!((r1, r2), (1, 2));
        assert_eq!(f1["b"], f2["b"], "first seen is kept");
        assert_ne!(f2["c"], f2["b"]);
        let d = s.diff("s", None, None).unwrap().unwrap();
        assert_eq!(d.new.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(), ["c"]);
        assert_eq!(d.resolved.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(), ["a"]);
        assert_eq!(d.still_open, ["b"]);
        drop(s);
        // Reopening migrates nothing and keeps the runs.
        let s = b.open();
        assert_eq!(s.runs(None).unwrap().len(), 2);
    }

    #[test]
    fn scopes_keep_their_own_history_first_seen_and_diff() {
        for b in crate::testing::backends() {
            scopes_on(&b);
        }
    }

    fn scopes_on(b: &crate::testing::Backend) {
        let mut s = b.open();
        let day = 86_400_000;
        let (_, a1) = s.record(&report(&["a", "shared"]), 0, 0, "a.toml", "A").unwrap();
        // B's run has none of A's gaps, and sees `shared` for the first time in B.
        let (_, b1) = s.record(&report(&["b", "shared"]), day, day, "b.toml", "B").unwrap();
        assert_ne!(b1["shared"], a1["shared"], "first seen is per scope");
        let (r3, a2) = s
            .record(&report(&["a", "shared"]), 2 * day, 2 * day, "a.toml", "A")
            .unwrap();
        assert_eq!(a2["a"], a1["a"]);
        assert_eq!(a2["shared"], a1["shared"]);
        // A's diff compares runs 1 and 3: B's run in between resolves nothing.
        let d = s.diff("A", None, None).unwrap().unwrap();
        assert_eq!((d.from.id, d.to.id), (1, r3));
        assert!(d.new.is_empty() && d.resolved.is_empty(), "{d:?}");
        assert_eq!(d.still_open, ["a", "shared"]);
        assert!(s.diff("B", None, None).unwrap().is_none(), "B has one run");
        assert_eq!(
            s.runs(Some("A")).unwrap().iter().map(|r| r.id).collect::<Vec<_>>(),
            [1, 3]
        );
        assert_eq!(s.runs(Some("B")).unwrap()[0].config, "b.toml");
        assert_eq!(s.scopes().unwrap(), [("A".to_string(), 2), ("B".to_string(), 1)]);
        assert_eq!(s.last_run("B").unwrap(), Some(2));
        assert_eq!(s.run_gaps("B", None).unwrap().unwrap().1.len(), 2);
        assert_eq!(s.last_run("C").unwrap(), None);
        // Runs of two scopes are never compared; the error names both.
        let e = s.diff("A", Some(2), Some(3)).err().unwrap().0;
        assert!(
            e.contains("runs 2 and 3 are in different scopes (\"B\" and \"A\")"),
            "{e}"
        );
        let e = s.diff("A", None, Some(2)).err().unwrap().0;
        assert!(e.contains("run 2 is in scope \"B\", not \"A\""), "{e}");
        let e = s.diff("A", None, Some(9)).err().unwrap().0;
        assert!(e.contains("there is no run 9"), "{e}");
    }

    #[test]
    fn a_failed_run_leaves_earlier_runs_intact() {
        for b in crate::testing::backends() {
            let mut s = b.open();
            s.record(&report(&["a"]), 0, 0, "x", "s").unwrap();
            // A trigger makes the second run fail midway, after its run row and first gap.
            s.batch(if s.is_postgres() {
                "CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN
                     IF NEW.gap_id = 'bad' THEN RAISE EXCEPTION 'disk full'; END IF; RETURN NEW;
                 END $$ LANGUAGE plpgsql;
                 CREATE TRIGGER boom BEFORE INSERT ON gaps FOR EACH ROW EXECUTE FUNCTION boom();"
            } else {
                "CREATE TRIGGER boom BEFORE INSERT ON gaps WHEN NEW.gap_id = 'bad' BEGIN SELECT RAISE(ABORT, 'disk full'); END;"
            });
            let e = s.record(&report(&["z", "bad"]), 1, 1, "x", "s").err().unwrap().0;
            assert!(e.contains("disk full"), "{}: {e}", b.name);
            let runs = s.runs(None).unwrap();
            assert_eq!(runs.len(), 1, "{}", b.name);
            assert_eq!(runs[0].gaps, 1);
            // The store is still usable after the failed transaction.
            let (r, _) = s.record(&report(&["z"]), 2, 2, "x", "s").unwrap();
            assert_eq!(s.runs(Some("s")).unwrap().last().unwrap().id, r);
        }
    }

    /// Several processes record runs into one database at once (shards, or two scheduled jobs
    /// that overlap): every run is kept whole with its own number, and the first-time key is
    /// the same for all of them.
    #[test]
    fn concurrent_writers_keep_every_run_and_agree_on_the_key() {
        for b in crate::testing::backends() {
            drop(b.open());
            let keys: Vec<(Vec<i64>, String)> = std::thread::scope(|t| {
                let handles: Vec<_> = (0..4)
                    .map(|w| {
                        let b = &b;
                        t.spawn(move || {
                            let mut s = b.open();
                            let key = s.meta_get_or_insert("k", &format!("writer {w}")).unwrap();
                            let ids = (0..5)
                                .map(|i| {
                                    let gaps = [format!("w{w}-{i}"), "shared".to_owned()];
                                    let gaps: Vec<&str> = gaps.iter().map(String::as_str).collect();
                                    s.record(&report(&gaps), i, i, "x", "s").unwrap().0
                                })
                                .collect();
                            (ids, key)
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let s = b.open();
            let mut ids: Vec<i64> = keys.iter().flat_map(|(i, _)| i.clone()).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), 20, "{}: every run has its own number", b.name);
            assert!(keys.iter().all(|(_, k)| *k == keys[0].1), "{}: {keys:?}", b.name);
            let runs = s.runs(Some("s")).unwrap();
            assert_eq!(runs.len(), 20, "{}", b.name);
            assert!(runs.iter().all(|r| r.gaps == 2), "{}: every run is whole", b.name);
        }
    }
}
