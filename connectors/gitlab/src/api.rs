//! The API side of a run: GitLab's REST v4 under the group's prefixes, page by page.

use super::{Gathered, HEADERS, flag, time};
use roster_connector_sdk::http::encode;
use roster_connector_sdk::rest::{Next, Progress, Stop, field, pages};
use roster_connector_sdk::types::Repository;
use serde_json::Value;

pub(super) struct Run<'a> {
    /// `<base>/api/v4`.
    pub(super) api: String,
    /// The group's path, URL-encoded (`acme%2Fplatform`).
    pub(super) group: String,
    pub(super) group_path: String,
    pub(super) g: &'a mut Gathered,
    pub(super) p: &'a mut Progress,
}

impl Run<'_> {
    /// Every item of `GET /api/v4{path}` (`path` holds its query, without `per_page`).
    pub(super) fn list(&self, path: &str, mut each: impl FnMut(Value)) -> Result<(), Stop> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = format!("{}{path}{sep}per_page=100", self.api);
        pages(&url, &HEADERS, None, Next::LinkHeader, |v| {
            each(v.clone());
            Ok(())
        })
    }

    pub(super) fn group_list(&mut self, what: &str, tail: &str) -> Result<Vec<Value>, Stop> {
        let mut items = vec![];
        let r = self.list(&format!("/groups/{}/{tail}", self.group), |v| items.push(v));
        self.p.part(what, r)?;
        Ok(items)
    }

    /// The group's projects (subgroups included) as repositories; returns (encoded path, path)
    /// of those not archived.
    pub(super) fn projects(&mut self) -> Result<Vec<(String, String)>, Stop> {
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
