//! Roster connector for AWS IAM: users and their access keys (status, age, last use with service
//! and region), roles with their trust policies (AI-service principals flagged), attached and
//! inline policies (admin and wildcard grants flagged), owner and team tags, Bedrock API keys
//! (service-specific credentials), and the credential report as an export file.
//!
//! The AWS SDK runs inside the plugin unsigned (`allow_no_auth`); the host signs every request
//! with SigV4 using credentials the plugin never sees.

mod api;
mod exports;
mod records;

use api::Run;
use aws_sdk_iam::config::{BehaviorVersion, Region};
use aws_smithy_wasm::wasi::{WasiHttpClientBuilder, WasiSleep};
use roster_connector_sdk::types::*;
use roster_connector_sdk::{Emitter, Guest, OutputLimit, export, setting};

struct AwsIam;

/// An emitter's output limit, as the error that ends the run.
fn stop(e: OutputLimit) -> String {
    e.0
}

/// Reads the export files (the credential report and the AWS CLI's JSON), joins the access keys
/// they name, and returns a note per key the exports disagree on. Public so that the fuzz
/// targets (crates/fuzzing) can run it natively.
pub fn read_exports(out: &mut Emitter, files: &[ExportFile]) -> Result<Vec<String>, ConnectorError> {
    let mut arns = std::collections::HashMap::new();
    let mut keys = exports::KeyExports::default();
    for f in files {
        match f.format.as_str() {
            "credential-report" => {
                let text = String::from_utf8_lossy(&f.data);
                exports::credential_report(&f.name, &text, Some(&mut keys), out).map_err(ConnectorError::Config)?;
            }
            "gaad" | "users" | "access-keys" => {
                exports::cli_export(f, out, &mut arns, &mut keys).map_err(ConnectorError::Config)?;
            }
            other => {
                return Err(ConnectorError::Config(format!(
                    "{}: unknown export format {other:?} (aws-iam reads: credential-report, gaad, users, access-keys)",
                    f.name
                )));
            }
        }
    }
    keys.finish(&arns, out).map_err(ConnectorError::Internal)
}

impl Guest for AwsIam {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            id: "aws-iam".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "AWS IAM users, access keys, roles, policies and the credential report".into(),
            record_schema: 1,
        }
    }

    fn collect(request: CollectRequest) -> Result<CollectSummary, ConnectorError> {
        let cfg = &request.config;
        let mut out = Emitter::default();
        let mut notes = read_exports(&mut out, &request.files)?;
        if setting(cfg, "api") != Some("false") {
            let endpoint = roster_connector_sdk::endpoint(cfg)?;
            let region = setting(cfg, "region").unwrap_or("us-east-1").to_string();
            let conf = aws_sdk_iam::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new(region))
                .endpoint_url(endpoint)
                .http_client(WasiHttpClientBuilder::new().build())
                .sleep_impl(WasiSleep)
                .allow_no_auth()
                .build();
            let mut run = Run {
                client: aws_sdk_iam::Client::from_conf(conf),
                out,
                notes: vec![],
                key_last_used: setting(cfg, "key_last_used") != Some("false"),
                service_specific: setting(cfg, "service_specific_credentials") != Some("false"),
                credential_report: setting(cfg, "credential_report") != Some("false"),
                concurrency: setting(cfg, "concurrency")
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(8usize)
                    .clamp(1, 32),
            };
            let res = wstd::runtime::block_on(run.collect());
            out = run.out;
            notes.extend(run.notes);
            if let Err(e) = res {
                // Keep what was collected; say what failed.
                let _ = out.flush();
                return Err(ConnectorError::Upstream(e));
            }
        }
        out.flush().map_err(|e| ConnectorError::Internal(e.0))?;
        Ok(CollectSummary {
            complete: notes.is_empty(),
            notes,
        })
    }
}

export!(AwsIam);
