//! The snapshot tests' fixtures: a JSON file per gap kind in `fixtures/` holds the records of a
//! small report (and the registry and CODEOWNERS it is correlated with). It is correlated at a
//! fixed "now", and the gaps of one kind are rendered as text for insta.
//!
//! Every record that must *not* raise the kind is named `near-miss…`; [`check`] fails when a gap
//! of the kind is about one.

use crate::{CodeOwners, Context, Registry, Thresholds, correlate};
use roster_model::{Activity, Agent, ConnectorRun, Finding, Gap, GapKind, Identity, Report, parse_time};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// "Now" for every fixture: the date the sample organization's exports were taken.
const NOW: &str = "2026-11-30T00:00:00Z";

/// The records of a fixture; each list may be left out.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    identities: Vec<Identity>,
    #[serde(default)]
    findings: Vec<Finding>,
    #[serde(default)]
    agents: Vec<Agent>,
    #[serde(default)]
    activities: Vec<Activity>,
    #[serde(default)]
    connectors: Vec<ConnectorRun>,
    /// agents.toml, if the organization keeps a registry.
    #[serde(default)]
    registry: Option<String>,
    /// CODEOWNERS text per scanned source.
    #[serde(default)]
    codeowners: BTreeMap<String, String>,
}

/// Correlates the fixture `json` with the default thresholds, checks that no gap of `kind` is
/// about a near miss, and renders the gaps of `kind`.
pub(crate) fn check(json: &str, kind: GapKind) -> String {
    let fx: Fixture = serde_json::from_str(json).expect("a valid fixture");
    let mut r = Report::empty("test");
    r.sources = fx.sources;
    r.identities = fx.identities;
    r.findings = fx.findings;
    r.agents = fx.agents;
    r.activities = fx.activities;
    r.connectors = fx.connectors;
    let registry = fx
        .registry
        .map(|t| Registry::parse(&t, "agents.toml").expect("a valid registry"));
    let codeowners: BTreeMap<String, CodeOwners> = fx
        .codeowners
        .iter()
        .map(|(source, text)| {
            (
                source.clone(),
                CodeOwners::parse(text, &format!("{source}/CODEOWNERS")).0,
            )
        })
        .collect();
    // The scanner's keyed fingerprint, made readable: `fp:` and the bytes.
    let fingerprint = |b: &[u8]| format!("fp:{}", String::from_utf8_lossy(b));
    correlate(
        &mut r,
        &Context {
            now_ms: parse_time(NOW).expect("a valid time"),
            thresholds: Thresholds::default(),
            registry: registry.as_ref(),
            codeowners: &codeowners,
            fingerprint: Some(&fingerprint),
        },
    );
    let gaps: Vec<&Gap> = r.gaps.iter().filter(|g| g.kind == kind).collect();
    assert!(!gaps.is_empty(), "the fixture raises no {} gap", kind.as_str());
    for g in &gaps {
        let subject = &g.entities[0];
        assert!(
            ![g.title.as_str(), subject.id.as_str(), subject.name.as_str()]
                .iter()
                .any(|s| s.contains("near-miss")),
            "a near miss raised a gap: {g:#?}"
        );
    }
    render(&gaps, &r.findings)
}

/// The gaps as text: id, severity, kind and title, then entities, owner, evidence and controls.
fn render(gaps: &[&Gap], findings: &[roster_model::Finding]) -> String {
    let mut out = String::new();
    for g in gaps {
        let _ = writeln!(out, "{} [{}] {}", g.id, g.severity.as_str(), g.kind.as_str());
        let _ = writeln!(out, "title: {}", g.title);
        for (n, e) in g.entities.iter().enumerate() {
            let role = if n == 0 { "subject" } else { "entity" };
            let _ = writeln!(out, "{role}: {} {} ({})", e.kind, e.id, e.name);
        }
        match &g.owner {
            Some(o) => {
                let attested = if o.attested { "attested" } else { "inferred" };
                let _ = writeln!(out, "owner: {} via {} ({attested}): {}", o.name, o.via, o.evidence);
            }
            None => out.push_str("owner: none\n"),
        }
        out.push_str("evidence:\n");
        for e in g.evidence(findings) {
            let time = e.time.as_deref().map(|t| format!(" @ {t}")).unwrap_or_default();
            let _ = writeln!(out, "  [{}] {}{time}", e.source, e.detail);
        }
        let _ = writeln!(out, "controls: {}", g.standards.join("; "));
        out.push('\n');
    }
    out
}
