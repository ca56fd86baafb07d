//! `GET /gaps/{id}`: one gap.

use super::layout::{Page, badge, layout, link, query};
use crate::App;
use crate::view::{self, Error, Params};
use axum::extract::{Path, Query, State};
use axum::response::Html;
use roster_model::Severity;
use roster_report::{html_escape as esc, html_rich as rich};
use std::fmt::Write as _;
use std::sync::Arc;

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
            for e in &g.said {
                let _ = write!(
                    b,
                    "<li><b>{}</b>{} — {}</li>",
                    esc(&e.source),
                    e.time.as_deref().map_or(String::new(), |t| format!(" <small>{}</small>", esc(t))),
                    rich(&e.detail)
                );
            }
            b.push_str("</ol><h2>About</h2><table><thead><tr><th>Kind</th><th>Id</th><th>Name</th></tr></thead><tbody>");
            for e in g.entities.iter() {
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
                for c in g.standards.iter() {
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
