//! Records received through `sink.emit`: checked, bounded, converted to Roster's model. Nothing
//! accepted is lost if the plugin fails later.

use std::collections::{BTreeMap, HashMap};

use roster_model::{Activity, Credential, Identity, Interner, Owner, Permission, Repository, Text, format_millis};

use crate::bindings::roster::connector::types;
use crate::runtime::Counts;

/// Largest single string a plugin may send in a record.
const MAX_STRING: usize = 64 << 10;
/// Largest id.
const MAX_ID: usize = 2048;
/// Largest list inside one record.
const MAX_LIST: usize = 4096;
/// Timestamps must fall in 1970..3000.
const MAX_TIME: i64 = 32_503_680_000_000;

pub(crate) struct Collected {
    source: String,
    identities: Vec<Identity>,
    index: HashMap<String, usize>,
    credentials: Vec<(String, Credential)>,
    permissions: Vec<(String, Permission)>,
    activities: Vec<Activity>,
    /// The strings events repeat, held once.
    shared: Interner,
    repositories: Vec<Repository>,
    records: usize,
    bytes: usize,
    max_records: usize,
    max_bytes: usize,
    /// Set when the output limit was reached: the plugin was told to stop.
    pub limit_note: Option<String>,
    /// Set when the plugin broke the contract and was stopped.
    pub fatal: Option<String>,
}

fn check_str(what: &str, s: &str, max: usize) -> Result<(), String> {
    if s.len() > max {
        return Err(format!("{what} is {} bytes long (limit {max})", s.len()));
    }
    Ok(())
}

fn check_id(what: &str, s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        return Err(format!("{what} is empty"));
    }
    if s.chars().any(char::is_control) {
        return Err(format!(
            "{what} {:?} contains control characters",
            s.chars().take(80).collect::<String>()
        ));
    }
    check_str(what, s, MAX_ID)
}

fn check_time(what: &str, t: Option<i64>) -> Result<(), String> {
    match t {
        Some(t) if !(0..=MAX_TIME).contains(&t) => Err(format!("{what} {t} is not a time between 1970 and 3000")),
        _ => Ok(()),
    }
}

fn check_pairs(what: &str, pairs: &[(String, String)]) -> Result<usize, String> {
    if pairs.len() > MAX_LIST {
        return Err(format!("{what} has {} entries (limit {MAX_LIST})", pairs.len()));
    }
    let mut n = 0;
    for (k, v) in pairs {
        check_str(what, k, MAX_ID)?;
        check_str(what, v, MAX_STRING)?;
        n += k.len() + v.len();
    }
    Ok(n)
}

fn check_list(what: &str, items: &[String]) -> Result<usize, String> {
    if items.len() > MAX_LIST {
        return Err(format!("{what} has {} entries (limit {MAX_LIST})", items.len()));
    }
    let mut n = 0;
    for s in items {
        check_str(what, s, MAX_STRING)?;
        n += s.len();
    }
    Ok(n)
}

fn opt_len(s: &Option<String>) -> usize {
    s.as_ref().map_or(0, String::len)
}

/// Checks one batch and returns its approximate size in bytes.
fn validate(b: &types::Batch) -> Result<usize, String> {
    let mut bytes = 0;
    for (i, r) in b.identities.iter().enumerate() {
        let at = |f: &str| format!("identity #{i} {f}");
        check_id(&at("id"), &r.id)?;
        check_str(&at("name"), &r.name, MAX_STRING)?;
        check_time(&at("created"), r.created)?;
        check_time(&at("last-used"), r.last_used)?;
        if r.owners.len() > MAX_LIST {
            return Err(at("owners: too many"));
        }
        for o in &r.owners {
            check_str(&at("owner"), &o.id, MAX_ID)?;
            check_str(&at("owner"), &o.name, MAX_STRING)?;
            bytes += o.id.len() + o.name.len() + o.kind.len() + o.via.len();
        }
        bytes += r.id.len() + r.name.len() + 32;
        bytes += check_pairs(&at("tags"), &r.tags)? + check_pairs(&at("attrs"), &r.attrs)?;
        bytes += check_list(&at("trusted-by"), &r.trusted_by)?;
    }
    for (i, r) in b.credentials.iter().enumerate() {
        let at = |f: &str| format!("credential #{i} {f}");
        check_id(&at("id"), &r.id)?;
        check_id(&at("identity-id"), &r.identity_id)?;
        check_time(&at("created"), r.created)?;
        check_time(&at("expires"), r.expires)?;
        check_time(&at("last-used"), r.last_used)?;
        for s in [&r.name, &r.last_used_service, &r.redacted].into_iter().flatten() {
            check_str(&at("field"), s, MAX_STRING)?;
        }
        bytes += r.id.len() + r.identity_id.len() + opt_len(&r.name) + opt_len(&r.redacted) + 48;
        bytes += check_pairs(&at("attrs"), &r.attrs)?;
    }
    for (i, r) in b.permissions.iter().enumerate() {
        let at = |f: &str| format!("permission #{i} {f}");
        check_id(&at("identity-id"), &r.identity_id)?;
        check_id(&at("name"), &r.name)?;
        bytes += r.identity_id.len() + r.name.len() + r.kind.len();
        bytes += check_list(&at("actions"), &r.actions)? + check_list(&at("resources"), &r.resources)?;
        bytes += check_pairs(&at("attrs"), &r.attrs)?;
    }
    for (i, r) in b.activities.iter().enumerate() {
        let at = |f: &str| format!("activity #{i} {f}");
        check_id(&at("id"), &r.id)?;
        check_time(&at("time"), Some(r.time))?;
        check_str(&at("action"), &r.action, MAX_STRING)?;
        for s in [
            &r.credential_id,
            &r.identity_id,
            &r.service,
            &r.source_ip,
            &r.user_agent,
            &r.outcome,
        ]
        .into_iter()
        .flatten()
        {
            check_str(&at("field"), s, MAX_STRING)?;
            bytes += s.len();
        }
        bytes += r.id.len() + r.action.len() + 16;
        bytes += check_pairs(&at("attrs"), &r.attrs)?;
    }
    for (i, r) in b.repositories.iter().enumerate() {
        let at = |f: &str| format!("repository #{i} {f}");
        check_id(&at("full-name"), &r.full_name)?;
        check_id(&at("clone-url"), &r.clone_url)?;
        check_time(&at("pushed-at"), r.pushed_at)?;
        if let Some(b) = &r.default_branch {
            check_id(&at("default-branch"), b)?;
        }
        bytes += r.full_name.len() + r.clone_url.len() + opt_len(&r.default_branch) + 16;
        bytes += check_pairs(&at("attrs"), &r.attrs)?;
    }
    Ok(bytes)
}

fn map(pairs: Vec<(String, String)>) -> BTreeMap<String, String> {
    pairs.into_iter().collect()
}

fn time(t: Option<i64>) -> Option<String> {
    t.map(format_millis)
}

fn identity_kind(k: types::IdentityKind) -> &'static str {
    use types::IdentityKind as K;
    match k {
        K::CloudUser => "cloud-user",
        K::Role => "role",
        K::ServicePrincipal => "service-principal",
        K::ManagedIdentity => "managed-identity",
        K::IdpApp => "idp-app",
        K::ApiToken => "api-token",
        K::AppInstallation => "app-installation",
        K::PersonalAccessToken => "personal-access-token",
        K::DeployKey => "deploy-key",
        K::AiProject => "ai-project",
        K::AiServiceAccount => "ai-service-account",
        K::AiKey => "ai-key",
        K::Agent => "agent",
        K::HumanUser => "human-user",
        K::Other => "other",
    }
}

fn credential_kind(k: types::CredentialKind) -> &'static str {
    use types::CredentialKind as K;
    match k {
        K::AccessKey => "access-key",
        K::ClientSecret => "client-secret",
        K::Certificate => "certificate",
        K::ApiKey => "api-key",
        K::Token => "token",
        K::SshKey => "ssh-key",
        K::ServiceSpecific => "service-specific",
        K::Password => "password",
        K::Other => "other",
    }
}

fn status(s: types::CredentialStatus) -> roster_model::CredentialStatus {
    use roster_model::CredentialStatus as M;
    use types::CredentialStatus as S;
    match s {
        S::Active => M::Active,
        S::Inactive => M::Inactive,
        S::Expired => M::Expired,
        S::Revoked => M::Revoked,
        S::Unknown => M::Unknown,
    }
}

impl Collected {
    pub fn new(source: &str, max_records: usize, max_bytes: usize) -> Self {
        Self {
            source: source.to_string(),
            identities: Vec::new(),
            index: HashMap::new(),
            credentials: Vec::new(),
            permissions: Vec::new(),
            activities: Vec::new(),
            shared: Interner::new(),
            repositories: Vec::new(),
            records: 0,
            bytes: 0,
            max_records,
            max_bytes,
            limit_note: None,
            fatal: None,
        }
    }

    /// Takes one batch. `Ok(Err)` tells the plugin the output limit is reached; `Err` stops it.
    pub fn accept(&mut self, b: types::Batch) -> wasmtime::Result<Result<(), String>> {
        if self.limit_note.is_some() {
            let m = "kept emitting after the host said the output limit was reached".to_string();
            self.fatal = Some(m.clone());
            return Err(wasmtime::Error::msg(m));
        }
        let bytes = match validate(&b) {
            Ok(n) => n,
            Err(why) => {
                let m = format!("emitted a malformed record ({why})");
                self.fatal = Some(m.clone());
                return Err(wasmtime::Error::msg(m));
            }
        };
        let n =
            b.identities.len() + b.credentials.len() + b.permissions.len() + b.activities.len() + b.repositories.len();
        if self.records + n > self.max_records || self.bytes + bytes > self.max_bytes {
            let note = format!(
                "output limit reached after {} records and about {} KiB (limits: {} records, {} KiB); the rest was not collected",
                self.records,
                self.bytes >> 10,
                self.max_records,
                self.max_bytes >> 10
            );
            self.limit_note = Some(note.clone());
            return Ok(Err(note));
        }
        self.records += n;
        self.bytes += bytes;
        for r in b.identities {
            let owners: Vec<Owner> = r
                .owners
                .into_iter()
                .map(|o| Owner {
                    id: o.id.into(),
                    name: o.name.into(),
                    kind: o.kind.into(),
                    via: o.via.into(),
                    enabled: o.enabled,
                })
                .collect();
            let ident = Identity {
                source: self.source.as_str().into(),
                kind: identity_kind(r.kind).into(),
                id: r.id.as_str().into(),
                name: r.name.into(),
                owner: owners.first().cloned(),
                owners,
                created: time(r.created).map(Text::from),
                last_used: time(r.last_used).map(Text::from),
                enabled: r.enabled,
                tags: map(r.tags),
                trusted_by: r.trusted_by,
                credentials: Vec::new(),
                permissions: Vec::new(),
                accountable: None,
                registered_as: None,
                attrs: map(r.attrs),
            };
            match self.index.get(&r.id) {
                // The same identity from two records (an API page and an export, or two
                // exports): later facts fill in and extend, never erase.
                Some(&i) => merge_identity(&mut self.identities[i], ident),
                None => {
                    self.index.insert(r.id, self.identities.len());
                    self.identities.push(ident);
                }
            }
        }
        for c in b.credentials {
            let cred = Credential {
                id: c.id.into(),
                kind: credential_kind(c.kind).into(),
                status: status(c.status),
                name: c.name.map(Text::from),
                created: time(c.created).map(Text::from),
                expires: time(c.expires).map(Text::from),
                last_used: time(c.last_used).map(Text::from),
                last_used_service: c.last_used_service.map(Text::from),
                redacted: c.redacted.map(Text::from),
                attrs: map(c.attrs),
            };
            self.credentials.push((c.identity_id, cred));
        }
        for p in b.permissions {
            let perm = Permission {
                name: p.name.into(),
                kind: p.kind.into(),
                actions: p.actions,
                resources: p.resources,
                attrs: map(p.attrs),
            };
            self.permissions.push((p.identity_id, perm));
        }
        for r in b.repositories {
            self.repositories.push(Repository {
                source: self.source.clone(),
                full_name: r.full_name,
                clone_url: r.clone_url,
                default_branch: r.default_branch,
                archived: r.archived,
                fork: r.fork,
                private: r.private,
                pushed_at: time(r.pushed_at),
                scan: None,
                attrs: map(r.attrs),
            });
        }
        for a in b.activities {
            let mut attrs = map(a.attrs);
            let client = a
                .user_agent
                .as_deref()
                .and_then(roster_model::classify_user_agent)
                .or_else(|| attrs.get("app_name").and_then(|n| roster_model::classify_app_name(n)));
            if let Some(client) = client {
                attrs.insert("ai_client".into(), client.into());
            }
            let text = |s: Option<String>| s.map(Text::from);
            let mut activity = Activity {
                source: self.source.as_str().into(),
                id: a.id.into(),
                time: format_millis(a.time).into(),
                credential_id: text(a.credential_id),
                identity_id: text(a.identity_id),
                action: a.action.into(),
                service: text(a.service),
                source_ip: text(a.source_ip),
                user_agent: text(a.user_agent),
                outcome: text(a.outcome),
                attrs,
            };
            activity.share_strings(&mut self.shared);
            self.activities.push(activity);
        }
        Ok(Ok(()))
    }

    /// Attaches credentials and permissions to their identities. Ones naming an identity that
    /// was never emitted get a placeholder identity and a note.
    pub fn finish(mut self) -> Finished {
        let mut orphans = 0;
        let counts = Counts {
            identities: self.identities.len() as u64,
            credentials: self.credentials.len() as u64,
            activities: self.activities.len() as u64,
        };
        let mut slot = |this: &mut Self, id: String| -> usize {
            if let Some(&i) = this.index.get(&id) {
                return i;
            }
            orphans += 1;
            let i = this.identities.len();
            this.identities.push(Identity {
                source: this.source.as_str().into(),
                kind: "other".into(),
                id: id.as_str().into(),
                name: id.as_str().into(),
                owner: None,
                owners: vec![],
                created: None,
                last_used: None,
                enabled: None,
                tags: BTreeMap::new(),
                trusted_by: vec![],
                credentials: vec![],
                permissions: vec![],
                accountable: None,
                registered_as: None,
                attrs: BTreeMap::from([("placeholder".to_string(), "true".to_string())]),
            });
            this.index.insert(id, i);
            i
        };
        for (id, c) in std::mem::take(&mut self.credentials) {
            let i = slot(&mut self, id);
            self.identities[i].credentials.push(c);
        }
        for (id, p) in std::mem::take(&mut self.permissions) {
            let i = slot(&mut self, id);
            self.identities[i].permissions.push(p);
        }
        for ident in &mut self.identities {
            ident.share_strings(&mut self.shared);
        }
        let notes = if orphans > 0 {
            vec![format!(
                "{orphans} identity id(s) were referenced by credentials or permissions but never emitted"
            )]
        } else {
            vec![]
        };
        Finished {
            identities: self.identities,
            activities: self.activities,
            repositories: self.repositories,
            counts,
            notes,
        }
    }
}

/// What a run collected, credentials and permissions attached to their identities.
pub(crate) struct Finished {
    pub identities: Vec<Identity>,
    pub activities: Vec<Activity>,
    pub repositories: Vec<Repository>,
    pub counts: Counts,
    pub notes: Vec<String>,
}

fn merge_identity(into: &mut Identity, new: Identity) {
    let later = |a: &mut Option<Text>, b: Option<Text>| {
        if let Some(b) = b
            && a.as_ref().is_none_or(|x| *x < b)
        {
            *a = Some(b);
        }
    };
    if into.created.is_none() {
        into.created = new.created;
    }
    later(&mut into.last_used, new.last_used);
    if new.enabled.is_some() {
        into.enabled = new.enabled;
    }
    if into.name.is_empty() || into.name == into.id {
        into.name = new.name;
    }
    for o in new.owners {
        if !into.owners.contains(&o) {
            into.owners.push(o);
        }
    }
    into.owner = into.owners.first().cloned();
    into.tags.extend(new.tags);
    into.attrs.extend(new.attrs);
    for t in new.trusted_by {
        if !into.trusted_by.contains(&t) {
            into.trusted_by.push(t);
        }
    }
}
