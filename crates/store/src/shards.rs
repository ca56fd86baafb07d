//! Sharded discovery's shared state: each shard's share of a run (its partial results, replaced
//! when the shard is retried), and the repository listing of code-host sources, which one shard
//! makes for all (a lease with a heartbeat, taken over when its holder stops beating).

use crate::db::{Exec as _, Value, params};
use crate::{Store, StoreError};

/// One shard's recorded share of a run.
#[derive(Debug, Clone)]
pub struct ShardRow {
    /// The shard's index (0-based).
    pub shard: i64,
    /// How many shards it was one of.
    pub shards: i64,
    /// When it finished (RFC 3339).
    pub finished: String,
    /// The work units it did (JSON list).
    pub units: String,
    /// Its partial results (JSON).
    pub body: String,
}

/// The state of a run's repository listing, for the shard asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    /// Made: its body (JSON).
    Ready(String),
    /// The asker holds the lease now and must make it.
    Claimed,
    /// Another shard (named) is making it and beat recently.
    Busy(String),
}

impl Store {
    /// Records (or, for a retried shard, replaces) shard `shard` of `shards` of run `run_key`.
    #[allow(clippy::too_many_arguments, reason = "one row's columns")]
    pub fn put_shard(
        &mut self,
        scope: &str,
        run_key: &str,
        shard: i64,
        shards: i64,
        finished_ms: i64,
        units: &str,
        body: &str,
    ) -> Result<(), StoreError> {
        let e = |x: String| self.err(&format!("cannot record shard {shard}/{shards} of run {run_key}"), x);
        let mut db = self.db.borrow_mut();
        let mut tx = db.transaction(false).map_err(e)?;
        tx.execute(
            "INSERT INTO shard_results (scope, run_key, shard, shards, finished, units, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (scope, run_key, shard) DO UPDATE SET shards = excluded.shards,
                 finished = excluded.finished, units = excluded.units, body = excluded.body",
            params![
                scope,
                run_key,
                shard,
                shards,
                roster_model::format_millis(finished_ms),
                units,
                body
            ],
        )
        .map_err(e)?;
        tx.commit().map_err(e)
    }

    /// The shards recorded for run `run_key`, by index.
    pub fn shard_rows(&self, scope: &str, run_key: &str) -> Result<Vec<ShardRow>, StoreError> {
        self.query(
            "SELECT shard, shards, finished, units, body FROM shard_results WHERE scope = ?1 AND run_key = ?2 ORDER BY shard",
            params![scope, run_key],
            "the run's shards",
        )?
        .iter()
        .map(|r| {
            Ok(ShardRow {
                shard: r.int(0)?,
                shards: r.int(1)?,
                finished: r.text(2)?,
                units: r.text(3)?,
                body: r.text(4)?,
            })
        })
        .collect::<Result<_, String>>()
        .map_err(|e| self.err("cannot read the run's shards", e))
    }

    /// Forgets run `run_key`'s shards and listing (once merged).
    pub fn drop_shards(&mut self, scope: &str, run_key: &str) -> Result<(), StoreError> {
        let e = |x: String| self.err(&format!("cannot clear the shards of run {run_key}"), x);
        let mut db = self.db.borrow_mut();
        let mut tx = db.transaction(false).map_err(e)?;
        for table in ["shard_results", "shard_listings"] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE scope = ?1 AND run_key = ?2"),
                params![scope, run_key],
            )
            .map_err(e)?;
        }
        tx.commit().map_err(e)
    }

    /// Asks for run `run_key`'s repository listing as `holder`: made already, to be made by
    /// the asker (nobody held the lease, or its holder has not beaten for `stale_ms`), or
    /// being made by another.
    pub fn claim_listing(
        &mut self,
        scope: &str,
        run_key: &str,
        holder: &str,
        now_ms: i64,
        stale_ms: i64,
    ) -> Result<Listing, StoreError> {
        let e = |x: String| self.err(&format!("cannot claim the repository listing of run {run_key}"), x);
        let mut db = self.db.borrow_mut();
        let mut tx = db.transaction(true).map_err(e)?;
        let row = tx
            .query(
                "SELECT holder, heartbeat, body FROM shard_listings WHERE scope = ?1 AND run_key = ?2",
                params![scope, run_key],
            )
            .map_err(e)?;
        let state = match row.first() {
            None => {
                tx.execute(
                    "INSERT INTO shard_listings (scope, run_key, holder, heartbeat) VALUES (?1, ?2, ?3, ?4)",
                    params![scope, run_key, holder, now_ms],
                )
                .map_err(e)?;
                Listing::Claimed
            }
            Some(r) => match r.opt_text(2).map_err(e)? {
                Some(body) => Listing::Ready(body),
                None => {
                    let (was, beat) = (r.text(0).map_err(e)?, r.int(1).map_err(e)?);
                    if was == holder || now_ms - beat > stale_ms {
                        tx.execute(
                            "UPDATE shard_listings SET holder = ?3, heartbeat = ?4 WHERE scope = ?1 AND run_key = ?2",
                            params![scope, run_key, holder, now_ms],
                        )
                        .map_err(e)?;
                        Listing::Claimed
                    } else {
                        Listing::Busy(was)
                    }
                }
            },
        };
        tx.commit().map_err(e)?;
        Ok(state)
    }

    /// Run `run_key`'s repository listing, when it was made.
    pub fn listing(&self, scope: &str, run_key: &str) -> Result<Option<String>, StoreError> {
        self.query(
            "SELECT body FROM shard_listings WHERE scope = ?1 AND run_key = ?2",
            params![scope, run_key],
            "the repository listing",
        )?
        .first()
        .map_or(Ok(None), |r| r.opt_text(0))
        .map_err(|e| self.err("cannot read the repository listing", e))
    }

    /// The listing's holder is alive; false when another took the lease over.
    pub fn beat_listing(&mut self, scope: &str, run_key: &str, holder: &str, now_ms: i64) -> Result<bool, StoreError> {
        self.held_listing(
            "cannot renew the repository listing's lease",
            "UPDATE shard_listings SET heartbeat = ?4 WHERE scope = ?1 AND run_key = ?2 AND holder = ?3 AND body IS NULL",
            params![scope, run_key, holder, now_ms],
        )
    }

    /// Stores the listing `holder` made; false when another took the lease over meanwhile.
    pub fn finish_listing(&mut self, scope: &str, run_key: &str, holder: &str, body: &str) -> Result<bool, StoreError> {
        self.held_listing(
            "cannot record the repository listing",
            "UPDATE shard_listings SET body = ?4 WHERE scope = ?1 AND run_key = ?2 AND holder = ?3 AND body IS NULL",
            params![scope, run_key, holder, body],
        )
    }

    /// Changes the listing row if the asker still holds its lease.
    fn held_listing(&mut self, what: &str, sql: &str, args: &[Value]) -> Result<bool, StoreError> {
        let e = |x: String| self.err(what, x);
        let mut db = self.db.borrow_mut();
        let mut tx = db.transaction(true).map_err(e)?;
        let n = tx.execute(sql, args).map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(n == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retried_shard_replaces_its_share_and_the_listing_lease_moves_on_when_stale() {
        for b in crate::testing::backends() {
            let mut s = b.open();
            s.put_shard("sc", "r1", 0, 2, 0, "[\"a\"]", "first").unwrap();
            s.put_shard("sc", "r1", 1, 2, 0, "[\"b\"]", "b").unwrap();
            s.put_shard("sc", "r1", 0, 2, 1, "[\"a\"]", "retried").unwrap();
            s.put_shard("sc", "r2", 0, 1, 0, "[]", "other run").unwrap();
            let rows = s.shard_rows("sc", "r1").unwrap();
            assert_eq!(
                rows.iter().map(|r| r.body.as_str()).collect::<Vec<_>>(),
                ["retried", "b"],
                "{}",
                b.name
            );
            assert_eq!(s.claim_listing("sc", "r1", "p0", 0, 60_000).unwrap(), Listing::Claimed);
            assert_eq!(
                s.claim_listing("sc", "r1", "p1", 30_000, 60_000).unwrap(),
                Listing::Busy("p0".into())
            );
            assert!(s.beat_listing("sc", "r1", "p0", 50_000).unwrap());
            assert_eq!(
                s.claim_listing("sc", "r1", "p1", 100_000, 60_000).unwrap(),
                Listing::Busy("p0".into()),
                "{}: beaten at 50 s",
                b.name
            );
            // p0 stops beating: p1 takes over, and p0 can no longer store its listing.
            assert_eq!(
                s.claim_listing("sc", "r1", "p1", 120_000, 60_000).unwrap(),
                Listing::Claimed
            );
            assert!(!s.beat_listing("sc", "r1", "p0", 121_000).unwrap());
            assert!(!s.finish_listing("sc", "r1", "p0", "late").unwrap());
            assert_eq!(s.listing("sc", "r1").unwrap(), None, "{}: not made yet", b.name);
            assert!(s.finish_listing("sc", "r1", "p1", "repos").unwrap());
            assert_eq!(s.listing("sc", "r1").unwrap().as_deref(), Some("repos"));
            assert_eq!(
                s.claim_listing("sc", "r1", "p2", 0, 60_000).unwrap(),
                Listing::Ready("repos".into())
            );
            s.drop_shards("sc", "r1").unwrap();
            assert!(s.shard_rows("sc", "r1").unwrap().is_empty());
            assert_eq!(s.shard_rows("sc", "r2").unwrap().len(), 1);
            assert_eq!(s.claim_listing("sc", "r1", "p3", 0, 60_000).unwrap(), Listing::Claimed);
        }
    }
}
