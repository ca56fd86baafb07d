//! Allowlists and path filters: which candidates and files a rule, or every rule, leaves alone.

use crate::compile::{Flavor, dialect};
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
            let lower = String::from_utf8_lossy(secret).to_lowercase();
            checks.push(self.stopwords.iter().any(|s| lower.contains(s.as_str())));
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
