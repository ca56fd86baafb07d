//! Discovered AI agent workloads and their evidence, credentials and MCP servers.

use serde::{Deserialize, Serialize};

use crate::ResolvedOwner;

/// What an agent rule's evidence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum AgentCategory {
    /// An agent framework or SDK used in code or declared as a dependency.
    Framework,
    /// An MCP server configuration.
    McpConfig,
    /// An A2A agent card.
    AgentCard,
    /// An AI agent action in a CI workflow.
    CiAction,
    /// An agent resource in infrastructure as code.
    Iac,
    /// The name of an environment variable holding a credential, read by a workload.
    CredentialRef,
    /// A public identifier of the identity a workload signs in as: an Entra application (client)
    /// id, an Okta client id. Not a secret; it joins the code to the app.
    IdentityRef,
}

impl AgentCategory {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentCategory::Framework => "framework",
            AgentCategory::McpConfig => "mcp-config",
            AgentCategory::AgentCard => "agent-card",
            AgentCategory::CiAction => "ci-action",
            AgentCategory::Iac => "iac",
            AgentCategory::CredentialRef => "credential-ref",
            AgentCategory::IdentityRef => "identity-ref",
        }
    }
}

/// One piece of evidence that an agent workload exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
pub struct AgentEvidence {
    /// What the evidence is.
    pub category: AgentCategory,
    /// The framework or surface ("LangChain", "MCP").
    pub framework: String,
    /// The rule that found it.
    pub rule_id: String,
    /// Path of the file.
    pub path: String,
    /// 1-based line.
    pub line: u32,
    /// The matched evidence (package, resource type, server name); never a secret.
    pub evidence: String,
    /// The commit it was seen in (history scans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// A credential an agent uses: a secret found near it, or an environment variable it reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
pub struct AgentCredential {
    /// `finding` (a secret found in the agent's code), `env-var` (a variable it reads) or
    /// `client-id` (the public id of an app it signs in as; `name` is the id).
    pub kind: String,
    /// The env var name, or the finding's rule id.
    pub name: String,
    /// Where it was seen.
    pub path: String,
    /// 1-based line.
    pub line: u32,
    /// The finding's keyed fingerprint (for `finding`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The finding's redacted form (for `finding`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redacted: Option<String>,
}

/// An MCP server declared in a client configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
pub struct McpServer {
    /// The server's name (its key under `mcpServers` / `servers`).
    pub name: String,
    /// The config file.
    pub path: String,
    /// `stdio` (a command) or `http` (a URL).
    pub transport: String,
    /// The command, or the URL without credentials.
    pub target: String,
    /// The package it runs (`npx -y @scope/pkg@1.2.3`), when one is named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Whether the package is pinned to an exact version.
    pub pinned: bool,
    /// Names of the environment variables and headers it is given.
    pub env: Vec<String>,
}

/// A discovered AI agent workload: a project directory (or repository) with agent evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    /// Stable id: `agent:` + the source and path.
    pub id: String,
    /// The project directory, relative to the scan root ("." for the root).
    pub path: String,
    /// The scan root or repository it was found in.
    pub source: String,
    /// Frameworks and surfaces seen (sorted, unique).
    pub frameworks: Vec<String>,
    /// Credentials it uses: findings in its files and env vars it reads.
    pub credentials: Vec<AgentCredential>,
    /// MCP servers it configures.
    pub mcp_servers: Vec<McpServer>,
    /// Every piece of evidence.
    pub evidence: Vec<AgentEvidence>,
    /// Who is accountable for it, as correlation resolved it (`roster discover`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accountable: Option<std::sync::Arc<ResolvedOwner>>,
    /// The registry entry that sanctions it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_as: Option<String>,
}
