//! The built-in connectors, embedded at build time (see `build.rs`): each one's profile from
//! `connectors/<name>/profile.toml`, parsed once, and its WebAssembly component.

use std::sync::LazyLock;

use roster_plugin_host::profile::Profile;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/builtin.rs"));
}

static PROFILES: LazyLock<Vec<Profile>> = LazyLock::new(|| {
    embedded::BUILTIN
        .iter()
        .map(|(folder, _, text, _)| {
            // Checked by the tests: a broken built-in profile is a build defect.
            Profile::parse(&format!("connectors/{folder}/profile.toml"), text).unwrap_or_else(|e| panic!("{e}"))
        })
        .collect()
});

/// The profile of the built-in connector `name`.
pub fn builtin(name: &str) -> Option<&'static Profile> {
    PROFILES.iter().find(|p| p.connector == name)
}

/// The built-in connectors' names.
pub fn names() -> Vec<&'static str> {
    PROFILES.iter().map(|p| p.connector.as_str()).collect()
}

/// A built-in connector as the binary carries it.
pub struct Builtin {
    /// Its folder name (`aws-iam`).
    pub folder: &'static str,
    /// Its crate's version.
    pub version: &'static str,
    /// Its profile.
    pub profile: &'static Profile,
    /// Its WebAssembly component.
    pub wasm: &'static [u8],
}

/// Every built-in connector, by folder name.
pub fn all() -> Vec<Builtin> {
    embedded::BUILTIN
        .iter()
        .zip(PROFILES.iter())
        .map(|(&(folder, version, _, wasm), profile)| Builtin {
            folder,
            version,
            profile,
            wasm,
        })
        .collect()
}

/// The component of the built-in connector `name`.
pub fn wasm(name: &str) -> Option<&'static [u8]> {
    all().into_iter().find(|b| b.profile.connector == name).map(|b| b.wasm)
}

/// `roster connectors`: each built-in connector's name, version, SHA-256 (what a source pins
/// with `sha256 = "..."`), size and what it reads; and whether `ROSTER_CONNECTOR_DIR` replaces it.
pub fn list_command(format: &str) -> anyhow::Result<std::process::ExitCode> {
    let dir = std::env::var_os("ROSTER_CONNECTOR_DIR").map(std::path::PathBuf::from);
    let rows: Vec<serde_json::Value> = all()
        .iter()
        .map(|b| {
            let file = format!("connector_{}.wasm", b.folder.replace('-', "_"));
            let replaced = dir.as_ref().map(|d| d.join(&file)).filter(|p| p.is_file());
            serde_json::json!({
                "name": b.profile.connector,
                "version": b.version,
                "sha256": roster_plugin_host::sha256_hex(b.wasm),
                "bytes": b.wasm.len(),
                "description": b.profile.description,
                "exports": b.profile.exports,
                "replaced_by": replaced.map(|p| p.display().to_string()),
            })
        })
        .collect();
    let out = match format {
        "json" => serde_json::to_string_pretty(&rows)? + "\n",
        "text" => {
            let mut out = String::new();
            for r in &rows {
                let size = r["bytes"].as_u64().unwrap_or(0) as f64 / 1_048_576.0;
                out.push_str(&format!(
                    "{:<18} {:<8} {} {size:>5.1} MiB  {}\n",
                    r["name"].as_str().unwrap_or(""),
                    r["version"].as_str().unwrap_or(""),
                    r["sha256"].as_str().unwrap_or(""),
                    r["description"].as_str().unwrap_or("")
                ));
                if let Some(p) = r["replaced_by"].as_str() {
                    out.push_str(&format!("{:<18} replaced by {p} (ROSTER_CONNECTOR_DIR)\n", ""));
                }
            }
            out.push_str(&format!(
                "{} built-in connectors in roster {}\n",
                rows.len(),
                env!("ROSTER_VERSION")
            ));
            out
        }
        other => anyhow::bail!("--format {other:?}: expected text or json"),
    };
    std::io::Write::write_all(&mut std::io::stdout().lock(), out.as_bytes())?;
    Ok(std::process::ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_profile_parses_and_names_its_folder() {
        assert!(embedded::BUILTIN.len() >= 8, "{:?}", names());
        for (folder, ..) in embedded::BUILTIN {
            let p = builtin(folder).unwrap_or_else(|| panic!("connectors/{folder}: profile names another connector"));
            assert!(!p.auth.is_empty() && !p.allow.is_empty(), "{folder}");
        }
    }
}
