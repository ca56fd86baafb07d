//! Files Roster writes (reports, SARIF, CSV, baselines, the audit log) may name secrets'
//! locations, fingerprints and, with `--show-secrets`, the secrets themselves: they are
//! created readable by this user only (0600), and a file that already exists is made so.

use std::io::Write as _;
use std::path::Path;

fn options() -> std::fs::OpenOptions {
    let mut o = std::fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    o
}

#[cfg(unix)]
fn restrict(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Writes `bytes` to `path` (replacing it), private to this user.
pub fn write(path: &Path, bytes: impl AsRef<[u8]>) -> std::io::Result<()> {
    let mut f = options().write(true).create(true).truncate(true).open(path)?;
    restrict(path)?;
    f.write_all(bytes.as_ref())
}

/// Opens `path` for appending (creating it), private to this user.
pub fn append(path: &Path) -> std::io::Result<std::fs::File> {
    let f = options().append(true).create(true).open(path)?;
    restrict(path)?;
    Ok(f)
}
