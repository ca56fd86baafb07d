//! Markdown: gaps, compliance, findings, agents and issues.

use roster_model::Report;
use std::fmt::Write as _;

use crate::{counts, gap_summary};

fn md_gaps(r: &Report, s: &mut String) {
    if !r.gaps.is_empty() {
        md_gap_list(r, s);
    }
    md_compliance(r, s);
}

fn md_gap_list(r: &Report, s: &mut String) {
    let _ = writeln!(s, "## Ownership gaps\n\n{}\n", md_cell(&gap_summary(r)));
    s.push_str("| Severity | Kind | Gap | Owner |\n|---|---|---|---|\n");
    for g in &r.gaps {
        let owner = g
            .owner
            .as_ref()
            .map_or("**none**".to_string(), |o| md_cell(&format!("{} ({})", o.name, o.via)));
        let _ = writeln!(
            s,
            "| {} | {} | [{}](#{}){} | {} |",
            g.severity,
            g.kind,
            md_cell(&g.title),
            g.id,
            g.accepted
                .as_ref()
                .map(|a| format!(" (accepted: {})", md_cell(&a.reason)))
                .unwrap_or_default(),
            owner
        );
    }
    s.push('\n');
    for g in &r.gaps {
        let _ = writeln!(s, "### {}: {}\n", g.id, md_cell(&g.title));
        let _ = writeln!(
            s,
            "Severity **{}**, kind `{}`; maps to {}.\n",
            g.severity,
            g.kind,
            md_cell(&g.standards.join(", "))
        );
        for e in g.evidence(&r.findings) {
            let when = e
                .time
                .as_deref()
                .map(|t| format!(" ({})", md_cell(t)))
                .unwrap_or_default();
            let _ = writeln!(s, "1. [{}] {}{when}", md_cell(&e.source), md_cell(&e.detail));
        }
        let _ = writeln!(s, "\n**Remediation:** {}\n", md_cell(&g.remediation));
    }
}

fn md_compliance(r: &Report, s: &mut String) {
    if !r.compliance.is_empty() {
        s.push_str("## Compliance mapping\n\n| Control | Requirement | Status | Why |\n|---|---|---|---|\n");
        for c in &r.compliance {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                md_cell(&c.control),
                md_cell(&c.requirement),
                c.status,
                md_cell(&c.reasons.join("; "))
            );
        }
        s.push('\n');
    }
}

/// Text from outside (paths, provider names, authors, evidence) as inert Markdown on one line:
/// every ASCII punctuation character that Markdown or HTML gives a meaning is backslash-escaped
/// (CommonMark lets any of them be), so `<img onerror=...>`, `[x](javascript:...)`, emphasis,
/// code and table pipes all show as typed; line breaks become spaces and control characters
/// U+FFFD.
fn md_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in crate::terminal_safe(s).chars() {
        match c {
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '<' | '>' | '(' | ')' | '#' | '!' | '|' | '~' | '&'
            | '$' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text from outside as an inline code span on one line: fenced by one more backtick than the
/// longest run inside it, so a backtick cannot end it early; pipes escaped for tables (GFM reads
/// `\|` in a cell as a pipe, even in code).
fn md_code(s: &str) -> String {
    let text: String = crate::terminal_safe(s)
        .chars()
        .map(|c| if matches!(c, '\n' | '\r' | '\t') { ' ' } else { c })
        .collect::<String>()
        .replace('|', "\\|");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

pub(crate) fn markdown(r: &Report) -> String {
    let mut s = String::from(if r.gaps.is_empty() && r.identities.is_empty() {
        "# Roster scan report"
    } else {
        "# Roster discovery report"
    });
    if let Some(o) = &r.organization {
        let _ = write!(s, ": {}", md_cell(o));
    }
    s.push_str("\n\n");
    let _ = writeln!(
        s,
        "{} finding(s){}, {} agent(s); {} files, {} commits scanned.{}\n",
        r.findings.len(),
        counts(&r.findings),
        r.agents.len(),
        r.stats.files_scanned,
        r.stats.commits,
        if r.incomplete {
            " **Incomplete: see Issues.**"
        } else {
            ""
        }
    );
    md_gaps(r, &mut s);
    if !r.findings.is_empty() {
        s.push_str("## Findings\n\n| Severity | Rule | Location | Secret | Commit |\n|---|---|---|---|---|\n");
        for f in &r.findings {
            let commit = match (&f.commit, &f.author) {
                (Some(c), Some(a)) => format!("{} by {}", &c[..c.len().min(12)], a),
                _ => String::new(),
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                f.severity,
                md_cell(&f.rule_name),
                md_code(&f.location()),
                md_code(f.secret().unwrap_or(&f.redacted)),
                md_cell(&commit)
            );
        }
        s.push('\n');
    }
    if !r.agents.is_empty() {
        s.push_str("## Agents\n\n| Path | Frameworks | Credentials | MCP servers |\n|---|---|---|---|\n");
        for a in &r.agents {
            let creds: Vec<String> = a
                .credentials
                .iter()
                .map(|c| {
                    if c.kind == "finding" {
                        format!("{} {}", c.name, c.redacted.as_deref().unwrap_or(""))
                    } else {
                        format!("${}", c.name)
                    }
                })
                .collect();
            let servers: Vec<&str> = a.mcp_servers.iter().map(|m| m.name.as_str()).collect();
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                md_code(&a.path),
                md_cell(&a.frameworks.join(", ")),
                md_cell(&creds.join(", ")),
                md_cell(&servers.join(", "))
            );
        }
        s.push('\n');
    }
    if !r.notifications.is_empty() {
        s.push_str("## Notifications\n\n| Target | Kind | Status | New | Worsened | Lapsed | Resolved | Requests | Error |\n|---|---|---|---|---|---|---|---|---|\n");
        for n in &r.notifications {
            let c = &n.changes;
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                md_cell(&n.target),
                n.kind,
                n.status,
                c.new,
                c.worsened,
                c.lapsed,
                c.resolved,
                n.attempts,
                md_cell(n.error.as_deref().unwrap_or(""))
            );
        }
        s.push('\n');
    }
    let errors: Vec<_> = r.issues.iter().filter(|i| i.level == "error").collect();
    if !errors.is_empty() {
        s.push_str("## Issues\n\n");
        for i in errors {
            let _ = writeln!(s, "- {}: {}", md_cell(&i.source), md_cell(&i.message));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::{md_cell, md_code};

    #[test]
    fn outside_text_is_inert() {
        assert_eq!(md_cell("a|b\nc"), "a\\|b c");
        assert_eq!(
            md_cell("<img src=x onerror=alert(1)>"),
            "\\<img src=x onerror=alert\\(1\\)\\>"
        );
        assert_eq!(
            md_cell("[x](javascript:alert(1))"),
            "\\[x\\]\\(javascript:alert\\(1\\)\\)"
        );
        assert_eq!(md_cell("*bold* `code`"), "\\*bold\\* \\`code\\`");
        assert_eq!(md_code("a`b``c|d"), "```a`b``c\\|d```");
        assert_eq!(md_code("`x"), "`` `x ``");
    }
}
