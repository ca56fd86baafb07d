//! The compliance mapping: each control the gaps cite, with pass or fail. A control with a time
//! limit also fails when the configured threshold is looser than the control's own limit, even if
//! no gap was raised: the run could not have seen a breach between the two.

use crate::Thresholds;
use roster_model::{ControlResult, Gap};
use std::collections::BTreeMap;

/// A time limit: the threshold key that assesses it, how to read it, and the control's own
/// limit in days.
type Limit = (&'static str, fn(&Thresholds) -> i64, i64);

/// A control Roster maps gaps to.
struct Control {
    id: &'static str,
    requirement: &'static str,
    /// The threshold that assesses it and the control's own limit, in days.
    limit: Option<Limit>,
}

const CONTROLS: &[Control] = &[
    Control {
        id: "CIS AWS Foundations 1.12",
        requirement: "Credentials unused for 45 days or more are disabled",
        limit: Some(("unused_days", |t| t.unused_days, 45)),
    },
    Control {
        id: "CIS AWS Foundations 1.14",
        requirement: "Access keys are rotated every 90 days or less",
        limit: Some(("access_key_max_age_days", |t| t.access_key_max_age_days, 90)),
    },
    Control {
        id: "CIS Controls v8 5.1",
        requirement: "An inventory of all accounts is established and maintained",
        limit: None,
    },
    Control {
        id: "CIS Controls v8 5.3",
        requirement: "Dormant accounts are deleted or disabled after 45 days of inactivity",
        limit: Some(("unused_days", |t| t.unused_days, 45)),
    },
    Control {
        id: "CIS Controls v8 5.5",
        requirement: "An inventory of service accounts, with owner, purpose and review date, is established and maintained",
        limit: None,
    },
    Control {
        id: "CIS Controls v8 16.1",
        requirement: "A secure application development process keeps secrets out of code",
        limit: None,
    },
    Control {
        id: "ISO/IEC 27001 A.5.16",
        requirement: "The full life cycle of identities is managed",
        limit: None,
    },
    Control {
        id: "ISO/IEC 27001 A.5.17",
        requirement: "Authentication information is allocated and handled securely",
        limit: None,
    },
    Control {
        id: "ISO/IEC 27001 A.8.2",
        requirement: "Privileged access rights are restricted and managed",
        limit: None,
    },
    Control {
        id: "NIST AI RMF GOVERN 1.6",
        requirement: "AI systems are inventoried",
        limit: None,
    },
    Control {
        id: "NIST AI RMF GOVERN 1.7",
        requirement: "AI systems are decommissioned safely",
        limit: None,
    },
    Control {
        id: "OWASP NHI1",
        requirement: "Non-human identities are offboarded and owned",
        limit: None,
    },
    Control {
        id: "OWASP NHI2",
        requirement: "Secrets do not leak into code and history",
        limit: None,
    },
    Control {
        id: "OWASP NHI5",
        requirement: "Non-human identities are not over-privileged",
        limit: None,
    },
    Control {
        id: "OWASP NHI7",
        requirement: "Secrets are short-lived",
        limit: None,
    },
    Control {
        id: "OWASP NHI9",
        requirement: "A non-human identity is not reused across workloads",
        limit: None,
    },
    Control {
        id: "OWASP NHI10",
        requirement: "People do not use non-human identities, nor workloads people's credentials",
        limit: None,
    },
];

/// Every known control, plus any other standard a gap cites, with its result.
pub fn assess(gaps: &[Gap], t: &Thresholds, incomplete: bool) -> Vec<ControlResult> {
    let mut cited: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for g in gaps {
        for s in &g.standards {
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
            result(c.id, c.requirement, gaps, reasons, incomplete)
        })
        .collect();
    out.extend(
        cited
            .into_iter()
            .map(|(id, gaps)| result(id, "", gaps, vec![], incomplete)),
    );
    out
}

fn result(id: &str, requirement: &str, gaps: Vec<String>, mut reasons: Vec<String>, incomplete: bool) -> ControlResult {
    if !gaps.is_empty() {
        reasons.insert(0, format!("{} gap(s) map to it", gaps.len()));
    }
    let status = if !reasons.is_empty() {
        "fail"
    } else if incomplete {
        reasons.push("no gap maps to it, but some sources were incomplete".into());
        "incomplete"
    } else {
        "pass"
    };
    ControlResult {
        control: id.into(),
        requirement: requirement.into(),
        status: status.into(),
        reasons,
        gaps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_looser_threshold_fails_its_control_without_any_gap() {
        let strict = Thresholds {
            unused_days: 45,
            ..Thresholds::default()
        };
        let r = assess(&[], &strict, false);
        assert!(r.iter().all(|c| c.status == "pass"), "{r:?}");
        let loose = Thresholds {
            access_key_max_age_days: 180,
            unused_days: 45,
            ..Thresholds::default()
        };
        let r = assess(&[], &loose, false);
        let c = r.iter().find(|c| c.control == "CIS AWS Foundations 1.14").unwrap();
        assert_eq!(c.status, "fail");
        assert!(c.reasons[0].contains("access_key_max_age_days = 180 is looser than the control's 90 days"));
        assert_eq!(r.iter().filter(|c| c.status == "fail").count(), 1);
        // Incomplete sources: no pass is claimed.
        assert!(assess(&[], &strict, true).iter().all(|c| c.status == "incomplete"));
    }
}
