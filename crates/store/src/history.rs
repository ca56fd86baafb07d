//! Reading the history back for the dashboard: the trend of gaps over runs, a run's summary and
//! inventory, when things were first and last seen, and one gap across the runs of its scope.

use crate::db::params;
use crate::{Store, StoreError};
use roster_model::{Agent, Gap, Identity};
use serde::Serialize;
use std::collections::BTreeMap;

/// Gap counts of one run, by severity and by kind.
#[derive(Debug, Clone, Serialize)]
pub struct TrendPoint {
    /// The run.
    pub run: i64,
    /// When it started.
    pub started: String,
    /// Whether some source was incomplete.
    pub incomplete: bool,
    /// Gap count per severity (lowercase names).
    pub by_severity: BTreeMap<String, u64>,
    /// Gap count per kind.
    pub by_kind: BTreeMap<String, u64>,
}

/// One run's view of a gap: whether the run had it, and how.
#[derive(Debug, Clone, Serialize)]
pub struct GapInRun {
    /// The run.
    pub run: i64,
    /// When it started.
    pub started: String,
    /// The gap's severity in that run, when the run had it.
    pub severity: Option<String>,
    /// Whether it was accepted in that run.
    pub accepted: bool,
}

impl Store {
    /// Gap counts by severity and kind for every run of `scope`, oldest first.
    pub fn trend(&self, scope: &str) -> Result<Vec<TrendPoint>, StoreError> {
        let mut points: BTreeMap<i64, TrendPoint> = self
            .runs(Some(scope))?
            .into_iter()
            .map(|r| {
                let p = TrendPoint {
                    run: r.id,
                    started: r.started,
                    incomplete: r.incomplete,
                    by_severity: BTreeMap::new(),
                    by_kind: BTreeMap::new(),
                };
                (r.id, p)
            })
            .collect();
        let rows = self.query(
            "SELECT g.run_id, g.severity, g.kind, COUNT(*) FROM gaps g JOIN runs r ON r.id = g.run_id
             WHERE r.scope = ?1 GROUP BY g.run_id, g.severity, g.kind",
            params![scope],
            "the trend",
        )?;
        let rows: Vec<(i64, String, String, i64)> = rows
            .iter()
            .map(|r| Ok((r.int(0)?, r.text(1)?, r.text(2)?, r.int(3)?)))
            .collect::<Result<_, String>>()
            .map_err(|e| self.err("cannot read the trend", e))?;
        for (run, severity, kind, n) in rows {
            if let Some(p) = points.get_mut(&run) {
                let n = u64::try_from(n).unwrap_or(0);
                *p.by_severity.entry(severity).or_default() += n;
                *p.by_kind.entry(kind).or_default() += n;
            }
        }
        Ok(points.into_values().collect())
    }

    /// The summary recorded with a run: counts, sources, each connector's outcome, the errors.
    pub fn run_summary(&self, run: i64) -> Result<serde_json::Value, StoreError> {
        let text = self
            .query(
                "SELECT summary FROM runs WHERE id = ?1",
                params![run],
                &format!("run {run}"),
            )?
            .first()
            .ok_or_else(|| format!("there is no run {run}"))
            .and_then(|r| r.text(0))
            .map_err(|e| self.err(&format!("cannot read run {run}"), e))?;
        serde_json::from_str(&text).map_err(|e| self.err(&format!("the summary of run {run} is not readable"), e))
    }

    /// First and last seen of everything of one kind (`gap` or `identity`) in `scope`, by key.
    pub fn seen(&self, scope: &str, what: &str) -> Result<BTreeMap<String, (String, String)>, StoreError> {
        self.query(
            "SELECT key, first_seen, last_seen FROM seen WHERE scope = ?1 AND what = ?2",
            params![scope, what],
            "first and last seen",
        )?
        .iter()
        .map(|r| Ok((r.text(0)?, (r.text(1)?, r.text(2)?))))
        .collect::<Result<_, String>>()
        .map_err(|e| self.err("cannot read first and last seen", e))
    }

    /// One gap across the runs of `scope`: every run, and the gap as that run had it (if it did).
    pub fn gap_history(&self, scope: &str, gap_id: &str) -> Result<Vec<GapInRun>, StoreError> {
        let rows = self.query(
            "SELECT r.id, r.started, g.severity, g.body FROM runs r
             LEFT JOIN gaps g ON g.run_id = r.id AND g.gap_id = ?2
             WHERE r.scope = ?1 ORDER BY r.id",
            params![scope, gap_id],
            "the gap's history",
        )?;
        let rows: Vec<(i64, String, Option<String>, Option<String>)> = rows
            .iter()
            .map(|r| Ok((r.int(0)?, r.text(1)?, r.opt_text(2)?, r.opt_text(3)?)))
            .collect::<Result<_, String>>()
            .map_err(|e| self.err("cannot read the gap's history", e))?;
        rows.into_iter()
            .map(|(run, started, severity, body)| {
                let accepted = match body {
                    Some(b) => serde_json::from_str::<Gap>(&b)
                        .map_err(|e| self.err(&format!("gap {gap_id} of run {run} is not readable"), e))?
                        .accepted
                        .is_some(),
                    None => false,
                };
                Ok(GapInRun {
                    run,
                    started,
                    severity,
                    accepted,
                })
            })
            .collect()
    }

    /// The identities a run recorded.
    pub fn run_identities(&self, run: i64) -> Result<Vec<Identity>, StoreError> {
        self.bodies(
            "SELECT body FROM identities WHERE run_id = ?1 ORDER BY source, name",
            run,
            "identities",
        )
    }

    /// The agents a run recorded (runs recorded before version 4 of the schema have none).
    pub fn run_agents(&self, run: i64) -> Result<Vec<Agent>, StoreError> {
        self.bodies(
            "SELECT body FROM agents WHERE run_id = ?1 ORDER BY agent_id",
            run,
            "agents",
        )
    }

    fn bodies<T: serde::de::DeserializeOwned>(&self, sql: &str, run: i64, what: &str) -> Result<Vec<T>, StoreError> {
        let rows: Vec<String> = self
            .query(sql, params![run], what)?
            .iter()
            .map(|r| r.text(0))
            .collect::<Result<_, String>>()
            .map_err(|e| self.err(&format!("cannot read {what}"), e))?;
        rows.iter()
            .map(|b| {
                serde_json::from_str(b).map_err(|e| self.err(&format!("one of run {run}'s {what} is not readable"), e))
            })
            .collect()
    }
}
