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

/// Plain HTTP for REST connectors, over `wasi:http`. The host adds credentials, retries on 429
/// and 5xx, and refuses URLs outside the source's manifest.
pub mod http {
    /// A response, read whole (the host caps its size).
    pub struct Response {
        /// Status code.
        pub status: u16,
        /// Headers (names lowercase).
        pub headers: Vec<(String, String)>,
        /// Body.
        pub body: Vec<u8>,
    }

    impl Response {
        /// The first header of that name.
        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }

        /// The body as JSON.
        pub fn json(&self) -> Result<serde_json::Value, String> {
            serde_json::from_slice(&self.body).map_err(|e| format!("response is not JSON ({e})"))
        }

        /// The start of the body, for error messages.
        pub fn excerpt(&self) -> String {
            let s = String::from_utf8_lossy(&self.body);
            s.chars().take(300).collect()
        }
    }

    /// GETs `url` with extra (non-credential) headers.
    pub fn get(url: &str, headers: &[(&str, &str)]) -> Result<Response, String> {
        send("GET", url, headers, vec![])
    }

    /// POSTs `body` to `url`, for the few read APIs that take their request as a POST body
    /// (Google's `getIamPolicy`); the host lets a POST through only where the profile allows it.
    pub fn post(url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Result<Response, String> {
        send("POST", url, headers, body)
    }

    fn send(method: &str, url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Result<Response, String> {
        wstd::runtime::block_on(async {
            let mut req = wstd::http::Request::builder().method(method).uri(url);
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            let body = if body.is_empty() {
                wstd::http::Body::empty()
            } else {
                wstd::http::Body::from(body)
            };
            let req = req.body(body).map_err(|e| format!("{method} {url}: {e}"))?;
            let mut resp = wstd::http::Client::new().send(req).await.map_err(|e| {
                let e = format!("{e:#}");
                let hint = if e.contains("HttpRequestDenied") {
                    " (the host refuses URLs outside the source's allowed prefixes)"
                } else {
                    ""
                };
                format!("{method} {url}: {e}{hint}")
            })?;
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let body = resp
                .body_mut()
                .contents()
                .await
                .map_err(|e| format!("{method} {url}: body: {e}"))?
                .to_vec();
            Ok(Response { status, headers, body })
        })
    }

    /// The `rel="next"` URL of a `Link` header (GitHub, Okta).
    pub fn next_link(link: &str) -> Option<String> {
        link.split(',').find_map(|part| {
            let (url, params) = part.split_once(';')?;
            params
                .split(';')
                .any(|p| p.trim().replace(' ', "") == "rel=\"next\"")
                .then(|| url.trim().trim_start_matches('<').trim_end_matches('>').to_string())
        })
    }

    /// Percent-encodes a query value.
    pub fn encode(v: &str) -> String {
        v.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
}

/// Helpers for JSON REST APIs that page with a cursor (`data`, `has_more`, `last_id`).
pub mod rest {
    use crate::OutputLimit;
    use crate::http::{self, encode};
    use crate::types::ConnectorError;
    use serde_json::Value;

    /// Why a listing stopped.
    pub enum Stop {
        /// The provider refused the credential (401/403): nothing else will work.
        Denied(String),
        /// The host refused more output.
        Limit(String),
        /// This list failed; others may still work.
        Failed(String),
    }

    impl From<OutputLimit> for Stop {
        fn from(e: OutputLimit) -> Self {
            Stop::Limit(e.0)
        }
    }

    impl Stop {
        /// The error that ends the run.
        pub fn into_error(self) -> ConnectorError {
            match self {
                Stop::Denied(m) => ConnectorError::Denied(m),
                Stop::Limit(m) => ConnectorError::Internal(m),
                Stop::Failed(m) => ConnectorError::Upstream(m),
            }
        }
    }

    /// The items of an export file of saved list responses: one response or an array of them
    /// (one per page), each either an array of items or an object holding them under `key`
    /// (`data`, `value`, `installations`; "" for APIs that answer with a bare array).
    pub fn export_items(f: &crate::types::ExportFile, key: &str) -> Result<Vec<Value>, ConnectorError> {
        let doc: Value = serde_json::from_slice(&f.data)
            .map_err(|e| ConnectorError::Config(format!("{}: not JSON ({e})", f.name)))?;
        let is_page = |v: &Value| v.is_array() || v.get(key).is_some_and(Value::is_array);
        let pages = match doc {
            Value::Array(a) if !a.is_empty() && a.iter().all(is_page) => a,
            v => vec![v],
        };
        let mut items = vec![];
        for page in pages {
            match page {
                Value::Array(a) => items.extend(a),
                Value::Object(mut m) if matches!(m.get(key), Some(Value::Array(_))) => {
                    if let Some(Value::Array(a)) = m.remove(key) {
                        items.extend(a);
                    }
                }
                _ => {
                    let what = if key.is_empty() {
                        String::new()
                    } else {
                        format!(" (no `{key}` array)")
                    };
                    return Err(ConnectorError::Config(format!("{}: not a list response{what}", f.name)));
                }
            }
        }
        Ok(items)
    }

    /// What is left of a run: the records queued and the notes on parts that failed.
    #[derive(Default)]
    pub struct Progress {
        /// Records go here.
        pub out: crate::Emitter,
        /// One line per part that could not be collected.
        pub notes: Vec<String>,
    }

    impl Progress {
        /// Reads the request's export files with `read`. `Err` holds the run's end: a file that
        /// cannot be read ends it (keeping what earlier files gave), and so does `api = false`
        /// (exports only); `Ok` hands the run back to go on with the API.
        #[allow(
            clippy::result_large_err,
            reason = "the error is the run's final result, returned once"
        )]
        pub fn exports(
            mut self,
            request: &crate::types::CollectRequest,
            read: impl FnOnce(&mut crate::Emitter, &[crate::types::ExportFile]) -> Result<(), ConnectorError>,
        ) -> Result<Self, Result<crate::types::CollectSummary, ConnectorError>> {
            if let Err(e) = read(&mut self.out, &request.files) {
                let _ = self.out.flush();
                return Err(Err(e));
            }
            if crate::setting(&request.config, "api") == Some("false") {
                return Err(self.finish(Ok(())));
            }
            Ok(self)
        }

        /// A part that failed on its own becomes a note, and the run goes on; a refused
        /// credential or the output limit ends the run.
        pub fn part(&mut self, what: &str, r: Result<(), Stop>) -> Result<(), Stop> {
            match r {
                Err(Stop::Failed(m)) => {
                    self.notes.push(format!("{what}: {m}"));
                    Ok(())
                }
                other => other,
            }
        }

        /// [`finish`](Self::finish) for a connector that gathers its records before writing
        /// them: `emit` writes what was gathered whether or not the run failed (nothing
        /// collected is lost), unless the host's output limit is what stopped it.
        pub fn finish_emitting(
            mut self,
            result: Result<(), Stop>,
            emit: impl FnOnce(&mut crate::Emitter) -> Result<(), Stop>,
        ) -> Result<crate::types::CollectSummary, ConnectorError> {
            let result = match result {
                Err(Stop::Limit(m)) => Err(Stop::Limit(m)),
                Err(e) => {
                    let _ = emit(&mut self.out);
                    Err(e)
                }
                Ok(()) => emit(&mut self.out),
            };
            self.finish(result)
        }

        /// Sends what is queued and says how the run ended. Records sent before a fatal error
        /// stay with the host.
        pub fn finish(mut self, result: Result<(), Stop>) -> Result<crate::types::CollectSummary, ConnectorError> {
            if let Err(e) = result {
                let _ = self.out.flush();
                return Err(e.into_error());
            }
            self.out.flush().map_err(|e| ConnectorError::Internal(e.0))?;
            Ok(crate::types::CollectSummary {
                complete: self.notes.is_empty(),
                notes: self.notes,
            })
        }
    }

    /// The run of a connector that gathers its records before writing them (identities made
    /// from everything read, so written last): `read` takes the export files and the items of
    /// the list setting `list`; unless `api = false`, `each` reads the API for each item in turn,
    /// under the source's endpoint; `emit` writes what was gathered however the run ended
    /// (nothing collected is lost). No item while the API is on is a `Config` error: `missing`.
    pub fn gather_each<I>(
        request: &crate::types::CollectRequest,
        list: &str,
        missing: &str,
        mut inv: I,
        read: impl FnOnce(&mut I, &[crate::types::ExportFile], &[String]) -> Result<(), ConnectorError>,
        mut each: impl FnMut(&mut Progress, &mut I, &str, &str) -> Result<(), Stop>,
        emit: impl FnOnce(I, &mut crate::Emitter) -> Result<(), Stop>,
    ) -> Result<crate::types::CollectSummary, ConnectorError> {
        let cfg = &request.config;
        let items = crate::setting_list(cfg, list);
        let mut p = Progress::default();
        let mut result = Ok(());
        let mut config = read(&mut inv, &request.files, &items).err();
        if config.is_none() && crate::setting(cfg, "api") != Some("false") {
            match crate::endpoint(cfg) {
                _ if items.is_empty() => config = Some(ConnectorError::Config(missing.to_string())),
                Err(e) => config = Some(e),
                Ok(base) => {
                    for (n, item) in items.iter().enumerate() {
                        crate::progress(n as u64, Some(items.len() as u64), item);
                        result = each(&mut p, &mut inv, base, item);
                        if result.is_err() {
                            break;
                        }
                    }
                }
            }
        }
        if let Some(e) = config {
            let _ = emit(inv, &mut p.out);
            let _ = p.out.flush();
            return Err(e);
        }
        p.finish_emitting(result, |out| emit(inv, out))
    }

    /// A string field, or "".
    pub fn field(v: &Value, k: &str) -> String {
        v.get(k).and_then(Value::as_str).unwrap_or_default().to_string()
    }

    /// The strings of an array field (`scopes`, `events`); none when it is missing.
    pub fn strings<'a>(v: &'a Value, k: &str) -> Vec<&'a str> {
        v.get(k)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect()
    }

    /// Appends `(attr, v[json])` to `attrs` for each `(attr, json)` whose string field is set.
    pub fn push_fields(attrs: &mut Vec<(String, String)>, v: &Value, pairs: &[(&str, &str)]) {
        for (attr, json) in pairs {
            let val = field(v, json);
            if !val.is_empty() {
                attrs.push(((*attr).to_string(), val));
            }
        }
    }

    /// Calls `each` on every item of `{base}{path}?limit=100`, following `last_id` through the
    /// query parameter `cursor` while `has_more` is true.
    pub fn list_cursor(
        base: &str,
        path: &str,
        cursor: &str,
        headers: &[(&str, &str)],
        mut each: impl FnMut(&Value) -> Result<(), Stop>,
    ) -> Result<(), Stop> {
        let mut after: Option<String> = None;
        loop {
            let mut url = format!("{base}{path}?limit=100");
            if let Some(a) = &after {
                url.push_str(&format!("&{cursor}={}", encode(a)));
            }
            let resp = http::get(&url, headers).map_err(Stop::Failed)?;
            match resp.status {
                200 => {}
                401 | 403 => return Err(Stop::Denied(format!("{} from {path}: {}", resp.status, resp.excerpt()))),
                code => return Err(Stop::Failed(format!("{code} from {path}: {}", resp.excerpt()))),
            }
            let body = resp.json().map_err(|e| Stop::Failed(format!("{path}: {e}")))?;
            let data = body
                .get("data")
                .and_then(Value::as_array)
                .ok_or_else(|| Stop::Failed(format!("{path}: no data array")))?;
            for item in data {
                each(item)?;
            }
            let last = body.get("last_id").and_then(Value::as_str).map(str::to_string);
            match (body.get("has_more").and_then(Value::as_bool), last) {
                (Some(true), Some(l)) if after.as_deref() != Some(l.as_str()) => after = Some(l),
                _ => return Ok(()),
            }
        }
    }

    /// Where the next page's URL comes from.
    pub enum Next {
        /// A `Link: <url>; rel="next"` header (GitHub, Okta).
        LinkHeader,
        /// An `@odata.nextLink` field of the body (Microsoft Graph).
        ODataNextLink,
        /// A `nextLink` field of the body (Azure Resource Manager).
        NextLink,
        /// A `nextPageToken` field of the body, sent back as the `pageToken` query parameter
        /// (Google APIs, which also leave the list out of a page with no items).
        PageToken,
    }

    /// Calls `each` on every item of a list whose pages link to each other. `items` names the
    /// array in each page's body (`None`: the body is the array). A link that goes back to a page
    /// already read ends the listing with an error instead of looping.
    pub fn pages(
        first: &str,
        headers: &[(&str, &str)],
        items: Option<&str>,
        next: Next,
        mut each: impl FnMut(&Value) -> Result<(), Stop>,
    ) -> Result<(), Stop> {
        let mut seen = std::collections::HashSet::new();
        let mut url = Some(first.to_string());
        while let Some(u) = url.take() {
            let path = u.split('?').next().unwrap_or(&u).to_string();
            if !seen.insert(u.clone()) {
                return Err(Stop::Failed(format!(
                    "{path}: the next-page link loops back to a page already read"
                )));
            }
            let resp = http::get(&u, headers).map_err(Stop::Failed)?;
            match resp.status {
                200 => {}
                401 => return Err(Stop::Denied(format!("401 from {path}: {}", resp.excerpt()))),
                code => return Err(Stop::Failed(format!("{code} from {path}: {}", resp.excerpt()))),
            }
            let body = resp.json().map_err(|e| Stop::Failed(format!("{path}: {e}")))?;
            let empty = Value::Array(vec![]);
            let list = match items {
                Some(k) if matches!(next, Next::PageToken) && body.is_object() && body.get(k).is_none() => Some(&empty),
                Some(k) => body.get(k),
                None => Some(&body),
            };
            let list = list
                .and_then(Value::as_array)
                .ok_or_else(|| Stop::Failed(format!("{path}: no list in the response")))?;
            for item in list {
                each(item)?;
            }
            url = match next {
                Next::LinkHeader => resp.header("link").and_then(http::next_link),
                Next::ODataNextLink => body.get("@odata.nextLink").and_then(Value::as_str).map(str::to_string),
                Next::NextLink => body
                    .get("nextLink")
                    .and_then(Value::as_str)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string),
                Next::PageToken => body
                    .get("nextPageToken")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                    .map(|t| {
                        let sep = if first.contains('?') { '&' } else { '?' };
                        format!("{first}{sep}pageToken={}", encode(t))
                    }),
            };
        }
        Ok(())
    }
}
