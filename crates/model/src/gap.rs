//! Correlated ownership gaps, their evidence and acceptances.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::{Severity, Text};
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// Stable id: the same gap has the same id in every run (`gap-` + 16 hex); the compliance
    /// map's lists share it.
    pub id: Text,
    /// What kind of gap.
    pub kind: GapKind,
    /// How urgent.
    pub severity: Severity,
    /// One line saying what is wrong.
    pub title: String,
    /// The identities, credentials, agents and secrets involved; the first is the subject.
    pub entities: Vec<EntityRef>,
    /// Who is accountable, if anyone (the gap may be that no one is).
    pub owner: Option<ResolvedOwner>,
    /// How correlation concluded this, source by source.
    pub evidence: Vec<Evidence>,
    /// What to do about it.
    pub remediation: Text,
    /// The controls it maps to (`CIS AWS 1.14`, `OWASP NHI7`, `NIST AI RMF GOVERN 1.6`); gaps of
    /// one kind share the list.
    pub standards: Arc<[Text]>,
    /// The first run that reported it (from the state database; RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    /// Set when the organization accepted this gap (`roster baseline accept`) and the acceptance
    /// has not expired: it is still reported, but no longer fails `--fail-on`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<Box<Acceptance>>,
}

impl Gap {
    /// A gap with no owner, evidence, remediation or standards yet.
    pub fn new(id: Text, kind: GapKind, severity: Severity, title: String, entities: Vec<EntityRef>) -> Gap {
        Gap {
            id,
            kind,
            severity,
            title,
            entities,
            owner: None,
            evidence: vec![],
            remediation: Text::default(),
            standards: Arc::from([]),
            first_seen: None,
            accepted: None,
        }
    }
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
