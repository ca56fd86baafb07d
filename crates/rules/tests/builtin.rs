//! Every built-in rule compiles, has unique id, and passes its own examples through the engine.

use roster_rules::{RuleSet, check_rules};

#[test]
fn builtin_rules_pass_their_examples() {
    let set = RuleSet::builtin().unwrap_or_else(|e| panic!("built-in rules do not load:\n{e}"));
    let failures = check_rules(&set, |_| true);
    let report: Vec<String> = failures.iter().map(ToString::to_string).collect();
    assert!(
        report.is_empty(),
        "{} rule check failure(s):\n{}",
        report.len(),
        report.join("\n")
    );
}

#[test]
fn builtin_rules_cover_the_required_providers() {
    let set = RuleSet::builtin().expect("built-ins load");
    let providers: std::collections::BTreeSet<&str> = set.rules().iter().map(|r| r.provider.as_str()).collect();
    for p in ["openai", "anthropic", "google", "aws", "github", "slack", "huggingface"] {
        assert!(providers.contains(p), "no rule for provider {p}; have {providers:?}");
    }
}
