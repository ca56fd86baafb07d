//! `roster serve`: the token, the state database, and a runtime for roster-serve.

use anyhow::{Context, Result};

/// The token: `--token-file`, else ROSTER_SERVE_TOKEN, else none (loopback only).
fn token(args: &crate::args::ServeArgs) -> Result<Option<String>> {
    if let Some(f) = &args.token_file {
        let t = std::fs::read_to_string(f).with_context(|| format!("cannot read the token file {}", f.display()))?;
        let t = t.trim().to_owned();
        anyhow::ensure!(!t.is_empty(), "the token file {} is empty", f.display());
        return Ok(Some(t));
    }
    Ok(std::env::var("ROSTER_SERVE_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty()))
}

async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// `roster serve`.
pub fn command(args: &crate::args::ServeArgs) -> Result<std::process::ExitCode> {
    let token = token(args)?;
    if let Some(s) = &args.scope {
        crate::config::check_scope(s).with_context(|| format!("--scope {s:?}"))?;
    }
    let state = crate::state::state_dir(args.state_dir.as_deref())?;
    let db = crate::state::location(&state, None)?;
    roster_serve::check_listen(args.listen, token.as_deref()).map_err(anyhow::Error::msg)?;
    let secured = token.is_some();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the server's runtime")?;
    rt.block_on(roster_serve::serve(
        roster_serve::Options {
            listen: args.listen,
            token,
            db: db.clone(),
            scope: args.scope.clone(),
        },
        |addr| {
            eprintln!(
                "roster serve: the dashboard is at http://{addr}/ ({}), reading {}; Ctrl-C stops it",
                if secured {
                    "every request needs the token"
                } else {
                    "no token: loopback only"
                },
                db.display()
            );
        },
        shutdown(),
    ))
    .map_err(anyhow::Error::msg)?;
    Ok(std::process::ExitCode::SUCCESS)
}
