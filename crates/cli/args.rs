//! Command-line arguments. A flag's doc comment is its help.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Roster finds and accounts for the non-human workforce: AI agents, service accounts, API keys
/// and OAuth grants. `roster scan` finds committed credentials and AI agent workloads in files
/// and git history.
#[derive(Debug, Parser)]
#[command(name = "roster", version = env!("ROSTER_VERSION"), about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files, directories and git history for credentials and AI agents.
    Scan(ScanArgs),
    /// Run the connector sources configured in roster.toml (sandboxed plugins) and report the
    /// identities, credentials and activity they collect.
    Collect(CollectArgs),
    /// The whole pipeline from roster.toml: scan the configured code, run the connectors,
    /// correlate against the agent registry, and report the ownership gaps.
    Discover(DiscoverArgs),
    /// Work with the agent registry (agents.toml).
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Show the gaps that are new and resolved between two discover runs of one scope (default:
    /// its last two).
    Diff(DiffArgs),
    /// List the discover runs recorded in the state directory, with their scopes.
    Runs(RunsArgs),
    /// Run the whole pipeline on the bundled sample organization and write its reports.
    Demo(DemoArgs),
    /// Serve a read-only web dashboard and JSON API (/api/v1/) over the recorded runs.
    Serve(ServeArgs),
    /// Baselines: accepted findings (a file, for `scan` in CI) and accepted gaps (in roster.db,
    /// for `discover`).
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Check or list detection rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// List the connectors built into this binary, with their versions and SHA-256 hashes.
    Connectors {
        /// Output format: text or json.
        #[arg(short = 'f', long, default_value = "text")]
        format: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Scan, and write every finding into a baseline file (no raw secrets: salted hashes).
    Create(BaselineCreateArgs),
    /// Accept gaps of the last discover run: they stay in the report, marked accepted, and stop
    /// failing `--fail-on` until the acceptance lapses.
    Accept(AcceptArgs),
    /// List the accepted gaps.
    List {
        /// Output format: text or json.
        #[arg(short = 'f', long, default_value = "text")]
        format: String,
        /// The state directory holding roster.db; default as for `scan`.
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },
    /// Take gaps out of the baseline: they fail `--fail-on` again.
    Revoke {
        /// Gap ids (`gap-` + 16 hex).
        #[arg(value_name = "GAP_ID", required = true)]
        ids: Vec<String>,
        /// The state directory holding roster.db; default as for `scan`.
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct AcceptArgs {
    /// Gap ids from the last run (`gap-` + 16 hex; see report.json or gaps.csv).
    #[arg(value_name = "GAP_ID", required_unless_present = "all")]
    pub ids: Vec<String>,
    /// Accept every gap of the last run (adopting Roster on an existing estate).
    #[arg(long, conflicts_with = "ids")]
    pub all: bool,
    /// Why: a ticket, a compensating control. Required.
    #[arg(long)]
    pub reason: String,
    /// The scope whose last run the gaps are taken from (see `roster runs`); default: the scope of --config.
    #[arg(long, value_name = "NAME")]
    pub scope: Option<String>,
    /// Read the runs of this configuration's scope (its `scope` setting, else one derived from
    /// its path); default roster.toml when it exists, else the only scope with runs.
    #[arg(long, value_name = "FILE", conflicts_with = "scope")]
    pub config: Option<PathBuf>,

    /// The acceptance lapses on this date (YYYY-MM-DD); without it, it never does.
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// The state directory holding roster.db; default as for `scan`.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BaselineCreateArgs {
    #[command(flatten)]
    pub scan: ScanArgs,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Check rule files: they load, their regexes compile, and their examples behave.
    Check {
        /// Rule files (Roster TOML).
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
        /// Treat the files as gitleaks configs.
        #[arg(long)]
        gitleaks: bool,
    },
    /// List the loaded rules.
    List {
        /// Also load these rule files.
        #[arg(long = "rules", value_name = "FILE")]
        rules: Vec<PathBuf>,
        /// Output format: text or json.
        #[arg(long, default_value = "text", value_name = "FORMAT")]
        format: String,
    },
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    /// The configuration: `[[source]]` tables naming a connector and its settings.
    #[arg(long, default_value = "roster.toml", value_name = "FILE")]
    pub config: PathBuf,
    /// Output format: text, json or jsonl.
    #[arg(short = 'f', long, default_value = "text")]
    pub format: String,
    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// State directory (plugin cache, request audit log); default as for `scan`.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// No progress line, even on a terminal.
    #[arg(long)]
    pub no_progress: bool,

    /// Exit 0 (or 1 for findings) even when a source could not be fully read. By default such
    /// a run exits 3, so that a scheduled or CI run that read less than it was asked to never
    /// looks clean.
    #[arg(long)]
    pub allow_incomplete: bool,
}

#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// The configuration: `[scan]`, `registry`, `[thresholds]` and `[[source]]` tables.
    #[arg(long, default_value = "roster.toml", value_name = "FILE")]
    pub config: PathBuf,
    /// Directory to write the reports into (report.html, report.json, report.md, gaps.csv,
    /// report.sarif).
    #[arg(long, default_value = "roster-report", value_name = "DIR")]
    pub output_dir: PathBuf,
    /// The agent registry (overrides `registry` in the config).
    #[arg(long, value_name = "FILE")]
    pub registry: Option<PathBuf>,
    /// Measure time thresholds from this date (YYYY-MM-DD) instead of now, for exports taken
    /// earlier; overrides `as_of` in the config.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Exit 1 when a gap is at or above this severity (critical, high, medium, low, info), or
    /// never with "none".
    #[arg(long, default_value = "none", value_name = "SEVERITY")]
    pub fail_on: String,
    /// Where Roster keeps its fingerprint key, plugin cache and run history; default as for `scan`.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Record the run in this scope: runs, diffs and first/last seen are kept per scope.
    /// Overrides the config's `scope`; without either, the scope is derived from the config
    /// file's path, so each configuration has its own history.
    #[arg(long, value_name = "NAME")]
    pub scope: Option<String>,
    /// No progress line, even on a terminal.
    #[arg(long)]
    pub no_progress: bool,

    /// Exit 0 (or 1 for findings) even when a source could not be fully read. By default such
    /// a run exits 3, so that a scheduled or CI run that read less than it was asked to never
    /// looks clean.
    #[arg(long)]
    pub allow_incomplete: bool,

    /// Sharded discovery (docs/scale.md): the run's id, the same for every shard and the merge
    /// (e.g. the Kubernetes Job's name).
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// Do shard K (from 0) of N of the run's work units and record them in the state database
    /// (PostgreSQL, shared by the shards); no report is written.
    #[arg(long, value_name = "K/N", requires = "run_id")]
    pub shard: Option<crate::shard::ShardSpec>,
    /// Put the run's N shards together once all finished: correlate, record the run, notify and
    /// write the reports, as a run on one machine. With --shard, shard 0 does it after its own
    /// share, waiting for the others (one command for every pod of an Indexed Job).
    #[arg(long, requires = "run_id")]
    pub merge: bool,
    /// With --shard 0/N --merge: how long to wait for the other shards before giving up.
    #[arg(long, value_name = "SECONDS", default_value_t = 3 * 3600)]
    pub merge_wait_secs: u64,
}

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Draft registry entries for the agents a discover run found unregistered, for their
    /// owners to confirm.
    Init {
        /// The discover run's JSON report.
        #[arg(long, default_value = "roster-report/report.json", value_name = "FILE")]
        report: PathBuf,
        /// Write the drafts to FILE (which must not exist) instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier run's number (default: the one before `--to`).
    #[arg(long, value_name = "RUN")]
    pub from: Option<i64>,
    /// The later run's number (default: the last run).
    #[arg(long, value_name = "RUN")]
    pub to: Option<i64>,
    /// Output format: text or json.
    #[arg(short = 'f', long, default_value = "text")]
    pub format: String,
    /// The state directory holding roster.db; default as for `scan`.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// The scope whose runs to read (see `roster runs`); default: the scope of --config.
    #[arg(long, value_name = "NAME")]
    pub scope: Option<String>,
    /// Read the runs of this configuration's scope (its `scope` setting, else one derived from
    /// its path); default roster.toml when it exists, else the only scope with runs.
    #[arg(long, value_name = "FILE", conflicts_with = "scope")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// List only the runs of this scope (default: every run).
    #[arg(long, value_name = "NAME")]
    pub scope: Option<String>,
    /// Output format: text or json.
    #[arg(short = 'f', long, default_value = "text")]
    pub format: String,
    /// The state directory holding roster.db; default as for `scan`.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address and port to listen on. Without a token only a loopback address is allowed.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    pub listen: std::net::SocketAddr,
    /// A file holding the token every request must carry (instead of ROSTER_SERVE_TOKEN).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// The scope shown by default (default: the scope of the latest run).
    #[arg(long, value_name = "NAME")]
    pub scope: Option<String>,
    /// The state directory holding roster.db; default as for `scan`.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory to write the demo's reports into.
    #[arg(long, default_value = "roster-demo", value_name = "DIR")]
    pub output: PathBuf,
}

/// Files larger than this many MiB are skipped unless `--max-file-size` says otherwise.
pub const DEFAULT_MAX_FILE_MIB: u64 = 256;

#[derive(Debug, Args, Clone)]
pub struct ScanArgs {
    /// Files or directories to scan (working tree, not history).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Scan the history of this git repository (every blob reachable from every ref, once).
    #[arg(long = "git", value_name = "REPO")]
    pub git: Vec<PathBuf>,

    /// With --git: only the commits HEAD adds to BASE, as `git log BASE..HEAD` lists them (for
    /// a pull request: --since origin/main). BASE..TIP names another tip.
    #[arg(long, value_name = "BASE[..TIP]", requires = "git")]
    pub since: Option<String>,

    /// With --since: the commits any ref (branch, tag, remote) adds to BASE, not only HEAD's.
    #[arg(long, requires = "since")]
    pub all_refs: bool,

    /// With --git: scan only what is staged in the index (for pre-commit hooks).
    #[arg(long, requires = "git", conflicts_with_all = ["since", "incremental"])]
    pub staged: bool,

    /// With --git: skip commits the state dir records as already scanned, then record these.
    #[arg(long, requires = "git")]
    pub incremental: bool,

    /// With --incremental: keep the scanned commits under this scope (default "default"), so
    /// that two pipelines scanning one repository do not skip each other's commits.
    #[arg(long, value_name = "NAME", requires = "incremental")]
    pub scope: Option<String>,

    /// Output format: text, json, jsonl, sarif, csv or md.
    #[arg(long, short = 'f', default_value = "text", value_name = "FORMAT")]
    pub format: String,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit 1 when a finding is at or above this severity (critical, high, medium, low, info),
    /// or never with "none".
    #[arg(long, default_value = "low", value_name = "SEVERITY")]
    pub fail_on: String,

    /// Ignore findings recorded in this baseline file (see `roster baseline create`).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Load more rules from FILE (Roster TOML); they extend the built-ins.
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,

    /// Load rules from a gitleaks config FILE; they extend the built-ins.
    #[arg(long, value_name = "FILE")]
    pub gitleaks_config: Vec<PathBuf>,

    /// Skip files that .gitignore files ignore (by default everything is scanned).
    #[arg(long)]
    pub respect_gitignore: bool,

    /// Skip paths matching GLOB (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Skip files larger than this many MiB.
    #[arg(long, default_value_t = DEFAULT_MAX_FILE_MIB, value_name = "MIB")]
    pub max_file_size: u64,

    /// Report at most N findings of one rule in one file (0 = no cap).
    ///
    /// The rest are counted in the stats (`findings_over_cap`) and each capped file and rule is
    /// listed in the report's issues, so a file holding millions of matches stays cheap.
    #[arg(long, default_value_t = roster_scan::DEFAULT_MAX_FINDINGS_PER_RULE, value_name = "N")]
    pub max_findings_per_rule: usize,

    /// Follow symbolic links (loops are reported and skipped).
    #[arg(long)]
    pub follow_symlinks: bool,

    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    pub threads: usize,

    /// Print secrets in full in the report. Never use this in CI logs.
    #[arg(long)]
    pub show_secrets: bool,

    /// Ask each provider whether the secrets found are live: one request per distinct secret to
    /// the read-only endpoint its rule declares (GitHub /user, OpenAI's model list, AWS STS
    /// GetCallerIdentity...). Off by default: it sends the secrets to their own providers.
    #[arg(long)]
    pub validate: bool,

    /// With --validate: send a rule's requests elsewhere, as PREFIX=URL
    /// (`https://api.github.com=https://github.example.com/api/v3`). Repeatable.
    #[arg(long, value_name = "PREFIX=URL", requires = "validate", value_parser = endpoint_override)]
    pub validate_endpoint: Vec<(String, String)>,

    /// Where Roster keeps its fingerprint key and scan state (default: $ROSTER_STATE_DIR,
    /// else $XDG_STATE_HOME/roster, else ~/.local/state/roster).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// Never show a progress line.
    #[arg(long)]
    pub no_progress: bool,

    /// Exit 0 (or 1 for findings) even when a source could not be fully read. By default such
    /// a run exits 3, so that a scheduled or CI run that read less than it was asked to never
    /// looks clean.
    #[arg(long)]
    pub allow_incomplete: bool,
}

/// Parses `PREFIX=URL` for `--validate-endpoint`.
fn endpoint_override(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((from, to))
            if from.starts_with("https://") && (to.starts_with("https://") || to.starts_with("http://")) =>
        {
            Ok((from.to_owned(), to.to_owned()))
        }
        _ => Err("expected PREFIX=URL, e.g. https://api.github.com=https://github.example.com/api/v3".into()),
    }
}
