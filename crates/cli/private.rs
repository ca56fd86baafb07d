//! Files Roster writes (reports, SARIF, CSV, baselines, the audit log) may name secrets'
//! locations, fingerprints and, with `--show-secrets`, the secrets themselves: they are
//! created readable by this user only (0600), and a regular file that already exists is made so.

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

/// Makes the open file readable by this user only, if it is a regular file. A device, pipe or
/// terminal named as the output (`-o /dev/null`, `-o /dev/stdout`) is written to as it is and
/// never re-permissioned: a `chmod` there would change the device for everyone (a `/dev/null`
/// made 0600 by a root run breaks every other program on the machine).
#[cfg(unix)]
fn restrict(f: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    if f.metadata()?.is_file() {
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict(_f: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

/// Writes `bytes` to `path` (replacing it), private to this user.
pub fn write(path: &Path, bytes: impl AsRef<[u8]>) -> std::io::Result<()> {
    let mut f = options().write(true).create(true).truncate(true).open(path)?;
    restrict(&f)?;
    f.write_all(bytes.as_ref())
}

/// Opens `path` for appending (creating it), private to this user.
pub fn append(path: &Path) -> std::io::Result<std::fs::File> {
    let f = options().append(true).create(true).open(path)?;
    restrict(&f)?;
    Ok(f)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    fn mode(p: &std::path::Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn an_existing_file_is_made_private_and_a_pipe_named_as_output_is_left_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("report.json");
        std::fs::write(&file, "old").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        super::write(&file, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "new");
        assert_eq!(mode(&file), 0o600);

        // A FIFO stands for /dev/null or /dev/stdout: written to, its mode untouched.
        let fifo = dir.path().join("out.fifo");
        let made = std::process::Command::new("mkfifo")
            .arg("-m")
            .arg("644")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        super::write(&fifo, "through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), "through the pipe");
        assert_eq!(mode(&fifo), 0o644, "a pipe named as output keeps its mode");
    }
}
