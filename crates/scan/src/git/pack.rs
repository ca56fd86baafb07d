//! Blobs read in pack order. When a history scan wants a large share of a pack's objects (a
//! whole-history scan does), each pack is decoded once by delta tree on every core: a delta's
//! base is inflated once for all the deltas built on it, with no cache misses and no per-object
//! lookups, and the blobs the walk wants are scanned whole as they come out. Blobs the packs do
//! not hold (loose objects, alternates) or could not decode are left to the by-id path
//! ([`Scanner::scan_blobs`](super::blobs)), which reports what is wrong with each.

use super::BlobAt;
use super::blobs::BlobResult;
use super::delta::{BaseHits, Bases, delta_copies, hits_from_base, take_base};
use super::walk::Objects;
use crate::engine::Engine;
use crate::{Scanner, looks_binary};
use gix::ObjectId;
use gix::object::Kind;
use gix::odb::pack::cache::delta::traverse::Context;
use rayon::prelude::*;
use roster_rules::KeywordHit;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The share of a repository's packed objects a scan must want before the packs are decoded
/// whole: below it (`--since`, `--incremental`), reading the wanted blobs by id is cheaper.
const MIN_WANTED_SHARE: f64 = 0.2;

/// The regex windows each traversal thread remembers (bytes): the versions of one file come
/// out of a delta tree close together, so most of a delta's windows were its base's.
const WINDOW_MEMO_BYTES: usize = 8 << 20;

/// Per-thread state of the pack traversal: the traversal clones its inspector once per thread,
/// and each clone starts its own engine and buffers.
struct ThreadState {
    engine: Option<Engine>,
    cap: usize,
    inflate: gix::zlib::Inflate,
    delta: Vec<u8>,
}

impl Clone for ThreadState {
    fn clone(&self) -> Self {
        Self::new(self.cap)
    }
}

impl ThreadState {
    fn new(cap: usize) -> Self {
        Self {
            engine: None,
            cap,
            inflate: gix::zlib::Inflate::default(),
            delta: Vec::new(),
        }
    }

    fn engine(&mut self) -> &mut Engine {
        let cap = self.cap;
        self.engine
            .get_or_insert_with(|| Engine::remembering(cap, WINDOW_MEMO_BYTES))
    }
}

/// One pack entry, as the delta tree carries it.
#[derive(Clone)]
pub(super) struct Node {
    id: ObjectId,
    offset: u64,
    /// The pack offset of its delta base, for a delta.
    base: Option<u64>,
    /// How many deltas are built on it.
    children: u32,
    /// Its object's kind (a delta's is its base's); `None` when its delta chain is broken.
    kind: Option<Kind>,
}

/// One of the repository's packs, with its entries once they have been read (both traversals,
/// trees and commits first and blobs second, use them).
pub(super) struct Pack {
    bundle: gix::odb::pack::Bundle,
    /// `None` until read; `Some(None)` when an entry's header cannot be read.
    nodes: Option<Option<Vec<Node>>>,
}

impl Pack {
    /// Reads its entries (once), on up to `threads` threads.
    fn read_nodes(&mut self, threads: usize) -> &Self {
        let bundle = &self.bundle;
        self.nodes
            .get_or_insert_with(|| match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
                Ok(pool) => pool.install(|| pack_nodes(bundle)),
                Err(_) => pack_nodes(bundle),
            });
        self
    }
}

/// The repository's own packs (their indexes are read, their entries not yet).
pub(super) fn open_packs(repo: &gix::Repository) -> Vec<Pack> {
    pack_indexes(repo)
        .iter()
        .filter_map(|p| gix::odb::pack::Bundle::at(p, repo.object_hash()).ok())
        .map(|bundle| Pack { bundle, nodes: None })
        .collect()
}

/// Decodes the entries of `pack` whose kind is in `kinds` by delta tree, on up to `threads`
/// threads, handing each to `inspect`. Deltas are built only on objects of their own kind, so the
/// entries of some kinds form whole delta trees; each entry is read from its offset to the end
/// of the pack (the entries of other kinds may follow it), and inflating stops at its end.
/// Objects larger than `limit` stop the traversal (so does a corrupt entry): `false` then,
/// and what it did not reach is left to the callers' by-id paths.
fn traverse_kinds<F>(
    pack: &Pack,
    kinds: &[Kind],
    threads: usize,
    limit: usize,
    object_hash: gix::hash::Kind,
    inspect: F,
) -> bool
where
    F: FnMut(&mut Node, &dyn gix::progress::Progress, Context<'_>) -> gix::error::Result + Send + Clone,
{
    let Some(Some(nodes)) = &pack.nodes else { return false };
    // The tree reads the first entry's header where the pack's header ends, without seeking: the
    // first entry stays in whatever its kind (the inspectors skip kinds they do not want).
    let nodes: Vec<Node> = nodes
        .iter()
        .enumerate()
        .filter(|(i, n)| (*i == 0 && n.base.is_none()) || n.kind.is_some_and(|k| kinds.contains(&k)))
        .map(|(_, n)| n.clone())
        .collect();
    let (bundle, interrupt) = (&pack.bundle, AtomicBool::new(false));
    let data = &bundle.pack;
    let tree = gix::odb::pack::cache::delta::Tree::from_offsets_in_pack(
        data.path(),
        nodes.into_iter(),
        &|n: &Node| n.offset,
        &|id| Ok(bundle.index.lookup(id).map(|i| bundle.index.pack_offset_at_index(i))),
        &mut gix::progress::Discard,
        &interrupt,
        object_hash,
    );
    let Ok(tree) = tree else { return false };
    let end = data.pack_end() as u64;
    tree.traverse(
        move |slice, pack: &gix::odb::pack::data::File| pack.entry_slice(slice.start..end),
        data,
        end,
        inspect,
        gix::odb::pack::cache::delta::traverse::Options {
            object_progress: Box::new(gix::progress::Discard),
            size_progress: &mut gix::progress::Discard,
            thread_limit: Some(threads),
            should_interrupt: &interrupt,
            object_hash,
            alloc_limit_bytes: Some(limit),
        },
    )
    .is_ok()
}

/// The repository's own pack indexes, sorted.
fn pack_indexes(repo: &gix::Repository) -> Vec<PathBuf> {
    let dir = repo.objects.store_ref().path().join("pack");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut idx: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "idx"))
        .collect();
    idx.sort();
    idx
}

impl Scanner {
    /// Scans the wanted `blobs` the repository's packs hold, in pack order. Returns each scanned
    /// blob's result (by index into `blobs`) and, per blob, whether it was scanned here.
    pub(super) fn scan_packed(
        &self,
        repo: &gix::Repository,
        packs: &mut [Pack],
        blobs: &[BlobAt],
        source: &str,
    ) -> (Vec<(usize, BlobResult)>, Vec<bool>) {
        let nothing = || (Vec::new(), vec![false; blobs.len()]);
        if blobs.is_empty() {
            return nothing();
        }
        let packed: u64 = packs.iter().map(|p| u64::from(p.bundle.index.num_objects())).sum();
        if packed == 0 || (blobs.len() as f64) < MIN_WANTED_SHARE * packed as f64 {
            return nothing();
        }
        let want: HashMap<ObjectId, usize> = blobs.iter().enumerate().map(|(i, b)| (b.id, i)).collect();
        let done: Vec<AtomicBool> = (0..blobs.len()).map(|_| AtomicBool::new(false)).collect();
        let remaining = AtomicUsize::new(blobs.len());
        let results: Mutex<Vec<(usize, BlobResult)>> = Mutex::new(Vec::new());
        let limit = usize::try_from(self.opts.max_file_size).unwrap_or(usize::MAX);
        for p in packs.iter_mut() {
            if remaining.load(Ordering::Relaxed) == 0 {
                break;
            }
            let p = p.read_nodes(self.threads());
            let bases: Bases = Mutex::new(HashMap::new());
            let mut state = ThreadState::new(self.opts.max_findings_per_rule);
            let (want, done, remaining, results, bases) = (&want, &done, &remaining, &results, &bases);
            let pack = &p.bundle.pack;
            let inspect = move |node: &mut Node, _: &dyn gix::progress::Progress, cx: Context<'_>| {
                if cx.entry.header.as_kind() != Some(Kind::Blob) {
                    return Ok(());
                }
                let base = node.base.and_then(|b| take_base(bases, b));
                let wanted = want
                    .get(&node.id)
                    .copied()
                    // A blob held by two packs is scanned once.
                    .filter(|&i| !done[i].swap(true, Ordering::Relaxed));
                if wanted.is_none() && node.children == 0 {
                    return Ok(());
                }
                let data = cx.decompressed;
                let hits = (!looks_binary(data)).then(|| {
                    base.as_deref()
                        .and_then(|base| self.inherited_hits(pack, &mut state, cx.entry, base, data))
                        .unwrap_or_else(|| {
                            let mut hits = Vec::new();
                            self.rules.keyword_hits(data, 0..data.len(), &mut hits);
                            hits
                        })
                });
                if let Some(i) = wanted {
                    remaining.fetch_sub(1, Ordering::Relaxed);
                    let res = self.scan_whole(state.engine(), &blobs[i], source, data, hits.as_deref());
                    results.lock().expect("no panic while held").push((i, res));
                }
                if node.children > 0 {
                    let kept = hits.map(|hits| Arc::new(BaseHits { len: data.len(), hits }));
                    bases
                        .lock()
                        .expect("no panic while held")
                        .insert(node.offset, (node.children, kept));
                }
                Ok(())
            };
            // A decode error (a corrupt entry, an object past --max-file-size: the limit is
            // checked from the entry's header before anything is inflated) stops this pack's
            // traversal; what it did not reach goes to the by-id path.
            traverse_kinds(p, &[Kind::Blob], self.threads(), limit, repo.object_hash(), inspect);
        }
        let done = done.into_iter().map(AtomicBool::into_inner).collect();
        (results.into_inner().expect("no panic while held"), done)
    }

    /// The trees and commits of the repository's packs, decoded by delta tree on every core (a
    /// whole-history walk reads nearly all of them; reading each by id would inflate many twice).
    /// Trees larger than [`MAX_TREE_BYTES`](crate::MAX_TREE_BYTES), and whatever a traversal
    /// did not reach, are left out: the walk reads those by id, and reports what is wrong.
    pub(super) fn packed_trees(&self, object_hash: gix::hash::Kind, packs: &mut [Pack]) -> Objects {
        let objects = Mutex::new(Objects::default());
        let cap = usize::try_from(crate::MAX_TREE_BYTES).unwrap_or(usize::MAX);
        for p in packs.iter_mut() {
            let p = p.read_nodes(self.threads());
            let objects = &objects;
            let inspect = move |node: &mut Node, _: &dyn gix::progress::Progress, cx: Context<'_>| {
                let kind = cx.entry.header.as_kind();
                if matches!(kind, Some(Kind::Tree | Kind::Commit)) {
                    let is_tree = kind == Some(Kind::Tree);
                    objects
                        .lock()
                        .expect("no panic while held")
                        .add(node.id, is_tree, cx.decompressed);
                }
                Ok(())
            };
            traverse_kinds(
                p,
                &[Kind::Tree, Kind::Commit],
                self.threads(),
                cap,
                object_hash,
                inspect,
            );
        }
        objects.into_inner().expect("no panic while held")
    }
}

/// A delta's base: its pack offset and its position among the entries in pack order.
type Base = (u64, usize);

/// Every entry of a bundle's pack, by offset, each with its delta base and how many deltas are
/// built on it, and its kind. `None` when an entry's header cannot be read (the by-id path then
/// reads the pack's blobs and reports what is wrong).
fn pack_nodes(bundle: &gix::odb::pack::Bundle) -> Option<Vec<Node>> {
    use gix::odb::pack::data::entry::Header;
    let (index, pack) = (&bundle.index, &bundle.pack);
    let mut nodes: Vec<Node> = index
        .iter()
        .map(|e| Node {
            id: e.oid,
            offset: e.pack_offset,
            base: None,
            children: 0,
            kind: None,
        })
        .collect();
    nodes.par_sort_unstable_by_key(|n| n.offset);
    // Each entry's kind and, for a delta, its base's offset and position (headers are read in
    // parallel: a pack has hundreds of thousands).
    let position = |offset: u64| nodes.binary_search_by_key(&offset, |n| n.offset).ok();
    let headers: Vec<(Option<Kind>, Option<Base>)> = nodes
        .par_iter()
        .with_min_len(4096)
        .map(|n| {
            let header = pack.entry(n.offset).ok()?.header;
            let base = match header {
                Header::OfsDelta { base_distance } => Some(Header::verified_base_pack_offset(n.offset, base_distance)?),
                Header::RefDelta { base_id } => Some(index.pack_offset_at_index(index.lookup(base_id)?)),
                _ => None,
            };
            let base = match base {
                Some(b) => Some((b, position(b)?)),
                None => None,
            };
            Some((header.as_kind(), base))
        })
        .collect::<Option<_>>()?;
    let mut base_at: Vec<Option<usize>> = vec![None; nodes.len()];
    for (i, (kind, base)) in headers.into_iter().enumerate() {
        nodes[i].kind = kind;
        if let Some((offset, at)) = base {
            nodes[i].base = Some(offset);
            nodes[at].children += 1;
            base_at[i] = Some(at);
        }
    }
    // A delta's kind is its chain's root's (an OFS delta's base comes before it, a REF delta's
    // may come after). Each entry is visited once; a chain that loops keeps `None`.
    let mut visited = vec![false; nodes.len()];
    let mut chain = Vec::new();
    for i in 0..nodes.len() {
        let mut at = i;
        while !visited[at] && nodes[at].kind.is_none() {
            visited[at] = true;
            chain.push(at);
            match base_at[at] {
                Some(b) => at = b,
                None => break,
            }
        }
        let kind = nodes[at].kind;
        for c in chain.drain(..) {
            nodes[c].kind = kind;
        }
    }
    Some(nodes)
}

impl Scanner {
    /// A delta blob's keyword hits, from its base's and the delta's copy instructions (read
    /// again from the pack: the traversal applied them without keeping them). `None` when the
    /// delta cannot be read again or does not fit the base, and the blob is searched whole.
    fn inherited_hits(
        &self,
        pack: &gix::odb::pack::data::File,
        state: &mut ThreadState,
        entry: &gix::odb::pack::data::Entry,
        base: &BaseHits,
        data: &[u8],
    ) -> Option<Vec<KeywordHit>> {
        let size = usize::try_from(entry.decompressed_size).ok()?;
        // A delta is never much larger than what it builds; a bigger one is not worth reading.
        if size > data.len().saturating_add(1 << 16) {
            return None;
        }
        state.delta.clear();
        state.delta.resize(size, 0);
        pack.decompress_entry(entry, &mut state.inflate, &mut state.delta)
            .ok()?;
        let copies = delta_copies(&state.delta, base.len, data.len())?;
        Some(hits_from_base(&self.rules, data, &copies, &base.hits))
    }
}
