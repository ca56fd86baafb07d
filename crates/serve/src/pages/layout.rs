//! The page shell: the frame and nav of every page, error pages, the stylesheet and icon, and the
//! HTML helpers the pages share (links, badges, selects).

use crate::view::{Context, Error};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use roster_model::Severity;
use roster_report::html_escape as esc;
use std::fmt::Write as _;

const CSS: &str = include_str!("../style.css");

/// `GET /assets/style.css`.
pub(crate) async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

/// `GET /assets/icon.svg` (and `/favicon.ico`, which browsers ask for unprompted).
pub(crate) async fn icon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 16 16\"><rect width=\"16\" height=\"16\" rx=\"3\" fill=\"#1d2330\"/><path d=\"M4 12V4h5a2.5 2.5 0 0 1 0 5H4m4 0 3 3\" stroke=\"#7aa2ff\" stroke-width=\"1.8\" fill=\"none\"/></svg>",
    )
        .into_response()
}

/// A page, or an error page with the right status.
pub(super) type Page = Result<Html<String>, PageError>;

/// An error shown as a page.
pub(crate) struct PageError(Error);

impl From<Error> for PageError {
    fn from(e: Error) -> PageError {
        PageError(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, m) = match self.0 {
            Error::NotFound(m) => (StatusCode::NOT_FOUND, "Not found", m),
            Error::BadRequest(m) => (StatusCode::BAD_REQUEST, "Bad request", m),
            Error::Internal(m) => (StatusCode::INTERNAL_SERVER_ERROR, "Error", m),
        };
        let body = format!(
            "<h1>{title}</h1><p class=\"error\" role=\"alert\">{}</p><p><a href=\"/\">Overview</a></p>",
            esc(&m)
        );
        (status, Html(layout(title, "", None, &body))).into_response()
    }
}

/// Anything else.
pub(crate) async fn not_found() -> PageError {
    PageError(Error::NotFound("There is no such page.".into()))
}

const NAV: [(&str, &str); 5] = [
    ("/", "Overview"),
    ("/gaps", "Gaps"),
    ("/owners", "Owners"),
    ("/inventory", "Inventory"),
    ("/runs", "Runs"),
];

/// The frame of every page. `active` is the nav entry's path; `cx` adds the scope and run line.
pub(crate) fn layout(title: &str, active: &str, cx: Option<&Context>, body: &str) -> String {
    let mut nav = String::new();
    for (path, label) in NAV {
        let href = match cx {
            Some(cx) => link(path, cx, &[]),
            None => path.to_owned(),
        };
        let current = if path == active { " aria-current=\"page\"" } else { "" };
        let _ = write!(nav, "<a href=\"{}\"{current}>{label}</a>", esc(&href));
    }
    let at = cx.map_or(String::new(), |cx| {
        let latest = cx.runs.last().is_some_and(|r| r.id == cx.run.id);
        let mut s = format!(
            "<div class=\"at\">Scope <b>{}</b> · run <b>#{}</b> ({}){}{}",
            esc(&cx.scope),
            cx.run.id,
            esc(&cx.run.started),
            if latest { ", the latest" } else { "" },
            if cx.run.incomplete {
                " · <span class=\"warn\">incomplete</span>"
            } else {
                ""
            },
        );
        if cx.scopes.len() > 1 {
            s.push_str(" · other scopes: ");
            for (scope, n) in cx.scopes.iter().filter(|(s, _)| *s != cx.scope) {
                let _ = write!(
                    s,
                    "<a href=\"{}\">{} ({n} runs)</a> ",
                    esc(&query("/", &[("scope", scope)])),
                    esc(scope)
                );
            }
        }
        s.push_str("</div>");
        s
    });
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Roster</title><link rel=\"stylesheet\" href=\"/assets/style.css\"><link rel=\"icon\" href=\"/assets/icon.svg\" type=\"image/svg+xml\"></head>\
         <body><header><a class=\"brand\" href=\"/\">Roster</a><nav>{nav}</nav></header>{at}<main>{body}</main></body></html>",
        esc(title)
    )
}

/// A path with query parameters (empty values left out).
pub(super) fn query(path: &str, params: &[(&str, &str)]) -> String {
    let mut s = path.to_owned();
    let mut first = true;
    for (k, v) in params.iter().filter(|(_, v)| !v.is_empty()) {
        s.push(if first { '?' } else { '&' });
        first = false;
        s.push_str(k);
        s.push('=');
        s.extend(percent_encoding::utf8_percent_encode(
            v,
            percent_encoding::NON_ALPHANUMERIC,
        ));
    }
    s
}

/// A link within the request's scope and run (the run only when it is not the latest).
pub(super) fn link(path: &str, cx: &Context, more: &[(&str, &str)]) -> String {
    let run = cx.run.id.to_string();
    let latest = cx.runs.last().is_some_and(|r| r.id == cx.run.id);
    let mut params = vec![("scope", cx.scope.as_str())];
    if !latest {
        params.push(("run", run.as_str()));
    }
    params.extend_from_slice(more);
    query(path, &params)
}

pub(super) fn badge(s: Severity) -> String {
    format!("<span class=\"sev sev-{0}\">{0}</span>", s.as_str())
}

pub(super) fn select(name: &str, label: &str, current: &Option<String>, options: &[(String, String)]) -> String {
    let cur = current.as_deref().unwrap_or("");
    let mut s = format!("<label>{label} <select name=\"{name}\" id=\"f-{name}\"><option value=\"\">any</option>");
    for (value, text) in options {
        let sel = if value == cur { " selected" } else { "" };
        let _ = write!(s, "<option value=\"{}\"{sel}>{}</option>", esc(value), esc(text));
    }
    s.push_str("</select></label>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_encoded_and_keep_the_scope() {
        assert_eq!(
            query("/gaps", &[("owner", "a b&c"), ("kind", "")]),
            "/gaps?owner=a%20b%26c"
        );
        assert_eq!(query("/", &[("q", "\"><script>")]), "/?q=%22%3E%3Cscript%3E");
    }
}
