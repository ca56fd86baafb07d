//! Roster's detection rules: the TOML schema, loading from `(origin, text)` pairs, compiling every
//! rule into one keyword prefilter (Aho-Corasick) plus per-rule regexes, matching a buffer, and
//! the self-checks that run each rule's examples through the real matcher.
//!
//! The built-in rules live in the repository's `rules/` directory and are embedded at build
//! time ([`builtin_sources`]); user files and gitleaks configs go through the same loader.

mod allowlist;
mod check;
mod compile;
mod entropy;
mod goregex;
mod matcher;
mod rule;
pub mod syntax;
mod validate;
mod verify;

pub use check::{CheckFailure, check_rules};
pub use compile::{Flavor, RuleSetBuilder};
pub use entropy::shannon_entropy;
pub use matcher::{KeywordHit, Match, Scratch};
pub use verify::{Outcome, Verify, VerifyAuth};

use roster_model::{AgentCategory, RuleKind, Severity};
use std::fmt;

/// The built-in rule files, `(file name, contents)`, embedded from `rules/`.
pub fn builtin_sources() -> &'static [(&'static str, &'static str)] {
    include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"))
}

/// A compiled rule.
#[derive(Debug)]
pub struct Rule {
    /// Stable id.
    pub id: String,
    /// What was found.
    pub name: String,
    /// What an attacker can do with it.
    pub description: String,
    /// Provider.
    pub provider: String,
    /// `secret` or `agent`.
    pub kind: RuleKind,
    /// Severity.
    pub severity: Severity,
    /// Agent rules: the framework or surface.
    pub framework: Option<String>,
    /// Agent rules: the category.
    pub category: Option<AgentCategory>,
    /// Generic rule that yields to specific ones.
    pub fallback: bool,
    /// The rule whose secret completes this one's (see `pairs_with` in docs/rules.md).
    pub pairs_with: Option<String>,
    /// Composite rule: rules that must also match near a match of this one.
    pub required: Vec<Required>,
    /// Never reported on its own: it serves composite rules.
    pub skip_report: bool,
    /// Finds a public identifier naming a credential (an AWS access key ID), not a secret: its
    /// findings show the last four characters, and other text keeps it (the provider's console
    /// and audit logs show it whole).
    pub identifier: bool,
    /// Documentation links.
    pub references: Vec<String>,
    /// Where it was loaded from.
    pub origin: String,
    /// Inputs that must produce a finding.
    pub examples: Vec<String>,
    /// Inputs that must not.
    pub negative_examples: Vec<String>,
    /// The path examples are scanned as.
    pub example_path: String,
    /// Keywords, lowercase.
    pub keywords: Vec<String>,
    pub(crate) regex: regex::bytes::Regex,
    pub(crate) secret_group: usize,
    pub(crate) entropy: Option<f64>,
    pub(crate) path_filter: Option<allowlist::PathFilter>,
    pub(crate) allowlists: Vec<allowlist::Allowlist>,
    pub(crate) validator: Option<validate::Validator>,
    pub(crate) window: usize,
    /// How `--validate` checks a secret with the provider (built-in rules only use it).
    pub verify: Option<Verify>,
}

impl Rule {
    /// The regex source.
    pub fn regex(&self) -> &str {
        self.regex.as_str()
    }
}

/// A rule that must match near a composite rule's match for it to be reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Required {
    /// The required rule's id.
    pub id: String,
    /// At most this many lines away, when set.
    pub within_lines: Option<u32>,
    /// At most this many columns away, when set.
    pub within_columns: Option<u32>,
}

impl Required {
    /// True when a match at `(line, column)` satisfies this requirement for a primary match at
    /// `(primary_line, primary_column)`.
    pub fn near(&self, primary_line: u32, primary_column: u32, line: u32, column: u32) -> bool {
        self.within_lines.is_none_or(|n| primary_line.abs_diff(line) <= n)
            && self.within_columns.is_none_or(|n| primary_column.abs_diff(column) <= n)
    }
}

/// All loaded rules, compiled into one matcher.
#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
    global: Vec<allowlist::Allowlist>,
    prefilter: aho_corasick::AhoCorasick,
    /// For each prefilter pattern, the rules that use it as a keyword.
    keyword_rules: Vec<Vec<u32>>,
    /// Rules without keywords: their regex runs on every file they apply to.
    unkeyed: Vec<u32>,
    /// Rule index by id.
    by_id: std::collections::HashMap<String, u32>,
    /// Warnings from loading (unsupported gitleaks features and the like).
    warnings: Vec<String>,
    /// Rules of imported gitleaks configs that could not be compiled and were left out.
    skipped: Vec<SkippedRule>,
}

/// A rule of an imported gitleaks config left out because it cannot be compiled: the rest of
/// the config runs, and the scan's report names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRule {
    /// The file it is in.
    pub origin: String,
    /// Its id.
    pub id: String,
    /// Why it was left out.
    pub reason: String,
}

impl RuleSet {
    /// Every rule, in load order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule at `index` (as in [`Match::rule`]).
    pub fn rule(&self, index: u32) -> &Rule {
        &self.rules[index as usize]
    }

    /// The rule with this id.
    pub fn rule_by_id(&self, id: &str) -> Option<&Rule> {
        self.by_id.get(id).map(|&i| &self.rules[i as usize])
    }

    /// Warnings produced while loading.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Rules of imported gitleaks configs that were left out (each also a warning).
    pub fn skipped(&self) -> &[SkippedRule] {
        &self.skipped
    }

    /// True when a global allowlist excludes this path.
    pub fn path_allowed_globally(&self, path: &str) -> bool {
        self.global.iter().any(|a| a.matches_path_only(path))
    }

    /// Loads the built-in rules.
    pub fn builtin() -> Result<RuleSet, Errors> {
        RuleSetBuilder::new().with_builtin().build()
    }
}

/// A problem with a rule or rules file. Messages name the file and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// The file is not valid TOML for the schema.
    #[error("{origin}: {message}")]
    Parse {
        /// File.
        origin: String,
        /// Parser message (with line and column).
        message: String,
    },
    /// A regex does not compile.
    #[error("{origin}: rule {rule_id}: invalid regex: {message}")]
    Regex {
        /// File.
        origin: String,
        /// Rule id.
        rule_id: String,
        /// Regex engine message.
        message: String,
    },
    /// A field has a bad value.
    #[error("{origin}: rule {rule_id}: {message}")]
    Invalid {
        /// File.
        origin: String,
        /// Rule id.
        rule_id: String,
        /// What is wrong.
        message: String,
    },
    /// Two rules share an id.
    #[error("{origin}: rule {rule_id}: duplicate id (already defined in {first})")]
    DuplicateId {
        /// File of the second definition.
        origin: String,
        /// The id.
        rule_id: String,
        /// File of the first definition.
        first: String,
    },
}

/// One or more rule errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Errors(pub Vec<RuleError>);

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Errors {}
