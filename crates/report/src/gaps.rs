//! The ownership gaps as terminal text, a one-line summary and CSV.

use roster_model::Report;
use std::fmt::Write as _;

use crate::csv::csv_field;

/// The gaps as text for a terminal: one block per gap with its owner, evidence and remediation,
/// then counts per kind.
pub fn gaps_text(r: &Report) -> String {
    crate::terminal_safe(&gaps_text_raw(&crate::one_line_strings(r)))
}

fn gaps_text_raw(r: &Report) -> String {
    let mut s = String::new();
    for g in &r.gaps {
        let _ = writeln!(s, "{:<8}  {}  {}", g.severity.as_str().to_uppercase(), g.kind, g.title);
        let owner = g.owner.as_ref().map_or("no accountable owner".to_string(), |o| {
            format!("owner {} (via {})", o.name, o.via)
        });
        let _ = writeln!(s, "          {}  {owner}", g.id);
        if let Some(a) = &g.accepted {
            let _ = writeln!(
                s,
                "          ACCEPTED: {} (on {}{})",
                a.reason,
                a.accepted,
                a.until.as_deref().map(|u| format!(", until {u}")).unwrap_or_default()
            );
        }
        for e in g.evidence(&r.findings) {
            let _ = writeln!(s, "          - [{}] {}", e.source, e.detail);
        }
        let _ = writeln!(s, "          fix: {}", g.remediation);
        s.push('\n');
    }
    let _ = writeln!(s, "{}", gap_summary(r));
    let failing: Vec<&str> = r
        .compliance
        .iter()
        .filter(|c| c.status == roster_model::ControlStatus::Fail)
        .map(|c| c.control.as_str())
        .collect();
    if !r.compliance.is_empty() {
        let _ = writeln!(
            s,
            "Compliance: {} of {} controls fail{}",
            failing.len(),
            r.compliance.len(),
            if failing.is_empty() {
                String::new()
            } else {
                format!(" ({})", failing.join(", "))
            }
        );
    }
    notifications_text(r, &mut s);
    s
}

/// One line per `[[notify]]` target: what it was sent, or why it failed.
fn notifications_text(r: &Report, s: &mut String) {
    for n in &r.notifications {
        let c = &n.changes;
        let what = format!(
            "{} change(s): {} new, {} worsened, {} lapsed, {} resolved",
            c.total(),
            c.new,
            c.worsened,
            c.lapsed,
            c.resolved
        );
        let _ = match n.status {
            roster_model::DeliveryStatus::NothingToSend => {
                writeln!(s, "Notify {} ({}): nothing to send", n.target, n.kind)
            }
            roster_model::DeliveryStatus::Delivered => writeln!(
                s,
                "Notify {} ({}): delivered {what} ({} request(s))",
                n.target, n.kind, n.attempts
            ),
            roster_model::DeliveryStatus::Failed => writeln!(
                s,
                "Notify {} ({}): FAILED to deliver {what}: {}",
                n.target,
                n.kind,
                n.error.as_deref().unwrap_or("?")
            ),
        };
    }
}

/// One line: how many gaps of each kind, and whether the inventory is complete.
pub fn gap_summary(r: &Report) -> String {
    let mut per: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for g in &r.gaps {
        *per.entry(g.kind.as_str()).or_default() += 1;
    }
    let kinds: Vec<String> = per.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let accepted = r.gaps.iter().filter(|g| g.accepted.is_some()).count();
    format!(
        "{} gap{}{}{} across {} identities, {} agents, {} secrets found in code{}",
        r.gaps.len(),
        if r.gaps.len() == 1 { "" } else { "s" },
        if kinds.is_empty() {
            String::new()
        } else {
            format!(" ({})", kinds.join(", "))
        },
        if accepted == 0 {
            String::new()
        } else {
            format!(", {accepted} of them accepted in the baseline")
        },
        r.identities.len(),
        r.agents.len(),
        r.findings.len(),
        if r.incomplete {
            "; INCOMPLETE: some sources could not be fully read (see the report's issues)"
        } else {
            ""
        }
    )
}

/// The gaps as CSV, one row each (an access-review sheet).
pub fn gaps_csv(r: &Report) -> String {
    let mut s = String::from(
        "id,severity,kind,title,subject,owner,owner_via,attested,standards,remediation,evidence,accepted\n",
    );
    for g in &r.gaps {
        let row = [
            g.id.to_string(),
            g.severity.as_str().to_owned(),
            g.kind.as_str().to_owned(),
            g.title.clone(),
            g.entities.first().map(|e| e.id.to_string()).unwrap_or_default(),
            g.owner.as_ref().map(|o| o.name.to_string()).unwrap_or_default(),
            g.owner.as_ref().map(|o| o.via.to_string()).unwrap_or_default(),
            g.owner.as_ref().map(|o| o.attested.to_string()).unwrap_or_default(),
            g.standards.join("; "),
            g.remediation.to_string(),
            g.evidence(&r.findings)
                .iter()
                .map(|e| format!("[{}] {}", e.source, e.detail))
                .collect::<Vec<_>>()
                .join(" | "),
            g.accepted
                .as_ref()
                .map(|a| match &a.until {
                    Some(u) => format!("{} (until {u})", a.reason),
                    None => a.reason.clone(),
                })
                .unwrap_or_default(),
        ];
        let row: Vec<String> = row.iter().map(|c| csv_field(c)).collect();
        s.push_str(&row.join(","));
        s.push('\n');
    }
    s
}
