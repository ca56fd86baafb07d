//! Accepted gaps (`roster baseline accept`, `list`, `revoke`) and how an acceptance applies to a
//! run's gaps.

use crate::discover::now_ms;
use crate::history::open_existing_store;
use anyhow::{Context, Result};
use roster_model::{Report, Severity};
use std::collections::BTreeMap;
use std::path::Path;

/// Whether an acceptance has lapsed: it holds through its `until` day (UTC).
fn lapsed(a: &roster_model::Acceptance, now_ms: i64) -> bool {
    a.until
        .as_deref()
        .and_then(roster_model::parse_time)
        .is_some_and(|t| now_ms >= t + 86_400_000)
}

/// Marks the gaps the organization accepted (`roster baseline accept`). An acceptance that has
/// lapsed (measured from the wall clock, not `as_of`), or whose gap became more severe since,
/// leaves the gap open, saying why.
pub(crate) fn apply_baseline(report: &mut Report, accepted: &BTreeMap<String, roster_store::AcceptedGap>, now_ms: i64) {
    for g in &mut report.gaps {
        let Some(x) = accepted.get(g.id.as_str()) else {
            continue;
        };
        let a = &x.acceptance;
        let why_open = if lapsed(a, now_ms) {
            Some(format!(
                "the acceptance lapsed after {}",
                a.until.as_deref().unwrap_or("?")
            ))
        } else if Severity::ALL
            .iter()
            .find(|s| s.as_str() == x.severity)
            .is_some_and(|was| g.severity > *was)
        {
            Some(format!("it was {} then and is {} now", x.severity, g.severity.as_str()))
        } else {
            None
        };
        match why_open {
            Some(why) => g.said.push(roster_model::Evidence {
                source: "baseline".into(),
                detail: format!("accepted on {} ({}), but {why}: decide again", a.accepted, a.reason),
                time: None,
            }),
            None => g.accepted = Some(Box::new(a.clone())),
        }
    }
}

/// `roster baseline accept`.
pub fn accept_command(args: &crate::args::AcceptArgs) -> Result<std::process::ExitCode> {
    if args.reason.trim().is_empty() {
        anyhow::bail!("--reason is empty: say why the gap is accepted (a ticket, a compensating control)");
    }
    let until = match &args.until {
        Some(d) => {
            let t = roster_model::parse_time(d)
                .with_context(|| format!("--until {d:?} is not a date: write YYYY-MM-DD"))?;
            if t + 86_400_000 <= now_ms() {
                anyhow::bail!("--until {d} has passed: give a date from today on");
            }
            Some(roster_model::format_millis(t))
        }
        None => None,
    };
    let (mut store, _) = open_existing_store(args.state_dir.as_deref(), args.config.as_deref())?;
    let scope = crate::state::reading_scope(&store, args.scope.as_deref(), args.config.as_deref())?;
    let Some((run, gaps)) = store.run_gaps(&scope, None)? else {
        anyhow::bail!(
            "no runs recorded in scope {scope:?}: run `roster discover` first (scopes with runs: {})",
            crate::state::scope_list(&store)?
        );
    };
    let ids: Vec<String> = if args.all {
        gaps.keys().cloned().collect()
    } else {
        args.ids.clone()
    };
    let mut chosen = vec![];
    for id in &ids {
        chosen.push(gaps.get(id).with_context(|| {
            format!(
                "{id} is not a gap of the last run (run {run}) of scope {scope:?}; gap ids are in its report.json and gaps.csv"
            )
        })?);
    }
    let a = roster_model::Acceptance {
        reason: args.reason.trim().to_owned(),
        accepted: roster_model::format_millis(now_ms()),
        until,
        by: std::env::var("USER").ok().filter(|u| !u.is_empty()),
    };
    store.accept(&chosen, &a)?;
    crate::write_output(
        None,
        &format!(
            "Accepted {} gap(s) of run {run}{}; they no longer fail --fail-on (`roster baseline list` shows them)\n",
            chosen.len(),
            a.until.as_deref().map(|u| format!(" until {u}")).unwrap_or_default()
        ),
    )?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// `roster baseline list`.
pub fn baseline_list(format: &str, state_dir: Option<&Path>) -> Result<std::process::ExitCode> {
    let (store, _) = open_existing_store(state_dir, None)?;
    let all = store.acceptances()?;
    let text = match format {
        "json" => {
            let rows: Vec<_> = all
                .iter()
                .map(|(id, x)| serde_json::json!({"gap_id": id, "kind": x.kind, "title": x.title, "severity": x.severity, "acceptance": x.acceptance, "lapsed": lapsed(&x.acceptance, now_ms())}))
                .collect();
            serde_json::to_string_pretty(&rows)? + "\n"
        }
        "text" => {
            let mut s = format!("{} accepted gap(s)\n", all.len());
            for (id, x) in &all {
                let (kind, title, a) = (&x.kind, &x.title, &x.acceptance);
                s.push_str(&format!(
                    "{id}  {kind}  {title}{}\n    {} on {}{}{}\n",
                    if lapsed(a, now_ms()) { "  LAPSED" } else { "" },
                    a.reason,
                    a.accepted,
                    a.until.as_deref().map(|u| format!(", until {u}")).unwrap_or_default(),
                    a.by.as_deref().map(|b| format!(", by {b}")).unwrap_or_default()
                ));
            }
            s
        }
        other => anyhow::bail!("unknown format {other:?}: use text or json"),
    };
    crate::write_output(None, &text)?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// `roster baseline revoke`.
pub fn baseline_revoke(ids: &[String], state_dir: Option<&Path>) -> Result<std::process::ExitCode> {
    let (mut store, _) = open_existing_store(state_dir, None)?;
    let n = store.revoke(ids)?;
    if n < ids.len() {
        eprintln!(
            "roster: {} of the {} id(s) were not in the baseline",
            ids.len() - n,
            ids.len()
        );
    }
    crate::write_output(None, &format!("Revoked {n} acceptance(s)\n"))?;
    Ok(std::process::ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lapsed_acceptance_leaves_the_gap_open_and_says_so() {
        let mut r = Report::empty("test");
        let gap = |id: &str| {
            roster_model::Gap::new(
                id.into(),
                roster_model::GapKind::NoOwner,
                roster_model::Severity::High,
                id.into(),
                vec![],
            )
        };
        r.gaps = vec![gap("current"), gap("lapsed"), gap("other"), gap("worse")];
        r.gaps[3].severity = roster_model::Severity::Critical;
        let a = |until: Option<&str>| roster_model::Acceptance {
            reason: "SEC-1".into(),
            accepted: "2026-01-01T00:00:00Z".into(),
            until: until.map(str::to_owned),
            by: None,
        };
        let entry = |acceptance| roster_store::AcceptedGap {
            kind: "no-owner".into(),
            title: String::new(),
            severity: "high".into(),
            acceptance,
        };
        let accepted = BTreeMap::from([
            ("current".to_string(), entry(a(Some("2027-01-01T00:00:00Z")))),
            ("lapsed".to_string(), entry(a(Some("2026-06-01T00:00:00Z")))),
            ("worse".to_string(), entry(a(None))),
        ]);
        apply_baseline(&mut r, &accepted, roster_model::parse_time("2026-12-02").unwrap());
        assert!(r.gaps[0].accepted.is_some());
        assert!(r.gaps[1].accepted.is_none());
        assert!(
            r.gaps[1].said[0].detail.contains("lapsed after 2026-06-01"),
            "{:?}",
            r.gaps[1].said
        );
        assert!(r.gaps[2].accepted.is_none() && r.gaps[2].said.is_empty());
        // Accepted at high, critical now: open again.
        assert!(r.gaps[3].accepted.is_none());
        assert!(
            r.gaps[3].said[0]
                .detail
                .contains("it was high then and is critical now")
        );
        // The acceptance holds through its last day.
        let mut r2 = Report::empty("test");
        r2.gaps = vec![gap("current")];
        let last_day = BTreeMap::from([("current".to_string(), entry(a(Some("2026-12-02T00:00:00Z"))))]);
        apply_baseline(
            &mut r2,
            &last_day,
            roster_model::parse_time("2026-12-02T23:00:00Z").unwrap(),
        );
        assert!(r2.gaps[0].accepted.is_some());
    }
}
