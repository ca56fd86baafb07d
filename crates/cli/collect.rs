//! `roster collect`: runs the connector sources configured in roster.toml, each as a sandboxed
//! plugin, concurrently, and gathers their identities into the report.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use roster_model::{ConnectorRun, Report, RunStatus};
use roster_plugin_host::{Auth, CodeCache, ExportFile, Host, Limits, RunRequest};

use crate::config::Config;
use crate::config::fan_out;
use crate::sources::{plugin_code, prepare, setting_text};

/// What `collect` gathered, for [`merge_into`].
pub struct Collected {
    pub(crate) identities: Vec<roster_model::Identity>,
    pub(crate) activities: Vec<roster_model::Activity>,
    pub(crate) repositories: Vec<roster_model::Repository>,
    pub(crate) runs: Vec<ConnectorRun>,
    /// Each prepared source's endpoint and credential, by source name: the repository fetch
    /// reuses them (and a minted token's cache) instead of setting them up again.
    pub(crate) auths: BTreeMap<String, (Option<String>, Auth)>,
}

/// Runs every configured source. A source that cannot start or fails is reported in its
/// `ConnectorRun`; the others go on.
pub fn collect(config_path: &Path, cfg: &Config, state_dir: &Path, progress: bool) -> Result<Collected> {
    let base = config_path.parent().unwrap_or(Path::new(".")).to_path_buf();
    // The audit log and the plugin cache live here: private from the start.
    crate::state::private_dir(state_dir)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .event_interval(4)
        .enable_all()
        .thread_name("roster-connector")
        .build()
        .context("cannot start the connector runtime")?;
    let (cache_dir, cache_key) = match crate::state::chosen_plugin_cache()? {
        Some(chosen) => chosen,
        None => {
            let mut store = crate::state::open_store(state_dir, cfg.database_url.as_deref())?;
            (
                state_dir.join("plugin-cache"),
                crate::state::plugin_cache_key(&mut store)?,
            )
        }
    };
    let host = Host::new(Some(CodeCache::new(cache_dir, cache_key)))?;
    if let Some(why) = host.cache_problem() {
        #[allow(clippy::print_stderr, reason = "a warning the user can act on")]
        {
            eprintln!("roster: warning: {why}; compiled connectors are not cached");
        }
    }
    let mut auths = BTreeMap::new();
    let shown: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();
    let progress_fn: Option<roster_plugin_host::ProgressFn> = progress.then(|| {
        let shown = shown.clone();
        Arc::new(move |source: &str, done: u64, total: Option<u64>, msg: &str| {
            let mut s = shown.lock().unwrap_or_else(|e| e.into_inner());
            let of = total.map(|t| format!("/{t}")).unwrap_or_default();
            s.insert(source.to_string(), format!("{source}: {done}{of} {msg}"));
            let line: Vec<&str> = s.values().map(String::as_str).collect();
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2Kcollecting: {}", line.join(" | "));
            let _ = err.flush();
        }) as roster_plugin_host::ProgressFn
    });

    let mut runs: Vec<ConnectorRun> = vec![];
    let mut jobs = vec![];
    // The role each fan-out run signs with, by run name: a failure names it.
    let mut assumed: BTreeMap<String, String> = BTreeMap::new();
    for src in &cfg.sources {
        let mut fail = |source: String, e: anyhow::Error| {
            let run = ConnectorRun {
                source,
                connector: src.connector.clone(),
                status: RunStatus::Failed,
                error: Some(format!("{e:#}")),
                ..Default::default()
            };
            eprintln!(
                "roster: source {} failed: {}",
                run.source,
                run.error.as_deref().unwrap_or_default()
            );
            runs.push(run);
        };
        let prepared = (|| -> Result<_> {
            let code = plugin_code(src, &base)?;
            if code.explicit && src.sha256.is_none() {
                let sha = roster_plugin_host::sha256_hex(&code.wasm);
                bail!(
                    "source {}: plugin {} is not pinned; after reviewing it, add sha256 = \"{sha}\" to its [[source]]",
                    src.name(),
                    code.origin
                );
            }
            let plugin = host.load(&src.connector, &code.wasm, src.sha256.as_deref())?;
            let prepared = rt.block_on(prepare(src, &base))?;
            let mut files = vec![];
            for f in &src.files {
                let p = base.join(&f.path);
                let data =
                    std::fs::read(&p).with_context(|| format!("source {}: cannot read {}", src.name(), p.display()))?;
                files.push(ExportFile {
                    name: f.path.display().to_string(),
                    format: f.format.clone(),
                    data,
                });
            }
            let mut config: Vec<(String, String)> = src
                .settings
                .iter()
                .filter(|(k, _)| !prepared.host_settings.contains(k.as_str()))
                .map(|(k, v)| (k.clone(), setting_text(v)))
                .collect();
            // A connector with a profile gets the endpoint the host resolved; one without, the
            // source's own.
            let endpoint = prepared.endpoint.clone().or_else(|| src.endpoint_url.clone());
            for (k, v) in [("region", &src.region), ("endpoint_url", &endpoint)] {
                if let Some(v) = v {
                    config.push((k.to_string(), v.clone()));
                }
            }
            for (name, url) in &prepared.other_endpoints {
                config.push((format!("endpoint_url.{name}"), url.clone()));
            }
            auths.insert(src.name().to_string(), prepared.host_auth());
            let mut limits = Limits {
                time: Duration::from_secs(src.timeout_secs.unwrap_or(600)),
                memory: src.memory_mib.unwrap_or(256) << 20,
                ..Limits::default()
            };
            if let Some(n) = src.http_retries {
                limits.http.max_retries = n;
            }
            Ok((
                Arc::new(plugin),
                RunRequest {
                    source: src.name().to_string(),
                    connector: src.connector.clone(),
                    config,
                    files,
                    manifest: Arc::new(prepared.manifest),
                    limits,
                    progress: progress_fn.clone(),
                },
            ))
        })();
        let fan_out = prepared.and_then(|job| Ok((job, fan_out(src)?)));
        match fan_out {
            Ok((job, None)) => jobs.push(job),
            Ok((job, Some(f))) => {
                // One run per account, named `<source>/<account id>`, each with the role assumed
                // there; an account whose role cannot be assumed fails alone.
                let manifests = rt.block_on(roster_credentials::aws_org::account_manifests(
                    &job.1.manifest,
                    f.accounts.as_deref(),
                    &f.role_name,
                    f.external_id.as_deref(),
                    src.endpoint_url.as_deref(),
                ));
                match manifests {
                    Ok(list) => {
                        for (account, manifest) in list {
                            let source = format!("{}/{account}", src.name());
                            match manifest {
                                Ok(m) => {
                                    assumed
                                        .insert(source.clone(), format!("arn:aws:iam::{account}:role/{}", f.role_name));
                                    let mut req = job.1.clone();
                                    req.source = source;
                                    req.manifest = Arc::new(m);
                                    jobs.push((job.0.clone(), req));
                                }
                                Err(e) => fail(source, anyhow::anyhow!(e)),
                            }
                        }
                    }
                    Err(e) => fail(src.name().to_string(), anyhow::anyhow!("source {}: {e}", src.name())),
                }
            }
            Err(e) => fail(src.name().to_string(), e),
        }
    }
    let outcomes = rt.block_on(host.run_all(jobs));
    if progress {
        eprint!("\r\x1b[2K");
    }
    let mut identities = vec![];
    let mut activities = vec![];
    let mut repositories = vec![];
    let audit_path = state_dir.join("audit.jsonl");
    let mut audit = crate::private::append(&audit_path).ok();
    for mut o in outcomes {
        if let (Some(role), Some(e)) = (assumed.get(&o.run.source), o.run.error.as_mut()) {
            *e = format!("signing as {role}: {e}");
        }
        for l in o.logs.iter().filter(|l| matches!(l.level, "warn" | "error")) {
            if std::io::stderr().is_terminal() || l.level == "error" {
                #[allow(clippy::print_stderr, reason = "plugin warnings go to the terminal")]
                {
                    eprintln!(
                        "{} [{}]: {}",
                        o.run.source,
                        l.level,
                        roster_report::one_line(&l.message)
                    );
                }
            }
        }
        if let Some(f) = audit.as_mut() {
            for r in &o.requests {
                let line = serde_json::json!({"source": o.run.source, "connector": o.run.connector, "request": r});
                let _ = writeln!(f, "{line}");
            }
        }
        if o.run.status != RunStatus::Complete {
            let why = o
                .run
                .error
                .clone()
                .or_else(|| o.run.notes.first().cloned())
                .unwrap_or_default();
            let why = roster_report::one_line(&why);
            eprintln!("roster: source {} {}: {why}", o.run.source, o.run.status);
        }
        identities.extend(o.identities);
        activities.extend(o.activities);
        repositories.extend(o.repositories);
        runs.push(o.run);
    }
    Ok(Collected {
        identities,
        activities,
        repositories,
        runs,
        auths,
    })
}

/// The endpoint and credential of each of `sources`, as `collect` prepares them: for fetching
/// the repositories a code host listed in another process (a shard).
pub fn auths(
    config_path: &Path,
    sources: &[&crate::config::SourceConfig],
) -> Result<BTreeMap<String, (Option<String>, Auth)>> {
    let base = config_path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the credential setup")?;
    let mut out = BTreeMap::new();
    for src in sources {
        out.insert(src.name().to_string(), rt.block_on(prepare(src, &base))?.host_auth());
    }
    Ok(out)
}

/// Puts collected records into a report; a source that did not complete marks it incomplete.
pub fn merge_into(report: &mut Report, c: Collected) {
    let Collected {
        identities,
        activities,
        repositories,
        runs,
        ..
    } = c;
    for r in &repositories {
        let problem = r.scan.as_deref().and_then(|s| {
            s.strip_prefix("failed: ")
                .map(|why| format!("repository {} was not scanned: {why}", r.full_name))
                .or_else(|| {
                    s.strip_prefix("stale: ")
                        .map(|why| format!("repository {}: {why}", r.full_name))
                })
        });
        if let Some(message) = problem {
            report.incomplete = true;
            report.issues.push(roster_model::ScanIssue {
                level: "error".into(),
                source: format!("connector:{}", r.source),
                message,
            });
        }
    }
    report.repositories.extend(repositories);
    report.incomplete |= runs.iter().any(|r| r.status != RunStatus::Complete);
    for r in &runs {
        if let Some(e) = &r.error {
            report.issues.push(roster_model::ScanIssue {
                level: "error".into(),
                source: format!("connector:{}", r.source),
                message: e.clone(),
            });
        }
        for n in &r.notes {
            report.issues.push(roster_model::ScanIssue {
                level: "error".into(),
                source: format!("connector:{}", r.source),
                message: n.clone(),
            });
        }
    }
    report.identities.extend(identities);
    report.activities.extend(activities);
    report.connectors.extend(runs);
}
