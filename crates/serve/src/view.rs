//! What the pages and the API show, read from the store: the scope and run a request is about,
//! the run's gaps with first/last seen and acceptance, and the filters over them.

use roster_model::{Agent, Gap, Identity, Severity};
use roster_store::{RunInfo, Store};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A request that cannot be answered, and why.
#[derive(Debug)]
pub(crate) enum Error {
    /// Something asked for does not exist (a run, a gap, a scope).
    NotFound(String),
    /// A parameter is wrong.
    BadRequest(String),
    /// The database could not be read.
    Internal(String),
}

impl From<roster_store::StoreError> for Error {
    fn from(e: roster_store::StoreError) -> Error {
        Error::Internal(e.0)
    }
}

/// The query parameters of every page and endpoint (each uses the ones it needs). Numbers are
/// read here, so that a wrong one is an error naming the parameter.
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct Params {
    /// The scope (default: `--scope`, else the scope of the latest run).
    pub scope: Option<String>,
    /// The run (default: the scope's latest).
    pub run: Option<String>,
    /// Gap filter: severities, comma-separated (`high,critical`).
    pub severity: Option<String>,
    /// Gap filter: this severity or worse.
    pub min_severity: Option<String>,
    /// Gap filter: kinds, comma-separated.
    pub kind: Option<String>,
    /// Gap filter: the owner's name; `(none)` for gaps without one.
    pub owner: Option<String>,
    /// Gap filter: a source its evidence comes from.
    pub source: Option<String>,
    /// Gap filter: `true` or `false`.
    pub accepted: Option<String>,
    /// Gap filter: only gaps that this run did not have.
    pub new_since: Option<String>,
    /// Words the id, title, owner or an entity contains (case-insensitive); the inventory's
    /// search too.
    pub q: Option<String>,
    /// Diff: the earlier run (default: the one before `to`).
    pub from: Option<String>,
    /// Diff: the later run (default: the latest).
    pub to: Option<String>,
}

/// Reads a run number parameter.
pub(crate) fn run_number(name: &str, v: &Option<String>) -> Result<Option<i64>, Error> {
    nonempty(v)
        .map(|s| {
            s.parse::<i64>()
                .map_err(|_| Error::BadRequest(format!("{name} {s:?}: expected a run number (see /api/v1/runs)")))
        })
        .transpose()
}

/// The scope and run a request is about, and the scope's runs.
pub(crate) struct Context {
    pub scope: String,
    pub scopes: Vec<(String, u64)>,
    pub runs: Vec<RunInfo>,
    pub run: RunInfo,
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Resolves the scope and run of a request.
pub(crate) fn context(
    store: &Store,
    default_scope: Option<&str>,
    scope: &Option<String>,
    run: Option<i64>,
) -> Result<Context, Error> {
    let scopes = store.scopes()?;
    let scope = match nonempty(scope).or(default_scope) {
        Some(s) => s.to_owned(),
        None => match store.runs(None)?.pop() {
            Some(r) => r.scope,
            None => {
                return Err(Error::NotFound(
                    "no runs are recorded yet: run `roster discover` first".into(),
                ));
            }
        },
    };
    let runs = store.runs(Some(&scope))?;
    if runs.is_empty() {
        let known: Vec<&str> = scopes.iter().map(|(s, _)| s.as_str()).collect();
        return Err(Error::NotFound(format!(
            "no runs in scope {scope:?} (scopes with runs: {})",
            if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            }
        )));
    }
    let run = match run {
        Some(id) => runs
            .iter()
            .find(|r| r.id == id)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("run {id} is not a run of scope {scope:?}")))?,
        None => runs.last().cloned().expect("runs is not empty"),
    };
    Ok(Context {
        scope,
        scopes,
        runs,
        run,
    })
}

/// A gap as listed: what the API's `gaps` returns, and a row of the gaps page.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct GapRow {
    pub id: String,
    pub kind: String,
    pub severity: Severity,
    pub title: String,
    /// The accountable owner's name, when there is one.
    pub owner: Option<String>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub accepted: bool,
    /// The sources its evidence comes from.
    pub sources: Vec<String>,
}

/// The run's gaps, most severe first, each with its row.
pub(crate) fn gaps(store: &Store, cx: &Context) -> Result<Vec<(Gap, GapRow)>, Error> {
    let (_, gaps) = store
        .run_gaps(&cx.scope, Some(cx.run.id))?
        .ok_or_else(|| Error::NotFound(format!("run {} has no gaps recorded", cx.run.id)))?;
    let seen = store.seen(&cx.scope, "gap")?;
    let mut out: Vec<(Gap, GapRow)> = gaps
        .into_values()
        .map(|mut g| {
            let (first, last) = seen.get(g.id.as_str()).cloned().unzip();
            g.first_seen = g.first_seen.or_else(|| first.clone());
            let row = GapRow {
                id: g.id.to_string(),
                kind: g.kind.as_str().to_owned(),
                severity: g.severity,
                title: g.title.clone(),
                owner: g.owner.as_ref().map(|o| o.name.to_string()),
                first_seen: g.first_seen.clone(),
                last_seen: last,
                accepted: g.accepted.is_some(),
                sources: g
                    .said
                    .iter()
                    .map(|e| e.source.to_string())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
            };
            (g, row)
        })
        .collect();
    out.sort_by(|(a, _), (b, _)| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.title.cmp(&b.title))
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(out)
}

/// A checked gap filter.
pub(crate) struct Checked {
    severities: Option<BTreeSet<Severity>>,
    min: Option<Severity>,
    kinds: Option<BTreeSet<String>>,
    owner: Option<String>,
    source: Option<String>,
    accepted: Option<bool>,
    not_in: Option<BTreeSet<String>>,
    words: Vec<String>,
}

fn list(s: &Option<String>) -> Option<Vec<String>> {
    nonempty(s).map(|s| {
        s.split(',')
            .map(|x| x.trim().to_ascii_lowercase())
            .filter(|x| !x.is_empty())
            .collect()
    })
}

fn severity(s: &str) -> Result<Severity, Error> {
    Severity::parse(s).ok_or_else(|| {
        Error::BadRequest(format!(
            "severity {s:?}: expected one of {}",
            Severity::ALL.map(|s| s.as_str()).join(", ")
        ))
    })
}

impl Params {
    /// The scope and run these parameters name.
    pub(crate) fn context(&self, store: &Store, default_scope: Option<&str>) -> Result<Context, Error> {
        context(store, default_scope, &self.scope, run_number("run", &self.run)?)
    }

    /// The gap filter these parameters make, checked: unknown values are errors, not empty lists.
    pub(crate) fn filter(&self, store: &Store, cx: &Context) -> Result<Checked, Error> {
        let severities = list(&self.severity)
            .map(|v| v.iter().map(|s| severity(s)).collect::<Result<BTreeSet<_>, _>>())
            .transpose()?;
        let min = nonempty(&self.min_severity).map(severity).transpose()?;
        let kinds = list(&self.kind)
            .map(|v| {
                v.into_iter()
                    .map(|k| {
                        if roster_model::GapKind::ALL.iter().any(|x| x.as_str() == k) {
                            Ok(k)
                        } else {
                            Err(Error::BadRequest(format!(
                                "kind {k:?}: expected one of {}",
                                roster_model::GapKind::ALL.map(|k| k.as_str()).join(", ")
                            )))
                        }
                    })
                    .collect::<Result<BTreeSet<_>, _>>()
            })
            .transpose()?;
        let accepted = match nonempty(&self.accepted) {
            None => None,
            Some("true" | "yes" | "1") => Some(true),
            Some("false" | "no" | "0") => Some(false),
            Some(x) => return Err(Error::BadRequest(format!("accepted {x:?}: expected true or false"))),
        };
        let not_in = match run_number("new_since", &self.new_since)? {
            None => None,
            Some(id) => {
                if !cx.runs.iter().any(|r| r.id == id) {
                    return Err(Error::NotFound(format!(
                        "new_since {id}: not a run of scope {:?}",
                        cx.scope
                    )));
                }
                let (_, earlier) = store.run_gaps(&cx.scope, Some(id))?.unwrap_or_default();
                Some(earlier.into_keys().collect())
            }
        };
        Ok(Checked {
            severities,
            min,
            kinds,
            owner: nonempty(&self.owner).map(str::to_owned),
            source: nonempty(&self.source).map(str::to_owned),
            accepted,
            not_in,
            words: nonempty(&self.q)
                .map(|q| q.split_whitespace().map(str::to_lowercase).collect())
                .unwrap_or_default(),
        })
    }
}

impl Checked {
    pub(crate) fn keeps(&self, g: &Gap, row: &GapRow) -> bool {
        self.severities.as_ref().is_none_or(|s| s.contains(&g.severity))
            && self.min.is_none_or(|m| g.severity >= m)
            && self.kinds.as_ref().is_none_or(|k| k.contains(&row.kind))
            && self.owner.as_ref().is_none_or(|o| match &row.owner {
                Some(name) => name == o,
                None => o == "(none)",
            })
            && self.source.as_ref().is_none_or(|s| row.sources.contains(s))
            && self.accepted.is_none_or(|a| a == row.accepted)
            && self.not_in.as_ref().is_none_or(|ids| !ids.contains(g.id.as_str()))
            && (self.words.is_empty() || {
                let mut hay = format!("{} {} {}", g.id, g.title, row.owner.as_deref().unwrap_or("")).to_lowercase();
                for e in g.entities.iter() {
                    hay.push(' ');
                    hay.push_str(&e.id.to_lowercase());
                    hay.push(' ');
                    hay.push_str(&e.name.to_lowercase());
                }
                self.words.iter().all(|w| hay.contains(w.as_str()))
            })
    }
}

/// Whether every word of `q` is in `hay` (case-insensitive); true without `q`.
pub(crate) fn matches(q: &Option<String>, hay: &str) -> bool {
    let hay = hay.to_lowercase();
    nonempty(q).is_none_or(|q| q.split_whitespace().all(|w| hay.contains(&w.to_lowercase())))
}

/// An inventory entry the `q` search looks through, on the inventory page and in the API alike.
pub(crate) trait Searchable {
    /// The text the words of `q` are looked for in (see [`matches`]).
    fn search_text(&self) -> String;
}

impl Searchable for Identity {
    /// Its source, kind, id, name and owner.
    fn search_text(&self) -> String {
        let owner = self.accountable.as_ref().map_or("", |o| o.name.as_str());
        format!("{} {} {} {} {owner}", self.source, self.kind, self.id, self.name)
    }
}

impl Searchable for Agent {
    /// Its id, source, path and frameworks.
    fn search_text(&self) -> String {
        format!(
            "{} {} {} {}",
            self.id,
            self.source,
            self.path,
            self.frameworks.join(" ")
        )
    }
}

/// Each owner's open gaps (accepted ones left out), most to fix first; `(none)` gathers the
/// gaps nobody owns.
pub(crate) fn owners(rows: &[(Gap, GapRow)]) -> Vec<(String, BTreeMap<Severity, u64>, u64)> {
    let mut by: BTreeMap<String, BTreeMap<Severity, u64>> = BTreeMap::new();
    for (g, r) in rows.iter().filter(|(_, r)| !r.accepted) {
        *by.entry(r.owner.clone().unwrap_or_else(|| "(none)".into()))
            .or_default()
            .entry(g.severity)
            .or_default() += 1;
    }
    let mut out: Vec<_> = by
        .into_iter()
        .map(|(o, s)| {
            let n: u64 = s.values().sum();
            (o, s, n)
        })
        .collect();
    out.sort_by(|a, b| {
        let worst = |s: &BTreeMap<Severity, u64>| s.keys().max().copied();
        worst(&b.1)
            .cmp(&worst(&a.1))
            .then(b.2.cmp(&a.2))
            .then_with(|| a.0.cmp(&b.0))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_inventory_search_looks_in_names_ids_sources_and_owners() {
        let i: Identity = serde_json::from_value(json!({
            "source": "aws-prod", "kind": "role", "id": "arn:aws:iam::1:role/deployer", "name": "deployer",
            "owner": null, "created": null, "last_used": null, "credentials": [],
            "accountable": { "name": "Platform Team", "via": "tag", "attested": true, "evidence": "tag owner" }
        }))
        .expect("an identity");
        assert_eq!(
            i.search_text(),
            "aws-prod role arn:aws:iam::1:role/deployer deployer Platform Team"
        );
        assert!(matches(&Some("platform DEPLOYER".into()), &i.search_text()));
        assert!(!matches(&Some("platform nobody".into()), &i.search_text()));
        let a: Agent = serde_json::from_value(json!({
            "id": "agent:repo:svc", "path": "svc", "source": "repo", "frameworks": ["langchain", "mcp"],
            "credentials": [], "mcp_servers": [], "evidence": []
        }))
        .expect("an agent");
        assert_eq!(a.search_text(), "agent:repo:svc repo svc langchain mcp");
    }
}
