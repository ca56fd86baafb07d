//! `GET /gaps`: the gaps page, filtered and searched.

use super::layout::{Page, badge, layout, link, select};
use crate::App;
use crate::view::{self, Context, GapRow, Params};
use axum::extract::{Query, State};
use axum::response::Html;
use roster_model::{Gap, GapKind, Severity};
use roster_report::{html_escape as esc, html_rich as rich};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;

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
