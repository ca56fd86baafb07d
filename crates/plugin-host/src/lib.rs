//! Runs Roster's connector plugins: WebAssembly components (`roster:connector@0.1.0`, see
//! `connectors/wit/connector.wit`) in a wasmtime sandbox.
//!
//! A plugin gets no filesystem, environment or sockets. Its only way out is `wasi:http`, and every
//! request passes [`egress`]'s hook, which enforces the host-side [`Manifest`], strips any
//! credential the plugin set and attaches the real one (a token, or an AWS SigV4 signature), with
//! timeouts, size caps and retries on throttling. Each run gets a fresh store with a wall-time
//! budget (epoch interruption), a memory limit and an output limit enforced as records arrive
//! through `sink.emit`; records already received are kept when a plugin fails.

mod convert;
pub mod egress;
pub mod entra;
pub mod git_fetch;
pub mod github_app;
pub mod google_sa;
pub mod manifest;
mod mint;
pub mod okta_oauth;
mod runtime;

pub use egress::{HttpLimits, RequestLog};
pub use manifest::{AllowRule, Auth, Manifest, ManifestError, Secret, TokenMinter};
pub use runtime::{ExportFile, Host, Limits, LogLine, Plugin, ProgressFn, RunOutcome, RunRequest, sha256_hex};

#[allow(
    missing_docs,
    reason = "generated from connectors/wit/connector.wit, documented there"
)]
mod bindings {
    wasmtime::component::bindgen!({
        path: "../../connectors/wit",
        world: "connector",
        imports: { default: async | trappable },
        exports: { default: async },
    });
}
