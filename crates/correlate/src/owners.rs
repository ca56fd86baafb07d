//! Owner resolution: who is accountable for each identity and code agent, declared owners
//! first (registry, identity-provider owners and tags), then inferred ones (CODEOWNERS, recorded
//! creator, commit author), skipping anyone the identity provider shows disabled.

use crate::correlation::Correlation;
use crate::util::under;
use roster_model::{Identity, ResolvedOwner};
use std::sync::Arc;

impl Correlation<'_, '_> {
    /// Collects the people the identity provider shows disabled: they own nothing.
    pub(crate) fn index_people(&mut self) {
        for o in self.r.identities.iter().flat_map(|i| i.owners.iter()) {
            if o.enabled == Some(false) {
                self.disabled.insert(o.id.to_lowercase());
                self.disabled.insert(o.name.to_lowercase());
            }
        }
    }

    /// People CODEOWNERS assigns the code that names an identity's client id: candidates to
    /// confirm, not owners (naming an app's public id is weaker evidence than holding its secret).
    pub(crate) fn client_id_candidates(&self, i: usize) -> Vec<String> {
        let mut out = vec![];
        for &(ai, ci) in self.client_id_refs.get(&i).into_iter().flatten() {
            let a = &self.r.agents[ai];
            let c = &a.credentials[ci];
            if let Some(o) = self.codeowners_of(&a.source, &c.path) {
                let line = format!(
                    "candidate owner {}: {} names its client id, and {}; confirm and record the owner",
                    o.name, c.path, o.evidence
                );
                if !out.contains(&line) {
                    out.push(line);
                }
            }
        }
        out
    }

    /// Whether the identity provider does not show `name` disabled.
    fn person_active(&self, name: &str) -> bool {
        !self.disabled.contains(&name.to_lowercase())
    }

    /// The owner (or team) of registry entry `r`, when active.
    pub(crate) fn registry_owner(&self, r: usize) -> Option<ResolvedOwner> {
        let reg = self.cx.registry?;
        let a = &reg.agents[r];
        let who = if a.owner.is_empty() { &a.team } else { &a.owner };
        (!who.is_empty() && self.person_active(who)).then(|| ResolvedOwner {
            name: who.as_str().into(),
            via: "registry".into(),
            attested: true,
            evidence: format!("{} lists `{}` with owner {who}", reg.origin, a.id).into(),
        })
    }

    /// The CODEOWNERS owners of `path` in `source` who are not disabled, if any.
    fn codeowners_of(&self, source: &str, path: &str) -> Option<ResolvedOwner> {
        let co = self.cx.codeowners.get(source)?;
        let (pat, owners) = co.owners(path)?;
        let active: Vec<&str> = owners
            .iter()
            .map(String::as_str)
            .filter(|o| self.person_active(o.trim_start_matches('@')))
            .collect();
        (!active.is_empty()).then(|| ResolvedOwner {
            name: active.join(" ").into(),
            via: "codeowners".into(),
            attested: false,
            evidence: format!("{} assigns {path} (pattern `{pat}`) to {}", co.origin, owners.join(" ")).into(),
        })
    }

    /// CODEOWNERS, then the commit author, for the places a secret group was found.
    pub(crate) fn code_owner(&self, findings: &[usize]) -> Option<ResolvedOwner> {
        for &fi in findings {
            let x = &self.r.findings[fi];
            if let Some(o) = self.codeowners_of(&x.source, &x.path) {
                return Some(o);
            }
        }
        findings.iter().map(|&fi| &self.r.findings[fi]).find_map(|x| {
            let author = x.author.as_deref()?;
            // `Name <email>`: a person the identity provider shows disabled is no owner.
            let (name, email) = author
                .split_once(" <")
                .map_or((author, ""), |(n, e)| (n, e.trim_end_matches('>')));
            if !self.person_active(name) || (!email.is_empty() && !self.person_active(email)) {
                return None;
            }
            Some(ResolvedOwner {
                name: author.into(),
                via: "commit-author".into(),
                attested: false,
                evidence: format!(
                    "{author} committed {} in {} ({})",
                    x.path,
                    x.commit.as_deref().map(|c| &c[..c.len().min(12)]).unwrap_or("?"),
                    x.date.as_deref().unwrap_or("?")
                )
                .into(),
            })
        })
    }

    /// The owner of identity `i` and the disabled people skipped on the way, trying in order:
    /// provider, registry, IdP owners and sponsors, owner tags, CODEOWNERS, recorded creator,
    /// commit author.
    pub(crate) fn resolve_identity_owner(&self, i: usize) -> (Option<ResolvedOwner>, Vec<String>) {
        let ident = &self.r.identities[i];
        let mut skipped = vec![];
        if let Some(who) = provider_managed(ident) {
            return (
                Some(ResolvedOwner {
                    name: who.into(),
                    via: "provider".into(),
                    attested: true,
                    evidence: format!("{} reports `{}` as managed by the provider", ident.source, ident.name).into(),
                }),
                skipped,
            );
        }
        if let Some(o) = self.identity_reg[i].and_then(|r| self.registry_owner(r)) {
            return (Some(o), skipped);
        }
        let mut declared = ident
            .owners
            .iter()
            .filter(|o| !o.via.starts_with("tag:") && o.via != "creator")
            .collect::<Vec<_>>();
        declared.extend(ident.owners.iter().filter(|o| o.via.starts_with("tag:")));
        for o in declared {
            let who = if o.name.is_empty() { &o.id } else { &o.name };
            if o.enabled == Some(false) || !self.person_active(who) {
                skipped.push(format!("{who} ({}) is disabled in the identity provider", o.via));
                continue;
            }
            return (
                Some(ResolvedOwner {
                    name: who.as_str().into(),
                    via: if o.via.starts_with("tag:") {
                        "tag".into()
                    } else {
                        "idp-owner".into()
                    },
                    attested: true,
                    evidence: format!("{} names {who} as {} of {}", ident.source, o.via, ident.name).into(),
                }),
                skipped,
            );
        }
        let findings: Vec<usize> = self
            .ident_groups
            .get(&i)
            .into_iter()
            .flatten()
            .flat_map(|&g| self.groups[g].findings.iter().copied())
            .collect();
        if let Some(o) = self.code_owner(&findings).filter(|o| o.via == "codeowners") {
            return (Some(o), skipped);
        }
        for o in ident.owners.iter().filter(|o| o.via == "creator") {
            let who = if o.name.is_empty() { &o.id } else { &o.name };
            if o.enabled == Some(false) || !self.person_active(who) {
                skipped.push(format!("creator {who} is disabled in the identity provider"));
                continue;
            }
            return (
                Some(ResolvedOwner {
                    name: who.as_str().into(),
                    via: "creator".into(),
                    attested: false,
                    evidence: format!("{} records {who} as the creator of {}", ident.source, ident.name).into(),
                }),
                skipped,
            );
        }
        (self.code_owner(&findings), skipped)
    }

    /// Resolves the owner of every identity, and of every code agent (registry, CODEOWNERS of
    /// its evidence, then the author of the secrets in its directory).
    pub(crate) fn resolve_owners(&mut self) {
        for i in 0..self.r.identities.len() {
            self.identity_owner[i] = self.resolve_identity_owner(i).0.map(Arc::new);
        }
        // A record joined to its directory record has that record's owner, unless the provider
        // manages it.
        for j in 0..self.r.identities.len() {
            if let Some(i) = self.directory_record[j]
                && provider_managed(&self.r.identities[j]).is_none()
            {
                let dir = &self.r.identities[i];
                self.identity_owner[j] = self.identity_owner[i].as_deref().map(|o| {
                    Arc::new(ResolvedOwner {
                        evidence: format!("{} (its record in {}, `{}`)", o.evidence, dir.source, dir.name).into(),
                        ..o.clone()
                    })
                });
            }
        }
        // A platform's agent with no owner of its own answers to its role's owner (AWS records
        // none for a Bedrock agent; the role's owner tag names who runs it).
        for a in 0..self.r.identities.len() {
            if let Some(i) = self.acts_as[a]
                && self.identity_owner[a].is_none()
            {
                self.identity_owner[a] = self.identity_owner[i].as_deref().map(|o| {
                    Arc::new(ResolvedOwner {
                        evidence: format!("{} (the role it acts as)", o.evidence).into(),
                        ..o.clone()
                    })
                });
            }
        }
        for (ai, a) in self.r.agents.iter().enumerate() {
            let owner = self.agent_reg[ai]
                .and_then(|r| self.registry_owner(r))
                .or_else(|| a.evidence.iter().find_map(|e| self.codeowners_of(&a.source, &e.path)))
                .or_else(|| {
                    // Last: who committed the secrets in its directory.
                    let in_dir: Vec<usize> = self
                        .r
                        .findings
                        .iter()
                        .enumerate()
                        .filter(|(_, f)| f.source == a.source && under(&f.path, &a.path))
                        .map(|(i, _)| i)
                        .collect();
                    self.code_owner(&in_dir)
                });
            self.agent_owner[ai] = owner.map(Arc::new);
        }
    }
}

/// Who owns an identity the provider itself manages, if it is one.
pub(crate) fn provider_managed(ident: &Identity) -> Option<&str> {
    if ident.attrs.get("service_linked").is_some_and(|v| v == "true") {
        Some("AWS (service-linked role)")
    } else if let Some(p) = ident.attrs.get("provider_owned") {
        Some(p.as_str())
    } else if ident.kind == "managed-identity" {
        Some("the Azure resource it is assigned to")
    } else if ident
        .attrs
        .get("app_owner_tenant")
        .is_some_and(|t| MICROSOFT_TENANTS.contains(&t.as_str()))
    {
        Some("Microsoft (first-party application)")
    } else {
        None
    }
}

/// Microsoft's own tenants: their applications are first-party.
const MICROSOFT_TENANTS: [&str; 2] = [
    "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
    "72f988bf-86f1-41af-91ab-2d7cd011db47",
];
