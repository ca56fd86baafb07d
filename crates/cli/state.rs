//! The state directory: the per-installation fingerprint key and what incremental history scans
//! have covered. It never holds a raw secret.

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

/// The fingerprint key: `$ROSTER_FINGERPRINT_KEY` (64 hex chars, to share fingerprints across
/// machines), else `fingerprint.key` in the state dir, created on first use with mode 0600.
pub fn fingerprint_key(dir: &Path) -> Result<[u8; 32]> {
    if let Ok(hex) = std::env::var("ROSTER_FINGERPRINT_KEY") {
        return parse_key(&hex).context("ROSTER_FINGERPRINT_KEY must be 64 hex characters");
    }
    let path = dir.join("fingerprint.key");
    match std::fs::read_to_string(&path) {
        Ok(text) => parse_key(&text).with_context(|| {
            format!(
                "{}: not a fingerprint key (64 hex characters); delete it to make a new one",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create state dir {}", dir.display()))?;
            write_private(&path, &(roster_scan::hex(&key) + "\n"))?;
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn parse_key(text: &str) -> Result<[u8; 32]> {
    let bytes = roster_scan::unhex(text.trim()).context("not hex")?;
    bytes.try_into().map_err(|_| anyhow::anyhow!("not 32 bytes"))
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The file recording which commits an incremental history scan of `repo` covered.
fn history_file(dir: &Path, repo: &Path) -> PathBuf {
    let canonical = std::fs::canonicalize(repo).unwrap_or_else(|_| repo.to_owned());
    let id = roster_scan::keyed_hex(b"roster-history", canonical.to_string_lossy().as_bytes());
    dir.join("history").join(format!("{}.json", &id[..32]))
}

/// Commits already scanned in `repo`.
pub fn scanned_tips(dir: &Path, repo: &Path) -> Result<Vec<String>> {
    let path = history_file(dir, repo);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let v: serde_json::Value = serde_json::from_str(&text).with_context(|| {
                format!(
                    "{}: corrupt incremental state; delete it to rescan everything",
                    path.display()
                )
            })?;
            Ok(v["tips"]
                .as_array()
                .map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect())
                .unwrap_or_default())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Records the commits a scan of `repo` covered (merged with earlier ones).
pub fn record_tips(dir: &Path, repo: &Path, tips: &[String]) -> Result<()> {
    let path = history_file(dir, repo);
    let mut all = scanned_tips(dir, repo).unwrap_or_default();
    all.extend(tips.iter().cloned());
    all.sort();
    all.dedup();
    let parent = path.parent().expect("history file has a parent");
    std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let tmp = path.with_extension("tmp");
    let doc = serde_json::json!({"repository": repo.display().to_string(), "tips": all});
    std::fs::write(&tmp, doc.to_string()).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))
}
