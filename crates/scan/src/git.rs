//! Git history with gix: every blob reachable from every ref is scanned once (deduplicated by
//! blob id), and each finding is attributed to the commit, author, date and path that first
//! introduced that blob. Commits are visited oldest first and each unique tree is read once, so
//! the first commit whose tree reaches a blob is the one that introduced it.

use crate::engine::{Engine, FileResult};
use crate::{PROJECT_MARKERS, ScanOutput, Scanner, looks_binary};
use gix::ObjectId;
use rayon::prelude::*;
use roster_model::{CommitInfo, Finding};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::Ordering;

/// What part of the history to scan.
#[derive(Debug, Clone, Default)]
pub struct GitOptions {
    /// Only commits not reachable from this revision (`--since origin/main`).
    pub since: Option<String>,
    /// Commits already scanned (from the state dir, for `--incremental`): they and their
    /// ancestors are skipped.
    pub hidden: Vec<String>,
    /// Scan only what is staged in the index (pre-commit).
    pub staged: bool,
}

/// The ref tips a history scan covered, for `--incremental` to record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryTips(pub Vec<String>);

fn note_project_dir(path: &str, out: &mut ScanOutput) {
    let (dir, name) = path.rsplit_once('/').unwrap_or((".", path));
    if PROJECT_MARKERS.contains(&name) {
        out.project_dirs.push(dir.to_owned());
    }
}

struct BlobAt {
    id: ObjectId,
    path: String,
    commit: usize,
}

impl Scanner {
    /// Scans a repository's history (or its staged changes). Broken refs, commits or blobs are
    /// recorded in `issues`; everything readable is still scanned.
    pub fn scan_git(&self, repo_path: &Path, opts: &GitOptions) -> (ScanOutput, HistoryTips) {
        let started = std::time::Instant::now();
        let source = repo_path.display().to_string();
        let mut out = ScanOutput {
            source: source.clone(),
            ..ScanOutput::default()
        };
        let repo = match gix::open(repo_path) {
            Ok(mut r) => {
                with_delta_cache(&mut r);
                r
            }
            Err(e) => {
                out.issue("error", &source, format!("not a readable git repository: {e}"));
                return (out, HistoryTips::default());
            }
        };
        let tips = if opts.staged {
            self.scan_staged(&repo, &mut out);
            HistoryTips::default()
        } else {
            self.scan_history(&repo, opts, &mut out)
        };
        out.stats.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        (out, tips)
    }

    fn scan_history(&self, repo: &gix::Repository, opts: &GitOptions, out: &mut ScanOutput) -> HistoryTips {
        let source = out.source.clone();
        let mut tips: Vec<ObjectId> = Vec::new();
        match repo.references().and_then(|r| r.all().map(|i| i.collect::<Vec<_>>())) {
            Ok(refs) => {
                for r in refs {
                    match r {
                        Ok(mut r) => match r.peel_to_id() {
                            Ok(id) => tips.push(id.detach()),
                            Err(e) => out.issue(
                                "error",
                                &source,
                                format!("ref {}: cannot resolve: {e}", r.name().as_bstr()),
                            ),
                        },
                        Err(e) => out.issue("error", &source, format!("cannot read a ref: {e}")),
                    }
                }
            }
            Err(e) => out.issue("error", &source, format!("cannot list refs: {e}")),
        }
        if let Ok(head) = repo.head_id() {
            tips.push(head.detach());
        }
        // Only commits are walked; tags may point at trees or blobs (rare) and are skipped.
        tips.retain(|id| repo.find_object(*id).is_ok_and(|o| o.kind == gix::object::Kind::Commit));
        tips.sort();
        tips.dedup();
        let mut hidden: Vec<ObjectId> = Vec::new();
        if let Some(since) = &opts.since {
            match repo
                .rev_parse_single(since.as_str())
                .and_then(|id| Ok(id.object()?.peel_to_commit()?.id))
            {
                Ok(id) => hidden.push(id),
                Err(e) => out.issue("error", &source, format!("--since {since}: cannot resolve: {e}")),
            }
        }
        for h in &opts.hidden {
            if let Ok(id) = ObjectId::from_hex(h.as_bytes())
                && repo.find_object(id).is_ok()
            {
                hidden.push(id);
            }
        }
        if tips.is_empty() {
            return HistoryTips::default();
        }
        // Commits, oldest first.
        let mut commits: Vec<(ObjectId, i64)> = Vec::new();
        match repo
            .rev_walk(tips.iter().copied())
            .with_hidden(hidden.iter().copied())
            .all()
        {
            Ok(walk) => {
                for info in walk {
                    match info {
                        Ok(info) => commits.push((info.id, info.commit_time.unwrap_or(0))),
                        Err(e) => {
                            out.issue(
                                "error",
                                &source,
                                format!("history walk stopped early: {e}; later commits were not scanned"),
                            );
                            break;
                        }
                    }
                }
            }
            Err(e) => out.issue("error", &source, format!("cannot walk history: {e}")),
        }
        commits.reverse();
        commits.sort_by_key(|c| c.1);
        out.stats.commits = commits.len() as u64;

        let mut seen_trees: HashSet<ObjectId> = HashSet::new();
        let mut seen_blobs: HashSet<ObjectId> = HashSet::new();
        // What the hidden commits already hold is not new.
        for h in &hidden {
            if let Ok(tree) = repo.find_commit(*h).and_then(|c| Ok(c.tree_id()?.detach())) {
                walk_tree(
                    repo,
                    tree,
                    &mut seen_trees,
                    &mut seen_blobs,
                    usize::MAX,
                    &mut Vec::new(),
                    out,
                    &source,
                );
            }
        }
        // Walk in parallel: each thread takes a range of commits (oldest ranges first) and its
        // own view of what is already seen; a range re-reads only the trees its first commit
        // shares with earlier ranges. Merging in range order keeps each blob's earliest commit.
        let sync = repo.clone().into_sync();
        let parts = self.threads().clamp(1, 8);
        let per = commits.len().div_ceil(parts).max(1);
        let ranges: Vec<std::ops::Range<usize>> = (0..commits.len())
            .step_by(per)
            .map(|s| s..(s + per).min(commits.len()))
            .collect();
        let walk = |range: &std::ops::Range<usize>| {
            let mut r = sync.to_thread_local();
            with_delta_cache(&mut r);
            let mut part = ScanOutput {
                source: source.clone(),
                ..ScanOutput::default()
            };
            let mut seen_trees = seen_trees.clone();
            let mut seen_blobs = seen_blobs.clone();
            let mut meta = Vec::with_capacity(range.len());
            let mut blobs = Vec::new();
            for idx in range.clone() {
                let id = commits[idx].0;
                let commit = match r.find_commit(id) {
                    Ok(c) => c,
                    Err(e) => {
                        part.issue("error", &source, format!("commit {id}: cannot read: {e}"));
                        meta.push(unknown_commit(id));
                        continue;
                    }
                };
                meta.push(commit_info(&commit));
                match commit.tree_id() {
                    Ok(tree) => {
                        walk_tree(
                            &r,
                            tree.detach(),
                            &mut seen_trees,
                            &mut seen_blobs,
                            idx,
                            &mut blobs,
                            &mut part,
                            &source,
                        );
                    }
                    Err(e) => part.issue("error", &source, format!("commit {id}: cannot read its tree: {e}")),
                }
            }
            (meta, blobs, part.issues)
        };
        let walked: Vec<_> = match rayon::ThreadPoolBuilder::new().num_threads(parts).build() {
            Ok(pool) => pool.install(|| ranges.par_iter().map(walk).collect()),
            Err(_) => ranges.iter().map(walk).collect(),
        };
        let mut meta: Vec<CommitInfo> = Vec::with_capacity(commits.len());
        let mut blobs: Vec<BlobAt> = Vec::new();
        for (m, part_blobs, issues) in walked {
            meta.extend(m);
            out.issues.extend(issues);
            blobs.extend(part_blobs.into_iter().filter(|b| seen_blobs.insert(b.id)));
        }
        for b in &blobs {
            note_project_dir(&b.path, out);
        }
        if let Some(p) = &self.opts.progress {
            p.total.store(blobs.len() as u64, Ordering::Relaxed);
        }
        self.scan_blobs(repo, blobs, &meta, out);
        out.project_dirs.sort();
        out.project_dirs.dedup();
        HistoryTips(tips.iter().map(ToString::to_string).collect())
    }

    fn scan_staged(&self, repo: &gix::Repository, out: &mut ScanOutput) {
        let source = out.source.clone();
        let index = match repo.open_index() {
            Ok(i) => i,
            Err(e) => {
                out.issue("error", &source, format!("cannot read the index: {e}"));
                return;
            }
        };
        let mut head: HashMap<String, ObjectId> = HashMap::new();
        if let Ok(tree) = repo.head_tree_id() {
            let mut blobs = Vec::new();
            walk_tree(
                repo,
                tree.detach(),
                &mut HashSet::new(),
                &mut HashSet::new(),
                0,
                &mut blobs,
                out,
                &source,
            );
            head = blobs.into_iter().map(|b| (b.path, b.id)).collect();
        }
        let mut staged = Vec::new();
        for e in index.entries() {
            if e.stage_raw() != 0
                || !matches!(
                    e.mode,
                    gix::index::entry::Mode::FILE | gix::index::entry::Mode::FILE_EXECUTABLE
                )
            {
                continue;
            }
            let path = e.path(&index).to_string();
            if head.get(&path) != Some(&e.id) {
                staged.push(BlobAt {
                    id: e.id,
                    path,
                    commit: usize::MAX,
                });
            }
        }
        self.scan_blobs(repo, staged, &[], out);
    }

    /// Scans blobs in parallel. Versions of one path form a chain, scanned in order by one
    /// thread: delta bases stay in that thread's cache, and a later version only needs the lines
    /// it changed (with context) scanned, since the rest was scanned in the earlier version.
    fn scan_blobs(&self, repo: &gix::Repository, blobs: Vec<BlobAt>, meta: &[CommitInfo], out: &mut ScanOutput) {
        let source = out.source.clone();
        let sync = repo.clone().into_sync();
        let mut chain_of: HashMap<&str, usize> = HashMap::new();
        let mut chains: Vec<Vec<usize>> = Vec::new();
        for (i, b) in blobs.iter().enumerate() {
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
                        (r, Engine::default())
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
        .collect::<Vec<_>>();
        results.sort_by_key(|(i, _)| *i);
        let results = results.into_iter().map(|(i, res)| (&blobs[i], res));
        let mut found: Vec<(usize, Finding)> = Vec::new();
        for (b, (res, issue, bytes)) in results {
            if let Some(msg) = issue {
                let (level, msg) = msg;
                out.issue(level, format!("{source}: {} (blob {})", b.path, b.id), msg);
            }
            if bytes > 0 {
                out.stats.blobs += 1;
                out.stats.files_scanned += 1;
                out.stats.bytes_scanned += bytes;
            }
            let Some(res) = res else { continue };
            out.stats.suppressed_inline += res.suppressed_inline;
            let commit = meta.get(b.commit);
            for mut f in res.findings {
                if let Some(c) = commit {
                    f.commit = Some(c.id.clone());
                    f.author = Some(format!("{} <{}>", c.author, c.email));
                    f.date = Some(c.date.clone());
                    f.commit_summary = Some(c.summary.clone());
                }
                found.push((b.commit, f));
            }
            for mut h in res.agent_hits {
                h.commit = commit.map(|c| c.id.clone());
                out.agent_hits.push(h);
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
    /// only the lines not in it, with [`CONTEXT`] lines around them, are matched. Returns the
    /// result and this version's line hashes for the next one.
    fn scan_blob(
        &self,
        repo: &gix::Repository,
        engine: &mut Engine,
        b: &BlobAt,
        source: &str,
        previous: Option<&LineSet>,
        keep_lines: bool,
    ) -> (BlobResult, Option<LineSet>) {
        let obj = match repo.find_object(b.id) {
            Ok(o) => o,
            Err(e) => return ((None, Some(("error", format!("cannot read blob: {e}"))), 0), None),
        };
        let data = &obj.data;
        if data.len() as u64 > self.opts.max_file_size {
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
            engine.scan(&self.rules, &self.fp, source, &b.path, data, &mut res);
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
            && res.agent_hits.is_empty()
            && res.mcp_servers.is_empty()
            && res.suppressed_inline == 0;
        let next = keep_lines.then(|| lines.into_iter().map(|(h, _)| h).collect());
        ((if empty { None } else { Some(res) }, None, bytes), next)
    }
}

/// Hashes of a version's lines. They are hashes already, so the set does not hash them again.
type LineSet = HashSet<u64, std::hash::BuildHasherDefault<IdentityHasher>>;

/// A hasher for keys that are already well-mixed 64-bit hashes.
#[derive(Default)]
struct IdentityHasher(u64);

impl std::hash::Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// What scanning one blob gave: its result (if any), a problem (level, message), bytes covered.
type BlobResult = (Option<FileResult>, Option<(&'static str, String)>, u64);

/// Lines of context kept around each changed line (rules whose regex spans a few lines).
const CONTEXT: usize = 3;

/// Each line's hash and byte range.
fn line_hashes(data: &[u8]) -> Vec<(u64, std::ops::Range<usize>)> {
    let mut out = Vec::with_capacity(data.len() / 40 + 1);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', data).chain(std::iter::once(data.len())) {
        if start > data.len() {
            break;
        }
        out.push((hash_line(&data[start..end]), start..end));
        start = end + 1;
    }
    out
}

/// A fast 64-bit hash (multiply-rotate over 8-byte words); collisions only cost a skipped line
/// that equals, by hash, a line of the previous version.
fn hash_line(line: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h: u64 = line.len() as u64;
    let mut chunks = line.chunks_exact(8);
    for c in &mut chunks {
        h = (h.rotate_left(5) ^ u64::from_le_bytes(c.try_into().expect("8 bytes"))).wrapping_mul(K);
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    (h.rotate_left(5) ^ u64::from_le_bytes(tail)).wrapping_mul(K)
}

/// The lines of `data` not in `previous`, with context, as one buffer (separate runs split by an
/// empty line), and for each of its lines the original 1-based line number. `None` when nothing
/// changed.
fn changed_lines(
    data: &[u8],
    previous: &LineSet,
    lines: &[(u64, std::ops::Range<usize>)],
) -> Option<(Vec<u8>, Vec<u32>)> {
    let mut keep = vec![false; lines.len()];
    let mut any = false;
    for (i, (h, _)) in lines.iter().enumerate() {
        if !previous.contains(h) {
            any = true;
            let lo = i.saturating_sub(CONTEXT);
            let hi = (i + CONTEXT + 1).min(lines.len());
            keep[lo..hi].iter_mut().for_each(|k| *k = true);
        }
    }
    if !any {
        return None;
    }
    let mut text = Vec::new();
    let mut map = Vec::new();
    let mut last: Option<usize> = None;
    for (i, (_, range)) in lines.iter().enumerate() {
        if !keep[i] {
            continue;
        }
        if last.is_some_and(|l| l + 1 != i) {
            text.push(b'\n');
            map.push(u32::try_from(i).unwrap_or(u32::MAX));
        }
        text.extend_from_slice(&data[range.clone()]);
        text.push(b'\n');
        map.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
        last = Some(i);
    }
    Some((text, map))
}

#[allow(clippy::too_many_arguments, reason = "internal traversal state")]
fn walk_tree(
    repo: &gix::Repository,
    root: ObjectId,
    seen_trees: &mut HashSet<ObjectId>,
    seen_blobs: &mut HashSet<ObjectId>,
    commit: usize,
    blobs: &mut Vec<BlobAt>,
    out: &mut ScanOutput,
    source: &str,
) {
    let mut stack: Vec<(ObjectId, String)> = vec![(root, String::new())];
    while let Some((tree, prefix)) = stack.pop() {
        if !seen_trees.insert(tree) {
            continue;
        }
        let obj = match repo.find_object(tree) {
            Ok(o) => o,
            Err(e) => {
                out.issue(
                    "error",
                    source,
                    format!(
                        "tree {tree} at {:?}: cannot read: {e}; its files were not scanned",
                        if prefix.is_empty() { "/" } else { &prefix }
                    ),
                );
                continue;
            }
        };
        for entry in gix::objs::TreeRefIter::from_bytes(&obj.data, repo.object_hash()) {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    out.issue("error", source, format!("tree {tree}: corrupt entry: {e}"));
                    break;
                }
            };
            let path = || {
                let name = entry.filename.to_string();
                if prefix.is_empty() {
                    name
                } else {
                    format!("{prefix}/{name}")
                }
            };
            if entry.mode.is_tree() {
                if !seen_trees.contains(entry.oid) {
                    stack.push((entry.oid.to_owned(), path()));
                }
            } else if entry.mode.is_blob() && seen_blobs.insert(entry.oid.to_owned()) && commit != usize::MAX {
                blobs.push(BlobAt {
                    id: entry.oid.to_owned(),
                    path: path(),
                    commit,
                });
            }
        }
    }
}

/// Delta bases cached per thread: blobs of one file are consecutive deltas of each other.
const DELTA_CACHE_BYTES: usize = 8 << 20;

fn with_delta_cache(repo: &mut gix::Repository) {
    repo.objects
        .set_pack_cache(|| Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(DELTA_CACHE_BYTES)));
}

fn commit_info(c: &gix::Commit<'_>) -> CommitInfo {
    let (author, email, date) = match c.author() {
        Ok(sig) => {
            let secs = sig.time().map(|t| t.seconds).unwrap_or(0);
            (
                sig.name.to_string().trim().to_owned(),
                sig.email.to_string().trim().to_owned(),
                rfc3339_utc(secs),
            )
        }
        Err(_) => (String::new(), String::new(), rfc3339_utc(0)),
    };
    let summary = c
        .message_raw()
        .map(|m| m.to_string().lines().next().unwrap_or("").chars().take(120).collect())
        .unwrap_or_default();
    CommitInfo {
        id: c.id.to_string(),
        author,
        email,
        date,
        summary,
    }
}

fn unknown_commit(id: ObjectId) -> CommitInfo {
    CommitInfo {
        id: id.to_string(),
        author: String::new(),
        email: String::new(),
        date: rfc3339_utc(0),
        summary: String::new(),
    }
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn rfc3339_utc(secs: i64) -> String {
    roster_model::format_millis(secs.saturating_mul(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_lines_keep_context_and_map_line_numbers() {
        let old = b"a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\n";
        let previous: LineSet = line_hashes(old).into_iter().map(|(h, _)| h).collect();
        let new = b"a\nb\nc\nd\ne\nf\nNEW\ng\nh\ni\nj\nk\nl\nEND\n";
        let lines = line_hashes(new);
        let (text, map) = changed_lines(new, &previous, &lines).unwrap();
        // NEW (line 7) with 3 lines of context either side runs into END's context (lines 11-15).
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "d\ne\nf\nNEW\ng\nh\ni\nj\nk\nl\nEND\n\n"
        );
        assert_eq!(map, [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
        // Changes far apart: two runs, split by an empty line that maps to the line before.
        let long_old: String = (0..30).map(|i| format!("line{i}\n")).collect();
        let long_previous: LineSet = line_hashes(long_old.as_bytes()).into_iter().map(|(h, _)| h).collect();
        let long_new = long_old.replace("line5\n", "CHANGED\n").replace("line25\n", "ALSO\n");
        let lines = line_hashes(long_new.as_bytes());
        let (text, map) = changed_lines(long_new.as_bytes(), &long_previous, &lines).unwrap();
        let text = String::from_utf8(text).unwrap();
        let text_lines: Vec<&str> = text.lines().collect();
        assert_eq!(text_lines[3], "CHANGED");
        assert_eq!(map[3], 6);
        let also = text_lines.iter().position(|l| *l == "ALSO").unwrap();
        assert_eq!(map[also], 26);
        assert!(text_lines.contains(&""), "runs are separated: {text}");
        assert!(changed_lines(old, &previous, &line_hashes(old)).is_none());
    }

    #[test]
    fn rfc3339() {
        assert_eq!(super::rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339_utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(super::rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
    }
}
