//! The joins: findings grouped into secrets and tied to provider credentials, audit-log activity
//! tied to identities, code agents tied to the identities they use, and registry entries tied
//! to code agents and identities. Each join keeps how it was made, as evidence.

use crate::correlation::{Correlation, CredRef, SecretGroup};
use roster_model::Identity;
use std::collections::{BTreeSet, HashMap};

/// The redacted value's visible prefix and last four characters (`sk-proj-…AbCd`,
/// `sk-proj-****AbCd`, `sk-ant-api03-R2D...igAA`).
fn redaction_parts(r: &str) -> Option<(&str, &str)> {
    let cut = r.find(['…', '*']).or_else(|| r.find("..."))?;
    let prefix = &r[..cut];
    let tail = r[cut..].trim_start_matches(['…', '*', '.']);
    let last4 = tail.get(tail.len().checked_sub(4)?..)?;
    (last4.len() == 4 && last4.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .then_some((prefix, last4))
}

/// Entra application ids are GUIDs, case-insensitive (Graph returns them in lower case, code may
/// hold them in upper case); Okta client ids are case-sensitive and kept as they are.
fn normalize_client_id(v: &str) -> String {
    let guid = v.len() == 36 && v.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    if guid { v.to_ascii_lowercase() } else { v.to_owned() }
}

/// An identity's app and client ids, normalized.
fn client_ids(ident: &Identity) -> Vec<String> {
    ["app_id", "client_id"]
        .iter()
        .filter_map(|k| ident.attrs.get(*k))
        .filter(|v| !v.is_empty())
        .map(|v| normalize_client_id(v))
        .collect()
}

impl<'r> Correlation<'r, '_> {
    /// Groups findings by fingerprint (joining an AWS key id with its paired secret key), then
    /// joins each group to a provider credential.
    pub(crate) fn group_secrets(&mut self) {
        let f = &self.r.findings;
        let mut by_fp: HashMap<&str, usize> = HashMap::with_capacity(f.len());
        let mut parent: Vec<usize> = Vec::new();
        fn root(p: &mut [usize], mut i: usize) -> usize {
            while p[i] != i {
                p[i] = p[p[i]];
                i = p[i];
            }
            i
        }
        let mut node = |fp: &'r str, parent: &mut Vec<usize>| -> usize {
            *by_fp.entry(fp).or_insert_with(|| {
                parent.push(parent.len());
                parent.len() - 1
            })
        };
        // Two findings are one credential only when each names the other (a key id and its
        // secret key); one-sided links would chain neighbouring keys together.
        let partner: HashMap<&str, &str> = f
            .iter()
            .filter_map(|x| Some((x.fingerprint.as_str(), x.paired_with()?)))
            .collect();
        let mut node_of = Vec::with_capacity(f.len());
        for x in f {
            let a = node(&x.fingerprint, &mut parent);
            node_of.push(a);
            if let Some(p) = x.paired_with()
                && partner.get(p) == Some(&x.fingerprint.as_str())
            {
                let b = node(p, &mut parent);
                let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
                parent[ra.max(rb)] = ra.min(rb);
            }
        }
        let mut group_of_root: HashMap<usize, usize> = HashMap::new();
        for (i, &n) in node_of.iter().enumerate() {
            let r = root(&mut parent, n);
            let g = *group_of_root.entry(r).or_insert_with(|| {
                self.groups.push(SecretGroup {
                    findings: vec![],
                    joined: None,
                });
                self.groups.len() - 1
            });
            self.groups[g].findings.push(i);
        }

        // Provider key ids, fingerprinted with the scanner's key: an AWS access key id in code has
        // the fingerprint of the IAM access key's id.
        let mut by_key_fp: HashMap<String, CredRef> = HashMap::new();
        let mut by_last4: HashMap<&str, Vec<(CredRef, &str)>> = HashMap::new();
        for (i, ident) in self.r.identities.iter().enumerate() {
            for (j, c) in ident.credentials.iter().enumerate() {
                if let Some(fp) = self.cx.fingerprint
                    && c.id.len() >= 16
                    && !c.id.contains('#')
                {
                    by_key_fp.insert(fp(c.id.as_bytes()), (i, j));
                }
                if let Some((prefix, last4)) = c.redacted.as_deref().and_then(redaction_parts) {
                    by_last4.entry(last4).or_default().push(((i, j), prefix));
                }
            }
        }
        for g in &mut self.groups {
            // An exact key id beats a redaction match anywhere in the group.
            if let Some(&cr) = g
                .findings
                .iter()
                .find_map(|&fi| by_key_fp.get(f[fi].fingerprint.as_str()))
            {
                let c = &self.r.identities[cr.0].credentials[cr.1];
                g.joined = Some((
                    cr,
                    format!("the key id in code is {} ({})", c.id, self.r.identities[cr.0].source),
                ));
                continue;
            }
            for &fi in &g.findings {
                let x = &f[fi];
                let Some((fprefix, last4)) = redaction_parts(&x.redacted) else {
                    continue;
                };
                let provider = x.provider.to_ascii_lowercase();
                let cands: Vec<_> = by_last4
                    .get(last4)
                    .into_iter()
                    .flatten()
                    .filter(|((i, j), p)| {
                        let n = p.len().min(fprefix.len());
                        // Same provider (when the connector names it), and the same visible prefix.
                        let same_provider = self.r.identities[*i].credentials[*j]
                            .attrs
                            .get("provider")
                            .is_none_or(|cp| cp.eq_ignore_ascii_case(&provider));
                        same_provider && n >= 3 && p.as_bytes()[..n] == fprefix.as_bytes()[..n]
                    })
                    .collect();
                if let [((i, j), _)] = cands.as_slice() {
                    let c = &self.r.identities[*i].credentials[*j];
                    g.joined = Some((
                        (*i, *j),
                        format!(
                            "the secret in code ({}) has the prefix and last four of {}'s key {} ({})",
                            x.redacted,
                            self.r.identities[*i].source,
                            c.id,
                            c.redacted.as_deref().unwrap_or_default()
                        ),
                    ));
                    break;
                }
            }
        }
        for (gi, g) in self.groups.iter().enumerate() {
            if let Some(((i, _), _)) = g.joined {
                self.ident_groups.entry(i).or_default().push(gi);
            }
        }
    }

    /// Joins a record that names a principal by its Entra object id (`entra_object_id`: the
    /// azure-rbac connector's principals) to the directory's record of that principal (the
    /// entra-id connector's service principal, whose id is the object id). The directory record
    /// then carries the other record's AI marks and permissions, and its owner is theirs.
    pub(crate) fn join_directory_records(&mut self) {
        let mut directory: HashMap<String, usize> = HashMap::new();
        for (i, ident) in self.r.identities.iter().enumerate() {
            if ident.attrs.get("object").is_some_and(|o| o == "servicePrincipal")
                && !ident.attrs.contains_key("entra_object_id")
            {
                directory.insert(ident.id.to_ascii_lowercase(), i);
            }
        }
        for (j, ident) in self.r.identities.iter().enumerate() {
            let Some(oid) = ident.attrs.get("entra_object_id") else {
                continue;
            };
            if let Some(&i) = directory.get(&oid.to_ascii_lowercase())
                && self.r.identities[i].source != ident.source
            {
                self.directory_record[j] = Some(i);
                self.facets.entry(i).or_default().push(j);
            }
        }
    }

    /// Joins each platform agent that names the role it acts as (`role_arn`: a Bedrock agent's
    /// resource role, an AgentCore runtime's role) to that role's record.
    pub(crate) fn join_agent_roles(&mut self) {
        let by_id: HashMap<&str, usize> = self
            .r
            .identities
            .iter()
            .enumerate()
            .map(|(i, x)| (x.id.as_str(), i))
            .collect();
        for (a, ident) in self.r.identities.iter().enumerate() {
            if ident.kind == "agent"
                && let Some(&i) = ident.attrs.get("role_arn").and_then(|r| by_id.get(r.as_str()))
                && i != a
            {
                self.acts_as[a] = Some(i);
            }
        }
    }

    /// Ties each audit-log event to the identity whose credential, id, or app or client id it
    /// names.
    pub(crate) fn join_activity(&mut self) {
        let mut cred_owner: HashMap<&str, usize> = HashMap::new();
        let mut ident_idx: HashMap<&str, usize> = HashMap::new();
        for (i, ident) in self.r.identities.iter().enumerate() {
            ident_idx.insert(&ident.id, i);
            for c in &ident.credentials {
                cred_owner.insert(&c.id, i);
            }
        }
        // Logs that name an application by its client id (Entra sign-ins, Okta OAuth events)
        // reach the identity whose `app_id` or `client_id` it is; a service principal is
        // preferred to its application object.
        for (i, ident) in self.r.identities.iter().enumerate() {
            for k in ["app_id", "client_id"] {
                if let Some(v) = ident.attrs.get(k).filter(|v| !v.is_empty()) {
                    let sp = ident.attrs.get("object").is_some_and(|o| o == "servicePrincipal");
                    match ident_idx.get(v.as_str()) {
                        Some(_) if !sp => {}
                        _ => {
                            ident_idx.insert(v, i);
                        }
                    }
                }
            }
        }
        for (ai, a) in self.r.activities.iter().enumerate() {
            let i = a
                .credential_id
                .as_deref()
                .and_then(|c| cred_owner.get(c))
                .or_else(|| a.identity_id.as_deref().and_then(|c| ident_idx.get(c)));
            if let Some(&i) = i {
                self.ident_acts[i].push(ai);
            }
        }
    }

    /// Code agents reach identities through the secrets found in their directories, and through
    /// the app (client) ids their code names (`identity-ref` rules).
    pub(crate) fn link_agents(&mut self) {
        let mut group_of_fp: HashMap<&str, usize> = HashMap::new();
        for (gi, g) in self.groups.iter().enumerate() {
            for &fi in &g.findings {
                group_of_fp.insert(&self.r.findings[fi].fingerprint, gi);
            }
        }
        let mut by_client_id: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, ident) in self.r.identities.iter().enumerate() {
            for v in client_ids(ident) {
                by_client_id.entry(v).or_default().push(i);
            }
        }
        let mut secret_linked: BTreeSet<(usize, usize)> = BTreeSet::new();
        for (ai, a) in self.r.agents.iter().enumerate() {
            for (ci, c) in a.credentials.iter().enumerate() {
                if c.kind == "client-id" {
                    for &i in by_client_id.get(&normalize_client_id(&c.name)).into_iter().flatten() {
                        let x = &self.r.identities[i];
                        self.agent_idents[ai].insert(i);
                        self.client_id_only.insert((ai, i));
                        self.client_id_refs.entry(i).or_default().push((ai, ci));
                        self.agent_links.entry((ai, i)).or_default().push(format!(
                            "{}:{} names the client id {} of {} `{}` in {}",
                            c.path, c.line, c.name, x.kind, x.name, x.source
                        ));
                    }
                    continue;
                }
                if let Some(gi) = c.fingerprint.as_deref().and_then(|fp| group_of_fp.get(fp))
                    && let Some(((i, _), _)) = self.groups[*gi].joined
                {
                    let x = &self.r.identities[i];
                    self.agent_idents[ai].insert(i);
                    secret_linked.insert((ai, i));
                    let line = format!(
                        "its secret {} ({}:{}) belongs to {} `{}` in {}",
                        c.redacted.as_deref().unwrap_or("?"),
                        c.path,
                        c.line,
                        x.kind,
                        x.name,
                        x.source
                    );
                    let links = self.agent_links.entry((ai, i)).or_default();
                    if !links.contains(&line) {
                        links.push(line);
                    }
                }
            }
        }
        self.client_id_only.retain(|p| !secret_linked.contains(p));
    }

    /// What a registry entry may name an identity by: its id, name, app, client and user ids,
    /// credential ids, and the fingerprints of the secrets in code tied to it.
    fn identity_keys(&self, i: usize) -> Vec<&str> {
        let ident = &self.r.identities[i];
        let mut k = vec![ident.id.as_str(), ident.name.as_str()];
        for a in ["app_id", "client_id", "user_id"] {
            if let Some(v) = ident.attrs.get(a) {
                k.push(v);
            }
        }
        k.extend(ident.credentials.iter().map(|c| c.id.as_str()));
        for &g in self.ident_groups.get(&i).into_iter().flatten() {
            k.extend(
                self.groups[g]
                    .findings
                    .iter()
                    .map(|&f| self.r.findings[f].fingerprint.as_str()),
            );
        }
        k
    }

    /// Matches code agents to registry entries by path, and identities by their keys.
    pub(crate) fn match_registry(&mut self) {
        let Some(reg) = self.cx.registry else { return };
        for (ai, a) in self.r.agents.iter().enumerate() {
            self.agent_reg[ai] = reg.match_code(&a.path);
        }
        for i in 0..self.r.identities.len() {
            let keys = self.identity_keys(i);
            self.identity_reg[i] = reg.match_key(keys.iter().copied());
        }
        // An identity a registered code agent holds the secret of is covered by that
        // registration. Naming an app's public client id is not enough to claim the app.
        for (ai, idents) in self.agent_idents.iter().enumerate() {
            if let Some(r) = self.agent_reg[ai] {
                for &i in idents.iter().filter(|&&i| !self.client_id_only.contains(&(ai, i))) {
                    self.identity_reg[i].get_or_insert(r);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_forms_split_into_prefix_and_last_four() {
        assert_eq!(redaction_parts("sk-proj-…AbCd"), Some(("sk-proj-", "AbCd")));
        assert_eq!(redaction_parts("sk-proj-****AbCd"), Some(("sk-proj-", "AbCd")));
        assert_eq!(
            redaction_parts("sk-ant-api03-R2D...igAA"),
            Some(("sk-ant-api03-R2D", "igAA"))
        );
        assert_eq!(redaction_parts("…"), None);
        assert_eq!(redaction_parts("plain"), None);
    }
}
