//! `GET /owners`: the owners page.

use super::layout::{Page, badge, layout, link};
use crate::App;
use crate::view::{self, Params};
use axum::extract::{Query, State};
use axum::response::Html;
use roster_model::Severity;
use roster_report::html_escape as esc;
use std::fmt::Write as _;
use std::sync::Arc;

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
