//! `roster demo`: the bundled sample organization, written out and scanned, with its reports.

use anyhow::{Context, Result};
use clap::Parser as _;
use roster_report::Format;
use std::ffi::OsStr;
use std::path::Path;
use std::process::ExitCode;

/// The sample organization's files, embedded so the demo needs nothing but the binary.
const SAMPLE: &[(&str, &str)] = &[
    ("README.md", include_str!("../../examples/sample-org/README.md")),
    (
        "support-bot/agent.py",
        include_str!("../../examples/sample-org/support-bot/agent.py"),
    ),
    (
        "support-bot/requirements.txt",
        include_str!("../../examples/sample-org/support-bot/requirements.txt"),
    ),
    (
        "support-bot/.env",
        include_str!("../../examples/sample-org/support-bot/.env"),
    ),
    (
        ".cursor/mcp.json",
        include_str!("../../examples/sample-org/.cursor/mcp.json"),
    ),
    (
        "deploy/k8s/secret.yaml",
        include_str!("../../examples/sample-org/deploy/k8s/secret.yaml"),
    ),
    (
        "scripts/deploy.sh",
        include_str!("../../examples/sample-org/scripts/deploy.sh"),
    ),
    (
        "notebooks/eval.ipynb",
        include_str!("../../examples/sample-org/notebooks/eval.ipynb"),
    ),
    (
        "billing-service/settings.py",
        include_str!("../../examples/sample-org/billing-service/settings.py"),
    ),
];

pub fn run(out: &Path) -> Result<ExitCode> {
    let sample = out.join("sample-org");
    for (rel, text) in SAMPLE {
        let p = sample.join(rel);
        std::fs::create_dir_all(p.parent().expect("sample paths have parents"))
            .with_context(|| format!("cannot create {}", sample.display()))?;
        std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?;
    }
    let state = out.join("state");
    // The demo is an ordinary scan: its arguments go through the same parser, with its defaults.
    let cli = crate::args::Cli::try_parse_from([
        OsStr::new("roster"),
        OsStr::new("scan"),
        sample.as_os_str(),
        OsStr::new("--fail-on"),
        OsStr::new("none"),
        OsStr::new("--no-progress"),
        OsStr::new("--state-dir"),
        state.as_os_str(),
    ])
    .context("demo arguments")?;
    let crate::args::Command::Scan(args) = cli.command else {
        anyhow::bail!("demo arguments did not parse as a scan");
    };
    let (mut report, rules) = crate::run_scan(&args)?;
    for f in &mut report.findings {
        f.raw = None;
    }
    let infos = crate::rule_infos(&rules);
    let mut text = roster_report::render(&report, Format::Text, &infos);
    text.push_str(&format!("\nSample organization: {}\n", sample.display()));
    for (format, name) in [
        (Format::Json, "report.json"),
        (Format::Sarif, "report.sarif"),
        (Format::Md, "report.md"),
    ] {
        let path = out.join(name);
        std::fs::write(&path, roster_report::render(&report, format, &infos))
            .with_context(|| format!("cannot write {}", path.display()))?;
        text.push_str(&format!("Report: {}\n", path.display()));
    }
    crate::write_output(None, &text)?;
    Ok(ExitCode::SUCCESS)
}
