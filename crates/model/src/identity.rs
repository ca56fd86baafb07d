//! Non-human identities collected by connectors: owners, credentials, permissions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Interner, ResolvedOwner, Text};

/// Someone accountable for an identity, and how the connector learned it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// Provider id of the owner, or the name when that is all there is.
    pub id: Text,
    /// Display name, e-mail or team name.
    pub name: Text,
    /// `user`, `group`, `team` or `unknown`.
    pub kind: Text,
    /// How it was learned: `idp-owner`, `tag`, `creator`, `sponsor`, ...
    pub via: Text,
    /// False when the provider says the owner is disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// A credential bound to an identity, as the provider reports it (never its value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// Provider id: AWS access key id, Entra keyId, token id.
    pub id: Text,
    /// `access-key`, `client-secret`, `certificate`, `api-key`, `token`, `ssh-key`, ...
    pub kind: Text,
    /// `active`, `inactive`, `expired`, `revoked` or `unknown`.
    pub status: CredentialStatus,
    /// Display name, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
    /// Creation time (RFC 3339, UTC).
    pub created: Option<Text>,
    /// Expiry time (RFC 3339, UTC); none for credentials that never expire.
    pub expires: Option<Text>,
    /// Last use (RFC 3339, UTC); none when never used or unknown.
    pub last_used: Option<Text>,
    /// The service it was last used with (AWS: `bedrock`, `iam`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_service: Option<Text>,
    /// The provider's redacted form of the value, if it shows one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redacted: Option<Text>,
    /// Further attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, String>,
}

/// A permission an identity holds: a policy, scope or app role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    /// Policy name, scope or role name.
    pub name: Text,
    /// `managed-policy`, `inline-policy`, `scope`, `app-role`, `delegated-grant`, ...
    pub kind: Text,
    /// Actions granted, where listed (`iam:*`, `bedrock:InvokeModel`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
    /// Resources they apply to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// Further attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, String>,
}

/// A non-human identity collected from a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The configured source it came from (`[[source]] name`).
    pub source: Text,
    /// `cloud-user`, `role`, `service-principal`, `idp-app`, `api-token`, `ai-key`, ...
    pub kind: Text,
    /// Stable id in its source (ARN, object id, key id).
    pub id: Text,
    /// Display name.
    pub name: Text,
    /// The first owner the provider names, if any.
    pub owner: Option<Owner>,
    /// Every owner the provider names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<Owner>,
    /// Creation time (RFC 3339, UTC).
    pub created: Option<Text>,
    /// Last use (RFC 3339, UTC).
    pub last_used: Option<Text>,
    /// Whether the provider says it is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Tags as set in the provider.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Principals allowed to act as this identity (a role's trust policy).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_by: Vec<String>,
    /// Credentials bound to it.
    pub credentials: Vec<Credential>,
    /// Permissions it holds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<Permission>,
    /// Who is accountable for it, as correlation resolved it (`roster discover`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accountable: Option<std::sync::Arc<ResolvedOwner>>,
    /// The registry entry that sanctions it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_as: Option<Text>,
    /// Further attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, String>,
}

/// A credential's state as the provider reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialStatus {
    /// Usable.
    Active,
    /// Disabled, can be enabled again.
    Inactive,
    /// Past its expiry.
    Expired,
    /// Revoked or deleted.
    Revoked,
    #[default]
    /// The provider does not say.
    Unknown,
}

impl CredentialStatus {
    /// The kebab-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialStatus::Active => "active",
            CredentialStatus::Inactive => "inactive",
            CredentialStatus::Expired => "expired",
            CredentialStatus::Revoked => "revoked",
            CredentialStatus::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for CredentialStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Identity {
    /// Makes the strings identities repeat (source, kinds, owners, dates, permission names) the
    /// interner's shared copies.
    pub fn share_strings(&mut self, i: &mut Interner) {
        for t in [&mut self.source, &mut self.kind, &mut self.id, &mut self.name] {
            i.share(t);
        }
        for t in [&mut self.created, &mut self.last_used, &mut self.registered_as] {
            i.share_opt(t);
        }
        for o in self.owner.iter_mut().chain(self.owners.iter_mut()) {
            for t in [&mut o.id, &mut o.name, &mut o.kind, &mut o.via] {
                i.share(t);
            }
        }
        for c in &mut self.credentials {
            for t in [&mut c.id, &mut c.kind] {
                i.share(t);
            }
            for t in [
                &mut c.name,
                &mut c.created,
                &mut c.expires,
                &mut c.last_used,
                &mut c.last_used_service,
                &mut c.redacted,
            ] {
                i.share_opt(t);
            }
        }
        for p in &mut self.permissions {
            for t in [&mut p.name, &mut p.kind] {
                i.share(t);
            }
        }
    }
}
