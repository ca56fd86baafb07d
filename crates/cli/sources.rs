//! One `[[source]]` made ready to run: its plugin found, its endpoint resolved from the
//! connector's profile, its credential set up, and its manifest (what the plugin may request,
//! and with which credential) built from the profile and the source's own `allow` entries.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use roster_credentials::AuthRequest;
use roster_plugin_host::profile::AuthSpec;
use roster_plugin_host::{AWS_READ_ACTIONS, AllowRule, Manifest, READ_METHODS};

use crate::config::{AllowConfig, SourceConfig};

/// A source ready to run.
pub struct Prepared {
    /// What its plugin may reach.
    pub manifest: Manifest,
    /// The endpoint handed to the plugin (`endpoint_url`), for a connector with a profile.
    pub endpoint: Option<String>,
    /// The profile's other endpoints, handed to the plugin as `endpoint_url.<name>`.
    pub other_endpoints: std::collections::BTreeMap<String, String>,
    /// Settings the host reads itself; they are not handed to the plugin.
    pub host_settings: BTreeSet<String>,
}

impl Prepared {
    /// The endpoint and the credential the host attaches to the source's requests (the
    /// repository fetch reuses them).
    pub fn host_auth(&self) -> (Option<String>, roster_plugin_host::Auth) {
        let auth = self
            .manifest
            .allow
            .first()
            .map_or(roster_plugin_host::Auth::None, |r| r.auth.clone());
        (self.endpoint.clone(), auth)
    }
}

/// A source's plugin code.
pub struct PluginCode {
    /// The WebAssembly component.
    pub wasm: Cow<'static, [u8]>,
    /// Where it came from: a file, or "built-in".
    pub origin: String,
    /// The user named the file (`plugin = "..."`): it must be pinned by its sha256.
    pub explicit: bool,
}

/// The plugin a source runs: its own `plugin = "..."` file; else the connector's component in
/// `ROSTER_CONNECTOR_DIR` (`connector_<name>.wasm`), when that folder is set and holds it; else
/// the component built into the binary.
pub fn plugin_code(src: &SourceConfig, base: &Path) -> Result<PluginCode> {
    let read = |path: PathBuf, explicit: bool| -> Result<PluginCode> {
        let wasm = std::fs::read(&path).with_context(|| format!("cannot read plugin {}", path.display()))?;
        Ok(PluginCode {
            wasm: Cow::Owned(wasm),
            origin: path.display().to_string(),
            explicit,
        })
    };
    if let Some(p) = &src.plugin {
        return read(base.join(p), true);
    }
    if let Some(dir) = std::env::var_os("ROSTER_CONNECTOR_DIR") {
        let path = Path::new(&dir).join(format!("connector_{}.wasm", src.connector.replace('-', "_")));
        if path.is_file() {
            return read(path, false);
        }
    }
    let wasm = crate::profiles::wasm(&src.connector).with_context(|| {
        format!(
            "source {}: {} is not a built-in connector (built in: {}); give its component with `plugin = \"path.wasm\"`",
            src.name(),
            src.connector,
            crate::profiles::names().join(", ")
        )
    })?;
    Ok(PluginCode {
        wasm: Cow::Borrowed(wasm),
        origin: "built-in".into(),
        explicit: false,
    })
}

/// A setting as the text a plugin receives.
pub fn setting_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Datetime(d) => d.to_string(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// Resolves a source: the connector's profile (endpoint, allowed requests, credential), then
/// its own `allow` entries. With `api = false` the plugin reads only its export files: it may
/// reach nothing and no credential is read.
pub async fn prepare(src: &SourceConfig, base_dir: &Path) -> Result<Prepared> {
    let name = src.name();
    let region = src.region.clone().unwrap_or_else(|| "us-east-1".into());
    let setting = |k: &str| src.settings.get(k).map(setting_text);
    let exports_only = src.settings.get("api").and_then(toml::Value::as_bool) == Some(false);
    let mut prepared = Prepared {
        manifest: Manifest {
            plugin: src.connector.clone(),
            allow: vec![],
        },
        endpoint: None,
        other_endpoints: Default::default(),
        host_settings: BTreeSet::new(),
    };
    if let Some(profile) = crate::profiles::builtin(&src.connector) {
        prepared.host_settings = profile.host_settings().into_iter().map(str::to_string).collect();
        let endpoint = profile.endpoint(src.endpoint_url.as_deref(), &setting, &region);
        prepared.other_endpoints = profile.other_endpoints(src.endpoint_url.as_deref(), &region);
        if exports_only {
            prepared.endpoint = endpoint.ok();
        } else {
            if let Some(k) = profile.required.iter().find(|k| setting(k).is_none()) {
                bail!("source {name}: the {} connector needs {k} = \"...\"", src.connector);
            }
            let endpoint = endpoint.map_err(|e| anyhow::anyhow!("source {name}: {e}"))?;
            let request = AuthRequest {
                source: name,
                setting: &setting,
                secret_env: src.secret_env.as_deref(),
                base_dir,
                endpoint: &endpoint,
                region: &region,
                aws_profile: src.profile.as_deref(),
            };
            let spec = roster_credentials::auth_spec(profile, &request)?;
            let auth = roster_credentials::resolve(spec, &src.connector, &request).await?;
            prepared.manifest.allow = profile
                .allow_rules(&endpoint, &prepared.other_endpoints, &setting, &auth)
                .with_context(|| format!("source {name}"))?;
            prepared.endpoint = Some(endpoint);
        }
    }
    if !exports_only {
        for a in &src.allow {
            let rule = allow_rule(src, a, &region, base_dir).await?;
            prepared.manifest.allow.push(rule);
        }
    }
    Ok(prepared)
}

/// A source's own `[[source.allow]]` entry: read-only unless it names methods (and for AWS,
/// only the read operations unless it names actions). Its credential is set up by the same
/// mechanisms as a profile's.
async fn allow_rule(src: &SourceConfig, a: &AllowConfig, region: &str, base_dir: &Path) -> Result<AllowRule> {
    let name = src.name();
    let (mechanism, scheme, header) = match a.auth.as_str() {
        "none" => ("none", None, None),
        "bearer" => ("bearer", Some("Bearer"), None),
        "ssws" => ("bearer", Some("SSWS"), None),
        "token" => ("bearer", Some("token"), None),
        "aws-sigv4" => ("aws-sigv4", None, None),
        h if h.starts_with("header:") => ("header", None, Some(&h["header:".len()..])),
        other => {
            bail!("source {name}: unknown auth {other:?} (none, bearer, ssws, token, header:<name>, aws-sigv4)")
        }
    };
    let spec = AuthSpec {
        name: a.auth.clone(),
        mechanism: mechanism.into(),
        scheme: scheme.map(str::to_string),
        header: header.map(str::to_string),
        service: a.service.clone(),
        secret_env: a.secret_env.clone(),
        credential: None,
        scope: None,
        settings: vec![],
    };
    let no_settings = |_: &str| None;
    let request = AuthRequest {
        source: name,
        setting: &no_settings,
        secret_env: None,
        base_dir,
        endpoint: &a.prefix,
        region,
        aws_profile: src.profile.as_deref(),
    };
    let auth = roster_credentials::resolve(&spec, &src.connector, &request).await?;
    let mut rule = AllowRule::new(&a.prefix, auth).with_context(|| format!("source {name}"))?;
    let actions = match (&a.actions, mechanism == "aws-sigv4") {
        (Some(list), _) => Some(list.clone()),
        (None, true) => Some(AWS_READ_ACTIONS.iter().map(|s| s.to_string()).collect()),
        (None, false) => None,
    };
    let methods: Vec<http::Method> = match &a.methods {
        Some(list) => list
            .iter()
            .map(|m| {
                http::Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                    .with_context(|| format!("source {name}: {m:?} is not an HTTP method"))
            })
            .collect::<Result<_>>()?,
        // The AWS Query and JSON APIs send every operation, reads too, as a POST.
        None if actions.is_some() => vec![http::Method::GET, http::Method::HEAD, http::Method::POST],
        None => READ_METHODS.to_vec(),
    };
    rule = rule.methods(methods);
    if let Some(actions) = actions {
        rule = rule.actions(actions);
    }
    Ok(rule)
}
