//! The gaps: the secrets in code, then each identity, then each code agent, then each registry
//! entry, in the order they are raised before `correlate` sorts them.

use crate::correlation::Correlation;
use crate::util::{days, ent, ev, is_active, reports_usage};
use roster_model::{EntityRef, Evidence, Finding, GapKind, Report, Severity, format_millis, parse_time};
use std::collections::{BTreeMap, BTreeSet};

impl<'r> Correlation<'r, '_> {
    pub(crate) fn secret_gaps(&mut self) {
        let r: &'r Report = self.r;
        for gi in 0..self.groups.len() {
            let findings = self.groups[gi].findings.clone();
            let joined = self.groups[gi].joined.clone();
            let f: Vec<&Finding> = findings.iter().map(|&i| &r.findings[i]).collect();
            // The subject is the group's first finding (report order: most severe first); the
            // location named is where it was first committed.
            let head = *f.first().expect("groups are not empty");
            let first_at = f
                .iter()
                .filter(|x| x.fingerprint == head.fingerprint)
                .min_by(|a, b| a.date.cmp(&b.date).then_with(|| a.path.cmp(&b.path)))
                .unwrap_or(&head);
            let paired: Option<&str> = f
                .iter()
                .find(|x| x.fingerprint != head.fingerprint)
                .map(|x| x.rule_name.as_str());
            let severity_of_group = f.iter().map(|x| x.severity).max().unwrap_or(head.severity);
            let locations: BTreeSet<(&str, &str)> = f.iter().map(|x| (x.source.as_str(), x.path.as_str())).collect();
            let mut entities: Vec<EntityRef> = vec![];
            for x in &f {
                if !entities.iter().any(|e| e.id == x.fingerprint) {
                    entities.push(ent(
                        "secret",
                        &x.fingerprint,
                        &format!("{} {}", x.rule_name, x.redacted),
                    ));
                }
            }
            let mut evidence: Vec<Evidence> = f
                .iter()
                .map(|x| {
                    let at = match (&x.commit, &x.author) {
                        (Some(c), Some(a)) => format!(" in commit {} by {a}", &c[..c.len().min(12)]),
                        _ => String::new(),
                    };
                    ev(
                        &x.source,
                        format!("{} {} at {}{at}", x.rule_name, x.redacted, x.location()),
                        x.date.as_deref(),
                    )
                })
                .collect();
            let mut severity = severity_of_group;
            let mut owner = None;
            let mut live = String::new();
            if let Some(((i, j), how)) = &joined {
                let ident = &r.identities[*i];
                let c = &ident.credentials[*j];
                entities.push(ent("credential", &c.id, c.name.as_deref().unwrap_or(&c.id)));
                entities.push(self.ident_entity(*i));
                evidence.push(ev(
                    "correlation",
                    format!("{how}; it belongs to {} `{}`", ident.kind, ident.name),
                    None,
                ));
                evidence.push(ev(
                    &ident.source,
                    format!(
                        "credential {} is {}{}{}",
                        c.id,
                        c.status,
                        c.created
                            .as_deref()
                            .map(|t| format!(", created {t}"))
                            .unwrap_or_default(),
                        c.last_used
                            .as_deref()
                            .map(|t| format!(", last used {t}"))
                            .unwrap_or_else(|| {
                                if reports_usage(ident) {
                                    ", never used".into()
                                } else {
                                    ", last use not reported by the provider".into()
                                }
                            })
                    ),
                    c.last_used.as_deref(),
                ));
                if is_active(c, self.cx.now_ms) {
                    severity = Severity::Critical;
                    live = " and still active".into();
                } else {
                    severity = Severity::Low;
                    live = format!(" (the provider shows it {})", c.status);
                }
                owner = self.identity_owner[*i].clone();
            }
            if owner.is_none() {
                owner = self.code_owner(&findings);
            }
            // The smallest fingerprint in the group: the same whichever copy sorts first.
            let subject = f
                .iter()
                .map(|x| x.fingerprint.as_str())
                .min()
                .unwrap_or(&head.fingerprint)
                .to_owned();
            let title = format!(
                "{} {}{} committed in {}{live}",
                head.rule_name,
                head.redacted,
                paired.map(|p| format!(" with its {p}")).unwrap_or_default(),
                first_at.location()
            );
            let shared = locations.len() >= 2;
            let gap = self.push(
                GapKind::CommittedSecret,
                &subject,
                severity,
                title,
                if shared {
                    entities.clone()
                } else {
                    std::mem::take(&mut entities)
                },
            );
            let committed_id = gap.id.clone();
            gap.evidence = evidence;
            gap.owner = owner.clone();
            gap.remediation = format!(
                "Rotate the {} credential at the provider now{}, then remove it from the code and use a secret manager. Deleting the file or rewriting history does not revoke it.",
                head.provider,
                if joined.is_some() {
                    ""
                } else {
                    " (Roster could not tie it to a collected credential: check with the provider)"
                }
            );
            gap.standards = vec![
                "OWASP NHI2".into(),
                "ISO/IEC 27001 A.5.17".into(),
                "CIS Controls v8 16.1".into(),
            ];
            if shared {
                let where_: Vec<String> = locations.iter().map(|(s, p)| format!("{s}: {p}")).collect();
                let sources: BTreeSet<&str> = locations.iter().map(|(s, _)| *s).collect();
                let gap = self.push(
                    GapKind::SharedCredential,
                    &subject,
                    Severity::High,
                    format!(
                        "{} {} is shared by {} locations",
                        head.rule_name,
                        head.redacted,
                        locations.len()
                    ),
                    entities,
                );
                // The commits and the provider's view are in the committed-secret gap's chain.
                gap.evidence = vec![
                    ev(
                        "correlation",
                        format!(
                            "the same keyed fingerprint in {} places across {} source(s): {}",
                            where_.len(),
                            sources.len(),
                            where_.join("; ")
                        ),
                        None,
                    ),
                    ev(
                        "correlation",
                        format!("how it was committed, and by whom: gap {committed_id}"),
                        None,
                    ),
                ];
                gap.owner = owner;
                gap.remediation = "Issue one credential per workload and environment, revoke the shared one, and record each new credential's owner in the registry.".into();
                gap.standards = vec!["OWASP NHI9".into(), "ISO/IEC 27001 A.5.17".into()];
            }
        }
    }

    pub(crate) fn identity_gaps(&mut self) {
        let now = self.cx.now_ms;
        let t = self.cx.thresholds;
        // Identities used by code agents.
        let mut agent_linked: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for (ai, set) in self.agent_idents.iter().enumerate() {
            for &i in set {
                agent_linked
                    .entry(i)
                    .or_default()
                    .push(format!("used by agent code at {}", self.r.agents[ai].path));
            }
        }
        for i in 0..self.r.identities.len() {
            let ident = &self.r.identities[i];
            if Self::skip_identity(ident) {
                continue;
            }
            let enabled = ident.enabled != Some(false);
            let mut ai = self.ai_reasons(i);
            ai.extend(agent_linked.get(&i).cloned().unwrap_or_default());
            if let Some(r) = self.identity_reg[i] {
                ai.push(format!(
                    "registered as agent `{}`",
                    self.cx.registry.map(|g| g.agents[r].id.as_str()).unwrap_or("?")
                ));
            }
            let owner = self.identity_owner[i].clone();
            let subject = format!("{}\u{0}{}", ident.source, ident.id);
            let src = ident.source.clone();

            // Unregistered AI-capable identity (unless a code agent already stands for it, or it
            // is a person's: that is the human-credential gap below).
            let human = self.human_reasons(i);
            let ai_client_uses = self.ident_acts[i]
                .iter()
                .filter(|&&a| self.r.activities[a].attrs.contains_key("ai_client"))
                .count();
            if enabled
                && (human.is_empty() || ai_client_uses == 0)
                && self.identity_reg[i].is_none()
                && !self.ai_reasons(i).is_empty()
                && !agent_linked.contains_key(&i)
            {
                let why = self.ai_reasons(i);
                let gap = self.push(
                    GapKind::UnregisteredAgent,
                    &subject,
                    Severity::Medium,
                    format!(
                        "AI-capable {} `{}` is not in the agent registry",
                        ident.kind, ident.name
                    ),
                    vec![self.ident_entity(i)],
                );
                gap.evidence = why.into_iter().map(|w| ev(&src, w, None)).collect();
                gap.evidence.push(ev(
                    "registry",
                    "no registry entry lists this identity or its credentials".into(),
                    None,
                ));
                gap.owner = owner.clone();
                gap.remediation = "Register the agent in agents.toml with an accountable owner, purpose and review date (`roster registry init` drafts entries), or remove its AI access.".into();
                gap.standards = vec!["NIST AI RMF GOVERN 1.6".into(), "CIS Controls v8 5.1".into()];
            }

            // No accountable owner.
            if enabled && owner.is_none() {
                let (_, skipped) = self.resolve_identity_owner(i);
                let candidates = self.client_id_candidates(i);
                let sev = if !ai.is_empty() || !self.privilege_reasons(i).is_empty() {
                    Severity::High
                } else {
                    Severity::Medium
                };
                let gap = self.push(
                    GapKind::NoOwner,
                    &subject,
                    sev,
                    format!("{} `{}` has no accountable owner", ident.kind, ident.name),
                    vec![self.ident_entity(i)],
                );
                gap.evidence = skipped.into_iter().map(|s| ev(&src, s, None)).collect();
                gap.evidence.push(ev(
                    "correlation",
                    "no registry entry, owner in the identity provider, owner tag, CODEOWNERS entry, recorded creator or commit author names an active owner".into(),
                    None,
                ));
                gap.evidence
                    .extend(candidates.into_iter().map(|c| ev("codeowners", c, None)));
                gap.remediation = "Assign an accountable person (owner tag, IdP owner or registry entry) or disable the identity if no one claims it.".into();
                gap.standards = vec![
                    "CIS Controls v8 5.5".into(),
                    "OWASP NHI1".into(),
                    "ISO/IEC 27001 A.5.16".into(),
                ];
            }

            // Over-privileged agent.
            let privs = self.privilege_reasons(i);
            if enabled && !ai.is_empty() && !privs.is_empty() {
                let gap = self.push(
                    GapKind::OverPrivilegedAgent,
                    &subject,
                    Severity::High,
                    format!(
                        "agent identity `{}` holds {}",
                        ident.name,
                        if privs.len() == 1 {
                            "a broad permission".to_string()
                        } else {
                            format!("{} broad permissions", privs.len())
                        }
                    ),
                    vec![self.ident_entity(i)],
                );
                gap.evidence = ai.iter().map(|w| ev(&src, format!("agent link: {w}"), None)).collect();
                gap.evidence.extend(privs.into_iter().map(|p| ev(&src, p, None)));
                gap.owner = owner.clone();
                gap.remediation = "Replace admin and wildcard grants with the actions and resources the agent needs (IAM Access Analyzer policy generation, Graph least-privilege scopes).".into();
                gap.standards = vec!["OWASP NHI5".into(), "ISO/IEC 27001 A.8.2".into()];
            }

            // Human credential used by an AI client.
            if !human.is_empty() {
                let uses: Vec<&roster_model::Activity> = self.ident_acts[i]
                    .iter()
                    .map(|&a| &self.r.activities[a])
                    .filter(|a| a.attrs.contains_key("ai_client"))
                    .collect();
                if !uses.is_empty() {
                    let mut evidence: Vec<Evidence> = human.iter().map(|h| ev(&src, h.clone(), None)).collect();
                    for a in uses.iter().take(5) {
                        evidence.push(ev(
                            &a.source,
                            format!(
                                "{} via {}{} from {} with user agent `{}` ({})",
                                a.action,
                                a.credential_id.as_deref().unwrap_or("its session"),
                                a.service.as_deref().map(|s| format!(" on {s}")).unwrap_or_default(),
                                a.source_ip.as_deref().unwrap_or("?"),
                                a.user_agent.as_deref().unwrap_or_default(),
                                a.attrs["ai_client"]
                            ),
                            Some(&a.time),
                        ));
                    }
                    let n = uses.len();
                    let gap = self.push(
                        GapKind::HumanCredentialUsedByAgent,
                        &subject,
                        Severity::High,
                        format!(
                            "{} `{}` acts as a person and is used by an AI client ({n} event{})",
                            ident.kind,
                            ident.name,
                            if n == 1 { "" } else { "s" }
                        ),
                        vec![self.ident_entity(i)],
                    );
                    gap.evidence = evidence;
                    gap.owner = owner.clone();
                    gap.remediation = "Give the agent its own identity with short-lived credentials and only the permissions it needs, then rotate the person's key.".into();
                    gap.standards = vec!["OWASP NHI10".into(), "ISO/IEC 27001 A.5.16".into()];
                }
            }

            if !enabled {
                continue;
            }
            // Long-lived credentials.
            let okta_token = ident.kind == "api-token";
            let mut long: Vec<(String, Evidence, &'static str)> = vec![];
            for c in ident.credentials.iter().filter(|c| is_active(c, now)) {
                let created = c.created.as_deref().and_then(parse_time);
                if c.kind == "access-key" {
                    if let Some(cr) = created
                        && days(now - cr) > t.access_key_max_age_days
                    {
                        long.push((
                            c.id.clone(),
                            ev(
                                &src,
                                format!(
                                    "access key {} is active and was created {} days ago (threshold {} days)",
                                    c.id,
                                    days(now - cr),
                                    t.access_key_max_age_days
                                ),
                                c.created.as_deref(),
                            ),
                            "CIS AWS Foundations 1.14",
                        ));
                    }
                } else if !okta_token
                    && matches!(
                        c.kind.as_str(),
                        "client-secret"
                            | "certificate"
                            | "api-key"
                            | "token"
                            | "service-specific"
                            | "personal-access-token"
                    )
                {
                    let expires = c.expires.as_deref().and_then(parse_time);
                    match (created, expires) {
                        // An expiry that cannot be read is unknown, not "never".
                        (_, None) if c.expires.is_none() => long.push((
                            c.id.clone(),
                            ev(
                                &src,
                                format!("{} {} is active and never expires", c.kind, c.id),
                                c.created.as_deref(),
                            ),
                            "OWASP NHI7",
                        )),
                        (Some(cr), Some(ex)) if days(ex - cr) > t.secret_max_lifetime_days => long.push((
                            c.id.clone(),
                            ev(
                                &src,
                                format!(
                                    "{} {} lives {} days, {} to {} (threshold {} days)",
                                    c.kind,
                                    c.id,
                                    days(ex - cr),
                                    format_millis(cr),
                                    format_millis(ex),
                                    t.secret_max_lifetime_days
                                ),
                                c.expires.as_deref(),
                            ),
                            "OWASP NHI7",
                        )),
                        _ => {}
                    }
                }
            }
            if !long.is_empty() {
                let mut entities = vec![self.ident_entity(i)];
                entities.extend(long.iter().map(|(id, _, _)| ent("credential", id, id)));
                let mut standards: Vec<String> = long.iter().map(|(_, _, s)| (*s).to_string()).collect();
                standards.push("OWASP NHI7".into());
                standards.sort();
                standards.dedup();
                let sev = if ai.is_empty() {
                    Severity::Medium
                } else {
                    Severity::High
                };
                let n = long.len();
                let gap = self.push(
                    GapKind::LongLivedCredential,
                    &subject,
                    sev,
                    format!(
                        "`{}` holds {n} long-lived credential{}",
                        ident.name,
                        if n == 1 { "" } else { "s" }
                    ),
                    entities,
                );
                gap.evidence = long.into_iter().map(|(_, e, _)| e).collect();
                gap.owner = owner.clone();
                gap.remediation = "Rotate the credential and move the workload to short-lived credentials (IAM roles, workload identity federation, Bedrock short-term keys, expiring secrets).".into();
                gap.standards = standards;
            }

            // Stale identity.
            let created = ident.created.as_deref().and_then(parse_time).or_else(|| {
                ident
                    .credentials
                    .iter()
                    .filter_map(|c| c.created.as_deref().and_then(parse_time))
                    .min()
            });
            let stale = match self.last_use(i) {
                Some((t_used, what)) if days(now - t_used) > t.unused_days => Some(ev(
                    &src,
                    format!(
                        "{what} {} days ago (threshold {} days)",
                        days(now - t_used),
                        t.unused_days
                    ),
                    Some(&format_millis(t_used)),
                )),
                // "Never used" only where the provider reports use: elsewhere no date means
                // unknown, not unused.
                None if reports_usage(ident) => created.filter(|c| days(now - c) > t.unused_days).map(|c| {
                    ev(
                        &src,
                        format!(
                            "never used since it was created {} days ago (threshold {} days)",
                            days(now - c),
                            t.unused_days
                        ),
                        Some(&format_millis(c)),
                    )
                }),
                _ => None,
            };
            if let Some(e) = stale {
                let active = ident.credentials.iter().filter(|c| is_active(c, now)).count();
                let gap = self.push(
                    GapKind::StaleIdentity,
                    &subject,
                    if active > 0 { Severity::Medium } else { Severity::Low },
                    format!("{} `{}` is enabled but unused", ident.kind, ident.name),
                    vec![self.ident_entity(i)],
                );
                gap.evidence = vec![e];
                if active > 0 {
                    gap.evidence
                        .push(ev(&src, format!("{active} active credential(s) still valid"), None));
                }
                gap.owner = owner;
                gap.remediation = "Confirm with the owner, then disable the identity and deactivate its credentials; delete it after a grace period.".into();
                gap.standards = vec![
                    "CIS Controls v8 5.3".into(),
                    "CIS AWS Foundations 1.12".into(),
                    "OWASP NHI1".into(),
                ];
            }
        }
    }

    pub(crate) fn agent_gaps(&mut self) {
        for ai in 0..self.r.agents.len() {
            if self.agent_reg[ai].is_some() {
                continue;
            }
            let a = &self.r.agents[ai];
            let mut entities = vec![ent("agent", &a.id, &a.path)];
            entities.extend(self.agent_idents[ai].iter().map(|&i| self.ident_entity(i)));
            let mut evidence: Vec<Evidence> = a
                .evidence
                .iter()
                .take(6)
                .map(|e| {
                    ev(
                        &a.source,
                        format!(
                            "{} ({}) at {}:{}: {}",
                            e.framework,
                            e.category.as_str(),
                            e.path,
                            e.line,
                            e.evidence
                        ),
                        None,
                    )
                })
                .collect();
            for c in a.credentials.iter().filter(|c| c.kind == "finding") {
                evidence.push(ev(
                    &a.source,
                    format!(
                        "uses secret {} ({}) at {}:{}",
                        c.redacted.as_deref().unwrap_or("?"),
                        c.name,
                        c.path,
                        c.line
                    ),
                    None,
                ));
            }
            for &i in &self.agent_idents[ai] {
                for how in self.agent_links.get(&(ai, i)).into_iter().flatten() {
                    evidence.push(ev("correlation", how.clone(), None));
                }
            }
            evidence.push(ev(
                "registry",
                format!("no registry entry covers the path `{}`", a.path),
                None,
            ));
            let sev = if a.credentials.iter().any(|c| c.kind == "finding") {
                Severity::High
            } else {
                Severity::Medium
            };
            let title = format!(
                "agent `{}` ({}) is not in the agent registry",
                a.path,
                a.frameworks.join(", ")
            );
            let subject = format!("{}\u{0}{}", a.source, a.path);
            let owner = self.agent_owner[ai].clone();
            let gap = self.push(GapKind::UnregisteredAgent, &subject, sev, title, entities);
            gap.evidence = evidence;
            gap.owner = owner;
            gap.remediation = "Register the agent in agents.toml with an accountable owner, purpose, the identities it uses and a review date (`roster registry init` drafts the entry), or decommission it.".into();
            gap.standards = vec!["NIST AI RMF GOVERN 1.6".into(), "CIS Controls v8 5.1".into()];
        }
    }

    pub(crate) fn registry_gaps(&mut self) {
        let Some(reg) = self.cx.registry else { return };
        let t = self.cx.thresholds;
        let now = self.cx.now_ms;
        // "Gone" needs every connector to have read its provider completely.
        let collected = !self.r.connectors.is_empty() && self.r.connectors.iter().all(|c| c.status == "complete");
        for (r, a) in reg.agents.iter().enumerate() {
            let subject = a.id.clone();
            let entity = ent("registry-entry", &a.id, if a.name.is_empty() { &a.id } else { &a.name });
            if self.registry_owner(r).is_none() {
                let detail = if a.owner.is_empty() && a.team.is_empty() {
                    format!("{} lists `{}` with no owner or team", reg.origin, a.id)
                } else {
                    format!(
                        "{} names {} as owner of `{}`, and the identity provider says they are disabled",
                        reg.origin,
                        if a.owner.is_empty() { &a.team } else { &a.owner },
                        a.id
                    )
                };
                let gap = self.push(
                    GapKind::NoOwner,
                    &subject,
                    Severity::High,
                    format!("registered agent `{}` has no active owner", a.id),
                    vec![entity.clone()],
                );
                gap.evidence = vec![ev("registry", detail, None)];
                gap.remediation = "Name an active, accountable person as the agent's owner in agents.toml, or decommission the agent.".into();
                gap.standards = vec!["CIS Controls v8 5.5".into(), "OWASP NHI1".into()];
            }
            // Offboarding candidate: its identities are gone or unused, or its code is gone.
            let mine: Vec<usize> = (0..self.r.identities.len())
                .filter(|&i| self.identity_reg[i] == Some(r))
                .collect();
            let code_found = self.agent_reg.contains(&Some(r));
            let mut evidence = vec![];
            if !a.identities.is_empty() || !a.credentials.is_empty() {
                if mine.is_empty() && collected && !code_found {
                    evidence.push(ev(
                        "correlation",
                        format!(
                            "none of its identities or credentials ({}) was found by the connectors",
                            a.identities
                                .iter()
                                .chain(&a.credentials)
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        None,
                    ));
                } else if !mine.is_empty() && !code_found {
                    let uses: Vec<Option<(i64, String)>> = mine.iter().map(|&i| self.last_use(i)).collect();
                    // No recorded use counts as unused only once the identity is old enough (or
                    // its age unknown) and its provider reports use.
                    let unused = |i: usize, u: &Option<(i64, String)>| match u {
                        Some((t_used, _)) => days(now - t_used) > t.registry_unused_days,
                        None => {
                            let x = &self.r.identities[i];
                            reports_usage(x)
                                && x.created
                                    .as_deref()
                                    .and_then(parse_time)
                                    .is_none_or(|c| days(now - c) > t.registry_unused_days)
                        }
                    };
                    if mine.iter().zip(&uses).all(|(&i, u)| unused(i, u)) {
                        for (&i, u) in mine.iter().zip(&uses) {
                            let x = &self.r.identities[i];
                            evidence.push(match u {
                                Some((t_used, what)) => ev(
                                    &x.source,
                                    format!("{what} {} days ago", days(now - t_used)),
                                    Some(&format_millis(*t_used)),
                                ),
                                None => ev(&x.source, format!("`{}` has no recorded use", x.name), None),
                            });
                        }
                    }
                }
            } else if !code_found && !self.r.sources.is_empty() {
                evidence.push(ev(
                    "correlation",
                    format!("no agent code was found at {}", a.code.join(", ")),
                    None,
                ));
            }
            if !evidence.is_empty() {
                let mut entities = vec![entity];
                entities.extend(mine.iter().map(|&i| self.ident_entity(i)));
                let owner = self.registry_owner(r);
                let gap = self.push(
                    GapKind::RegistryZombie,
                    &subject,
                    Severity::Low,
                    format!("registered agent `{}` looks decommissioned", a.id),
                    entities,
                );
                gap.evidence = evidence;
                gap.owner = owner;
                gap.remediation = "Confirm with the owner; if the agent is retired, delete its identities and credentials and remove the registry entry.".into();
                gap.standards = vec!["OWASP NHI1".into(), "NIST AI RMF GOVERN 1.7".into()];
            }
        }
    }
}
