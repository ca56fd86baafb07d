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
        export_macro_name: "__export_guest",
        default_bindings_module: "roster_connector_sdk",
        runtime_path: "roster_connector_sdk::__rt",
    });
}

#[doc(hidden)]
pub use wit_bindgen::rt as __rt;

pub use bindings::Guest;
pub use bindings::roster::connector::types;
pub use bindings::roster::connector::{log as host_log, progress as host_progress, sink as host_sink};
#[doc(hidden)]
pub use bindings::*;

/// Exports `$ty` (which implements [`Guest`]) as the component's `describe` and `collect`.
///
/// Only in the guest (`wasm32`): natively, where the fuzz targets (crates/fuzzing) link several
/// connectors into one binary to call their export readers, the exported symbols would clash.
/// There the implementation is only referenced, so it stays checked and counts as used.
#[macro_export]
macro_rules! export {
    ($ty:ident) => {
        #[cfg(target_arch = "wasm32")]
        $crate::__export_guest!($ty);
        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            let _ = $ty;
            let _ = <$ty as $crate::Guest>::describe;
            let _ = <$ty as $crate::Guest>::collect;
        };
    };
}

use types::{Activity, Batch, Credential, CredentialKind, CredentialStatus, Identity, Level, Permission};

/// Sends a log line to the host.
pub fn log(level: Level, message: &str) {
    host_log::log(level, message);
}

/// Reports progress to the host (shown per source on a terminal).
pub fn progress(done: u64, total: Option<u64>, message: &str) {
    host_progress::report(done, total, message);
}

/// The provider's base URL for this source (no trailing slash). The host resolves it from the
/// connector's profile and the source's settings and always passes it as `endpoint_url`; a
/// connector keeps no URL of its own.
pub fn endpoint(config: &[(String, String)]) -> Result<&str, types::ConnectorError> {
    setting(config, "endpoint_url")
        .map(|u| u.trim_end_matches('/'))
        .filter(|u| !u.is_empty())
        .ok_or_else(|| {
            types::ConnectorError::Config("the host passed no endpoint_url (run this connector through Roster)".into())
        })
}

/// The value of a setting from the source's table in roster.toml.
pub fn setting<'a>(config: &'a [(String, String)], key: &str) -> Option<&'a str> {
    config
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// The items of a setting that may be a list (`projects = ["a", "b"]`, handed over as JSON
/// text) or one value (`projects = "a"`); none when it is not set.
pub fn setting_list(config: &[(String, String)], key: &str) -> Vec<String> {
    match setting(config, key) {
        None => vec![],
        Some(t) if t.trim_start().starts_with('[') => serde_json::from_str(t).unwrap_or_default(),
        Some(t) => vec![t.to_string()],
    }
}

/// The host refused more output: stop collecting and return what you have.
#[derive(Debug, Clone)]
pub struct OutputLimit(pub String);

/// What a key that is its own identity adds to it (see [`Emitter::key_identity`]).
pub struct KeyFacts {
    /// What kind of credential.
    pub kind: CredentialKind,
    /// Its status.
    pub status: CredentialStatus,
    /// When it expires (Unix ms).
    pub expires: Option<i64>,
    /// The provider's redacted value; empty counts as none.
    pub redacted: Option<String>,
    /// Facts about the credential.
    pub attrs: Vec<(String, String)>,
}

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
                repositories: vec![],
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
    /// Queues a key or token that is its own identity (an AI-provider key, a PAT grant, a deploy
    /// key): the identity, then its one credential, which shares the identity's id, name,
    /// creation and last use.
    pub fn key_identity(&mut self, identity: Identity, key: KeyFacts) -> Result<(), OutputLimit> {
        let credential = Credential {
            id: identity.id.clone(),
            identity_id: identity.id.clone(),
            kind: key.kind,
            status: key.status,
            name: Some(identity.name.clone()).filter(|n| !n.is_empty()),
            created: identity.created,
            expires: key.expires,
            last_used: identity.last_used,
            last_used_service: None,
            redacted: key.redacted.filter(|r| !r.is_empty()),
            attrs: key.attrs,
        };
        self.identity(identity)?;
        self.credential(credential)
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

    /// Queues a repository for the code scan.
    pub fn repository(&mut self, r: types::Repository) -> Result<(), OutputLimit> {
        self.batch.repositories.push(r);
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
                repositories: vec![],
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
pub use roster_model::{classify_app_name, error_chain, parse_time};

pub mod http;

pub mod rest;
