//! Git history with gix: every blob reachable from every ref (with `--since`, every blob the
//! commits `BASE..TIP` add) is scanned once (deduplicated by blob id), and each finding is
//! attributed to the commit, author, date and path that first introduced that blob. Commits are
//! visited parents first, otherwise oldest first ([`order`]), and each unique tree is read once,
//! so the first commit whose tree reaches a blob is the one that introduced it.

mod blobs;
mod delta;
mod lines;
mod order;
mod pack;
mod walk;

use crate::{PROJECT_MARKERS, ScanOutput, Scanner};
use gix::ObjectId;
use gix::hashtable::HashSet;
use rayon::prelude::*;
use roster_model::CommitInfo;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use walk::{Objects, commit_info, unknown_commit, walk_tree, with_delta_cache};

/// What part of the history to scan.
#[derive(Debug, Clone, Default)]
pub struct GitOptions {
    /// A range: `BASE` (the commits `git log BASE..HEAD` lists) or `BASE..TIP`. Without
    /// `all_refs`, only the commits the tip (HEAD by default) adds to BASE are walked.
    pub since: Option<String>,
    /// Walk from every ref (and HEAD) rather than from one tip; with `since`, the commits any
    /// ref has that BASE lacks. Without `since` a history scan always covers every ref.
    pub all_refs: bool,
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

/// `BASE`, `BASE..TIP` or `BASE..` (TIP defaults to HEAD). `A...B` (the symmetric difference)
/// is refused: a gate must not scan what the base has and the tip lacks.
fn parse_range(since: &str) -> Result<(&str, &str), String> {
    if since.contains("...") {
        return Err(format!(
            "--since {since}: give BASE or BASE..TIP (the commits TIP adds to BASE), not A...B"
        ));
    }
    let (base, tip) = since.split_once("..").unwrap_or((since, "HEAD"));
    let tip = if tip.is_empty() { "HEAD" } else { tip };
    if base.is_empty() {
        return Err(format!("--since {since}: the base revision is missing (BASE..TIP)"));
    }
    Ok((base, tip))
}

fn resolve_commit(repo: &gix::Repository, rev: &str) -> Result<ObjectId, String> {
    repo.rev_parse_single(rev).map_err(|e| e.to_string()).and_then(|id| {
        Ok(id
            .object()
            .map_err(|e| e.to_string())?
            .peel_to_commit()
            .map_err(|e| e.to_string())?
            .id)
    })
}

/// Every ref's target (and HEAD's), with the ref's name. A direct ref's target is taken as it
/// is, not peeled here: a repository may have tens of thousands of refs (containerd: 11,128),
/// and peeling each reads its object; annotated tags are peeled once the targets are
/// deduplicated ([`commit_tips`]).
fn all_ref_tips(repo: &gix::Repository, tips: &mut Vec<(ObjectId, String)>, out: &mut ScanOutput) {
    let source = out.source.clone();
    match repo.references().and_then(|r| r.all().map(|i| i.collect::<Vec<_>>())) {
        Ok(refs) => {
            for r in refs {
                match r {
                    Ok(mut r) => {
                        let name = r.name().as_bstr().to_string();
                        let id = match r.target().try_id() {
                            Some(id) => Ok(id.to_owned()),
                            None => r.peel_to_id().map(gix::Id::detach),
                        };
                        match id {
                            Ok(id) => tips.push((id, name)),
                            Err(e) => out.issue("error", &source, format!("ref {name}: cannot resolve: {e}")),
                        }
                    }
                    Err(e) => out.issue("error", &source, format!("cannot read a ref: {e}")),
                }
            }
        }
        Err(e) => out.issue("error", &source, format!("cannot list refs: {e}")),
    }
    if let Ok(head) = repo.head_id() {
        tips.push((head.detach(), "HEAD".to_owned()));
    }
}

/// The commits `tips` name, each once: annotated tags peeled, and tags of trees or blobs (rare)
/// left out. Each distinct target is checked from its header (not inflated); one that cannot be
/// read is an `error` issue naming a ref that points at it.
fn commit_tips(repo: &gix::Repository, mut tips: Vec<(ObjectId, String)>, out: &mut ScanOutput) -> Vec<ObjectId> {
    use gix::object::Kind;
    let source = out.source.clone();
    tips.sort();
    tips.dedup_by(|a, b| a.0 == b.0);
    let mut commits = Vec::with_capacity(tips.len());
    for (id, name) in tips {
        match repo.find_header(id).map(|h| h.kind()) {
            Ok(Kind::Commit) => commits.push(id),
            Ok(Kind::Tag) => match repo.find_object(id).and_then(gix::Object::peel_tags_to_end) {
                Ok(o) if o.kind == Kind::Commit => commits.push(o.id),
                Ok(_) => {}
                Err(e) => out.issue("error", &source, format!("ref {name}: cannot resolve: {e}")),
            },
            Ok(_) => {}
            Err(e) => out.issue("error", &source, format!("ref {name}: cannot resolve: {e}")),
        }
    }
    commits.sort();
    commits.dedup();
    commits
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
        let range = match opts.since.as_deref().map(parse_range).transpose() {
            Ok(r) => r,
            Err(e) => {
                out.issue("error", &source, e);
                return HistoryTips::default();
            }
        };
        let mut tips: Vec<ObjectId> = Vec::new();
        let mut hidden: Vec<ObjectId> = Vec::new();
        if let Some((base, tip)) = range {
            match resolve_commit(repo, base) {
                Ok(id) => hidden.push(id),
                Err(e) => {
                    // Scanning everything instead would fail a PR on every key ever committed.
                    out.issue(
                        "error",
                        &source,
                        format!(
                            "--since {base}: cannot resolve: {e}; nothing was scanned (in a shallow CI \
                             clone, fetch the base commit or the whole history: fetch-depth: 0)"
                        ),
                    );
                    return HistoryTips::default();
                }
            }
            if !opts.all_refs {
                match resolve_commit(repo, tip) {
                    Ok(id) => tips.push(id),
                    Err(e) => {
                        out.issue(
                            "error",
                            &source,
                            format!("--since ..{tip}: cannot resolve: {e}; nothing was scanned"),
                        );
                        return HistoryTips::default();
                    }
                }
            }
        }
        let mut named: Vec<(ObjectId, String)> = tips.iter().map(|&id| (id, "the range's tip".to_owned())).collect();
        if range.is_none() || opts.all_refs {
            all_ref_tips(repo, &mut named, out);
        }
        let tips = commit_tips(repo, named, out);
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
        // A whole-history walk reads nearly every tree and commit: they are decoded from the
        // packs by delta tree (each delta base once, on every core), not one by one by id.
        let mut packs = pack::open_packs(repo);
        let whole = range.is_none() && hidden.is_empty();
        let objects = if whole {
            self.packed_trees(repo.object_hash(), &mut packs)
        } else {
            Objects::default()
        };
        let commits = order::commits_oldest_first(repo, &objects, &tips, &hidden, out);
        out.stats.commits = commits.len() as u64;

        let mut seen_trees: HashSet<ObjectId> = HashSet::default();
        let mut seen_blobs: HashSet<ObjectId> = HashSet::default();
        // What the hidden commits already hold is not new.
        for h in &hidden {
            if let Ok(tree) = repo.find_commit(*h).and_then(|c| Ok(c.tree_id()?.detach())) {
                walk_tree(
                    repo,
                    &objects,
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
                let id = commits[idx];
                let found;
                let bytes = if let Some(bytes) = objects.commit(&id) {
                    bytes
                } else {
                    match r.find_commit(id) {
                        Ok(c) => {
                            found = c;
                            &found.data[..]
                        }
                        Err(e) => {
                            part.issue("error", &source, format!("commit {id}: cannot read: {e}"));
                            meta.push(unknown_commit(id));
                            continue;
                        }
                    }
                };
                match gix::objs::CommitRef::from_bytes(bytes, r.object_hash()) {
                    Ok(commit) => {
                        meta.push(commit_info(id, &commit));
                        walk_tree(
                            &r,
                            &objects,
                            commit.tree(),
                            &mut seen_trees,
                            &mut seen_blobs,
                            idx,
                            &mut blobs,
                            &mut part,
                            &source,
                        );
                    }
                    Err(e) => {
                        part.issue("error", &source, format!("commit {id}: cannot read its tree: {e}"));
                        meta.push(unknown_commit(id));
                    }
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
        drop(objects);
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
        self.scan_blobs(repo, &mut packs, blobs, &meta, out);
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
                &Objects::default(),
                tree.detach(),
                &mut HashSet::default(),
                &mut HashSet::default(),
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
        self.scan_blobs(repo, &mut pack::open_packs(repo), staged, &[], out);
    }
}
