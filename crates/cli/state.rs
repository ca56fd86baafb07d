//! The state directory and what lives in its database (`roster.db`): the per-installation
//! fingerprint key and what incremental history scans have covered. It never holds a raw secret.

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

/// Opens the state database `roster.db` in `dir`, creating the directory (mode 0700) first.
pub fn open_store(dir: &Path) -> Result<roster_store::Store> {
    private_dir(dir)?;
    Ok(roster_store::Store::open(&dir.join("roster.db"))?)
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

/// The key that authenticates compiled connectors in the plugin cache, kept in the state
/// database (never shared through the environment, unlike the fingerprint key): a `.cwasm`
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

/// Commits already scanned in `repo`. Tips recorded by an earlier Roster in `history/*.json`
/// are imported into the database once.
pub fn scanned_tips(dir: &Path, store: &mut roster_store::Store, repo: &Path) -> Result<Vec<String>> {
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
            store.record_tips(&id, &tips)?;
            remove_imported(&legacy)?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", legacy.display())),
    }
    Ok(store.scanned_tips(&id)?)
}

/// Records the commits a scan of `repo` covered (with the earlier ones).
pub fn record_tips(store: &mut roster_store::Store, repo: &Path, tips: &[String]) -> Result<()> {
    Ok(store.record_tips(&repo_key(repo), tips)?)
}
