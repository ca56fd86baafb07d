//! The text format for terminals: findings, agents, identities and connector runs.

use roster_model::Report;
use std::fmt::Write as _;

use crate::counts;

pub(crate) fn text(r: &Report) -> String {
    let mut s = String::new();
    for f in &r.findings {
        let _ = writeln!(
            s,
            "{:<8}  {}  {}",
            f.severity.as_str().to_uppercase(),
            f.rule_id,
            f.rule_name
        );
        let _ = writeln!(s, "          {}  {}", f.location(), f.secret().unwrap_or(&f.redacted));
        if let (Some(c), Some(a)) = (&f.commit, &f.author) {
            let _ = writeln!(
                s,
                "          commit {} by {} on {}",
                &c[..c.len().min(12)],
                a,
                f.date.as_deref().unwrap_or("?")
            );
        }
        if let Some(d) = f.decoded() {
            let _ = writeln!(s, "          decoded from {d}");
        }
        if let Some(v) = f.validation() {
            let _ = writeln!(
                s,
                "          validation: {} ({})",
                v.as_str(),
                f.validation_detail().unwrap_or("")
            );
        }
        if let Some(p) = f.paired_with()
            && let Some(partner) = r.findings.iter().find(|o| o.fingerprint == *p)
        {
            let _ = writeln!(
                s,
                "          pairs with {} {} (a usable credential)",
                partner.rule_id, partner.redacted
            );
        }
        let _ = writeln!(
            s,
            "          fingerprint {}",
            &f.fingerprint[..16.min(f.fingerprint.len())]
        );
        s.push('\n');
    }
    for a in &r.agents {
        let _ = writeln!(
            s,
            "AGENT     {}  [{}]  in {}",
            a.path,
            a.frameworks.join(", "),
            a.source
        );
        for c in &a.credentials {
            match c.kind.as_str() {
                "finding" => {
                    let _ = writeln!(
                        s,
                        "          uses {} {} ({}:{})",
                        c.name,
                        c.redacted.as_deref().unwrap_or(""),
                        c.path,
                        c.line
                    );
                }
                _ => {
                    let _ = writeln!(s, "          reads ${}", c.name);
                }
            }
        }
        for m in &a.mcp_servers {
            let pin = if m.pinned { "pinned" } else { "unpinned" };
            let _ = writeln!(
                s,
                "          mcp server {} ({} {}, {})",
                m.name,
                m.transport,
                m.package.as_deref().unwrap_or(&m.target),
                pin
            );
        }
    }
    identities_text(r, &mut s);
    if r.findings.is_empty() && r.agents.is_empty() && r.stats.files_scanned == 0 && !r.connectors.is_empty() {
        return s;
    }
    let st = &r.stats;
    let _ = writeln!(
        s,
        "{} finding{}{}, {} agent{} in {} file{} ({:.1} MiB){} in {:.2}s{}{}",
        r.findings.len(),
        if r.findings.len() == 1 { "" } else { "s" },
        counts(&r.findings),
        r.agents.len(),
        if r.agents.len() == 1 { "" } else { "s" },
        st.files_scanned,
        if st.files_scanned == 1 { "" } else { "s" },
        st.bytes_scanned as f64 / 1_048_576.0,
        if st.commits > 0 {
            format!(", {} commits, {} unique blobs", st.commits, st.blobs)
        } else {
            String::new()
        },
        st.elapsed_ms as f64 / 1000.0,
        if st.findings_over_cap > 0 {
            format!(
                "; {} more not reported (a rule's cap per file, see the issues)",
                st.findings_over_cap
            )
        } else {
            String::new()
        },
        if r.incomplete {
            "; INCOMPLETE: some sources could not be fully read (see warnings)"
        } else {
            ""
        },
    );
    s
}

/// Identities collected by connectors, and how each source's run ended.
fn identities_text(r: &Report, s: &mut String) {
    for i in &r.identities {
        let owner = i
            .owner
            .as_ref()
            .map_or("no owner".to_string(), |o| format!("owner {} ({})", o.name, o.via));
        let _ = writeln!(s, "IDENTITY  {}  {}  [{}]  {}", i.kind, i.name, i.source, owner);
        let _ = writeln!(s, "          {}", i.id);
        if !i.trusted_by.is_empty() {
            let _ = writeln!(s, "          trusted by {}", i.trusted_by.join(", "));
        }
        for c in &i.credentials {
            let _ = writeln!(
                s,
                "          {} {} {}, created {}, last used {}{}",
                c.kind,
                c.id,
                c.status,
                c.created.as_deref().unwrap_or("?"),
                c.last_used.as_deref().unwrap_or("never"),
                c.last_used_service
                    .as_ref()
                    .map(|v| format!(" ({v})"))
                    .unwrap_or_default()
            );
        }
        for p in &i.permissions {
            let admin = if p.attrs.get("admin").is_some_and(|v| v == "true") {
                "  ADMIN"
            } else {
                ""
            };
            let _ = writeln!(s, "          {} {}{admin}", p.kind, p.name);
        }
    }
    for c in &r.connectors {
        let _ = writeln!(
            s,
            "SOURCE    {} ({}): {}, {} identities, {} credentials, {} events, {} requests ({} refused) in {:.2}s",
            c.source,
            c.connector,
            c.status,
            c.identities,
            c.credentials,
            c.activities,
            c.requests,
            c.denied_requests,
            c.elapsed_ms as f64 / 1000.0
        );
        if let Some(e) = &c.error {
            let _ = writeln!(s, "          error: {e}");
        }
        for n in &c.notes {
            let _ = writeln!(s, "          note: {n}");
        }
    }
}
