//! roster.toml: the sources `collect` runs, what `discover` scans, thresholds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// roster.toml.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Connector sources.
    #[serde(default, rename = "source")]
    pub sources: Vec<SourceConfig>,
    /// What `roster discover` scans.
    #[serde(default)]
    pub scan: ScanConfig,
    /// The agent registry (agents.toml), relative to roster.toml.
    pub registry: Option<PathBuf>,
    /// The organization's name, shown on the reports (a consultant's report names the client).
    pub organization: Option<String>,
    /// The scope this configuration's runs are recorded in (default: one derived from the
    /// file's path; see `crate::state::config_scope`).
    pub scope: Option<String>,
    /// Measure time thresholds from this date (YYYY-MM-DD or RFC 3339) instead of now: for
    /// exports taken earlier.
    pub as_of: Option<String>,
    /// Thresholds for the time-based gaps.
    #[serde(default)]
    pub thresholds: roster_correlate::Thresholds,
    /// The state database, when it is PostgreSQL (`postgresql://...`; `ROSTER_DATABASE_URL`
    /// overrides it): default, `roster.db` in the state directory.
    pub database_url: Option<String>,
    /// Where `roster discover` sends what changed since the previous run (docs/notify.md).
    #[serde(default, rename = "notify")]
    pub notify: Vec<roster_notify::TargetConfig>,
}

/// `[scan]`: the code `roster discover` scans. Paths are relative to roster.toml.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanConfig {
    /// Directories and files (working trees).
    #[serde(default)]
    pub paths: Vec<PathBuf>,
    /// Git repositories whose whole history is scanned.
    #[serde(default)]
    pub repos: Vec<PathBuf>,
    /// Globs of paths to skip.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// More rule files (Roster TOML).
    #[serde(default)]
    pub rules: Vec<PathBuf>,
    /// Ask each provider whether the secrets found are live (`roster scan --validate`).
    #[serde(default)]
    pub validate: bool,
    /// Validation endpoints replaced: a rule's URL prefix and what replaces it (a GitHub
    /// Enterprise server, a gateway).
    #[serde(default)]
    pub validate_endpoints: BTreeMap<String, String>,
}

/// An extra URL prefix a source's plugin may reach, what it may send there, and how the host
/// authenticates it.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct AllowConfig {
    /// `https://host[:port]/path/` (plain http only for a loopback address).
    pub prefix: String,
    /// Methods allowed there (default GET and HEAD; with AWS actions, also POST).
    pub methods: Option<Vec<String>>,
    /// AWS operations allowed (exact names or `Prefix*`); an `aws-sigv4` prefix without them
    /// allows the read-only `List*`, `Get*`, `Describe*` and the like.
    pub actions: Option<Vec<String>>,
    /// `none`, `bearer`, `ssws`, `token`, `header:<name>` or `aws-sigv4`.
    #[serde(default = "none")]
    pub auth: String,
    /// Environment variable holding the secret for bearer/ssws/token/header.
    pub secret_env: Option<String>,
    /// Signing name for aws-sigv4 (`iam`, `cloudtrail`).
    pub service: Option<String>,
}

fn none() -> String {
    "none".into()
}

/// An export file handed to a source's plugin.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Path (relative to roster.toml).
    pub path: PathBuf,
    /// What it is: `credential-report`, ...
    pub format: String,
}

/// One `[[source]]` table.
#[derive(Debug, Deserialize, Clone)]
pub struct SourceConfig {
    /// Name in reports (default: the connector's).
    pub name: Option<String>,
    /// Connector: `aws-iam`, or any name with an explicit `plugin`.
    pub connector: String,
    /// Path of the plugin's .wasm (default: the bundled connector of that name).
    pub plugin: Option<PathBuf>,
    /// The plugin's sha256; required for a `plugin` path, checked whenever given.
    pub sha256: Option<String>,
    /// AWS region (signing region for AWS connectors).
    pub region: Option<String>,
    /// AWS profile from ~/.aws/config.
    pub profile: Option<String>,
    /// Endpoint override (a local emulator); an explicit loopback URL allows plain http.
    pub endpoint_url: Option<String>,
    /// Wall-time budget in seconds (default 600).
    pub timeout_secs: Option<u64>,
    /// Memory limit in MiB (default 256).
    pub memory_mib: Option<usize>,
    /// Environment variable holding the token of a connector
    /// (default `OPENAI_ADMIN_KEY`, `ANTHROPIC_ADMIN_KEY`, `GITHUB_TOKEN`, `OKTA_API_TOKEN`, `ENTRA_ACCESS_TOKEN`,
    /// `GOOGLE_ACCESS_TOKEN`).
    pub secret_env: Option<String>,
    /// Retries after a 429, a 5xx or a connection failure (default 4).
    pub http_retries: Option<u32>,
    /// Export files.
    #[serde(default)]
    pub files: Vec<FileConfig>,
    /// Extra allowed URL prefixes.
    #[serde(default)]
    pub allow: Vec<AllowConfig>,
    /// Every other setting, passed to the plugin as text.
    #[serde(flatten)]
    pub settings: BTreeMap<String, toml::Value>,
}

impl SourceConfig {
    /// The name in reports.
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.connector)
    }
}

/// Reads and checks roster.toml.
pub fn load_config(path: &Path) -> Result<Config> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config {}", path.display()))?;
    parse_config(&text, path)
}

/// Parses and checks the text of roster.toml; `path` names it in errors, and `[scan]` paths are
/// relative to its folder.
pub fn parse_config(text: &str, path: &Path) -> Result<Config> {
    let cfg: Config = toml::from_str(text).with_context(|| format!("config {} is not valid", path.display()))?;
    let problems = problems(&cfg, path.parent().unwrap_or(Path::new(".")));
    if !problems.is_empty() {
        bail!(
            "config {} has {} problem(s); nothing was run:\n  - {}",
            path.display(),
            problems.len(),
            problems.join("\n  - ")
        );
    }
    Ok(cfg)
}

/// Settings every source may have besides its connector's (handled by the host).
const COMMON_SETTINGS: [&str; 1] = ["api"];

/// Everything wrong with a configuration, checked before any work: unknown connectors,
/// settings a connector does not take, missing required settings, `[scan]` targets that do
/// not exist, duplicate source names, `[[notify]]` tables that are incomplete or wrong.
fn problems(cfg: &Config, base: &Path) -> Vec<String> {
    let mut out = vec![];
    if let Some(s) = &cfg.scope
        && let Err(e) = check_scope(s)
    {
        out.push(format!("scope = {s:?}: {e}"));
    }
    let mut seen = std::collections::HashSet::new();
    for s in &cfg.sources {
        let name = s.name();
        if !seen.insert(name.to_string()) {
            out.push(format!("two sources are named {name:?}; give each a distinct `name`"));
        }
        let Some(profile) = crate::profiles::builtin(&s.connector) else {
            if s.plugin.is_none() {
                out.push(format!(
                    "source {name:?}: unknown connector {:?} (built in: {}; a third-party one needs plugin = \"path.wasm\")",
                    s.connector,
                    crate::profiles::names().join(", ")
                ));
            }
            continue;
        };
        let host = profile.host_settings();
        let known = |k: &str| {
            profile.settings.iter().any(|x| x == k)
                || host.contains(k)
                || COMMON_SETTINGS.contains(&k)
                || profile.endpoint_setting.as_deref() == Some(k)
        };
        for k in s.settings.keys().filter(|k| !known(k)) {
            let hint = if k.starts_with("scan_") {
                " (only code-host sources that list repositories take scan_*)".to_string()
            } else {
                let mut takes: Vec<&str> = profile.settings.iter().map(String::as_str).collect();
                takes.extend(host.iter().copied());
                format!(" (it takes: {})", takes.join(", "))
            };
            out.push(format!(
                "source {name:?}: the {} connector has no setting {k:?}{hint}",
                s.connector
            ));
        }
        if let Err(e) = fan_out(s) {
            out.push(format!("{e:#}"));
        }
        let exports_only = s.settings.get("api").and_then(toml::Value::as_bool) == Some(false);
        if !exports_only {
            for k in profile.required.iter().filter(|k| !s.settings.contains_key(k.as_str())) {
                out.push(format!(
                    "source {name:?}: the {} connector needs {k} = \"...\"",
                    s.connector
                ));
            }
        }
        for f in &s.files {
            if !profile.exports.iter().any(|e| e == &f.format) {
                out.push(format!(
                    "source {name:?}: the {} connector reads no export format {:?} (it reads: {})",
                    s.connector,
                    f.format,
                    profile.exports.join(", ")
                ));
            }
        }
    }
    out.extend(roster_notify::problems(&cfg.notify));
    for (what, list) in [("paths", &cfg.scan.paths), ("repos", &cfg.scan.repos)] {
        for p in list {
            let full = base.join(p);
            if !full.exists() {
                out.push(format!("[scan] {what}: {} does not exist", full.display()));
            }
        }
    }
    out
}

/// Checks a scope name: 1 to 64 ASCII letters, digits, `.`, `_` or `-`, so that it can be
/// typed after `--scope` and shown in a table as it is.
pub fn check_scope(name: &str) -> Result<()> {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if name.is_empty() || name.len() > 64 || !name.chars().all(ok) {
        bail!("a scope name is 1 to 64 letters, digits, '.', '_' or '-'");
    }
    Ok(())
}

/// A source's AWS Organizations fan-out: which accounts, and the role assumed in each.
pub struct FanOut {
    /// `accounts`: the listed account ids, or `None` for `"organization"` (every ACTIVE
    /// account Organizations lists).
    pub accounts: Option<Vec<String>>,
    /// `role_name`: the role assumed in each account.
    pub role_name: String,
    /// `external_id`: the external id the role's trust policy asks for.
    pub external_id: Option<String>,
}

/// The fan-out a source sets (`accounts`, `role_name`, `external_id`), if any; a clear error
/// when the settings are wrong.
pub fn fan_out(src: &SourceConfig) -> Result<Option<FanOut>> {
    let is_account_id = |id: &str| id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit());
    let name = src.name();
    let text = |k: &str| src.settings.get(k).map(|v| v.as_str().map(str::to_string));
    let accounts = match src.settings.get("accounts") {
        None => {
            if src.settings.contains_key("role_name") {
                bail!(
                    "source {name}: role_name is set but accounts is not (accounts = \"organization\" or a list of ids)"
                );
            }
            return Ok(None);
        }
        Some(toml::Value::String(s)) if s == "organization" => None,
        Some(toml::Value::Array(items)) => {
            let ids: Vec<String> = items
                .iter()
                .map(|i| i.as_str().filter(|s| is_account_id(s)).map(str::to_string))
                .collect::<Option<_>>()
                .with_context(|| format!("source {name}: accounts must list twelve-digit account ids as strings"))?;
            if ids.is_empty() {
                bail!("source {name}: accounts lists no account");
            }
            Some(ids)
        }
        Some(other) => {
            let given = other
                .as_str()
                .map_or_else(|| other.type_str().to_string(), |s| format!("{s:?}"));
            bail!("source {name}: accounts = {given} must be \"organization\" or a list of account ids")
        }
    };
    let role_name = match text("role_name") {
        Some(Some(r)) if !r.is_empty() => r,
        _ => bail!("source {name}: accounts needs role_name = \"...\", the role to assume in each account"),
    };
    let external_id = match text("external_id") {
        None => None,
        Some(Some(x)) => Some(x),
        Some(None) => bail!("source {name}: external_id must be a string"),
    };
    Ok(Some(FanOut {
        accounts,
        role_name,
        external_id,
    }))
}
