//! `roster collect` with the entra-id connector against a fixture server in Microsoft Graph's
//! documented shapes: @odata.nextLink paging, a 429 with Retry-After, a 5xx.

use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{Env, identity};

const TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.fixture.token";
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
const APP_ID: &str = "11111111-2222-3333-4444-555555555555";

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_connector_inventories_apps_service_principals_and_permissions() {
    let server = MockServer::start().await;
    let uri = server.uri();
    let auth = || header("authorization", format!("Bearer {TOKEN}").as_str());
    Mock::given(method("GET"))
        .and(path("/v1.0/applications"))
        .and(query_param("$top", "999"))
        .and(auth())
        .respond_with(ok(json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#applications",
            "@odata.nextLink": format!("{uri}/v1.0/applications?$skiptoken=page2"),
            "value": [{"id": "app-obj-1", "appId": APP_ID, "displayName": "support-agent",
                "createdDateTime": "2023-06-01T00:00:00Z", "signInAudience": "AzureADMyOrg",
                "passwordCredentials": [{"keyId": "pw-1", "displayName": "ci secret", "hint": "Q~a",
                    "startDateTime": "2023-06-01T00:00:00Z", "endDateTime": "2025-06-01T00:00:00Z",
                    "customKeyIdentifier": null, "secretText": null}],
                "keyCredentials": [],
                "owners": [{"@odata.type": "#microsoft.graph.user", "id": "u-erin", "displayName": "Erin",
                    "userPrincipalName": "erin@acme.com", "accountEnabled": false}]}]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/applications"))
        .and(query_param("$skiptoken", "page2"))
        .and(auth())
        .respond_with(ok(json!({"value": [{"id": "app-obj-2", "appId": "99999999-0000-0000-0000-000000000000",
            "displayName": "legacy-sync", "createdDateTime": "2021-01-01T00:00:00Z", "signInAudience": "AzureADMyOrg",
            "passwordCredentials": [], "owners": [],
            "keyCredentials": [{"keyId": "cert-1", "displayName": "CN=legacy", "type": "AsymmetricX509Cert", "usage": "Verify",
                "startDateTime": "2021-01-01T00:00:00Z", "endDateTime": "2031-01-01T00:00:00Z", "key": null}]}]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/servicePrincipals"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "0")
                .set_body_json(json!({"error": {"code": "TooManyRequests", "message": "Too many requests"}})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/servicePrincipals"))
        .and(auth())
        .respond_with(ok(json!({"value": [
            {"id": "sp-1", "appId": APP_ID, "displayName": "support-agent", "servicePrincipalType": "Application",
             "accountEnabled": true, "appOwnerOrganizationId": "tenant-1", "tags": ["WindowsAzureActiveDirectoryIntegratedApp"],
             "passwordCredentials": [], "keyCredentials": [], "owners": []},
            {"id": "sp-mi", "appId": "mi-app-id", "displayName": "func-summarizer", "servicePrincipalType": "ManagedIdentity",
             "accountEnabled": true, "passwordCredentials": [], "keyCredentials": [], "owners": []}]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/servicePrincipals/sp-1/appRoleAssignments"))
        .and(auth())
        .respond_with(ok(
            json!({"value": [{"id": "ara-1", "appRoleId": "19dbc75e-c2e2-444c-a770-ec69d8559fc7",
            "principalId": "sp-1", "principalType": "ServicePrincipal", "resourceId": "graph-sp",
            "resourceDisplayName": "Microsoft Graph", "createdDateTime": "2024-01-01T00:00:00Z"}]}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/servicePrincipals/graph-sp"))
        .and(auth())
        .respond_with(ok(json!({"appId": GRAPH_APP_ID, "appRoles": [
            {"id": "19dbc75e-c2e2-444c-a770-ec69d8559fc7", "value": "Directory.ReadWrite.All"},
            {"id": "df021288-bdef-4463-88db-98f22de89214", "value": "User.Read.All"}]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/servicePrincipals/sp-mi/appRoleAssignments"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "0"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/oauth2PermissionGrants"))
        .and(auth())
        .respond_with(ok(
            json!({"value": [{"id": "g1", "clientId": "sp-1", "consentType": "AllPrincipals",
            "principalId": null, "resourceId": "graph-sp", "scope": "User.Read Mail.Send"}]}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/beta/reports/servicePrincipalSignInActivities"))
        .and(auth())
        .respond_with(ok(json!({"value": [{"id": "x", "appId": APP_ID,
            "lastSignInActivity": {"lastSignInDateTime": "2026-11-01T00:00:00Z"}}]})))
        .mount(&server)
        .await;

    let (_env, code, report, stderr) = Env::collect_json(
        format!("[[source]]\nname = \"entra\"\nconnector = \"entra-id\"\nendpoint_url = \"{uri}\"\nhttp_retries = 1\n"),
        vec![("ENTRA_ACCESS_TOKEN", TOKEN.to_string())],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    let run = &report["connectors"][0];
    assert_eq!(run["status"], "incomplete", "{run:#}");
    assert!(
        run["notes"][0]
            .as_str()
            .unwrap()
            .starts_with("app role assignments of sp-mi: 503"),
        "{run:#}"
    );

    let app = identity(&report, "app-obj-1");
    assert_eq!(app["owner"]["name"], "erin@acme.com");
    assert_eq!(app["owner"]["enabled"], false);
    let secret = &app["credentials"][0];
    assert_eq!(
        (secret["kind"].as_str(), secret["id"].as_str()),
        (Some("client-secret"), Some("pw-1"))
    );
    assert_eq!(secret["expires"], "2025-06-01T00:00:00Z");
    assert_eq!(secret["redacted"], "Q~a…");
    assert_eq!(
        identity(&report, "app-obj-2")["credentials"][0]["kind"],
        "certificate",
        "second page"
    );

    let sp = identity(&report, "sp-1");
    assert_eq!(sp["attrs"]["app_id"], APP_ID);
    let perms = sp["permissions"].as_array().unwrap();
    let role = perms.iter().find(|p| p["kind"] == "app-role").unwrap();
    assert_eq!(role["name"], "Directory.ReadWrite.All");
    assert_eq!(role["attrs"]["directory_wide"], "true");
    let grant = perms.iter().find(|p| p["kind"] == "delegated-grant").unwrap();
    assert_eq!(grant["attrs"]["admin"], "true", "Mail.Send consented for all users");
    assert_eq!(identity(&report, "sp-mi")["kind"], "managed-identity");

    let signin = &report["activities"][0];
    assert_eq!(
        (signin["identity_id"].as_str(), signin["time"].as_str()),
        (Some(APP_ID), Some("2026-11-01T00:00:00Z"))
    );

    let got = server.received_requests().await.unwrap();
    assert!(
        got.iter()
            .all(|r| r.headers.get("authorization").unwrap() == &format!("Bearer {TOKEN}")[..])
    );
    assert_eq!(
        got.iter().filter(|r| r.url.path() == "/v1.0/servicePrincipals").count(),
        2,
        "429, then retried"
    );
    assert_eq!(
        got.iter()
            .filter(|r| r.url.path() == "/v1.0/servicePrincipals/graph-sp")
            .count(),
        1,
        "app roles cached"
    );
}
