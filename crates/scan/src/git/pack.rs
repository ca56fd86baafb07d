//! Blobs read in pack order. When a history scan wants a large share of a pack's objects (a
//! whole-history scan does), each pack is decoded once by delta tree on every core: a delta's
//! base is inflated once for all the deltas built on it, with no cache misses and no per-object
//! lookups, and the blobs the walk wants are scanned whole as they come out. Blobs the packs do
//! not hold (loose objects, alternates) or could not decode are left to the by-id path
//! ([`Scanner::scan_blobs`](super::blobs)), which reports what is wrong with each.

use super::BlobAt;
use super::blobs::BlobResult;
use crate::Scanner;
use crate::engine::Engine;
use gix::ObjectId;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The share of a repository's packed objects a scan must want before the packs are decoded
/// whole: below it (`--since`, `--incremental`), reading the wanted blobs by id is cheaper.
const MIN_WANTED_SHARE: f64 = 0.2;

/// A per-thread engine: the pack traversal clones its processor once per thread, and each clone
/// starts its own engine.
struct ThreadEngine {
    engine: Option<Engine>,
    cap: usize,
}

impl Clone for ThreadEngine {
    fn clone(&self) -> Self {
        Self {
            engine: None,
            cap: self.cap,
        }
    }
}

impl ThreadEngine {
    fn get(&mut self) -> &mut Engine {
        let cap = self.cap;
        self.engine.get_or_insert_with(|| Engine::new(cap))
    }
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
        blobs: &[BlobAt],
        source: &str,
    ) -> (Vec<(usize, BlobResult)>, Vec<bool>) {
        let nothing = || (Vec::new(), vec![false; blobs.len()]);
        if blobs.is_empty() {
            return nothing();
        }
        let bundles: Vec<gix::odb::pack::Bundle> = pack_indexes(repo)
            .iter()
            .filter_map(|p| gix::odb::pack::Bundle::at(p, repo.object_hash()).ok())
            .collect();
        let packed: u64 = bundles.iter().map(|b| u64::from(b.index.num_objects())).sum();
        if packed == 0 || (blobs.len() as f64) < MIN_WANTED_SHARE * packed as f64 {
            return nothing();
        }
        let want: HashMap<ObjectId, usize> = blobs.iter().enumerate().map(|(i, b)| (b.id, i)).collect();
        let done: Vec<AtomicBool> = (0..blobs.len()).map(|_| AtomicBool::new(false)).collect();
        let remaining = AtomicUsize::new(blobs.len());
        let results: Mutex<Vec<(usize, BlobResult)>> = Mutex::new(Vec::new());
        let limit = usize::try_from(self.opts.max_file_size).unwrap_or(usize::MAX);
        for bundle in &bundles {
            if remaining.load(Ordering::Relaxed) == 0 {
                break;
            }
            let interrupt = AtomicBool::new(false);
            let mut engine = ThreadEngine {
                engine: None,
                cap: self.opts.max_findings_per_rule,
            };
            let (want, done, remaining, results) = (&want, &done, &remaining, &results);
            let processor = move |kind: gix::object::Kind,
                                  data: &[u8],
                                  entry: &gix::odb::pack::index::Entry,
                                  _: &dyn gix::progress::Progress| {
                if kind != gix::object::Kind::Blob {
                    return Ok(());
                }
                let Some(&i) = want.get(&entry.oid) else {
                    return Ok(());
                };
                // A blob held by two packs is scanned once.
                if done[i].swap(true, Ordering::Relaxed) {
                    return Ok(());
                }
                remaining.fetch_sub(1, Ordering::Relaxed);
                let res = self.scan_whole(engine.get(), &blobs[i], source, data);
                results.lock().expect("no panic while held").push((i, res));
                Ok(())
            };
            // A decode error (a corrupt entry, an object past --max-file-size: the limit is
            // checked from the entry's header before anything is inflated) stops this pack's
            // traversal; what it did not reach goes to the by-id path.
            let _ = bundle.index.traverse(
                &bundle.pack,
                &mut gix::progress::Discard,
                &interrupt,
                processor,
                gix::odb::pack::index::traverse::Options {
                    traversal: gix::odb::pack::index::traverse::Algorithm::DeltaTreeLookup,
                    thread_limit: Some(self.threads()),
                    check: gix::odb::pack::index::traverse::SafetyCheck::SkipFileAndObjectChecksumVerification,
                    alloc_limit_bytes: Some(limit),
                    make_pack_lookup_cache: || gix::odb::pack::cache::Never,
                },
            );
        }
        let done = done.into_iter().map(AtomicBool::into_inner).collect();
        (results.into_inner().expect("no panic while held"), done)
    }
}
