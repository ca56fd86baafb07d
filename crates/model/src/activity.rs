//! Audit-log events collected by connectors.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Interner, Text};

/// One audit-log event. Its strings are [`Text`]: events repeat their source, action, service,
/// address and client many times, and [`Activity::share_strings`] holds each once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// The configured source it came from.
    pub source: Text,
    /// Event id in its source.
    pub id: Text,
    /// When (RFC 3339, UTC).
    pub time: Text,
    /// The credential used, when the log names it.
    pub credential_id: Option<Text>,
    /// The identity that acted.
    pub identity_id: Option<Text>,
    /// API call or event type.
    pub action: Text,
    /// Service or application called.
    pub service: Option<Text>,
    /// Source IP address.
    pub source_ip: Option<Text>,
    /// User agent.
    pub user_agent: Option<Text>,
    /// `success` or `failure`.
    pub outcome: Option<Text>,
    /// Further attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, String>,
}

impl Activity {
    /// Makes the strings events repeat (source, time, credential, identity, action, service,
    /// address, user agent, outcome) the interner's shared copies.
    pub fn share_strings(&mut self, i: &mut Interner) {
        for t in [&mut self.source, &mut self.time, &mut self.action] {
            i.share(t);
        }
        for t in [
            &mut self.credential_id,
            &mut self.identity_id,
            &mut self.service,
            &mut self.source_ip,
            &mut self.user_agent,
            &mut self.outcome,
        ] {
            i.share_opt(t);
        }
    }
}
