//! One rule of a rules file compiled: its fields checked, its regex built within a size cap,
//! its filters and allowlists compiled ([`compile_rule`]).

use crate::allowlist::{Allowlist, PathFilter};
use crate::compile::Flavor;
use crate::syntax::RuleSyntax;
use crate::validate::Validator;
use crate::{Rule, RuleError};
use regex::bytes::{Regex, RegexBuilder};
use roster_model::{AgentCategory, RuleKind, Severity};

/// Largest `window` a rule may ask for.
const MAX_WINDOW: usize = 64 * 1024;
/// Compiled-regex size cap per rule.
const REGEX_SIZE_LIMIT: usize = 8 << 20;
/// A rule whose automaton outgrows [`REGEX_SIZE_LIMIT`] gets one more try within this cap (an
/// imported config's broad generic rules can need it); beyond it the rule is refused, so that one
/// rule cannot take the memory of a scan.
const REGEX_SIZE_LIMIT_LARGE: usize = 64 << 20;

pub(crate) fn invalid(origin: &str, id: &str, message: impl Into<String>) -> RuleError {
    RuleError::Invalid {
        origin: origin.to_owned(),
        rule_id: id.to_owned(),
        message: message.into(),
    }
}

/// A pattern in the `regex` crate's syntax: a gitleaks config's are Go regular expressions
/// (`crate::goregex`), Roster's own are taken as they are.
pub(crate) fn dialect(pattern: &str, flavor: Flavor) -> Result<std::borrow::Cow<'_, str>, String> {
    match flavor {
        Flavor::Roster => Ok(std::borrow::Cow::Borrowed(pattern)),
        Flavor::Gitleaks => crate::goregex::translate(pattern).map(std::borrow::Cow::Owned),
    }
}

/// Compiles a rule's pattern within [`REGEX_SIZE_LIMIT`], else within [`REGEX_SIZE_LIMIT_LARGE`].
/// Compiles a rule's regex in ASCII mode first: `\w`, `\s`, `\b` and `(?i)` as RE2 (gitleaks)
/// reads them, which is all a credential format needs, at a fraction of the Unicode tables'
/// compile time and memory. A pattern that needs Unicode (`\p{L}`, a non-ASCII class) compiles
/// as written.
fn compile_regex(pattern: &str) -> Result<Regex, regex::Error> {
    let build = |limit: usize, unicode: bool| {
        RegexBuilder::new(pattern)
            .unicode(unicode)
            .size_limit(limit)
            .dfa_size_limit(limit)
            .build()
    };
    let sized = |unicode: bool| match build(REGEX_SIZE_LIMIT, unicode) {
        Err(regex::Error::CompiledTooBig(_)) => build(REGEX_SIZE_LIMIT_LARGE, unicode),
        other => other,
    };
    match sized(false) {
        Err(regex::Error::Syntax(_)) => sized(true),
        other => other,
    }
}

pub(crate) fn compile_rule(
    origin: &str,
    syn: RuleSyntax,
    flavor: Flavor,
    warnings: &mut Vec<String>,
) -> Result<Option<Rule>, RuleError> {
    let id = syn.id.trim().to_owned();
    if id.is_empty() {
        return Err(invalid(origin, "(no id)", "a rule needs a non-empty `id`"));
    }
    let Some(pattern) = syn.regex.as_deref().filter(|p| !p.is_empty()) else {
        if syn.path.is_some() && flavor == Flavor::Gitleaks {
            warnings.push(format!(
                "{origin}: rule {id}: path-only rules (no `regex`) are not supported; skipped"
            ));
            return Ok(None);
        }
        return Err(invalid(origin, &id, "a rule needs a `regex`"));
    };
    let regex_error = |message: String| RuleError::Regex {
        origin: origin.to_owned(),
        rule_id: id.clone(),
        message,
    };
    let pattern = dialect(pattern, flavor).map_err(regex_error)?;
    let regex = compile_regex(&pattern).map_err(|e| regex_error(e.to_string().replace('\n', "\n  ")))?;
    let groups = regex.captures_len() - 1;
    let secret_group = match syn.secret_group {
        Some(g) if g > groups => {
            return Err(invalid(
                origin,
                &id,
                format!("secret_group = {g} but the regex has only {groups} capture group(s)"),
            ));
        }
        Some(g) => g,
        None if groups == 0 => 0,
        None if groups == 1 || flavor == Flavor::Gitleaks => 1,
        None => {
            return Err(invalid(
                origin,
                &id,
                format!(
                    "the regex has {groups} capture groups; use exactly one for the secret (other groups as (?:...)) or set secret_group"
                ),
            ));
        }
    };
    let kind = match syn.kind.as_deref() {
        None | Some("secret") => RuleKind::Secret,
        Some("agent") => RuleKind::Agent,
        Some(other) => {
            return Err(invalid(
                origin,
                &id,
                format!("unknown kind {other:?} (expected secret or agent)"),
            ));
        }
    };
    let severity = match syn.severity.as_deref() {
        None => match (kind, flavor) {
            (RuleKind::Agent, _) => Severity::Info,
            _ => Severity::High,
        },
        Some(s) => Severity::parse(s).ok_or_else(|| {
            invalid(
                origin,
                &id,
                format!("unknown severity {s:?} (expected critical, high, medium, low or info)"),
            )
        })?,
    };
    let category = match syn.category.as_deref() {
        None if kind == RuleKind::Agent => Some(AgentCategory::Framework),
        None => None,
        Some(c) => Some(
            [
                AgentCategory::Framework,
                AgentCategory::McpConfig,
                AgentCategory::AgentCard,
                AgentCategory::CiAction,
                AgentCategory::Iac,
                AgentCategory::CredentialRef,
                AgentCategory::IdentityRef,
            ]
            .into_iter()
            .find(|v| v.as_str() == c)
            .ok_or_else(|| invalid(origin, &id, format!("unknown category {c:?}")))?,
        ),
    };
    if category.is_some() && kind != RuleKind::Agent {
        return Err(invalid(origin, &id, "`category` is only for rules of kind agent"));
    }
    let validator = match syn.validate.as_deref() {
        None => None,
        Some(v) => Some(Validator::parse(v).ok_or_else(|| {
            invalid(
                origin,
                &id,
                format!("unknown validator {v:?} (expected github-crc32 or jwt)"),
            )
        })?),
    };
    if let Some(e) = syn.entropy
        && !(0.0..=8.0).contains(&e)
    {
        return Err(invalid(
            origin,
            &id,
            format!("entropy {e} is outside 0..=8 bits per byte"),
        ));
    }
    let verify = match syn.verify.clone() {
        Some(v) if kind == RuleKind::Secret => Some(crate::Verify::compile(v).map_err(|m| invalid(origin, &id, m))?),
        Some(_) => return Err(invalid(origin, &id, "`verify` is only for rules of kind secret")),
        None => None,
    };
    let window = syn.window.unwrap_or(0);
    if window > MAX_WINDOW {
        return Err(invalid(
            origin,
            &id,
            format!("window {window} is larger than {MAX_WINDOW}"),
        ));
    }
    let keywords: Vec<String> = syn
        .keywords
        .iter()
        .map(|k| k.to_ascii_lowercase())
        .filter(|k| !k.is_empty())
        .collect();
    let mut path_filter = None;
    if !syn.paths.is_empty() {
        path_filter = Some(PathFilter::globs(&syn.paths).map_err(|m| invalid(origin, &id, m))?);
    }
    if let Some(p) = &syn.path {
        let re = dialect(p, flavor)
            .and_then(|p| Regex::new(&p).map_err(|e| e.to_string()))
            .map_err(|e| RuleError::Regex {
                origin: origin.to_owned(),
                rule_id: id.clone(),
                message: format!("in `path`: {e}"),
            })?;
        path_filter = Some(match path_filter {
            Some(PathFilter::Globs(g)) => PathFilter::Both(g, re),
            _ => PathFilter::Regex(re),
        });
    }
    let mut allowlists = Vec::new();
    for a in syn.allowlist.iter().chain(&syn.allowlists) {
        allowlists.push(Allowlist::compile(a, flavor).map_err(|m| invalid(origin, &id, m))?);
    }
    let example_path = syn.example_path.clone().unwrap_or_else(|| {
        syn.paths
            .first()
            .map(|g| g.trim_start_matches("**/").replace("**", "dir").replace('*', "example"))
            .unwrap_or_else(|| "example.txt".to_owned())
    });
    let name = syn
        .name
        .clone()
        .or_else(|| syn.description.clone())
        .unwrap_or_else(|| id.clone());
    Ok(Some(Rule {
        name,
        description: syn.description.unwrap_or_default(),
        provider: syn
            .provider
            .unwrap_or_else(|| id.split(['.', '-']).next().unwrap_or("custom").to_owned()),
        kind,
        severity,
        framework: syn.framework,
        category,
        fallback: syn.fallback,
        pairs_with: syn.pairs_with,
        required: syn
            .required
            .into_iter()
            .map(|r| crate::Required {
                id: r.id,
                within_lines: r.within_lines,
                within_columns: r.within_columns,
            })
            .collect(),
        skip_report: syn.skip_report,
        identifier: syn.identifier,
        references: syn.references,
        origin: origin.to_owned(),
        examples: syn.examples,
        negative_examples: syn.negative_examples,
        example_path,
        keywords,
        regex,
        secret_group,
        entropy: syn.entropy,
        path_filter,
        allowlists,
        validator,
        window,
        verify,
        id,
    }))
}
