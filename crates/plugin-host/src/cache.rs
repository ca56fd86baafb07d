//! The compiled-plugin cache. Loading precompiled code runs whatever machine code it holds, so
//! the host loads only files it wrote itself: from a directory owned by this user that no one
//! else can write, each authenticated with an HMAC under a key the caller keeps elsewhere (the
//! state database). A planted or altered `.cwasm` is never deserialised; the plugin is compiled
//! again and the file replaced.

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Where compiled plugins are kept, and the key that authenticates them.
#[derive(Clone)]
pub struct CodeCache {
    dir: PathBuf,
    key: [u8; 32],
}

impl std::fmt::Debug for CodeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeCache")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// Why the cache was not used (the plugin is then compiled in memory).
#[derive(Debug, thiserror::Error)]
#[error("plugin cache {dir}: {reason}")]
pub struct CacheError {
    /// The cache directory.
    pub dir: String,
    /// What is wrong with it.
    pub reason: String,
}

impl CodeCache {
    /// A cache in `dir` (created 0700 if missing), authenticated with `key`.
    pub fn new(dir: PathBuf, key: [u8; 32]) -> Self {
        Self { dir, key }
    }

    fn mac(&self, name: &str, bytes: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(name.as_bytes());
        mac.update(&[0]);
        mac.update(bytes);
        mac
    }

    /// Checks that the directory is this user's and writable by no one else, creating it if
    /// missing.
    pub fn trusted_dir(&self) -> Result<&Path, CacheError> {
        let err = |reason: String| CacheError {
            dir: self.dir.display().to_string(),
            reason,
        };
        if !self.dir.exists() {
            std::fs::create_dir_all(&self.dir).map_err(|e| err(format!("cannot create it ({e})")))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))
                    .map_err(|e| err(format!("cannot make it private ({e})")))?;
            }
        }
        let meta = std::fs::symlink_metadata(&self.dir).map_err(|e| err(format!("cannot read it ({e})")))?;
        if !meta.is_dir() {
            return Err(err("is not a directory (a symlink is not accepted)".into()));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            let me = rustix::process::geteuid().as_raw();
            if meta.uid() != me {
                return Err(err(format!("is owned by uid {}, not by this user ({me})", meta.uid())));
            }
            if meta.mode() & 0o022 != 0 {
                return Err(err(format!(
                    "is writable by other users (mode {:o}); run chmod 700 on it",
                    meta.mode() & 0o777
                )));
            }
        }
        Ok(&self.dir)
    }

    /// The compiled bytes stored under `name`, if this cache wrote them (the HMAC holds).
    pub fn load(&self, name: &str) -> Option<Vec<u8>> {
        let dir = self.trusted_dir().ok()?;
        let path = dir.join(name);
        let meta = std::fs::symlink_metadata(&path).ok()?;
        if !meta.is_file() {
            return None;
        }
        let bytes = std::fs::read(&path).ok()?;
        let tag = std::fs::read_to_string(path.with_extension("mac")).ok()?;
        let tag = roster_model::unhex(&tag)?;
        self.mac(name, &bytes).verify_slice(&tag).ok()?;
        Some(bytes)
    }

    /// Stores compiled bytes under `name`, with their HMAC. Failures only cost a recompile.
    pub fn store(&self, name: &str, compiled: &[u8]) {
        let Ok(dir) = self.trusted_dir() else { return };
        let path = dir.join(name);
        let tag = roster_model::hex(&self.mac(name, compiled).finalize().into_bytes());
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let mac_tmp = path.with_extension(format!("mactmp{}", std::process::id()));
        let ok = std::fs::write(&tmp, compiled).is_ok()
            && std::fs::write(&mac_tmp, tag).is_ok()
            && std::fs::rename(&tmp, &path).is_ok()
            && std::fs::rename(&mac_tmp, path.with_extension("mac")).is_ok();
        if !ok {
            let _ = std::fs::remove_file(&tmp);
            let _ = std::fs::remove_file(&mac_tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_this_cache_wrote_is_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CodeCache::new(dir.path().join("c"), [7; 32]);
        cache.store("a.cwasm", b"compiled");
        assert_eq!(cache.load("a.cwasm").as_deref(), Some(&b"compiled"[..]));
        // Another key, another name, altered bytes: refused.
        assert!(CodeCache::new(dir.path().join("c"), [8; 32]).load("a.cwasm").is_none());
        std::fs::copy(dir.path().join("c/a.cwasm"), dir.path().join("c/b.cwasm")).unwrap();
        std::fs::copy(dir.path().join("c/a.mac"), dir.path().join("c/b.mac")).unwrap();
        assert!(cache.load("b.cwasm").is_none(), "a tag is bound to its name");
        std::fs::write(dir.path().join("c/a.cwasm"), b"planted").unwrap();
        assert!(cache.load("a.cwasm").is_none());
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_others_can_write_is_not_trusted() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let cache = CodeCache::new(dir.path().join("c"), [7; 32]);
        cache.store("a.cwasm", b"compiled");
        std::fs::set_permissions(dir.path().join("c"), std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = cache.trusted_dir().unwrap_err().to_string();
        assert!(e.contains("writable by other users (mode 777)"), "{e}");
        assert!(cache.load("a.cwasm").is_none());
    }
}
