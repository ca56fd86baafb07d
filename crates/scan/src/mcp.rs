//! MCP client configuration files: every declared server becomes part of an agent's surface
//! (command or URL, the package it runs and whether that is pinned, the env vars it is given).
//! Literal secrets in these files are found by the ordinary rules; this module never copies a
//! value, only names.

use roster_model::McpServer;
use serde_json::Value;

const NAMES: [&str; 8] = [
    "claude_desktop_config.json",
    "mcp.json",
    ".mcp.json",
    "cline_mcp_settings.json",
    "mcp_settings.json",
    "mcp_config.json",
    ".claude.json",
    "settings.json",
];

/// True when `path` may be an MCP client config worth parsing.
pub fn is_candidate(path: &str, data: &[u8]) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let json = name.ends_with(".json");
    json && (NAMES.contains(&name) || name.contains("mcp"))
        && (memchr::memmem::find(data, b"\"mcpServers\"").is_some()
            || memchr::memmem::find(data, b"\"servers\"").is_some())
}

/// The servers declared in an MCP config (empty when it does not parse).
pub fn servers(path: &str, data: &[u8]) -> Vec<McpServer> {
    let Ok(root) = serde_json::from_slice::<Value>(&strip_line_comments(data)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut tables: Vec<&serde_json::Map<String, Value>> = Vec::new();
    for key in ["mcpServers", "servers"] {
        if let Some(Value::Object(m)) = root.get(key) {
            tables.push(m);
        }
    }
    if let Some(Value::Object(m)) = root.get("mcp").and_then(|m| m.get("servers")) {
        tables.push(m);
    }
    // Claude Code keeps per-project servers in ~/.claude.json under projects.<dir>.mcpServers.
    if let Some(Value::Object(projects)) = root.get("projects") {
        for p in projects.values() {
            if let Some(Value::Object(m)) = p.get("mcpServers") {
                tables.push(m);
            }
        }
    }
    for table in tables {
        for (name, server) in table {
            let Value::Object(s) = server else { continue };
            let str_of = |k: &str| s.get(k).and_then(Value::as_str).map(str::to_owned);
            let args: Vec<String> = s
                .get("args")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default();
            let mut env: Vec<String> = Vec::new();
            for k in ["env", "headers"] {
                if let Some(Value::Object(m)) = s.get(k) {
                    env.extend(m.keys().cloned());
                }
            }
            env.sort();
            let (transport, target, package, pinned) = if let Some(url) = str_of("url").or_else(|| str_of("serverUrl"))
            {
                ("http".to_owned(), strip_url_secrets(&url), None, false)
            } else {
                let command = str_of("command").unwrap_or_default();
                let (package, pinned) = package_of(&command, &args);
                ("stdio".to_owned(), command, package, pinned)
            };
            out.push(McpServer {
                name: name.clone(),
                path: path.to_owned(),
                transport,
                target,
                package,
                pinned,
                env,
            });
        }
    }
    out
}

/// The package a launcher command runs, and whether it is pinned to one version.
fn package_of(command: &str, args: &[String]) -> (Option<String>, bool) {
    let launcher = command.rsplit(['/', '\\']).next().unwrap_or(command);
    let first_arg = args
        .iter()
        .find(|a| !a.starts_with('-') && *a != "dlx" && *a != "run" && *a != "x");
    match launcher {
        "npx" | "bunx" | "pnpm" | "yarn" | "bun" => {
            let Some(p) = first_arg else { return (None, false) };
            // @scope/name@1.2.3 or name@1.2.3: pinned when a version follows the last '@'.
            let version = p.strip_prefix('@').unwrap_or(p).split_once('@').map(|(_, v)| v);
            let pinned = version.is_some_and(|v| v.chars().next().is_some_and(|c| c.is_ascii_digit()));
            (Some(p.clone()), pinned)
        }
        "uvx" | "pipx" | "uv" => {
            let Some(p) = first_arg else { return (None, false) };
            (Some(p.clone()), p.contains("=="))
        }
        "docker" | "podman" => {
            let image = args
                .iter()
                .skip_while(|a| *a != "run")
                .skip(1)
                .find(|a| !a.starts_with('-') && !a.contains('='));
            let Some(img) = image else { return (None, false) };
            let pinned = img.contains("@sha256:");
            (Some(img.clone()), pinned)
        }
        _ => (None, false),
    }
}

/// An MCP server's URL without what may be a secret: userinfo, query and fragment, and path
/// segments that look like keys (`/api/mcp/s/<token>/mcp`, `/mcp/sk-…/sse`), shown as `…`.
fn strip_url_secrets(url: &str) -> String {
    let no_query = url.split(['?', '#']).next().unwrap_or(url);
    let redact_path = |path: &str| -> String {
        path.split('/')
            .map(|seg| if looks_secret(seg) { "…" } else { seg })
            .collect::<Vec<_>>()
            .join("/")
    };
    match no_query.split_once("://") {
        Some((scheme, rest)) => {
            let host_and_path = rest
                .split_once('@')
                .filter(|(u, _)| !u.contains('/'))
                .map_or(rest, |(_, h)| h);
            let (host, path) = host_and_path.split_once('/').unwrap_or((host_and_path, ""));
            if path.is_empty() && !host_and_path.ends_with('/') {
                format!("{scheme}://{host}")
            } else {
                format!("{scheme}://{host}/{}", redact_path(path))
            }
        }
        None => redact_path(no_query),
    }
}

/// A path segment that may be a credential: long and made of letters and digits mixed (a key,
/// a token, a UUID), or very long.
fn looks_secret(seg: &str) -> bool {
    let has_digit = seg.bytes().any(|b| b.is_ascii_digit());
    let has_alpha = seg.bytes().any(|b| b.is_ascii_alphabetic());
    (seg.len() >= 16 && has_digit && has_alpha) || seg.len() >= 40
}

/// VS Code's mcp.json is JSONC: drop `//` comments outside strings.
fn strip_line_comments(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut in_str = false;
    let mut escaped = false;
    let mut i = 0;
    while i < data.len() {
        let b = data[i];
        if in_str {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
            }
        } else if b == b'"' {
            in_str = true;
            out.push(b);
        } else if b == b'/' && data.get(i + 1) == Some(&b'/') {
            while i < data.len() && data[i] != b'\n' {
                i += 1;
            }
            continue;
        } else {
            out.push(b);
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_desktop_config() {
        let cfg = br#"{
  "mcpServers": {
    "github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github@2025.4.8"],
               "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "x"}},
    "fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]},
    "remote": {"type": "http", "url": "https://user:pw@mcp.example.net/sse?token=abc",
               "headers": {"Authorization": "Bearer x"}}
  }
}"#;
        assert!(is_candidate("claude_desktop_config.json", cfg));
        let s = servers("claude_desktop_config.json", cfg);
        assert_eq!(s.len(), 3);
        let gh = s.iter().find(|s| s.name == "github").unwrap();
        assert!(gh.pinned);
        assert_eq!(gh.env, ["GITHUB_PERSONAL_ACCESS_TOKEN"]);
        let fs = s.iter().find(|s| s.name == "fs").unwrap();
        assert!(!fs.pinned);
        let remote = s.iter().find(|s| s.name == "remote").unwrap();
        assert_eq!(remote.target, "https://mcp.example.net/sse");
        assert_eq!(remote.env, ["Authorization"]);
    }

    #[test]
    fn secret_path_segments_are_redacted() {
        for (url, shown) in [
            (
                "https://mcp.example.com/api/mcp/s/3f1c9a7e-52b4-4d8e-9c0a-7b1e2d3f4a5b/mcp",
                "https://mcp.example.com/api/mcp/s/…/mcp",
            ),
            (
                "https://actions.example.com/mcp/sk-ak-Zx81Qp0TfLr4Hw2m9Nc/sse",
                "https://actions.example.com/mcp/…/sse",
            ),
            ("https://mcp.example.net/v1/sse", "https://mcp.example.net/v1/sse"),
            ("https://mcp.example.net", "https://mcp.example.net"),
            (
                "https://mcp.example.net/modelcontextprotocol/servers",
                "https://mcp.example.net/modelcontextprotocol/servers",
            ),
        ] {
            assert_eq!(strip_url_secrets(url), shown, "{url}");
        }
    }

    #[test]
    fn vscode_jsonc() {
        let cfg = b"{\n // my servers\n \"servers\": {\"py\": {\"command\": \"uvx\", \"args\": [\"mcp-server-git==0.6.2\"]}}}";
        let s = servers(".vscode/mcp.json", cfg);
        assert_eq!(s.len(), 1);
        assert!(s[0].pinned);
    }
}
