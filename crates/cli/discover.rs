//! `roster discover`: the whole pipeline. Scan the configured code, run the configured
//! connectors, correlate with the agent registry, and write the reports.

use crate::collect;
use crate::config::{self, Config};
use anyhow::{Context, Result};
use roster_correlate::{CodeOwners, Registry};
use roster_model::{Report, ScanIssue, Severity};
use roster_report::Format;
use roster_scan::Fingerprinter;
use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

/// What a discover run produced, for the caller to print.
pub struct Discovery {
    /// The correlated report (raw secrets already cleared).
    pub report: Report,
    /// What changed since the previous run of the same scope, in a line (or two).
    pub history: String,
    /// The files written.
    pub written: Vec<PathBuf>,
}

/// Options of one run.
pub struct Options<'a> {
    pub config: &'a Path,
    pub registry: Option<&'a Path>,
    pub output_dir: &'a Path,
    pub state_dir: &'a Path,
    pub progress: bool,
    /// "Now" for the time thresholds, unless the config or `--as-of` says otherwise.
    pub now_ms: i64,
    /// `--as-of`: overrides the config's `as_of`.
    pub as_of: Option<&'a str>,
    /// `--scope`: overrides the config's `scope`.
    pub scope: Option<&'a str>,
}

fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() { p.to_path_buf() } else { base.join(p) }
}

/// Reads the CODEOWNERS file of each scanned root, where there is one.
/// Renames scanned sources (`labels`: resolved path → the path as configured) throughout.
fn relabel(report: &mut Report, labels: &BTreeMap<String, String>) {
    let label = |s: &mut String| {
        if let Some(l) = labels.get(s.as_str()) {
            s.clone_from(l);
        }
    };
    for f in &mut report.findings {
        label(&mut f.source);
    }
    for a in &mut report.agents {
        label(&mut a.source);
        a.id = format!("agent:{}:{}", a.source, a.path);
    }
    for i in &mut report.issues {
        label(&mut i.source);
    }
    for s in &mut report.sources {
        match s.strip_prefix("git:").map(str::to_owned) {
            Some(mut repo) => {
                label(&mut repo);
                *s = format!("git:{repo}");
            }
            None => label(s),
        }
    }
}

fn codeowners(
    roots: &[(PathBuf, bool)],
    labels: &BTreeMap<String, String>,
    issues: &mut Vec<ScanIssue>,
) -> BTreeMap<String, CodeOwners> {
    let mut out = BTreeMap::new();
    for (root, is_repo) in roots {
        // Named by the source as configured, so reports do not carry this machine's paths.
        let key = root.display().to_string();
        let label = labels.get(&key).cloned().unwrap_or(key);
        // A repository's owners are those of its default branch (what HEAD names), read from the
        // committed tree: never from a working tree, where a symlink could point anywhere.
        let repo = if *is_repo { gix::open(root).ok() } else { None };
        for rel in [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"] {
            let origin = format!("{}/{rel}", label.trim_end_matches('/'));
            let text = match &repo {
                Some(repo) => head_file(repo, rel),
                None => working_tree_file(root, rel),
            };
            let text = match text {
                Ok(Some(t)) => t,
                Ok(None) => continue,
                Err(why) => {
                    issues.push(ScanIssue {
                        level: "skipped".into(),
                        source: origin,
                        message: why,
                    });
                    continue;
                }
            };
            let (c, warnings) = CodeOwners::parse(&text, &origin);
            issues.extend(warnings.into_iter().map(|w| ScanIssue {
                level: "skipped".into(),
                source: origin.clone(),
                message: w,
            }));
            out.insert(label, c);
            break;
        }
    }
    out
}

/// The largest CODEOWNERS file read (GitHub ignores files over 3 MB).
const MAX_CODEOWNERS: u64 = 3 << 20;

/// A file's text at HEAD of a repository: `Ok(None)` when it is not there; an error when it is
/// there but not a regular file (a symlink), too large or not UTF-8.
fn head_file(repo: &gix::Repository, rel: &str) -> Result<Option<String>, String> {
    let Some(tree) = repo.head_commit().ok().and_then(|c| c.tree().ok()) else {
        return Ok(None);
    };
    let Ok(Some(entry)) = tree.lookup_entry_by_path(rel) else {
        return Ok(None);
    };
    if !entry.mode().is_blob() {
        return Err("not a regular file in the default branch (a symlink?): not read".into());
    }
    let blob = entry.object().map_err(|e| format!("cannot read: {e}"))?;
    if blob.data.len() as u64 > MAX_CODEOWNERS {
        return Err(format!("{} bytes, more than GitHub reads: not read", blob.data.len()));
    }
    String::from_utf8(blob.data.clone())
        .map(Some)
        .map_err(|_| "not UTF-8: not read".into())
}

/// A file's text in a working tree, read without following a symlink in `rel` (a `CODEOWNERS ->
/// ~/.aws/credentials` link must not put that file into the report).
fn working_tree_file(root: &std::path::Path, rel: &str) -> Result<Option<String>, String> {
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;
    let mut at = root.to_path_buf();
    let mut last = None;
    for part in rel.split('/') {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Err(_) => return Ok(None),
            Ok(m) if m.file_type().is_symlink() => {
                return Err(format!("{} is a symbolic link: not followed", at.display()));
            }
            Ok(m) => last = Some(m),
        }
    }
    let Some(seen) = last.filter(std::fs::Metadata::is_file) else {
        return Err("not a regular file: not read".into());
    };
    let file = std::fs::File::open(&at).map_err(|e| format!("cannot open: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot read: {e}"))?;
    // Swapped for a link between the check and the open: not what was checked.
    if (meta.dev(), meta.ino()) != (seen.dev(), seen.ino()) {
        return Err("changed while being read: not read".into());
    }
    let mut bytes = Vec::new();
    file.take(MAX_CODEOWNERS + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > MAX_CODEOWNERS {
        return Err("more than 3 MiB, more than GitHub reads: not read".into());
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| "not UTF-8: not read".into())
}

/// Runs the pipeline and writes the reports into `output_dir`.
pub fn run(o: &Options) -> Result<Discovery> {
    let cfg: Config = config::load_config(o.config)?;
    let scope = match o.scope {
        Some(s) => {
            crate::config::check_scope(s).with_context(|| format!("--scope {s:?}"))?;
            s.to_owned()
        }
        None => crate::state::config_scope(o.config, cfg.scope.as_deref())?,
    };
    let now_ms = match o.as_of.or(cfg.as_of.as_deref()) {
        Some(d) => roster_model::parse_time(d)
            .with_context(|| format!("as_of {d:?} is not a date: write YYYY-MM-DD or an RFC 3339 time"))?,
        None => o.now_ms,
    };
    let base = o.config.parent().unwrap_or(Path::new(".")).to_path_buf();
    let paths: Vec<PathBuf> = cfg.scan.paths.iter().map(|p| resolve(&base, p)).collect();
    let mut repos: Vec<PathBuf> = cfg.scan.repos.iter().map(|p| resolve(&base, p)).collect();

    // Registry first: a broken registry is the user's own config, so it stops the run before
    // any work is done, with the file and entry named.
    let registry = match o
        .registry
        .map(Path::to_path_buf)
        .or_else(|| cfg.registry.as_ref().map(|r| resolve(&base, r)))
    {
        Some(p) => {
            let text = std::fs::read_to_string(&p)
                .with_context(|| format!("cannot read the agent registry {}", p.display()))?;
            Some(Registry::parse(&text, &p.display().to_string()).map_err(anyhow::Error::msg)?)
        }
        None => None,
    };

    // Connectors first: a code host's repository list (`scan_repos`) feeds the history scan.
    let mut collected = if cfg.sources.is_empty() {
        None
    } else {
        Some(collect::collect(o.config, &cfg, o.state_dir, o.progress)?)
    };
    let fetched = match collected.as_mut() {
        Some(c) => crate::repos::fetch_repositories(&cfg, o.state_dir, c, o.progress)?,
        None => vec![],
    };
    repos.extend(fetched.iter().map(|(p, _)| p.clone()));

    let (mut report, rules) = if paths.is_empty() && repos.is_empty() {
        (crate::assemble_empty(), None)
    } else {
        let mut request = crate::ScanRequest::new(paths.clone(), repos.clone());
        request.exclude = cfg.scan.exclude.clone();
        request.rules = cfg.scan.rules.iter().map(|r| resolve(&base, r)).collect();
        request.state_dir = Some(o.state_dir.to_path_buf());
        request.progress = o.progress;
        let (report, rules) = crate::run_scan(&request)?;
        (report, Some(rules))
    };
    let infos = rules.as_deref().map(crate::rule_infos).unwrap_or_default();
    for f in &mut report.findings {
        f.raw = None;
    }
    // Sources are named as the config writes them (relative to roster.toml), not as resolved:
    // agent and gap ids then stay the same whatever directory discover runs from.
    let labels: BTreeMap<String, String> = cfg
        .scan
        .paths
        .iter()
        .zip(&paths)
        .chain(cfg.scan.repos.iter().zip(&repos))
        .map(|(written, resolved)| (resolved.display().to_string(), written.display().to_string()))
        .chain(
            fetched
                .iter()
                .map(|(p, label)| (p.display().to_string(), label.clone())),
        )
        .collect();
    relabel(&mut report, &labels);
    if let Some(c) = collected {
        collect::merge_into(&mut report, c);
    }

    let roots: Vec<(PathBuf, bool)> = (paths.iter().map(|p| (p.clone(), false)))
        .chain(repos.iter().map(|r| (r.clone(), true)))
        .collect();
    let owners = codeowners(&roots, &labels, &mut report.issues);
    let mut store = crate::state::open_store(o.state_dir)?;
    let fp = Fingerprinter::new(crate::state::fingerprint_key(o.state_dir, &mut store)?);
    let fingerprint = |b: &[u8]| fp.fingerprint(b);
    roster_correlate::correlate(
        &mut report,
        &roster_correlate::Context {
            now_ms,
            thresholds: cfg.thresholds,
            registry: registry.as_ref(),
            codeowners: &owners,
            fingerprint: Some(&fingerprint),
        },
    );

    let rules = match rules {
        Some(r) => r,
        None => std::sync::Arc::new(crate::load_rules(&[], &[])?),
    };
    crate::scrub(&mut report, &rules)?;
    // Record the run (all or nothing), and learn when each gap was first seen.
    apply_baseline(&mut report, &store.acceptances()?, o.now_ms);
    let config_name = std::fs::canonicalize(o.config).unwrap_or_else(|_| o.config.to_owned());
    let (run, first) = store.record(&report, o.now_ms, now_ms, &config_name.display().to_string(), &scope)?;
    for g in &mut report.gaps {
        g.first_seen = first.get(&g.id).cloned();
    }
    let diff = store.diff(&scope, None, Some(run))?;
    let mut history = diff_line(&scope, diff.as_ref());
    let earlier = store.runs(Some(roster_store::DEFAULT_SCOPE))?.len();
    if diff.is_none() && scope != roster_store::DEFAULT_SCOPE && earlier > 0 {
        let (default, config) = (roster_store::DEFAULT_SCOPE, o.config.display());
        history.push_str(&format!(
            "The state directory also holds {earlier} run(s) of scope \"{default}\" (runs recorded before scopes existed): \
             to continue that history, set scope = \"{default}\" in {config} or pass --scope {default}\n"
        ));
    }

    std::fs::create_dir_all(o.output_dir)
        .with_context(|| format!("cannot create the output folder {}", o.output_dir.display()))?;
    let mut written = vec![];
    let mut write = |name: &str, text: String| -> Result<()> {
        let p = o.output_dir.join(name);
        crate::private::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?;
        written.push(p);
        Ok(())
    };
    write("report.html", roster_report::render(&report, Format::Html, &infos))?;
    write("report.json", roster_report::render(&report, Format::Json, &infos))?;
    write("report.md", roster_report::render(&report, Format::Md, &infos))?;
    write("gaps.csv", roster_report::gaps_csv(&report))?;
    write("report.sarif", roster_report::render(&report, Format::Sarif, &infos))?;
    Ok(Discovery {
        report,
        history,
        written,
    })
}

/// `roster discover`.
pub fn command(args: &crate::args::DiscoverArgs) -> Result<std::process::ExitCode> {
    let fail_on = crate::parse_fail_on(&args.fail_on)?;
    let state = crate::state::state_dir(args.state_dir.as_deref())?;
    let d = run(&Options {
        config: &args.config,
        registry: args.registry.as_deref(),
        output_dir: &args.output_dir,
        state_dir: &state,
        progress: std::io::stderr().is_terminal() && !args.no_progress,
        now_ms: now_ms(),
        as_of: args.as_of.as_deref(),
        scope: args.scope.as_deref(),
    })?;
    let mut text = roster_report::gaps_text(&d.report);
    text.push_str(&d.history);
    for p in &d.written {
        text.push_str(&format!("Report: {}\n", p.display()));
    }
    crate::write_output(None, &text)?;
    let failing = fail_on.is_some_and(|t| d.report.gaps.iter().any(|g| g.accepted.is_none() && g.severity >= t));
    Ok(crate::exit_code(failing, d.report.incomplete, args.allow_incomplete))
}

/// The current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// One line saying what changed since the previous run of `scope`.
pub fn diff_line(scope: &str, d: Option<&roster_store::Diff>) -> String {
    match d {
        None => format!(
            "First run of scope {scope:?} in this state directory: `roster diff` compares the next run with this one.\n"
        ),
        Some(d) => format!(
            "Since run {} ({}) of scope {scope:?}: {} new gap(s), {} resolved, {} still open (see `roster diff`)\n",
            d.from.id,
            d.from.started,
            d.new.len(),
            d.resolved.len(),
            d.still_open.len()
        ),
    }
}

/// `roster diff`: new and resolved gaps between two stored runs of one scope.
pub fn diff_command(args: &crate::args::DiffArgs) -> Result<std::process::ExitCode> {
    let (store, db) = open_existing_store(args.state_dir.as_deref())?;
    // Runs named by number pick their own scope; --scope or --config then must agree.
    let named = match (&args.scope, &args.config, args.to.or(args.from)) {
        (None, None, Some(id)) => store.run(id)?.map(|r| r.scope),
        _ => None,
    };
    let scope = match named {
        Some(s) => s,
        None => crate::state::reading_scope(&store, args.scope.as_deref(), args.config.as_deref())?,
    };
    let Some(d) = store.diff(&scope, args.from, args.to)? else {
        let n = store.runs(Some(&scope))?.len();
        anyhow::bail!(
            "{} in scope {scope:?} of {}: run `roster discover` {} to have something to compare (scopes with runs: {})",
            if n == 0 {
                "no runs are recorded"
            } else {
                "only one run is recorded"
            },
            db.display(),
            if n == 0 { "twice" } else { "again" },
            crate::state::scope_list(&store)?
        );
    };
    let text = match args.format.as_str() {
        "json" => serde_json::to_string_pretty(&d)? + "\n",
        "text" => {
            let mut s = format!(
                "Scope {scope:?}: run {} ({}) -> run {} ({}): {} new, {} resolved, {} still open\n",
                d.from.id,
                d.from.started,
                d.to.id,
                d.to.started,
                d.new.len(),
                d.resolved.len(),
                d.still_open.len()
            );
            for (label, gaps) in [("NEW", &d.new), ("RESOLVED", &d.resolved)] {
                for g in gaps {
                    s.push_str(&format!(
                        "{label:<9} {:<8} {}  {}  ({})\n",
                        g.severity.as_str(),
                        g.kind,
                        g.title,
                        g.id
                    ));
                }
            }
            s
        }
        other => anyhow::bail!("--format {other:?}: expected text or json"),
    };
    crate::write_output(None, &text)?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// `roster runs`: the recorded runs with their scopes, oldest first.
pub fn runs_command(args: &crate::args::RunsArgs) -> Result<std::process::ExitCode> {
    let (store, db) = open_existing_store(args.state_dir.as_deref())?;
    if let Some(s) = &args.scope {
        crate::config::check_scope(s).with_context(|| format!("--scope {s:?}"))?;
    }
    let runs = store.runs(args.scope.as_deref())?;
    if let Some(s) = &args.scope
        && runs.is_empty()
    {
        anyhow::bail!(
            "no runs of scope {s:?} in {} (scopes with runs: {})",
            db.display(),
            crate::state::scope_list(&store)?
        );
    }
    let text = match args.format.as_str() {
        "json" => serde_json::to_string_pretty(&runs)? + "\n",
        "text" => {
            let width = runs.iter().map(|r| r.scope.len()).max().unwrap_or(0).max(5);
            let mut s = format!(
                "{:>4}  {:<width$}  {:<24}  {:>5}  CONFIG\n",
                "RUN", "SCOPE", "STARTED", "GAPS"
            );
            for r in &runs {
                s.push_str(&format!(
                    "{:>4}  {:<width$}  {:<24}  {:>5}  {}{}\n",
                    r.id,
                    r.scope,
                    r.started,
                    r.gaps,
                    r.config,
                    if r.incomplete { "  (incomplete)" } else { "" }
                ));
            }
            s
        }
        other => anyhow::bail!("--format {other:?}: expected text or json"),
    };
    crate::write_output(None, &text)?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// Whether an acceptance has lapsed: it holds through its `until` day (UTC).
fn lapsed(a: &roster_model::Acceptance, now_ms: i64) -> bool {
    a.until
        .as_deref()
        .and_then(roster_model::parse_time)
        .is_some_and(|t| now_ms >= t + 86_400_000)
}

/// Marks the gaps the organization accepted (`roster baseline accept`). An acceptance that has
/// lapsed (measured from the wall clock, not `as_of`), or whose gap became more severe since,
/// leaves the gap open, saying why.
fn apply_baseline(report: &mut Report, accepted: &BTreeMap<String, roster_store::AcceptedGap>, now_ms: i64) {
    for g in &mut report.gaps {
        let Some(x) = accepted.get(&g.id) else {
            continue;
        };
        let a = &x.acceptance;
        let why_open = if lapsed(a, now_ms) {
            Some(format!(
                "the acceptance lapsed after {}",
                a.until.as_deref().unwrap_or("?")
            ))
        } else if Severity::ALL
            .iter()
            .find(|s| s.as_str() == x.severity)
            .is_some_and(|was| g.severity > *was)
        {
            Some(format!("it was {} then and is {} now", x.severity, g.severity.as_str()))
        } else {
            None
        };
        match why_open {
            Some(why) => g.evidence.push(roster_model::Evidence {
                source: "baseline".into(),
                detail: format!("accepted on {} ({}), but {why}: decide again", a.accepted, a.reason),
                time: None,
            }),
            None => g.accepted = Some(Box::new(a.clone())),
        }
    }
}

/// Opens the state database that holds the runs, or says that nothing was recorded yet.
fn open_existing_store(state_dir: Option<&Path>) -> Result<(roster_store::Store, PathBuf)> {
    let state = crate::state::state_dir(state_dir)?;
    let db = state.join("roster.db");
    if !db.exists() {
        anyhow::bail!("no runs recorded in {}: run `roster discover` first", state.display());
    }
    Ok((crate::state::open_store(&state)?, db))
}

/// `roster baseline accept`.
pub fn accept_command(args: &crate::args::AcceptArgs) -> Result<std::process::ExitCode> {
    if args.reason.trim().is_empty() {
        anyhow::bail!("--reason is empty: say why the gap is accepted (a ticket, a compensating control)");
    }
    let until = match &args.until {
        Some(d) => {
            let t = roster_model::parse_time(d)
                .with_context(|| format!("--until {d:?} is not a date: write YYYY-MM-DD"))?;
            if t + 86_400_000 <= now_ms() {
                anyhow::bail!("--until {d} has passed: give a date from today on");
            }
            Some(roster_model::format_millis(t))
        }
        None => None,
    };
    let (mut store, _) = open_existing_store(args.state_dir.as_deref())?;
    let scope = crate::state::reading_scope(&store, args.scope.as_deref(), args.config.as_deref())?;
    let Some((run, gaps)) = store.run_gaps(&scope, None)? else {
        anyhow::bail!(
            "no runs recorded in scope {scope:?}: run `roster discover` first (scopes with runs: {})",
            crate::state::scope_list(&store)?
        );
    };
    let ids: Vec<String> = if args.all {
        gaps.keys().cloned().collect()
    } else {
        args.ids.clone()
    };
    let mut chosen = vec![];
    for id in &ids {
        chosen.push(gaps.get(id).with_context(|| {
            format!(
                "{id} is not a gap of the last run (run {run}) of scope {scope:?}; gap ids are in its report.json and gaps.csv"
            )
        })?);
    }
    let a = roster_model::Acceptance {
        reason: args.reason.trim().to_owned(),
        accepted: roster_model::format_millis(now_ms()),
        until,
        by: std::env::var("USER").ok().filter(|u| !u.is_empty()),
    };
    store.accept(&chosen, &a)?;
    crate::write_output(
        None,
        &format!(
            "Accepted {} gap(s) of run {run}{}; they no longer fail --fail-on (`roster baseline list` shows them)\n",
            chosen.len(),
            a.until.as_deref().map(|u| format!(" until {u}")).unwrap_or_default()
        ),
    )?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// `roster baseline list`.
pub fn baseline_list(format: &str, state_dir: Option<&Path>) -> Result<std::process::ExitCode> {
    let (store, _) = open_existing_store(state_dir)?;
    let all = store.acceptances()?;
    let text = match format {
        "json" => {
            let rows: Vec<_> = all
                .iter()
                .map(|(id, x)| serde_json::json!({"gap_id": id, "kind": x.kind, "title": x.title, "severity": x.severity, "acceptance": x.acceptance, "lapsed": lapsed(&x.acceptance, now_ms())}))
                .collect();
            serde_json::to_string_pretty(&rows)? + "\n"
        }
        "text" => {
            let mut s = format!("{} accepted gap(s)\n", all.len());
            for (id, x) in &all {
                let (kind, title, a) = (&x.kind, &x.title, &x.acceptance);
                s.push_str(&format!(
                    "{id}  {kind}  {title}{}\n    {} on {}{}{}\n",
                    if lapsed(a, now_ms()) { "  LAPSED" } else { "" },
                    a.reason,
                    a.accepted,
                    a.until.as_deref().map(|u| format!(", until {u}")).unwrap_or_default(),
                    a.by.as_deref().map(|b| format!(", by {b}")).unwrap_or_default()
                ));
            }
            s
        }
        other => anyhow::bail!("unknown format {other:?}: use text or json"),
    };
    crate::write_output(None, &text)?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// `roster baseline revoke`.
pub fn baseline_revoke(ids: &[String], state_dir: Option<&Path>) -> Result<std::process::ExitCode> {
    let (mut store, _) = open_existing_store(state_dir)?;
    let n = store.revoke(ids)?;
    if n < ids.len() {
        eprintln!(
            "roster: {} of the {} id(s) were not in the baseline",
            ids.len() - n,
            ids.len()
        );
    }
    crate::write_output(None, &format!("Revoked {n} acceptance(s)\n"))?;
    Ok(std::process::ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lapsed_acceptance_leaves_the_gap_open_and_says_so() {
        let mut r = Report::empty("test");
        let gap = |id: &str| {
            roster_model::Gap::new(
                id.into(),
                roster_model::GapKind::NoOwner,
                roster_model::Severity::High,
                id.into(),
                vec![],
            )
        };
        r.gaps = vec![gap("current"), gap("lapsed"), gap("other"), gap("worse")];
        r.gaps[3].severity = roster_model::Severity::Critical;
        let a = |until: Option<&str>| roster_model::Acceptance {
            reason: "SEC-1".into(),
            accepted: "2026-01-01T00:00:00Z".into(),
            until: until.map(str::to_owned),
            by: None,
        };
        let entry = |acceptance| roster_store::AcceptedGap {
            kind: "no-owner".into(),
            title: String::new(),
            severity: "high".into(),
            acceptance,
        };
        let accepted = BTreeMap::from([
            ("current".to_string(), entry(a(Some("2027-01-01T00:00:00Z")))),
            ("lapsed".to_string(), entry(a(Some("2026-06-01T00:00:00Z")))),
            ("worse".to_string(), entry(a(None))),
        ]);
        apply_baseline(&mut r, &accepted, roster_model::parse_time("2026-12-02").unwrap());
        assert!(r.gaps[0].accepted.is_some());
        assert!(r.gaps[1].accepted.is_none());
        assert!(
            r.gaps[1].evidence[0].detail.contains("lapsed after 2026-06-01"),
            "{:?}",
            r.gaps[1].evidence
        );
        assert!(r.gaps[2].accepted.is_none() && r.gaps[2].evidence.is_empty());
        // Accepted at high, critical now: open again.
        assert!(r.gaps[3].accepted.is_none());
        assert!(
            r.gaps[3].evidence[0]
                .detail
                .contains("it was high then and is critical now")
        );
        // The acceptance holds through its last day.
        let mut r2 = Report::empty("test");
        r2.gaps = vec![gap("current")];
        let last_day = BTreeMap::from([("current".to_string(), entry(a(Some("2026-12-02T00:00:00Z"))))]);
        apply_baseline(
            &mut r2,
            &last_day,
            roster_model::parse_time("2026-12-02T23:00:00Z").unwrap(),
        );
        assert!(r2.gaps[0].accepted.is_some());
    }
}
