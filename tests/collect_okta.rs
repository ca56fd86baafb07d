//! `roster collect` with the okta connector against a fixture server in Okta's documented
//! Management API shapes: Link paging, a 429 with X-Rate-Limit-Reset, a 5xx.

use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{Env, identity};

const TOKEN: &str = "00fixtureOktaApiTokenForRosterTests01234";

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_connector_inventories_service_apps_tokens_and_token_events() {
    let server = MockServer::start().await;
    let uri = server.uri();
    let auth = || header("authorization", format!("SSWS {TOKEN}").as_str());
    Mock::given(method("GET"))
        .and(path("/api/v1/apps"))
        .and(query_param("limit", "200"))
        .and(query_param_is_missing("after"))
        .and(auth())
        .respond_with(
            ok(json!([{"id": "0oa1svc", "name": "oidc_client", "label": "support-agent-svc", "status": "ACTIVE",
                "created": "2024-01-01T00:00:00.000Z", "signOnMode": "OPENID_CONNECT",
                "credentials": {"oauthClient": {"client_id": "0oa1svc", "token_endpoint_auth_method": "client_secret_basic"}},
                "settings": {"oauthClient": {"application_type": "service", "grant_types": ["client_credentials"]}}}]))
            .insert_header("link", format!("<{uri}/api/v1/apps?limit=200>; rel=\"self\", <{uri}/api/v1/apps?after=0oa1svc&limit=200>; rel=\"next\"").as_str()),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/apps"))
        .and(query_param("after", "0oa1svc"))
        .respond_with(ResponseTemplate::new(500).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/apps"))
        .and(query_param("after", "0oa1svc"))
        .and(auth())
        .respond_with(ok(
            json!([{"id": "0oa2web", "name": "expense", "label": "Expense", "status": "ACTIVE",
            "created": "2022-05-01T00:00:00.000Z", "signOnMode": "SAML_2_0", "settings": {}}]),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/apps/0oa1svc/grants"))
        .and(auth())
        .respond_with(ok(json!([
            {"id": "oag1", "scopeId": "okta.users.manage", "issuer": "https://acme.okta.com", "status": "ACTIVE"},
            {"id": "oag2", "scopeId": "okta.logs.read", "issuer": "https://acme.okta.com", "status": "ACTIVE"}])))
        .mount(&server)
        .await;
    // Okta throttles with X-Rate-Limit-* and a Date to measure the reset against (no Retry-After).
    Mock::given(method("GET"))
        .and(path("/api/v1/api-tokens"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-rate-limit-limit", "100")
                .insert_header("x-rate-limit-remaining", "0")
                .insert_header("x-rate-limit-reset", "784111777")
                .insert_header("date", "Sun, 06 Nov 1994 08:49:37 GMT")
                .set_body_json(json!({"errorCode": "E0000047", "errorSummary": "API call exceeded rate limit due to too many requests."})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/api-tokens"))
        .and(auth())
        .respond_with(ok(
            json!([{"id": "00Tabc", "name": "terraform", "userId": "00udave", "clientName": "Okta API",
            "created": "2023-01-01T00:00:00.000Z", "lastUpdated": "2023-01-01T00:00:00.000Z",
            "expiresAt": "2026-12-01T00:00:00.000Z", "tokenWindow": "P30D", "network": {"connection": "ANYWHERE"}}]),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/users/00udave"))
        .and(auth())
        .respond_with(ok(
            json!({"id": "00udave", "status": "DEPROVISIONED", "profile": {"login": "dave@acme.com"}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/logs"))
        .and(query_param("since", "2026-11-01T00:00:00Z"))
        .and(auth())
        .respond_with(ok(json!([{"uuid": "evt-1", "published": "2026-11-20T10:00:00.000Z",
            "eventType": "app.oauth2.as.token.grant.access_token", "displayMessage": "OAuth2 access token is granted",
            "actor": {"id": "0oa1svc", "type": "PublicClientApp", "alternateId": "0oa1svc", "displayName": "support-agent-svc"},
            "client": {"ipAddress": "203.0.113.7", "userAgent": {"rawUserAgent": "python-httpx/0.27 langchain/0.2"}},
            "outcome": {"result": "SUCCESS"}, "target": [{"id": "aus1", "type": "AuthorizationServer"}]}])))
        .mount(&server)
        .await;

    let (_env, code, report, stderr) = Env::collect_json(format!(
            "[[source]]\nname = \"okta\"\nconnector = \"okta\"\norg_url = \"{uri}\"\nlog_since = \"2026-11-01T00:00:00Z\"\nhttp_retries = 2\n"), vec![("OKTA_API_TOKEN", TOKEN.to_string())]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        report["connectors"][0]["status"], "complete",
        "{:#}",
        report["connectors"]
    );

    let svc = identity(&report, "0oa1svc");
    assert_eq!(svc["kind"], "idp-app");
    assert_eq!(svc["attrs"]["service_app"], "true");
    assert_eq!(svc["credentials"][0]["kind"], "client-secret");
    let manage = svc["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "okta.users.manage")
        .unwrap();
    assert_eq!(manage["attrs"]["admin"], "true");
    assert!(
        identity(&report, "0oa2web")["attrs"].get("service_app").is_none(),
        "second page read after a 500"
    );

    let token = identity(&report, "00Tabc");
    assert_eq!(token["kind"], "api-token");
    assert_eq!(token["owner"]["name"], "dave@acme.com");
    assert_eq!(
        token["owner"]["enabled"], false,
        "a deprovisioned owner is not an accountable owner"
    );
    assert_eq!(token["credentials"][0]["expires"], "2026-12-01T00:00:00Z");
    assert_eq!(token["attrs"]["tokenWindow"], "P30D");

    let event = &report["activities"][0];
    assert_eq!(event["identity_id"], "0oa1svc");
    assert_eq!(event["user_agent"], "python-httpx/0.27 langchain/0.2");
    assert_eq!(event["source_ip"], "203.0.113.7");
    assert_eq!(event["outcome"], "success");
    assert_eq!(
        event["attrs"]["ai_client"], "langchain",
        "an AI framework's user agent is classified"
    );

    let got = server.received_requests().await.unwrap();
    assert!(
        got.iter()
            .all(|r| r.headers.get("authorization").unwrap() == &format!("SSWS {TOKEN}")[..])
    );
    assert_eq!(
        got.iter().filter(|r| r.url.path() == "/api/v1/api-tokens").count(),
        2,
        "429, then retried"
    );
    let logs = got.iter().find(|r| r.url.path() == "/api/v1/logs").unwrap();
    let filter = logs
        .url
        .query_pairs()
        .find(|(k, _)| k == "filter")
        .unwrap()
        .1
        .into_owned();
    assert_eq!(
        filter,
        "eventType sw \"app.oauth2\" or eventType sw \"system.api_token\""
    );
}
