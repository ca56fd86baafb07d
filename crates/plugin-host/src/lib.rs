//! Runs Roster's connector plugins: WebAssembly components (`roster:connector@0.1.0`, see
//! `connectors/wit/connector.wit`) in a wasmtime sandbox.
//!
//! A plugin gets no filesystem, environment or sockets. Its only way out is `wasi:http`, and every
//! request passes [`egress`]'s hook, which enforces the host-side [`Manifest`], strips any
//! credential the plugin set and attaches the real one (a token, or an AWS SigV4 signature), with
//! timeouts, size caps and retries on throttling. Each run gets a fresh store with a wall-time
//! budget (epoch interruption), a memory limit and an output limit enforced as records arrive
//! through `sink.emit`; records already received are kept when a plugin fails.

pub mod cache;
pub mod canonical;
mod convert;
pub mod egress;
pub mod manifest;
pub mod profile;
mod runtime;

pub use cache::CodeCache;
pub use egress::{HttpLimits, RequestLog, RequestLogs, host_request};
pub use manifest::{AWS_READ_ACTIONS, AllowRule, Auth, Manifest, ManifestError, READ_METHODS, Secret, TokenMinter};
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
