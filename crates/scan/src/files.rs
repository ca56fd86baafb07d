//! Scanning directories and files: the `ignore` crate's parallel walker, each worker thread
//! reading (memory-mapping large files) and matching as it goes.

use crate::engine::{Engine, FileResult};
use crate::{
    BINARY_PROBE, MAX_PATH_BYTES, MAX_TREE_DEPTH, PROJECT_MARKERS, ScanOutput, Scanner, looks_binary, shown_prefix,
};
use ignore::{WalkBuilder, WalkState, overrides::OverrideBuilder};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Files at least this large are memory-mapped instead of read.
const MMAP_THRESHOLD: u64 = 16 * 1024 * 1024;

impl Scanner {
    /// Scans files and directories. Unreadable entries are recorded in `issues`; the scan goes on.
    pub fn scan_paths(&self, roots: &[PathBuf]) -> Vec<ScanOutput> {
        roots.iter().map(|r| self.scan_root(r)).collect()
    }

    fn scan_root(&self, root: &Path) -> ScanOutput {
        let started = std::time::Instant::now();
        let source = root.display().to_string();
        let mut total = ScanOutput {
            source: source.clone(),
            ..ScanOutput::default()
        };
        let meta = match std::fs::metadata(root) {
            Ok(m) => m,
            Err(e) => {
                total.issue("error", &source, format!("cannot read: {e}"));
                return total;
            }
        };
        if meta.is_file() {
            let name = root
                .file_name()
                .map_or_else(|| source.clone(), |n| n.to_string_lossy().into_owned());
            let mut engine = Engine::new(self.opts.max_findings_per_rule);
            let mut buf = Vec::new();
            self.scan_file(&mut engine, &mut buf, root, &source, &name, meta.len(), &mut total);
            total.stats.elapsed_ms = elapsed_ms(started);
            return total;
        }
        let mut overrides = OverrideBuilder::new(root);
        for g in &self.opts.exclude {
            if let Err(e) = overrides.add(&format!("!{g}")) {
                total.issue("error", format!("--exclude {g}"), format!("invalid glob: {e}"));
            }
        }
        let overrides = overrides
            .build()
            .unwrap_or_else(|_| ignore::overrides::Override::empty());
        let gi = self.opts.respect_gitignore;
        let walker = WalkBuilder::new(root)
            .hidden(false)
            .parents(gi)
            .ignore(false)
            .git_ignore(gi)
            .git_global(false)
            .git_exclude(gi)
            .require_git(false)
            .follow_links(self.opts.follow_symlinks)
            .overrides(overrides)
            .threads(self.threads())
            .filter_entry(|e| e.file_name() != ".git")
            .build_parallel();
        let shared = Arc::new(Mutex::new(ScanOutput::default()));
        walker.run(|| {
            let mut worker = Worker {
                scanner: self,
                root,
                source: &source,
                engine: Engine::new(self.opts.max_findings_per_rule),
                buf: Vec::with_capacity(64 * 1024),
                out: ScanOutput::default(),
                shared: Arc::clone(&shared),
            };
            Box::new(move |entry| worker.visit(entry))
        });
        let collected = std::mem::take(&mut *shared.lock().expect("no worker panicked"));
        total.merge(collected);
        total.stats.elapsed_ms = elapsed_ms(started);
        total
    }

    #[allow(clippy::too_many_arguments, reason = "internal helper")]
    fn scan_file(
        &self,
        engine: &mut Engine,
        buf: &mut Vec<u8>,
        path: &Path,
        source: &str,
        rel: &str,
        len: u64,
        out: &mut ScanOutput,
    ) {
        if self.rules.path_allowed_globally(rel) {
            return;
        }
        let max = self.opts.max_file_size;
        let too_large = |out: &mut ScanOutput, len: u64| {
            out.stats.skipped_large += 1;
            out.issue(
                "skipped",
                path.display().to_string(),
                format!(
                    "{} MiB is larger than --max-file-size ({} MiB); raise it to scan this file",
                    len >> 20,
                    max >> 20
                ),
            );
        };
        // The size from the directory entry's metadata decides before anything is read; the
        // reads below are bounded too, for a file that grows in the meantime.
        if len > max {
            too_large(out, len);
            return;
        }
        let mut file = match File::open(path) {
            Ok(f) => f,
            Err(e) => {
                out.issue("error", path.display().to_string(), format!("cannot open: {e}"));
                return;
            }
        };
        let mapped;
        let data: &[u8] = if len >= MMAP_THRESHOLD {
            match map(&file) {
                Ok(m) if m.len() as u64 > max => {
                    too_large(out, m.len() as u64);
                    return;
                }
                Ok(m) => {
                    mapped = m;
                    &mapped
                }
                Err(e) => {
                    out.issue("error", path.display().to_string(), format!("cannot memory-map: {e}"));
                    return;
                }
            }
        } else {
            buf.clear();
            // Read the head first: a binary file is skipped without reading the rest of it.
            let head = (&mut file).take(BINARY_PROBE as u64).read_to_end(buf);
            let rest = match head {
                Ok(_) if looks_binary(buf) => {
                    out.stats.skipped_binary += 1;
                    return;
                }
                // At most one byte past the cap: enough to tell the file grew past it.
                Ok(n) if n == BINARY_PROBE => (&mut file)
                    .take(max.saturating_sub(BINARY_PROBE as u64).saturating_add(1))
                    .read_to_end(buf)
                    .map(|_| ()),
                Ok(_) => Ok(()),
                Err(e) => Err(e),
            };
            if let Err(e) = rest {
                out.issue("error", path.display().to_string(), format!("cannot read: {e}"));
                return;
            }
            if buf.len() as u64 > max {
                too_large(out, buf.len() as u64);
                return;
            }
            buf
        };
        if looks_binary(data) {
            out.stats.skipped_binary += 1;
            return;
        }
        let mut result = FileResult::default();
        engine.scan(&self.rules, &self.fp, source, rel, data, &mut result);
        out.stats.files_scanned += 1;
        out.stats.bytes_scanned += data.len() as u64;
        if let Some(p) = &self.opts.progress {
            p.add(1, data.len() as u64);
            p.findings
                .fetch_add(result.findings.len() as u64, std::sync::atomic::Ordering::Relaxed);
        }
        out.note_over_cap(
            &path.display().to_string(),
            &result.over_cap,
            self.opts.max_findings_per_rule,
        );
        out.add_file(result);
    }
}

#[allow(unsafe_code, reason = "memory-mapping large files avoids copying them")]
fn map(file: &File) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: the map is read-only and dropped before the function that scans it returns. A file
    // truncated by another process while mapped can raise SIGBUS; that is the accepted cost of
    // mapping, as in ripgrep, and only for files above MMAP_THRESHOLD.
    unsafe { memmap2::Mmap::map(file) }
}

fn elapsed_ms(start: std::time::Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

struct Worker<'a> {
    scanner: &'a Scanner,
    root: &'a Path,
    source: &'a str,
    engine: Engine,
    buf: Vec<u8>,
    out: ScanOutput,
    shared: Arc<Mutex<ScanOutput>>,
}

impl Worker<'_> {
    fn visit(&mut self, entry: Result<ignore::DirEntry, ignore::Error>) -> WalkState {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let msg = e.to_string();
                let hint = if msg.contains("File system loop") {
                    "symbolic link loop; skipped"
                } else {
                    "skipped; check permissions"
                };
                self.out.issue("error", self.source, format!("{msg} ({hint})"));
                return WalkState::Continue;
            }
        };
        let Some(ft) = entry.file_type() else {
            return WalkState::Continue;
        };
        let path = entry.path();
        // The same caps as the history walk: past them nothing is read, and the cut is reported.
        let long = path.as_os_str().len() > MAX_PATH_BYTES;
        if long || (ft.is_dir() && entry.depth() >= MAX_TREE_DEPTH) {
            let shown = shown_prefix(&path.to_string_lossy());
            let what = if long {
                format!("a path longer than {MAX_PATH_BYTES} bytes")
            } else {
                format!("directories nested deeper than {MAX_TREE_DEPTH} levels")
            };
            self.out.issue(
                "error",
                format!("{}: {shown}", self.source),
                format!("{what}; not scanned (nor anything below it)"),
            );
            return WalkState::Skip;
        }
        if !ft.is_file() {
            return WalkState::Continue;
        }
        let rel = path.strip_prefix(self.root).unwrap_or(path);
        let rel = rel.to_string_lossy().replace('\\', "/");
        let rel = if rel.is_empty() {
            path.to_string_lossy().into_owned()
        } else {
            rel
        };
        if let Some(name) = path.file_name().and_then(|n| n.to_str())
            && PROJECT_MARKERS.contains(&name)
        {
            let dir = rel.rsplit_once('/').map_or(".", |(d, _)| d).to_owned();
            self.out.project_dirs.push(dir);
        }
        let len = match entry.metadata() {
            Ok(m) => m.len(),
            Err(e) => {
                self.out
                    .issue("error", path.display().to_string(), format!("cannot stat: {e}"));
                return WalkState::Continue;
            }
        };
        self.scanner.scan_file(
            &mut self.engine,
            &mut self.buf,
            path,
            self.source,
            &rel,
            len,
            &mut self.out,
        );
        WalkState::Continue
    }
}

impl Drop for Worker<'_> {
    fn drop(&mut self) {
        let out = std::mem::take(&mut self.out);
        if let Ok(mut shared) = self.shared.lock() {
            shared.merge(out);
        }
    }
}
