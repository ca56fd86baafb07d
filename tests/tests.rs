//! End-to-end tests: the real `roster` binary on real files and real git repositories.
//! Secrets are generated at run time in each provider's format (and are valid for nothing).

mod collect_ai;
mod collect_aws;
mod collect_aws_org;
mod collect_azure;
mod collect_bedrock;
mod collect_cloudtrail;
mod collect_entra;
mod collect_gcp;
mod collect_github;
mod collect_gitlab;
mod collect_google;
mod collect_okta;
mod collect_plugin;
mod collect_slack;
mod discover;
mod escaping;
mod git_history;
mod hostile;
mod leaks;
mod notify;
mod ocsf;
mod scan_files;
mod serve;
mod shard;
mod shipping;
mod validate;

/// The binary under test, as cargo built it for these tests (run in a `roster_testkit::Env`).
const ROSTER: &str = env!("CARGO_BIN_EXE_roster");
