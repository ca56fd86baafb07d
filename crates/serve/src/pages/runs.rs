//! `GET /runs` and `GET /diff`: the runs of a scope, and the diff between two.

use super::layout::{Page, badge, layout, query, select};
use crate::App;
use crate::view::Params;
use axum::extract::{Query, State};
use axum::response::Html;
use roster_model::Gap;
use roster_report::{html_escape as esc, html_rich as rich};
use std::fmt::Write as _;
use std::sync::Arc;

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
