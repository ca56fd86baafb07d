//! Code repositories a code-host source lists (`scan_repos = true`), fetched by the host with
//! git (never by a plugin) into bare clones under the state directory, for the history scan.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use roster_plugin_host::Auth;

use crate::collect::Collected;
use crate::config::{Config, SourceConfig};

/// Whether the host may send `source`'s credential to `clone_url`: https (plain http only to a
/// loopback address), on the code host whose API the source reads (`github.com` for
/// `api.github.com`, `acme.ghe.com` for `api.acme.ghe.com`; a GitLab's own host), under the
/// organization's or group's path.
fn clone_url_allowed(api: &url::Url, org: &str, clone_url: &str) -> Result<url::Url, String> {
    let u = url::Url::parse(clone_url).map_err(|e| format!("clone URL {clone_url:?} is not a URL: {e}"))?;
    let loopback = roster_plugin_host::manifest::is_loopback(&u);
    if !(u.scheme() == "https" || (u.scheme() == "http" && loopback)) {
        return Err(format!("clone URL {u} is not https"));
    }
    let same_host = u.host_str() == api.host_str() && u.port_or_known_default() == api.port_or_known_default();
    let api_subdomain = api
        .host_str()
        .and_then(|h| h.strip_prefix("api."))
        .is_some_and(|h| u.host_str() == Some(h) && u.scheme() == "https");
    if !(same_host || api_subdomain) {
        return Err(format!(
            "clone URL {u} is not on the code host of {api}: the credential is not sent there"
        ));
    }
    let org_path = format!("/{}/", org.to_ascii_lowercase());
    if !u.path().to_ascii_lowercase().starts_with(&org_path) || !u.username().is_empty() || u.password().is_some() {
        return Err(format!("clone URL {u} is not a repository of {org}"));
    }
    Ok(u)
}

/// `owner/name` (GitLab: `group/subgroup/.../name`) made of safe path segments, for the clone's
/// folder.
fn safe_full_name(full_name: &str) -> Option<&str> {
    let parts: Vec<&str> = full_name.split('/').collect();
    ((2..=MAX_DEPTH).contains(&parts.len())
        && parts.iter().all(|p| {
            !p.is_empty()
                && !p.starts_with('.')
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        }))
    .then_some(full_name)
}

/// How deep a repository's path may be: GitLab nests subgroups up to 20 levels.
const MAX_DEPTH: usize = 21;

/// The bare clones an earlier run left under `dir` (`<owner>/<name>.git`, GitLab's
/// `<group>/<subgroup>/<name>.git`), by full name.
fn earlier_clones(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut found = vec![];
    let mut dirs = vec![(dir.to_path_buf(), String::new(), 0)];
    while let Some((d, prefix, depth)) = dirs.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            let Some(n) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            match n.strip_suffix(".git") {
                Some(r) if depth > 0 && path.join("HEAD").is_file() => {
                    let full_name = format!("{prefix}{r}");
                    if safe_full_name(&full_name).is_some() {
                        found.push((full_name, path));
                    }
                }
                _ if depth + 1 < MAX_DEPTH && path.is_dir() => {
                    dirs.push((path, format!("{prefix}{n}/"), depth + 1));
                }
                _ => {}
            }
        }
    }
    found.sort();
    found
}

/// The user name a code host takes a token with for HTTPS git: `oauth2` on GitLab,
/// `x-access-token` on GitHub.
fn git_user(src: &SourceConfig) -> &'static str {
    if src.connector == "gitlab" {
        "oauth2"
    } else {
        "x-access-token"
    }
}

/// Whether `src` is a setting `k` that is `true`.
fn flag(src: &SourceConfig, k: &str) -> bool {
    src.settings.get(k).and_then(toml::Value::as_bool) == Some(true)
}

/// Whether the repositories `src` lists are fetched and scanned (`scan_repos = true`).
pub(crate) fn lists_repositories(src: &SourceConfig) -> bool {
    flag(src, "scan_repos")
}

/// For every source with `scan_repos = true`, fetches the repositories its connector listed
/// (forks and archived ones only with `scan_forks` / `scan_archived`) into bare clones under the
/// state directory, and returns them with their labels (`<source>:<owner/name>`) for the
/// history scan. Each repository's `scan` says what happened to it; one that cannot be fetched
/// is reported and the others go on.
pub fn fetch_repositories(
    cfg: &Config,
    state_dir: &Path,
    collected: &mut Collected,
    progress: bool,
) -> Result<Vec<(PathBuf, String)>> {
    let sources: Vec<&SourceConfig> = cfg.sources.iter().filter(|s| lists_repositories(s)).collect();
    if sources.is_empty() {
        return Ok(vec![]);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the repository fetcher")?;
    let mut out = vec![];
    let clones = state_dir.join("repos");
    for src in sources {
        let name = src.name();
        let listed: Vec<usize> = (0..collected.repositories.len())
            .filter(|&i| collected.repositories[i].source == name)
            .collect();
        // A source that failed, or whose listing failed, listed nothing (the failure is already
        // in the report): the clones from earlier runs are still scanned, so what they held
        // does not vanish.
        let failed = collected
            .runs
            .iter()
            .any(|r| r.source == name && r.status != roster_model::RunStatus::Complete);
        if listed.is_empty() {
            if failed {
                for (full_name, dest) in earlier_clones(&clones.join(name)) {
                    out.push((dest, format!("{name}:{full_name}")));
                    collected.repositories.push(roster_model::Repository {
                        source: name.to_string(),
                        full_name,
                        clone_url: String::new(),
                        default_branch: None,
                        archived: false,
                        fork: false,
                        private: false,
                        pushed_at: None,
                        scan: Some(
                            "stale: the source did not list its repositories; scanned the clone from an earlier run"
                                .into(),
                        ),
                        attrs: Default::default(),
                    });
                }
            }
            continue;
        }
        // The organization (GitHub) or group path (GitLab) the clone URLs must be under.
        let org = ["org", "group"]
            .iter()
            .find_map(|k| src.settings.get(*k).and_then(|v| v.as_str()))
            .unwrap_or_default()
            .trim_matches('/');
        // The endpoint and credential collect prepared for this source.
        let setup = (|| -> Result<(url::Url, Auth)> {
            let (endpoint, auth) = collected
                .auths
                .get(name)
                .cloned()
                .with_context(|| format!("source {name}: its credential was not set up"))?;
            let endpoint = endpoint.with_context(|| format!("source {name}: no endpoint"))?;
            let api = url::Url::parse(&endpoint)
                .with_context(|| format!("source {name}: endpoint {endpoint} is not a URL"))?;
            crate::state::private_dir(&clones)?;
            Ok((api, auth))
        })();
        let (api, auth) = match setup {
            Ok(s) => s,
            Err(e) => {
                for &i in &listed {
                    collected.repositories[i].scan = Some(format!("failed: {e:#}"));
                }
                continue;
            }
        };
        for (n, &i) in listed.iter().enumerate() {
            let repo = &mut collected.repositories[i];
            if repo.archived && !flag(src, "scan_archived") {
                repo.scan = Some("skipped: archived (set scan_archived = true to scan it)".into());
                continue;
            }
            if repo.fork && !flag(src, "scan_forks") {
                repo.scan = Some("skipped: fork (set scan_forks = true to scan it)".into());
                continue;
            }
            if progress {
                #[allow(clippy::print_stderr, reason = "progress on a terminal")]
                {
                    eprint!(
                        "\r\x1b[2Kfetching repositories of {name}: {}/{} {}",
                        n + 1,
                        listed.len(),
                        repo.full_name
                    );
                }
            }
            let Some(full) = safe_full_name(&repo.full_name) else {
                repo.scan = Some(format!("failed: {:?} is not an owner/name", repo.full_name));
                continue;
            };
            let dest = clones.join(name).join(format!("{full}.git"));
            let fetched = clone_url_allowed(&api, org, &repo.clone_url).and_then(|url| {
                rt.block_on(crate::git_fetch::fetch_repository(
                    &url,
                    &dest,
                    &auth,
                    git_user(src),
                    repo.default_branch.as_deref(),
                    Duration::from_secs(1800),
                ))
            });
            let label = format!("{name}:{}", repo.full_name);
            match fetched {
                Ok(()) => {
                    repo.scan = Some("scanned".into());
                    out.push((dest, label));
                }
                // The copy from an earlier run is still scanned, so its findings do not
                // vanish from the report (and from `roster diff`) over a network error.
                Err(e) if dest.join("HEAD").is_file() => {
                    repo.scan = Some(format!(
                        "stale: could not update ({e}); scanned the copy from an earlier run"
                    ));
                    out.push((dest, label));
                }
                Err(e) => repo.scan = Some(format!("failed: {e}")),
            }
        }
    }
    if progress {
        eprint!("\r\x1b[2K");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_goes_only_to_the_sources_code_host_under_its_org() {
        let api = url::Url::parse("https://api.github.com").unwrap();
        let ok = |api: &url::Url, u: &str| clone_url_allowed(api, "acme", u).is_ok();
        assert!(ok(&api, "https://github.com/acme/app.git"));
        assert!(
            ok(&api, "https://github.com/ACME/app.git"),
            "logins are case-insensitive"
        );
        assert!(!ok(&api, "https://github.com/other/app.git"), "another organization");
        assert!(!ok(&api, "https://gist.github.com/acme/app.git"));
        assert!(!ok(&api, "https://git.example.net/acme/app.git"));
        assert!(!ok(&api, "http://github.com/acme/app.git"), "plain http");
        assert!(
            !ok(&api, "https://x:y@github.com/acme/app.git"),
            "credentials in the URL"
        );
        assert!(!ok(&api, "https://github.com/acme/../other/app.git"));
        // GitHub Enterprise Cloud with data residency, and GitHub Enterprise Server.
        let ghe = url::Url::parse("https://api.acme.ghe.com").unwrap();
        assert!(ok(&ghe, "https://acme.ghe.com/acme/app.git"));
        assert!(!ok(&ghe, "https://evil.ghe.com/acme/app.git"));
        let ghes = url::Url::parse("https://git.acme.internal/api/v3").unwrap();
        assert!(ok(&ghes, "https://git.acme.internal/acme/app.git"));
        assert!(
            !ok(&ghes, "https://git.acme.internal:8443/acme/app.git"),
            "another port"
        );
        // GitLab: the group's path, subgroups included, on the instance's own host.
        let gitlab = url::Url::parse("https://gitlab.com").unwrap();
        let in_group = |u: &str| clone_url_allowed(&gitlab, "acme/platform", u).is_ok();
        assert!(in_group("https://gitlab.com/acme/platform/app.git"));
        assert!(in_group("https://gitlab.com/acme/platform/ml/agent.git"));
        assert!(!in_group("https://gitlab.com/acme/platform-evil/app.git"));
        assert!(!in_group("https://gitlab.com/acme/app.git"), "outside the subgroup");
        assert!(!in_group("https://gitlab.example.net/acme/platform/app.git"));
    }

    #[test]
    fn clones_of_nested_groups_are_found_again() {
        let dir = tempfile::tempdir().unwrap();
        for p in ["acme/app.git", "acme/platform/ml/agent.git", "acme/notes"] {
            std::fs::create_dir_all(dir.path().join(p)).unwrap();
        }
        for p in ["acme/app.git/HEAD", "acme/platform/ml/agent.git/HEAD"] {
            std::fs::write(dir.path().join(p), "ref: refs/heads/main\n").unwrap();
        }
        let names: Vec<String> = earlier_clones(dir.path()).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["acme/app", "acme/platform/ml/agent"]);
    }

    #[test]
    fn only_plain_owner_and_name_become_folders() {
        assert_eq!(safe_full_name("acme/app"), Some("acme/app"));
        assert_eq!(safe_full_name("acme/app.js"), Some("acme/app.js"));
        assert_eq!(
            safe_full_name("acme/platform/app"),
            Some("acme/platform/app"),
            "GitLab subgroups"
        );
        for bad in [
            "acme/..",
            "../app",
            "acme/.git",
            "acme/../app",
            "acme",
            "acme/a b",
            "/app",
        ] {
            assert_eq!(safe_full_name(bad), None, "{bad}");
        }
    }
}
