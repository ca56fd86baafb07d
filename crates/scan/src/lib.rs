//! Roster's scanner: walks files and git history, matches them against a [`RuleSet`] in parallel,
//! and produces findings (with keyed fingerprints, never raw secrets in anything serialized),
//! agent evidence, and a record of what could not be scanned.
//!
//! ```no_run
//! use roster_scan::{Scanner, ScanOptions, Fingerprinter};
//! let rules = roster_rules::RuleSet::builtin().unwrap();
//! let scanner = Scanner::new(rules.into(), Fingerprinter::new([7; 32]), ScanOptions::default());
//! let out = scanner.scan_paths(&[".".into()]);
//! println!("{} findings", out.findings.len());
//! ```

mod agents;
mod baseline;
mod engine;
mod files;
mod fingerprint;
mod git;
mod mcp;
mod scrub;

pub use agents::build_agents;
pub use baseline::{Baseline, BaselineError};
pub use engine::{AgentHit, Engine, FileResult};
pub use fingerprint::{Fingerprinter, keyed_hex, redact};
pub use git::{GitOptions, HistoryTips};
/// The MCP servers an MCP client config declares (used by the scan; public for the fuzz targets).
pub use mcp::servers as mcp_servers;
pub use roster_model::{hex, unhex};
pub use scrub::Scrubber;

use roster_model::{Finding, McpServer, ScanIssue, ScanStats};
use roster_rules::RuleSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters a progress display can read while a scan runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Files or blobs scanned so far.
    pub items: AtomicU64,
    /// Bytes scanned so far.
    pub bytes: AtomicU64,
    /// Total items when known (history scans), else 0.
    pub total: AtomicU64,
    /// Findings so far.
    pub findings: AtomicU64,
}

impl Progress {
    fn add(&self, items: u64, bytes: u64) {
        self.items.fetch_add(items, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Skip what `.gitignore` files ignore (off by default: a committed `.env` is ignored too).
    pub respect_gitignore: bool,
    /// Globs of paths to skip.
    pub exclude: Vec<String>,
    /// Files larger than this are skipped (and reported as skipped).
    pub max_file_size: u64,
    /// Follow symbolic links (loops are detected and reported).
    pub follow_symlinks: bool,
    /// Worker threads (0 = one per core).
    pub threads: usize,
    /// Live counters for a progress display.
    pub progress: Option<Arc<Progress>>,
    /// Findings (and agent evidence) of one rule in one file past this many are counted in
    /// [`ScanStats::findings_over_cap`] and reported as a `skipped` issue instead of one by one;
    /// 0 means no cap. A file holding millions of matches then costs neither memory nor time.
    pub max_findings_per_rule: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            respect_gitignore: false,
            exclude: Vec::new(),
            max_file_size: 256 * 1024 * 1024,
            follow_symlinks: false,
            threads: 0,
            progress: None,
            max_findings_per_rule: DEFAULT_MAX_FINDINGS_PER_RULE,
        }
    }
}

/// Everything a scan produced.
#[derive(Debug, Default)]
pub struct ScanOutput {
    /// Secret findings.
    pub findings: Vec<Finding>,
    /// Agent evidence, to aggregate with [`build_agents`].
    pub agent_hits: Vec<AgentHit>,
    /// MCP servers declared in config files.
    pub mcp_servers: Vec<McpServer>,
    /// Directories (relative paths) holding a project manifest: where agents are grouped.
    pub project_dirs: Vec<String>,
    /// The scan root or repository these paths are relative to.
    pub source: String,
    /// What could not be scanned, or was skipped.
    pub issues: Vec<ScanIssue>,
    /// Counters.
    pub stats: ScanStats,
}

impl ScanOutput {
    fn merge(&mut self, other: ScanOutput) {
        self.findings.extend(other.findings);
        self.agent_hits.extend(other.agent_hits);
        self.mcp_servers.extend(other.mcp_servers);
        self.project_dirs.extend(other.project_dirs);
        self.issues.extend(other.issues);
        self.stats.add(&other.stats);
    }

    fn add_file(&mut self, r: FileResult) {
        self.findings.extend(r.findings);
        self.agent_hits.extend(r.agent_hits);
        self.mcp_servers.extend(r.mcp_servers);
        self.stats.suppressed_inline += r.suppressed_inline;
    }

    /// Records the rules of one file that matched past the per-rule cap: a `skipped` issue each,
    /// and their unreported matches in the stats.
    fn note_over_cap(&mut self, source: &str, over: &[(String, u64)], cap: usize) {
        for (rule, n) in over {
            self.stats.findings_over_cap += n;
            self.issue(
                "skipped",
                source,
                format!(
                    "rule {rule} matched more than {cap} times; the other {n} were not reported \
                     (--max-findings-per-rule raises the cap)"
                ),
            );
        }
    }

    fn issue(&mut self, level: &str, source: impl Into<String>, message: impl Into<String>) {
        self.issues.push(ScanIssue {
            level: level.to_owned(),
            source: source.into(),
            message: message.into(),
        });
    }
}

/// The scanner: rules, the fingerprint key and options.
#[derive(Debug, Clone)]
pub struct Scanner {
    rules: Arc<RuleSet>,
    fp: Fingerprinter,
    opts: ScanOptions,
}

impl Scanner {
    /// A scanner.
    pub fn new(rules: Arc<RuleSet>, fp: Fingerprinter, opts: ScanOptions) -> Self {
        Self { rules, fp, opts }
    }

    /// The rules.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Scans one in-memory buffer as if it were the file `path`.
    pub fn scan_bytes(&self, source: &str, path: &str, data: &[u8]) -> FileResult {
        let mut out = FileResult::default();
        Engine::new(self.opts.max_findings_per_rule).scan(&self.rules, &self.fp, source, path, data, &mut out);
        out
    }

    fn threads(&self) -> usize {
        if self.opts.threads > 0 {
            self.opts.threads
        } else {
            std::thread::available_parallelism().map_or(2, usize::from)
        }
    }
}

/// Files that mark a project root: agents are grouped by the nearest directory holding one.
pub(crate) const PROJECT_MARKERS: [&str; 12] = [
    "pyproject.toml",
    "setup.py",
    "requirements.txt",
    "Pipfile",
    "package.json",
    "go.mod",
    "Cargo.toml",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "Gemfile",
    "composer.json",
];

/// Trees nested deeper than this are not descended into (history and working tree); the cut is
/// reported as an `error` issue naming the path prefix. Real repositories stay far below it (the
/// Linux kernel's deepest path has about a dozen components); a hostile one can nest thousands.
pub const MAX_TREE_DEPTH: usize = 256;

/// Tree objects larger than this are not read (their size comes from the object header, so a
/// hostile, highly compressed tree is never inflated); the cut is reported as an `error` issue.
/// A directory of 100,000 files makes a tree of about 5 MiB.
pub const MAX_TREE_BYTES: u64 = 64 << 20;

/// Paths longer than this many bytes are not scanned (history and working tree) and are reported
/// as an `error` issue naming the path prefix; 4096 is Linux's `PATH_MAX`, so such a path
/// cannot be checked out there anyway.
pub const MAX_PATH_BYTES: usize = 4096;

/// Findings of one rule in one file past this many are counted, not reported (the default of
/// [`ScanOptions::max_findings_per_rule`]).
pub const DEFAULT_MAX_FINDINGS_PER_RULE: usize = 1000;

/// How many leading bytes decide whether a file is binary.
pub(crate) const BINARY_PROBE: usize = 8192;

/// The beginning of a path, for a message: at most 200 bytes, then `…`.
pub(crate) fn shown_prefix(prefix: &str) -> String {
    const SHOWN: usize = 200;
    if prefix.is_empty() {
        return "/".to_owned();
    }
    if prefix.len() <= SHOWN {
        return prefix.to_owned();
    }
    let mut end = SHOWN;
    while !prefix.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &prefix[..end])
}

/// True when a file's first 8 KiB hold a NUL byte.
pub(crate) fn looks_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(BINARY_PROBE)]).is_some()
}

/// Sorts findings: severity (highest first), then source, path, line.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.source.cmp(&b.source))
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| a.line.cmp(&b.line))
            .then_with(|| a.column.cmp(&b.column))
            .then_with(|| a.rule_id.cmp(&b.rule_id))
    });
}
