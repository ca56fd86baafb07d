//! Reading trees and commits: the blobs a tree reaches, and who committed what when.

use super::BlobAt;
use crate::ScanOutput;
use gix::ObjectId;
use roster_model::CommitInfo;
use std::collections::HashSet;

#[allow(clippy::too_many_arguments, reason = "internal traversal state")]
pub(super) fn walk_tree(
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

pub(super) fn with_delta_cache(repo: &mut gix::Repository) {
    repo.objects
        .set_pack_cache(|| Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(DELTA_CACHE_BYTES)));
}

pub(super) fn commit_info(c: &gix::Commit<'_>) -> CommitInfo {
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

pub(super) fn unknown_commit(id: ObjectId) -> CommitInfo {
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
    #[test]
    fn rfc3339() {
        assert_eq!(super::rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339_utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(super::rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
    }
}
