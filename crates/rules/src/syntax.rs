//! The TOML rule schema, as plain serde structs. Roster's own fields are snake_case; gitleaks's
//! camelCase spellings are accepted as aliases so a gitleaks config loads as-is.

use serde::Deserialize;

/// One rules file: `[[rules]]` plus optional global allowlists.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFileSyntax {
    /// gitleaks: the config's title (ignored).
    #[serde(default)]
    pub title: Option<String>,
    /// gitleaks: `[extend]` (Roster always keeps its built-ins; accepted and ignored).
    #[serde(default)]
    pub extend: Option<toml::Value>,
    /// gitleaks: the minimum version (ignored).
    #[serde(default, rename = "minVersion")]
    pub min_version: Option<String>,
    /// The rules.
    #[serde(default)]
    pub rules: Vec<RuleSyntax>,
    /// A global allowlist.
    #[serde(default)]
    pub allowlist: Option<AllowlistSyntax>,
    /// gitleaks ≥ 8.25: several global allowlists.
    #[serde(default)]
    pub allowlists: Vec<AllowlistSyntax>,
}

/// One rule as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSyntax {
    /// Stable id.
    pub id: String,
    /// What was found.
    #[serde(default)]
    pub name: Option<String>,
    /// What an attacker can do with it.
    #[serde(default)]
    pub description: Option<String>,
    /// Provider.
    #[serde(default)]
    pub provider: Option<String>,
    /// `secret` or `agent`.
    #[serde(default)]
    pub kind: Option<String>,
    /// Severity name.
    #[serde(default)]
    pub severity: Option<String>,
    /// The regex (`pattern` accepted too).
    #[serde(default, alias = "pattern")]
    pub regex: Option<String>,
    /// Which capture group holds the secret (gitleaks: `secretGroup`).
    #[serde(default, alias = "secretGroup")]
    pub secret_group: Option<usize>,
    /// Prefilter literals.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Minimum Shannon entropy of the secret.
    #[serde(default)]
    pub entropy: Option<f64>,
    /// gitleaks: a path regex the file must match.
    #[serde(default)]
    pub path: Option<String>,
    /// Path globs; the rule applies only to matching files.
    #[serde(default)]
    pub paths: Vec<String>,
    /// gitleaks: tags (kept as-is).
    #[serde(default)]
    pub tags: Vec<String>,
    /// One allowlist.
    #[serde(default)]
    pub allowlist: Option<AllowlistSyntax>,
    /// Several allowlists.
    #[serde(default)]
    pub allowlists: Vec<AllowlistSyntax>,
    /// A checksum validator name.
    #[serde(default)]
    pub validate: Option<String>,
    /// Bytes after a keyword hit the regex may reach.
    #[serde(default)]
    pub window: Option<usize>,
    /// Generic rule that yields to specific ones.
    #[serde(default)]
    pub fallback: bool,
    /// The id of a rule whose secret completes this one's (an AWS key id and its secret key):
    /// a finding of each within a few lines of the other in one file are paired.
    #[serde(default)]
    pub pairs_with: Option<String>,
    /// Agent rules: framework display name.
    #[serde(default)]
    pub framework: Option<String>,
    /// Agent rules: category.
    #[serde(default)]
    pub category: Option<String>,
    /// Links to the provider's documentation of the format.
    #[serde(default)]
    pub references: Vec<String>,
    /// Inputs that must produce a finding.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Inputs that must not.
    #[serde(default)]
    pub negative_examples: Vec<String>,
    /// The path examples are scanned as.
    #[serde(default)]
    pub example_path: Option<String>,
    /// Composite rules (gitleaks `[[rules.required]]`): this rule reports only when each of
    /// these rules also matches near it in the same file.
    #[serde(default)]
    pub required: Vec<RequiredSyntax>,
    /// Matches of this rule are never reported on their own (it serves composite rules).
    #[serde(default, alias = "skipReport")]
    pub skip_report: bool,
    /// What it finds is a public identifier that names a credential (an AWS access key ID), not
    /// the secret itself.
    #[serde(default)]
    pub identifier: bool,
    /// How `--validate` asks the provider whether a found secret is live.
    #[serde(default)]
    pub verify: Option<crate::verify::VerifySyntax>,
}

/// One `[[rules.required]]` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredSyntax {
    /// The required rule.
    pub id: String,
    /// At most this many lines away (either side).
    #[serde(default, alias = "withinLines")]
    pub within_lines: Option<u32>,
    /// At most this many columns away (either side).
    #[serde(default, alias = "withinColumns")]
    pub within_columns: Option<u32>,
}

/// An allowlist as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowlistSyntax {
    /// Why.
    #[serde(default)]
    pub description: Option<String>,
    /// Regexes; tested against `regex_target`.
    #[serde(default)]
    pub regexes: Vec<String>,
    /// `secret` (default), `match` or `line`.
    #[serde(default, alias = "regexTarget")]
    pub regex_target: Option<String>,
    /// Case-insensitive substrings of the secret.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// Path globs (Roster) or path regexes (gitleaks).
    #[serde(default)]
    pub paths: Vec<String>,
    /// gitleaks: commit ids to ignore.
    #[serde(default)]
    pub commits: Vec<String>,
    /// gitleaks: `OR` (default) or `AND`.
    #[serde(default)]
    pub condition: Option<String>,
    /// gitleaks ≥ 8.25: rule ids a global allowlist applies to.
    #[serde(default, alias = "targetRules")]
    pub target_rules: Vec<String>,
}
