//! `roster discover`: the whole pipeline. Scan the configured code, run the configured
//! connectors, correlate with the agent registry, and write the reports.

use crate::collect;
use crate::config::{self, Config};
use anyhow::{Context, Result};
use roster_correlate::Registry;
use roster_model::Report;
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
    let shared: BTreeMap<&str, roster_model::Text> =
        labels.iter().map(|(k, v)| (k.as_str(), v.as_str().into())).collect();
    for f in &mut report.findings {
        if let Some(l) = shared.get(f.source.as_str()) {
            f.source = l.clone();
        }
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

/// A scanned root: its path as resolved, and as the configuration names it.
pub(crate) type Root = (PathBuf, String);

/// What a run reads before any work: the configuration and what it names.
pub(crate) struct Setup {
    pub cfg: Config,
    pub scope: String,
    pub targets: Vec<roster_notify::Target>,
    /// "Now" for the time thresholds.
    pub as_of_ms: i64,
    /// The folder relative paths in the configuration start from.
    pub base: PathBuf,
    pub registry: Option<Registry>,
}

/// Reads the configuration, the scope, the notification targets and the registry: a problem in
/// the user's own configuration stops the run before any work, with the file and entry named.
pub(crate) fn setup(o: &Options) -> Result<Setup> {
    let cfg: Config = config::load_config(o.config)?;
    let scope = match o.scope {
        Some(s) => {
            crate::config::check_scope(s).with_context(|| format!("--scope {s:?}"))?;
            s.to_owned()
        }
        None => crate::state::config_scope(o.config, cfg.scope.as_deref())?,
    };
    // Notification targets read their secrets now: a variable that is not set stops the run
    // before any work, like every other problem of the user's own configuration.
    let targets = roster_notify::resolve(&cfg.notify, &|k| std::env::var(k).ok()).map_err(|p| {
        anyhow::anyhow!(
            "config {} has {} problem(s); nothing was run:\n  - {}",
            o.config.display(),
            p.len(),
            p.join("\n  - ")
        )
    })?;
    let as_of_ms = match o.as_of.or(cfg.as_of.as_deref()) {
        Some(d) => roster_model::parse_time(d)
            .with_context(|| format!("as_of {d:?} is not a date: write YYYY-MM-DD or an RFC 3339 time"))?,
        None => o.now_ms,
    };
    let base = o.config.parent().unwrap_or(Path::new(".")).to_path_buf();
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
    Ok(Setup {
        cfg,
        scope,
        targets,
        as_of_ms,
        base,
        registry,
    })
}

impl Setup {
    /// The `[scan]` paths and repositories: (as resolved, as the config writes them).
    pub fn roots(&self) -> (Vec<Root>, Vec<Root>) {
        let label = |p: &PathBuf| (resolve(&self.base, p), p.display().to_string());
        (
            self.cfg.scan.paths.iter().map(label).collect(),
            self.cfg.scan.repos.iter().map(label).collect(),
        )
    }
}

/// What a run gathers before correlation: the scan of its roots, its sources' records and its
/// roots' CODEOWNERS files. A whole run gathers everything; a shard, its share, which the merge
/// puts together (so it is stored, and never holds a raw secret).
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct Gathered {
    /// Findings (raw secrets cleared), agents, issues and records, named as configured.
    pub report: Report,
    /// Each root's CODEOWNERS: (file as named in the report, text), by the root's label.
    pub codeowners: BTreeMap<String, (String, String)>,
    /// Whether anything was scanned (the user's rule files then also redact the report).
    pub scanned: bool,
    /// The rules the scan ran with (a whole run's, not stored).
    #[serde(skip)]
    pub rules: Option<std::sync::Arc<roster_rules::RuleSet>>,
}

impl Gathered {
    /// Adds another share.
    pub fn absorb(&mut self, other: Gathered) {
        let (r, o) = (&mut self.report, other.report);
        r.sources.extend(o.sources);
        r.incomplete |= o.incomplete;
        r.stats.add(&o.stats);
        r.findings.extend(o.findings);
        r.agents.extend(o.agents);
        r.issues.extend(o.issues);
        r.identities.extend(o.identities);
        r.activities.extend(o.activities);
        r.connectors.extend(o.connectors);
        r.repositories.extend(o.repositories);
        self.codeowners.extend(other.codeowners);
        self.scanned |= other.scanned;
    }
}

/// Scans `paths` and `repos` (and the code-host repositories `fetched`), puts the `collected`
/// records in, and reads the roots' CODEOWNERS.
pub(crate) fn gather(
    o: &Options,
    s: &Setup,
    paths: &[Root],
    repos: &[Root],
    fetched: &[Root],
    collected: Option<collect::Collected>,
) -> Result<Gathered> {
    let scan_paths: Vec<PathBuf> = paths.iter().map(|(p, _)| p.clone()).collect();
    let scan_repos: Vec<PathBuf> = repos.iter().chain(fetched).map(|(p, _)| p.clone()).collect();
    let (mut report, rules) = if scan_paths.is_empty() && scan_repos.is_empty() {
        (crate::assemble_empty(), None)
    } else {
        let mut request = crate::ScanRequest::new(scan_paths, scan_repos);
        request.exclude = s.cfg.scan.exclude.clone();
        request.rules = s.cfg.scan.rules.iter().map(|r| resolve(&s.base, r)).collect();
        request.state_dir = Some(o.state_dir.to_path_buf());
        request.database_url = s.cfg.database_url.clone();
        request.progress = o.progress;
        request.validate = s.cfg.scan.validate;
        request.validate_endpoints = s.cfg.scan.validate_endpoints.clone().into_iter().collect();
        let (report, rules) = crate::run_scan(&request)?;
        (report, Some(rules))
    };
    // The strings findings repeat (rule, repository, path, commit) held once.
    let mut shared = roster_model::Interner::new();
    for f in &mut report.findings {
        f.take_raw();
        f.share_strings(&mut shared);
    }
    // Sources are named as the config writes them (relative to roster.toml), not as resolved:
    // agent and gap ids then stay the same whatever directory discover runs from.
    let labels: BTreeMap<String, String> = paths
        .iter()
        .chain(repos)
        .chain(fetched)
        .map(|(p, label)| (p.display().to_string(), label.clone()))
        .collect();
    relabel(&mut report, &labels);
    if let Some(c) = collected {
        collect::merge_into(&mut report, c);
    }
    let roots: Vec<(PathBuf, bool)> = (paths.iter().map(|(p, _)| (p.clone(), false)))
        .chain(repos.iter().chain(fetched).map(|(r, _)| (r.clone(), true)))
        .collect();
    let codeowners = crate::codeowners::codeowners_texts(&roots, &labels, &mut report.issues);
    Ok(Gathered {
        report,
        codeowners,
        scanned: rules.is_some(),
        rules,
    })
}

/// Runs the pipeline and writes the reports into `output_dir`.
pub fn run(o: &Options) -> Result<Discovery> {
    let s = setup(o)?;
    // Connectors first: a code host's repository list (`scan_repos`) feeds the history scan.
    let mut collected = if s.cfg.sources.is_empty() {
        None
    } else {
        Some(collect::collect(o.config, &s.cfg, o.state_dir, o.progress)?)
    };
    let fetched = match collected.as_mut() {
        Some(c) => crate::repos::fetch_repositories(&s.cfg, o.state_dir, c, o.progress)?,
        None => vec![],
    };
    let (paths, repos) = s.roots();
    let gathered = gather(o, &s, &paths, &repos, &fetched, collected)?;
    finish(o, s, gathered)
}

/// Puts a report's parts in one order, whatever order its shares were gathered in, so that a
/// merged run correlates exactly as a whole one.
fn canonical_order(r: &mut Report) {
    roster_scan::sort_findings(&mut r.findings);
    r.sources.sort();
    r.sources.dedup();
    r.agents.sort_by(|a, b| a.id.cmp(&b.id));
    r.identities.sort_by(|a, b| (&a.source, &a.id).cmp(&(&b.source, &b.id)));
    r.activities
        .sort_by(|a, b| (&a.source, &a.time, &a.id).cmp(&(&b.source, &b.time, &b.id)));
    r.repositories
        .sort_by(|a, b| (&a.source, &a.full_name).cmp(&(&b.source, &b.full_name)));
    r.connectors.sort_by(|a, b| a.source.cmp(&b.source));
    r.issues
        .sort_by(|a, b| (&a.source, &a.level, &a.message).cmp(&(&b.source, &b.level, &b.message)));
}

/// Correlates what was gathered, records the run, tells the notification targets and writes the
/// reports.
pub(crate) fn finish(o: &Options, s: Setup, gathered: Gathered) -> Result<Discovery> {
    let Gathered {
        mut report,
        codeowners,
        scanned,
        rules,
    } = gathered;
    canonical_order(&mut report);
    let owners = crate::codeowners::parse_codeowners(codeowners, &mut report.issues);
    let Setup {
        cfg,
        scope,
        targets,
        as_of_ms: now_ms,
        base,
        registry,
    } = s;
    let mut store = crate::state::open_store(o.state_dir, cfg.database_url.as_deref())?;
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

    // The rules the scan ran with redact the report (a merged run loads the same ones again).
    let rules = match rules {
        Some(r) => r,
        None if scanned => {
            let user: Vec<PathBuf> = cfg.scan.rules.iter().map(|r| resolve(&base, r)).collect();
            std::sync::Arc::new(crate::load_rules(&user, &[])?)
        }
        None => std::sync::Arc::new(crate::load_rules(&[], &[])?),
    };
    let infos = if scanned { crate::rule_infos(&rules) } else { vec![] };
    crate::scrub(&mut report, &rules)?;
    report.organization = cfg
        .organization
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_owned);
    // Record the run (all or nothing), and learn when each gap was first seen.
    crate::acceptances::apply_baseline(&mut report, &store.acceptances()?, o.now_ms);
    let config_name = std::fs::canonicalize(o.config).unwrap_or_else(|_| o.config.to_owned());
    let (run, first) = store.record(&report, o.now_ms, now_ms, &config_name.display().to_string(), &scope)?;
    for g in &mut report.gaps {
        g.first_seen = first.get(g.id.as_str()).cloned();
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

    // Tell the notification targets what changed; a delivery that fails is reported, never
    // fatal: the run is recorded and its reports are written whatever the receivers do.
    report.notifications = notify(&store, &targets, &scope, run, diff.as_ref(), &report, o.now_ms);
    for n in &report.notifications {
        if let Some(e) = &n.error {
            eprintln!(
                "roster: notify {:?} ({}): {}: {}",
                n.target,
                n.kind,
                n.status,
                roster_report::one_line(e)
            );
        }
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
    write(
        "report.ocsf.jsonl",
        roster_report::ocsf(&report, &infos, o.now_ms, "discover"),
    )?;
    Ok(Discovery {
        report,
        history,
        written,
    })
}

/// Delivers this run's changes (against the previous run of `scope`, `diff.from`) to `targets`.
fn notify(
    store: &roster_store::Store,
    targets: &[roster_notify::Target],
    scope: &str,
    run: i64,
    diff: Option<&roster_store::Diff>,
    report: &Report,
    started_ms: i64,
) -> Vec<roster_model::Notification> {
    if targets.is_empty() {
        return vec![];
    }
    let failed = |why: String| {
        targets
            .iter()
            .map(|t| roster_model::Notification {
                target: t.name.clone(),
                kind: t.kind().to_owned(),
                status: roster_model::DeliveryStatus::Failed,
                error: Some(why.clone()),
                ..Default::default()
            })
            .collect()
    };
    let previous = match diff {
        None => BTreeMap::new(),
        Some(d) => match store.run_gaps(scope, Some(d.from.id)) {
            Ok(g) => g.map(|(_, g)| g).unwrap_or_default(),
            Err(e) => return failed(format!("cannot read the previous run's gaps: {e}")),
        },
    };
    let changes = roster_notify::changes(&previous, &report.gaps, &report.findings);
    let info = roster_notify::RunInfo {
        scope: scope.to_owned(),
        run,
        previous_run: diff.map(|d| d.from.id),
        started: roster_model::format_millis(started_ms),
        roster_version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt.block_on(roster_notify::deliver(targets, &info, &changes)),
        Err(e) => failed(format!("cannot start the HTTP client: {e}")),
    }
}

/// `roster discover`.
pub fn command(args: &crate::args::DiscoverArgs) -> Result<std::process::ExitCode> {
    let fail_on = crate::parse_fail_on(&args.fail_on)?;
    let state = crate::state::state_dir(args.state_dir.as_deref())?;
    let o = Options {
        config: &args.config,
        registry: args.registry.as_deref(),
        output_dir: &args.output_dir,
        state_dir: &state,
        progress: std::io::stderr().is_terminal() && !args.no_progress,
        now_ms: now_ms(),
        as_of: args.as_of.as_deref(),
        scope: args.scope.as_deref(),
    };
    let d = match (&args.run_id, args.shard, args.merge) {
        (Some(id), Some(spec), merge) => {
            crate::write_output(None, &crate::shard::shard(&o, id, spec)?)?;
            // With --merge, shard 0 waits for the others and merges; the rest are done.
            if !(merge && spec.index == 0) {
                return Ok(std::process::ExitCode::SUCCESS);
            }
            let wait = std::time::Duration::from_secs(args.merge_wait_secs);
            crate::shard::merge(&o, id, Some((wait, i64::from(spec.count))))?
        }
        (Some(id), None, true) => crate::shard::merge(&o, id, None)?,
        (Some(_), None, false) => {
            anyhow::bail!(
                "--run-id names a sharded run: add --shard K/N (one shard's share) or --merge (put the shards together)"
            )
        }
        (None, ..) => run(&o)?,
    };
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
