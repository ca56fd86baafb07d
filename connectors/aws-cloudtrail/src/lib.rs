//! Roster connector for AWS CloudTrail: management events as activity, per access key and
//! identity, with source IP and user agent (AI clients are classified by the host). Reads
//! `LookupEvents` (the last 90 days; filter with `event_source`, window with `since`), and trail
//! log files handed over as exports (`format = "cloudtrail-records"`, JSON or gzip).
//!
//! The AWS SDK runs inside the plugin unsigned; the host signs every request with SigV4.

use std::io::Read;

use aws_sdk_cloudtrail::config::{BehaviorVersion, Region};
use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_smithy_wasm::wasi::{WasiHttpClientBuilder, WasiSleep};
use roster_connector_sdk::types::*;
use roster_connector_sdk::{Emitter, Guest, OutputLimit, export, parse_time, progress, setting};
use serde_json::Value;

struct CloudTrail;

fn text(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// One CloudTrail record (the inner event: `eventTime`, `userIdentity`, ...) as an activity.
fn activity(id: Option<String>, time: Option<i64>, r: &Value) -> Option<Activity> {
    let time = time.or_else(|| text(r, "/eventTime").and_then(|t| parse_time(&t)))?;
    let mut attrs = vec![];
    for (k, p) in [
        ("region", "/awsRegion"),
        ("identity_type", "/userIdentity/type"),
        ("user_name", "/userIdentity/userName"),
        ("invoked_by", "/userIdentity/invokedBy"),
        ("session_issuer", "/userIdentity/sessionContext/sessionIssuer/arn"),
        ("error_code", "/errorCode"),
        ("model_id", "/requestParameters/modelId"),
    ] {
        if let Some(v) = text(r, p) {
            attrs.push((k.to_string(), v));
        }
    }
    Some(Activity {
        id: id.or_else(|| text(r, "/eventID")).unwrap_or_default(),
        time,
        credential_id: text(r, "/userIdentity/accessKeyId"),
        identity_id: text(r, "/userIdentity/arn"),
        action: text(r, "/eventName").unwrap_or_default(),
        service: text(r, "/eventSource"),
        source_ip: text(r, "/sourceIPAddress"),
        user_agent: text(r, "/userAgent"),
        outcome: Some(
            if r.pointer("/errorCode").is_some_and(|e| !e.is_null()) {
                "failure"
            } else {
                "success"
            }
            .into(),
        ),
        attrs,
    })
}

/// A trail log file: `{"Records": [...]}`, plain or gzip-compressed as CloudTrail writes it.
fn trail_file(f: &ExportFile, out: &mut Emitter) -> Result<usize, String> {
    let mut data = f.data.clone();
    if data.starts_with(&[0x1f, 0x8b]) {
        let mut plain = Vec::new();
        flate2::read::MultiGzDecoder::new(&f.data[..])
            .take(512 << 20)
            .read_to_end(&mut plain)
            .map_err(|e| format!("{}: not a valid gzip file ({e})", f.name))?;
        data = plain;
    }
    let v: Value = serde_json::from_slice(&data).map_err(|e| format!("{}: not CloudTrail JSON ({e})", f.name))?;
    let records = v
        .get("Records")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{}: no Records array", f.name))?;
    let mut n = 0;
    for r in records {
        if let Some(a) = activity(None, None, r) {
            out.activity(a).map_err(|e: OutputLimit| e.0)?;
            n += 1;
        }
    }
    Ok(n)
}

async fn lookup(
    client: &aws_sdk_cloudtrail::Client,
    since: i64,
    source: Option<&str>,
    out: &mut Emitter,
) -> Result<u64, String> {
    let mut token: Option<String> = None;
    let mut n = 0u64;
    loop {
        let mut req = client
            .lookup_events()
            .start_time(DateTime::from_millis(since))
            .max_results(50)
            .set_next_token(token.clone());
        if let Some(s) = source {
            let attr = LookupAttribute::builder()
                .attribute_key(LookupAttributeKey::EventSource)
                .attribute_value(s)
                .build()
                .map_err(|e| e.to_string())?;
            req = req.lookup_attributes(attr);
        }
        let page = req.send().await.map_err(|e| match &e {
            aws_sdk_cloudtrail::error::SdkError::ServiceError(s) => format!("LookupEvents: {:?}", s.err()),
            other => format!("LookupEvents: {}", roster_connector_sdk::error_chain(other)),
        })?;
        for e in page.events() {
            let inner: Value = e
                .cloud_trail_event()
                .and_then(|c| serde_json::from_str(c).ok())
                .unwrap_or(Value::Null);
            let time = e.event_time().and_then(|t| t.to_millis().ok());
            let Some(mut a) = activity(e.event_id().map(str::to_string), time, &inner) else {
                continue;
            };
            if a.credential_id.is_none() {
                a.credential_id = e.access_key_id().map(str::to_string);
            }
            if a.action.is_empty() {
                a.action = e.event_name().unwrap_or_default().to_string();
            }
            out.activity(a).map_err(|e| e.0)?;
            n += 1;
        }
        progress(n, None, "CloudTrail events");
        match page.next_token() {
            Some(t) if Some(t) != token.as_deref() => token = Some(t.to_string()),
            _ => return Ok(n),
        }
    }
}

/// Reads the export files (trail log files). Public so that the fuzz targets (crates/fuzzing)
/// can run it natively.
pub fn read_exports(out: &mut Emitter, files: &[ExportFile]) -> Result<(), ConnectorError> {
    for f in files {
        if f.format != "cloudtrail-records" {
            return Err(ConnectorError::Config(format!(
                "{}: unknown export format {:?} (aws-cloudtrail reads: cloudtrail-records)",
                f.name, f.format
            )));
        }
        trail_file(f, out).map_err(ConnectorError::Config)?;
    }
    Ok(())
}

impl Guest for CloudTrail {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            id: "aws-cloudtrail".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "AWS CloudTrail events as activity per access key".into(),
            record_schema: 1,
        }
    }

    fn collect(request: CollectRequest) -> Result<CollectSummary, ConnectorError> {
        let cfg = &request.config;
        let mut out = Emitter::default();
        read_exports(&mut out, &request.files)?;
        if setting(cfg, "api") != Some("false") {
            let since = match setting(cfg, "since") {
                Some(s) => {
                    parse_time(s).ok_or_else(|| ConnectorError::Config(format!("since = {s:?} is not a time")))?
                }
                None => {
                    return Err(ConnectorError::Config(
                        "set since = \"<RFC 3339 time>\" (LookupEvents keeps 90 days)".into(),
                    ));
                }
            };
            let region = setting(cfg, "region").unwrap_or("us-east-1").to_string();
            let endpoint = roster_connector_sdk::endpoint(cfg)?;
            let conf = aws_sdk_cloudtrail::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new(region))
                .endpoint_url(endpoint)
                .http_client(WasiHttpClientBuilder::new().build())
                .sleep_impl(WasiSleep)
                .allow_no_auth()
                .build();
            let client = aws_sdk_cloudtrail::Client::from_conf(conf);
            let res = wstd::runtime::block_on(lookup(&client, since, setting(cfg, "event_source"), &mut out));
            if let Err(e) = res {
                let _ = out.flush();
                return Err(ConnectorError::Upstream(e));
            }
        }
        out.flush().map_err(|e| ConnectorError::Internal(e.0))?;
        Ok(CollectSummary {
            complete: true,
            notes: vec![],
        })
    }
}

export!(CloudTrail);
