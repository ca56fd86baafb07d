//! Correlation: findings from code, identities and activity from connectors, and the agent
//! registry become one inventory with owners resolved, and the ownership gaps a security team must
//! act on. Pure: records in, conclusions out, each with its evidence chain.
//!
//! Joins (each kept as evidence):
//! - a secret in code ↔ a provider credential: by keyed fingerprint of the provider's key id (an
//!   AWS access key id), or by the provider's redacted value (same prefix, same last four);
//! - one fingerprint in several places ↔ a shared secret;
//! - audit-log activity ↔ its credential or identity, and AI user agents ↔ agent activity;
//! - code agents ↔ the secrets in their directories ↔ the identities those secrets belong to;
//! - the registry ↔ code agents (by path) and identities (by id, name or key id).

mod codeowners;
mod compliance;
mod registry;

pub use codeowners::CodeOwners;
pub use registry::{RegisteredAgent, Registry, RegistryFile};

use roster_model::{
    EntityRef, Evidence, Finding, Gap, GapKind, Identity, Report, ResolvedOwner, Severity, format_millis, parse_time,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};

const DAY_MS: i64 = 86_400_000;

/// Thresholds for the time-based gaps (`[thresholds]` in roster.toml), in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// An active access key older than this is long-lived. Default 90: CIS AWS Foundations
    /// v3.0.0 §1.14 (rotate access keys every 90 days).
    pub access_key_max_age_days: i64,
    /// A secret, token or key whose lifetime (expiry − creation) is longer than this, or that
    /// never expires, is long-lived. Default 365: Entra's recommended maximum client-secret
    /// lifetime, OpenAI's one-year maximum for service-account keys, GitHub's fine-grained PAT
    /// default maximum (366).
    pub secret_max_lifetime_days: i64,
    /// An enabled identity unused this long is stale. Default 90: IAM Access Analyzer and
    /// Security Hub's unused-access window (CIS Controls v8 5.3 says 45 for dormant accounts).
    pub unused_days: i64,
    /// A registered agent whose identities were all unused this long is an offboarding
    /// candidate. Default 90.
    pub registry_unused_days: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            access_key_max_age_days: 90,
            secret_max_lifetime_days: 365,
            unused_days: 90,
            registry_unused_days: 90,
        }
    }
}

/// The scanner's keyed fingerprint function (HMAC-SHA256 under the installation key, hex).
pub type FingerprintFn<'f> = dyn Fn(&[u8]) -> String + 'f;

/// What correlation needs besides the report.
pub struct Context<'a> {
    /// "Now", in Unix milliseconds (the run's start).
    pub now_ms: i64,
    /// Time thresholds.
    pub thresholds: Thresholds,
    /// The agent registry, if the organization keeps one.
    pub registry: Option<&'a Registry>,
    /// CODEOWNERS per scanned source (the `source` of findings and agents).
    pub codeowners: &'a BTreeMap<String, CodeOwners>,
    /// The keyed fingerprint function the scanner used, to recognize provider key ids in code.
    pub fingerprint: Option<&'a FingerprintFn<'a>>,
}

/// Correlates `report` in place: fills each identity's and agent's `accountable` and
/// `registered_as`, and replaces `report.gaps`.
pub fn correlate(report: &mut Report, cx: &Context) {
    let mut c = Correlation::new(report, cx);
    c.run();
    let Correlation {
        gaps,
        identity_owner,
        identity_reg,
        agent_owner,
        agent_reg,
        ..
    } = c;
    for (i, ident) in report.identities.iter_mut().enumerate() {
        ident.accountable = identity_owner[i].clone();
        ident.registered_as = identity_reg[i].map(|r| cx.registry.map(|g| g.agents[r].id.clone()).unwrap_or_default());
    }
    for (i, a) in report.agents.iter_mut().enumerate() {
        a.accountable = agent_owner[i].clone();
        a.registered_as = agent_reg[i].map(|r| cx.registry.map(|g| g.agents[r].id.clone()).unwrap_or_default());
    }
    let mut gaps = gaps;
    gaps.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| kind_rank(a.kind).cmp(&kind_rank(b.kind)))
            .then_with(|| a.title.cmp(&b.title))
    });
    report.compliance = compliance::assess(report, &gaps, &cx.thresholds, cx.registry.is_some());
    report.gaps = gaps;
}

fn kind_rank(k: GapKind) -> usize {
    GapKind::ALL.iter().position(|x| *x == k).unwrap_or(usize::MAX)
}

/// The stable id of a gap: the same kind and subject give the same id in every run.
pub fn gap_id(kind: GapKind, subject: &str) -> String {
    let mut h = Sha256::new();
    h.update(kind.as_str().as_bytes());
    h.update([0]);
    h.update(subject.as_bytes());
    let d = h.finalize();
    let mut s = String::from("gap-");
    for b in &d[..8] {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Where a credential sits: identity index, credential index.
type CredRef = (usize, usize);

/// Findings sharing one secret (or an AWS key id and its paired secret key).
#[derive(Clone)]
struct SecretGroup {
    findings: Vec<usize>,
    /// The provider credential it was joined to, and how.
    joined: Option<(CredRef, String)>,
}

struct Correlation<'r, 'c> {
    r: &'r Report,
    cx: &'c Context<'c>,
    groups: Vec<SecretGroup>,
    /// Identity index → secret groups joined to it.
    ident_groups: HashMap<usize, Vec<usize>>,
    /// Agent index → identities reached through its secrets or the client ids in its code.
    agent_idents: Vec<BTreeSet<usize>>,
    /// (agent, identity) → how the agent reaches the identity, as evidence lines.
    agent_links: BTreeMap<(usize, usize), Vec<String>>,
    /// (agent, identity) pairs joined only through a public client id: evidence, not a claim
    /// (they carry no registry coverage and no owner).
    client_id_only: BTreeSet<(usize, usize)>,
    /// Identity → (agent, its credential) that name the identity's client id.
    client_id_refs: HashMap<usize, Vec<(usize, usize)>>,
    /// Identity index → activity indexes.
    ident_acts: Vec<Vec<usize>>,
    /// Names and ids (lowercase) of people the IdP says are disabled.
    disabled: BTreeSet<String>,
    identity_owner: Vec<Option<ResolvedOwner>>,
    identity_reg: Vec<Option<usize>>,
    agent_owner: Vec<Option<ResolvedOwner>>,
    agent_reg: Vec<Option<usize>>,
    gaps: Vec<Gap>,
}

fn ent(kind: &str, id: &str, name: &str) -> EntityRef {
    EntityRef {
        kind: kind.into(),
        id: id.into(),
        name: name.into(),
    }
}

fn ev(source: &str, detail: String, time: Option<&str>) -> Evidence {
    Evidence {
        source: source.into(),
        detail,
        time: time.map(str::to_owned),
    }
}

fn days(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

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

fn is_ai_service(s: &str) -> bool {
    let s = s.to_ascii_lowercase();
    [
        "bedrock",
        "sagemaker",
        "openai",
        "anthropic",
        "cognitiveservices",
        "cognitive services",
        "azure openai",
        "azure machine learning",
        "aiplatform",
        "q.amazonaws",
    ]
    .iter()
    .any(|k| s.contains(k))
}

impl<'r, 'c> Correlation<'r, 'c> {
    fn new(r: &'r Report, cx: &'c Context<'c>) -> Self {
        let n = r.identities.len();
        Correlation {
            r,
            cx,
            groups: vec![],
            ident_groups: HashMap::new(),
            agent_idents: vec![BTreeSet::new(); r.agents.len()],
            agent_links: BTreeMap::new(),
            client_id_only: BTreeSet::new(),
            client_id_refs: HashMap::new(),
            ident_acts: vec![vec![]; n],
            disabled: BTreeSet::new(),
            identity_owner: vec![None; n],
            identity_reg: vec![None; n],
            agent_owner: vec![None; r.agents.len()],
            agent_reg: vec![None; r.agents.len()],
            gaps: vec![],
        }
    }

    fn run(&mut self) {
        self.index_people();
        self.group_secrets();
        self.join_activity();
        self.link_agents();
        self.match_registry();
        self.resolve_owners();
        self.secret_gaps();
        self.identity_gaps();
        self.agent_gaps();
        self.registry_gaps();
    }

    fn index_people(&mut self) {
        for o in self.r.identities.iter().flat_map(|i| i.owners.iter()) {
            if o.enabled == Some(false) {
                self.disabled.insert(o.id.to_lowercase());
                self.disabled.insert(o.name.to_lowercase());
            }
        }
    }

    /// Groups findings by fingerprint (joining an AWS key id with its paired secret key), then
    /// joins each group to a provider credential.
    fn group_secrets(&mut self) {
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
            .filter_map(|x| Some((x.fingerprint.as_str(), x.paired_with.as_deref()?)))
            .collect();
        let mut node_of = Vec::with_capacity(f.len());
        for x in f {
            let a = node(&x.fingerprint, &mut parent);
            node_of.push(a);
            if let Some(p) = &x.paired_with
                && partner.get(p.as_str()) == Some(&x.fingerprint.as_str())
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
            if let Some(&cr) = g.findings.iter().find_map(|&fi| by_key_fp.get(&f[fi].fingerprint)) {
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

    fn join_activity(&mut self) {
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
    fn link_agents(&mut self) {
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

    /// People CODEOWNERS assigns the code that names an identity's client id: candidates to
    /// confirm, not owners (naming an app's public id is weaker evidence than holding its secret).
    fn client_id_candidates(&self, i: usize) -> Vec<String> {
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

    fn match_registry(&mut self) {
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

    fn person_active(&self, name: &str) -> bool {
        !self.disabled.contains(&name.to_lowercase())
    }

    fn registry_owner(&self, r: usize) -> Option<ResolvedOwner> {
        let reg = self.cx.registry?;
        let a = &reg.agents[r];
        let who = if a.owner.is_empty() { &a.team } else { &a.owner };
        (!who.is_empty() && self.person_active(who)).then(|| ResolvedOwner {
            name: who.clone(),
            via: "registry".into(),
            attested: true,
            evidence: format!("{} lists `{}` with owner {who}", reg.origin, a.id),
        })
    }

    /// CODEOWNERS, then the commit author, for the places a secret group was found.
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
            name: active.join(" "),
            via: "codeowners".into(),
            attested: false,
            evidence: format!("{} assigns {path} (pattern `{pat}`) to {}", co.origin, owners.join(" ")),
        })
    }

    fn code_owner(&self, findings: &[usize]) -> Option<ResolvedOwner> {
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
                name: author.to_owned(),
                via: "commit-author".into(),
                attested: false,
                evidence: format!(
                    "{author} committed {} in {} ({})",
                    x.path,
                    x.commit.as_deref().map(|c| &c[..c.len().min(12)]).unwrap_or("?"),
                    x.date.as_deref().unwrap_or("?")
                ),
            })
        })
    }

    fn resolve_identity_owner(&self, i: usize) -> (Option<ResolvedOwner>, Vec<String>) {
        let ident = &self.r.identities[i];
        let mut skipped = vec![];
        if let Some(who) = provider_managed(ident) {
            return (
                Some(ResolvedOwner {
                    name: who.into(),
                    via: "provider".into(),
                    attested: true,
                    evidence: format!("{} reports `{}` as managed by the provider", ident.source, ident.name),
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
                    name: who.clone(),
                    via: if o.via.starts_with("tag:") {
                        "tag".into()
                    } else {
                        "idp-owner".into()
                    },
                    attested: true,
                    evidence: format!("{} names {who} as {} of {}", ident.source, o.via, ident.name),
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
                    name: who.clone(),
                    via: "creator".into(),
                    attested: false,
                    evidence: format!("{} records {who} as the creator of {}", ident.source, ident.name),
                }),
                skipped,
            );
        }
        (self.code_owner(&findings), skipped)
    }

    fn resolve_owners(&mut self) {
        for i in 0..self.r.identities.len() {
            self.identity_owner[i] = self.resolve_identity_owner(i).0;
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
            self.agent_owner[ai] = owner;
        }
    }

    fn ai_reasons(&self, i: usize) -> Vec<String> {
        let ident = &self.r.identities[i];
        let mut why = vec![];
        match ident.kind.as_str() {
            "ai-key" | "ai-service-account" => why.push(format!("{} is an AI-provider {}", ident.source, ident.kind)),
            "agent" | "agent-identity" => why.push(format!("{} declares it an agent identity", ident.source)),
            _ => {}
        }
        if let Some(p) = ident.attrs.get("ai_service_principals") {
            why.push(format!("its trust policy lets {p} assume it"));
        }
        let ai_actions: BTreeSet<&str> = ident
            .permissions
            .iter()
            .flat_map(|p| p.actions.iter())
            .filter(|a| is_ai_service(a.split(':').next().unwrap_or_default()))
            .map(String::as_str)
            .collect();
        if !ai_actions.is_empty() {
            why.push(format!(
                "its policies allow {}",
                ai_actions.into_iter().take(4).collect::<Vec<_>>().join(", ")
            ));
        }
        for c in &ident.credentials {
            if let Some(s) = c.last_used_service.as_deref().filter(|s| is_ai_service(s)) {
                why.push(format!("credential {} was last used with {s}", c.id));
            }
            if c.attrs.get("service").is_some_and(|s| is_ai_service(s)) {
                why.push(format!("credential {} is a {} key", c.id, c.attrs["service"]));
            }
        }
        let clients: BTreeSet<&str> = self.ident_acts[i]
            .iter()
            .filter_map(|&a| self.r.activities[a].attrs.get("ai_client").map(String::as_str))
            .collect();
        if !clients.is_empty() {
            why.push(format!(
                "audit logs show AI clients: {}",
                clients.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
        let services: BTreeSet<&str> = self.ident_acts[i]
            .iter()
            .filter_map(|&a| self.r.activities[a].service.as_deref())
            .filter(|s| is_ai_service(s))
            .collect();
        if !services.is_empty() {
            why.push(format!(
                "audit logs show calls to {}",
                services.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
        why
    }

    fn human_reasons(&self, i: usize) -> Vec<String> {
        let ident = &self.r.identities[i];
        let mut why = vec![];
        if ident.attrs.get("console_password").is_some_and(|v| v == "true") {
            why.push(format!("{} signs in to the console with a password", ident.name));
        }
        if ident.attrs.get("human").is_some_and(|v| v == "true") {
            why.push(format!("{} says {} is a person", ident.source, ident.name));
        }
        for (k, v) in &ident.tags {
            if matches!(
                k.to_ascii_lowercase().as_str(),
                "type" | "kind" | "identity-type" | "identity_type"
            ) && v.eq_ignore_ascii_case("human")
            {
                why.push(format!("tag {k}={v}"));
            }
        }
        if ident.kind == "api-token"
            && let Some(o) = ident.owners.iter().find(|o| o.kind == "user")
        {
            why.push(format!("the token acts as its creator {}, a person", o.name));
        }
        why
    }

    fn privilege_reasons(&self, i: usize) -> Vec<String> {
        let mut why = vec![];
        for p in &self.r.identities[i].permissions {
            if p.attrs.get("admin").is_some_and(|v| v == "true") {
                why.push(format!("{} `{}` grants full administrative access", p.kind, p.name));
            } else if p.attrs.get("directory_wide").is_some_and(|v| v == "true") {
                why.push(format!("{} `{}` is directory-wide", p.kind, p.name));
            } else if let Some(w) = p.attrs.get("wildcard_actions") {
                why.push(format!("{} `{}` allows wildcard actions {w}", p.kind, p.name));
            } else if let Some(b) = p.attrs.get("broad") {
                why.push(format!("{} `{}` gives {b}", p.kind, p.name));
            }
        }
        why
    }

    /// The latest use of an identity and where that fact comes from.
    fn last_use(&self, i: usize) -> Option<(i64, String)> {
        let ident = &self.r.identities[i];
        let mut best: Option<(i64, String)> = None;
        let mut see = |t: Option<&str>, what: String| {
            if let Some(ms) = t.and_then(parse_time)
                && best.as_ref().is_none_or(|(b, _)| ms > *b)
            {
                best = Some((ms, what));
            }
        };
        see(
            ident.last_used.as_deref(),
            format!("{} last used {}", ident.source, ident.name),
        );
        for c in &ident.credentials {
            see(
                c.last_used.as_deref(),
                format!("{} last used credential {}", ident.source, c.id),
            );
        }
        for &a in &self.ident_acts[i] {
            let a = &self.r.activities[a];
            see(Some(&a.time), format!("{} event {} ({})", a.source, a.action, a.id));
        }
        best
    }

    fn ident_entity(&self, i: usize) -> EntityRef {
        let x = &self.r.identities[i];
        ent("identity", &x.id, &x.name)
    }

    fn skip_identity(ident: &Identity) -> bool {
        ident.attrs.contains_key("placeholder") || ident.kind == "ai-project" || provider_managed(ident).is_some()
    }

    fn push(
        &mut self,
        kind: GapKind,
        subject: &str,
        severity: Severity,
        title: String,
        entities: Vec<EntityRef>,
    ) -> &mut Gap {
        self.gaps
            .push(Gap::new(gap_id(kind, subject), kind, severity, title, entities));
        self.gaps.last_mut().expect("just pushed")
    }

    fn secret_gaps(&mut self) {
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

    fn identity_gaps(&mut self) {
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

    fn agent_gaps(&mut self) {
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

    fn registry_gaps(&mut self) {
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

/// Who owns an identity the provider itself manages, if it is one.
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

fn provider_managed(ident: &Identity) -> Option<&str> {
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

/// Whether the provider reports when this kind of identity was last used, so that no date means
/// never used: AWS users (key and console use) and roles (RoleLastUsed), GitHub fine-grained
/// tokens and deploy keys, OpenAI keys. Anthropic keys, Okta tokens and apps, Entra apps without
/// the sign-in report, and GitHub app installations carry no such date.
fn reports_usage(ident: &Identity) -> bool {
    matches!(
        ident.kind.as_str(),
        "cloud-user" | "role" | "personal-access-token" | "deploy-key"
    ) || ident
        .credentials
        .iter()
        .any(|c| c.attrs.get("provider").is_some_and(|p| p == "openai"))
}

/// Whether a credential can still be used: the provider says active, or gives no status (Entra)
/// and it has not expired.
fn is_active(c: &roster_model::Credential, now: i64) -> bool {
    c.status == "active" || (c.status == "unknown" && c.expires.as_deref().and_then(parse_time).is_none_or(|e| e > now))
}

fn under(path: &str, dir: &str) -> bool {
    dir == "." || path == dir || path.starts_with(&format!("{dir}/"))
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

    #[test]
    fn gap_ids_are_stable_and_distinct() {
        assert_eq!(gap_id(GapKind::NoOwner, "a"), gap_id(GapKind::NoOwner, "a"));
        assert_ne!(gap_id(GapKind::NoOwner, "a"), gap_id(GapKind::StaleIdentity, "a"));
        assert_eq!(gap_id(GapKind::NoOwner, "a").len(), 20);
    }
}
