//! Plain HTTP for REST connectors, over `wasi:http`. The host adds credentials, retries on 429
//! and 5xx, and refuses URLs outside the source's manifest.

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
