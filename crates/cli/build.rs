//! Embeds every connector's profile (`connectors/<name>/profile.toml`): adding a connector
//! touches its own folder, not the host's code.

use std::path::Path;

fn main() {
    // Read when the script runs, not when it is compiled: cargo reuses a compiled build script
    // for another checkout of the package (a worktree sharing the target folder).
    let root = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let connectors = Path::new(&root).join("connectors");
    println!("cargo:rerun-if-changed={}", connectors.display());
    let mut found: Vec<(String, String)> = std::fs::read_dir(&connectors)
        .expect("connectors/ is readable")
        .flatten()
        .filter_map(|e| {
            let profile = e.path().join("profile.toml");
            println!("cargo:rerun-if-changed={}", profile.display());
            profile.is_file().then(|| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    profile.display().to_string(),
                )
            })
        })
        .collect();
    found.sort();
    let mut out = String::from(
        "/// Each built-in connector's folder name and profile text.\npub const PROFILES: &[(&str, &str)] = &[\n",
    );
    for (name, path) in &found {
        out.push_str(&format!("    ({name:?}, include_str!({path:?})),\n"));
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("profiles.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
