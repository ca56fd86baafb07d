//! The wasmtime host: one engine per process, one fresh store per plugin run.

mod imports;
mod state;

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store, Trap, UpdateDeadline};
use wasmtime_wasi::WasiCtx;
use wasmtime_wasi_http::WasiHttpCtx;

use crate::bindings::roster::connector::types;
use crate::bindings::{Connector, ConnectorPre};
use crate::cache::CodeCache;
use crate::convert::Collected;
use crate::egress::{Egress, HttpLimits, RequestLog, RequestLogs};
use crate::manifest::Manifest;
use roster_model::RunStatus;
use state::{MemoryLimiter, RunState};

/// How many plugin runs [`Host::run_all`] lets run at once; the others wait their turn.
pub const MAX_CONCURRENT_RUNS: usize = 16;

/// Bounds on one plugin run.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Wall time for the whole run.
    pub time: Duration,
    /// Linear memory, in bytes.
    pub memory: usize,
    /// Records (identities, credentials, permissions, events) accepted.
    pub max_records: usize,
    /// Approximate bytes of record text accepted.
    pub max_output_bytes: usize,
    /// Log lines kept (more are counted and dropped).
    pub max_log_lines: usize,
    /// HTTP bounds.
    pub http: HttpLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            time: Duration::from_secs(600),
            memory: 256 << 20,
            max_records: 2_000_000,
            max_output_bytes: 1 << 30,
            max_log_lines: 1000,
            http: HttpLimits::default(),
        }
    }
}

/// An export file handed to a plugin.
#[derive(Clone, Debug)]
pub struct ExportFile {
    /// The name shown in messages.
    pub name: String,
    /// What it is (`credential-report`, ...).
    pub format: String,
    /// Its bytes.
    pub data: Vec<u8>,
}

/// Called with (source, done, total, message) as a plugin reports progress.
pub type ProgressFn = Arc<dyn Fn(&str, u64, Option<u64>, &str) + Send + Sync>;

/// Everything one run needs.
#[derive(Clone)]
pub struct RunRequest {
    /// The configured source name (`[[source]] name`).
    pub source: String,
    /// The connector name, for messages.
    pub connector: String,
    /// Settings passed to the plugin (never credentials).
    pub config: Vec<(String, String)>,
    /// Export files passed to the plugin.
    pub files: Vec<ExportFile>,
    /// What it may reach, and with which credentials.
    pub manifest: Arc<Manifest>,
    /// Time, memory and output bounds.
    pub limits: Limits,
    /// Progress callback.
    pub progress: Option<ProgressFn>,
}

/// A log line from a plugin.
#[derive(Clone, Debug)]
pub struct LogLine {
    /// `trace`, `debug`, `info`, `warn` or `error`.
    pub level: &'static str,
    /// The text (cut to 4 KiB).
    pub message: String,
}

/// What one run produced. Records emitted before a failure are kept.
#[derive(Debug)]
pub struct RunOutcome {
    /// Identities with their credentials and permissions.
    pub identities: Vec<roster_model::Identity>,
    /// Audit-log events.
    pub activities: Vec<roster_model::Activity>,
    /// Code repositories listed by a code host.
    pub repositories: Vec<roster_model::Repository>,
    /// How the run ended.
    pub run: roster_model::ConnectorRun,
    /// Every request the plugin made, as the host saw it.
    pub requests: Vec<RequestLog>,
    /// The plugin's log.
    pub logs: Vec<LogLine>,
}

/// A loaded, verified plugin, ready to instantiate.
pub struct Plugin {
    name: String,
    sha256: String,
    pre: ConnectorPre<RunState>,
}

impl Plugin {
    /// The name it was loaded under.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The sha256 of its component bytes (hex).
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

struct Inner {
    engine: Engine,
    linker: Linker<RunState>,
    cache: Option<CodeCache>,
    cache_problem: Option<String>,
    stop: Arc<AtomicBool>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The plugin host. Cheap to clone.
#[derive(Clone)]
pub struct Host {
    inner: Arc<Inner>,
}

/// The epoch advances every millisecond; a running plugin yields to the executor at each tick,
/// so a CPU-bound plugin cannot starve other plugins' I/O.
const TICK: Duration = Duration::from_millis(1);

impl Host {
    /// Creates the engine and linker. `cache` keeps compiled plugins between runs (see
    /// [`CodeCache`]); an untrusted cache directory is not used ([`Host::cache_problem`]).
    pub fn new(cache: Option<CodeCache>) -> Result<Self> {
        let mut cfg = Config::new();
        cfg.epoch_interruption(true);
        cfg.max_wasm_stack(1 << 20);
        let engine = Engine::new(&cfg).map_err(|e| anyhow::anyhow!("cannot start the plugin engine: {e:#}"))?;
        let mut linker = Linker::<RunState>::new(&engine);
        link(&mut linker).map_err(|e| anyhow::anyhow!("cannot link the plugin interfaces: {e:#}"))?;
        let stop = Arc::new(AtomicBool::new(false));
        {
            let engine = engine.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("roster-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(TICK);
                        engine.increment_epoch();
                    }
                })
                .context("cannot start the plugin timer thread")?;
        }
        let cache_problem = cache
            .as_ref()
            .and_then(|c| c.trusted_dir().err())
            .map(|e| e.to_string());
        Ok(Self {
            inner: Arc::new(Inner {
                engine,
                linker,
                cache,
                cache_problem,
                stop,
            }),
        })
    }

    /// Loads a plugin from its component bytes, after checking them against the pinned sha256.
    /// Compiled code is cached by content hash and engine settings.
    pub fn load(&self, name: &str, wasm: &[u8], pinned_sha256: Option<&str>) -> Result<Plugin> {
        let sha = sha256_hex(wasm);
        if let Some(pin) = pinned_sha256
            && !pin.trim().eq_ignore_ascii_case(&sha)
        {
            bail!("plugin {name}: sha256 is {sha}, but the config pins {pin}; refusing to run a changed plugin");
        }
        let component = self.compile(name, wasm, &sha)?;
        for (import, _) in component.component_type().imports(&self.inner.engine) {
            if import.starts_with("wasi:sockets/") {
                bail!(
                    "plugin {name} imports {import}: connectors may not open sockets; use wasi:http through the host"
                );
            }
        }
        let pre = self
            .inner
            .linker
            .instantiate_pre(&component)
            .map_err(|e| anyhow::anyhow!("plugin {name} cannot be linked: {e:#}"))?;
        let pre = ConnectorPre::new(pre)
            .map_err(|e| anyhow::anyhow!("plugin {name} does not implement roster:connector@0.1.0: {e:#}"))?;
        Ok(Plugin {
            name: name.to_string(),
            sha256: sha,
            pre,
        })
    }

    fn compile(&self, name: &str, wasm: &[u8], sha: &str) -> Result<Component> {
        let engine = &self.inner.engine;
        let Some(cache) = self.inner.cache.as_ref().filter(|_| self.inner.cache_problem.is_none()) else {
            return Component::new(engine, wasm)
                .map_err(|e| anyhow::anyhow!("plugin {name} is not a valid component: {e:#}"));
        };
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        let file = format!("{sha}-{:016x}.cwasm", h.finish());
        if let Some(c) = cache.load(&file).and_then(|bytes| deserialize_own(engine, &bytes).ok()) {
            return Ok(c);
        }
        let compiled = engine
            .precompile_component(wasm)
            .map_err(|e| anyhow::anyhow!("plugin {name} is not a valid component: {e:#}"))?;
        cache.store(&file, &compiled);
        deserialize_own(engine, &compiled).map_err(|e| anyhow::anyhow!("plugin {name}: {e:#}"))
    }

    /// Why the compiled-plugin cache is not used, if it is not (plugins are then compiled in
    /// memory on every run).
    pub fn cache_problem(&self) -> Option<&str> {
        self.inner.cache_problem.as_deref()
    }

    /// Runs one plugin's `collect` in a fresh store. Never fails: a plugin that breaks a bound or
    /// traps ends with `status = "failed"` and an error naming it; what it emitted is kept.
    pub async fn run(&self, plugin: &Plugin, mut req: RunRequest) -> RunOutcome {
        let started = Instant::now();
        let limits = req.limits.clone();
        let requests = Arc::new(Mutex::new(RequestLogs::default()));
        let state = RunState {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            http: WasiHttpCtx::new(),
            egress: Egress::new(req.manifest.clone(), limits.http.clone(), requests.clone()),
            limiter: MemoryLimiter {
                limit: limits.memory,
                total: 0,
                exceeded: None,
            },
            deadline: started + limits.time,
            timed_out: false,
            out: Collected::new(&req.source, limits.max_records, limits.max_output_bytes),
            logs: Vec::new(),
            dropped_logs: 0,
            max_logs: limits.max_log_lines,
            progress: req.progress.clone(),
            source: req.source.clone(),
        };
        let mut store = Store::new(&self.inner.engine, state);
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|mut ctx| {
            if Instant::now() >= ctx.data().deadline {
                ctx.data_mut().timed_out = true;
                Err(Trap::Interrupt.into())
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        let request = types::CollectRequest {
            config: req.config.clone(),
            // Moved, not copied: export files can be large.
            files: std::mem::take(&mut req.files)
                .into_iter()
                .map(|f| types::ExportFile {
                    name: f.name,
                    format: f.format,
                    data: f.data,
                })
                .collect(),
        };
        let outcome = {
            let run = async {
                let conn: Connector = plugin.pre.instantiate_async(&mut store).await?;
                conn.call_collect(&mut store, &request).await
            };
            // The epoch deadline stops running wasm; this stops a plugin parked on host I/O.
            tokio::time::timeout(limits.time + Duration::from_millis(250), run).await
        };
        let state = store.into_data();
        let name = &plugin.name;
        let secs = limits.time.as_secs_f64();
        let (status, error, notes) = match outcome {
            Err(_) => (
                RunStatus::Failed,
                Some(format!(
                    "plugin {name}: time limit of {secs}s exceeded (waiting on I/O)"
                )),
                vec![],
            ),
            Ok(Err(e)) => (RunStatus::Failed, Some(trap_message(name, &e, &state, secs)), vec![]),
            Ok(Ok(Err(e))) => (
                RunStatus::Failed,
                Some(format!("plugin {name}: {}", connector_error(&e))),
                vec![],
            ),
            Ok(Ok(Ok(summary))) if summary.complete && state.out.limit_note.is_none() => {
                (RunStatus::Complete, None, summary.notes)
            }
            Ok(Ok(Ok(summary))) => (RunStatus::Incomplete, None, summary.notes),
        };
        let log = std::mem::take(&mut *requests.lock().unwrap_or_else(|e| e.into_inner()));
        let denied = log.denied;
        let mut notes = notes;
        if log.dropped > 0 {
            notes.push(format!(
                "{} request(s) over the audit log's limit of {} were not logged ({} denied in all)",
                log.dropped, limits.http.max_logged, log.denied
            ));
        }
        if let Some(n) = &state.out.limit_note {
            notes.push(n.clone());
        }
        if denied > 0 {
            notes.push(format!(
                "{denied} request(s) outside the manifest were refused (see the request log)"
            ));
        }
        if state.dropped_logs > 0 {
            notes.push(format!(
                "{} log line(s) over the limit were dropped",
                state.dropped_logs
            ));
        }
        let status = if status == RunStatus::Complete && denied > 0 {
            RunStatus::Incomplete
        } else {
            status
        };
        let crate::convert::Finished {
            identities,
            activities,
            repositories,
            counts,
            notes: mut orphan_notes,
        } = state.out.finish();
        notes.append(&mut orphan_notes);
        let run = roster_model::ConnectorRun {
            source: req.source.clone(),
            connector: req.connector.clone(),
            status,
            error,
            notes,
            identities: counts.identities,
            credentials: counts.credentials,
            activities: counts.activities,
            requests: log.total,
            denied_requests: denied,
            elapsed_ms: started.elapsed().as_millis() as u64,
        };
        RunOutcome {
            identities,
            activities,
            repositories,
            run,
            requests: log.entries,
            logs: state.logs,
        }
    }

    /// Runs several plugins concurrently on the current tokio runtime, at most
    /// `MAX_CONCURRENT_RUNS` (16) at once (an AWS organization fans out to one run per account);
    /// results in input order. A run's time limit starts when it starts.
    pub async fn run_all(&self, jobs: Vec<(Arc<Plugin>, RunRequest)>) -> Vec<RunOutcome> {
        let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_RUNS));
        let mut handles = Vec::new();
        for (plugin, req) in jobs {
            let host = self.clone();
            let source = req.source.clone();
            let connector = req.connector.clone();
            let slots = slots.clone();
            handles.push((
                source,
                connector,
                tokio::spawn(async move {
                    // The semaphore is never closed, so acquiring only waits.
                    let _slot = slots.acquire_owned().await;
                    host.run(&plugin, req).await
                }),
            ));
        }
        let mut out = Vec::new();
        for (source, connector, h) in handles {
            out.push(h.await.unwrap_or_else(|e| RunOutcome {
                identities: vec![],
                activities: vec![],
                repositories: vec![],
                run: roster_model::ConnectorRun {
                    source,
                    connector,
                    status: RunStatus::Failed,
                    error: Some(format!("the host task running this source failed: {e}")),
                    ..Default::default()
                },
                requests: vec![],
                logs: vec![],
            }));
        }
        out
    }
}

fn trap_message(name: &str, e: &wasmtime::Error, state: &RunState, secs: f64) -> String {
    if state.timed_out {
        return format!("plugin {name}: time limit of {secs}s exceeded; stopped");
    }
    if let Some(m) = &state.limiter.exceeded {
        return format!("plugin {name}: {m}; stopped");
    }
    if let Some(m) = &state.out.fatal {
        return format!("plugin {name}: {m}; stopped");
    }
    let what = match e.downcast_ref::<Trap>() {
        Some(Trap::UnreachableCodeReached) => "trapped (panic or abort in the plugin)".to_string(),
        Some(t) => format!("trapped: {t}"),
        None => format!("failed: {}", first_line(&e.root_cause().to_string())),
    };
    let frame = e
        .downcast_ref::<wasmtime::WasmBacktrace>()
        .and_then(|bt| bt.frames().iter().find_map(|f| f.func_name().map(str::to_string)));
    match frame {
        Some(f) => format!("plugin {name} {what} in {f}"),
        None => format!("plugin {name} {what}"),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

fn connector_error(e: &types::ConnectorError) -> String {
    match e {
        types::ConnectorError::Config(m) => format!("configuration error: {m}"),
        types::ConnectorError::Denied(m) => format!("access denied: {m}"),
        types::ConnectorError::Upstream(m) => format!("provider error: {m}"),
        types::ConnectorError::Internal(m) => format!("internal error: {m}"),
    }
}

/// The sha256 of a plugin's bytes, as the config pins it (lowercase hex).
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Turns bytes this host precompiled back into a component.
#[allow(
    unsafe_code,
    reason = "deserializing precompiled code: only bytes this host produced"
)]
fn deserialize_own(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: callers pass only the output of `Engine::precompile_component` of an engine with
    // the same settings: produced in this process, or read back from the cache after its HMAC
    // (under a key this installation keeps in its state database) proved this host wrote it.
    unsafe { Component::deserialize(engine, bytes) }
}

/// Links WASI (clocks, random, stdio, and environment and filesystem with nothing in them; the
/// empty context denies every socket), wasi:http and Roster's own imports. A plugin that imports
/// `wasi:sockets` at all is refused in [`Host::load`] before it can be instantiated.
fn link(linker: &mut Linker<RunState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)?;
    Connector::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    Ok(())
}

/// Counts received, for [`roster_model::ConnectorRun`].
#[derive(Default)]
pub(crate) struct Counts {
    pub identities: u64,
    pub credentials: u64,
    pub activities: u64,
}
