//! Classification: what makes an identity an AI agent's, a person's, or over-privileged, and
//! when it was last used. Each reason is a sentence that becomes a gap's evidence.

use crate::correlation::Correlation;
use crate::owners::provider_managed;
use roster_model::{Identity, parse_time};
use std::collections::BTreeSet;

/// Whether a service or action prefix names an AI service.
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

impl Correlation<'_, '_> {
    /// Why identity `i` is AI-capable, one sentence per reason, with the reasons of the other
    /// sources' records of the same principal; empty when it is not.
    pub(crate) fn ai_reasons(&self, i: usize) -> Vec<String> {
        let mut why = self.own_ai_reasons(i);
        for &j in self.facets.get(&i).into_iter().flatten() {
            why.extend(self.own_ai_reasons(j).into_iter().map(|w| self.facet_line(j, w)));
        }
        why
    }

    /// A reason found on `j`, another source's record of a principal, as its directory
    /// record's evidence.
    fn facet_line(&self, j: usize, why: String) -> String {
        let x = &self.r.identities[j];
        format!("{} (the same principal, object id {}): {why}", x.source, x.id)
    }

    /// Why identity `i` itself is AI-capable.
    fn own_ai_reasons(&self, i: usize) -> Vec<String> {
        let ident = &self.r.identities[i];
        let mut why = vec![];
        if let Some(p) = ident.attrs.get("ai_platform") {
            let on = ident
                .attrs
                .get("ai_resources")
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            why.push(format!("{} marks it an identity of {p}{on}", ident.source));
        }
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

    /// Why identity `i` acts as a person; empty when it does not.
    pub(crate) fn human_reasons(&self, i: usize) -> Vec<String> {
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

    /// The broad permissions identity `i` holds, as its connector marks them, with those of the
    /// other sources' records of the same principal.
    pub(crate) fn privilege_reasons(&self, i: usize) -> Vec<String> {
        let mut why = self.own_privilege_reasons(i);
        for &j in self.facets.get(&i).into_iter().flatten() {
            why.extend(self.own_privilege_reasons(j).into_iter().map(|w| self.facet_line(j, w)));
        }
        why
    }

    /// The broad permissions identity `i` itself holds.
    fn own_privilege_reasons(&self, i: usize) -> Vec<String> {
        let mut why = vec![];
        for p in &self.r.identities[i].permissions {
            // A role is named with where it is granted (a project, a subscription).
            let what = if p.kind == "iam-role" && !p.resources.is_empty() {
                format!("{} `{}` on {}", p.kind, p.name, p.resources.join(", "))
            } else {
                format!("{} `{}`", p.kind, p.name)
            };
            if p.attrs.get("admin").is_some_and(|v| v == "true") {
                why.push(format!("{what} grants full administrative access"));
            } else if p.attrs.get("directory_wide").is_some_and(|v| v == "true") {
                why.push(format!("{what} is directory-wide"));
            } else if let Some(w) = p.attrs.get("wildcard_actions") {
                why.push(format!("{what} allows wildcard actions {w}"));
            } else if let Some(b) = p.attrs.get("broad") {
                why.push(format!("{what} gives {b}"));
            }
        }
        why
    }

    /// The latest use of an identity and where that fact comes from.
    pub(crate) fn last_use(&self, i: usize) -> Option<(i64, String)> {
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

    /// Identities no gap is raised for: placeholders, AI projects, provider-managed ones.
    pub(crate) fn skip_identity(ident: &Identity) -> bool {
        ident.attrs.contains_key("placeholder") || ident.kind == "ai-project" || provider_managed(ident).is_some()
    }
}
