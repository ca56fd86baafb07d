//! Repositories a code host lists are fetched by the host, never by a plugin: `git` runs with
//! the source's credential in its environment (an `Authorization` header scoped by git to that
//! URL; not on the command line, not in the repository's config), no credential helper, no
//! prompt, no redirects to another host, and a time limit. The first run makes a bare clone;
//! later runs fetch what changed into it.

use base64::Engine as _;
use roster_plugin_host::Auth;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// The `Authorization` header git sends: the token as the password of `user` (GitHub takes any
/// token as the password of `x-access-token`, GitLab an access token as that of `oauth2`).
async fn header(auth: &Auth, user: &str) -> Result<Option<String>, String> {
    let token = match auth {
        Auth::None => return Ok(None),
        Auth::Authorization { secret, .. } => secret.clone(),
        Auth::Minted { minter, .. } => minter.token().await?,
        other => return Err(format!("{} cannot authenticate git", other.describe())),
    };
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{}", token.expose()));
    Ok(Some(format!("Authorization: Basic {basic}")))
}

/// Clones `url` into the bare repository `dest`, or, if it is there, fetches its branches and
/// tags into it (pruning deleted ones), and points its HEAD at `default_branch` (the code host's
/// current default, which a fetch does not follow). `url` must already be checked against the
/// source's code host; `user` is the user name the code host takes the token with.
pub async fn fetch_repository(
    url: &url::Url,
    dest: &Path,
    auth: &Auth,
    user: &str,
    default_branch: Option<&str>,
    limit: Duration,
) -> Result<(), String> {
    let mut config = vec![
        ("credential.helper".to_string(), String::new()),
        ("http.followRedirects".to_string(), "false".to_string()),
        ("protocol.file.allow".to_string(), "never".to_string()),
        ("protocol.ext.allow".to_string(), "never".to_string()),
    ];
    if let Some(h) = header(auth, user).await? {
        config.push((format!("http.{url}.extraHeader"), h));
    }
    let fresh = !dest.join("HEAD").is_file();
    let tmp = dest.with_extension("partial");
    let mut cmd = tokio::process::Command::new("git");
    if fresh {
        let _ = std::fs::remove_dir_all(&tmp);
        if let Some(parent) = tmp.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        cmd.args(["clone", "--bare", "--quiet", url.as_str()]).arg(&tmp);
    } else {
        cmd.arg("-C")
            .arg(dest)
            .args(["fetch", "--quiet", "--prune", "--no-tags", url.as_str()])
            .args(["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"]);
    }
    cmd.env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_COUNT", config.len().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (i, (k, v)) in config.iter().enumerate() {
        cmd.env(format!("GIT_CONFIG_KEY_{i}"), k)
            .env(format!("GIT_CONFIG_VALUE_{i}"), v);
    }
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot run git ({e}): install git to scan the repositories a code host lists"))?;
    let out = tokio::time::timeout(limit, child.wait_with_output())
        .await
        .map_err(|_| format!("git did not finish within {limit:?}"))?
        .map_err(|e| format!("git failed: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let err = err.trim();
        return Err(format!(
            "git {} {url} failed ({}): {}",
            if fresh { "clone" } else { "fetch" },
            out.status,
            if err.is_empty() { "no message" } else { err }
        ));
    }
    if fresh {
        std::fs::rename(&tmp, dest).map_err(|e| format!("cannot move the clone to {}: {e}", dest.display()))?;
    }
    let branch = default_branch.filter(|b| {
        !b.is_empty()
            && !b.starts_with(['-', '/', '.'])
            && !b.contains("..")
            && b.bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/'))
    });
    if let Some(b) = branch {
        let set = tokio::process::Command::new("git")
            .arg("-C")
            .arg(dest)
            .args(["symbolic-ref", "HEAD", &format!("refs/heads/{b}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .map_err(|e| format!("cannot run git: {e}"))?;
        if !set.success() {
            return Err(format!("cannot point HEAD at the default branch {b}"));
        }
    }
    Ok(())
}
