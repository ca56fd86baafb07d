//! `GET /inventory`: the inventory page.

use super::layout::{Page, layout};
use crate::App;
use crate::view::{self, Params, Searchable as _};
use axum::extract::{Query, State};
use axum::response::Html;
use roster_report::html_escape as esc;
use std::fmt::Write as _;
use std::sync::Arc;

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
                .filter(|i| view::matches(&p.q, &i.search_text()))
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
                .filter(|a| view::matches(&p.q, &a.search_text()))
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
