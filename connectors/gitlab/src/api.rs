//! The API side of a run: GitLab's REST v4 under the group's prefixes, page by page, into
//! what `Gathered` holds.

use super::{Gathered, HEADERS, flag, id_of, time};
use roster_connector_sdk::http::encode;
use roster_connector_sdk::rest::{Next, Progress, Stop, field, pages};
use roster_connector_sdk::types::Repository;
use roster_connector_sdk::{progress, setting};
use serde_json::Value;

struct Run<'a> {
    /// `<base>/api/v4`.
    api: String,
    /// The group's path, URL-encoded (`acme%2Fplatform`).
    group: String,
    group_path: String,
    g: &'a mut Gathered,
    p: &'a mut Progress,
}

impl Run<'_> {
    /// Every item of `GET /api/v4{path}` (`path` holds its query, without `per_page`).
    fn list(&self, path: &str, mut each: impl FnMut(Value)) -> Result<(), Stop> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = format!("{}{path}{sep}per_page=100", self.api);
        pages(&url, &HEADERS, None, Next::LinkHeader, |v| {
            each(v.clone());
            Ok(())
        })
    }

    fn group_list(&mut self, what: &str, tail: &str) -> Result<Vec<Value>, Stop> {
        let mut items = vec![];
        let r = self.list(&format!("/groups/{}/{tail}", self.group), |v| items.push(v));
        self.p.part(what, r)?;
        Ok(items)
    }

    /// The group's projects (subgroups included) as repositories; returns (encoded path, path)
    /// of those not archived.
    fn projects(&mut self) -> Result<Vec<(String, String)>, Stop> {
        let mut listed = vec![];
        let path = format!(
            "/groups/{}/projects?include_subgroups=true&with_shared=false",
            self.group
        );
        let r = self.list(&path, |v| listed.push(v));
        self.p.part("projects", r)?;
        let mut live = vec![];
        for p in &listed {
            let full = field(p, "path_with_namespace");
            let archived = flag(p, "archived").unwrap_or(false);
            if full.is_empty() {
                continue;
            }
            if !archived {
                live.push((encode(&full), full.clone()));
            }
            let clone_url = field(p, "http_url_to_repo");
            if clone_url.is_empty() {
                continue;
            }
            let mut attrs = vec![];
            if let Some(v) = p.get("visibility").and_then(Value::as_str) {
                attrs.push(("visibility".to_string(), v.to_string()));
            }
            self.p.out.repository(Repository {
                full_name: full,
                clone_url,
                default_branch: Some(field(p, "default_branch")).filter(|b| !b.is_empty()),
                archived,
                fork: p.get("forked_from_project").is_some_and(|f| !f.is_null()),
                private: field(p, "visibility") != "public",
                pushed_at: time(p, "last_activity_at"),
                attrs,
            })?;
        }
        Ok(live)
    }
}

/// Reads the group's API: members, audit events, access and deploy tokens, service accounts,
/// then each project's tokens, deploy keys and audit events.
pub(super) fn collect(p: &mut Progress, g: &mut Gathered, cfg: &[(String, String)], base: &str) -> Result<(), Stop> {
    let group_path = setting(cfg, "group")
        .ok_or_else(|| Stop::Config("set group = \"<group path, e.g. acme or acme/platform>\"".into()))?
        .trim_matches('/')
        .to_string();
    let mut run = Run {
        api: format!("{base}/api/v4"),
        group: encode(&group_path),
        group_path,
        g,
        p,
    };
    let audit = setting(cfg, "audit_events") != Some("false");
    for m in run.group_list("group members", "members/all")? {
        run.g.members.insert(id_of(&m, "id"), m);
    }
    let mut group_audit = false;
    if audit {
        let events = run.group_list("group audit events", "audit_events")?;
        group_audit = run.p.notes.iter().all(|n| !n.starts_with("group audit events"));
        run.g.audit_events.extend(events);
    }
    let group_path = run.group_path.clone();
    for t in run.group_list("group access tokens", "access_tokens")? {
        run.g.access_tokens.push((t, "group", group_path.clone()));
    }
    let deploy = run.group_list("group deploy tokens", "deploy_tokens")?;
    run.g.deploy_tokens.extend(deploy);
    let accounts = run.group_list("service accounts", "service_accounts")?;
    for sa in &accounts {
        let id = id_of(sa, "id");
        let tail = format!("service_accounts/{}/personal_access_tokens", encode(&id));
        let tokens = run.group_list(&format!("tokens of service account {id}"), &tail)?;
        run.g.service_account_tokens.extend(tokens);
    }
    run.g.service_accounts.extend(accounts);
    // People's personal access tokens: the group's credentials inventory (GitLab.com, enterprise
    // users, top-level group Owner), or with `personal_access_tokens = "instance"` a
    // self-managed administrator's list of every token in the instance.
    if setting(cfg, "personal_access_tokens") == Some("instance") {
        let mut tokens = vec![];
        let r = run.list("/personal_access_tokens", |t| tokens.push(t));
        run.p
            .part("personal access tokens of the instance (administrator)", r)?;
        run.g.personal_tokens.extend(tokens);
    } else {
        let what = "personal access tokens of enterprise users (GitLab.com, top-level group Owner)";
        let tokens = run.group_list(what, "manage/personal_access_tokens")?;
        run.g.personal_tokens.extend(tokens);
    }
    let projects = run.projects()?;
    for (n, (encoded, full)) in projects.iter().enumerate() {
        progress(n as u64, Some(projects.len() as u64), "GitLab projects");
        let mut tokens = vec![];
        let r = run.list(&format!("/projects/{encoded}/access_tokens"), |t| tokens.push(t));
        run.p.part(&format!("access tokens of {full}"), r)?;
        for t in tokens {
            run.g.access_tokens.push((t, "project", full.clone()));
        }
        let mut keys = vec![];
        let r = run.list(&format!("/projects/{encoded}/deploy_keys"), |k| keys.push(k));
        run.p.part(&format!("deploy keys of {full}"), r)?;
        run.g.deploy_keys.extend(keys.into_iter().map(|k| (k, full.clone())));
        // Project audit events name the creators of project access tokens; not read when
        // the group's could not be (the plan or the role has none).
        if group_audit {
            let mut events = vec![];
            let r = run.list(&format!("/projects/{encoded}/audit_events"), |e| events.push(e));
            run.p.part(&format!("audit events of {full}"), r)?;
            run.g.audit_events.extend(events);
        }
    }
    Ok(())
}
