//! The dashboard's pages: server-rendered HTML, no script, one stylesheet (`style.css`, served
//! by the binary), charts as inline SVG.

use crate::App;
use crate::view::{self, Context, Error, GapRow, Params};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use roster_model::{Gap, GapKind, Severity};
use roster_report::{html_escape as esc, html_rich as rich};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;

const CSS: &str = include_str!("style.css");

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
type Page = Result<Html<String>, PageError>;

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
fn query(path: &str, params: &[(&str, &str)]) -> String {
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
fn link(path: &str, cx: &Context, more: &[(&str, &str)]) -> String {
    let run = cx.run.id.to_string();
    let latest = cx.runs.last().is_some_and(|r| r.id == cx.run.id);
    let mut params = vec![("scope", cx.scope.as_str())];
    if !latest {
        params.push(("run", run.as_str()));
    }
    params.extend_from_slice(more);
    query(path, &params)
}

fn badge(s: Severity) -> String {
    format!("<span class=\"sev sev-{0}\">{0}</span>", s.as_str())
}

/// The colour of each severity in charts (the stylesheet's badge colours).
fn colour(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#8b1a1a",
        Severity::High => "#d1495b",
        Severity::Medium => "#edae49",
        Severity::Low => "#00798c",
        Severity::Info => "#8d99ae",
    }
}

/// Stacked bars of the gaps of each run by severity (the last 30 runs).
fn trend_chart(points: &[roster_store::TrendPoint], cx: &Context) -> String {
    let points = &points[points.len().saturating_sub(30)..];
    let max = points
        .iter()
        .map(|p| p.by_severity.values().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let (w, h, top, bottom) = (720.0_f64, 200.0_f64, 10.0_f64, 24.0_f64);
    let slot = (w - 40.0) / points.len().max(1) as f64;
    let bar = (slot * 0.7).min(36.0);
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"trend-title\"><title id=\"trend-title\">Gaps per run by severity</title>\
         <text x=\"0\" y=\"{}\" font-size=\"11\" fill=\"#5b6475\">{max}</text><line x1=\"36\" y1=\"{top}\" x2=\"{w}\" y2=\"{top}\" stroke=\"#e3e6ec\"/>\
         <line x1=\"36\" y1=\"{}\" x2=\"{w}\" y2=\"{}\" stroke=\"#c9ced8\"/>",
        top + 4.0,
        h - bottom,
        h - bottom
    );
    let scale = (h - top - bottom) / max as f64;
    for (i, p) in points.iter().enumerate() {
        let x = 40.0 + i as f64 * slot + (slot - bar) / 2.0;
        let mut y = h - bottom;
        let total: u64 = p.by_severity.values().sum();
        let _ = write!(
            svg,
            "<a href=\"{}\"><g><title>run #{}: {total} gaps</title>",
            esc(&query("/", &[("scope", &cx.scope), ("run", &p.run.to_string())])),
            p.run
        );
        for s in Severity::ALL {
            let n = p.by_severity.get(s.as_str()).copied().unwrap_or(0);
            if n == 0 {
                continue;
            }
            let bh = n as f64 * scale;
            y -= bh;
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{bh:.1}\" fill=\"{}\"><title>run #{}: {n} {}</title></rect>",
                colour(s),
                p.run,
                s.as_str()
            );
        }
        let _ = write!(
            svg,
            "</g></a><text x=\"{:.1}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\" fill=\"{}\">#{}</text>",
            x + bar / 2.0,
            h - 8.0,
            if p.run == cx.run.id { "#1d2330" } else { "#5b6475" },
            p.run
        );
    }
    svg.push_str("</svg><p class=\"legend\">");
    for s in Severity::ALL.iter().rev() {
        let _ = write!(
            svg,
            "<span><svg width=\"10\" height=\"10\" aria-hidden=\"true\"><rect width=\"10\" height=\"10\" fill=\"{}\"/></svg> {}</span> ",
            colour(*s),
            s.as_str()
        );
    }
    svg.push_str("</p>");
    svg
}

/// `GET /`: the latest run at a glance, the trend, the sources.
pub(crate) async fn overview(State(app): State<Arc<App>>, Query(p): Query<Params>) -> Page {
    Ok(app
        .read(move |s, default| {
            let cx = p.context(s, default)?;
            let rows = view::gaps(s, &cx)?;
            let trend = s.trend(&cx.scope)?;
            let summary = s.run_summary(cx.run.id)?;
            let mut b = String::from("<h1>Overview</h1><section class=\"cards\">");
            let open = rows.iter().filter(|(_, r)| !r.accepted).count();
            let _ = write!(
                b,
                "<a class=\"card\" href=\"{}\"><span class=\"n\">{}</span> gaps<small>{open} open, {} accepted</small></a>",
                esc(&link("/gaps", &cx, &[])),
                rows.len(),
                rows.len() - open
            );
            for sev in Severity::ALL.iter().rev() {
                let n = rows.iter().filter(|(g, _)| g.severity == *sev).count();
                let _ = write!(
                    b,
                    "<a class=\"card\" href=\"{}\">{}<span class=\"n\">{n}</span></a>",
                    esc(&link("/gaps", &cx, &[("severity", sev.as_str())])),
                    badge(*sev)
                );
            }
            let count = |k: &str| summary.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
            let _ = write!(
                b,
                "<a class=\"card\" href=\"{}\"><span class=\"n\">{}</span> identities<small>{} agents</small></a></section>",
                esc(&link("/inventory", &cx, &[])),
                count("identities"),
                count("agents")
            );
            b.push_str("<h2>Gaps over runs</h2>");
            b.push_str(&trend_chart(&trend, &cx));
            // By kind: the last runs as columns.
            let last = &trend[trend.len().saturating_sub(8)..];
            b.push_str("<h2>By kind</h2><table><thead><tr><th>Kind</th>");
            for p in last {
                let _ = write!(b, "<th class=\"num\">#{}</th>", p.run);
            }
            b.push_str("</tr></thead><tbody>");
            for k in GapKind::ALL {
                if last.iter().all(|p| !p.by_kind.contains_key(k.as_str())) {
                    continue;
                }
                let _ = write!(
                    b,
                    "<tr><td><a href=\"{}\">{}</a></td>",
                    esc(&link("/gaps", &cx, &[("kind", k.as_str())])),
                    k.as_str()
                );
                for p in last {
                    let _ = write!(b, "<td class=\"num\">{}</td>", p.by_kind.get(k.as_str()).copied().unwrap_or(0));
                }
                b.push_str("</tr>");
            }
            b.push_str("</tbody></table>");
            b.push_str(&sources(&summary, &cx));
            Ok(Html(layout("Overview", "/", Some(&cx), &b)))
        })
        .await?)
}

/// The run's sources and whether each was read completely.
fn sources(summary: &serde_json::Value, cx: &Context) -> String {
    let mut b = format!(
        "<h2>Sources of run #{}</h2><p>{}</p>",
        cx.run.id,
        if cx.run.incomplete {
            "<span class=\"warn\">Incomplete:</span> some source could not be read completely; its gaps may be missing."
        } else {
            "Every source was read completely."
        }
    );
    b.push_str("<table><thead><tr><th>Source</th><th>Connector</th><th>Status</th><th class=\"num\">Identities</th><th class=\"num\">Credentials</th><th>Error</th></tr></thead><tbody>");
    let runs = summary.get("connector_runs").and_then(|v| v.as_array());
    for c in runs.into_iter().flatten() {
        let f = |k: &str| c.get(k).and_then(|v| v.as_str()).unwrap_or("");
        let n = |k: &str| c.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
        let status = f("status");
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td class=\"status-{}\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            esc(f("source")),
            esc(f("connector")),
            esc(status),
            esc(status),
            n("identities"),
            n("credentials"),
            esc(f("error"))
        );
    }
    if runs.is_none() {
        // Runs recorded before the connector details were kept: source and status only.
        for c in summary
            .get("connectors")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            let f = |i: usize| c.get(i).and_then(|v| v.as_str()).unwrap_or("");
            let _ = write!(
                b,
                "<tr><td>{}</td><td></td><td>{}</td><td></td><td></td><td></td></tr>",
                esc(f(0)),
                esc(f(1))
            );
        }
    }
    for src in summary.get("sources").and_then(|v| v.as_array()).into_iter().flatten() {
        if let Some(src) = src.as_str() {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>code scan</td><td>scanned</td><td></td><td></td><td></td></tr>",
                esc(src)
            );
        }
    }
    b.push_str("</tbody></table>");
    let errors = summary.get("errors").and_then(|v| v.as_array());
    if let Some(errors) = errors.filter(|e| !e.is_empty()) {
        b.push_str("<h3>Errors</h3><ul class=\"errors\">");
        for e in errors {
            let f = |k: &str| e.get(k).and_then(|v| v.as_str()).unwrap_or("");
            let _ = write!(b, "<li><b>{}</b>: {}</li>", esc(f("source")), esc(f("message")));
        }
        b.push_str("</ul>");
    }
    b
}

fn select(name: &str, label: &str, current: &Option<String>, options: &[(String, String)]) -> String {
    let cur = current.as_deref().unwrap_or("");
    let mut s = format!("<label>{label} <select name=\"{name}\" id=\"f-{name}\"><option value=\"\">any</option>");
    for (value, text) in options {
        let sel = if value == cur { " selected" } else { "" };
        let _ = write!(s, "<option value=\"{}\"{sel}>{}</option>", esc(value), esc(text));
    }
    s.push_str("</select></label>");
    s
}

fn gap_table(rows: &[&(Gap, GapRow)], cx: &Context) -> String {
    let mut b = String::from(
        "<table class=\"gaps\"><thead><tr><th>Severity</th><th>Kind</th><th>Gap</th><th>Owner</th><th>First seen</th><th>Accepted</th></tr></thead><tbody>",
    );
    for (g, r) in rows {
        let _ = write!(
            b,
            "<tr data-gap=\"{}\"><td>{}</td><td>{}</td><td><a class=\"gap-link\" href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&g.id),
            badge(g.severity),
            esc(&r.kind),
            esc(&link(&format!("/gaps/{}", g.id), cx, &[])),
            rich(&g.title),
            r.owner
                .as_deref()
                .map_or("<span class=\"warn\">none</span>".into(), esc),
            esc(r.first_seen.as_deref().unwrap_or("")),
            if r.accepted { "yes" } else { "" }
        );
    }
    b.push_str("</tbody></table>");
    b
}

/// `GET /gaps`: the run's gaps, filtered and searched.
pub(crate) async fn gaps(State(app): State<Arc<App>>, Query(p): Query<Params>) -> Page {
    Ok(app
        .read(move |s, default| {
            let cx = p.context(s, default)?;
            let filter = p.filter(s, &cx)?;
            let rows = view::gaps(s, &cx)?;
            let shown: Vec<&(Gap, GapRow)> = rows.iter().filter(|(g, r)| filter.keeps(g, r)).collect();
            let owners: BTreeSet<String> = rows
                .iter()
                .map(|(_, r)| r.owner.clone().unwrap_or_else(|| "(none)".into()))
                .collect();
            let sources: BTreeSet<&String> = rows.iter().flat_map(|(_, r)| &r.sources).collect();
            let pairs = |v: Vec<String>| v.into_iter().map(|x| (x.clone(), x)).collect::<Vec<_>>();
            let mut b = String::from("<h1>Gaps</h1><form method=\"get\" action=\"/gaps\" class=\"filters\">");
            let _ = write!(b, "<input type=\"hidden\" name=\"scope\" value=\"{}\">", esc(&cx.scope));
            if cx.runs.last().is_some_and(|r| r.id != cx.run.id) {
                let _ = write!(b, "<input type=\"hidden\" name=\"run\" value=\"{}\">", cx.run.id);
            }
            b.push_str(&select(
                "min_severity",
                "Severity at least",
                &p.min_severity,
                &pairs(Severity::ALL.iter().rev().map(|s| s.as_str().to_owned()).collect()),
            ));
            b.push_str(&select(
                "kind",
                "Kind",
                &p.kind,
                &pairs(GapKind::ALL.iter().map(|k| k.as_str().to_owned()).collect()),
            ));
            b.push_str(&select("owner", "Owner", &p.owner, &pairs(owners.into_iter().collect())));
            b.push_str(&select(
                "source",
                "Source",
                &p.source,
                &pairs(sources.into_iter().cloned().collect()),
            ));
            b.push_str(&select(
                "accepted",
                "Accepted",
                &p.accepted,
                &[("false".into(), "open".into()), ("true".into(), "accepted".into())],
            ));
            let earlier: Vec<(String, String)> = cx
                .runs
                .iter()
                .filter(|r| r.id < cx.run.id)
                .rev()
                .map(|r| (r.id.to_string(), format!("#{} ({})", r.id, r.started)))
                .collect();
            b.push_str(&select("new_since", "New since run", &p.new_since, &earlier));
            let _ = write!(
                b,
                "<label>Search <input type=\"search\" name=\"q\" id=\"f-q\" value=\"{}\" placeholder=\"id, title, owner, entity\"></label>\
                 <button type=\"submit\" id=\"apply\">Apply</button> <a href=\"{}\">clear</a></form>",
                esc(p.q.as_deref().unwrap_or("")),
                esc(&link("/gaps", &cx, &[]))
            );
            let _ = write!(
                b,
                "<p class=\"count\" id=\"count\">{} of {} gaps</p>",
                shown.len(),
                rows.len()
            );
            b.push_str(&gap_table(&shown, &cx));
            Ok(Html(layout("Gaps", "/gaps", Some(&cx), &b)))
        })
        .await?)
}

/// `GET /gaps/{id}`: one gap, its evidence chain and its history.
pub(crate) async fn gap(State(app): State<Arc<App>>, Path(id): Path<String>, Query(p): Query<Params>) -> Page {
    Ok(app
        .read(move |s, default| {
            let cx = p.context(s, default)?;
            let (g, row) = view::gaps(s, &cx)?
                .into_iter()
                .find(|(g, _)| g.id == id)
                .ok_or_else(|| Error::NotFound(format!("gap {id} is not in run {} of scope {:?}", cx.run.id, cx.scope)))?;
            let history = s.gap_history(&cx.scope, &id)?;
            let mut b = format!(
                "<p><a href=\"{}\">← Gaps</a></p><h1 id=\"gap-title\">{}</h1><p class=\"meta\">{} <code>{}</code> · <code>{}</code></p>",
                esc(&link("/gaps", &cx, &[])),
                rich(&g.title),
                badge(g.severity),
                esc(g.kind.as_str()),
                esc(&g.id)
            );
            b.push_str("<dl class=\"facts\">");
            let owner = match &g.owner {
                Some(o) => format!(
                    "{} <small>via {}{} — {}</small>",
                    esc(&o.name),
                    esc(&o.via),
                    if o.attested { "" } else { ", inferred: confirm it" },
                    esc(&o.evidence)
                ),
                None => "<span class=\"warn\">nobody accountable</span>".into(),
            };
            let _ = write!(
                b,
                "<dt>Owner</dt><dd>{owner}</dd><dt>First seen</dt><dd>{}</dd><dt>Last seen</dt><dd>{}</dd>",
                esc(row.first_seen.as_deref().unwrap_or("")),
                esc(row.last_seen.as_deref().unwrap_or(""))
            );
            let acceptance = match &g.accepted {
                Some(a) => format!(
                    "accepted {} by {}: {}{}",
                    esc(&a.accepted),
                    esc(a.by.as_deref().unwrap_or("someone")),
                    esc(&a.reason),
                    a.until.as_deref().map_or(String::new(), |u| format!(" (until {})", esc(u)))
                ),
                None => "open (not accepted)".into(),
            };
            let _ = write!(b, "<dt>Acceptance</dt><dd>{acceptance}</dd></dl>");
            b.push_str("<h2>Evidence</h2><ol class=\"evidence\">");
            for e in &g.evidence {
                let _ = write!(
                    b,
                    "<li><b>{}</b>{} — {}</li>",
                    esc(&e.source),
                    e.time.as_deref().map_or(String::new(), |t| format!(" <small>{}</small>", esc(t))),
                    rich(&e.detail)
                );
            }
            b.push_str("</ol><h2>About</h2><table><thead><tr><th>Kind</th><th>Id</th><th>Name</th></tr></thead><tbody>");
            for e in &g.entities {
                let _ = write!(
                    b,
                    "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                    esc(&e.kind),
                    esc(&e.id),
                    esc(&e.name)
                );
            }
            let _ = write!(b, "</tbody></table><h2>Remediation</h2><p>{}</p>", rich(&g.remediation));
            if !g.standards.is_empty() {
                b.push_str("<h2>Controls</h2><ul>");
                for c in &g.standards {
                    let _ = write!(b, "<li>{}</li>", esc(c));
                }
                b.push_str("</ul>");
            }
            b.push_str("<h2>History</h2><table><thead><tr><th>Run</th><th>Started</th><th>In the run</th><th>Accepted</th></tr></thead><tbody>");
            for h in &history {
                let _ = write!(
                    b,
                    "<tr><td><a href=\"{}\">#{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&query("/", &[("scope", &cx.scope), ("run", &h.run.to_string())])),
                    h.run,
                    esc(&h.started),
                    h.severity
                        .as_deref()
                        .and_then(Severity::parse)
                        .map_or("—".into(), badge),
                    if h.accepted { "yes" } else { "" }
                );
            }
            b.push_str("</tbody></table>");
            Ok(Html(layout(&g.title, "/gaps", Some(&cx), &b)))
        })
        .await?)
}

/// `GET /owners`: who must fix what.
pub(crate) async fn owners(State(app): State<Arc<App>>, Query(p): Query<Params>) -> Page {
    Ok(app
        .read(move |s, default| {
            let cx = p.context(s, default)?;
            let rows = view::gaps(s, &cx)?;
            let mut b = String::from(
                "<h1>Owners</h1><p>Each owner's open gaps (accepted gaps left out); <i>(none)</i> gathers the gaps nobody is accountable for.</p>\
                 <table><thead><tr><th>Owner</th><th class=\"num\">Open gaps</th>",
            );
            for sev in Severity::ALL.iter().rev() {
                let _ = write!(b, "<th class=\"num\">{}</th>", badge(*sev));
            }
            b.push_str("</tr></thead><tbody>");
            for (owner, by, n) in view::owners(&rows) {
                let _ = write!(
                    b,
                    "<tr><td><a href=\"{}\">{}</a></td><td class=\"num\">{n}</td>",
                    esc(&link("/gaps", &cx, &[("owner", &owner), ("accepted", "false")])),
                    esc(&owner)
                );
                for sev in Severity::ALL.iter().rev() {
                    let _ = write!(b, "<td class=\"num\">{}</td>", by.get(sev).copied().unwrap_or(0));
                }
                b.push_str("</tr>");
            }
            b.push_str("</tbody></table>");
            Ok(Html(layout("Owners", "/owners", Some(&cx), &b)))
        })
        .await?)
}

/// `GET /inventory`: identities with their credentials, and agents, searchable.
pub(crate) async fn inventory(State(app): State<Arc<App>>, Query(p): Query<Params>) -> Page {
    Ok(app
        .read(move |s, default| {
            let cx = p.context(s, default)?;
            let identities = s.run_identities(cx.run.id)?;
            let agents = s.run_agents(cx.run.id)?;
            let mut b = format!(
                "<h1>Inventory</h1><form method=\"get\" action=\"/inventory\" class=\"filters\"><input type=\"hidden\" name=\"scope\" value=\"{}\">\
                 <label>Search <input type=\"search\" name=\"q\" id=\"f-q\" value=\"{}\" placeholder=\"name, id, source, owner\"></label>\
                 <button type=\"submit\">Search</button></form>",
                esc(&cx.scope),
                esc(p.q.as_deref().unwrap_or(""))
            );
            let shown: Vec<_> = identities
                .iter()
                .filter(|i| {
                    let owner = i.accountable.as_ref().map_or("", |o| o.name.as_str());
                    view::matches(&p.q, &format!("{} {} {} {} {owner}", i.source, i.kind, i.id, i.name))
                })
                .collect();
            let _ = write!(
                b,
                "<h2>Identities <small>{} of {}</small></h2><table><thead><tr><th>Source</th><th>Kind</th><th>Name</th><th>Owner</th><th>Enabled</th><th>Last used</th><th>Credentials</th></tr></thead><tbody>",
                shown.len(),
                identities.len()
            );
            for i in shown {
                let mut creds = String::new();
                for c in &i.credentials {
                    let _ = write!(
                        creds,
                        "<div><code>{}</code> {} {}{}</div>",
                        esc(c.redacted.as_deref().unwrap_or(&c.id)),
                        esc(&c.kind),
                        esc(&format!("{:?}", c.status).to_lowercase()),
                        c.last_used
                            .as_deref()
                            .map_or(String::new(), |u| format!(", last used {}", esc(u)))
                    );
                }
                let _ = write!(
                    b,
                    "<tr><td>{}</td><td>{}</td><td title=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{creds}</td></tr>",
                    esc(&i.source),
                    esc(&i.kind),
                    esc(&i.id),
                    esc(&i.name),
                    i.accountable
                        .as_ref()
                        .map_or("<span class=\"warn\">none</span>".into(), |o| esc(&o.name)),
                    match i.enabled {
                        Some(true) => "yes",
                        Some(false) => "no",
                        None => "",
                    },
                    esc(i.last_used.as_deref().unwrap_or(""))
                );
            }
            b.push_str("</tbody></table>");
            let shown: Vec<_> = agents
                .iter()
                .filter(|a| view::matches(&p.q, &format!("{} {} {} {}", a.id, a.source, a.path, a.frameworks.join(" "))))
                .collect();
            let _ = write!(
                b,
                "<h2>Agents <small>{} of {}</small></h2><table><thead><tr><th>Source</th><th>Path</th><th>Frameworks</th><th>Owner</th><th>Registered as</th><th class=\"num\">Credentials</th></tr></thead><tbody>",
                shown.len(),
                agents.len()
            );
            for a in shown {
                let _ = write!(
                    b,
                    "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
                    esc(&a.source),
                    esc(&a.path),
                    esc(&a.frameworks.join(", ")),
                    a.accountable
                        .as_ref()
                        .map_or("<span class=\"warn\">none</span>".into(), |o| esc(&o.name)),
                    esc(a.registered_as.as_deref().unwrap_or("")),
                    a.credentials.len()
                );
            }
            b.push_str("</tbody></table>");
            Ok(Html(layout("Inventory", "/inventory", Some(&cx), &b)))
        })
        .await?)
}

/// `GET /runs`: the scope's runs, and a form to compare two.
pub(crate) async fn runs(State(app): State<Arc<App>>, Query(p): Query<Params>) -> Page {
    Ok(app
        .read(move |s, default| {
            let cx = p.context(s, default)?;
            let mut b = String::from(
                "<h1>Runs</h1><table><thead><tr><th>Run</th><th>Started</th><th>As of</th><th class=\"num\">Gaps</th><th>Complete</th><th>Config</th><th></th></tr></thead><tbody>",
            );
            let mut previous: Option<i64> = None;
            for r in cx.runs.iter() {
                let diff = previous.map_or(String::new(), |f| {
                    format!(
                        "<a href=\"{}\">diff with #{f}</a>",
                        esc(&query(
                            "/diff",
                            &[("scope", &cx.scope), ("from", &f.to_string()), ("to", &r.id.to_string())]
                        ))
                    )
                });
                let _ = write!(
                    b,
                    "<tr><td><a href=\"{}\">#{}</a></td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td><code>{}</code></td><td>{diff}</td></tr>",
                    esc(&query("/", &[("scope", &cx.scope), ("run", &r.id.to_string())])),
                    r.id,
                    esc(&r.started),
                    esc(&r.as_of),
                    r.gaps,
                    if r.incomplete { "<span class=\"warn\">no</span>" } else { "yes" },
                    esc(&r.config)
                );
                previous = Some(r.id);
            }
            b.push_str("</tbody></table>");
            let options: Vec<(String, String)> = cx
                .runs
                .iter()
                .rev()
                .map(|r| (r.id.to_string(), format!("#{} ({})", r.id, r.started)))
                .collect();
            let _ = write!(
                b,
                "<h2>Compare two runs</h2><form method=\"get\" action=\"/diff\" class=\"filters\"><input type=\"hidden\" name=\"scope\" value=\"{}\">{}{}<button type=\"submit\">Compare</button></form>",
                esc(&cx.scope),
                select("from", "From", &None, &options),
                select("to", "To", &None, &options)
            );
            Ok(Html(layout("Runs", "/runs", Some(&cx), &b)))
        })
        .await?)
}

/// `GET /diff?from=&to=`: new and resolved gaps between two runs.
pub(crate) async fn diff(State(app): State<Arc<App>>, Query(p): Query<Params>) -> Page {
    Ok(app
        .read(move |s, default| {
            let (cx, d) = crate::api::read_diff(s, default, &p)?;
            let mut b = format!(
                "<h1>Run #{} → run #{}</h1><p>{} new, {} resolved, {} still open.</p>",
                d.from.id,
                d.to.id,
                d.new.len(),
                d.resolved.len(),
                d.still_open.len()
            );
            let rows = |gaps: &[Gap], run: i64| {
                let mut t = String::from(
                    "<table><thead><tr><th>Severity</th><th>Kind</th><th>Gap</th><th>Owner</th></tr></thead><tbody>",
                );
                for g in gaps {
                    let _ = write!(
                        t,
                        "<tr><td>{}</td><td>{}</td><td><a href=\"{}\">{}</a></td><td>{}</td></tr>",
                        badge(g.severity),
                        esc(g.kind.as_str()),
                        esc(&query(
                            &format!("/gaps/{}", g.id),
                            &[("scope", &cx.scope), ("run", &run.to_string())]
                        )),
                        rich(&g.title),
                        esc(g.owner.as_ref().map_or("", |o| o.name.as_str()))
                    );
                }
                t.push_str("</tbody></table>");
                t
            };
            let _ = write!(b, "<h2>New in #{}</h2>{}", d.to.id, rows(&d.new, d.to.id));
            let _ = write!(
                b,
                "<h2>Resolved since #{}</h2>{}",
                d.from.id,
                rows(&d.resolved, d.from.id)
            );
            Ok(Html(layout("Diff", "/runs", Some(&cx), &b)))
        })
        .await?)
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
