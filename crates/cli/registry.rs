//! `roster registry init`: drafts agent-registry entries for the agents a discover run found
//! unregistered, for their owners to confirm (onboarding).

use anyhow::{Context, Result, bail};
use roster_model::{GapKind, Report};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() { "agent".into() } else { out }
}

/// A literal path as a registry `code` glob: glob metacharacters match only themselves.
fn glob_literal(path: &str) -> String {
    path.chars()
        .map(|c| {
            if "*?[]{}".contains(c) {
                format!("[{c}]")
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// TOML basic string.
fn quote(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(o, "\\u{:04X}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// The draft registry text for the unregistered agents in `report`.
pub fn draft(report: &Report, origin: &str) -> String {
    let mut s = format!(
        "# Agent registry entries drafted by `roster registry init` from {origin}.\n\
         # For each: confirm the owner (inferred owners are marked), write the purpose, set a\n\
         # review date, then move the entry into agents.toml. Schema: docs/registry.md.\n"
    );
    let mut ids = BTreeSet::new();
    let mut n = 0;
    for g in report.gaps.iter().filter(|g| g.kind == GapKind::UnregisteredAgent) {
        let Some(subject) = g.entities.first() else { continue };
        let (code, identities, name) = match subject.kind.as_str() {
            "agent" => {
                let a = report.agents.iter().find(|a| a.id == subject.id);
                let path = a.map_or(subject.name.as_str(), |a| a.path.as_str());
                let frameworks = a.map(|a| a.frameworks.join(", ")).unwrap_or_default();
                let linked: Vec<String> = g
                    .entities
                    .iter()
                    .skip(1)
                    .filter(|e| e.kind == "identity")
                    .map(|e| e.id.to_string())
                    .collect();
                let label = if path == "." {
                    "repository root".to_owned()
                } else {
                    path.to_owned()
                };
                (vec![glob_literal(path)], linked, format!("{label} ({frameworks})"))
            }
            "identity" => {
                let mut identities = vec![subject.id.to_string()];
                // A platform's agent (Bedrock) and the role it acts as are registered together.
                let role = report
                    .identities
                    .iter()
                    .find(|i| i.id == subject.id.as_ref())
                    .and_then(|i| i.attrs.get("role_arn"))
                    .filter(|r| report.identities.iter().any(|i| &i.id == *r));
                identities.extend(role.cloned());
                (vec![], identities, subject.name.to_string())
            }
            _ => continue,
        };
        let base = slug(if code.first().is_some_and(|c| c != ".") {
            &code[0]
        } else {
            &name
        });
        let mut id = base.clone();
        let mut k = 2;
        while !ids.insert(id.clone()) {
            id = format!("{base}-{k}");
            k += 1;
        }
        let _ = writeln!(s, "\n[[agent]]\nid = {}\nname = {}", quote(&id), quote(&name));
        match &g.owner {
            Some(o) if o.attested => {
                let _ = writeln!(s, "owner = {}  # from {}", quote(&o.name), o.via);
            }
            Some(o) => {
                let _ = writeln!(
                    s,
                    "owner = {}  # INFERRED from {}: confirm with them",
                    quote(&o.name),
                    o.via
                );
            }
            None => {
                s.push_str("owner = \"\"  # no owner found: name the accountable person\n");
            }
        }
        s.push_str("purpose = \"\"  # what it does and why\n");
        if !code.is_empty() {
            let _ = writeln!(
                s,
                "code = [{}]",
                code.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ")
            );
        }
        if !identities.is_empty() {
            let _ = writeln!(
                s,
                "identities = [{}]",
                identities.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ")
            );
        }
        s.push_str("# review_by = \"YYYY-MM-DD\"\n");
        n += 1;
    }
    if n == 0 {
        s.push_str("\n# Every agent the report found is registered.\n");
    }
    s
}

/// `roster registry init`.
pub fn init(report_path: &Path, output: Option<&Path>) -> Result<std::process::ExitCode> {
    let text = std::fs::read_to_string(report_path).with_context(|| {
        format!(
            "cannot read the report {} (run `roster discover` first; it writes roster-report/report.json)",
            report_path.display()
        )
    })?;
    let report: Report = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a Roster JSON report", report_path.display()))?;
    let out = draft(&report, &report_path.display().to_string());
    match output {
        Some(p) if p.exists() => bail!(
            "{} exists; write the drafts elsewhere and merge the entries you confirm",
            p.display()
        ),
        Some(p) => {
            crate::private::write(p, &out).with_context(|| format!("cannot write {}", p.display()))?;
            eprintln!("roster: drafted registry entries in {}", p.display());
        }
        None => crate::write_output(None, &out)?,
    }
    Ok(std::process::ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_quotes() {
        assert_eq!(slug("agents/triage"), "agents-triage");
        assert_eq!(slug("triage-agent-role"), "triage-agent-role");
        assert_eq!(slug("///"), "agent");
        assert_eq!(glob_literal("a/{x}*"), "a/[{]x[}][*]");
        assert_eq!(quote("a \"b\" \\ c\n"), "\"a \\\"b\\\" \\\\ c\\u000A\"");
    }
}
