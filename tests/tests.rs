//! End-to-end tests: the real `roster` binary on real files and real git repositories.
//! Secrets are generated at run time in each provider's format (and are valid for nothing).

mod collect_aws;
pub(crate) mod common;
mod git_history;
mod scan_files;
