//! Rule self-checks: every example through the real matcher. `roster rules check` and the test
//! suite both call [`check_rules`].

use crate::{RuleSet, Scratch};
use roster_model::RuleKind;
use std::fmt;

/// A rule that fails its own checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckFailure {
    /// The rules file.
    pub origin: String,
    /// The rule.
    pub rule_id: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for CheckFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: rule {}: {}", self.origin, self.rule_id, self.message)
    }
}

/// Checks the rules loaded from origins accepted by `select` (all rules when it returns true).
pub fn check_rules(set: &RuleSet, select: impl Fn(&str) -> bool) -> Vec<CheckFailure> {
    let mut failures = Vec::new();
    let mut scratch = Scratch::default();
    let mut out = Vec::new();
    for (i, rule) in set.rules().iter().enumerate() {
        if !select(&rule.origin) {
            continue;
        }
        let idx = u32::try_from(i).expect("fewer than 2^32 rules");
        let mut fail = |message: String| {
            failures.push(CheckFailure {
                origin: rule.origin.clone(),
                rule_id: rule.id.clone(),
                message,
            });
        };
        // A rule bound to a few files by `paths` (`.pgpass`) may run on all of each one.
        if rule.keywords.is_empty() && rule.path_filter.is_none() {
            fail("no keywords: its regex would run on every byte of every file (give keywords, or paths for a rule bound to its own files)".into());
        }
        if rule.examples.len() < 2 {
            fail(format!("needs at least 2 examples, has {}", rule.examples.len()));
        }
        if rule.negative_examples.is_empty() {
            fail("needs at least 1 negative example".into());
        }
        if rule.kind == RuleKind::Secret && rule.references.is_empty() && rule.origin.starts_with("builtin:") {
            fail("built-in secret rules cite the provider's documentation in `references`".into());
        }
        for (n, ex) in rule.examples.iter().enumerate() {
            out.clear();
            set.find_matches(&rule.example_path, ex.as_bytes(), &mut scratch, &mut out);
            if !out.iter().any(|m| m.rule == idx) {
                let others: Vec<&str> = out.iter().map(|m| set.rule(m.rule).id.as_str()).collect();
                fail(format!(
                    "example {} (as {}) produced no finding{}: {}",
                    n + 1,
                    rule.example_path,
                    if others.is_empty() {
                        String::new()
                    } else {
                        format!(" (other rules matched: {})", others.join(", "))
                    },
                    preview(ex)
                ));
            }
        }
        for (n, ex) in rule.negative_examples.iter().enumerate() {
            out.clear();
            set.find_matches(&rule.example_path, ex.as_bytes(), &mut scratch, &mut out);
            if out.iter().any(|m| m.rule == idx) {
                fail(format!(
                    "negative example {} (as {}) produced a finding: {}",
                    n + 1,
                    rule.example_path,
                    preview(ex)
                ));
            }
        }
    }
    failures
}

fn preview(s: &str) -> String {
    let one_line = s.replace('\n', "\\n");
    let cut: String = one_line.chars().take(80).collect();
    if cut.len() < one_line.len() {
        format!("{cut}…")
    } else {
        cut
    }
}
