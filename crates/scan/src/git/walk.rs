//! Reading trees and commits: the blobs a tree reaches, and who committed what when.

use super::BlobAt;
use crate::{MAX_PATH_BYTES, MAX_TREE_DEPTH, ScanOutput, shown_prefix};
use gix::ObjectId;
use gix::hashtable::{HashMap, HashSet};
use roster_model::CommitInfo;

/// Trees and commits decoded ahead of the walk (by the pack traversal), by id, in chunks of about
/// [`CHUNK`] bytes. A whole history's trees and commits are large (containerd's: 138 MiB); one
/// growing buffer would double its capacity past that and, on allocators that move a block to grow
/// it, hold the old copy and the new one at once.
#[derive(Default)]
pub(super) struct Objects {
    chunks: Vec<Vec<u8>>,
    trees: HashMap<ObjectId, At>,
    commits: HashMap<ObjectId, At>,
}

/// Where an object's bytes are: chunk, start and length.
#[derive(Clone, Copy)]
struct At {
    chunk: u32,
    start: u32,
    len: u32,
}

/// The size of one chunk of [`Objects`]; an object larger than this gets a chunk of its own.
const CHUNK: usize = 4 << 20;

impl Objects {
    pub(super) fn add(&mut self, id: ObjectId, is_tree: bool, bytes: &[u8]) {
        let fits = self
            .chunks
            .last()
            .is_some_and(|last| last.capacity() - last.len() >= bytes.len());
        if !fits {
            self.chunks.push(Vec::with_capacity(CHUNK.max(bytes.len())));
        }
        let chunk = self.chunks.len() - 1;
        let last = &mut self.chunks[chunk];
        let (Ok(chunk), Ok(start), Ok(len)) = (
            u32::try_from(chunk),
            u32::try_from(last.len()),
            u32::try_from(bytes.len()),
        ) else {
            // Past 4 GiB (trees are capped far below that): left for the by-id path.
            return;
        };
        last.extend_from_slice(bytes);
        let at = At { chunk, start, len };
        if is_tree {
            self.trees.insert(id, at);
        } else {
            self.commits.insert(id, at);
        }
    }

    fn get(&self, at: Option<&At>) -> Option<&[u8]> {
        let at = at?;
        let start = at.start as usize;
        self.chunks.get(at.chunk as usize)?.get(start..start + at.len as usize)
    }

    pub(super) fn tree(&self, id: &gix::oid) -> Option<&[u8]> {
        self.get(self.trees.get(id))
    }

    pub(super) fn commit(&self, id: &gix::oid) -> Option<&[u8]> {
        self.get(self.commits.get(id))
    }
}

/// Reads the trees under `root` (from `objects` when it holds them, else by id; skipping those
/// in `seen_trees`) and appends each blob not in
/// `seen_blobs` to `blobs`. The walk keeps its own stack (no recursion), and stops descending past
/// [`MAX_TREE_DEPTH`] levels or [`MAX_PATH_BYTES`] of path: what lies beyond is reported as an
/// `error` issue (the source is incomplete), once per cut tree, with the path's beginning.
#[allow(clippy::too_many_arguments, reason = "internal traversal state")]
pub(super) fn walk_tree(
    repo: &gix::Repository,
    objects: &Objects,
    root: ObjectId,
    seen_trees: &mut HashSet<ObjectId>,
    seen_blobs: &mut HashSet<ObjectId>,
    commit: usize,
    blobs: &mut Vec<BlobAt>,
    out: &mut ScanOutput,
    source: &str,
) {
    let mut stack: Vec<(ObjectId, String, usize)> = vec![(root, String::new(), 0)];
    while let Some((tree, prefix, depth)) = stack.pop() {
        if !seen_trees.insert(tree) {
            continue;
        }
        let at = || {
            if prefix.is_empty() {
                "/".to_owned()
            } else {
                prefix.clone()
            }
        };
        let obj;
        let data = if let Some(data) = objects.tree(&tree) {
            data
        } else {
            if let Ok(h) = repo.find_header(tree)
                && h.size() > crate::MAX_TREE_BYTES
            {
                let msg = format!(
                    "tree {tree} at {:?}: {} MiB (from the object header; not inflated), larger than any real directory (the cap is {} MiB); its files were not scanned",
                    at(),
                    h.size() >> 20,
                    crate::MAX_TREE_BYTES >> 20
                );
                out.issue("error", source, msg);
                continue;
            }
            obj = match repo.find_object(tree) {
                Ok(o) => o,
                Err(e) => {
                    out.issue(
                        "error",
                        source,
                        format!(
                            "tree {tree} at {:?}: cannot read: {e}; its files were not scanned",
                            at()
                        ),
                    );
                    continue;
                }
            };
            &obj.data[..]
        };
        for entry in gix::objs::TreeRefIter::from_bytes(data, repo.object_hash()) {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    out.issue("error", source, format!("tree {tree}: corrupt entry: {e}"));
                    break;
                }
            };
            let is_tree = entry.mode.is_tree();
            if is_tree {
                if seen_trees.contains(entry.oid) {
                    continue;
                }
            } else if !entry.mode.is_blob() || seen_blobs.contains(entry.oid) {
                continue;
            } else if commit == usize::MAX {
                // Walking what is already scanned: only remember the blob.
                seen_blobs.insert(entry.oid.to_owned());
                continue;
            }
            let len = prefix.len() + usize::from(!prefix.is_empty()) + entry.filename.len();
            if len > MAX_PATH_BYTES {
                let what = if is_tree { "tree" } else { "blob" };
                out.issue(
                    "error",
                    format!("{source}: {}", shown_prefix(&prefix)),
                    format!(
                        "a path under this prefix is longer than {MAX_PATH_BYTES} bytes (a hostile or \
                         corrupt repository); {what} {} was not scanned",
                        entry.oid
                    ),
                );
                continue;
            }
            if is_tree && depth + 1 >= MAX_TREE_DEPTH {
                out.issue(
                    "error",
                    format!("{source}: {}", shown_prefix(&prefix)),
                    format!(
                        "trees nested deeper than {MAX_TREE_DEPTH} levels (a hostile or corrupt \
                         repository); tree {} and what it holds were not scanned",
                        entry.oid
                    ),
                );
                continue;
            }
            let name = entry.filename.to_string();
            let path = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            if is_tree {
                stack.push((entry.oid.to_owned(), path, depth + 1));
            } else {
                seen_blobs.insert(entry.oid.to_owned());
                blobs.push(BlobAt {
                    id: entry.oid.to_owned(),
                    path,
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

pub(super) fn commit_info(id: ObjectId, c: &gix::objs::CommitRef<'_>) -> CommitInfo {
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
        .message
        .to_string()
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(120)
        .collect();
    CommitInfo {
        id: id.to_string(),
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
    use super::{CHUNK, Objects};
    use gix::ObjectId;

    #[test]
    fn objects_come_back_whole_across_chunks_and_larger_than_one() {
        let id = |n: u32| {
            let mut b = [0u8; 20];
            b[..4].copy_from_slice(&n.to_be_bytes());
            ObjectId::from_bytes_or_panic(&b)
        };
        let bytes = |n: u32, len: usize| -> Vec<u8> {
            (0..len)
                .map(|i| (i as u32).wrapping_mul(31).wrapping_add(n) as u8)
                .collect()
        };
        // Sizes that straddle chunk ends, one object larger than a chunk, and an empty one.
        let sizes = [CHUNK / 3, CHUNK / 3, CHUNK / 3 + 7, 0, CHUNK + 5, 100, CHUNK - 1, 2];
        let mut objects = Objects::default();
        for (n, &len) in (0u32..).zip(&sizes) {
            objects.add(id(n), n % 2 == 0, &bytes(n, len));
        }
        for (n, &len) in (0u32..).zip(&sizes) {
            let (found, other) = if n % 2 == 0 {
                (objects.tree(&id(n)), objects.commit(&id(n)))
            } else {
                (objects.commit(&id(n)), objects.tree(&id(n)))
            };
            assert_eq!(found, Some(&bytes(n, len)[..]), "object {n} ({len} bytes)");
            assert_eq!(other, None, "object {n} is only of the kind it was added as");
        }
        assert_eq!(objects.tree(&id(99)), None);
        // No chunk grew past its first capacity (no copy of what it held).
        assert!(objects.chunks.iter().all(|c| c.capacity() == CHUNK.max(c.len())));
    }

    #[test]
    fn rfc3339() {
        assert_eq!(super::rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339_utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(super::rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
    }
}
