//! Who may read the dashboard, and the headers every response carries.
//!
//! With a token, a request is let in when it carries `Authorization: Bearer <token>` (the API)
//! or the session cookie the login form sets (the browser: the cookie holds an HMAC of the
//! token, never the token). Anything else gets 401: the API a JSON error, a page the login form.
//! Without a token the server listens on loopback addresses only.

use crate::App;
use axum::extract::{Form, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::SocketAddr;
use std::sync::Arc;

/// The session cookie's name.
const COOKIE: &str = "roster_session";
/// The shortest token accepted: a guessable token is no access control.
const MIN_TOKEN: usize = 16;

/// Refuses a configuration that would expose the history: a non-loopback address without a
/// token, or a token too short to protect anything.
pub fn check_listen(addr: SocketAddr, token: Option<&str>) -> Result<(), String> {
    match token {
        Some(t) if t.trim().len() < MIN_TOKEN => Err(format!(
            "the serve token is {} characters long: use at least {MIN_TOKEN} random characters (e.g. `openssl rand -hex 32`)",
            t.trim().len()
        )),
        None if !addr.ip().is_loopback() => Err(format!(
            "--listen {addr} is not a loopback address, and no token is set: set ROSTER_SERVE_TOKEN (or --token-file) so that every request must carry it, or listen on 127.0.0.1"
        )),
        _ => Ok(()),
    }
}

/// The token, kept as an HMAC key: comparisons are constant-time MAC checks.
pub(crate) struct Token {
    key: Hmac<Sha256>,
}

impl Token {
    pub(crate) fn new(token: &str) -> Token {
        Token {
            key: Hmac::new_from_slice(token.trim().as_bytes()).expect("HMAC takes any key length"),
        }
    }

    /// The MAC of a fixed label under the token.
    fn mac(&self) -> Hmac<Sha256> {
        let mut m = self.key.clone();
        m.update(b"roster-serve-session-v1");
        m
    }

    /// The session cookie's value: the label's MAC, in hex.
    fn session(&self) -> String {
        roster_model::hex(&self.mac().finalize().into_bytes())
    }

    /// Whether `candidate` is the token: the label's MAC under each must agree (checked in
    /// constant time).
    fn is(&self, candidate: &str) -> bool {
        self.mac()
            .verify_slice(&Token::new(candidate).mac().finalize().into_bytes())
            .is_ok()
    }

    /// Whether `cookie` is the session value.
    fn is_session(&self, cookie: &str) -> bool {
        roster_model::unhex(cookie).is_some_and(|b| self.mac().verify_slice(&b).is_ok())
    }
}

fn authorized(token: &Token, req: &Request) -> bool {
    let h = req.headers();
    if let Some(b) = h
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return token.is(b);
    }
    h.get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix(COOKIE)?.strip_prefix('='))
        .any(|v| token.is_session(v))
}

/// Lets a request in, or answers 401.
pub(crate) async fn require(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let Some(token) = &app.token else {
        return next.run(req).await;
    };
    if authorized(token, &req) {
        return next.run(req).await;
    }
    let path = req.uri().path().to_owned();
    let mut res = if path.starts_with("/api/") {
        (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({
                "error": "this Roster server needs a token: send `Authorization: Bearer <token>`"
            })),
        )
            .into_response()
    } else {
        let next = req.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned();
        (StatusCode::UNAUTHORIZED, login_form(&next, None)).into_response()
    };
    res.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"roster\""),
    );
    res
}

fn login_form(next: &str, error: Option<&str>) -> Html<String> {
    let esc = roster_report::html_escape;
    let error = error.map_or(String::new(), |e| {
        format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e))
    });
    Html(crate::pages::layout(
        "Sign in",
        "",
        None,
        &format!(
            "<h1>Sign in</h1>{error}<form method=\"post\" action=\"/login\" class=\"login\">\
             <input type=\"hidden\" name=\"next\" value=\"{}\">\
             <label>Token <input type=\"password\" name=\"token\" id=\"token\" autocomplete=\"current-password\" required></label>\
             <button type=\"submit\">Sign in</button></form>\
             <p class=\"muted\">The token is the one <code>roster serve</code> was started with (ROSTER_SERVE_TOKEN or --token-file).</p>",
            esc(next)
        ),
    ))
}

/// `GET /login`.
pub(crate) async fn login_page(State(app): State<Arc<App>>) -> Response {
    if app.token.is_none() {
        return Redirect::to("/").into_response();
    }
    login_form("/", None).into_response()
}

/// The login form's fields.
#[derive(serde::Deserialize)]
pub(crate) struct Login {
    token: String,
    #[serde(default)]
    next: String,
}

/// `POST /login`: sets the session cookie and goes back to the page asked for.
pub(crate) async fn login(State(app): State<Arc<App>>, Form(f): Form<Login>) -> Response {
    let Some(token) = &app.token else {
        return Redirect::to("/").into_response();
    };
    // Only a path on this server: never an open redirect.
    let next = if f.next.starts_with('/') && !f.next.starts_with("//") && !f.next.contains('\\') {
        f.next.as_str()
    } else {
        "/"
    };
    if !token.is(&f.token) {
        return (
            StatusCode::UNAUTHORIZED,
            login_form(next, Some("That is not the token.")),
        )
            .into_response();
    }
    let mut res = Redirect::to(next).into_response();
    let cookie = format!("{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict", token.session());
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// Headers on every response: nothing loads from elsewhere, nothing frames the pages, nothing
/// is cached or sniffed.
pub(crate) async fn headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_without_a_token_and_no_short_tokens() {
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let lo: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let lo6: SocketAddr = "[::1]:8080".parse().unwrap();
        assert!(check_listen(lo, None).is_ok() && check_listen(lo6, None).is_ok());
        let e = check_listen(any, None).unwrap_err();
        assert!(
            e.contains("not a loopback address") && e.contains("ROSTER_SERVE_TOKEN"),
            "{e}"
        );
        assert!(check_listen(any, Some("0123456789abcdef")).is_ok());
        assert!(check_listen(lo, Some("short")).unwrap_err().contains("at least 16"));
    }

    #[test]
    fn the_token_and_its_session_are_checked_and_the_cookie_is_not_the_token() {
        let t = Token::new("0123456789abcdef-secret");
        assert!(t.is("0123456789abcdef-secret"));
        assert!(!t.is("0123456789abcdef-secreT") && !t.is(""));
        let s = t.session();
        assert!(!s.contains("secret") && s.len() == 64);
        assert!(t.is_session(&s) && !t.is_session(&s[..62]) && !t.is_session("zz"));
        assert!(!Token::new("another-token-0123456789").is_session(&s));
    }
}
