//! Sharded discovery (docs/scale.md). `roster discover --run-id ID --shard K/N` does shard K's
//! share of the run's work units and records it in the state database;
//! `roster discover --run-id ID --merge` checks that all N shards finished, puts their shares
//! together, correlates, records the run and writes the reports, exactly as a run on one machine
//! would.
//!
//! The work units are each `[[source]]` (`source:NAME`), each `[scan]` path (`path:PATH`) and
//! repository (`repo:PATH`), and each repository a code-host source with `scan_repos` lists
//! (`fetched:SOURCE:OWNER/NAME`). A unit belongs to shard `sha256(unit) mod N`, so every unit
//! lands in exactly one shard whatever the number of shards. The code hosts' repository lists
//! are made once per run, by the first shard to start (a lease in the database, renewed while it
//! works and taken over when its holder stops); that shard also records those sources' own
//! records, and every shard fetches and scans its share of the repositories.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::collect::{self, Collected};
use crate::config::SourceConfig;
use crate::discover::{self, Discovery, Gathered, Options, Setup};

/// `K/N`: shard K (from 0) of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardSpec {
    pub index: u32,
    pub count: u32,
}

/// The most shards a run can have.
const MAX_SHARDS: u32 = 10_000;

impl std::str::FromStr for ShardSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<ShardSpec, String> {
        let bad = || format!("--shard {s:?}: write K/N, shard K (0 to N-1) of N shards, e.g. 0/4");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u32, u32) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || count > MAX_SHARDS || index >= count {
            return Err(bad());
        }
        Ok(ShardSpec { index, count })
    }
}

/// The shard unit `unit` belongs to among `n`.
pub fn shard_of(unit: &str, n: u32) -> u32 {
    let h = roster_plugin_host::sha256_hex(unit.as_bytes());
    let v = u64::from_str_radix(&h[..16], 16).unwrap_or(0);
    u32::try_from(v % u64::from(n)).unwrap_or(0)
}

/// A run id: what every shard and the merge of one run are given (a Kubernetes Job's name).
pub fn check_run_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    anyhow::ensure!(
        ok,
        "--run-id {id:?}: use 1 to 128 letters, digits, '-', '_', '.' or ':' (the same for every shard and the merge)"
    );
    Ok(())
}

/// What the code-host sources gave, recorded once for the run: their records, and the
/// repositories they listed (each a unit of some shard).
#[derive(Serialize, Deserialize)]
struct ListingBody {
    identities: Vec<roster_model::Identity>,
    activities: Vec<roster_model::Activity>,
    repositories: Vec<roster_model::Repository>,
    runs: Vec<roster_model::ConnectorRun>,
}

/// How long a listing's holder may go without renewing its lease before another shard takes
/// the listing over, and how often it renews.
const LEASE_STALE_MS: i64 = 60_000;
const LEASE_BEAT: Duration = Duration::from_secs(10);
/// How long a shard waits for another shard's listing.
const LISTING_WAIT: Duration = Duration::from_secs(3 * 3600);

/// The unit names of `s`'s configuration, without the code hosts' repositories.
fn config_units(s: &Setup) -> Vec<String> {
    let (paths, repos) = s.roots();
    s.cfg
        .sources
        .iter()
        .map(|src| format!("source:{}", src.name()))
        .chain(paths.iter().map(|(_, l)| format!("path:{l}")))
        .chain(repos.iter().map(|(_, l)| format!("repo:{l}")))
        .collect()
}

/// The unit of a repository a code host listed.
fn fetched_unit(r: &roster_model::Repository) -> String {
    format!("fetched:{}:{}", r.source, r.full_name)
}

fn listers(s: &Setup) -> Vec<SourceConfig> {
    s.cfg
        .sources
        .iter()
        .filter(|src| crate::repos::lists_repositories(src))
        .cloned()
        .collect()
}

/// Who this process is, for the listing lease and messages.
fn holder(spec: ShardSpec) -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_default();
    format!(
        "shard {}/{} ({}pid {})",
        spec.index,
        spec.count,
        if host.is_empty() {
            String::new()
        } else {
            format!("{host}, ")
        },
        std::process::id()
    )
}

/// The run's repository listing: made by this shard if nobody made or is making it, else
/// waited for.
fn listing(o: &Options, s: &Setup, run_id: &str, spec: ShardSpec, listers: Vec<SourceConfig>) -> Result<ListingBody> {
    let me = holder(spec);
    let url = s.cfg.database_url.as_deref();
    let mut store = crate::state::open_store(o.state_dir, url)?;
    let started = std::time::Instant::now();
    let mut waiting = false;
    loop {
        match store.claim_listing(&s.scope, run_id, &me, discover::now_ms(), LEASE_STALE_MS)? {
            roster_store::Listing::Ready(body) => {
                return serde_json::from_str(&body).context("the run's recorded repository listing is not readable");
            }
            roster_store::Listing::Busy(who) => {
                if started.elapsed() > LISTING_WAIT {
                    bail!(
                        "run {run_id}: {who} has held the code hosts' repository listing for {} min: is it stuck? Stop it, and this shard takes the listing over a minute later",
                        LISTING_WAIT.as_secs() / 60
                    );
                }
                if !waiting {
                    eprintln!("roster: {me}: waiting for {who} to list the code hosts' repositories");
                    waiting = true;
                }
                std::thread::sleep(Duration::from_secs(2));
            }
            roster_store::Listing::Claimed => {
                let body = make_listing(o, s, run_id, &me, listers.clone())?;
                let text = serde_json::to_string(&body)?;
                if store.finish_listing(&s.scope, run_id, &me, &text)? {
                    return Ok(body);
                }
                // Another shard took the lease over (this one was too slow to renew it): its
                // listing is the run's.
            }
        }
    }
}

/// Runs the code-host sources, renewing the lease meanwhile.
fn make_listing(o: &Options, s: &Setup, run_id: &str, me: &str, listers: Vec<SourceConfig>) -> Result<ListingBody> {
    let stop = Arc::new(AtomicBool::new(false));
    let beat = {
        let (stop, dir, url) = (Arc::clone(&stop), o.state_dir.to_path_buf(), s.cfg.database_url.clone());
        let (scope, run_id, me) = (s.scope.clone(), run_id.to_owned(), me.to_owned());
        std::thread::spawn(move || -> Result<()> {
            let mut store = crate::state::open_store(&dir, url.as_deref())?;
            let mut last = std::time::Instant::now();
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                if last.elapsed() >= LEASE_BEAT {
                    store.beat_listing(&scope, &run_id, &me, discover::now_ms())?;
                    last = std::time::Instant::now();
                }
            }
            Ok(())
        })
    };
    let cfg = crate::config::Config {
        sources: listers,
        database_url: s.cfg.database_url.clone(),
        ..crate::config::Config::default()
    };
    let collected = collect::collect(o.config, &cfg, o.state_dir, o.progress);
    stop.store(true, Ordering::Relaxed);
    if let Ok(Err(e)) = beat.join() {
        eprintln!("roster: {me}: could not renew the listing's lease: {e:#}");
    }
    let c = collected?;
    Ok(ListingBody {
        identities: c.identities,
        activities: c.activities,
        repositories: c.repositories,
        runs: c.runs,
    })
}

/// `roster discover --run-id ID --shard K/N`: returns a line saying what was recorded.
pub fn shard(o: &Options, run_id: &str, spec: ShardSpec) -> Result<String> {
    check_run_id(run_id)?;
    let mut s = discover::setup(o)?;
    let mine = |unit: &str| shard_of(unit, spec.count) == spec.index;
    let (paths, repos) = s.roots();
    let paths: Vec<_> = paths.into_iter().filter(|(_, l)| mine(&format!("path:{l}"))).collect();
    let repos: Vec<_> = repos.into_iter().filter(|(_, l)| mine(&format!("repo:{l}"))).collect();
    let listers = listers(&s);
    let mut units: Vec<String> = config_units(&s)
        .into_iter()
        .filter(|u| mine(u) && !listers.iter().any(|l| u.strip_prefix("source:") == Some(l.name())))
        .collect();

    // This shard's sources (the code hosts' are in the listing).
    let own: Vec<SourceConfig> = s
        .cfg
        .sources
        .iter()
        .filter(|src| !crate::repos::lists_repositories(src) && mine(&format!("source:{}", src.name())))
        .cloned()
        .collect();
    let mut collected = if own.is_empty() {
        None
    } else {
        let cfg = crate::config::Config {
            sources: own,
            database_url: s.cfg.database_url.clone(),
            ..crate::config::Config::default()
        };
        Some(collect::collect(o.config, &cfg, o.state_dir, o.progress)?)
    };

    // This shard's share of the code hosts' repositories.
    let mut fetched = vec![];
    if !listers.is_empty() {
        let listed = listing(o, &s, run_id, spec, listers.clone())?;
        let share: Vec<roster_model::Repository> = listed
            .repositories
            .into_iter()
            .filter(|r| mine(&fetched_unit(r)))
            .collect();
        units.extend(share.iter().map(fetched_unit));
        if !share.is_empty() {
            let hosts: BTreeSet<&str> = share.iter().map(|r| r.source.as_str()).collect();
            let sources: Vec<&SourceConfig> = listers.iter().filter(|l| hosts.contains(l.name())).collect();
            let mut repos_of = Collected {
                identities: vec![],
                activities: vec![],
                repositories: share,
                runs: vec![],
                auths: collect::auths(o.config, &sources)?,
            };
            let cfg = crate::config::Config {
                sources: sources.into_iter().cloned().collect(),
                database_url: s.cfg.database_url.clone(),
                ..crate::config::Config::default()
            };
            fetched = crate::repos::fetch_repositories(&cfg, o.state_dir, &mut repos_of, o.progress)?;
            match collected.as_mut() {
                Some(c) => c.repositories.extend(repos_of.repositories),
                None => collected = Some(repos_of),
            }
        }
    }
    s.cfg.sources.clear();
    let g = discover::gather(o, &s, &paths, &repos, &fetched, collected)?;
    let summary = format!(
        "Shard {}/{} of run {run_id:?} (scope {:?}): {} unit(s): {} finding(s), {} agent(s), {} identities{}; recorded, merge with `roster discover --run-id {run_id} --merge`\n",
        spec.index,
        spec.count,
        s.scope,
        units.len(),
        g.report.findings.len(),
        g.report.agents.len(),
        g.report.identities.len(),
        if g.report.incomplete {
            " (some sources incomplete)"
        } else {
            ""
        },
    );
    let body = serde_json::to_string(&g).context("cannot encode the shard's results")?;
    units.sort();
    let mut store = crate::state::open_store(o.state_dir, s.cfg.database_url.as_deref())?;
    store.put_shard(
        &s.scope,
        run_id,
        i64::from(spec.index),
        i64::from(spec.count),
        discover::now_ms(),
        &serde_json::to_string(&units)?,
        &body,
    )?;
    Ok(summary)
}

/// `roster discover --run-id ID --merge`; with `wait`, shards that have not finished are waited
/// for that long (the merge in shard 0's pod: it knows how many shards there are, `expect`).
pub fn merge(o: &Options, run_id: &str, wait: Option<(Duration, i64)>) -> Result<Discovery> {
    check_run_id(run_id)?;
    let s = discover::setup(o)?;
    let url = s.cfg.database_url.clone();
    let store = crate::state::open_store(o.state_dir, url.as_deref())?;
    let mut rows = store.shard_rows(&s.scope, run_id)?;
    if let Some((limit, n)) = wait {
        let started = std::time::Instant::now();
        let mut told = false;
        while rows.iter().filter(|r| r.shards == n).count() < usize::try_from(n).unwrap_or(usize::MAX)
            && started.elapsed() < limit
        {
            if !told {
                eprintln!(
                    "roster: run {run_id}: {} of {n} shards finished; waiting for the others (up to {} min) to merge",
                    rows.len(),
                    limit.as_secs() / 60
                );
                told = true;
            }
            std::thread::sleep(Duration::from_secs(3));
            rows = store.shard_rows(&s.scope, run_id)?;
        }
    }
    let Some(first) = rows.first() else {
        bail!(
            "no shard of run {run_id:?} is recorded in scope {:?}: run the shards first (roster discover --run-id {run_id} --shard K/N), with the same configuration and database",
            s.scope
        );
    };
    let n = first.shards;
    if let Some(r) = rows.iter().find(|r| r.shards != n) {
        bail!(
            "run {run_id:?}: shard {} was run as one of {} shards, shard {} as one of {n}: run every shard with the same N",
            r.shard,
            r.shards,
            first.shard
        );
    }
    let done: BTreeSet<i64> = rows.iter().map(|r| r.shard).collect();
    let missing: Vec<String> = (0..n).filter(|k| !done.contains(k)).map(|k| k.to_string()).collect();
    if !missing.is_empty() {
        bail!(
            "run {run_id:?}: {} of {n} shards have not finished: shard(s) {}; run them (a retried shard replaces its own share), then merge again",
            missing.len(),
            missing.join(", ")
        );
    }
    // Every unit of the configuration (and of the listing) done exactly once.
    let listing: Option<ListingBody> = match store.listing(&s.scope, run_id)? {
        Some(b) => Some(serde_json::from_str(&b).context("the run's recorded repository listing is not readable")?),
        None => None,
    };
    let listers = listers(&s);
    if !listers.is_empty() && listing.is_none() {
        bail!("run {run_id:?}: the code hosts' repository listing was not recorded: run the shards again");
    }
    let mut expected: BTreeSet<String> = config_units(&s)
        .into_iter()
        .filter(|u| !listers.iter().any(|l| u.strip_prefix("source:") == Some(l.name())))
        .collect();
    expected.extend(listing.iter().flat_map(|l| l.repositories.iter().map(fetched_unit)));
    let mut seen = BTreeSet::new();
    let mut gathered: Option<Gathered> = None;
    // The strings findings repeat (rule, repository, path, commit) held once across shards.
    let mut shared = roster_model::Interner::new();
    for r in &rows {
        let units: Vec<String> = serde_json::from_str(&r.units)
            .with_context(|| format!("run {run_id:?}: shard {}'s unit list is not readable", r.shard))?;
        seen.extend(units);
        let mut g: Gathered = serde_json::from_str(&r.body)
            .with_context(|| format!("run {run_id:?}: shard {}'s results are not readable", r.shard))?;
        for f in &mut g.report.findings {
            f.share_strings(&mut shared);
        }
        for a in &mut g.report.activities {
            a.share_strings(&mut shared);
        }
        for i in &mut g.report.identities {
            i.share_strings(&mut shared);
        }
        match gathered.as_mut() {
            Some(all) => all.absorb(g),
            None => gathered = Some(g),
        }
    }
    if seen != expected {
        let diff = |a: &BTreeSet<String>, b: &BTreeSet<String>| a.difference(b).cloned().collect::<Vec<_>>().join(", ");
        bail!(
            "run {run_id:?}: the shards' work does not match this configuration (were they run with another one?): not done: [{}]; not in this configuration: [{}]",
            diff(&expected, &seen),
            diff(&seen, &expected)
        );
    }
    let mut gathered = gathered.context("no shard results")?;
    if let Some(l) = listing {
        // The code-host sources' own records; their repositories came with the shards that
        // fetched them.
        collect::merge_into(
            &mut gathered.report,
            Collected {
                identities: l.identities,
                activities: l.activities,
                repositories: vec![],
                runs: l.runs,
                auths: Default::default(),
            },
        );
    }
    drop(store);
    let scope = s.scope.clone();
    let d = discover::finish(o, s, gathered)?;
    crate::state::open_store(o.state_dir, url.as_deref())?.drop_shards(&scope, run_id)?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_and_the_split() {
        assert_eq!("2/4".parse::<ShardSpec>().unwrap(), ShardSpec { index: 2, count: 4 });
        for bad in ["4/4", "1", "a/4", "0/0", "-1/3", "0/10001", ""] {
            assert!(bad.parse::<ShardSpec>().is_err(), "{bad}");
        }
        // Every unit lands in exactly one shard, and the split spreads them.
        let units: Vec<String> = (0..2000).map(|i| format!("fetched:gh:acme/repo-{i}")).collect();
        let mut per = [0usize; 4];
        for u in &units {
            per[shard_of(u, 4) as usize] += 1;
            assert_eq!(shard_of(u, 4), shard_of(u, 4), "stable");
            assert_eq!(shard_of(u, 1), 0);
        }
        assert_eq!(per.iter().sum::<usize>(), 2000);
        assert!(per.iter().all(|&n| (400..600).contains(&n)), "{per:?}");
        assert!(check_run_id("roster-discover-29412345").is_ok());
        for bad in ["", "a b", "../x", &"x".repeat(129)] {
            assert!(check_run_id(bad).is_err(), "{bad}");
        }
    }
}
