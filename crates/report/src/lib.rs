//! Report writers: text for terminals, JSON (the versioned contract in `docs/report-format.md`),
//! JSONL, SARIF 2.1.0 for code scanning, CSV, Markdown and a self-contained HTML report. They take a [`Report`] whose findings
//! hold only redacted forms and fingerprints; the raw secret is never serialized (it appears only
//! when the caller filled `secret` for `--show-secrets`).

mod html;

pub use html::html;
use roster_model::{Finding, Report, Severity};
use serde_json::{Value, json};
use std::fmt::Write as _;

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
        Format::Text => text(report),
        Format::Json => serde_json::to_string_pretty(report).expect("report serializes") + "\n",
        Format::Jsonl => jsonl(report),
        Format::Sarif => sarif(report, rules),
        Format::Csv => csv(report),
        Format::Md => markdown(report),
        Format::Html => html(report),
    }
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

fn text(r: &Report) -> String {
    let mut s = String::new();
    for f in &r.findings {
        let _ = writeln!(
            s,
            "{:<8}  {}  {}",
            f.severity.as_str().to_uppercase(),
            f.rule_id,
            f.rule_name
        );
        let _ = writeln!(
            s,
            "          {}  {}",
            f.location(),
            f.secret.as_deref().unwrap_or(&f.redacted)
        );
        if let (Some(c), Some(a)) = (&f.commit, &f.author) {
            let _ = writeln!(
                s,
                "          commit {} by {} on {}",
                &c[..c.len().min(12)],
                a,
                f.date.as_deref().unwrap_or("?")
            );
        }
        if let Some(d) = &f.decoded {
            let _ = writeln!(s, "          decoded from {d}");
        }
        if let Some(p) = &f.paired_with
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
        "{} finding{}{}, {} agent{} in {} file{} ({:.1} MiB){} in {:.2}s{}",
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

fn jsonl(r: &Report) -> String {
    let mut s = String::new();
    for (kind, items) in [
        (
            "identity",
            r.identities.iter().map(serde_json::to_value).collect::<Vec<_>>(),
        ),
        ("activity", r.activities.iter().map(serde_json::to_value).collect()),
        ("connector", r.connectors.iter().map(serde_json::to_value).collect()),
        ("gap", r.gaps.iter().map(serde_json::to_value).collect()),
    ] {
        for v in items {
            let mut v = v.expect("record serializes");
            v["type"] = json!(kind);
            s.push_str(&v.to_string());
            s.push('\n');
        }
    }
    for f in &r.findings {
        let mut v = serde_json::to_value(f).expect("finding serializes");
        v["type"] = json!("finding");
        s.push_str(&v.to_string());
        s.push('\n');
    }
    for a in &r.agents {
        let mut v = serde_json::to_value(a).expect("agent serializes");
        v["type"] = json!("agent");
        s.push_str(&v.to_string());
        s.push('\n');
    }
    for i in &r.issues {
        let mut v = serde_json::to_value(i).expect("issue serializes");
        v["type"] = json!("issue");
        s.push_str(&v.to_string());
        s.push('\n');
    }
    let summary = json!({"type": "summary", "version": r.version, "tool": r.tool, "sources": r.sources,
        "incomplete": r.incomplete, "stats": r.stats});
    s.push_str(&summary.to_string());
    s.push('\n');
    s
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

fn sarif(r: &Report, rules: &[RuleInfo]) -> String {
    let mut used: Vec<&RuleInfo> = Vec::new();
    for f in &r.findings {
        if !used.iter().any(|u| u.id == f.rule_id)
            && let Some(ri) = rules.iter().find(|ri| ri.id == f.rule_id)
        {
            used.push(ri);
        }
    }
    let rule_objs: Vec<Value> = used
        .iter()
        .map(|ri| {
            let mut o = json!({
                "id": ri.id,
                "name": ri.name.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty())
                    .map(|w| { let mut c = w.chars(); c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default() })
                    .collect::<String>(),
                "shortDescription": {"text": ri.name},
                "fullDescription": {"text": if ri.description.is_empty() { ri.name.clone() } else { ri.description.clone() }},
                "help": {"text": format!("{}\nRotate the credential at the provider, then remove it from the code (and history).", ri.description)},
                "defaultConfiguration": {"level": sarif_level(ri.severity)},
                "properties": {"tags": ["security", "secret"], "precision": "high", "security-severity": security_severity(ri.severity)},
            });
            if let Some(u) = ri.references.first() {
                o["helpUri"] = json!(u);
            }
            o
        })
        .collect();
    let results: Vec<Value> = r
        .findings
        .iter()
        .map(|f| {
            let idx = used.iter().position(|u| u.id == f.rule_id);
            let mut msg = format!("{} found: {}", f.rule_name, f.secret.as_deref().unwrap_or(&f.redacted));
            if let (Some(c), Some(a)) = (&f.commit, &f.author) {
                let _ = write!(msg, " (introduced in commit {} by {})", &c[..c.len().min(12)], a);
            }
            let mut res = json!({
                "ruleId": f.rule_id,
                "level": sarif_level(f.severity),
                "message": {"text": msg},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": f.line.max(1), "startColumn": f.column.max(1)}
                }}],
                "partialFingerprints": {"rosterFingerprint/v1": f.fingerprint},
                "properties": {"provider": f.provider, "redacted": f.redacted, "severity": f.severity},
            });
            if let Some(i) = idx {
                res["ruleIndex"] = json!(i);
            }
            if let Some(c) = &f.commit {
                res["properties"]["commit"] = json!(c);
                res["properties"]["author"] = json!(f.author);
                res["properties"]["date"] = json!(f.date);
            }
            res
        })
        .collect();
    let notifications: Vec<Value> = r
        .issues
        .iter()
        .filter(|i| i.level == "error")
        .map(|i| json!({"level": "warning", "message": {"text": format!("{}: {}", i.source, i.message)}}))
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "roster",
                "version": r.tool.version,
                "semanticVersion": r.tool.version,
                "informationUri": "https://github.com/roster-nhi/roster",
                "rules": rule_objs,
            }},
            "results": results,
            "invocations": [{"executionSuccessful": !r.incomplete, "toolExecutionNotifications": notifications}],
        }],
    });
    serde_json::to_string_pretty(&doc).expect("SARIF serializes") + "\n"
}

fn csv_field(s: &str) -> String {
    // Quote always; neutralize spreadsheet formulas.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn csv(r: &Report) -> String {
    let mut s =
        String::from("severity,rule_id,provider,source,path,line,column,redacted,fingerprint,commit,author,date\n");
    for f in &r.findings {
        let row = [
            f.severity.as_str().to_owned(),
            f.rule_id.clone(),
            f.provider.clone(),
            f.source.clone(),
            f.path.clone(),
            f.line.to_string(),
            f.column.to_string(),
            f.secret.clone().unwrap_or_else(|| f.redacted.clone()),
            f.fingerprint.clone(),
            f.commit.clone().unwrap_or_default(),
            f.author.clone().unwrap_or_default(),
            f.date.clone().unwrap_or_default(),
        ];
        let row: Vec<String> = row.iter().map(|c| csv_field(c)).collect();
        s.push_str(&row.join(","));
        s.push('\n');
    }
    s
}

/// The gaps as text for a terminal: one block per gap with its owner, evidence and remediation,
/// then counts per kind.
pub fn gaps_text(r: &Report) -> String {
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
        for e in &g.evidence {
            let _ = writeln!(s, "          - [{}] {}", e.source, e.detail);
        }
        let _ = writeln!(s, "          fix: {}", g.remediation);
        s.push('\n');
    }
    let _ = writeln!(s, "{}", gap_summary(r));
    let failing: Vec<&str> = r
        .compliance
        .iter()
        .filter(|c| c.status == "fail")
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
    s
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
            g.id.clone(),
            g.severity.as_str().to_owned(),
            g.kind.as_str().to_owned(),
            g.title.clone(),
            g.entities.first().map(|e| e.id.clone()).unwrap_or_default(),
            g.owner.as_ref().map(|o| o.name.clone()).unwrap_or_default(),
            g.owner.as_ref().map(|o| o.via.clone()).unwrap_or_default(),
            g.owner.as_ref().map(|o| o.attested.to_string()).unwrap_or_default(),
            g.standards.join("; "),
            g.remediation.clone(),
            g.evidence
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
            .map_or("**none**".to_string(), |o| format!("{} ({})", o.name, o.via));
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
            md_cell(&owner)
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
            g.standards.join(", ")
        );
        for e in &g.evidence {
            let when = e.time.as_deref().map(|t| format!(" ({t})")).unwrap_or_default();
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

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn markdown(r: &Report) -> String {
    let mut s = String::from(if r.gaps.is_empty() && r.identities.is_empty() {
        "# Roster scan report\n\n"
    } else {
        "# Roster discovery report\n\n"
    });
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
                "| {} | {} | `{}` | `{}` | {} |",
                f.severity,
                md_cell(&f.rule_name),
                md_cell(&f.location()),
                md_cell(f.secret.as_deref().unwrap_or(&f.redacted)),
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
                "| `{}` | {} | {} | {} |",
                md_cell(&a.path),
                md_cell(&a.frameworks.join(", ")),
                md_cell(&creds.join(", ")),
                md_cell(&servers.join(", "))
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
