//! CODEOWNERS files: who owns a path in a repository (GitHub's syntax; the last matching line
//! wins).

use globset::{GlobBuilder, GlobMatcher};

/// One repository's CODEOWNERS rules.
#[derive(Debug, Default)]
pub struct CodeOwners {
    rules: Vec<(String, GlobMatcher, Vec<String>)>,
    /// The file they came from.
    pub origin: String,
}

impl CodeOwners {
    /// Parses a CODEOWNERS file. Lines that cannot be read are skipped and returned as warnings,
    /// as GitHub does.
    pub fn parse(text: &str, origin: &str) -> (CodeOwners, Vec<String>) {
        let mut rules = Vec::new();
        let mut warnings = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split(" #").next().unwrap_or_default().trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let Some(pattern) = parts.next() else { continue };
            let owners: Vec<String> = parts.map(str::to_owned).collect();
            let anchored = pattern.starts_with('/') || pattern.trim_end_matches('/').contains('/');
            let mut p = pattern.trim_start_matches('/').to_owned();
            if p.ends_with('/') {
                p.push_str("**");
            } else if !p.ends_with("/**") && !p.ends_with("/*") && p != "*" {
                // A plain name matches a file or a directory and everything beneath it.
                p = format!("{{{p},{p}/**}}");
            }
            if !anchored {
                p = format!("{{{p},**/{p}}}");
            }
            match GlobBuilder::new(&p).literal_separator(true).build() {
                Ok(g) => rules.push((pattern.to_owned(), g.compile_matcher(), owners)),
                Err(e) => warnings.push(format!("{origin}:{}: pattern `{pattern}` skipped: {e}", n + 1)),
            }
        }
        (
            CodeOwners {
                rules,
                origin: origin.to_owned(),
            },
            warnings,
        )
    }

    /// The owners of `path` and the pattern that named them (the last matching rule), if any.
    pub fn owners(&self, path: &str) -> Option<(&str, &[String])> {
        self.rules
            .iter()
            .rev()
            .find(|(_, g, _)| g.is_match(path))
            .filter(|(_, _, o)| !o.is_empty())
            .map(|(p, _, o)| (p.as_str(), o.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_match_wins_and_patterns_follow_github() {
        let (c, w) = CodeOwners::parse(
            "# owners\n* @acme/platform\n/support-bot/ @alice\n*.py @acme/python # comment\ndocs @bob\n[bad @x\n",
            "CODEOWNERS",
        );
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(c.owners("README.md").unwrap().1, ["@acme/platform"]);
        assert_eq!(c.owners("support-bot/.env").unwrap().1, ["@alice"]);
        assert_eq!(c.owners("support-bot/agent.py").unwrap().1, ["@acme/python"]);
        assert_eq!(c.owners("a/docs/x.md").unwrap().1, ["@bob"]);
        assert_eq!(c.owners("x/support-bot/y").unwrap().1, ["@acme/platform"]);
        // GitHub's own examples: `**/logs` owns what is inside any logs directory; `docs/*` only
        // the files directly in docs/.
        let (c, _) = CodeOwners::parse("**/logs @octocat\ndocs/* @docs\n", "CODEOWNERS");
        assert_eq!(c.owners("build/logs/x.log").unwrap().1, ["@octocat"]);
        assert_eq!(c.owners("docs/a.md").unwrap().1, ["@docs"]);
        assert!(c.owners("docs/sub/a.md").is_none());
    }
}
