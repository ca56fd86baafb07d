//! `roster collect` with the entra-id connector against a fixture server in Microsoft Graph's
//! documented shapes: @odata.nextLink paging, a 429 with Retry-After, a 5xx.

use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::ROSTER;
use roster_testkit::http::ok;
use roster_testkit::{Env, identity};

const TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.fixture.token";
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
const APP_ID: &str = "11111111-2222-3333-4444-555555555555";

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
        .and(path("/v1.0/servicePrincipals/microsoft.graph.agentIdentity"))
        .and(auth())
        .respond_with(ok(json!({"value": []})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/beta/reports/servicePrincipalSignInActivities"))
        .and(auth())
        .respond_with(ok(json!({"value": [{"id": "x", "appId": APP_ID,
            "lastSignInActivity": {"lastSignInDateTime": "2026-11-01T00:00:00Z"}}]})))
        .mount(&server)
        .await;

    let (_env, code, report, stderr) = Env::new(ROSTER)
        .collect_json(
            format!(
                "[[source]]\nname = \"entra\"\nconnector = \"entra-id\"\nendpoint_url = \"{uri}\"\nhttp_retries = 1\n"
            ),
            vec![("ENTRA_ACCESS_TOKEN", TOKEN.to_string())],
        )
        .await;
    assert_eq!(code, 3, "an incomplete run exits 3: {stderr}");
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

/// A TLS front for a plain fixture server: a certificate for 127.0.0.1 issued by a throwaway test
/// CA (rcgen), since azure_identity refuses an authority host that is not https.
async fn tls_front(upstream: std::net::SocketAddr) -> (u16, String) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, Issuer, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "Roster test CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let issuer: &Issuer<'_, KeyPair> = &ca;
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, issuer)
        .unwrap();
    let config =
        rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
            )
            .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut up) = tokio::net::TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
            });
        }
    });
    (port, ca.pem())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_mints_graph_tokens_with_azure_identity_over_tls_and_the_plugin_never_sees_the_secret() {
    const SECRET: &str = "fixture-client-secret-value";
    const MINTED: &str = "minted.graph.access.token";
    // The token endpoint: azure_identity's real ClientSecretCredential posts the client
    // credentials grant to {authority}/{tenant}/oauth2/v2.0/token.
    let (sts, port, ca) = token_endpoint(MINTED).await;

    let graph = graph_fixture(MINTED).await;
    let uri = graph.uri();
    let config = |ca_file: &str| {
        format!(
            "[[source]]\nname = \"entra\"\nconnector = \"entra-id\"\nendpoint_url = \"{uri}\"\nhttp_retries = 1\n\
             auth = \"client-secret\"\ntenant_id = \"contoso.onmicrosoft.com\"\nclient_id = \"{APP_ID}\"\n\
             authority_host = \"https://127.0.0.1:{port}\"\n{ca_file}"
        )
    };
    let (env, code, report, stderr) = Env::new(ROSTER)
        .collect_json(
            config(&format!("ca_file = \"{}\"\n", ca.path().display())),
            vec![("AZURE_CLIENT_SECRET", SECRET.to_string())],
        )
        .await;
    assert_eq!(code, 0, "{stderr}");
    roster_testkit::assert_complete(&report);
    assert_eq!(identity(&report, "app-obj-2")["name"], "legacy-sync", "second page");

    // One token request for five Graph calls: the credential caches its token.
    let minted = sts.received_requests().await.unwrap();
    assert_eq!(minted.len(), 1, "the token is cached");
    let form = String::from_utf8_lossy(&minted[0].body).into_owned();
    for part in [
        "grant_type=client_credentials".to_string(),
        format!("client_id={APP_ID}"),
        format!("client_secret={SECRET}"),
        "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default".to_string(),
    ] {
        assert!(form.contains(&part), "{part} not in {form}");
    }
    let calls = graph.received_requests().await.unwrap();
    assert_eq!(
        calls.len(),
        6,
        "two pages of applications and four other lists, one token"
    );
    assert!(
        calls
            .iter()
            .all(|r| r.headers.get("authorization").unwrap() == &format!("Bearer {MINTED}")[..])
    );
    // The audit log says how each request was authenticated, and nothing holds the secret or
    // the token: not the report, not the state directory.
    let audit = std::fs::read_to_string(env.state().join("audit.jsonl")).unwrap();
    assert!(
        audit.contains(&format!(
            "Authorization: Bearer <Entra ID token, client secret of app {APP_ID}>"
        )),
        "{audit}"
    );
    let out = serde_json::to_string(&report).unwrap() + &stderr;
    for s in [SECRET, MINTED] {
        assert!(!out.contains(s));
        assert!(!roster_testkit::contains(
            &roster_testkit::all_bytes_under(&env.state()),
            s
        ));
    }

    // Without the test CA the token endpoint's certificate is not trusted: the source fails,
    // saying why, and nothing reaches Graph.
    let before = graph.received_requests().await.unwrap().len();
    let (_env, code, report, stderr) = Env::new(ROSTER)
        .collect_json(config(""), vec![("AZURE_CLIENT_SECRET", SECRET.to_string())])
        .await;
    assert_eq!(code, 3, "an incomplete run exits 3: {stderr}");
    let run = &report["connectors"][0];
    assert_ne!(run["status"], "complete", "{run:#}");
    let why = run.to_string();
    assert!(
        why.contains("could not authenticate") && why.contains("UnknownIssuer"),
        "{run:#}"
    );
    assert_eq!(graph.received_requests().await.unwrap().len(), before);
    assert!(!why.contains(SECRET), "the failure does not echo the secret");
}

/// Entra's token endpoint for tenant `contoso.onmicrosoft.com`, answering `minted`, behind TLS
/// with a test CA: the fixture server, the https port, and the CA's PEM file.
pub(crate) async fn token_endpoint(minted: &str) -> (MockServer, u16, tempfile::NamedTempFile) {
    let sts = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/contoso.onmicrosoft.com/oauth2/v2.0/token"))
        .respond_with(ok(
            json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
            "access_token": minted}),
        ))
        .mount(&sts)
        .await;
    let (port, ca_pem) = tls_front(*sts.address()).await;
    let ca = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca.path(), &ca_pem).unwrap();
    (sts, port, ca)
}

/// Graph, accepting only `token`: two pages of applications, nothing else.
async fn graph_fixture(token: &str) -> MockServer {
    let graph = MockServer::start().await;
    let uri = graph.uri();
    let auth = || header("authorization", format!("Bearer {token}").as_str());
    Mock::given(method("GET"))
        .and(path("/v1.0/applications"))
        .and(query_param("$top", "999"))
        .and(auth())
        .respond_with(ok(json!({"@odata.nextLink": format!("{uri}/v1.0/applications?$skiptoken=p2"),
            "value": [{"id": "app-obj-1", "appId": APP_ID, "displayName": "support-agent",
                "createdDateTime": "2023-06-01T00:00:00Z", "passwordCredentials": [], "keyCredentials": [], "owners": []}]})))
        .mount(&graph)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/applications"))
        .and(query_param("$skiptoken", "p2"))
        .and(auth())
        .respond_with(ok(
            json!({"value": [{"id": "app-obj-2", "appId": "99999999-0000-0000-0000-000000000000",
            "displayName": "legacy-sync", "passwordCredentials": [], "keyCredentials": [], "owners": []}]}),
        ))
        .mount(&graph)
        .await;
    for p in [
        "/v1.0/servicePrincipals",
        "/v1.0/oauth2PermissionGrants",
        "/beta/reports/servicePrincipalSignInActivities",
        "/v1.0/servicePrincipals/microsoft.graph.agentIdentity",
    ] {
        Mock::given(method("GET"))
            .and(path(p))
            .and(auth())
            .respond_with(ok(json!({"value": []})))
            .mount(&graph)
            .await;
    }
    graph
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_managed_identity_token_comes_from_the_local_identity_endpoint() {
    const MINTED: &str = "managed.identity.graph.token";
    // App Service's managed identity endpoint: plain http on the machine itself, a header the
    // platform sets, and the resource (not a scope) in the query.
    let msi = MockServer::start().await;
    let expires = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    Mock::given(method("GET"))
        .and(path("/msi/token"))
        .and(query_param("api-version", "2019-08-01"))
        .and(query_param("resource", "https://graph.microsoft.com"))
        .and(header("x-identity-header", "fixture-identity-header"))
        .respond_with(ok(json!({"access_token": MINTED, "expires_on": expires.to_string(),
            "token_type": "Bearer", "resource": "https://graph.microsoft.com"})))
        .mount(&msi)
        .await;
    let graph = graph_fixture(MINTED).await;
    let (_env, code, report, stderr) = Env::new(ROSTER).collect_json(
        format!(
            "[[source]]\nname = \"entra\"\nconnector = \"entra-id\"\nendpoint_url = \"{}\"\nauth = \"managed-identity\"\n",
            graph.uri()
        ),
        vec![
            ("IDENTITY_ENDPOINT", format!("{}/msi/token", msi.uri())),
            ("IDENTITY_HEADER", "fixture-identity-header".to_string()),
        ],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    roster_testkit::assert_complete(&report);
    assert_eq!(identity(&report, "app-obj-1")["name"], "support-agent");
    assert_eq!(msi.received_requests().await.unwrap().len(), 1, "the token is cached");
    assert_eq!(graph.received_requests().await.unwrap().len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_credential_signs_a_client_assertion_with_the_apps_key() {
    use rustls::pki_types::pem::PemObject as _;
    const MINTED: &str = "certificate.graph.access.token";
    let (sts, port, ca) = token_endpoint(MINTED).await;
    let graph = graph_fixture(MINTED).await;
    // The app's certificate and key, as one PEM (a self-signed certificate for the test key).
    let cert = roster_testkit::keys::test_cert_and_key_file();
    let (_env, code, report, stderr) = Env::new(ROSTER).collect_json(
        format!(
            "[[source]]\nname = \"entra\"\nconnector = \"entra-id\"\nendpoint_url = \"{}\"\nauth = \"certificate\"\n\
             tenant_id = \"contoso.onmicrosoft.com\"\nclient_id = \"{APP_ID}\"\nprivate_key_file = \"{}\"\n\
             authority_host = \"https://127.0.0.1:{port}\"\nca_file = \"{}\"\n",
            graph.uri(),
            cert.display(),
            ca.path().display()
        ),
        vec![],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    roster_testkit::assert_complete(&report);

    let minted = sts.received_requests().await.unwrap();
    assert_eq!(minted.len(), 1);
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&minted[0].body).into_owned().collect();
    assert_eq!(form["client_id"], APP_ID);
    assert_eq!(
        form["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    assert!(!form.contains_key("client_secret"));
    // Microsoft's format: PS256, the certificate's SHA-256 thumbprint, the token URL as audience.
    let (head, claims) = roster_testkit::keys::verify_jwt(&form["client_assertion"]);
    assert_eq!(head["alg"], "PS256");
    let der = rustls::pki_types::CertificateDer::from_pem_file(&cert).unwrap();
    let thumb = ring::digest::digest(&ring::digest::SHA256, der.as_ref());
    use base64::Engine as _;
    assert_eq!(
        head["x5t#S256"],
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(thumb.as_ref())
    );
    assert_eq!(
        claims["aud"],
        format!("https://127.0.0.1:{port}/contoso.onmicrosoft.com/oauth2/v2.0/token")
    );
    assert_eq!((&claims["iss"], &claims["sub"]), (&json!(APP_ID), &json!(APP_ID)));
    assert!(
        graph
            .received_requests()
            .await
            .unwrap()
            .iter()
            .all(|r| r.headers["authorization"] == format!("Bearer {MINTED}")[..])
    );
}

/// Workload identity federation (AKS): the Kubernetes service account token in the federated
/// token file is the client assertion; it is read afresh for each token, since the kubelet
/// rotates it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workload_identity_presents_the_federated_token_file_as_the_client_assertion() {
    const MINTED: &str = "workload.graph.access.token";
    const PROJECTED: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6Ims4cyJ9.eyJpc3MiOiJodHRwczovL29pZGMuZXhhbXBsZSIsInN1YiI6InN5c3RlbTpzZXJ2aWNlYWNjb3VudDpyb3N0ZXI6c2Nhbm5lciJ9.sig";
    let (sts, port, ca) = token_endpoint(MINTED).await;
    let graph = graph_fixture(MINTED).await;
    let token_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(token_file.path(), PROJECTED).unwrap();
    let (env, code, report, stderr) = Env::new(ROSTER).collect_json(
        format!(
            "[[source]]\nname = \"entra\"\nconnector = \"entra-id\"\nendpoint_url = \"{}\"\nauth = \"workload-identity\"\n\
             tenant_id = \"contoso.onmicrosoft.com\"\nclient_id = \"{APP_ID}\"\ntoken_file = \"{}\"\n\
             authority_host = \"https://127.0.0.1:{port}\"\nca_file = \"{}\"\n",
            graph.uri(),
            token_file.path().display(),
            ca.path().display()
        ),
        vec![],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    roster_testkit::assert_complete(&report);
    assert!(
        identity(&report, "app-obj-2")["name"] == "legacy-sync",
        "both pages read"
    );

    let minted = sts.received_requests().await.unwrap();
    assert_eq!(minted.len(), 1, "one token for the run");
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&minted[0].body).into_owned().collect();
    assert_eq!(form["client_id"], APP_ID);
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["scope"], "https://graph.microsoft.com/.default");
    assert_eq!(
        form["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    assert_eq!(form["client_assertion"], PROJECTED);
    assert!(
        graph
            .received_requests()
            .await
            .unwrap()
            .iter()
            .all(|r| r.headers["authorization"] == format!("Bearer {MINTED}")[..])
    );
    let state = roster_testkit::all_bytes_under(&env.state());
    assert!(!roster_testkit::contains(&state, PROJECTED));
    assert!(!roster_testkit::contains(&state, MINTED));
}

/// Graph answering the inventory endpoints with one application holding secret `pw-1`, and
/// `sign_ins` for the sign-in log.
async fn sign_in_fixture(sign_ins: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/applications"))
        .respond_with(ok(
            json!({"value": [{"id": "app-obj-1", "appId": APP_ID, "displayName": "support-agent",
            "createdDateTime": "2023-06-01T00:00:00Z", "owners": [], "keyCredentials": [],
            "passwordCredentials": [{"keyId": "pw-1", "hint": "Q~a", "startDateTime": "2023-06-01T00:00:00Z",
                "endDateTime": "2027-06-01T00:00:00Z"}]}]}),
        ))
        .mount(&server)
        .await;
    for p in [
        "/v1.0/servicePrincipals",
        "/v1.0/oauth2PermissionGrants",
        "/beta/reports/servicePrincipalSignInActivities",
        "/v1.0/servicePrincipals/microsoft.graph.agentIdentity",
    ] {
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ok(json!({"value": []})))
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/beta/auditLogs/signIns"))
        .respond_with(sign_ins)
        .mount(&server)
        .await;
    server
}

fn sign_in_config(uri: &str) -> String {
    format!(
        "[[source]]\nname = \"entra\"\nconnector = \"entra-id\"\nendpoint_url = \"{uri}\"\nhttp_retries = 2\nlog_since = \"2026-11-01T00:00:00Z\"\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_principal_sign_ins_are_read_event_by_event_with_the_key_used() {
    let sign_in = |id: &str, time: &str, ua: &str, code: i64| {
        json!({"id": id, "createdDateTime": time, "appId": APP_ID, "appDisplayName": "support-agent",
            "servicePrincipalId": "sp-1", "servicePrincipalName": "support-agent",
            "servicePrincipalCredentialKeyId": "pw-1", "servicePrincipalCredentialThumbprint": "",
            "clientCredentialType": "clientSecret", "signInEventTypes": ["servicePrincipal"],
            "resourceId": "rs-aoai", "resourceDisplayName": "Microsoft Cognitive Services", "ipAddress": "20.61.1.9",
            "userAgent": ua, "status": {"errorCode": code, "failureReason": if code == 0 { "" } else { "Invalid client secret provided." }}})
    };
    let page2 = "page-2-token";
    let server = sign_in_fixture(ok(json!({
        "@odata.context": "https://graph.microsoft.com/beta/$metadata#auditLogs/signIns",
        "value": [sign_in("si-1", "2026-11-20T08:00:00Z", "python-requests/2.32 langchain/0.3", 0)]})))
    .await;
    let uri = server.uri();
    // The first page links to the second, which fails once with a 503 before it answers.
    Mock::given(method("GET"))
        .and(path("/beta/auditLogs/signIns"))
        .and(query_param("$skiptoken", page2))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/beta/auditLogs/signIns"))
        .and(query_param("$skiptoken", page2))
        .respond_with(ok(
            json!({"value": [sign_in("si-2", "2026-11-19T08:00:00Z", "", 7000215)]}),
        ))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/beta/auditLogs/signIns"))
        .and(query_param_is_missing("$skiptoken"))
        .respond_with(ok(json!({
            "@odata.nextLink": format!("{uri}/beta/auditLogs/signIns?$skiptoken={page2}"),
            "value": [sign_in("si-1", "2026-11-20T08:00:00Z", "python-requests/2.32 langchain/0.3", 0)]})))
        .with_priority(3)
        .mount(&server)
        .await;

    let (_env, code, report, stderr) = Env::new(ROSTER)
        .collect_json(sign_in_config(&uri), vec![("ENTRA_ACCESS_TOKEN", TOKEN.to_string())])
        .await;
    assert_eq!(code, 0, "{stderr}");
    roster_testkit::assert_complete(&report);
    let acts = report["activities"].as_array().unwrap();
    let event = |id: &str| {
        acts.iter()
            .find(|a| a["id"] == id)
            .unwrap_or_else(|| panic!("{acts:#?}"))
    };
    let ok_event = event("si-1");
    assert_eq!(ok_event["identity_id"], APP_ID);
    assert_eq!(ok_event["credential_id"], "pw-1", "the secret used");
    assert_eq!(ok_event["action"], "sign-in:servicePrincipal");
    assert_eq!(ok_event["service"], "Microsoft Cognitive Services");
    assert_eq!(ok_event["source_ip"], "20.61.1.9");
    assert_eq!(ok_event["outcome"], "success");
    assert_eq!(ok_event["attrs"]["client_credential_type"], "clientSecret");
    assert_eq!(ok_event["attrs"]["ai_client"], "langchain");
    let failed = event("si-2");
    assert_eq!(failed["outcome"], "failure");
    assert_eq!(failed["attrs"]["failure_reason"], "Invalid client secret provided.");

    let got = server.received_requests().await.unwrap();
    let first = got.iter().find(|r| r.url.path() == "/beta/auditLogs/signIns").unwrap();
    let filter: String = first
        .url
        .query_pairs()
        .find(|(k, _)| k == "$filter")
        .unwrap()
        .1
        .into_owned();
    assert_eq!(
        filter,
        "(signInEventTypes/any(t: t eq 'servicePrincipal') or signInEventTypes/any(t: t eq 'managedIdentity')) and createdDateTime ge 2026-11-01T00:00:00Z"
    );
    assert_eq!(
        got.iter().filter(|r| r.url.path() == "/beta/auditLogs/signIns").count(),
        3,
        "page 1, then page 2 after a 503"
    );

    // A tenant without Entra ID P1: Graph refuses the sign-in log; the inventory still stands
    // and the source says what was missing.
    let server = sign_in_fixture(ResponseTemplate::new(403).set_body_json(json!({"error": {
        "code": "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
        "message": "Neither tenant is B2C or tenant doesn't have premium license"}})))
    .await;
    let (_env, code, report, stderr) = Env::new(ROSTER)
        .collect_json(
            sign_in_config(&server.uri()),
            vec![("ENTRA_ACCESS_TOKEN", TOKEN.to_string())],
        )
        .await;
    assert_eq!(code, 3, "an incomplete run exits 3: {stderr}");
    let run = &report["connectors"][0];
    assert_eq!(run["status"], "incomplete", "{run:#}");
    let note = run["notes"][0].as_str().unwrap();
    assert!(
        note.starts_with("service principal sign-ins (needs AuditLog.Read.All, Entra ID P1): 403")
            && note.contains("premium license"),
        "{note}"
    );
    assert_eq!(identity(&report, "app-obj-1")["credentials"][0]["id"], "pw-1");
}

/// Entra Agent ID: agent identities (a service principal subtype) are collected as agents, their
/// sponsors (the people accountable for them) as owners, over two pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_identities_are_agents_with_their_sponsors_as_owners() {
    let server = sign_in_fixture(ok(json!({"value": []}))).await;
    let uri = server.uri();
    let agent = |id: &str, name: &str, sponsor: Value| {
        json!({"@odata.type": "#microsoft.graph.agentIdentity", "id": id, "appId": format!("{id}-app"),
            "displayName": name, "accountEnabled": true, "createdDateTime": "2026-10-01T09:00:00Z",
            "servicePrincipalType": "ServiceIdentity", "agentIdentityBlueprintId": "bp-1",
            "createdByAppId": "copilot-studio-app", "tags": [], "sponsors": [sponsor]})
    };
    let route = "/v1.0/servicePrincipals/microsoft.graph.agentIdentity";
    Mock::given(method("GET"))
        .and(path(route))
        .and(query_param("$expand", "sponsors"))
        .and(query_param_is_missing("$skiptoken"))
        .respond_with(ok(json!({"@odata.nextLink": format!("{uri}{route}?$expand=sponsors&$skiptoken=a2"),
            "value": [agent("ag-1", "invoice-triage-agent", json!({"@odata.type": "#microsoft.graph.user", "id": "u-dana",
                "displayName": "Dana", "userPrincipalName": "dana@acme.com", "accountEnabled": true}))]})))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(route))
        .and(query_param("$skiptoken", "a2"))
        .respond_with(ok(json!({"value": [agent("ag-2", "hr-helper-agent",
            json!({"@odata.type": "#microsoft.graph.user", "id": "u-eve", "displayName": "Eve",
                "userPrincipalName": "eve@acme.com", "accountEnabled": false}))]})))
        .with_priority(1)
        .mount(&server)
        .await;
    let (_env, code, report, stderr) = Env::new(ROSTER)
        .collect_json(sign_in_config(&uri), vec![("ENTRA_ACCESS_TOKEN", TOKEN.to_string())])
        .await;
    assert_eq!(code, 0, "{stderr}");
    roster_testkit::assert_complete(&report);
    let triage = identity(&report, "ag-1");
    assert_eq!(triage["kind"], "agent");
    assert_eq!(triage["name"], "invoice-triage-agent");
    assert_eq!(triage["owner"]["name"], "dana@acme.com");
    assert_eq!(triage["owner"]["via"], "sponsor");
    assert_eq!(triage["attrs"]["agent_blueprint_id"], "bp-1");
    assert_eq!(triage["attrs"]["app_id"], "ag-1-app");
    let hr = identity(&report, "ag-2");
    assert_eq!(hr["owner"]["enabled"], false, "a disabled sponsor, on the second page");
}
