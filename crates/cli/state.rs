//! The state directory and what lives in its database (`roster.db`): the per-installation
//! fingerprint key, what incremental history scans have covered, and which scope a run belongs
//! to. It never holds a raw secret.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// Resolves the state directory.
pub fn state_dir(flag: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = flag {
        return Ok(p.to_owned());
    }
    if let Some(p) = std::env::var_os("ROSTER_STATE_DIR").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    if let Some(p) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(p).join("roster"));
    }
    if let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(home).join(".local/state/roster"));
    }
    bail!("cannot find a state directory: set ROSTER_STATE_DIR or pass --state-dir")
}

/// Where the state database is: `$ROSTER_DATABASE_URL`, else the configuration's
/// `database_url`, else `roster.db` in the state directory `dir`.
pub fn location(dir: &Path, config_url: Option<&str>) -> Result<roster_store::Location> {
    let env = std::env::var("ROSTER_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty());
    let (url, from) = match (env, config_url) {
        (Some(u), _) => (Some(u), "ROSTER_DATABASE_URL"),
        (None, Some(u)) => (Some(u.to_owned()), "database_url in the configuration"),
        (None, None) => (None, ""),
    };
    roster_store::Location::new(url.as_deref(), dir).with_context(|| format!("{from} is not usable"))
}

/// Opens the state database (see [`location`]; `config_url` is the configuration's
/// `database_url`), creating the state directory (mode 0700) first: it also holds the audit
/// log, the plugin cache and fetched clones.
pub fn open_store(dir: &Path, config_url: Option<&str>) -> Result<roster_store::Store> {
    private_dir(dir)?;
    Ok(roster_store::Store::open_at(&location(dir, config_url)?)?)
}

/// Creates `dir` (and its parents) if missing, readable by this user only: the state directory
/// and the clones of fetched repositories. A directory that already exists (one the user gave)
/// keeps its permissions.
pub fn private_dir(dir: &Path) -> Result<()> {
    if !dir.exists() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .with_context(|| format!("cannot make {} private", dir.display()))?;
        }
    }
    Ok(())
}

/// Removes a file whose contents were imported into the database; another Roster running at the
/// same moment may have removed it first.
fn remove_imported(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {} (imported into roster.db)", path.display()))
        }
        _ => Ok(()),
    }
}

/// The fingerprint key: `$ROSTER_FINGERPRINT_KEY` (64 hex chars, to share fingerprints across
/// machines), else the key in the state database, created on first use. A `fingerprint.key`
/// file left by an earlier Roster is imported once (so fingerprints stay the same) and removed.
pub fn fingerprint_key(dir: &Path, store: &mut roster_store::Store) -> Result<[u8; 32]> {
    if let Ok(hex) = std::env::var("ROSTER_FINGERPRINT_KEY") {
        return parse_key(&hex).context("ROSTER_FINGERPRINT_KEY must be 64 hex characters");
    }
    let legacy = dir.join("fingerprint.key");
    let old = match std::fs::read_to_string(&legacy) {
        Ok(text) => Some(parse_key(&text).with_context(|| {
            format!(
                "{}: not a fingerprint key (64 hex characters); delete it to make a new one",
                legacy.display()
            )
        })?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", legacy.display())),
    };
    let candidate = match old {
        Some(k) => k,
        None => {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
            key
        }
    };
    let stored = store.meta_get_or_insert("fingerprint_key", &roster_scan::hex(&candidate))?;
    let key = parse_key(&stored).with_context(|| {
        format!(
            "the fingerprint key in {} is damaged; move the database aside to start again",
            dir.join("roster.db").display()
        )
    })?;
    if old == Some(key) {
        remove_imported(&legacy)?;
    } else if old.is_some() {
        eprintln!(
            "roster: {} differs from the key in roster.db, which is the one used; delete the file",
            legacy.display()
        );
    }
    Ok(key)
}

/// A plugin cache of the user's choosing: `ROSTER_PLUGIN_CACHE` names the folder (a CI cache
/// kept across jobs whose state folder is new each time) and `ROSTER_PLUGIN_CACHE_KEY` (64 hex
/// characters) the key that authenticates what is in it. The key must come from elsewhere (a CI
/// secret): a cache restored from a shared store could otherwise carry planted code. `None`
/// when neither is set (the state folder's cache is used); an error when only one is.
pub fn chosen_plugin_cache() -> Result<Option<(PathBuf, [u8; 32])>> {
    let dir = std::env::var_os("ROSTER_PLUGIN_CACHE").filter(|d| !d.is_empty());
    let key = std::env::var("ROSTER_PLUGIN_CACHE_KEY").ok().filter(|k| !k.is_empty());
    match (dir, key) {
        (None, None) => Ok(None),
        (Some(dir), Some(key)) => {
            let key = parse_key(&key).context("ROSTER_PLUGIN_CACHE_KEY must be 64 hex characters")?;
            Ok(Some((PathBuf::from(dir), key)))
        }
        (Some(_), None) => anyhow::bail!(
            "ROSTER_PLUGIN_CACHE is set without ROSTER_PLUGIN_CACHE_KEY: set the key too (64 hex \
             characters from a secret, e.g. `openssl rand -hex 32`), or unset the folder"
        ),
        (None, Some(_)) => anyhow::bail!(
            "ROSTER_PLUGIN_CACHE_KEY is set without ROSTER_PLUGIN_CACHE: name the cache folder too, or unset the key"
        ),
    }
}

/// The key that authenticates compiled connectors in the plugin cache, kept in the state
/// database (unless the user chose a cache of their own, [`chosen_plugin_cache`]): a `.cwasm`
/// file that another process planted in the cache does not carry its HMAC and is not loaded.
pub fn plugin_cache_key(store: &mut roster_store::Store) -> Result<[u8; 32]> {
    let mut candidate = [0u8; 32];
    getrandom::fill(&mut candidate).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    let stored = store.meta_get_or_insert("plugin_cache_key", &roster_scan::hex(&candidate))?;
    parse_key(&stored).context("the plugin cache key in roster.db is damaged; move the database aside to start again")
}

fn parse_key(text: &str) -> Result<[u8; 32]> {
    let bytes = roster_scan::unhex(text.trim()).context("not hex")?;
    bytes.try_into().map_err(|_| anyhow::anyhow!("not 32 bytes"))
}

/// The id incremental history state is kept under for `repo`: a keyed hash of its canonical
/// path, so the database does not list the machine's repositories in the clear.
fn repo_key(repo: &Path) -> String {
    let canonical = std::fs::canonicalize(repo).unwrap_or_else(|_| repo.to_owned());
    roster_scan::keyed_hex(b"roster-history", canonical.to_string_lossy().as_bytes())[..32].to_owned()
}

/// Commits already scanned in `repo` in `scope`. Tips recorded by an earlier Roster in
/// `history/*.json` are imported into the database once, into the scope that reads them first.
pub fn scanned_tips(dir: &Path, store: &mut roster_store::Store, scope: &str, repo: &Path) -> Result<Vec<String>> {
    let id = repo_key(repo);
    let legacy = dir.join("history").join(format!("{id}.json"));
    match std::fs::read_to_string(&legacy) {
        Ok(text) => {
            let v: serde_json::Value = serde_json::from_str(&text).with_context(|| {
                format!(
                    "{}: corrupt incremental state; delete it to rescan everything",
                    legacy.display()
                )
            })?;
            let tips: Vec<String> = v["tips"]
                .as_array()
                .map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            store.record_tips(scope, &id, &tips)?;
            remove_imported(&legacy)?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", legacy.display())),
    }
    Ok(store.scanned_tips(scope, &id)?)
}

/// Records the commits a scan of `repo` covered in `scope` (with the earlier ones).
pub fn record_tips(store: &mut roster_store::Store, scope: &str, repo: &Path, tips: &[String]) -> Result<()> {
    Ok(store.record_tips(scope, &repo_key(repo), tips)?)
}

/// The scope a configuration's runs are recorded in: its `scope` setting, else `config-` and 12
/// hex characters of a hash of the file's canonical path (stable for as long as the file stays
/// where it is; the database keeps the path in each run's `config`).
pub fn config_scope(config: &Path, setting: Option<&str>) -> Result<String> {
    if let Some(s) = setting {
        crate::config::check_scope(s).with_context(|| format!("config {}: scope = {s:?}", config.display()))?;
        return Ok(s.to_owned());
    }
    let canonical =
        std::fs::canonicalize(config).with_context(|| format!("cannot read config {}", config.display()))?;
    let hash = roster_scan::keyed_hex(b"roster-scope", canonical.to_string_lossy().as_bytes());
    Ok(format!("config-{}", &hash[..12]))
}

/// The scope of the configuration file at `config`, reading only its `scope` setting (a
/// command that reads runs needs nothing else from it).
fn scope_of_file(config: &Path) -> Result<String> {
    let text = std::fs::read_to_string(config).with_context(|| format!("cannot read config {}", config.display()))?;
    let table: toml::Table =
        toml::from_str(&text).with_context(|| format!("config {} is not valid", config.display()))?;
    let setting = match table.get("scope") {
        None => None,
        Some(toml::Value::String(s)) => Some(s.as_str()),
        Some(_) => bail!(
            "config {}: scope must be a string, such as scope = \"prod\"",
            config.display()
        ),
    };
    config_scope(config, setting)
}

/// The scopes with runs in `store`, for messages: `"a" (2 runs), "b" (1 run)`.
pub fn scope_list(store: &roster_store::Store) -> Result<String> {
    let scopes = store.scopes()?;
    if scopes.is_empty() {
        return Ok("none".into());
    }
    Ok(scopes
        .iter()
        .map(|(s, n)| format!("{s:?} ({n} run{})", if *n == 1 { "" } else { "s" }))
        .collect::<Vec<_>>()
        .join(", "))
}

/// The scope a command that reads runs works on: `--scope`, else the scope of `--config` (or of
/// `roster.toml` in the current directory, the file `roster discover` reads by default), else
/// the only scope the database has runs in.
pub fn reading_scope(store: &roster_store::Store, flag: Option<&str>, config: Option<&Path>) -> Result<String> {
    if let Some(s) = flag {
        crate::config::check_scope(s).with_context(|| format!("--scope {s:?}"))?;
        return Ok(s.to_owned());
    }
    let default_config = Path::new("roster.toml");
    match config {
        Some(c) => return scope_of_file(c),
        None if default_config.is_file() => return scope_of_file(default_config),
        None => {}
    }
    let scopes = store.scopes()?;
    match scopes.as_slice() {
        [] => Ok(roster_store::DEFAULT_SCOPE.to_owned()),
        [(only, _)] => Ok(only.clone()),
        _ => bail!(
            "the state database holds runs of {} scopes ({}): pass --scope NAME, or --config FILE for the scope of that configuration (`roster runs` lists every run with its scope)",
            scopes.len(),
            scope_list(store)?
        ),
    }
}
