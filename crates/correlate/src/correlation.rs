//! The correlation state: the report, the joins made so far, the owners and registrations
//! resolved, and the gaps raised. Each stage adds to it in `run`'s order.

use crate::util::ent;
use crate::{Context, gap_id};
use roster_model::{EntityRef, Gap, GapKind, Interner, Report, ResolvedOwner, Severity, Text};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Gives back what a gap's strings and lists were allocated beyond their length (a formatted
/// string grows by doubling): about 100 bytes a gap.
fn compact(g: &mut Gap) {
    g.title.shrink_to_fit();
    g.said.shrink_to_fit();
    for e in &mut g.said {
        e.detail.shrink_to_fit();
    }
}

/// Where a credential sits: identity index, credential index.
pub(crate) type CredRef = (usize, usize);

/// Findings sharing one secret (or an AWS key id and its paired secret key).
#[derive(Clone)]
pub(crate) struct SecretGroup {
    pub(crate) findings: Vec<usize>,
    /// The provider credential it was joined to, and how.
    pub(crate) joined: Option<(CredRef, String)>,
}

/// Everything correlation knows about one report.
pub(crate) struct Correlation<'r, 'c> {
    pub(crate) r: &'r Report,
    pub(crate) cx: &'c Context<'c>,
    pub(crate) groups: Vec<SecretGroup>,
    /// Identity index → secret groups joined to it.
    pub(crate) ident_groups: HashMap<usize, Vec<usize>>,
    /// Agent index → identities reached through its secrets or the client ids in its code.
    pub(crate) agent_idents: Vec<BTreeSet<usize>>,
    /// (agent, identity) → how the agent reaches the identity, as evidence lines.
    pub(crate) agent_links: BTreeMap<(usize, usize), Vec<String>>,
    /// (agent, identity) pairs joined only through a public client id: evidence, not a claim
    /// (they carry no registry coverage and no owner).
    pub(crate) client_id_only: BTreeSet<(usize, usize)>,
    /// Identity → (agent, its credential) that name the identity's client id.
    pub(crate) client_id_refs: HashMap<usize, Vec<(usize, usize)>>,
    /// Identity index → activity indexes.
    pub(crate) ident_acts: Vec<Vec<usize>>,
    /// Identity index → the directory record (another source's record of the same principal,
    /// e.g. Entra's service principal for an Azure RBAC principal) it is joined to.
    pub(crate) directory_record: Vec<Option<usize>>,
    /// Directory record → the other sources' records of the same principal.
    pub(crate) facets: HashMap<usize, Vec<usize>>,
    /// A platform's agent (a Bedrock agent, an AgentCore runtime) → the role it acts as (its
    /// `role_arn`), when a source listed that role.
    pub(crate) acts_as: Vec<Option<usize>>,
    /// Names and ids (lowercase) of people the IdP says are disabled.
    pub(crate) disabled: BTreeSet<String>,
    pub(crate) identity_owner: Vec<Option<Arc<ResolvedOwner>>>,
    pub(crate) identity_reg: Vec<Option<usize>>,
    pub(crate) agent_owner: Vec<Option<Arc<ResolvedOwner>>>,
    pub(crate) agent_reg: Vec<Option<usize>>,
    pub(crate) gaps: Vec<Gap>,
    /// Texts that many gaps repeat (a remediation naming a provider), held once.
    pub(crate) texts: Interner,
    /// Lists of controls that vary by gap, held once per distinct list.
    pub(crate) lists: HashMap<Vec<String>, Arc<[Text]>>,
}

impl<'r, 'c> Correlation<'r, 'c> {
    /// Nothing joined or resolved yet.
    pub(crate) fn new(r: &'r Report, cx: &'c Context<'c>) -> Self {
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
            directory_record: vec![None; n],
            facets: HashMap::new(),
            acts_as: vec![None; n],
            disabled: BTreeSet::new(),
            identity_owner: vec![None; n],
            identity_reg: vec![None; n],
            agent_owner: vec![None; r.agents.len()],
            agent_reg: vec![None; r.agents.len()],
            gaps: vec![],
            texts: Interner::new(),
            lists: HashMap::new(),
        }
    }

    /// Joins, resolves owners, then raises the gaps, in that order.
    pub(crate) fn run(&mut self) {
        self.index_people();
        self.group_secrets();
        self.join_directory_records();
        self.join_agent_roles();
        self.join_activity();
        self.link_agents();
        self.match_registry();
        self.resolve_owners();
        self.secret_gaps();
        self.identity_gaps();
        self.agent_gaps();
        self.registry_gaps();
        if let Some(g) = self.gaps.last_mut() {
            compact(g);
        }
    }

    /// The gaps, and each identity's and agent's owner and registry entry; the joins are dropped.
    #[allow(clippy::type_complexity, reason = "four parallel lists, named where they are used")]
    pub(crate) fn into_results(
        self,
    ) -> (
        Vec<Gap>,
        Vec<Option<Arc<ResolvedOwner>>>,
        Vec<Option<usize>>,
        Vec<Option<Arc<ResolvedOwner>>>,
        Vec<Option<usize>>,
    ) {
        (
            self.gaps,
            self.identity_owner,
            self.identity_reg,
            self.agent_owner,
            self.agent_reg,
        )
    }

    /// The entity of identity `i`.
    pub(crate) fn ident_entity(&self, i: usize) -> EntityRef {
        let x = &self.r.identities[i];
        ent("identity", &x.id, &x.name)
    }

    /// The shared copy of a list of controls.
    pub(crate) fn shared_list(&mut self, items: Vec<String>) -> Arc<[Text]> {
        if let Some(l) = self.lists.get(&items) {
            return l.clone();
        }
        let l: Arc<[Text]> = items.iter().map(|s| self.texts.get(s)).collect();
        self.lists.insert(items, l.clone());
        l
    }

    /// Raises a gap; its id comes from its kind and subject.
    pub(crate) fn push(
        &mut self,
        kind: GapKind,
        subject: &str,
        severity: Severity,
        title: String,
        entities: impl Into<Arc<[EntityRef]>>,
    ) -> &mut Gap {
        // The previous gap is complete: the gaps raised next reuse what its strings and lists
        // held beyond their length.
        if let Some(g) = self.gaps.last_mut() {
            compact(g);
        }
        self.gaps
            .push(Gap::new(gap_id(kind, subject), kind, severity, title, entities));
        self.gaps.last_mut().expect("just pushed")
    }
}
