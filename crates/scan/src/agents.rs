//! Aggregating agent evidence into discovered agents: one per project directory (the nearest
//! directory with a project manifest, else the scan root), with the credentials it uses.

use crate::ScanOutput;
use crate::engine::{is_credential_ref, is_identity_ref};
use roster_model::{Agent, AgentCategory, AgentCredential, AgentEvidence};
use roster_rules::RuleSet;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Builds the agents found in each scan output.
pub fn build_agents(rules: &RuleSet, outputs: &[ScanOutput]) -> Vec<Agent> {
    let mut agents = Vec::new();
    for out in outputs {
        let dirs: HashSet<&str> = out.project_dirs.iter().map(String::as_str).collect();
        let project_of = |path: &str| -> String {
            let mut cur = path;
            while let Some((parent, _)) = cur.rsplit_once('/') {
                if dirs.contains(parent) {
                    return parent.to_owned();
                }
                cur = parent;
            }
            ".".to_owned()
        };
        #[derive(Default)]
        struct Acc {
            evidence: BTreeSet<AgentEvidence>,
            credentials: BTreeSet<AgentCredential>,
            servers: BTreeSet<roster_model::McpServer>,
        }
        let mut by_dir: BTreeMap<String, Acc> = BTreeMap::new();
        let mut refs: BTreeMap<String, BTreeSet<AgentCredential>> = BTreeMap::new();
        for hit in &out.agent_hits {
            let dir = project_of(&hit.path);
            let rule = rules.rule(hit.rule);
            if is_credential_ref(rules, hit) || is_identity_ref(rules, hit) {
                refs.entry(dir).or_default().insert(AgentCredential {
                    kind: if is_identity_ref(rules, hit) {
                        "client-id"
                    } else {
                        "env-var"
                    }
                    .into(),
                    name: hit.evidence.clone(),
                    path: hit.path.clone(),
                    line: hit.line,
                    fingerprint: None,
                    redacted: None,
                });
                continue;
            }
            by_dir.entry(dir).or_default().evidence.insert(AgentEvidence {
                category: rule.category.unwrap_or(AgentCategory::Framework),
                framework: rule.framework.clone().unwrap_or_else(|| rule.provider.clone()),
                rule_id: rule.id.clone(),
                path: hit.path.clone(),
                line: hit.line,
                evidence: hit.evidence.clone(),
                commit: hit.commit.clone(),
            });
        }
        for s in &out.mcp_servers {
            let acc = by_dir.entry(project_of(&s.path)).or_default();
            acc.servers.insert(s.clone());
            for e in &s.env {
                acc.credentials.insert(AgentCredential {
                    kind: "env-var".into(),
                    name: e.clone(),
                    path: s.path.clone(),
                    line: 0,
                    fingerprint: None,
                    redacted: None,
                });
            }
        }
        // Each finding's project, worked out once (not once per agent directory).
        let mut findings_in: HashMap<String, Vec<&roster_model::Finding>> = HashMap::new();
        if !by_dir.is_empty() {
            for f in &out.findings {
                findings_in.entry(project_of(&f.path)).or_default().push(f);
            }
        }
        for (dir, acc) in &mut by_dir {
            // The scan root without a project manifest of its own is a fallback, not a project:
            // there an agent uses only the secrets, variables and client ids in the folders that
            // hold its evidence.
            let evidence_dirs: HashSet<&str> = acc
                .evidence
                .iter()
                .map(|e| e.path.as_str())
                .chain(acc.servers.iter().map(|s| s.path.as_str()))
                .map(|p| p.rsplit_once('/').map_or("", |(d, _)| d))
                .collect();
            let fallback = dir == "." && !dirs.contains(".");
            let folder = |p: &str| p.rsplit_once('/').map_or("", |(d, _)| d).to_owned();
            if let Some(r) = refs.remove(dir) {
                acc.credentials.extend(
                    r.into_iter()
                        .filter(|c| !fallback || evidence_dirs.contains(folder(&c.path).as_str())),
                );
            }
            for f in findings_in
                .get(dir)
                .into_iter()
                .flatten()
                .filter(|f| !fallback || evidence_dirs.contains(folder(&f.path).as_str()))
            {
                acc.credentials.insert(AgentCredential {
                    kind: "finding".into(),
                    name: f.rule_id.to_string(),
                    path: f.path.to_string(),
                    line: f.line,
                    fingerprint: Some(f.fingerprint.to_string()),
                    redacted: Some(f.redacted.to_string()),
                });
            }
        }
        for (dir, acc) in by_dir {
            // Keep one evidence per (rule, path, evidence): history repeats it across commits.
            let mut seen = HashSet::new();
            let evidence: Vec<AgentEvidence> = acc
                .evidence
                .into_iter()
                .filter(|e| seen.insert((e.rule_id.clone(), e.path.clone(), e.evidence.clone())))
                .collect();
            let mut frameworks: BTreeSet<String> = evidence.iter().map(|e| e.framework.clone()).collect();
            if !acc.servers.is_empty() {
                frameworks.insert("MCP".into());
            }
            let mut seen = HashSet::new();
            let credentials: Vec<AgentCredential> = acc
                .credentials
                .into_iter()
                .filter(|c| seen.insert((c.kind.clone(), c.name.clone(), c.fingerprint.clone())))
                .collect();
            agents.push(Agent {
                id: format!("agent:{}:{}", out.source, dir),
                path: dir,
                source: out.source.clone(),
                frameworks: frameworks.into_iter().collect(),
                credentials,
                mcp_servers: acc.servers.into_iter().collect(),
                evidence,
                accountable: None,
                registered_as: None,
            });
        }
    }
    agents
}
