//! The self-contained HTML report: one file, no external assets, readable offline. For
//! consultants and leadership: an executive summary with charts, the gaps by severity and by
//! owner, each gap's evidence chain and remediation, the inventory, and an appendix of sources and
//! of what could not be read.

use roster_model::{ControlStatus, CredentialStatus, Gap, Report, Severity};
use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::html_rich as rich;

use crate::html_escape as esc;

const CSS: &str = r#"
:root{--fg:#1d2330;--muted:#5b6475;--line:#e3e6ec;--bg:#f6f7f9;--card:#fff;
--critical:#8b1a1a;--high:#d9480f;--medium:#e8a317;--low:#2f7bbf;--info:#7a8494;--ok:#2b8a3e}
*{box-sizing:border-box}body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#121826;color:#fff;padding:24px 40px}header h1{margin:0 0 4px;font-size:24px}header p{margin:0;color:#b9c0cc}
main{max-width:1180px;margin:0 auto;padding:24px 40px 64px}
h2{font-size:19px;margin:36px 0 12px;border-bottom:2px solid var(--line);padding-bottom:6px}
h3{font-size:15px;margin:0 0 6px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px}
.card .n{font-size:28px;font-weight:700}.card .l{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.summary{background:var(--card);border:1px solid var(--line);border-left:4px solid var(--high);border-radius:8px;padding:14px 18px;margin:14px 0}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:16px}.chart{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px}
table{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);vertical-align:top}th{background:#eef0f4;font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
.sev{display:inline-block;min-width:64px;text-align:center;border-radius:4px;color:#fff;font-size:11px;font-weight:700;padding:2px 6px;text-transform:uppercase}
.sev.critical{background:var(--critical)}.sev.high{background:var(--high)}.sev.medium{background:var(--medium);color:#222}.sev.low{background:var(--low)}.sev.info{background:var(--info)}
.kind{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;background:#eef0f4;border-radius:4px;padding:1px 5px}
.accepted{font-size:11px;font-weight:600;color:#2b8a3e;border:1px solid #2b8a3e;border-radius:4px;padding:0 4px}
.gap{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 18px;margin:12px 0}
.gap ol{margin:6px 0 6px 18px;padding:0}.gap li{margin:2px 0}.src{color:var(--muted);font-family:ui-monospace,monospace;font-size:12px}
.fix{background:#f0f7f1;border-left:3px solid var(--ok);padding:8px 12px;margin-top:8px}
.muted{color:var(--muted)}.none{color:var(--critical);font-weight:600}code{font-family:ui-monospace,monospace;font-size:12px}
.owner{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 16px;margin:8px 0}
.filters{margin:8px 0}.filters label{margin-right:12px;cursor:pointer}
@media print{.filters{display:none}header{background:#fff;color:#000}}
@media (max-width:800px){.charts{grid-template-columns:1fr}main{padding:16px}}
"#;

const SCRIPT: &str = r#"
document.querySelectorAll('.filters input').forEach(function(box){box.addEventListener('change',function(){
  var on={};document.querySelectorAll('.filters input').forEach(function(b){on[b.value]=b.checked;});
  document.querySelectorAll('[data-sev]').forEach(function(el){el.style.display=on[el.getAttribute('data-sev')]?'':'none';});
});});
"#;

fn sev_color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#8b1a1a",
        Severity::High => "#d9480f",
        Severity::Medium => "#e8a317",
        Severity::Low => "#2f7bbf",
        Severity::Info => "#7a8494",
    }
}

/// A horizontal bar chart as inline SVG.
fn bars(title: &str, rows: &[(String, usize, &str)]) -> String {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let h = 26 * rows.len() + 10;
    let mut s = format!(
        "<div class=\"chart\"><h3>{}</h3><svg role=\"img\" aria-label=\"{}\" width=\"100%\" viewBox=\"0 0 470 {h}\">",
        esc(title),
        esc(title)
    );
    for (i, (label, n, color)) in rows.iter().enumerate() {
        let y = 26 * i + 4;
        let w = (200.0 * *n as f64 / max as f64)
            .round()
            .max(if *n > 0 { 2.0 } else { 0.0 });
        let _ = write!(
            s,
            "<text x=\"0\" y=\"{}\" font-size=\"12\" fill=\"#1d2330\">{}</text><rect x=\"230\" y=\"{y}\" width=\"{w}\" height=\"18\" rx=\"3\" fill=\"{color}\"/><text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#1d2330\">{n}</text>",
            y + 13,
            esc(label),
            236.0 + w,
            y + 13
        );
    }
    s.push_str("</svg></div>");
    s
}

fn sev_badge(s: Severity) -> String {
    format!("<span class=\"sev {0}\">{0}</span>", s.as_str())
}

fn owner_cell(g: &Gap) -> String {
    match &g.owner {
        Some(o) => format!(
            "{} <span class=\"muted\">({}{})</span>",
            esc(&o.name),
            esc(&o.via),
            if o.attested { "" } else { ", to confirm" }
        ),
        None => "<span class=\"none\">none</span>".into(),
    }
}

/// " · accepted: reason, until DATE" for a gap in the baseline.
fn accepted_note(g: &Gap) -> String {
    g.accepted.as_ref().map_or_else(String::new, |a| {
        format!(
            " <span class=\"accepted\">accepted</span> <span class=\"muted\">{}{}</span>",
            esc(&a.reason),
            a.until
                .as_deref()
                .map(|u| format!(", until {}", esc(u)))
                .unwrap_or_default()
        )
    })
}

/// The CSP source that allows the report's own script and nothing else: no other inline script
/// and no inline event handler (`onerror=`) runs, even if one got into the page.
fn script_hash() -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(SCRIPT.as_bytes());
    format!("sha256-{}", base64::engine::general_purpose::STANDARD.encode(digest))
}

/// Renders the report as one self-contained HTML document.
pub fn html(r: &Report) -> String {
    let mut s = String::with_capacity(64 * 1024 + r.gaps.len() * 2048);
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src '{}'; img-src data:; base-uri 'none'; form-action 'none'\">\
         <title>{}Roster discovery report</title><style>{CSS}</style></head><body>",
        script_hash(),
        r.organization
            .as_deref()
            .map(|o| format!("{}: ", esc(o)))
            .unwrap_or_default()
    );
    let sources = r.sources.len() + r.connectors.len();
    let _ = write!(
        s,
        "<header><h1>Non-human identity and AI agent discovery{}</h1><p>Roster {} &middot; {} source{} &middot; {}</p></header><main>",
        r.organization
            .as_deref()
            .map(|o| format!(": {}", esc(o)))
            .unwrap_or_default(),
        esc(&r.tool.version),
        sources,
        if sources == 1 { "" } else { "s" },
        if r.incomplete {
            "<strong>incomplete: see the appendix</strong>"
        } else {
            "all sources read completely"
        }
    );

    // Executive summary.
    let count = |sev: Severity| r.gaps.iter().filter(|g| g.severity == sev).count();
    let unowned = r.identities.iter().filter(|i| i.accountable.is_none()).count();
    let unregistered_agents = r
        .gaps
        .iter()
        .filter(|g| g.kind.as_str() == "unregistered-agent")
        .count();
    s.push_str("<h2 id=\"summary\">Executive summary</h2><div class=\"cards\">");
    for (n, label) in [
        (r.gaps.len(), "gaps"),
        (count(Severity::Critical) + count(Severity::High), "critical or high"),
        (r.identities.len(), "non-human identities"),
        (r.agents.len(), "agents in code"),
        (unregistered_agents, "unregistered agents"),
        (unowned, "identities without an owner"),
        (r.findings.len(), "secrets in code"),
    ] {
        let _ = write!(
            s,
            "<div class=\"card\"><div class=\"n\">{n}</div><div class=\"l\">{label}</div></div>"
        );
    }
    s.push_str("</div>");
    let top: Vec<String> = r
        .gaps
        .iter()
        .filter(|g| g.accepted.is_none())
        .take(3)
        .map(|g| format!("<li>{} {}</li>", sev_badge(g.severity), rich(&g.title)))
        .collect();
    let _ = write!(
        s,
        "<div class=\"summary\"><p>Roster found <strong>{} gap{}</strong> in how this organization's non-human workforce is accounted for: \
         {} critical and {} high. {} of {} identities have no accountable owner; {} agent{} or AI-capable identit{} are not in the agent registry.</p>\
         {}</div>",
        r.gaps.len(),
        if r.gaps.len() == 1 { "" } else { "s" },
        count(Severity::Critical),
        count(Severity::High),
        unowned,
        r.identities.len(),
        unregistered_agents,
        if unregistered_agents == 1 { "" } else { "s" },
        if unregistered_agents == 1 { "y" } else { "ies" },
        if top.is_empty() {
            String::new()
        } else {
            format!("<p>Act first on:</p><ol>{}</ol>", top.join(""))
        }
    );

    // Charts.
    let mut per_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for g in &r.gaps {
        *per_kind.entry(g.kind.as_str()).or_default() += 1;
    }
    let kind_rows: Vec<(String, usize, &str)> =
        per_kind.iter().map(|(k, n)| ((*k).to_owned(), *n, "#3b5bdb")).collect();
    let sev_rows: Vec<(String, usize, &str)> = Severity::ALL
        .iter()
        .rev()
        .map(|sv| (sv.as_str().to_owned(), count(*sv), sev_color(*sv)))
        .collect();
    let attested = r
        .identities
        .iter()
        .filter(|i| i.accountable.as_ref().is_some_and(|o| o.attested))
        .count();
    let inferred = r
        .identities
        .iter()
        .filter(|i| i.accountable.as_ref().is_some_and(|o| !o.attested))
        .count();
    let owner_rows = vec![
        ("declared owner".to_owned(), attested, "#2b8a3e"),
        ("inferred owner".to_owned(), inferred, "#e8a317"),
        ("no owner".to_owned(), unowned, "#8b1a1a"),
    ];
    let _ = write!(
        s,
        "<div class=\"charts\">{}{}{}</div>",
        bars("Gaps by severity", &sev_rows),
        bars("Gaps by kind", &kind_rows),
        bars("Identity ownership", &owner_rows)
    );

    // All gaps.
    s.push_str("<h2 id=\"gaps\">Gaps</h2><div class=\"filters\">Show: ");
    for sv in Severity::ALL.iter().rev() {
        let _ = write!(
            s,
            "<label><input type=\"checkbox\" value=\"{0}\" checked> {0}</label>",
            sv.as_str()
        );
    }
    s.push_str("</div><table><thead><tr><th>Severity</th><th>Kind</th><th>Gap</th><th>Owner</th></tr></thead><tbody>");
    for g in &r.gaps {
        let _ = write!(
            s,
            "<tr data-sev=\"{}\"><td>{}</td><td><span class=\"kind\">{}</span></td><td><a href=\"#{}\">{}</a>{}</td><td>{}</td></tr>",
            g.severity.as_str(),
            sev_badge(g.severity),
            g.kind.as_str(),
            esc(&g.id),
            rich(&g.title),
            accepted_note(g),
            owner_cell(g)
        );
    }
    if r.gaps.is_empty() {
        s.push_str("<tr><td colspan=\"4\">No gaps found.</td></tr>");
    }
    s.push_str("</tbody></table>");

    // By owner.
    let mut by_owner: BTreeMap<String, Vec<&Gap>> = BTreeMap::new();
    for g in &r.gaps {
        let key = g
            .owner
            .as_ref()
            .map_or_else(|| "\u{0}No accountable owner".to_owned(), |o| o.name.to_string());
        by_owner.entry(key).or_default().push(g);
    }
    s.push_str("<h2 id=\"owners\">By owner</h2>");
    for (owner, gs) in &by_owner {
        let _ = write!(
            s,
            "<div class=\"owner\"><h3>{} <span class=\"muted\">&middot; {} gap{}</span></h3><ul>",
            esc(owner.trim_start_matches('\u{0}')),
            gs.len(),
            if gs.len() == 1 { "" } else { "s" }
        );
        for g in gs {
            let _ = write!(
                s,
                "<li>{} <a href=\"#{}\">{}</a></li>",
                sev_badge(g.severity),
                esc(&g.id),
                rich(&g.title)
            );
        }
        s.push_str("</ul></div>");
    }

    // Each gap with its evidence chain.
    s.push_str("<h2 id=\"details\">Evidence and remediation</h2>");
    for g in &r.gaps {
        let _ = write!(
            s,
            "<section class=\"gap\" id=\"{}\" data-sev=\"{}\"><h3>{} {}</h3><p class=\"muted\"><span class=\"kind\">{}</span> &middot; {} &middot; owner: {}{}</p>",
            esc(&g.id),
            g.severity.as_str(),
            sev_badge(g.severity),
            rich(&g.title),
            g.kind.as_str(),
            esc(&g.id),
            owner_cell(g),
            g.first_seen
                .as_deref()
                .map(|f| format!(" &middot; first seen {}", esc(f)))
                .unwrap_or_default()
                + &accepted_note(g)
        );
        if let Some(o) = &g.owner {
            let _ = write!(s, "<p class=\"muted\">Owner evidence: {}</p>", rich(&o.evidence));
        }
        s.push_str("<ol>");
        for e in g.evidence(&r.findings) {
            let _ = write!(
                s,
                "<li><span class=\"src\">[{}]</span> {}{}</li>",
                esc(&e.source),
                rich(&e.detail),
                e.time
                    .as_deref()
                    .map(|t| format!(" <span class=\"muted\">({})</span>", esc(t)))
                    .unwrap_or_default()
            );
        }
        let ents: Vec<String> = g
            .entities
            .iter()
            .map(|e| format!("{} <code>{}</code>", esc(&e.kind), esc(&e.id)))
            .collect();
        let _ = write!(
            s,
            "</ol><p class=\"muted\">Involves: {}. Maps to: {}.</p><div class=\"fix\"><strong>Remediation:</strong> {}</div></section>",
            ents.join("; "),
            esc(&g.standards.join(", ")),
            rich(&g.remediation)
        );
    }

    // Inventory.
    s.push_str("<h2 id=\"inventory\">Inventory</h2><h3>Identities</h3><table><thead><tr><th>Source</th><th>Kind</th><th>Name</th><th>Owner</th><th>Last used</th><th>Credentials</th><th>Registered</th></tr></thead><tbody>");
    for i in &r.identities {
        let owner = i.accountable.as_ref().map_or_else(
            || "<span class=\"none\">none</span>".to_owned(),
            |o| format!("{} <span class=\"muted\">({})</span>", esc(&o.name), esc(&o.via)),
        );
        let active = i
            .credentials
            .iter()
            .filter(|c| c.status == CredentialStatus::Active)
            .count();
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td title=\"{}\">{}</td><td>{owner}</td><td>{}</td><td>{} ({} active)</td><td>{}</td></tr>",
            esc(&i.source),
            esc(&i.kind),
            esc(&i.id),
            esc(&i.name),
            esc(i.last_used.as_deref().unwrap_or("unknown")),
            i.credentials.len(),
            active,
            esc(i.registered_as.as_deref().unwrap_or("no"))
        );
    }
    s.push_str("</tbody></table><h3 style=\"margin-top:16px\">Agents found in code</h3><table><thead><tr><th>Where</th><th>Frameworks</th><th>Owner</th><th>Registered</th><th>Secrets</th></tr></thead><tbody>");
    for a in &r.agents {
        let owner = a.accountable.as_ref().map_or_else(
            || "<span class=\"none\">none</span>".to_owned(),
            |o| format!("{} <span class=\"muted\">({})</span>", esc(&o.name), esc(&o.via)),
        );
        let secrets = a.credentials.iter().filter(|c| c.kind == "finding").count();
        let _ = write!(
            s,
            "<tr><td><code>{}</code> <span class=\"muted\">{}</span></td><td>{}</td><td>{owner}</td><td>{}</td><td>{secrets}</td></tr>",
            esc(&a.path),
            esc(&a.source),
            esc(&a.frameworks.join(", ")),
            esc(a.registered_as.as_deref().unwrap_or("no"))
        );
    }
    s.push_str("</tbody></table>");

    // Appendix.
    // Compliance mapping.
    if !r.compliance.is_empty() {
        let failing = r.compliance.iter().filter(|c| c.status == ControlStatus::Fail).count();
        let _ = write!(
            s,
            "<h2 id=\"compliance\">Compliance mapping</h2><p class=\"muted\">{failing} of {} controls fail. A control with a time limit also fails when the configured threshold is looser than its own limit; accepted gaps still count against it.</p>\
             <table><thead><tr><th>Control</th><th>Requirement</th><th>Status</th><th>Why</th></tr></thead><tbody>",
            r.compliance.len()
        );
        for c in &r.compliance {
            let color = match c.status {
                ControlStatus::Pass => "#2b8a3e",
                ControlStatus::Fail => "var(--critical)",
                _ => "#e8a317",
            };
            let links: Vec<String> = c
                .gaps
                .iter()
                .take(12)
                .map(|g| format!("<a href=\"#{0}\">{0}</a>", esc(g)))
                .collect();
            let _ = write!(
                s,
                "<tr class=\"control\" data-status=\"{}\"><td>{}</td><td>{}</td><td style=\"color:{color};font-weight:600\">{}</td><td>{}{}</td></tr>",
                c.status,
                esc(&c.control),
                esc(&c.requirement),
                c.status,
                c.reasons.iter().map(|x| esc(x)).collect::<Vec<_>>().join("; "),
                if links.is_empty() {
                    String::new()
                } else {
                    format!("<br><span class=\"muted\">{}</span>", links.join(" "))
                }
            );
        }
        s.push_str("</tbody></table>");
    }

    s.push_str("<h2 id=\"appendix\">Appendix: sources and completeness</h2><table><thead><tr><th>Source</th><th>Status</th><th>What was read</th></tr></thead><tbody>");
    for src in &r.sources {
        let _ = write!(
            s,
            "<tr><td><code>{}</code></td><td>scanned</td><td>{} files, {} commits, {} unique blobs</td></tr>",
            esc(src),
            r.stats.files_scanned,
            r.stats.commits,
            r.stats.blobs
        );
    }
    for c in &r.connectors {
        let mut what = format!(
            "{} identities, {} credentials, {} events, {} requests ({} refused)",
            c.identities, c.credentials, c.activities, c.requests, c.denied_requests
        );
        if let Some(e) = &c.error {
            let _ = write!(what, "<br><strong>error:</strong> {}", esc(e));
        }
        for n in &c.notes {
            let _ = write!(what, "<br>note: {}", esc(n));
        }
        let _ = write!(
            s,
            "<tr><td>{} <span class=\"muted\">({})</span></td><td>{}</td><td>{what}</td></tr>",
            esc(&c.source),
            esc(&c.connector),
            c.status
        );
    }
    for n in &r.notifications {
        let c = &n.changes;
        let mut what = format!(
            "notify: {} new, {} worsened, {} lapsed, {} resolved; {} request(s)",
            c.new, c.worsened, c.lapsed, c.resolved, n.attempts
        );
        if let Some(e) = &n.error {
            let _ = write!(what, "<br><strong>error:</strong> {}", esc(e));
        }
        let _ = write!(
            s,
            "<tr class=\"notification\"><td>{} <span class=\"muted\">({})</span></td><td>{}</td><td>{what}</td></tr>",
            esc(&n.target),
            esc(&n.kind),
            n.status
        );
    }
    s.push_str("</tbody></table>");
    let errors: Vec<_> = r.issues.iter().filter(|i| i.level == "error").collect();
    if !errors.is_empty() {
        s.push_str("<h3 style=\"margin-top:16px\">Could not be read</h3><ul>");
        for i in errors {
            let _ = write!(s, "<li><code>{}</code>: {}</li>", esc(&i.source), esc(&i.message));
        }
        s.push_str("</ul>");
    }
    let _ = writeln!(
        s,
        "<p class=\"muted\">Secrets are shown redacted (a public prefix and a quarter of the rest at most) with keyed fingerprints; no raw secret is in this report.</p></main><script>{SCRIPT}</script></body></html>"
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc("<script>alert('x')</script> & \""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;"
        );
    }
}
