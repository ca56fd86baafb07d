//! Correlated ownership gaps, their evidence and acceptances.

use serde::ser::SerializeSeq;
use serde::{Deserialize, Serialize, Serializer};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;

use crate::{Finding, Severity, Text};
use std::sync::Arc;

/// The kinds of gap correlation reports; spelled in kebab-case in the JSON report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GapKind {
    /// An AI agent (in code or an AI-capable identity) that the registry does not list.
    UnregisteredAgent,
    /// An identity or agent with no accountable, active owner.
    NoOwner,
    /// One secret in several places, or one credential used by several agents.
    SharedCredential,
    /// An active key older than the rotation threshold, or a secret that lives too long.
    LongLivedCredential,
    /// An enabled identity or active credential unused for longer than the threshold.
    StaleIdentity,
    /// An agent-linked identity with admin, wildcard or directory-wide permissions.
    OverPrivilegedAgent,
    /// A person's credential used by an AI client.
    HumanCredentialUsedByAgent,
    /// A secret committed to a repository or left in files.
    CommittedSecret,
    /// A registered agent whose identities are gone or unused: an offboarding candidate.
    RegistryZombie,
    /// A registry entry whose review date has passed, or that gives no purpose.
    ReviewOverdue,
}

impl GapKind {
    /// All kinds, in report order.
    pub const ALL: [GapKind; 10] = [
        GapKind::CommittedSecret,
        GapKind::SharedCredential,
        GapKind::HumanCredentialUsedByAgent,
        GapKind::OverPrivilegedAgent,
        GapKind::UnregisteredAgent,
        GapKind::NoOwner,
        GapKind::LongLivedCredential,
        GapKind::StaleIdentity,
        GapKind::ReviewOverdue,
        GapKind::RegistryZombie,
    ];

    /// The kebab-case name used in reports and config.
    pub fn as_str(self) -> &'static str {
        match self {
            GapKind::UnregisteredAgent => "unregistered-agent",
            GapKind::NoOwner => "no-owner",
            GapKind::SharedCredential => "shared-credential",
            GapKind::LongLivedCredential => "long-lived-credential",
            GapKind::StaleIdentity => "stale-identity",
            GapKind::OverPrivilegedAgent => "over-privileged-agent",
            GapKind::HumanCredentialUsedByAgent => "human-credential-used-by-agent",
            GapKind::CommittedSecret => "committed-secret",
            GapKind::RegistryZombie => "registry-zombie",
            GapKind::ReviewOverdue => "review-overdue",
        }
    }
}

impl fmt::Display for GapKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something a gap is about: an identity, a credential, an agent, a secret found in code, or a
/// registry entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntityRef {
    /// `identity`, `credential`, `agent`, `secret` or `registry-entry`.
    pub kind: Text,
    /// Its stable id (ARN, key id, agent id, fingerprint, registry id).
    pub id: Text,
    /// A readable name (user name, redacted secret, agent path).
    pub name: Text,
}

/// One link in a gap's evidence chain: which source said what, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Where the fact comes from: a source name, `code`, `registry`, `correlation`.
    pub source: Text,
    /// The fact, with the raw fields used ("access key created 2024-09-01, last used 2025-01-15").
    pub detail: String,
    /// The time the fact refers to, when there is one (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Text>,
}

/// The person or team accountable for an identity or agent, and which step of owner resolution
/// named them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedOwner {
    /// E-mail, user or team name.
    pub name: Text,
    /// `registry`, `idp-owner`, `tag`, `codeowners`, `creator` or `commit-author`.
    pub via: Text,
    /// True when the owner was declared (registry, IdP, tag); false when inferred (CODEOWNERS,
    /// creator, commit author) and so needs an owner's confirmation.
    pub attested: bool,
    /// The evidence for it ("tag owner=alice@example.com on arn:aws:iam::…:user/bot").
    pub evidence: Text,
}

/// A correlated problem a security team must act on.
///
/// A gap holds the findings it cites as their positions in the report's findings, not as text:
/// a secret found in a million places would otherwise hold a million formatted lines. Its whole
/// evidence chain is [`Gap::evidence`], and it is written with [`Gap::with`] (a [`Report`]
/// writes its gaps that way), so it has no `Serialize` of its own.
///
/// [`Report`]: crate::Report
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Gap {
    /// Stable id: the same gap has the same id in every run (`gap-` + 16 hex); the compliance
    /// map's lists share it.
    pub id: Text,
    /// What kind of gap.
    pub kind: GapKind,
    /// How urgent.
    pub severity: Severity,
    /// How the cited findings are written: one line each, or one line naming their places.
    #[serde(skip)]
    pub cite_as: CiteAs,
    /// One line saying what is wrong.
    pub title: String,
    /// The identities, credentials, agents and secrets involved; the first is the subject. Gaps
    /// about the same things share the list (a secret's committed-secret and shared-credential
    /// gaps).
    pub entities: Arc<[EntityRef]>,
    /// Who is accountable, if anyone (the gap may be that no one is).
    pub owner: Option<Arc<ResolvedOwner>>,
    /// The findings its evidence cites, by position in the report's findings (the report keeps
    /// their order once correlated); their lines come first in [`Gap::evidence`]. A gap read
    /// back from a report or the state database has their lines in `said` instead.
    #[serde(skip)]
    pub cited: Box<[u32]>,
    /// The rest of the evidence chain, as correlation wrote it, source by source (`evidence` in
    /// the report, where the cited findings' lines come first).
    #[serde(rename = "evidence")]
    pub said: Vec<Evidence>,
    /// What to do about it.
    pub remediation: Text,
    /// The controls it maps to (`CIS AWS 1.14`, `OWASP NHI7`, `NIST AI RMF GOVERN 1.6`); gaps of
    /// one kind share the list.
    pub standards: Arc<[Text]>,
    /// The first run that reported it (from the state database; RFC 3339, UTC).
    #[serde(default)]
    pub first_seen: Option<String>,
    /// Set when the organization accepted this gap (`roster baseline accept`) and the acceptance
    /// has not expired: it is still reported, but no longer fails `--fail-on`.
    #[serde(default)]
    pub accepted: Option<Box<Acceptance>>,
}

/// How a gap's cited findings appear in its evidence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CiteAs {
    /// One line per finding: what was found where, in which commit and by whom.
    #[default]
    EachFinding,
    /// One line naming the distinct places (source and path) the findings are at.
    Places,
}

impl Gap {
    /// A gap with no owner, evidence, remediation or standards yet.
    pub fn new(
        id: Text,
        kind: GapKind,
        severity: Severity,
        title: String,
        entities: impl Into<Arc<[EntityRef]>>,
    ) -> Gap {
        Gap {
            id,
            kind,
            severity,
            cite_as: CiteAs::EachFinding,
            title,
            entities: entities.into(),
            owner: None,
            cited: Box::new([]),
            said: vec![],
            remediation: Text::default(),
            standards: Arc::from([]),
            first_seen: None,
            accepted: None,
        }
    }

    /// The whole evidence chain: the lines of the findings it cites (`findings` is the report's
    /// findings), then what correlation said.
    pub fn evidence<'a>(&'a self, findings: &'a [Finding]) -> Vec<Cow<'a, Evidence>> {
        let cited = self.cited.iter().filter_map(|&i| findings.get(i as usize));
        let mut lines: Vec<Cow<'a, Evidence>> = match self.cite_as {
            CiteAs::EachFinding => cited.map(|f| Cow::Owned(f.evidence())).collect(),
            CiteAs::Places => {
                let places: BTreeSet<(&str, &str)> = cited.map(|f| (f.source.as_str(), f.path.as_str())).collect();
                let sources: BTreeSet<&str> = places.iter().map(|(source, _)| *source).collect();
                let listed: Vec<String> = places
                    .iter()
                    .map(|(source, path)| format!("{source}: {path}"))
                    .collect();
                (!places.is_empty())
                    .then(|| {
                        Cow::Owned(Evidence {
                            source: Text::from("correlation"),
                            detail: format!(
                                "the same keyed fingerprint in {} places across {} source(s): {}",
                                places.len(),
                                sources.len(),
                                listed.join("; ")
                            ),
                            time: None,
                        })
                    })
                    .into_iter()
                    .collect()
            }
        };
        lines.extend(self.said.iter().map(Cow::Borrowed));
        lines
    }

    /// A copy that stands alone: the cited findings' lines written into `said`, citing none (for
    /// a gap that leaves its report: a notification, a comparison of runs).
    pub fn standalone(&self, findings: &[Finding]) -> Gap {
        Gap {
            cite_as: CiteAs::EachFinding,
            cited: Box::new([]),
            said: self.evidence(findings).into_iter().map(Cow::into_owned).collect(),
            ..self.clone()
        }
    }

    /// Writes a gap that cites no findings (one read back from a report or the database, or
    /// made [`Gap::standalone`]); for `#[serde(serialize_with)]`. One that cites findings is an
    /// error, as their lines would be lost.
    pub fn serialize_standalone<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if !self.cited.is_empty() {
            return Err(serde::ser::Error::custom(format!(
                "gap {} cites findings: write it with its report's findings",
                self.id
            )));
        }
        self.with(&[]).serialize(s)
    }

    /// [`Gap::serialize_standalone`] for a list of gaps.
    pub fn serialize_standalone_list<S: Serializer>(gaps: &[Gap], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(gaps.len()))?;
        for g in gaps {
            seq.serialize_element(&Standalone(g))?;
        }
        seq.end()
    }

    /// The gap as the report writes it, its cited findings' lines included (`findings` is the
    /// report's findings; a gap read back from a report or database cites none).
    pub fn with<'a>(&'a self, findings: &'a [Finding]) -> impl Serialize + 'a {
        GapOut { gap: self, findings }
    }
}

/// A gap written on its own (see [`Gap::serialize_standalone`]).
struct Standalone<'a>(&'a Gap);

impl Serialize for Standalone<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_standalone(s)
    }
}

/// A gap and the findings it cites, written as one JSON object.
struct GapOut<'a> {
    gap: &'a Gap,
    findings: &'a [Finding],
}

impl Serialize for GapOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        /// The report's shape of a gap.
        #[derive(Serialize)]
        struct Wire<'a> {
            id: &'a Text,
            kind: GapKind,
            severity: Severity,
            title: &'a str,
            entities: &'a [EntityRef],
            owner: Option<&'a ResolvedOwner>,
            evidence: Vec<Cow<'a, Evidence>>,
            remediation: &'a Text,
            standards: &'a [Text],
            #[serde(skip_serializing_if = "Option::is_none")]
            first_seen: Option<&'a String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            accepted: Option<&'a Acceptance>,
        }
        let g = self.gap;
        Wire {
            id: &g.id,
            kind: g.kind,
            severity: g.severity,
            title: &g.title,
            entities: &g.entities,
            owner: g.owner.as_deref(),
            evidence: g.evidence(self.findings),
            remediation: &g.remediation,
            standards: &g.standards,
            first_seen: g.first_seen.as_ref(),
            accepted: g.accepted.as_deref(),
        }
        .serialize(s)
    }
}

/// Writes a report's gaps one at a time, each with the lines of the findings it cites.
pub(crate) fn serialize_gaps<S: Serializer>(gaps: &[Gap], findings: &[Finding], s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(gaps.len()))?;
    for g in gaps {
        seq.serialize_element(&g.with(findings))?;
    }
    seq.end()
}

/// A gap accepted into the baseline: a recorded, reasoned and usually time-limited decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    /// Why (a ticket, a compensating control).
    pub reason: String,
    /// When it was accepted (RFC 3339, UTC).
    pub accepted: String,
    /// When the acceptance lapses (RFC 3339, UTC); none for no end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Who accepted it (the user name of whoever ran the command).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RuleKind, Severity};

    fn found(source: &str, path: &str, line: u32, commit: Option<&str>) -> Finding {
        Finding {
            rule_id: "openai-project-key".into(),
            rule_name: "OpenAI project key".into(),
            provider: "openai".into(),
            kind: RuleKind::Secret,
            severity: Severity::High,
            path: path.into(),
            line,
            column: 7,
            fingerprint: "f1".into(),
            redacted: "sk-p…AbCd".into(),
            length: 164,
            entropy: 5.1,
            source: source.into(),
            commit: commit.map(Text::from),
            author: commit.map(|_| Text::from("Dev <dev@example.com>")),
            date: commit.map(|_| Text::from("2026-01-02T03:04:05Z")),
            commit_summary: None,
            extra: None,
        }
    }

    fn cited_gap(cite_as: CiteAs) -> Gap {
        let mut g = Gap::new(
            "gap-1".into(),
            GapKind::CommittedSecret,
            Severity::Critical,
            "t".into(),
            vec![],
        );
        g.cite_as = cite_as;
        g.cited = Box::new([1, 0, 2]);
        g.said = vec![Evidence {
            source: "correlation".into(),
            detail: "said".into(),
            time: None,
        }];
        g
    }

    fn findings() -> Vec<Finding> {
        vec![
            found("repo-a", "app.py", 3, Some("0123456789abcdef0123")),
            found("repo-b", "ci/deploy.sh", 9, None),
            found("repo-a", "app.py", 40, None),
        ]
    }

    #[test]
    fn a_report_writes_each_cited_finding_first_then_what_correlation_said() {
        let fs = findings();
        let v = serde_json::to_value(cited_gap(CiteAs::EachFinding).with(&fs)).unwrap();
        let ev = v["evidence"].as_array().unwrap();
        assert_eq!(ev.len(), 4);
        assert_eq!(ev[0]["source"], "repo-b");
        assert_eq!(ev[0]["detail"], "OpenAI project key sk-p…AbCd at ci/deploy.sh:9:7");
        assert_eq!(
            ev[1]["detail"],
            "OpenAI project key sk-p…AbCd at app.py:3:7 in commit 0123456789ab by Dev <dev@example.com>"
        );
        assert_eq!(ev[1]["time"], "2026-01-02T03:04:05Z");
        assert_eq!(ev[3]["detail"], "said");
        // The written gap reads back with every line, citing nothing.
        let back: Gap = serde_json::from_value(v.clone()).unwrap();
        assert!(back.cited.is_empty());
        assert_eq!(back.said.len(), 4);
        assert_eq!(serde_json::to_value(back.with(&[])).unwrap(), v);
    }

    #[test]
    fn places_are_one_line_naming_each_distinct_source_and_path() {
        let fs = findings();
        let g = cited_gap(CiteAs::Places);
        let lines = g.evidence(&fs);
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0].detail,
            "the same keyed fingerprint in 2 places across 2 source(s): repo-a: app.py; repo-b: ci/deploy.sh"
        );
    }

    #[test]
    fn a_gap_citing_findings_cannot_be_written_without_them() {
        let fs = findings();
        let g = cited_gap(CiteAs::EachFinding);
        let mut out = vec![];
        let err = g
            .serialize_standalone(&mut serde_json::Serializer::new(&mut out))
            .unwrap_err();
        assert!(err.to_string().contains("gap gap-1 cites findings"), "{err}");
        // Its standalone copy carries the lines and writes the same object.
        let alone = g.standalone(&fs);
        let mut out = vec![];
        alone
            .serialize_standalone(&mut serde_json::Serializer::new(&mut out))
            .unwrap();
        let alone: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(alone, serde_json::to_value(g.with(&fs)).unwrap());
    }
}
