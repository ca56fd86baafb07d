//! Recognizing AI clients by user agent and OAuth app name.

/// User-agent fragments of AI agent frameworks, AI SDKs and AI coding tools (compared without
/// case), each with the name reported. Written from the clients' own user-agent code and docs.
const AI_USER_AGENTS: [(&str, &str); 24] = [
    ("langchain", "langchain"),
    ("langgraph", "langgraph"),
    ("llama-index", "llamaindex"),
    ("llama_index", "llamaindex"),
    ("llamaindex", "llamaindex"),
    ("crewai", "crewai"),
    ("autogen", "autogen"),
    ("semantic-kernel", "semantic-kernel"),
    ("haystack", "haystack"),
    ("openai/python", "openai-sdk"),
    ("openai/js", "openai-sdk"),
    ("openai-python", "openai-sdk"),
    ("openai-agents", "openai-agents"),
    ("anthropic/python", "anthropic-sdk"),
    ("anthropic/js", "anthropic-sdk"),
    ("claude-code", "claude-code"),
    ("claude-cli", "claude-code"),
    ("github-copilot", "github-copilot"),
    ("copilot-", "github-copilot"),
    ("cursor/", "cursor"),
    ("modelcontextprotocol", "mcp"),
    ("mcp-client", "mcp"),
    ("bedrock-agent", "bedrock-agents"),
    ("amazon q", "amazon-q"),
];

/// The AI client a user agent names, if any (`langchain`, `openai-sdk`, `claude-code`, ...).
pub fn classify_user_agent(user_agent: &str) -> Option<&'static str> {
    let ua = user_agent.to_ascii_lowercase();
    AI_USER_AGENTS
        .iter()
        .find(|(frag, _)| ua.contains(frag))
        .map(|(_, name)| *name)
}

/// Names of AI products as they appear for the OAuth apps users grant access to (Google
/// Workspace token audit, consent logs), as runs of whole words, and the client they stand for.
/// Names that are also ordinary words ("otter", "read", "copilot", "cursor") count only with
/// the words that make them the AI product.
const AI_APP_NAMES: &[(&[&str], &str)] = &[
    (&["chatgpt"], "chatgpt"),
    (&["openai"], "openai"),
    (&["claude"], "claude"),
    (&["anthropic"], "claude"),
    (&["perplexity"], "perplexity"),
    (&["otter", "ai"], "otter-ai"),
    (&["fireflies", "ai"], "fireflies-ai"),
    (&["fireflies"], "fireflies-ai"),
    (&["read", "ai"], "read-ai"),
    (&["github", "copilot"], "github-copilot"),
    (&["microsoft", "copilot"], "microsoft-copilot"),
    (&["copilot", "studio"], "microsoft-copilot"),
    (&["cursor", "ai"], "cursor"),
    (&["anysphere"], "cursor"),
    (&["glean"], "glean"),
    (&["langchain"], "langchain"),
    (&["mcp"], "mcp"),
];

/// The AI client an OAuth app's name shows, if any (`ChatGPT` → `chatgpt`, `Claude.ai` →
/// `claude`, `Otter.ai` → `otter-ai`). Dots split words, so a product's domain counts as its name.
pub fn classify_app_name(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    let words: Vec<&str> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    AI_APP_NAMES
        .iter()
        .find(|(run, _)| words.windows(run.len()).any(|w| w == *run))
        .map(|(_, client)| *client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ai_user_agents_are_classified() {
        assert_eq!(
            classify_user_agent("python-httpx/0.27 langchain/0.2"),
            Some("langchain")
        );
        assert_eq!(classify_user_agent("OpenAI/Python 1.51.0"), Some("openai-sdk"));
        assert_eq!(
            classify_user_agent("claude-cli/1.0.3 (external, cli)"),
            Some("claude-code")
        );
        assert_eq!(classify_user_agent("Mozilla/5.0 (X11; Linux x86_64)"), None);
        assert_eq!(classify_user_agent("aws-cli/2.15 Python/3.11"), None);
    }

    #[test]
    fn ai_app_names_are_classified_as_whole_words() {
        assert_eq!(classify_app_name("ChatGPT"), Some("chatgpt"));
        assert_eq!(classify_app_name("ChatGPT.com"), Some("chatgpt"));
        assert_eq!(classify_app_name("Claude for Google Drive"), Some("claude"));
        assert_eq!(classify_app_name("Claude.ai"), Some("claude"));
        assert_eq!(classify_app_name("Perplexity.ai"), Some("perplexity"));
        assert_eq!(classify_app_name("Otter.ai"), Some("otter-ai"));
        assert_eq!(classify_app_name("Read AI"), Some("read-ai"));
        assert_eq!(classify_app_name("GitHub Copilot"), Some("github-copilot"));
        assert_eq!(classify_app_name("Zoom"), None);
        assert_eq!(classify_app_name("Otter Tail Power"), None);
        assert_eq!(classify_app_name("Copilot Money"), None);
        assert_eq!(classify_app_name("Custom Cursor"), None);
        assert_eq!(classify_app_name("Cursorless Editor"), None);
        assert_eq!(classify_app_name("Gleaner CRM"), None);
    }
}
