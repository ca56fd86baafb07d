//! `roster collect` with the aws-cloudtrail connector: LookupEvents against a fixture server in
//! CloudTrail's awsJson1.1 shapes (two pages, a throttle the SDK retries), signed by the host;
//! and a gzipped trail log file as an export.

use std::io::Write;

use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::ROSTER;
use roster_testkit::Env;

const KEY_ID: &str = "AKIAHOSTSIGNINGTEST1";

fn event(id: &str, name: &str, time: i64, inner: Value) -> Value {
    json!({"EventId": id, "EventName": name, "ReadOnly": "false", "AccessKeyId": inner["userIdentity"]["accessKeyId"],
           "EventTime": time, "EventSource": inner["eventSource"], "Username": "support-bot", "Resources": [],
           "CloudTrailEvent": inner.to_string()})
}

fn inner(name: &str, error: Option<&str>) -> Value {
    json!({"eventVersion": "1.09", "eventTime": "2026-11-20T10:00:00Z", "eventSource": "bedrock.amazonaws.com",
           "eventName": name, "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.9",
           "userAgent": "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 lang/python#3.11 langchain-aws/0.1.6",
           "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::123456789012:user/support-bot",
                            "accountId": "123456789012", "accessKeyId": "AKIAOLDSUPPORTBOTKEY", "userName": "support-bot"},
           "requestParameters": {"modelId": "anthropic.claude-3-5-sonnet-20240620-v1:0"},
           "errorCode": error, "eventID": "inner-id", "readOnly": false, "eventType": "AwsApiCall"})
}

/// The host's AWS credentials, from the environment only.
fn aws_env() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", KEY_ID.to_string()),
        ("AWS_SECRET_ACCESS_KEY", "host-held-secret-for-signing".to_string()),
        ("AWS_CONFIG_FILE", "/nonexistent".to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent".to_string()),
    ]
}

fn json11(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "application/x-amz-json-1.1")
        .set_body_string(body.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudtrail_connector_reads_lookup_events_signed_by_the_host() {
    let server = MockServer::start().await;
    let target = || header("x-amz-target", "CloudTrail_20131101.LookupEvents");
    // The service throttles the first call; the SDK inside the plugin retries it.
    Mock::given(method("POST"))
        .and(path("/"))
        .and(target())
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("content-type", "application/x-amz-json-1.1")
                .set_body_string(json!({"__type": "ThrottlingException", "message": "Rate exceeded"}).to_string()),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    // Page 2 meets a server error once; the host retries it.
    Mock::given(method("POST"))
        .and(path("/"))
        .and(target())
        .and(body_partial_json(json!({"NextToken": "T1"})))
        .respond_with(
            ResponseTemplate::new(500)
                .insert_header("content-type", "application/x-amz-json-1.1")
                .set_body_string(json!({"__type": "InternalFailure", "message": "internal error"}).to_string()),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/"))
        .and(target())
        .and(body_partial_json(json!({"NextToken": "T1"})))
        .respond_with(json11(json!({"Events": [event("e2", "InvokeModel", 1763636400, inner("InvokeModel", Some("AccessDeniedException")))]})))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/"))
        .and(target())
        .and(body_partial_json(
            json!({"LookupAttributes": [{"AttributeKey": "EventSource", "AttributeValue": "bedrock.amazonaws.com"}]}),
        ))
        .respond_with(json11(
            json!({"Events": [event("e1", "InvokeModel", 1763632800, inner("InvokeModel", None))], "NextToken": "T1"}),
        ))
        .mount(&server)
        .await;
    let uri = server.uri();
    let (_env, code, report, stderr) = Env::new(ROSTER)
        .collect_json(
            format!(
                "[[source]]\nname = \"trail\"\nconnector = \"aws-cloudtrail\"\nendpoint_url = \"{uri}\"\n\
            since = \"2026-11-01T00:00:00Z\"\nevent_source = \"bedrock.amazonaws.com\"\n"
            ),
            aws_env(),
        )
        .await;
    assert_eq!(code, 0, "{stderr}");
    roster_testkit::assert_complete(&report);
    let events = report["activities"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{events:#?}");
    let first = &events[0];
    assert_eq!(first["id"], "e1");
    assert_eq!(first["time"], "2025-11-20T10:00:00Z");
    assert_eq!(first["credential_id"], "AKIAOLDSUPPORTBOTKEY");
    assert_eq!(first["identity_id"], "arn:aws:iam::123456789012:user/support-bot");
    assert_eq!(first["service"], "bedrock.amazonaws.com");
    assert_eq!(first["source_ip"], "198.51.100.9");
    assert_eq!(first["attrs"]["ai_client"], "langchain");
    assert_eq!(first["attrs"]["model_id"], "anthropic.claude-3-5-sonnet-20240620-v1:0");
    assert_eq!(events[1]["outcome"], "failure");

    let got = server.received_requests().await.unwrap();
    assert_eq!(
        got.len(),
        4,
        "a throttled call, its retry, page 2 failing once, and page 2"
    );
    for r in &got {
        let auth = r.headers.get("authorization").unwrap().to_str().unwrap();
        assert!(
            auth.starts_with(&format!("AWS4-HMAC-SHA256 Credential={KEY_ID}/")),
            "{auth}"
        );
        assert!(auth.contains("/us-east-1/cloudtrail/aws4_request"), "{auth}");
    }
}

/// A principal without `cloudtrail:LookupEvents`: the source fails and says what AWS said.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lookup_events_denial_fails_the_source_with_the_reason() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/"))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("content-type", "application/x-amz-json-1.1")
                .set_body_string(json!({"__type": "AccessDeniedException",
                    "Message": "User: arn:aws:iam::123456789012:user/roster-scanner is not authorized to perform: cloudtrail:LookupEvents"}).to_string()),
        )
        .mount(&server)
        .await;
    let (_env, code, report, _stderr) = Env::new(ROSTER).collect_json(
        format!(
            "[[source]]\nname = \"trail\"\nconnector = \"aws-cloudtrail\"\nendpoint_url = \"{}\"\nsince = \"2026-11-01T00:00:00Z\"\n",
            server.uri()
        ),
        aws_env(),
    )
    .await;
    let run = &report["connectors"][0];
    assert_ne!(run["status"], "complete", "{run:#}");
    assert_ne!(code, 0);
    let text = run.to_string();
    assert!(
        text.contains("AccessDeniedException") && text.contains("cloudtrail:LookupEvents"),
        "{run:#}"
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "a denial is not retried"
    );
}

#[test]
fn cloudtrail_connector_reads_gzipped_trail_files() {
    let env = Env::new(ROSTER);
    let records = json!({"Records": [inner("InvokeModel", None), inner("Converse", Some("ThrottlingException"))]});
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(records.to_string().as_bytes()).unwrap();
    env.write(
        "trail/123456789012_CloudTrail_us-east-1_20261120T1000Z_abc.json.gz",
        gz.finish().unwrap(),
    );
    env.write("trail/broken.json", "{\"Records\": [");
    env.write(
        "roster.toml",
        "[[source]]\nname = \"trail-files\"\nconnector = \"aws-cloudtrail\"\napi = false\n\
         files = [{ path = \"trail/123456789012_CloudTrail_us-east-1_20261120T1000Z_abc.json.gz\", format = \"cloudtrail-records\" }]\n\
         [[source]]\nname = \"broken\"\nconnector = \"aws-cloudtrail\"\napi = false\n\
         files = [{ path = \"trail/broken.json\", format = \"cloudtrail-records\" }]\n",
    );
    let out = env.roster(&["collect", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "one source failing is not fatal, and the run says it is incomplete (exit 3): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let runs = report["connectors"].as_array().unwrap();
    assert_eq!(runs[0]["status"], "complete");
    assert_eq!(runs[1]["status"], "failed");
    let err = runs[1]["error"].as_str().unwrap();
    assert!(
        err.starts_with("plugin aws-cloudtrail: configuration error: trail/broken.json: not CloudTrail JSON"),
        "{err}"
    );
    let events = report["activities"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e["source"] == "trail-files"));
    assert_eq!(events[1]["action"], "Converse");
    assert_eq!(events[1]["attrs"]["error_code"], "ThrottlingException");
    assert_eq!(report["incomplete"], true);
}
