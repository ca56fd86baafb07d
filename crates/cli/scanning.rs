//! What `roster scan` (and `discover`'s `[scan]`) is asked to do, and doing it: the scanner over
//! working trees and histories, incremental state, the baseline, `--validate`, and the report
//! the outputs make.

use anyhow::{Context, Result, bail};
use roster_model::{Report, ScanStats};
use roster_rules::RuleSet;
use roster_scan::{Baseline, Fingerprinter, GitOptions, Progress, ScanOptions, ScanOutput, Scanner};
use std::io::{IsTerminal as _, Write as _};
use std::sync::Arc;

use crate::args::{self, ScanArgs};
use crate::{ProgressLine, config, load_rules, private, state};

/// What to scan and how: from `roster scan`'s flags, or built by `discover` from its `[scan]`
/// table.
pub(crate) struct ScanRequest {
    pub paths: Vec<std::path::PathBuf>,
    pub git: Vec<std::path::PathBuf>,
    pub since: Option<String>,
    pub all_refs: bool,
    pub staged: bool,
    pub incremental: bool,
    /// The scope incremental state is kept under.
    pub scope: String,
    pub baseline: Option<std::path::PathBuf>,
    pub rules: Vec<std::path::PathBuf>,
    pub gitleaks_config: Vec<std::path::PathBuf>,
    pub respect_gitignore: bool,
    pub exclude: Vec<String>,
    /// MiB.
    pub max_file_size: u64,
    pub max_findings_per_rule: usize,
    pub follow_symlinks: bool,
    pub threads: usize,
    pub state_dir: Option<std::path::PathBuf>,
    /// The configuration's `database_url` (the fingerprint key is in that database).
    pub database_url: Option<String>,
    pub progress: bool,
    /// Ask the providers whether the secrets found are live.
    pub validate: bool,
    /// Validation endpoint prefixes replaced.
    pub validate_endpoints: Vec<(String, String)>,
}

impl ScanRequest {
    /// Working trees and histories with the defaults `roster scan` has.
    pub fn new(paths: Vec<std::path::PathBuf>, git: Vec<std::path::PathBuf>) -> Self {
        Self {
            paths,
            git,
            since: None,
            all_refs: false,
            staged: false,
            incremental: false,
            scope: roster_store::DEFAULT_SCOPE.to_owned(),
            baseline: None,
            rules: vec![],
            gitleaks_config: vec![],
            respect_gitignore: false,
            exclude: vec![],
            max_file_size: args::DEFAULT_MAX_FILE_MIB,
            max_findings_per_rule: roster_scan::DEFAULT_MAX_FINDINGS_PER_RULE,
            follow_symlinks: false,
            threads: 0,
            state_dir: None,
            database_url: None,
            progress: std::io::stderr().is_terminal(),
            validate: false,
            validate_endpoints: vec![],
        }
    }
}

impl From<&ScanArgs> for ScanRequest {
    fn from(a: &ScanArgs) -> Self {
        Self {
            paths: a.paths.clone(),
            git: a.git.clone(),
            since: a.since.clone(),
            all_refs: a.all_refs,
            staged: a.staged,
            incremental: a.incremental,
            scope: a
                .scope
                .clone()
                .unwrap_or_else(|| roster_store::DEFAULT_SCOPE.to_owned()),
            baseline: a.baseline.clone(),
            rules: a.rules.clone(),
            gitleaks_config: a.gitleaks_config.clone(),
            respect_gitignore: a.respect_gitignore,
            exclude: a.exclude.clone(),
            max_file_size: a.max_file_size,
            max_findings_per_rule: a.max_findings_per_rule,
            follow_symlinks: a.follow_symlinks,
            threads: a.threads,
            state_dir: a.state_dir.clone(),
            database_url: None,
            progress: std::io::stderr().is_terminal() && !a.no_progress,
            validate: a.validate,
            validate_endpoints: a.validate_endpoint.clone(),
        }
    }
}

/// `--validate`: asks the providers about the secrets found, records every request in the state
/// directory's audit.jsonl, and says on the terminal what was checked.
fn validate(report: &mut Report, rules: &RuleSet, state_dir: &std::path::Path, args: &ScanRequest) -> Result<()> {
    if args.progress {
        eprint!("roster: validating secrets with their providers…");
    }
    let opts = roster_verify::Options {
        endpoints: args.validate_endpoints.clone(),
        ..roster_verify::Options::default()
    };
    let done = roster_verify::validate(&mut report.findings, rules, &opts);
    if args.progress {
        eprint!("\r\x1b[2K");
    }
    let audit_path = state_dir.join("audit.jsonl");
    let mut audit = private::append(&audit_path).with_context(|| format!("cannot write {}", audit_path.display()))?;
    for r in &done.requests {
        let line = serde_json::json!({"source": "validate", "request": r});
        writeln!(audit, "{line}").with_context(|| format!("cannot write {}", audit_path.display()))?;
    }
    let s = &done.stats;
    eprintln!(
        "roster: validated {} distinct secret(s) with their providers: {} live, {} revoked, {} unknown, {} error; \
         {} had no endpoint to ask (requests in {})",
        s.checked,
        s.live,
        s.revoked,
        s.unknown,
        s.error,
        s.not_checkable,
        audit_path.display()
    );
    report.stats.validation = Some(done.stats);
    Ok(())
}

/// Runs the scan `args` describe. Findings still hold their raw secrets (in memory only): the
/// caller clears them before rendering.
pub(crate) fn run_scan(args: &ScanRequest) -> Result<(Report, Arc<RuleSet>)> {
    if args.paths.is_empty() && args.git.is_empty() {
        bail!("nothing to scan: give a PATH (files) or --git REPO (history); see `roster scan --help`");
    }
    let baseline = match &args.baseline {
        Some(p) => Some(Baseline::load(p)?),
        None => None,
    };
    config::check_scope(&args.scope).with_context(|| format!("--scope {:?}", args.scope))?;
    let rules = Arc::new(load_rules(&args.rules, &args.gitleaks_config)?);
    let dir = state::state_dir(args.state_dir.as_deref())?;
    let mut store = state::open_store(&dir, args.database_url.as_deref())?;
    let key = state::fingerprint_key(&dir, &mut store)?;
    let counters = Arc::new(Progress::default());
    let opts = ScanOptions {
        respect_gitignore: args.respect_gitignore,
        exclude: args.exclude.clone(),
        max_file_size: args.max_file_size.saturating_mul(1024 * 1024),
        follow_symlinks: args.follow_symlinks,
        threads: args.threads,
        progress: Some(Arc::clone(&counters)),
        max_findings_per_rule: args.max_findings_per_rule,
    };
    let scanner = Scanner::new(Arc::clone(&rules), Fingerprinter::new(key), opts);
    let started = std::time::Instant::now();
    let outputs = {
        let _progress = ProgressLine::start(counters, args.progress);
        let mut outputs = scanner.scan_paths(&args.paths);
        for repo in &args.git {
            let hidden = if args.incremental {
                state::scanned_tips(&dir, &mut store, &args.scope, repo)?
            } else {
                Vec::new()
            };
            let git = GitOptions {
                since: args.since.clone(),
                all_refs: args.all_refs,
                hidden,
                staged: args.staged,
            };
            let (out, tips) = scanner.scan_git(repo, &git);
            if args.incremental && !out.issues.iter().any(|i| i.level == "error") {
                state::record_tips(&mut store, &args.scope, repo, &tips.0)?;
            }
            outputs.push(out);
        }
        outputs
    };
    let mut report = assemble(&rules, outputs, &args.paths, &args.git);
    report.stats.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if let Some(b) = &baseline {
        let before = report.findings.len();
        report.findings.retain(|f| !b.contains(f));
        report.stats.suppressed_baseline = (before - report.findings.len()) as u64;
    }
    if args.validate {
        validate(&mut report, &rules, &dir, args)?;
    }
    for i in report.issues.iter().filter(|i| i.level == "error") {
        eprintln!("roster: warning: {}: {}", i.source, i.message);
    }
    // Per-rule caps are `skipped` issues too; they are counted apart from skipped files.
    let capped = |i: &&roster_model::ScanIssue| i.message.contains("--max-findings-per-rule");
    let skipped = report.issues.iter().filter(|i| i.level == "skipped").count();
    let capped = report
        .issues
        .iter()
        .filter(|i| i.level == "skipped")
        .filter(capped)
        .count();
    if skipped > capped {
        eprintln!(
            "roster: note: {} file(s) skipped (see the report's `issues`)",
            skipped - capped
        );
    }
    if capped > 0 {
        eprintln!(
            "roster: note: {} finding(s) not reported: {capped} rule(s) matched more than \
             --max-findings-per-rule ({}) times in a file (see the report's `issues`)",
            report.stats.findings_over_cap, args.max_findings_per_rule
        );
    }
    // Rules of an imported gitleaks config that cannot be compiled were left out (load_rules
    // warned): the report says which, so that a scan that ran without them never reads as if it
    // applied them.
    report
        .issues
        .extend(rules.skipped().iter().map(|s| roster_model::ScanIssue {
            level: "skipped".into(),
            source: s.origin.clone(),
            message: format!("rule {} was not applied: it cannot be compiled: {}", s.id, s.reason),
        }));
    Ok((report, rules))
}

/// Builds the report from scan outputs.
fn assemble(
    rules: &RuleSet,
    outputs: Vec<ScanOutput>,
    paths: &[std::path::PathBuf],
    repos: &[std::path::PathBuf],
) -> Report {
    let agents = roster_scan::build_agents(rules, &outputs);
    let mut stats = ScanStats::default();
    let mut findings = Vec::new();
    let mut issues = Vec::new();
    for o in outputs {
        stats.add(&o.stats);
        findings.extend(o.findings);
        issues.extend(o.issues);
    }
    roster_scan::sort_findings(&mut findings);
    let mut sources: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    sources.extend(repos.iter().map(|p| format!("git:{}", p.display())));
    Report {
        sources,
        incomplete: issues.iter().any(|i| i.level == "error"),
        stats,
        findings,
        agents,
        issues,
        ..Report::empty(env!("CARGO_PKG_VERSION"))
    }
}
