//! Report writers: text for terminals, JSON (the versioned contract in `docs/report-format.md`),
//! JSONL, SARIF 2.1.0 for code scanning, CSV, Markdown and a self-contained HTML report. They take a [`Report`] whose findings
//! hold only redacted forms and fingerprints; the raw secret is never serialized (it appears only
//! when the caller filled `secret` for `--show-secrets`).

mod csv;
mod gaps;
mod html;
mod jsonl;
mod markdown;
mod ocsf;
mod sarif;
mod text;

use csv::csv;
pub use gaps::{gap_summary, gaps_csv, gaps_text};
pub use html::html;
use std::fmt::Write as _;

/// Escapes text, and shows `quoted` names as code.
pub fn html_rich(s: &str) -> String {
    let mut out = String::new();
    for (i, part) in s.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{}</code>", html_escape(part));
        } else {
            out.push_str(&html_escape(part));
        }
    }
    out
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

use jsonl::jsonl;
use markdown::markdown;
pub use ocsf::{OCSF_VERSION, ocsf};
use roster_model::{Finding, Report, Severity};
use sarif::sarif;
use text::text;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable.
    Text,
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// SARIF 2.1.0.
    Sarif,
    /// CSV of findings.
    Csv,
    /// Markdown.
    Md,
    /// Self-contained HTML (the discovery report).
    Html,
    /// OCSF 1.5.0 Detection Findings, one per line (for SIEMs).
    Ocsf,
}

impl Format {
    /// Parses a format name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "text" => Format::Text,
            "json" => Format::Json,
            "jsonl" => Format::Jsonl,
            "sarif" => Format::Sarif,
            "csv" => Format::Csv,
            "md" | "markdown" => Format::Md,
            "html" => Format::Html,
            "ocsf" => Format::Ocsf,
            _ => return None,
        })
    }
}

/// What SARIF needs to know about a rule.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Severity.
    pub severity: Severity,
    /// Documentation links.
    pub references: Vec<String>,
}

/// Renders `report` in `format`.
pub fn render(report: &Report, format: Format, rules: &[RuleInfo]) -> String {
    match format {
        Format::Text => terminal_safe(&text(&one_line_strings(report))),
        Format::Json => serde_json::to_string_pretty(report).expect("report serializes") + "\n",
        Format::Jsonl => jsonl(report),
        Format::Sarif => sarif(report, rules),
        Format::Csv => csv(report),
        Format::Md => markdown(report),
        Format::Html => html(report),
        Format::Ocsf => ocsf(report, rules, now_ms(), "scan"),
    }
}

/// Now, in Unix milliseconds (an OCSF event's time when the caller has no run time).
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The report with every string on one line and free of control characters (line breaks and
/// tabs become spaces, others U+FFFD), for the text formats: a name from outside cannot break
/// a line and forge one of the report's own.
pub(crate) fn one_line_strings(r: &Report) -> std::borrow::Cow<'_, Report> {
    let mut copy = r.clone();
    let edited = roster_model::edit_strings(&mut copy, |_, s| s.contains(char::is_control).then(|| one_line(s)));
    match edited {
        Ok(()) => std::borrow::Cow::Owned(copy),
        Err(_) => std::borrow::Cow::Borrowed(r),
    }
}

/// `s` on one line for a terminal: line breaks and tabs become spaces, other control characters
/// (C0 and C1, escape sequences among them) U+FFFD.
pub fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => '\u{fffd}',
            c => c,
        })
        .collect()
}

/// Text for a terminal: control characters (C0 and C1, escape sequences among them) from paths,
/// names or messages an attacker may control are shown as U+FFFD; newlines and tabs stay.
pub fn terminal_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

fn counts(findings: &[Finding]) -> String {
    let parts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter_map(|s| {
            let n = findings.iter().filter(|f| f.severity == *s).count();
            (n > 0).then(|| format!("{n} {s}"))
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

#[cfg(test)]
mod terminal_tests {
    use super::terminal_safe;

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let hostile = "app\x1b]0;owned\x07/\x1b[2Jkey\u{9b}31m.env\r\nnext\tline";
        let shown = terminal_safe(hostile);
        assert!(
            !shown.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
            "{shown:?}"
        );
        assert!(shown.ends_with("\nnext\tline"), "{shown:?}");
    }
}
