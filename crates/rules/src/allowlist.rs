//! Allowlists and path filters: which candidates and files a rule, or every rule, leaves alone.

use crate::compile::Flavor;
use crate::rule::dialect;
use crate::syntax::AllowlistSyntax;
use regex::bytes::Regex;

/// Which files a rule or allowlist applies to.
#[derive(Debug)]
pub(crate) enum PathFilter {
    Globs(globset::GlobSet),
    Regex(Regex),
    Both(globset::GlobSet, Regex),
}

impl PathFilter {
    pub(crate) fn globs(globs: &[String]) -> Result<Self, String> {
        let mut b = globset::GlobSetBuilder::new();
        for g in globs {
            b.add(globset::Glob::new(g).map_err(|e| format!("invalid path glob {g:?}: {e}"))?);
        }
        let set = b.build().map_err(|e| format!("invalid path globs: {e}"))?;
        Ok(PathFilter::Globs(set))
    }

    pub(crate) fn matches(&self, path: &str) -> bool {
        match self {
            PathFilter::Globs(g) => g.is_match(path),
            PathFilter::Regex(r) => r.is_match(path.as_bytes()),
            PathFilter::Both(g, r) => g.is_match(path) && r.is_match(path.as_bytes()),
        }
    }
}

/// What an allowlist regex is tested against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Secret,
    Match,
    Line,
}

/// A compiled allowlist.
#[derive(Debug)]
pub(crate) struct Allowlist {
    regexes: Vec<Regex>,
    target: Target,
    stopwords: Vec<String>,
    /// Roster's schema: a stopword of letters counts in one case only (see [`has_word`]); a
    /// gitleaks config keeps gitleaks' case-insensitive substring.
    words: bool,
    paths: Option<PathFilter>,
    and: bool,
    pub(crate) target_rules: Vec<String>,
}

impl Allowlist {
    pub(crate) fn compile(a: &AllowlistSyntax, flavor: Flavor) -> Result<Self, String> {
        let regexes = a
            .regexes
            .iter()
            .map(|r| {
                dialect(r, flavor)
                    .and_then(|t| Regex::new(&t).map_err(|e| e.to_string()))
                    .map_err(|e| format!("invalid allowlist regex {r:?}: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let target = match a.regex_target.as_deref() {
            None | Some("secret") => Target::Secret,
            Some("match") => Target::Match,
            Some("line") => Target::Line,
            Some(t) => return Err(format!("unknown regex_target {t:?} (expected secret, match or line)")),
        };
        let paths = if a.paths.is_empty() {
            None
        } else if flavor == Flavor::Gitleaks {
            let joined = a
                .paths
                .iter()
                .map(|p| {
                    dialect(p, flavor)
                        .map(|t| format!("(?:{t})"))
                        .map_err(|e| format!("invalid allowlist path regex {p:?}: {e}"))
                })
                .collect::<Result<Vec<_>, _>>()?
                .join("|");
            Some(PathFilter::Regex(
                Regex::new(&joined).map_err(|e| format!("invalid allowlist path regex: {e}"))?,
            ))
        } else {
            Some(PathFilter::globs(&a.paths)?)
        };
        let and = match a.condition.as_deref() {
            None => false,
            Some(c) if c.eq_ignore_ascii_case("or") => false,
            Some(c) if c.eq_ignore_ascii_case("and") => true,
            Some(c) => return Err(format!("unknown condition {c:?} (expected OR or AND)")),
        };
        Ok(Allowlist {
            regexes,
            target,
            stopwords: a.stopwords.iter().map(|s| s.to_lowercase()).collect(),
            words: flavor == Flavor::Roster,
            paths,
            and,
            target_rules: a.target_rules.clone(),
        })
    }

    /// True when this allowlist excludes the whole file (it has only paths).
    pub(crate) fn matches_path_only(&self, path: &str) -> bool {
        self.regexes.is_empty()
            && self.stopwords.is_empty()
            && self.target_rules.is_empty()
            && self.paths.as_ref().is_some_and(|p| p.matches(path))
    }

    /// True when this allowlist drops the candidate.
    pub(crate) fn allows(&self, path: &str, secret: &[u8], whole: &[u8], line: &[u8]) -> bool {
        let mut checks: Vec<bool> = Vec::with_capacity(3);
        if !self.regexes.is_empty() {
            let target = match self.target {
                Target::Secret => secret,
                Target::Match => whole,
                Target::Line => line,
            };
            checks.push(self.regexes.iter().any(|r| r.is_match(target)));
        }
        if !self.stopwords.is_empty() {
            let hit = if self.words {
                self.stopwords.iter().any(|w| has_word(secret, w.as_bytes()))
            } else {
                let lower = String::from_utf8_lossy(secret).to_lowercase();
                self.stopwords.iter().any(|s| lower.contains(s.as_str()))
            };
            checks.push(hit);
        }
        if let Some(p) = &self.paths {
            checks.push(p.matches(path));
        }
        if checks.is_empty() {
            return false;
        }
        if self.and {
            checks.iter().all(|c| *c)
        } else {
            checks.iter().any(|c| *c)
        }
    }
}

/// True when `text` holds the (lower-case) stopword `word`. A stopword of letters only is a word
/// a placeholder spells in one case (`dummy`, `DUMMY`, `Dummy`, as in `sk-proj-dummy-key`,
/// `DUMMY_TOKEN`, `AKIAIOSFODNN7EXAMPLE`); in mixed case (`...UIcDumMyAz...`) it is letters of a
/// random key, which hold some five-letter stopword case-insensitively about once in 50,000
/// 150-character keys. Any other stopword (a published sample token, `${`) is matched
/// case-insensitively anywhere.
pub(crate) fn has_word(text: &[u8], word: &[u8]) -> bool {
    if word.is_empty() || text.len() < word.len() {
        return false;
    }
    let letters = word.iter().all(u8::is_ascii_alphabetic);
    text.windows(word.len()).any(|o| {
        o.eq_ignore_ascii_case(word)
            && (!letters
                || o == word
                || o.iter().all(u8::is_ascii_uppercase)
                || (o[0].is_ascii_uppercase() && o[1..] == word[1..]))
    })
}

#[cfg(test)]
mod tests {
    use super::has_word;

    #[test]
    fn a_stopword_of_letters_counts_in_one_case_only() {
        // A placeholder spells the word in one case.
        for t in [
            "sk-proj-dummy-key-1234567890",
            "DUMMY_TOKEN_VALUE",
            "myDummyKey0123",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYDUMMYKEY",
        ] {
            assert!(has_word(t.as_bytes(), b"dummy"), "{t}");
        }
        // A random key holds the letters in mixed case.
        for t in ["sk-proj-4Zv5UIcDumMyAzvm9UMYEp", "dUmmy", "DUMMy"] {
            assert!(!has_word(t.as_bytes(), b"dummy"), "{t}");
        }
        // A stopword that is not all letters (a published sample token) matches in any case.
        assert!(has_word(
            b"Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
            b"qwxhzgrpbjpvcgvuihnlc2ftzq=="
        ));
        assert!(has_word(b"postgres://u:${PW}@h/db", b"${"));
    }
}
