//! The bodies of Roster's fuzz targets. Each target in `fuzz/fuzz_targets/` is one line that
//! calls a function here, and the replay test (`tests`, below) runs every kept corpus file in
//! `fuzz/corpus/<target>/` through the same function on stable Rust, so CI re-checks what the
//! fuzzers found without libFuzzer. See docs/fuzzing.md.
//!
//! Every function takes arbitrary bytes and must return without panicking (a panic is a
//! finding); the assertions inside state what must hold of any input.

use std::path::Path;
use std::sync::{Arc, LazyLock};

use roster_connector_sdk::Emitter;
use roster_connector_sdk::types::{ConnectorError, ExportFile};
use roster_plugin_host::profile::Profile;
use roster_plugin_host::{AllowRule, Auth, Manifest};

// roster.toml's parser lives in the roster binary (crates/cli); it is compiled in here as it is.
#[allow(dead_code, reason = "only the parser is used; the rest serves the binary")]
#[path = "../../cli/config.rs"]
mod config;

/// What `crates/cli/config.rs` asks of the binary's `profiles` module: the built-in connector
/// profiles, read here from `connectors/*/profile.toml` (the binary embeds the same files).
mod profiles {
    use super::{PROFILES, Profile};

    pub fn builtin(name: &str) -> Option<&'static Profile> {
        PROFILES.iter().find(|p| p.connector == name)
    }

    pub fn names() -> Vec<&'static str> {
        PROFILES.iter().map(|p| p.connector.as_str()).collect()
    }
}

/// The repository's root.
fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

static PROFILES: LazyLock<Vec<Profile>> = LazyLock::new(|| {
    let mut out = vec![];
    for e in std::fs::read_dir(root().join("connectors"))
        .expect("connectors/ is readable")
        .flatten()
    {
        let path = e.path().join("profile.toml");
        if let Ok(text) = std::fs::read_to_string(&path) {
            out.push(Profile::parse(&path.display().to_string(), &text).expect("built-in profiles parse"));
        }
    }
    out.sort_by(|a, b| a.connector.cmp(&b.connector));
    out
});

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// The fuzz targets, by name (the file names in `fuzz/fuzz_targets/`).
pub const TARGETS: &[(&str, Target)] = &[
    ("rule_loading", rule_loading),
    ("matcher", matcher),
    ("roster_toml", roster_toml),
    ("agents_toml", agents_toml),
    ("codeowners", codeowners),
    ("mcp_config", mcp_config),
    ("profile_toml", profile_toml),
    ("baseline", baseline),
    ("canonical_url", canonical_url),
    ("aws_credential_report", aws_credential_report),
    ("connector_exports", connector_exports),
];

/// A user's rules file, in Roster's format and as a gitleaks config: loading returns rules or
/// errors, and a file that loads passes through the example checker.
pub fn rule_loading(data: &[u8]) {
    use roster_rules::{Flavor, RuleSetBuilder, check_rules};
    let Ok(text) = std::str::from_utf8(data) else { return };
    for flavor in [Flavor::Roster, Flavor::Gitleaks] {
        let mut b = RuleSetBuilder::new();
        b.add("fuzz.toml", text, flavor);
        if let Ok(set) = b.build() {
            let _ = check_rules(&set, |_| true);
        }
    }
}

/// File contents through every built-in rule and the per-file passes (Kubernetes Secret
/// decoding, MCP config parsing): every finding points inside the input.
pub fn matcher(data: &[u8]) {
    use roster_scan::{Fingerprinter, ScanOptions, Scanner};
    static SCANNER: LazyLock<Scanner> = LazyLock::new(|| {
        let rules = roster_rules::RuleSet::builtin().expect("built-in rules load");
        Scanner::new(Arc::new(rules), Fingerprinter::new([1; 32]), ScanOptions::default())
    });
    for path in ["fuzz.txt", "k8s/secret.yaml", ".cursor/mcp.json"] {
        let out = SCANNER.scan_bytes("fuzz", path, data);
        let lines = data.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
        for f in &out.findings {
            assert!(f.line >= 1 && f.line <= lines, "line {} outside 1..={lines}", f.line);
        }
    }
}

/// roster.toml: parsed and checked against the built-in connectors' profiles.
pub fn roster_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = config::parse_config(text, Path::new("fuzz/roster.toml"));
}

/// agents.toml (the agent registry): parsed, then matched against a path and keys.
pub fn agents_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(r) = roster_correlate::Registry::parse(text, "agents.toml") {
        let _ = r.match_code("support-bot/agent.py");
        let _ = r.match_key(["AKIAEXAMPLE", "arn:aws:iam::123456789012:user/bot"]);
    }
}

/// A CODEOWNERS file: bad lines become warnings naming the file and line.
pub fn codeowners(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (c, warnings) = roster_correlate::CodeOwners::parse(&text, "CODEOWNERS");
    for w in &warnings {
        assert!(w.starts_with("CODEOWNERS:"), "{w}");
    }
    for path in ["README.md", "support-bot/agent.py", "a/b/c/.env"] {
        let _ = c.owners(path);
    }
}

/// An MCP client config: every server found names the file.
pub fn mcp_config(data: &[u8]) {
    for s in roster_scan::mcp_servers(".cursor/mcp.json", data) {
        assert_eq!(s.path, ".cursor/mcp.json");
    }
}

/// A connector's profile.toml: parsed, then its endpoint and allow rules built from settings.
pub fn profile_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(p) = Profile::parse("profile.toml", text) else {
        return;
    };
    let _ = p.host_settings();
    let _ = p.auth_spec(None);
    let setting = |k: &str| (k != "missing").then(|| "acme".to_string());
    if let Ok(endpoint) = p.endpoint(None, &setting, "us-east-1") {
        let _ = p.allow_rules(&endpoint, &p.other_endpoints(None, "us-east-1"), &setting, &Auth::None);
    }
}

/// A baseline file (JSON).
pub fn baseline(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = roster_scan::Baseline::parse(text, ".roster-baseline.json");
}

/// URL canonicalisation: the first line is an allowed prefix, the rest a plugin's request URL.
/// A URL the host accepts keeps the path it was checked with, and checking it again gives the
/// same URL.
pub fn canonical_url(data: &[u8]) {
    use roster_plugin_host::canonical::{check_path, checked_url};
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (prefix, request) = text.split_once('\n').unwrap_or(("https://api.example.com/v1/", text));
    let _ = check_path(request);
    let rule = AllowRule::new(prefix, Auth::None);
    let Ok(uri) = request.parse::<http::Uri>() else { return };
    let Ok(url) = checked_url(&uri) else { return };
    assert_eq!(url.path(), uri.path(), "{request:?}");
    let again: http::Uri = url.as_str().parse().expect("an accepted URL reparses");
    let url2 = checked_url(&again).expect("an accepted URL is accepted again");
    assert_eq!(url, url2, "{request:?}");
    if let Ok(rule) = rule {
        let m = Manifest {
            plugin: "fuzz".into(),
            allow: vec![rule],
        };
        let _ = m.check(&http::Method::GET, &url);
    }
}

/// The AWS IAM credential report (CSV), as the aws-iam connector reads it from an export.
pub fn aws_credential_report(data: &[u8]) {
    let files = [ExportFile {
        name: "credential-report.csv".into(),
        format: "credential-report".into(),
        data: data.to_vec(),
    }];
    let _ = connector_aws_iam::read_exports(&mut Emitter::new(usize::MAX), &files);
}

/// Marks the start of each file in a [`connector_exports`] input.
pub const FILE_SEPARATOR: &[u8] = b"\0FILE\0";

/// One or more export files for one connector: the input is split at [`FILE_SEPARATOR`]; the
/// first byte picks the connector (its position among the built-in ones, by name); each file's
/// first byte picks its format among the connector's, the rest is its content.
pub fn connector_exports(data: &[u8]) {
    type ReadExports = fn(&mut Emitter, &[ExportFile]) -> Result<(), ConnectorError>;
    const READERS: [(&str, ReadExports); 13] = [
        ("anthropic-admin", connector_anthropic_admin::read_exports),
        ("aws-bedrock", connector_aws_bedrock::read_exports),
        ("aws-cloudtrail", connector_aws_cloudtrail::read_exports),
        ("aws-iam", |out, files| {
            connector_aws_iam::read_exports(out, files).map(drop)
        }),
        ("azure-rbac", connector_azure_rbac::read_exports),
        ("entra-id", connector_entra_id::read_exports),
        ("gcp-iam", connector_gcp_iam::read_exports),
        ("github", connector_github::read_exports),
        ("gitlab", connector_gitlab::read_exports),
        ("google-workspace", connector_google_workspace::read_exports),
        ("okta", connector_okta::read_exports),
        ("openai-admin", connector_openai_admin::read_exports),
        ("slack", connector_slack::read_exports),
    ];
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let (name, read) = READERS[usize::from(which) % READERS.len()];
    let formats = &profiles::builtin(name).expect("a built-in connector").exports;
    let files: Vec<ExportFile> = split(rest, FILE_SEPARATOR)
        .filter_map(|chunk| chunk.split_first())
        .enumerate()
        .map(|(i, (&f, content))| {
            let format = formats[usize::from(f) % formats.len()].clone();
            ExportFile {
                name: format!("export-{i}.json"),
                format,
                data: content.to_vec(),
            }
        })
        .collect();
    // The batch never fills, so nothing is sent to a host (there is none natively).
    let _ = read(&mut Emitter::new(usize::MAX), &files);
}

/// `data` cut at each `sep`.
fn split<'a>(data: &'a [u8], sep: &'a [u8]) -> impl Iterator<Item = &'a [u8]> {
    let mut rest = Some(data);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.windows(sep.len()).position(|w| w == sep) {
            Some(i) => {
                rest = Some(&r[i + sep.len()..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

#[cfg(test)]
mod regressions;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kept corpus file through its target, as the fuzzer ran it.
    #[test]
    fn every_corpus_file_replays_without_a_panic() {
        let corpus = root().join("fuzz/corpus");
        for (name, target) in TARGETS {
            let dir = corpus.join(name);
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .flatten()
                .map(|e| e.path())
                .collect();
            files.sort();
            assert!(!files.is_empty(), "{}: no corpus", dir.display());
            for f in files {
                let data = std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                let r = std::panic::catch_unwind(|| target(&data));
                assert!(r.is_ok(), "{name}: {} panics", f.display());
            }
        }
    }

    #[test]
    fn every_fuzz_target_file_is_listed() {
        let mut files: Vec<String> = std::fs::read_dir(root().join("fuzz/fuzz_targets"))
            .expect("fuzz/fuzz_targets is readable")
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.strip_suffix(".rs").map(str::to_string))
            .collect();
        files.sort();
        let mut listed: Vec<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
        listed.sort();
        assert_eq!(files, listed);
    }

    #[test]
    fn split_cuts_at_each_separator() {
        let parts: Vec<&[u8]> = split(b"a\0FILE\0bc\0FILE\0", FILE_SEPARATOR).collect();
        assert_eq!(parts, [&b"a"[..], b"bc", b""]);
    }
}
