//! Helpers for JSON REST APIs that page with a cursor (`data`, `has_more`, `last_id`).

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
    /// The source's configuration cannot work (a setting missing or wrong).
    Config(String),
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
            Stop::Config(m) => ConnectorError::Config(m),
        }
    }
}

/// The items of an export file of saved list responses: one response or an array of them
/// (one per page), each either an array of items or an object holding them under `key`
/// (`data`, `value`, `installations`; "" for APIs that answer with a bare array).
pub fn export_items(f: &crate::types::ExportFile, key: &str) -> Result<Vec<Value>, ConnectorError> {
    let doc: Value =
        serde_json::from_slice(&f.data).map_err(|e| ConnectorError::Config(format!("{}: not JSON ({e})", f.name)))?;
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
/// from everything read, so written last): `read` takes the export files; unless
/// `api = false`, `api` reads the API under the source's endpoint; `emit` writes what was
/// gathered however the run ended (nothing collected is lost), unless the host's output limit
/// stopped it. An export that cannot be read ends the run before the API.
pub fn gather<I>(
    request: &crate::types::CollectRequest,
    mut inv: I,
    read: impl FnOnce(&mut I, &[crate::types::ExportFile]) -> Result<(), ConnectorError>,
    api: impl FnOnce(&mut Progress, &mut I, &str) -> Result<(), Stop>,
    emit: impl FnOnce(I, &mut crate::Emitter) -> Result<(), Stop>,
) -> Result<crate::types::CollectSummary, ConnectorError> {
    let cfg = &request.config;
    let mut p = Progress::default();
    let result = match read(&mut inv, &request.files) {
        Err(e) => Err(e),
        Ok(()) if crate::setting(cfg, "api") == Some("false") => Ok(Ok(())),
        Ok(()) => crate::endpoint(cfg).map(|base| api(&mut p, &mut inv, base)),
    };
    match result {
        Ok(result) => p.finish_emitting(result, |out| emit(inv, out)),
        Err(e) => {
            let _ = emit(inv, &mut p.out);
            let _ = p.out.flush();
            Err(e)
        }
    }
}

/// [`gather`] for a connector that reads the API once per item of the list setting `list`
/// (projects, subscriptions): `read` also gets the items, `each` reads one of them. No item
/// while the API is on is a `Config` error: `missing`.
pub fn gather_each<I>(
    request: &crate::types::CollectRequest,
    list: &str,
    missing: &str,
    inv: I,
    read: impl FnOnce(&mut I, &[crate::types::ExportFile], &[String]) -> Result<(), ConnectorError>,
    mut each: impl FnMut(&mut Progress, &mut I, &str, &str) -> Result<(), Stop>,
    emit: impl FnOnce(I, &mut crate::Emitter) -> Result<(), Stop>,
) -> Result<crate::types::CollectSummary, ConnectorError> {
    let items = crate::setting_list(&request.config, list);
    gather(
        request,
        inv,
        |inv, files| read(inv, files, &items),
        |p, inv, base| {
            if items.is_empty() {
                return Err(Stop::Config(missing.to_string()));
            }
            for (n, item) in items.iter().enumerate() {
                crate::progress(n as u64, Some(items.len() as u64), item);
                each(p, inv, base, item)?;
            }
            Ok(())
        },
        emit,
    )
}

/// The JSON of a response to `path`: a 401 refuses the credential (`Denied`), any other status
/// but 200 fails this part.
pub fn answer(resp: http::Response, path: &str) -> Result<Value, Stop> {
    match resp.status {
        200 => resp.json().map_err(|e| Stop::Failed(format!("{path}: {e}"))),
        401 => Err(Stop::Denied(format!("401 from {path}: {}", resp.excerpt()))),
        code => Err(Stop::Failed(format!("{code} from {path}: {}", resp.excerpt()))),
    }
}

/// How a POSTed listing pages: the JSON body's field the next token goes back in, the
/// response's field that holds it, and the response's list.
pub struct PostPaging<'a> {
    /// The body's field for the token (`nextToken` for AWS REST APIs, `pageToken` for Google).
    pub token_in: &'a str,
    /// The response's field with the next token (`nextToken`, `nextPageToken`).
    pub token_out: &'a str,
    /// The response's list of items.
    pub items: &'a str,
    /// Whether a page with no items leaves the list out (Google APIs do).
    pub omits_empty: bool,
}

/// Calls `each` on every item of a listing read by POSTing `body` (a JSON object) to `url`,
/// following the next token as `paging` says. A token seen before ends it with an error; a 401
/// is `Denied`, any other status but 200 fails the listing.
pub fn post_pages(
    url: &str,
    mut body: Value,
    paging: &PostPaging,
    mut each: impl FnMut(&Value) -> Result<(), Stop>,
) -> Result<(), Stop> {
    let path = url
        .split_once("://")
        .and_then(|(_, r)| r.find('/').map(|i| &r[i..]))
        .unwrap_or(url);
    let path = path.split('?').next().unwrap_or(path);
    let mut seen = std::collections::HashSet::new();
    loop {
        let resp = http::post(
            url,
            &[("accept", "application/json"), ("content-type", "application/json")],
            body.to_string().into_bytes(),
        )
        .map_err(Stop::Failed)?;
        let page = answer(resp, path)?;
        let empty = Value::Array(vec![]);
        let list = match page.get(paging.items) {
            None if paging.omits_empty && page.is_object() => Some(&empty),
            l => l,
        };
        let list = list
            .and_then(Value::as_array)
            .ok_or_else(|| Stop::Failed(format!("{path}: no `{}` list in the response", paging.items)))?;
        for item in list {
            each(item)?;
        }
        match page
            .get(paging.token_out)
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            None => return Ok(()),
            Some(t) if !seen.insert(t.to_string()) => {
                return Err(Stop::Failed(format!(
                    "{path}: {} {t:?} came back twice",
                    paging.token_out
                )));
            }
            Some(t) => body[paging.token_in] = Value::String(t.to_string()),
        }
    }
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
        let link = resp.header("link").and_then(http::next_link);
        let body = answer(resp, &path)?;
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
            Next::LinkHeader => link,
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
