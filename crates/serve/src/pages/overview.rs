//! `GET /`: the overview page.

use super::chart::trend_chart;
use super::layout::{Page, badge, layout, link};
use crate::App;
use crate::view::{self, Context, Params};
use axum::extract::{Query, State};
use axum::response::Html;
use roster_model::{GapKind, Severity};
use roster_report::html_escape as esc;
use std::fmt::Write as _;
use std::sync::Arc;

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
