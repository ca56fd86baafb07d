//! The `roster` binary: argument parsing, configuration, progress, exit codes. The libraries do
//! the work.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the binary is where output goes"
)]

mod acceptances;
mod args;
mod codeowners;
mod collect;
mod config;
mod demo;
mod discover;
mod git_fetch;
mod history;
mod private;
mod profiles;
mod registry;
mod repos;
mod scanning;
mod serve;
mod shard;
mod sources;
mod state;

use anyhow::{Context, Result, bail};
use args::{BaselineCommand, Cli, CollectArgs, Command, RulesCommand, ScanArgs};
use clap::Parser as _;
use roster_model::{Report, Severity};
use roster_report::{Format, RuleInfo};
use roster_rules::{Flavor, RuleSet, RuleSetBuilder};
use roster_scan::{Baseline, Progress};
use std::io::{IsTerminal as _, Write as _};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub(crate) use scanning::{ScanRequest, run_scan};

/// Static Linux (musl) builds: musl's own allocator serializes threads.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc 3.3 keeps what a thread frees for a second before returning it to the system (its
/// `purge_delay`, 1000 ms): a history scan frees large buffers all along, and on containerd the
/// static binary peaked at 515–537 MB against 495–509 MB with glibc's allocator. Returned after
/// 10 ms (mimalloc 2's default) it peaks at 449–462 MB in the same time; at once (0 ms), 444–448
/// MB but slower (benches/README.md). `MIMALLOC_PURGE_DELAY` still overrides it.
#[cfg(target_env = "musl")]
#[allow(unsafe_code, reason = "mimalloc's options are set through its C API")]
fn tune_allocator() {
    /// `mi_option_purge_delay` in mimalloc 3.3's `mi_option_t` (include/mimalloc.h of
    /// libmimalloc-sys 0.1.49, the version Cargo.lock pins).
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one of mimalloc's options (an integer in a static table); any thread may.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 10) };
    }
}

fn main() -> ExitCode {
    #[cfg(target_env = "musl")]
    tune_allocator();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("roster: error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Scan(args) => scan(&args, false),
        Command::Baseline(BaselineCommand::Create(a)) => scan(&a.scan, true),
        Command::Baseline(BaselineCommand::Accept(a)) => acceptances::accept_command(&a),
        Command::Baseline(BaselineCommand::List { format, state_dir }) => {
            acceptances::baseline_list(&format, state_dir.as_deref())
        }
        Command::Baseline(BaselineCommand::Revoke { ids, state_dir }) => {
            acceptances::baseline_revoke(&ids, state_dir.as_deref())
        }
        Command::Collect(a) => collect_cmd(&a),
        Command::Demo(a) => demo::run(&a.output),
        Command::Discover(a) => discover::command(&a),
        Command::Diff(a) => history::diff_command(&a),
        Command::Runs(a) => history::runs_command(&a),
        Command::Serve(a) => serve::command(&a),
        Command::Registry(args::RegistryCommand::Init { report, output }) => registry::init(&report, output.as_deref()),
        Command::Rules(RulesCommand::Check { files, gitleaks }) => rules_check(&files, gitleaks),
        Command::Rules(RulesCommand::List { rules, format }) => rules_list(&rules, &format),
        Command::Connectors { format } => profiles::list_command(&format),
    }
}

/// Loads the built-ins plus the user's files; prints load warnings.
fn load_rules(user: &[std::path::PathBuf], gitleaks: &[std::path::PathBuf]) -> Result<RuleSet> {
    let mut b = RuleSetBuilder::new().with_builtin();
    for (files, flavor) in [(user, Flavor::Roster), (gitleaks, Flavor::Gitleaks)] {
        for f in files {
            let text = std::fs::read_to_string(f).with_context(|| format!("cannot read rules file {}", f.display()))?;
            b.add(f.display().to_string(), text, flavor);
        }
    }
    let set = b.build().map_err(|e| anyhow::anyhow!("rules do not load:\n{e}"))?;
    for w in set.warnings() {
        eprintln!("roster: warning: {w}");
    }
    Ok(set)
}

/// Redacts every secret the rules find in what the report carries from outside: commit
/// summaries, authors, paths, provider names and descriptions, evidence
/// ([`roster_scan::Scrubber`]). The findings' raw secrets (memory only) are kept.
fn scrub(report: &mut Report, rules: &RuleSet) -> Result<()> {
    let raws: Vec<_> = report.findings.iter_mut().map(|f| f.take_raw()).collect();
    roster_scan::Scrubber::new(rules)
        .scrub_all(report)
        .context("cannot redact the report")?;
    for (f, raw) in report.findings.iter_mut().zip(raws) {
        if raw.is_some() {
            f.extra_mut().raw = raw;
        }
    }
    Ok(())
}

fn rule_infos(set: &RuleSet) -> Vec<RuleInfo> {
    set.rules()
        .iter()
        .map(|r| RuleInfo {
            id: r.id.clone(),
            name: r.name.clone(),
            description: r.description.clone(),
            severity: r.severity,
            references: r.references.clone(),
        })
        .collect()
}

fn parse_fail_on(s: &str) -> Result<Option<Severity>> {
    if s.eq_ignore_ascii_case("none") || s.eq_ignore_ascii_case("never") {
        return Ok(None);
    }
    Severity::parse(s)
        .map(Some)
        .with_context(|| format!("--fail-on {s:?}: expected critical, high, medium, low, info or none"))
}

/// A progress line on stderr while work runs, only when stderr is a terminal.
struct ProgressLine {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl ProgressLine {
    fn start(counters: Arc<Progress>, enabled: bool) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let handle = enabled.then(|| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let started = std::time::Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(std::time::Duration::from_millis(150));
                    let items = counters.items.load(Ordering::Relaxed);
                    let bytes = counters.bytes.load(Ordering::Relaxed);
                    let total = counters.total.load(Ordering::Relaxed);
                    let found = counters.findings.load(Ordering::Relaxed);
                    let of = if total > 0 { format!("/{total}") } else { String::new() };
                    let mb = bytes as f64 / 1_048_576.0;
                    let rate = mb / started.elapsed().as_secs_f64().max(0.001);
                    eprint!("\r\x1b[2Kscanning: {items}{of} files, {mb:.1} MiB ({rate:.0} MiB/s), {found} findings");
                }
                eprint!("\r\x1b[2K");
            })
        });
        Self { stop, handle }
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn scan(args: &ScanArgs, baseline_mode: bool) -> Result<ExitCode> {
    let format = Format::parse(&args.format).with_context(|| {
        format!(
            "--format {:?}: expected text, json, jsonl, sarif, csv, md or ocsf",
            args.format
        )
    })?;
    let fail_on = parse_fail_on(&args.fail_on)?;
    if baseline_mode && args.output.is_none() {
        bail!("`roster baseline create` needs --output FILE for the baseline");
    }
    let (mut report, rules) = run_scan(&ScanRequest::from(args))?;
    scrub(&mut report, &rules)?;
    if baseline_mode {
        let out = args.output.as_deref().expect("checked above");
        let mut salt = [0u8; 32];
        getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
        private::write(out, Baseline::render(&report.findings, &salt))
            .with_context(|| format!("cannot write baseline {}", out.display()))?;
        eprintln!(
            "roster: baseline of {} finding(s) written to {}",
            report.findings.len(),
            out.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    for f in &mut report.findings {
        let raw = f.take_raw();
        if args.show_secrets
            && let Some(r) = raw
        {
            f.extra_mut().secret = Some(String::from_utf8_lossy(&r.0).into_owned());
        }
    }
    let text = roster_report::render(&report, format, &rule_infos(&rules));
    write_output(args.output.as_deref(), &text)?;
    if let Some(out) = &args.output {
        eprintln!(
            "roster: {} finding(s), {} agent(s); report written to {}",
            report.findings.len(),
            report.agents.len(),
            out.display()
        );
    }
    let failing = fail_on.is_some_and(|t| report.findings.iter().any(|f| f.severity >= t));
    Ok(exit_code(failing, report.incomplete, args.allow_incomplete))
}

/// The exit code of a run: 1 when something fails `--fail-on` (the CI gate), else 3 when a
/// source could not be fully read (unless `--allow-incomplete`), else 0. Errors that stop the
/// run exit 2 (`main`).
pub(crate) fn exit_code(failing: bool, incomplete: bool, allow_incomplete: bool) -> ExitCode {
    if failing {
        ExitCode::from(1)
    } else if incomplete && !allow_incomplete {
        eprintln!(
            "roster: incomplete: some sources could not be read (above, and in the report's issues); \
             exit 3 (--allow-incomplete accepts partial results)"
        );
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}

fn collect_cmd(args: &CollectArgs) -> Result<ExitCode> {
    let format = Format::parse(&args.format)
        .filter(|f| matches!(f, Format::Text | Format::Json | Format::Jsonl))
        .with_context(|| format!("--format {:?}: expected text, json or jsonl", args.format))?;
    let state = state::state_dir(args.state_dir.as_deref())?;
    let progress = std::io::stderr().is_terminal() && !args.no_progress;
    let cfg = config::load_config(&args.config)?;
    let collected = collect::collect(&args.config, &cfg, &state, progress)?;
    let mut report = assemble_empty();
    collect::merge_into(&mut report, collected);
    scrub(&mut report, &load_rules(&[], &[])?)?;
    let text = roster_report::render(&report, format, &[]);
    write_output(args.output.as_deref(), &text)?;
    let failed: Vec<&str> = report
        .connectors
        .iter()
        .filter(|c| c.status == roster_model::RunStatus::Failed)
        .map(|c| c.source.as_str())
        .collect();
    if let Some(out) = &args.output {
        eprintln!(
            "roster: {} identities from {} source(s); report written to {}",
            report.identities.len(),
            report.connectors.len(),
            out.display()
        );
    }
    if !failed.is_empty() {
        eprintln!(
            "roster: source(s) failed: {} (see the report's issues)",
            failed.join(", ")
        );
    }
    Ok(
        if !report.connectors.is_empty() && failed.len() == report.connectors.len() {
            ExitCode::from(2)
        } else {
            exit_code(false, report.incomplete, args.allow_incomplete)
        },
    )
}

/// A report with no scan in it, for commands that only collect.
fn assemble_empty() -> Report {
    Report::empty(env!("CARGO_PKG_VERSION"))
}

fn write_output(path: Option<&Path>, text: &str) -> Result<()> {
    match path {
        Some(p) => private::write(p, text).with_context(|| format!("cannot write report {}", p.display())),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .context("cannot write to standard output")?;
            out.flush().context("cannot write to standard output")
        }
    }
}

fn rules_check(files: &[std::path::PathBuf], gitleaks: bool) -> Result<ExitCode> {
    let mut b = RuleSetBuilder::new().with_builtin();
    let mut origins = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).with_context(|| format!("cannot read rules file {}", f.display()))?;
        let origin = f.display().to_string();
        // A file that is itself one of the built-ins replaces its embedded copy for the check.
        if let Some(name) = f.file_name().and_then(|n| n.to_str()) {
            b = b.without_builtin(name);
        }
        b.add(
            origin.clone(),
            text,
            if gitleaks { Flavor::Gitleaks } else { Flavor::Roster },
        );
        origins.push(origin);
    }
    let set = match b.build() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(1));
        }
    };
    for w in set.warnings() {
        eprintln!("warning: {w}");
    }
    let failures = roster_rules::check_rules(&set, |o| origins.iter().any(|x| x == o));
    let checked = set.rules().iter().filter(|r| origins.contains(&r.origin)).count();
    for f in &failures {
        eprintln!("{f}");
    }
    if failures.is_empty() {
        write_output(None, &format!("{checked} rule(s) OK\n"))?;
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{} problem(s) in {checked} rule(s)", failures.len());
        Ok(ExitCode::from(1))
    }
}

fn rules_list(files: &[std::path::PathBuf], format: &str) -> Result<ExitCode> {
    let set = load_rules(files, &[])?;
    let mut out = String::new();
    match format {
        "json" => {
            let v: Vec<serde_json::Value> = set
                .rules()
                .iter()
                .map(|r| {
                    serde_json::json!({"id": r.id, "name": r.name, "provider": r.provider, "kind": r.kind.as_str(),
                        "severity": r.severity, "category": r.category.map(|c| c.as_str()), "origin": r.origin,
                        "keywords": r.keywords, "references": r.references})
                })
                .collect();
            out = serde_json::to_string_pretty(&v)? + "\n";
        }
        "text" => {
            for r in set.rules() {
                out.push_str(&format!(
                    "{:<44} {:<8} {:<7} {}\n",
                    r.id,
                    r.severity.as_str(),
                    r.kind.as_str(),
                    r.name
                ));
            }
            out.push_str(&format!("{} rules\n", set.rules().len()));
        }
        other => bail!("--format {other:?}: expected text or json"),
    }
    write_output(None, &out)?;
    Ok(ExitCode::SUCCESS)
}
