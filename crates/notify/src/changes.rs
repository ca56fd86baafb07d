//! What changed between the previous run of a scope and this one, gap by gap (keyed by the
//! stable gap id): new, worsened, resolved, lapsed.

use roster_model::{Acceptance, ChangeCounts, Finding, Gap, Severity};
use serde::Serialize;
use std::collections::BTreeMap;

/// The kinds of change a target is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// In this run and not in the previous one (every gap, in a scope's first run).
    New,
    /// In both, more severe now.
    Worsened,
    /// In both; its acceptance was in force in the previous run and is not now (it lapsed, was
    /// revoked, or the gap became more severe than when it was accepted).
    Lapsed,
    /// In the previous run and not in this one.
    Resolved,
}

impl ChangeKind {
    /// Every kind, in the order changes are listed.
    pub const ALL: [ChangeKind; 4] = [
        ChangeKind::New,
        ChangeKind::Worsened,
        ChangeKind::Lapsed,
        ChangeKind::Resolved,
    ];

    /// The kebab-case name used in payloads and in `changes = [...]`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::New => "new",
            ChangeKind::Worsened => "worsened",
            ChangeKind::Lapsed => "lapsed",
            ChangeKind::Resolved => "resolved",
        }
    }

    /// Parses a kind's name.
    pub fn parse(s: &str) -> Option<ChangeKind> {
        ChangeKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One gap's change. For a resolved gap, `gap` is as the previous run last saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// What happened to it.
    pub change: ChangeKind,
    /// The gap (this run's; the previous run's when resolved), standing alone.
    #[serde(serialize_with = "Gap::serialize_standalone")]
    pub gap: Gap,
    /// Its severity in the previous run (worsened, lapsed, resolved).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_severity: Option<Severity>,
    /// The acceptance that was in force in the previous run (lapsed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_acceptance: Option<Box<Acceptance>>,
}

/// The changes from `previous` (the gaps of the scope's previous run by id; empty for a first
/// run) to `current` (this run's gaps): new first, then worsened, lapsed and resolved, each most
/// severe first. A gap that both worsened and lost its acceptance is one `worsened` change that
/// carries the acceptance it had.
pub fn changes(previous: &BTreeMap<String, Gap>, current: &[Gap], findings: &[Finding]) -> Vec<Change> {
    let mut out = vec![];
    let mut here = std::collections::BTreeSet::new();
    for g in current {
        here.insert(g.id.as_str());
        let Some(p) = previous.get(g.id.as_str()) else {
            out.push(Change {
                change: ChangeKind::New,
                gap: g.standalone(findings),
                previous_severity: None,
                previous_acceptance: None,
            });
            continue;
        };
        let lapsed = p.accepted.is_some() && g.accepted.is_none();
        let change = if g.severity > p.severity {
            ChangeKind::Worsened
        } else if lapsed {
            ChangeKind::Lapsed
        } else {
            continue;
        };
        out.push(Change {
            change,
            gap: g.standalone(findings),
            previous_severity: Some(p.severity),
            previous_acceptance: if lapsed { p.accepted.clone() } else { None },
        });
    }
    for (id, p) in previous {
        if !here.contains(id.as_str()) {
            out.push(Change {
                change: ChangeKind::Resolved,
                gap: p.clone(),
                previous_severity: Some(p.severity),
                previous_acceptance: None,
            });
        }
    }
    out.sort_by(|a, b| {
        a.change
            .cmp(&b.change)
            .then_with(|| b.gap.severity.cmp(&a.gap.severity))
            .then_with(|| a.gap.title.cmp(&b.gap.title))
            .then_with(|| a.gap.id.cmp(&b.gap.id))
    });
    out
}

/// How many changes of each kind `changes` holds.
pub fn counts<'a>(changes: impl IntoIterator<Item = &'a Change>) -> ChangeCounts {
    let mut c = ChangeCounts::default();
    for x in changes {
        match x.change {
            ChangeKind::New => c.new += 1,
            ChangeKind::Worsened => c.worsened += 1,
            ChangeKind::Lapsed => c.lapsed += 1,
            ChangeKind::Resolved => c.resolved += 1,
        }
    }
    c
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use roster_model::GapKind;

    pub(crate) fn gap(id: &str, severity: Severity) -> Gap {
        Gap::new(id.into(), GapKind::NoOwner, severity, format!("gap {id}"), vec![])
    }

    fn accepted(mut g: Gap) -> Gap {
        g.accepted = Some(Box::new(Acceptance {
            reason: "SEC-1".into(),
            accepted: "2026-01-01T00:00:00Z".into(),
            until: Some("2026-02-01T00:00:00Z".into()),
            by: None,
        }));
        g
    }

    fn by_id(gaps: &[Gap]) -> BTreeMap<String, Gap> {
        gaps.iter().map(|g| (g.id.to_string(), g.clone())).collect()
    }

    fn summary(c: &[Change]) -> Vec<(&str, &str)> {
        c.iter().map(|c| (c.change.as_str(), c.gap.id.as_str())).collect()
    }

    #[test]
    fn a_first_run_makes_every_gap_new() {
        let now = [gap("a", Severity::Low), gap("b", Severity::Critical)];
        let c = changes(&BTreeMap::new(), &now, &[]);
        assert_eq!(summary(&c), [("new", "b"), ("new", "a")], "most severe first");
        assert_eq!(counts(&c).new, 2);
    }

    #[test]
    fn new_worsened_lapsed_and_resolved_by_gap_id() {
        let before = by_id(&[
            gap("same", Severity::High),
            gap("worse", Severity::Medium),
            gap("better", Severity::High),
            accepted(gap("lapses", Severity::High)),
            accepted(gap("still-accepted", Severity::High)),
            accepted(gap("worse-and-lapses", Severity::Medium)),
            gap("gone", Severity::Low),
        ]);
        let now = [
            gap("same", Severity::High),
            gap("worse", Severity::Critical),
            gap("better", Severity::Low),
            gap("lapses", Severity::High),
            accepted(gap("still-accepted", Severity::High)),
            gap("worse-and-lapses", Severity::High),
            gap("fresh", Severity::Info),
        ];
        let c = changes(&before, &now, &[]);
        assert_eq!(
            summary(&c),
            [
                ("new", "fresh"),
                ("worsened", "worse"),
                ("worsened", "worse-and-lapses"),
                ("lapsed", "lapses"),
                ("resolved", "gone"),
            ]
        );
        assert_eq!(c[1].previous_severity, Some(Severity::Medium));
        assert!(c[1].previous_acceptance.is_none());
        assert_eq!(c[2].previous_acceptance.as_ref().unwrap().reason, "SEC-1");
        assert_eq!(c[3].previous_acceptance.as_ref().unwrap().reason, "SEC-1");
        assert_eq!(c[4].gap.title, "gap gone", "a resolved gap is as last seen");
        let n = counts(&c);
        assert_eq!((n.new, n.worsened, n.lapsed, n.resolved, n.total()), (1, 2, 1, 1, 5));
    }

    #[test]
    fn an_identical_run_changes_nothing() {
        let gaps = [accepted(gap("a", Severity::High)), gap("b", Severity::Low)];
        assert!(changes(&by_id(&gaps), &gaps, &[]).is_empty());
    }
}
