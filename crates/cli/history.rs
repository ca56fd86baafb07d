//! Reading the recorded runs back: `roster diff` and `roster runs`, and opening the state
//! database that holds them.

use crate::config;
use anyhow::{Context, Result};
use std::path::Path;

/// `roster diff`: new and resolved gaps between two stored runs of one scope.
pub fn diff_command(args: &crate::args::DiffArgs) -> Result<std::process::ExitCode> {
    let (store, db) = open_existing_store(args.state_dir.as_deref(), args.config.as_deref())?;
    // Runs named by number pick their own scope; --scope or --config then must agree.
    let named = match (&args.scope, &args.config, args.to.or(args.from)) {
        (None, None, Some(id)) => store.run(id)?.map(|r| r.scope),
        _ => None,
    };
    let scope = match named {
        Some(s) => s,
        None => crate::state::reading_scope(&store, args.scope.as_deref(), args.config.as_deref())?,
    };
    let Some(d) = store.diff(&scope, args.from, args.to)? else {
        let n = store.runs(Some(&scope))?.len();
        anyhow::bail!(
            "{} in scope {scope:?} of {}: run `roster discover` {} to have something to compare (scopes with runs: {})",
            if n == 0 {
                "no runs are recorded"
            } else {
                "only one run is recorded"
            },
            db,
            if n == 0 { "twice" } else { "again" },
            crate::state::scope_list(&store)?
        );
    };
    let text = match args.format.as_str() {
        "json" => serde_json::to_string_pretty(&d)? + "\n",
        "text" => {
            let mut s = format!(
                "Scope {scope:?}: run {} ({}) -> run {} ({}): {} new, {} resolved, {} still open\n",
                d.from.id,
                d.from.started,
                d.to.id,
                d.to.started,
                d.new.len(),
                d.resolved.len(),
                d.still_open.len()
            );
            for (label, gaps) in [("NEW", &d.new), ("RESOLVED", &d.resolved)] {
                for g in gaps {
                    s.push_str(&format!(
                        "{label:<9} {:<8} {}  {}  ({})\n",
                        g.severity.as_str(),
                        g.kind,
                        g.title,
                        g.id
                    ));
                }
            }
            s
        }
        other => anyhow::bail!("--format {other:?}: expected text or json"),
    };
    crate::write_output(None, &text)?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// `roster runs`: the recorded runs with their scopes, oldest first.
pub fn runs_command(args: &crate::args::RunsArgs) -> Result<std::process::ExitCode> {
    let (store, db) = open_existing_store(args.state_dir.as_deref(), None)?;
    if let Some(s) = &args.scope {
        crate::config::check_scope(s).with_context(|| format!("--scope {s:?}"))?;
    }
    let runs = store.runs(args.scope.as_deref())?;
    if let Some(s) = &args.scope
        && runs.is_empty()
    {
        anyhow::bail!(
            "no runs of scope {s:?} in {} (scopes with runs: {})",
            db,
            crate::state::scope_list(&store)?
        );
    }
    let text = match args.format.as_str() {
        "json" => serde_json::to_string_pretty(&runs)? + "\n",
        "text" => {
            let width = runs.iter().map(|r| r.scope.len()).max().unwrap_or(0).max(5);
            let mut s = format!(
                "{:>4}  {:<width$}  {:<24}  {:>5}  CONFIG\n",
                "RUN", "SCOPE", "STARTED", "GAPS"
            );
            for r in &runs {
                s.push_str(&format!(
                    "{:>4}  {:<width$}  {:<24}  {:>5}  {}{}\n",
                    r.id,
                    r.scope,
                    r.started,
                    r.gaps,
                    r.config,
                    if r.incomplete { "  (incomplete)" } else { "" }
                ));
            }
            s
        }
        other => anyhow::bail!("--format {other:?}: expected text or json"),
    };
    crate::write_output(None, &text)?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// Opens the state database that holds the runs (see `state::location`; `config`'s
/// `database_url` counts when given), or says that nothing was recorded yet. Returns the store
/// and how to name it.
pub(crate) fn open_existing_store(
    state_dir: Option<&Path>,
    config: Option<&Path>,
) -> Result<(roster_store::Store, String)> {
    let state = crate::state::state_dir(state_dir)?;
    let url = match config {
        Some(c) => config::load_config(c)?.database_url,
        None => None,
    };
    let location = crate::state::location(&state, url.as_deref())?;
    if let roster_store::Location::File(db) = &location
        && !db.exists()
    {
        anyhow::bail!(
            "no runs recorded in {}: run `roster discover` first (runs recorded in PostgreSQL are read with ROSTER_DATABASE_URL set)",
            state.display()
        );
    }
    Ok((crate::state::open_store(&state, url.as_deref())?, location.display()))
}
