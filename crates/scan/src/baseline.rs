//! Baselines: a file of known findings so that only new leaks fail CI. Each entry is a salted
//! HMAC of the secret (the salt is in the file, so a baseline committed to a repository works on
//! every machine), plus the rule and path for people reading it. No raw secret is stored.

use crate::fingerprint::keyed_hex;
use roster_model::Finding;
use roster_model::{hex, unhex};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::Path;

/// A problem reading a baseline file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BaselineError {
    /// The file cannot be read.
    #[error("{path}: cannot read baseline: {source}")]
    Read {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The file is not a Roster baseline.
    #[error("{path}: not a Roster baseline: {message} (create one with `roster baseline create`)")]
    Format {
        /// File.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// A loaded baseline.
#[derive(Debug, Clone)]
pub struct Baseline {
    salt: Vec<u8>,
    known: HashSet<(String, String)>,
}

impl Baseline {
    fn key(&self, f: &Finding) -> Option<(String, String)> {
        let raw = f.raw()?;
        Some((f.rule_id.to_string(), keyed_hex(&self.salt, &raw.0)))
    }

    /// True when the finding is in the baseline.
    pub fn contains(&self, f: &Finding) -> bool {
        self.key(f).is_some_and(|k| self.known.contains(&k))
    }

    /// Reads a baseline file.
    pub fn load(path: &Path) -> Result<Self, BaselineError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
            path: p.clone(),
            source,
        })?;
        Self::parse(&text, &p)
    }

    /// Parses a baseline's text; `origin` (its path) names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, BaselineError> {
        let bad = |message: &str| BaselineError::Format {
            path: origin.to_owned(),
            message: message.to_owned(),
        };
        let v: Value = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
        if v.get("roster_baseline").and_then(Value::as_u64) != Some(1) {
            return Err(bad("missing \"roster_baseline\": 1"));
        }
        let salt = v
            .get("salt")
            .and_then(Value::as_str)
            .and_then(unhex)
            .ok_or_else(|| bad("bad \"salt\""))?;
        let mut known = HashSet::new();
        for e in v
            .get("findings")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("missing \"findings\""))?
        {
            let (Some(rule), Some(h)) = (
                e.get("rule_id").and_then(Value::as_str),
                e.get("hash").and_then(Value::as_str),
            ) else {
                return Err(bad("an entry lacks rule_id or hash"));
            };
            known.insert((rule.to_owned(), h.to_owned()));
        }
        Ok(Baseline { salt, known })
    }

    /// The JSON text of a baseline holding `findings`, under a fresh `salt`.
    pub fn render(findings: &[Finding], salt: &[u8]) -> String {
        let tmp = Baseline {
            salt: salt.to_vec(),
            known: HashSet::new(),
        };
        let mut entries: Vec<Value> = findings
            .iter()
            .filter_map(|f| {
                let (rule, hash) = tmp.key(f)?;
                Some(json!({"rule_id": rule, "hash": hash, "path": f.path, "line": f.line, "commit": f.commit}))
            })
            .collect();
        entries.sort_by_key(ToString::to_string);
        entries.dedup_by(|a, b| a["rule_id"] == b["rule_id"] && a["hash"] == b["hash"] && a["path"] == b["path"]);
        let doc = json!({
            "roster_baseline": 1,
            "salt": hex(salt),
            "findings": entries,
        });
        serde_json::to_string_pretty(&doc).expect("JSON values serialize") + "\n"
    }
}
