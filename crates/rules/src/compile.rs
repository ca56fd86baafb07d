//! Loading rule files and compiling them into a [`RuleSet`].

use crate::allowlist::Allowlist;
use crate::rule::{compile_rule, invalid};
use crate::syntax::RuleFileSyntax;
use crate::{Errors, Rule, RuleError, RuleSet, builtin_sources};
use std::collections::HashMap;

/// Default bytes around a keyword hit that a rule's regex may look at (beyond the hit's line).
pub(crate) const DEFAULT_RADIUS: usize = 1024;

/// The dialect of a rules file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Roster's schema (`docs/rules.md`): path filters are globs.
    Roster,
    /// A gitleaks config: path filters are regexes, severity defaults to high.
    Gitleaks,
}

/// Collects rule files, then compiles them all at once.
#[derive(Debug, Default)]
pub struct RuleSetBuilder {
    sources: Vec<(String, String, Flavor)>,
}

impl RuleSetBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the embedded built-in rules.
    pub fn with_builtin(mut self) -> Self {
        for (name, text) in builtin_sources() {
            self.sources
                .push((format!("builtin:rules/{name}"), (*text).to_owned(), Flavor::Roster));
        }
        self
    }

    /// Drops the embedded copy of built-in file `name` (used when checking an edited copy of it).
    pub fn without_builtin(mut self, name: &str) -> Self {
        let origin = format!("builtin:rules/{name}");
        self.sources.retain(|(o, _, _)| *o != origin);
        self
    }

    /// Adds one file's text; `origin` names it in errors.
    pub fn add(&mut self, origin: impl Into<String>, text: impl Into<String>, flavor: Flavor) -> &mut Self {
        self.sources.push((origin.into(), text.into(), flavor));
        self
    }

    /// Compiles everything; returns every error found, not just the first.
    pub fn build(self) -> Result<RuleSet, Errors> {
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let mut skipped = Vec::new();
        let mut rules: Vec<Rule> = Vec::new();
        let mut global = Vec::new();
        let mut seen: HashMap<String, String> = HashMap::new();
        // Each file is parsed and its rules compiled on a worker (the regexes are most of a
        // build's time); the results are taken in file order, so errors, warnings and rule
        // order are those of one thread.
        let files = in_parallel(&self.sources, |(origin, text, flavor)| {
            compile_file(origin, text, *flavor)
        });
        for ((origin, _, flavor), file) in self.sources.iter().zip(files) {
            let (allowlists, compiled) = match file {
                Ok(f) => f,
                Err(message) => {
                    errors.push(RuleError::Parse {
                        origin: origin.clone(),
                        message,
                    });
                    continue;
                }
            };
            for a in allowlists {
                match a {
                    Ok(a) => global.push(a),
                    Err(message) => errors.push(RuleError::Invalid {
                        origin: origin.clone(),
                        rule_id: "(global allowlist)".into(),
                        message,
                    }),
                }
            }
            for (id, compiled, rule_warnings) in compiled {
                if let Some(first) = seen.get(&id) {
                    errors.push(RuleError::DuplicateId {
                        origin: origin.clone(),
                        rule_id: id,
                        first: first.clone(),
                    });
                    continue;
                }
                seen.insert(id.clone(), origin.clone());
                warnings.extend(rule_warnings);
                match compiled {
                    Ok(Some(rule)) => rules.push(rule),
                    Ok(None) => {}
                    // An imported gitleaks config is someone else's: a rule of it that cannot
                    // be compiled is left out and named, and the rest runs.
                    Err(e) if *flavor == Flavor::Gitleaks => {
                        let reason = match &e {
                            RuleError::Regex { message, .. } | RuleError::Invalid { message, .. } => message.clone(),
                            other => other.to_string(),
                        };
                        warnings.push(format!("{origin}: rule {id}: skipped (not applied): {reason}"));
                        skipped.push(crate::SkippedRule {
                            origin: origin.clone(),
                            id,
                            reason,
                        });
                    }
                    Err(e) => errors.push(e),
                }
            }
        }
        let by_id: HashMap<String, u32> = rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), u32::try_from(i).expect("fewer than 2^32 rules")))
            .collect();
        for r in &rules {
            if let Some(p) = &r.pairs_with
                && !by_id.contains_key(p)
            {
                errors.push(invalid(
                    &r.origin,
                    &r.id,
                    format!("pairs_with = {p:?} names no loaded rule"),
                ));
            }
            for q in &r.required {
                if !by_id.contains_key(&q.id) {
                    let msg = format!("[[rules.required]] id {:?} names no loaded rule", q.id);
                    errors.push(invalid(&r.origin, &r.id, msg));
                }
            }
        }
        if !errors.is_empty() {
            return Err(Errors(errors));
        }
        // One prefilter over every rule's keywords. Identical keywords share a pattern.
        let mut patterns: Vec<String> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut keyword_rules: Vec<Vec<u32>> = Vec::new();
        let mut unkeyed = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            let i = u32::try_from(i).expect("fewer than 2^32 rules");
            if r.keywords.is_empty() {
                unkeyed.push(i);
            }
            for k in &r.keywords {
                let p = *index.entry(k.clone()).or_insert_with(|| {
                    patterns.push(k.clone());
                    keyword_rules.push(Vec::new());
                    patterns.len() - 1
                });
                if !keyword_rules[p].contains(&i) {
                    keyword_rules[p].push(i);
                }
            }
        }
        // The prefilter reports, at each position where keywords start, only the longest one
        // (leftmost-longest, restarted one byte after each hit). Every shorter keyword starting
        // there is a prefix of it, so each pattern carries the rules of all its prefixes too.
        let closure: Vec<Vec<u32>> = patterns
            .iter()
            .map(|p| {
                let mut rules: Vec<u32> = Vec::new();
                for (q, qr) in patterns.iter().zip(&keyword_rules) {
                    if p.starts_with(q.as_str()) {
                        rules.extend(qr);
                    }
                }
                rules.sort_unstable();
                rules.dedup();
                rules
            })
            .collect();
        let keyword_rules = closure;
        let prefilter = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .byte_classes(true)
            .build(&patterns)
            .map_err(|e| {
                Errors(vec![RuleError::Invalid {
                    origin: "(all rules)".into(),
                    rule_id: "(keywords)".into(),
                    message: format!("cannot build the keyword prefilter: {e}"),
                }])
            })?;
        Ok(RuleSet {
            rules,
            global,
            prefilter,
            keyword_rules,
            unkeyed,
            by_id,
            warnings,
            skipped,
        })
    }
}

/// One rule file parsed, with its global allowlists and each of its rules (its id, the rule or
/// why not, and the warnings compiling it gave) compiled; `Err` with the parse error.
type CompiledFile = Result<(Vec<Result<Allowlist, String>>, Vec<CompiledRule>), String>;
type CompiledRule = (String, Result<Option<Rule>, RuleError>, Vec<String>);

fn compile_file(origin: &str, text: &str, flavor: Flavor) -> CompiledFile {
    let file: RuleFileSyntax = toml::from_str(text).map_err(|e| e.to_string().trim_end().replace('\n', "\n  "))?;
    let allowlists = file
        .allowlist
        .iter()
        .chain(&file.allowlists)
        .map(|a| Allowlist::compile(a, flavor))
        .collect();
    let rules = file
        .rules
        .into_iter()
        .map(|syn| {
            let id = syn.id.clone();
            let mut warnings = Vec::new();
            let rule = compile_rule(origin, syn, flavor, &mut warnings);
            (id, rule, warnings)
        })
        .collect();
    Ok((allowlists, rules))
}

/// `f` of each item, in order, computed on up to as many threads as there are cores.
fn in_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        out.push((i, f(item)));
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_unstable_by_key(|d| d.0);
    done.into_iter().map(|d| d.1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(text: &str) -> Result<RuleSet, Errors> {
        let mut b = RuleSetBuilder::new();
        b.add("user.toml", text, Flavor::Roster);
        b.build()
    }

    #[test]
    fn regex_error_names_file_rule_and_problem() {
        let err = build("[[rules]]\nid = \"bad.rule\"\nregex = '''(unclosed'''\nkeywords=[\"x\"]\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("user.toml"), "{msg}");
        assert!(msg.contains("bad.rule"), "{msg}");
        assert!(msg.contains("invalid regex"), "{msg}");
    }

    #[test]
    fn toml_error_names_file_and_line() {
        let err = build("[[rules]\nid = 1").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("user.toml: "), "{msg}");
        assert!(msg.contains("line 1"), "{msg}");
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let rule = "[[rules]]\nid = \"acme.key\"\nregex = 'x(y)'\nkeywords=[\"x\"]\n";
        let mut b = RuleSetBuilder::new();
        b.add("theirs.toml", rule, Flavor::Roster)
            .add("mine.toml", rule, Flavor::Roster);
        let msg = b.build().unwrap_err().to_string();
        assert!(msg.contains("duplicate id"), "{msg}");
        assert!(msg.contains("mine.toml"), "{msg}");
    }

    /// gitleaks' own default config (v8.30.1, tests/fixtures/gitleaks) loads as it is: its Go
    /// regular expressions are translated, none is refused, and its rules find what its own
    /// allowlists do not stop.
    #[test]
    fn gitleaks_own_default_config_loads_as_it_is() {
        let text = include_str!("../../../tests/fixtures/gitleaks/gitleaks.toml");
        let mut b = RuleSetBuilder::new();
        b.add("gitleaks.toml", text, Flavor::Gitleaks);
        let set = b.build().unwrap_or_else(|e| panic!("{e}"));
        // 222 rules; the one with only a `path` (PKCS#12 files) is skipped with a warning.
        assert_eq!(set.rules().len(), 221);
        assert!(
            set.warnings().iter().any(|w| w.contains("pkcs12-file")),
            "{:?}",
            set.warnings()
        );
        // The translated global allowlist: `${VAR}` and `$1`-style placeholders are allowed.
        let generic = set.rule_by_id("generic-api-key").expect("generic-api-key");
        assert!(!generic.regex().is_empty());
        for id in ["pypi-upload-token", "vault-batch-token", "curl-auth-user"] {
            assert!(set.rule_by_id(id).is_some(), "{id} did not load");
        }
    }

    /// An imported gitleaks config's rule that outgrows the default automaton cap gets the
    /// larger one; one that still cannot compile is left out and named while the rest load. A
    /// rule of Roster's own schema stays an error.
    #[test]
    fn a_gitleaks_rule_that_cannot_compile_is_skipped_and_named() {
        let config = r#"
[[rules]]
id = "wide-letters"
regex = '''name=(\pL{300})'''
[[rules]]
id = "too-wide"
regex = '''name=(\pL{3000})'''
[[rules]]
id = "any-byte"
regex = '''tok=(\C+)'''
[[rules]]
id = "plain-token"
regex = '''tok_[a-z0-9]{20}'''
keywords = ["tok_"]
"#;
        let mut b = RuleSetBuilder::new();
        b.add("theirs.toml", config, Flavor::Gitleaks);
        let set = b.build().unwrap_or_else(|e| panic!("{e}"));
        let ids: Vec<&str> = set.rules().iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["wide-letters", "plain-token"]);
        let skipped: Vec<(&str, &str)> = set
            .skipped()
            .iter()
            .map(|s| (s.origin.as_str(), s.id.as_str()))
            .collect();
        assert_eq!(skipped, [("theirs.toml", "too-wide"), ("theirs.toml", "any-byte")]);
        assert!(set.skipped()[0].reason.contains("size limit"), "{:?}", set.skipped());
        for id in ["too-wide", "any-byte"] {
            assert!(
                set.warnings()
                    .iter()
                    .any(|w| w.contains(&format!("theirs.toml: rule {id}: skipped"))),
                "{:?}",
                set.warnings()
            );
        }
        let msg = build("[[rules]]\nid = \"too-wide\"\nregex = '''name=(\\pL{3000})'''\nkeywords = [\"name\"]\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("too-wide") && msg.contains("size limit"), "{msg}");
    }

    #[test]
    fn two_capture_groups_need_secret_group() {
        let msg = build("[[rules]]\nid = \"two\"\nregex = '''(a)(b)'''\nkeywords=[\"a\"]\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("2 capture groups"), "{msg}");
    }
}
