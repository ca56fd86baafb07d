//! The agent registry (`agents.toml`): the organization's register of sanctioned agents.

use globset::{Glob, GlobMatcher};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The registry file as written: `[[agent]]` tables.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryFile {
    /// The sanctioned agents.
    #[serde(default, rename = "agent")]
    pub agents: Vec<RegisteredAgent>,
}

/// One sanctioned agent.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisteredAgent {
    /// Unique id (`support-bot`).
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// The accountable person (e-mail or user name).
    #[serde(default)]
    pub owner: String,
    /// The owning team.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub team: String,
    /// What it is for.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub purpose: String,
    /// Code locations: paths or globs relative to a scanned root (`support-bot`, `agents/**`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub code: Vec<String>,
    /// Identities it runs as: ARN, object id, app or client id, key id, or name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identities: Vec<String>,
    /// Credentials it uses: provider key ids, or secret fingerprints as Roster reports them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<String>,
    /// Systems it may touch (`openai`, `zendesk`, `aws:bedrock`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub systems: Vec<String>,
    /// When the entry must next be reviewed (YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_by: Option<String>,
}

/// A loaded, validated registry.
#[derive(Debug, Default)]
pub struct Registry {
    /// The entries, in file order.
    pub agents: Vec<RegisteredAgent>,
    /// Where it was loaded from (for evidence).
    pub origin: String,
    code: Vec<Vec<GlobMatcher>>,
    /// Identity and credential keys → the first entry listing them.
    keys: std::collections::HashMap<String, usize>,
}

impl Registry {
    /// Parses and validates registry TOML. Errors name `origin`, the entry and the field.
    pub fn parse(text: &str, origin: &str) -> Result<Registry, String> {
        let file: RegistryFile =
            toml::from_str(text).map_err(|e| format!("{origin}: not a valid agent registry: {e}"))?;
        let mut ids = BTreeSet::new();
        let mut code = Vec::with_capacity(file.agents.len());
        for (i, a) in file.agents.iter().enumerate() {
            let at = if a.id.is_empty() {
                format!("{origin}: agent #{}", i + 1)
            } else {
                format!("{origin}: agent `{}`", a.id)
            };
            if a.id.trim().is_empty() {
                return Err(format!("{at}: `id` is required"));
            }
            if !ids.insert(a.id.as_str()) {
                return Err(format!("{at}: the id is used twice; ids must be unique"));
            }
            if let Some(d) = &a.review_by
                && (d.len() != 10 || roster_model::parse_time(d).is_none())
            {
                return Err(format!("{at}: review_by `{d}` is not a date (YYYY-MM-DD)"));
            }
            if a.code.is_empty() && a.identities.is_empty() && a.credentials.is_empty() {
                return Err(format!(
                    "{at}: names no `code`, `identities` or `credentials`, so nothing can match it"
                ));
            }
            let globs = a
                .code
                .iter()
                .map(|p| {
                    let p = p.trim_matches('/');
                    Glob::new(if p.is_empty() { "." } else { p })
                        .map(|g| g.compile_matcher())
                        .map_err(|e| format!("{at}: code path `{p}`: {e}"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            code.push(globs);
        }
        let mut keys = std::collections::HashMap::new();
        for (i, a) in file.agents.iter().enumerate() {
            for k in a.identities.iter().chain(&a.credentials).filter(|k| !k.is_empty()) {
                keys.entry(k.clone()).or_insert(i);
            }
        }
        Ok(Registry {
            agents: file.agents,
            origin: origin.to_owned(),
            code,
            keys,
        })
    }

    /// The entry whose `code` covers the agent directory `path`, if any.
    pub fn match_code(&self, path: &str) -> Option<usize> {
        self.code.iter().position(|globs| {
            globs.iter().any(|g| {
                g.is_match(path) || {
                    let pat = g.glob().glob().trim_end_matches("/**");
                    path == pat || path.starts_with(&format!("{pat}/"))
                }
            })
        })
    }

    /// The entry listing one of `keys` (identity ids, names, key ids or fingerprints), if any.
    /// When keys match different entries, the one listed first in the file wins.
    pub fn match_key<'k>(&self, keys: impl IntoIterator<Item = &'k str>) -> Option<usize> {
        keys.into_iter().filter_map(|k| self.keys.get(k).copied()).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_entry_and_field() {
        let e = Registry::parse(
            "[[agent]]\nid = \"a\"\ncode = [\"x\"]\n[[agent]]\nid = \"a\"\ncode=[\"y\"]\n",
            "agents.toml",
        )
        .unwrap_err();
        assert!(e.contains("agents.toml: agent `a`: the id is used twice"), "{e}");
        let e = Registry::parse("[[agent]]\nid = \"b\"\nreview_by = \"soon\"\ncode=[\"x\"]\n", "r.toml").unwrap_err();
        assert!(e.contains("agent `b`: review_by `soon` is not a date"), "{e}");
        let e = Registry::parse("[[agent]]\nid = \"c\"\nownr = \"x\"\n", "r.toml").unwrap_err();
        assert!(
            e.contains("r.toml: not a valid agent registry") && e.contains("ownr"),
            "{e}"
        );
        let e = Registry::parse("[[agent]]\nid = \"d\"\n", "r.toml").unwrap_err();
        assert!(e.contains("names no `code`"), "{e}");
    }

    #[test]
    fn code_paths_match_directories_and_globs() {
        let r = Registry::parse(
            "[[agent]]\nid = \"a\"\ncode = [\"support-bot\"]\n[[agent]]\nid = \"b\"\ncode = [\"agents/**\"]\n",
            "r",
        )
        .unwrap();
        assert_eq!(r.match_code("support-bot"), Some(0));
        assert_eq!(r.match_code("support-bot/tools"), Some(0));
        assert_eq!(r.match_code("support-bots"), None);
        assert_eq!(r.match_code("agents/triage"), Some(1));
        assert_eq!(r.match_code("agents"), Some(1));
    }
}
