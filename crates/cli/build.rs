//! Embeds the built-in connectors in the binary: each one's profile
//! (`connectors/<name>/profile.toml`) and its WebAssembly component, which this script builds
//! with a nested `cargo build --profile connector --target wasm32-wasip2`. Adding a connector
//! touches its own folder, not the host's code. Also names the commit in `roster --version`.
//!
//! `ROSTER_CONNECTORS_WASM=DIR` embeds prebuilt components from DIR instead
//! (`connector_<name>.wasm`, as the nested build names them): a release builds them once and
//! embeds them in every target's binary.

use std::path::{Path, PathBuf};
use std::process::Command;

const WASM_TARGET: &str = "wasm32-wasip2";
/// The cargo profile connectors are built with (Cargo.toml: size-optimized, no debug info).
const WASM_PROFILE: &str = "connector";

fn main() {
    // Read when the script runs, not when it is compiled: cargo reuses a compiled build script
    // for another checkout of the package (a worktree sharing the target folder).
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let connectors = root.join("connectors");
    for watched in ["connectors", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=ROSTER_CONNECTORS_WASM");
    println!("cargo:rerun-if-env-changed=ROSTER_BUILD_COMMIT");

    let mut found: Vec<(String, PathBuf)> = std::fs::read_dir(&connectors)
        .expect("connectors/ is readable")
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                e.path().join("profile.toml"),
            )
        })
        .filter(|(_, profile)| profile.is_file())
        .collect();
    found.sort();

    let wasm_dir = match std::env::var_os("ROSTER_CONNECTORS_WASM") {
        Some(dir) => PathBuf::from(dir),
        None => build_connectors(&root, &out_dir, &found),
    };
    let mut out = String::from(
        "/// Each built-in connector's folder name, version, profile text and WebAssembly component.\n\
         pub const BUILTIN: &[(&str, &str, &str, &[u8])] = &[\n",
    );
    let version = std::env::var("CARGO_PKG_VERSION").expect("cargo sets CARGO_PKG_VERSION");
    for (name, profile) in &found {
        let wasm = wasm_dir.join(format!("connector_{}.wasm", name.replace('-', "_")));
        if !wasm.is_file() {
            panic!(
                "the built-in connector {name} was not built: {} is missing (ROSTER_CONNECTORS_WASM must hold every \
                 connector's component)",
                wasm.display()
            );
        }
        let version = connector_version(&connectors.join(name).join("Cargo.toml"), &version);
        out.push_str(&format!(
            "    ({name:?}, {version:?}, include_str!({:?}), include_bytes!({:?})),\n",
            profile.display().to_string(),
            wasm.display().to_string()
        ));
    }
    out.push_str("];\n");
    std::fs::write(out_dir.join("builtin.rs"), out).expect("OUT_DIR is writable");

    let commit = std::env::var("ROSTER_BUILD_COMMIT").ok().or_else(|| git_commit(&root));
    println!(
        "cargo:rustc-env=ROSTER_VERSION={version}{}",
        commit.map(|c| format!(" ({c})")).unwrap_or_default()
    );
}

/// Builds every connector for wasm32-wasip2 into the workspace's target folder and returns the
/// folder holding the components.
fn build_connectors(root: &Path, out_dir: &Path, found: &[(String, PathBuf)]) -> PathBuf {
    let target_dir = target_dir(out_dir);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    ensure_wasm_target();
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(root)
        .args(["build", "--locked", "--profile", WASM_PROFILE, "--target", WASM_TARGET])
        .arg("--target-dir")
        .arg(&target_dir);
    for (name, _) in found {
        cmd.args(["-p", &format!("connector-{name}")]);
    }
    // The nested build is its own: nothing of this build's target, flags or package leaks in.
    // (CARGO_MAKEFLAGS stays: it shares this build's job slots.)
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("CARGO_CFG_")
            || k.starts_with("CARGO_FEATURE_")
            || k.starts_with("CARGO_PKG_")
            || k.starts_with("CARGO_MANIFEST_")
            || k.starts_with("DEP_")
            || [
                "CARGO_ENCODED_RUSTFLAGS",
                "RUSTFLAGS",
                "CARGO_BUILD_TARGET",
                "CARGO_TARGET_DIR",
                "CARGO_BUILD_TARGET_DIR",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_CRATE_NAME",
                "TARGET",
                "HOST",
                "OUT_DIR",
                "OPT_LEVEL",
                "PROFILE",
                "DEBUG",
                "NUM_JOBS",
                "RUSTC_LINKER",
                "RUSTC_WORKSPACE_WRAPPER",
            ]
            .contains(&k.as_ref())
        {
            cmd.env_remove(k.as_ref());
        }
    }
    // Anything cargo prints on stdout would be read as this script's instructions.
    cmd.stdout(std::io::stderr());
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run {} to build the connectors: {e}", cargo.to_string_lossy()));
    if !status.success() {
        panic!(
            "building the built-in connectors (cargo build --profile {WASM_PROFILE} --target {WASM_TARGET}) failed; \
             its errors are above"
        );
    }
    target_dir.join(WASM_TARGET).join(WASM_PROFILE)
}

/// The target folder this build writes into. OUT_DIR is `<target>/[<triple>/]<profile>/build/
/// <package>-<hash>/out`; where that layout is not recognized, a folder under OUT_DIR.
fn target_dir(out_dir: &Path) -> PathBuf {
    let triple = std::env::var("TARGET").unwrap_or_default();
    let mut up = out_dir.ancestors().skip(4);
    match up.next() {
        Some(d) if d.file_name().is_some_and(|n| n == triple.as_str()) => up.next().map(Path::to_path_buf),
        Some(d) => Some(d.to_path_buf()),
        None => None,
    }
    .filter(|d| {
        out_dir
            .ancestors()
            .nth(2)
            .and_then(Path::file_name)
            .is_some_and(|n| n == "build")
            && d.is_dir()
    })
    .unwrap_or_else(|| out_dir.join("connectors"))
}

/// Adds the wasm32-wasip2 target with rustup when the toolchain lacks it.
fn ensure_wasm_target() {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let installed = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", WASM_TARGET])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .is_some_and(|d| d.is_dir());
    if installed {
        return;
    }
    let added = Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .stdout(std::io::stderr())
        .status()
        .is_ok_and(|s| s.success());
    if added {
        println!(
            "cargo:warning=added the {WASM_TARGET} Rust target (the built-in connectors are WebAssembly components)"
        );
    } else {
        panic!(
            "the built-in connectors are WebAssembly components: this toolchain needs the {WASM_TARGET} target \
             (rustup target add {WASM_TARGET}), or set ROSTER_CONNECTORS_WASM to a folder of prebuilt components"
        );
    }
}

/// A connector's version: its manifest's `version`, else the workspace's.
fn connector_version(manifest: &Path, workspace: &str) -> String {
    let text = std::fs::read_to_string(manifest).unwrap_or_default();
    let value: toml::Table = toml::from_str(&text).unwrap_or_default();
    value
        .get("package")
        .and_then(|p| p.get("version"))
        .and_then(toml::Value::as_str)
        .unwrap_or(workspace)
        .to_owned()
}

/// The checkout's commit (12 hex digits), when built from a git checkout.
fn git_commit(root: &Path) -> Option<String> {
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let git_dir = git(&["rev-parse", "--absolute-git-dir"])?;
    // Moves of HEAD (commits, checkouts) rerun this script.
    for f in ["logs/HEAD", "HEAD"] {
        let p = Path::new(&git_dir).join(f);
        if p.exists() {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    }
    git(&["rev-parse", "--short=12", "HEAD"])
}
