//! Internal: what Roster's tests and benchmarks share. A temp workspace that runs the `roster`
//! binary ([`Env`]), git repositories ([`git_in`]), fake credentials in real formats ([`fake`]),
//! record builders ([`records`]), report helpers, the test key ([`keys`]) and the built guests
//! ([`guest`]). Behind features: `moto` (the AWS emulator, module `moto`), `http` (wiremock
//! helpers, module `http`) and `jwt` (`keys::verify_jwt`). PostgreSQL test databases: [`postgres::database`].
//!
//! A dev-dependency only; it depends on `roster-model` and nothing else of Roster's.

mod browser;
mod env;
pub mod fake;
#[cfg(feature = "http")]
pub mod http;
pub mod keys;
#[cfg(feature = "moto")]
pub mod moto;
pub mod postgres;
pub mod records;
mod report;

use std::path::{Path, PathBuf};

pub use browser::chromium;
pub use env::{Env, git_in};
pub use report::{all_bytes_under, assert_complete, contains, field, gap, has_permission, identity, is_redaction_of};

/// The workspace's root folder (where the root Cargo.toml is).
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/testkit is two levels below the workspace root")
}

/// Cargo's build folder: `CARGO_TARGET_DIR` (a relative one is taken from the workspace root),
/// else `target/` in the workspace.
pub fn target_dir() -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| "target".into(), PathBuf::from);
    workspace_root().join(dir)
}

/// Where scripts/test.sh installs the test dependencies (moto's venv, the SARIF schema):
/// `target/test-deps` in the workspace, whatever the build folder.
pub fn test_deps() -> PathBuf {
    workspace_root().join("target/test-deps")
}

/// The file of a built guest (`connector_aws_iam`, `connector_hostile`): in `ROSTER_CONNECTOR_DIR`
/// if set, as the CLI looks, else where the binary's build script and
/// scripts/build-connectors.sh build them (`--profile connector`).
pub fn guest(name: &str) -> PathBuf {
    let dir = std::env::var_os("ROSTER_CONNECTOR_DIR")
        .map_or_else(|| target_dir().join("wasm32-wasip2/connector"), PathBuf::from);
    dir.join(format!("{name}.wasm"))
}

/// The bytes of a built guest (see [`guest`]); panics with how to build it.
pub fn guest_bytes(name: &str) -> Vec<u8> {
    let p = guest(name);
    std::fs::read(&p).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; build the connectors first: bash scripts/build-connectors.sh",
            p.display()
        )
    })
}
