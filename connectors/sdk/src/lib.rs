//! What a Roster connector plugin is built with: the bindings of `roster:connector@0.1.0`
//! (`connectors/wit/connector.wit`) and small helpers.
//!
//! A connector is a `cdylib` crate built with `cargo build --target wasm32-wasip2`. It
//! implements [`Guest`] and calls [`export!`]:
//!
//! ```ignore
//! use roster_connector_sdk::{Guest, export, types::*};
//! struct MyConnector;
//! impl Guest for MyConnector { /* describe, collect */ }
//! export!(MyConnector);
//! ```
//!
//! Records go to the host through an [`Emitter`], which batches them. HTTP is plain `wasi:http`
//! (for instance through `wstd`); the host attaches credentials, so a connector never has any.

extern crate self as roster_connector_sdk;

#[allow(
    missing_docs,
    reason = "generated from connectors/wit/connector.wit, documented there"
)]
mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "connector",
        pub_export_macro: true,
        default_bindings_module: "roster_connector_sdk",
        runtime_path: "roster_connector_sdk::__rt",
    });
}

#[doc(hidden)]
pub use wit_bindgen::rt as __rt;

pub use bindings::roster::connector::types;
pub use bindings::roster::connector::{log as host_log, progress as host_progress, sink as host_sink};
#[doc(hidden)]
pub use bindings::*;
pub use bindings::{Guest, export};

use types::{Activity, Batch, Credential, Identity, Level, Permission};

/// Sends a log line to the host.
pub fn log(level: Level, message: &str) {
    host_log::log(level, message);
}

/// Reports progress to the host (shown per source on a terminal).
pub fn progress(done: u64, total: Option<u64>, message: &str) {
    host_progress::report(done, total, message);
}

/// The value of a setting from the source's table in roster.toml.
pub fn setting<'a>(config: &'a [(String, String)], key: &str) -> Option<&'a str> {
    config
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// The host refused more output: stop collecting and return what you have.
#[derive(Debug, Clone)]
pub struct OutputLimit(pub String);

/// Batches records and sends them to the host every `batch_size` records.
pub struct Emitter {
    batch: Batch,
    pending: usize,
    batch_size: usize,
    /// Records sent so far.
    pub sent: u64,
}

impl Default for Emitter {
    fn default() -> Self {
        Self::new(500)
    }
}

impl Emitter {
    /// An emitter that flushes every `batch_size` records.
    pub fn new(batch_size: usize) -> Self {
        Self {
            batch: Batch {
                identities: vec![],
                credentials: vec![],
                permissions: vec![],
                activities: vec![],
            },
            pending: 0,
            batch_size: batch_size.max(1),
            sent: 0,
        }
    }

    fn bump(&mut self) -> Result<(), OutputLimit> {
        self.pending += 1;
        if self.pending >= self.batch_size {
            self.flush()
        } else {
            Ok(())
        }
    }

    /// Queues an identity.
    pub fn identity(&mut self, r: Identity) -> Result<(), OutputLimit> {
        self.batch.identities.push(r);
        self.bump()
    }
    /// Queues a credential.
    pub fn credential(&mut self, r: Credential) -> Result<(), OutputLimit> {
        self.batch.credentials.push(r);
        self.bump()
    }
    /// Queues a permission.
    pub fn permission(&mut self, r: Permission) -> Result<(), OutputLimit> {
        self.batch.permissions.push(r);
        self.bump()
    }
    /// Queues an activity event.
    pub fn activity(&mut self, r: Activity) -> Result<(), OutputLimit> {
        self.batch.activities.push(r);
        self.bump()
    }

    /// Sends what is queued.
    pub fn flush(&mut self) -> Result<(), OutputLimit> {
        if self.pending == 0 {
            return Ok(());
        }
        let batch = std::mem::replace(
            &mut self.batch,
            Batch {
                identities: vec![],
                credentials: vec![],
                permissions: vec![],
                activities: vec![],
            },
        );
        let n = self.pending as u64;
        self.pending = 0;
        host_sink::emit(&batch).map_err(OutputLimit)?;
        self.sent += n;
        Ok(())
    }
}

/// Parses an RFC 3339 / ISO 8601 time into Unix milliseconds (UTC).
pub use roster_model::parse_time;
