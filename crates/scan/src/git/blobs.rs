//! Scanning the blobs a history walk collected: one thread per chain of versions of a path,
//! each later version scanned only where it changed.

use super::BlobAt;
use super::lines::{LineSet, changed_lines, line_hashes};
use super::walk::with_delta_cache;
use crate::engine::{Engine, FileResult};
use crate::{ScanOutput, Scanner, looks_binary};
use rayon::prelude::*;
use roster_model::{CommitInfo, Finding};
use roster_rules::KeywordHit;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;

impl Scanner {
    /// Scans blobs in parallel. Versions of one path form a chain, scanned in order by one
    /// thread: delta bases stay in that thread's cache, and a later version only needs the lines
    /// it changed (with context) scanned, since the rest was scanned in the earlier version.
    pub(super) fn scan_blobs(
        &self,
        repo: &gix::Repository,
        packs: &mut [super::pack::Pack],
        blobs: Vec<BlobAt>,
        meta: &[CommitInfo],
        out: &mut ScanOutput,
    ) {
        let source = out.source.clone();
        let sync = repo.clone().into_sync();
        // A whole-history scan reads its blobs in pack order; the rest (or everything, for a
        // narrow scan) by id, path by path.
        let (packed, done) = self.scan_packed(repo, packs, &blobs, &source);
        let mut chain_of: HashMap<&str, usize> = HashMap::new();
        let mut chains: Vec<Vec<usize>> = Vec::new();
        for (i, b) in blobs.iter().enumerate().filter(|(i, _)| !done[*i]) {
            let c = *chain_of.entry(b.path.as_str()).or_insert_with(|| {
                chains.push(Vec::new());
                chains.len() - 1
            });
            chains[c].push(i);
        }
        // Longest chains first, so one long chain does not finish alone at the end.
        chains.sort_by_key(|c| std::cmp::Reverse(c.len()));
        let work = || {
            chains
                .par_iter()
                .map_init(
                    || {
                        let mut r = sync.to_thread_local();
                        with_delta_cache(&mut r);
                        (r, Engine::new(self.opts.max_findings_per_rule))
                    },
                    |(r, engine), chain| {
                        let mut previous: Option<LineSet> = None;
                        chain
                            .iter()
                            .enumerate()
                            .map(|(n, &i)| {
                                let more = n + 1 < chain.len();
                                let (res, lines) =
                                    self.scan_blob(r, engine, &blobs[i], &source, previous.as_ref(), more);
                                previous = lines;
                                (i, res)
                            })
                            .collect::<Vec<_>>()
                    },
                )
                .collect::<Vec<_>>()
        };
        let mut results = match rayon::ThreadPoolBuilder::new().num_threads(self.threads()).build() {
            Ok(p) => p.install(work),
            Err(_) => work(),
        }
        .into_iter()
        .flatten()
        .chain(packed)
        .collect::<Vec<_>>();
        results.sort_by_key(|(i, _)| *i);
        let results = results.into_iter().map(|(i, res)| (&blobs[i], res));
        let mut found: Vec<(usize, Finding)> = Vec::new();
        let mut seen_hits: HashSet<(u32, String, String)> = HashSet::new();
        for (b, (res, issue, bytes)) in results {
            if let Some(msg) = issue {
                let (level, msg) = msg;
                if level == "skipped" {
                    out.stats.skipped_large += 1;
                }
                out.issue(level, format!("{source}: {} (blob {})", b.path, b.id), msg);
            }
            if bytes > 0 {
                out.stats.blobs += 1;
                out.stats.files_scanned += 1;
                out.stats.bytes_scanned += bytes;
            }
            let Some(res) = res else { continue };
            out.stats.suppressed_inline += res.suppressed_inline;
            if !res.over_cap.is_empty() {
                let at = format!("{source}: {} (blob {})", b.path, b.id);
                out.note_over_cap(&at, &res.over_cap, self.opts.max_findings_per_rule);
            }
            let commit = meta.get(b.commit);
            for mut f in res.findings {
                if let Some(c) = commit {
                    f.commit = Some(c.id.as_str().into());
                    f.author = Some(format!("{} <{}>", c.author, c.email).into());
                    f.date = Some(c.date.as_str().into());
                    f.commit_summary = Some(c.summary.as_str().into());
                }
                found.push((b.commit, f));
            }
            for mut h in res.agent_hits {
                // A line of agent code is evidence once, from the blob that first held it
                // (results are in commit order): later versions repeat it.
                if seen_hits.insert((h.rule, h.path.clone(), h.evidence.clone())) {
                    h.commit = commit.map(|c| c.id.clone());
                    out.agent_hits.push(h);
                }
            }
            out.mcp_servers.extend(res.mcp_servers);
        }
        // One finding per (rule, secret, path): the earliest commit that introduced it there.
        found.sort_by_key(|(c, _)| *c);
        let mut seen = HashSet::new();
        for (_, f) in found {
            if seen.insert((f.rule_id.clone(), f.fingerprint.clone(), f.path.clone())) {
                out.findings.push(f);
            }
        }
    }

    /// Scans one blob; with `previous` (the line hashes of the previous version of this path),
    /// only the lines not in it, with [`CONTEXT`](super::lines::CONTEXT) lines around them, are
    /// matched. Returns the result and this version's line hashes for the next one.
    fn scan_blob(
        &self,
        repo: &gix::Repository,
        engine: &mut Engine,
        b: &BlobAt,
        source: &str,
        previous: Option<&LineSet>,
        keep_lines: bool,
    ) -> (BlobResult, Option<LineSet>) {
        // The size comes from the object's header, read without inflating the object: a
        // compression bomb (a few KiB that inflate to GiBs) is skipped before any of it is
        // inflated.
        let size = match repo.find_header(b.id) {
            Ok(h) => h.size(),
            Err(e) => return ((None, Some(("error", format!("cannot read blob: {e}"))), 0), None),
        };
        if size > self.opts.max_file_size {
            let msg = format!(
                "{} MiB (from the object header; not inflated) is larger than --max-file-size ({} MiB); \
                 raise it to scan this blob",
                size >> 20,
                self.opts.max_file_size >> 20
            );
            return ((None, Some(("skipped", msg)), 0), None);
        }
        let obj = match repo.find_object(b.id) {
            Ok(o) => o,
            Err(e) => return ((None, Some(("error", format!("cannot read blob: {e}"))), 0), None),
        };
        self.scan_data(engine, b, source, &obj.data, previous, keep_lines, None)
    }

    /// Scans a blob read in pack order ([`Scanner::scan_packed`]), whole, given its keyword hits
    /// when they are known.
    pub(super) fn scan_whole(
        &self,
        engine: &mut Engine,
        b: &BlobAt,
        source: &str,
        data: &[u8],
        hits: Option<&[KeywordHit]>,
    ) -> BlobResult {
        self.scan_data(engine, b, source, data, None, false, hits).0
    }

    /// Scans a blob's content: whole (at `hits`, its keyword hits, when given), or with
    /// `previous` only the lines it changed.
    #[allow(clippy::too_many_arguments, reason = "internal helper with two callers")]
    fn scan_data(
        &self,
        engine: &mut Engine,
        b: &BlobAt,
        source: &str,
        data: &[u8],
        previous: Option<&LineSet>,
        keep_lines: bool,
        hits: Option<&[KeywordHit]>,
    ) -> (BlobResult, Option<LineSet>) {
        if data.len() as u64 > self.opts.max_file_size {
            // The header lied about the size (gix checks the inflated length against it, so
            // this is belt and braces).
            let msg = format!("{} MiB is larger than --max-file-size", data.len() >> 20);
            return ((None, Some(("skipped", msg)), 0), None);
        }
        if looks_binary(data) || self.rules.path_allowed_globally(&b.path) {
            return ((None, None, 0), None);
        }
        let mut res = FileResult::default();
        // Content that a decoder reads as a whole (Kubernetes Secrets, MCP configs) is always
        // scanned whole.
        let whole = previous.is_none() || crate::engine::needs_whole_file(&b.path, data);
        let lines = if keep_lines || !whole {
            line_hashes(data)
        } else {
            Vec::new()
        };
        if whole {
            engine.scan_at_hits(&self.rules, &self.fp, source, &b.path, data, hits, &mut res);
        } else if let Some((text, line_map)) = changed_lines(data, previous.expect("checked"), &lines) {
            engine.scan(&self.rules, &self.fp, source, &b.path, &text, &mut res);
            let orig = |l: u32| line_map.get(l as usize - 1).copied().unwrap_or(l);
            for f in &mut res.findings {
                f.line = orig(f.line);
            }
            for h in &mut res.agent_hits {
                h.line = orig(h.line);
            }
        }
        if let Some(p) = &self.opts.progress {
            p.add(1, data.len() as u64);
            p.findings.fetch_add(res.findings.len() as u64, Ordering::Relaxed);
        }
        let bytes = (data.len() as u64).max(1);
        let empty = res.findings.is_empty()
            && res.over_cap.is_empty()
            && res.agent_hits.is_empty()
            && res.mcp_servers.is_empty()
            && res.suppressed_inline == 0;
        let next = keep_lines.then(|| lines.into_iter().map(|(h, _)| h).collect());
        ((if empty { None } else { Some(res) }, None, bytes), next)
    }
}

/// What scanning one blob gave: its result (if any), a problem (level, message), bytes covered.
pub(super) type BlobResult = (Option<FileResult>, Option<(&'static str, String)>, u64);
