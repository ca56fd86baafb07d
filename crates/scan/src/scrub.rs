//! Scrubbing what Roster emits: every free-text field that came from outside (commit summaries,
//! authors, paths, provider display names and descriptions, registry fields, evidence) is run
//! through the secret rules, and what they match is replaced by its redacted form. A careless
//! `git commit -m "rotate AKIA…"` or a service account described with its own token then shows
//! only the redacted form, in every report format and in the state database.

use crate::engine::known_prefix;
use crate::fingerprint::redact;
use roster_model::RuleKind;
use roster_rules::{Match, RuleSet, Scratch};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::borrow::Cow;

/// Fields never scrubbed: the raw secret the user asked for with `--show-secrets` and keyed
/// fingerprints. A credential's provider-issued `id` is kept too (an AWS access key ID is the
/// handle a security team rotates the key by; it is an identifier, not a secret).
const KEPT: [&str; 3] = ["secret", "fingerprint", "hash"];

/// Replaces secrets in text with their redacted forms.
#[derive(Debug)]
pub struct Scrubber<'r> {
    rules: &'r RuleSet,
}

impl<'r> Scrubber<'r> {
    /// A scrubber using these rules' secret rules (not those that find identifiers).
    pub fn new(rules: &'r RuleSet) -> Self {
        Self { rules }
    }

    /// `text` with every secret the rules find replaced by its redacted form.
    pub fn scrub<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut matches: Vec<Match> = Vec::new();
        self.rules
            .find_matches("", text.as_bytes(), &mut Scratch::default(), &mut matches);
        matches.retain(|m| {
            let rule = self.rules.rule(m.rule);
            rule.kind == RuleKind::Secret && !rule.identifier && !m.secret.is_empty()
        });
        if matches.is_empty() {
            return Cow::Borrowed(text);
        }
        matches.sort_by_key(|m| (m.secret.start, std::cmp::Reverse(m.secret.end)));
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for m in &matches {
            let r = m.secret.clone();
            // Overlapping matches: the first (longest) one already covers this.
            if r.start < at || !text.is_char_boundary(r.start) || !text.is_char_boundary(r.end) {
                continue;
            }
            let secret = &text.as_bytes()[r.clone()];
            out.push_str(&text[at..r.start]);
            out.push_str(&redact(secret, known_prefix(self.rules.rule(m.rule), secret)));
            at = r.end;
        }
        out.push_str(&text[at..]);
        Cow::Owned(out)
    }

    /// Scrubs every string in `value` (keys and values) but the fields in `KEPT` and the ids of
    /// credentials ([`roster_model::edit_strings`]): a field added later is scrubbed too.
    pub fn scrub_all<T: Serialize + DeserializeOwned>(&self, value: &mut T) -> Result<(), serde_json::Error> {
        roster_model::edit_strings(value, |keys, s| {
            let last = keys.last().map(String::as_str);
            let parent = keys.len().checked_sub(2).map(|i| keys[i].as_str());
            if last.is_some_and(|k| KEPT.contains(&k)) || (last == Some("id") && parent == Some("credentials")) {
                return None;
            }
            match self.scrub(s) {
                Cow::Borrowed(_) => None,
                Cow::Owned(o) => Some(o),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_in_text_are_redacted() {
        let rules = RuleSet::builtin().unwrap();
        let s = Scrubber::new(&rules);
        let key = "sk-proj-Qm7xT2vLp9RkZ4wNc8HdJ3sYb6FgU1eA5oKiV0tXqW2";
        let text = format!("rotate leaked token {key} (oops)");
        let out = s.scrub(&text);
        assert!(!out.contains(&key[8..16]), "{out}");
        assert!(
            out.starts_with("rotate leaked token sk-proj-…") && out.ends_with(" (oops)"),
            "{out}"
        );
        assert_eq!(s.scrub("fix the build"), "fix the build");
    }

    #[test]
    fn every_field_but_the_kept_ones_is_scrubbed() {
        let rules = RuleSet::builtin().unwrap();
        let s = Scrubber::new(&rules);
        let key = "sk-proj-Qm7xT2vLp9RkZ4wNc8HdJ3sYb6FgU1eA5oKiV0tXqW2";
        let mut v = json!({
            "summary": format!("add {key}"),
            "secret": key,
            "nested": [{"credentials": [{"id": "AKIAIOSFODNN7EXAMPLE", "name": key}]}],
        });
        s.scrub_all(&mut v).unwrap();
        let text = v.to_string();
        assert_eq!(
            text.matches(&key[8..16]).count(),
            1,
            "only --show-secrets' field: {text}"
        );
        assert_eq!(v["nested"][0]["credentials"][0]["id"], "AKIAIOSFODNN7EXAMPLE");
    }
}
