//! The compliance mapping: each control the gaps cite, with pass or fail. A control with a time
//! limit also fails when the configured threshold is looser than the control's own limit, even if
//! no gap was raised: the run could not have seen a breach between the two.

use crate::Thresholds;
use roster_model::{ControlResult, ControlStatus, Gap, Report, Text};
use std::collections::BTreeMap;

/// What a run read, so that a control nothing fed is `not-assessed`, never `pass`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    /// AWS IAM users, roles or keys.
    Aws,
    /// Identities from any connector.
    Identities,
    /// Code or history was scanned.
    Code,
    /// Code, or identities.
    CodeOrIdentities,
    /// Credentials from a connector, or code.
    Credentials,
    /// Identities with permissions.
    Permissions,
    /// Audit-log activity.
    Activity,
    /// An agent registry.
    Registry,
    /// Identities, and a registry that gives their purpose and review dates.
    IdentitiesAndRegistry,
}

impl Needs {
    fn met(self, r: &Report, registry: bool) -> bool {
        let code = !r.sources.is_empty();
        let idents = !r.identities.is_empty();
        match self {
            Needs::Aws => r.identities.iter().any(|i| i.id.starts_with("arn:aws:")),
            Needs::Identities => idents,
            Needs::Code => code,
            Needs::CodeOrIdentities => code || idents,
            Needs::Credentials => code || r.identities.iter().any(|i| !i.credentials.is_empty()),
            Needs::Permissions => r.identities.iter().any(|i| !i.permissions.is_empty()),
            Needs::Activity => !r.activities.is_empty(),
            Needs::Registry => registry,
            Needs::IdentitiesAndRegistry => idents && registry,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Needs::Aws => "AWS IAM",
            Needs::Identities => "identities from a connector",
            Needs::Code => "code or git history",
            Needs::CodeOrIdentities => "code or identities",
            Needs::Credentials => "credentials from a connector or code",
            Needs::Permissions => "identities' permissions",
            Needs::Activity => "audit-log activity",
            Needs::Registry => "an agent registry",
            Needs::IdentitiesAndRegistry => {
                "identities from a connector and an agent registry (purposes and review dates)"
            }
        }
    }
}

/// A time limit: the threshold key that assesses it, how to read it, and the control's own
/// limit in days.
type Limit = (&'static str, fn(&Thresholds) -> i64, i64);

/// A control Roster maps gaps to.
struct Control {
    id: &'static str,
    requirement: &'static str,
    /// The threshold that assesses it and the control's own limit, in days.
    limit: Option<Limit>,
    /// What the run must have read to assess it.
    needs: Needs,
}

const CONTROLS: &[Control] = &[
    Control {
        id: "CIS AWS Foundations 1.12",
        requirement: "Credentials unused for 45 days or more are disabled",
        limit: Some(("unused_days", |t| t.unused_days, 45)),
        needs: Needs::Aws,
    },
    Control {
        id: "CIS AWS Foundations 1.14",
        requirement: "Access keys are rotated every 90 days or less",
        limit: Some(("access_key_max_age_days", |t| t.access_key_max_age_days, 90)),
        needs: Needs::Aws,
    },
    Control {
        id: "CIS Controls v8 5.1",
        requirement: "An inventory of all accounts is established and maintained",
        limit: None,
        needs: Needs::CodeOrIdentities,
    },
    Control {
        id: "CIS Controls v8 5.3",
        requirement: "Dormant accounts are deleted or disabled after 45 days of inactivity",
        limit: Some(("unused_days", |t| t.unused_days, 45)),
        needs: Needs::Identities,
    },
    Control {
        id: "CIS Controls v8 5.5",
        requirement: "An inventory of service accounts, with owner, purpose and review date, is established and maintained",
        limit: None,
        // Owners alone do not make the inventory: the registry's purposes and review dates are
        // what `review-overdue` checks.
        needs: Needs::IdentitiesAndRegistry,
    },
    Control {
        id: "CIS Controls v8 16.1",
        requirement: "A secure application development process keeps secrets out of code",
        limit: None,
        needs: Needs::Code,
    },
    Control {
        id: "ISO/IEC 27001 A.5.16",
        requirement: "The full life cycle of identities is managed",
        limit: None,
        needs: Needs::Identities,
    },
    Control {
        id: "ISO/IEC 27001 A.5.17",
        requirement: "Authentication information is allocated and handled securely",
        limit: None,
        needs: Needs::Credentials,
    },
    Control {
        id: "ISO/IEC 27001 A.8.2",
        requirement: "Privileged access rights are restricted and managed",
        limit: None,
        needs: Needs::Permissions,
    },
    Control {
        id: "NIST AI RMF GOVERN 1.6",
        requirement: "AI systems are inventoried",
        limit: None,
        needs: Needs::CodeOrIdentities,
    },
    Control {
        id: "NIST AI RMF GOVERN 1.7",
        requirement: "AI systems are decommissioned safely",
        limit: None,
        needs: Needs::Registry,
    },
    Control {
        id: "OWASP NHI1",
        requirement: "Non-human identities are offboarded and owned",
        limit: None,
        needs: Needs::Identities,
    },
    Control {
        id: "OWASP NHI2",
        requirement: "Secrets do not leak into code and history",
        limit: None,
        needs: Needs::Code,
    },
    Control {
        id: "OWASP NHI5",
        requirement: "Non-human identities are not over-privileged",
        limit: None,
        needs: Needs::Permissions,
    },
    Control {
        id: "OWASP NHI7",
        requirement: "Secrets are short-lived",
        limit: None,
        needs: Needs::Credentials,
    },
    Control {
        id: "OWASP NHI9",
        requirement: "A non-human identity is not reused across workloads",
        limit: None,
        needs: Needs::Code,
    },
    Control {
        id: "OWASP NHI10",
        requirement: "People do not use non-human identities, nor workloads people's credentials",
        limit: None,
        needs: Needs::Activity,
    },
];

/// Every known control, plus any other standard a gap cites, with its result.
pub fn assess(r: &Report, gaps: &[Gap], t: &Thresholds, registry: bool) -> Vec<ControlResult> {
    let mut cited: BTreeMap<&str, Vec<Text>> = BTreeMap::new();
    for g in gaps {
        for s in g.standards.iter() {
            cited.entry(s.as_str()).or_default().push(g.id.clone());
        }
    }
    let mut out: Vec<ControlResult> = CONTROLS
        .iter()
        .map(|c| {
            let gaps = cited.remove(c.id).unwrap_or_default();
            let mut reasons = vec![];
            if let Some((key, get, max)) = c.limit
                && get(t) > max
            {
                reasons.push(format!(
                    "threshold {key} = {} is looser than the control's {max} days: set it to {max} or less to assess this control",
                    get(t)
                ));
            }
            let unassessed = (!c.needs.met(r, registry)).then(|| c.needs.what());
            result(c.id, c.requirement, gaps, reasons, unassessed, r.incomplete)
        })
        .collect();
    out.extend(
        cited
            .into_iter()
            .map(|(id, gaps)| result(id, "", gaps, vec![], None, r.incomplete)),
    );
    out
}

fn result(
    id: &str,
    requirement: &str,
    gaps: Vec<Text>,
    mut reasons: Vec<String>,
    unassessed: Option<&str>,
    incomplete: bool,
) -> ControlResult {
    if !gaps.is_empty() {
        reasons.insert(0, format!("{} gap(s) map to it", gaps.len()));
    }
    let status = if !reasons.is_empty() {
        ControlStatus::Fail
    } else if let Some(what) = unassessed {
        reasons.push(format!("no source in this run reads {what}"));
        ControlStatus::NotAssessed
    } else if incomplete {
        reasons.push("no gap maps to it, but some sources were incomplete".into());
        ControlStatus::Incomplete
    } else {
        ControlStatus::Pass
    };
    ControlResult {
        control: id.into(),
        requirement: requirement.into(),
        status,
        reasons,
        gaps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_looser_threshold_fails_its_control_and_nothing_read_is_not_a_pass() {
        let mut r = Report::empty("test");
        r.sources.push("app".into());
        let mut user: roster_model::Identity = serde_json::from_value(serde_json::json!({
            "source": "aws", "kind": "cloud-user", "id": "arn:aws:iam::1:user/bot", "name": "bot", "credentials": []
        }))
        .unwrap();
        user.permissions
            .push(serde_json::from_value(serde_json::json!({"name": "ReadOnly", "kind": "managed-policy"})).unwrap());
        r.identities.push(user);
        let strict = Thresholds {
            unused_days: 45,
            ..Thresholds::default()
        };
        let res = assess(&r, &[], &strict, true);
        let status = |res: &[ControlResult], id: &str| res.iter().find(|c| c.control == id).unwrap().status.as_str();
        assert_eq!(status(&res, "CIS AWS Foundations 1.14"), "pass");
        assert_eq!(status(&res, "OWASP NHI10"), "not-assessed", "no audit log was read");
        let loose = Thresholds {
            access_key_max_age_days: 180,
            unused_days: 45,
            ..Thresholds::default()
        };
        let res = assess(&r, &[], &loose, true);
        let c = res.iter().find(|c| c.control == "CIS AWS Foundations 1.14").unwrap();
        assert_eq!(c.status, ControlStatus::Fail);
        assert!(c.reasons[0].contains("access_key_max_age_days = 180 is looser than the control's 90 days"));
        assert_eq!(res.iter().filter(|c| c.status == ControlStatus::Fail).count(), 1);
        // Without AWS, CIS AWS is not assessed; with an incomplete source, nothing passes.
        let mut code_only = Report::empty("test");
        code_only.sources.push("app".into());
        code_only.incomplete = true;
        let res = assess(&code_only, &[], &strict, false);
        assert_eq!(status(&res, "CIS AWS Foundations 1.14"), "not-assessed");
        assert_eq!(status(&res, "OWASP NHI2"), "incomplete");
        assert!(res.iter().all(|c| c.status != ControlStatus::Pass));
        // CIS 5.5 asks for purposes and review dates, not owners alone: without a registry it
        // is not assessed, even with identities and no gap.
        let res = assess(&r, &[], &strict, false);
        assert_eq!(status(&res, "CIS Controls v8 5.5"), "not-assessed");
        assert_eq!(status(&assess(&r, &[], &strict, true), "CIS Controls v8 5.5"), "pass");
    }
}
