//! `roster collect` with the aws-cloudtrail connector: LookupEvents against a fixture server in
//! CloudTrail's awsJson1.1 shapes (two pages, a throttle the SDK retries), signed by the host;
//! an organization's accounts read through assumed roles (moto has no LookupEvents, so
//! Organizations, STS and CloudTrail are stand-ins in their documented shapes here; the fan-out
//! itself runs against moto in collect_aws_org.rs); and a gzipped trail log file as an export.

use std::io::Write;

use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, body_string_contains, header, header_regex, method, path};
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

/// STS's answer to AssumeRole (query protocol, XML) with a credential made for `account`.
fn assumed(account: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).insert_header("content-type", "text/xml").set_body_string(format!(
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>\
         <Credentials><AccessKeyId>ASIA{account}</AccessKeyId><SecretAccessKey>assumed-secret-{account}</SecretAccessKey>\
         <SessionToken>session-{account}</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>\
         <AssumedRoleUser><AssumedRoleId>AROA{account}:roster</AssumedRoleId>\
         <Arn>arn:aws:sts::{account}:assumed-role/RosterReadOnly/roster</Arn></AssumedRoleUser>\
         </AssumeRoleResult><ResponseMetadata><RequestId>r-{account}</RequestId></ResponseMetadata></AssumeRoleResponse>"
    ))
}

/// `accounts = "organization"` on a CloudTrail source: ListAccounts (two pages; a suspended
/// account left out), AssumeRole in each account (refused in one), and each account's
/// LookupEvents signed with that account's assumed credential, as its own run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudtrail_reads_each_account_of_an_organization_through_its_role() {
    let server = MockServer::start().await;
    let (dev, prod, denied, gone) = ("111111111111", "222222222222", "333333333333", "444444444444");
    let account = |id: &str, status: &str| {
        json!({"Id": id, "Arn": format!("arn:aws:organizations::123456789012:account/o-abc123/{id}"),
               "Email": format!("{id}@example.com"), "Name": id, "Status": status, "JoinedMethod": "CREATED",
               "JoinedTimestamp": 1735689600})
    };
    let organizations = || header("x-amz-target", "AWSOrganizationsV20161128.ListAccounts");
    Mock::given(method("POST"))
        .and(organizations())
        .and(body_partial_json(json!({"NextToken": "page-2"})))
        .respond_with(json11(
            json!({"Accounts": [account(denied, "ACTIVE"), account(gone, "SUSPENDED")]}),
        ))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(organizations())
        .respond_with(json11(
            json!({"Accounts": [account(dev, "ACTIVE"), account(prod, "ACTIVE")], "NextToken": "page-2"}),
        ))
        .with_priority(2)
        .mount(&server)
        .await;
    for id in [dev, prod] {
        Mock::given(method("POST"))
            .and(body_string_contains("Action=AssumeRole"))
            .and(body_string_contains(format!(
                "arn%3Aaws%3Aiam%3A%3A{id}%3Arole%2FRosterReadOnly"
            )))
            .respond_with(assumed(id))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(header("x-amz-target", "CloudTrail_20131101.LookupEvents"))
            .and(header_regex("authorization", &format!("Credential=ASIA{id}/")))
            .respond_with(json11(
                json!({"Events": [event(&format!("e-{id}"), "InvokeModel", 1763632800, inner("InvokeModel", None))]}),
            ))
            .mount(&server)
            .await;
    }
    Mock::given(method("POST"))
        .and(body_string_contains("Action=AssumeRole"))
        .and(body_string_contains(format!(
            "arn%3Aaws%3Aiam%3A%3A{denied}%3Arole%2FRosterReadOnly"
        )))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("content-type", "text/xml")
                .set_body_string(format!(
                    "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
             <Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/roster-scanner is not authorized \
             to perform: sts:AssumeRole on resource: arn:aws:iam::{denied}:role/RosterReadOnly</Message></Error>\
             <RequestId>r-denied</RequestId></ErrorResponse>"
                )),
        )
        .mount(&server)
        .await;
    let uri = server.uri();
    let (env, code, report, stderr) = Env::new(ROSTER)
        .collect_json(
            format!(
                "[[source]]\nname = \"trail\"\nconnector = \"aws-cloudtrail\"\nendpoint_url = \"{uri}\"\n\
                 region = \"us-east-1\"\nsince = \"2026-11-01T00:00:00Z\"\naccounts = \"organization\"\n\
                 role_name = \"RosterReadOnly\"\nhttp_retries = 0\n"
            ),
            aws_env(),
        )
        .await;
    assert_eq!(code, 3, "one account failed: {stderr}");
    let runs = report["connectors"].as_array().unwrap();
    let run = |id: &str| {
        runs.iter()
            .find(|r| r["source"] == format!("trail/{id}"))
            .unwrap_or_else(|| panic!("no run for {id}: {runs:#?}"))
    };
    assert_eq!(runs.len(), 3, "the suspended account is not read: {runs:#?}");
    for id in [dev, prod] {
        assert_eq!(run(id)["status"], "complete", "{stderr}");
        let events: Vec<&Value> = report["activities"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["source"] == format!("trail/{id}"))
            .collect();
        assert_eq!(events.len(), 1, "{id}: {events:#?}");
        assert_eq!(events[0]["id"], format!("e-{id}"));
    }
    let refused = run(denied);
    assert_ne!(refused["status"], "complete");
    let error = refused["error"].as_str().unwrap();
    assert!(
        error.starts_with(&format!("signing as arn:aws:iam::{denied}:role/RosterReadOnly: "))
            && error.contains("AccessDenied"),
        "{error}"
    );

    let got = server.received_requests().await.unwrap();
    let target = |r: &wiremock::Request, t: &str| r.headers.get("x-amz-target").is_some_and(|v| v == t);
    let listing: Vec<_> = got
        .iter()
        .filter(|r| target(r, "AWSOrganizationsV20161128.ListAccounts"))
        .collect();
    assert_eq!(listing.len(), 2, "two pages of accounts");
    for r in listing.iter().chain(
        got.iter()
            .filter(|r| String::from_utf8_lossy(&r.body).contains("Action=AssumeRole"))
            .collect::<Vec<_>>()
            .iter(),
    ) {
        let auth = r.headers.get("authorization").unwrap().to_str().unwrap();
        assert!(
            auth.contains(&format!("Credential={KEY_ID}/")),
            "the host's own key lists and assumes: {auth}"
        );
    }
    let lookups: Vec<_> = got
        .iter()
        .filter(|r| target(r, "CloudTrail_20131101.LookupEvents"))
        .collect();
    assert_eq!(lookups.len(), 2, "one per account whose role was assumed");
    for r in lookups {
        assert_eq!(
            r.headers
                .get("x-amz-security-token")
                .map(|v| v.to_str().unwrap().starts_with("session-")),
            Some(true)
        );
    }
    env.assert_state_holds_none(&["host-held-secret-for-signing", "assumed-secret-"]);
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
