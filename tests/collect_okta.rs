//! `roster collect` with the okta connector against a fixture server in Okta's documented
//! Management API shapes: Link paging, a 429 with X-Rate-Limit-Reset, a 5xx.

use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::ROSTER;
use roster_testkit::http::ok;
use roster_testkit::{Env, identity};

const TOKEN: &str = "00fixtureOktaApiTokenForRosterTests01234";

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

    let (_env, code, report, stderr) = Env::new(ROSTER).collect_json(format!(
            "[[source]]\nname = \"okta\"\nconnector = \"okta\"\norg_url = \"{uri}\"\nlog_since = \"2026-11-01T00:00:00Z\"\nhttp_retries = 2\n"), vec![("OKTA_API_TOKEN", TOKEN.to_string())]).await;
    assert_eq!(code, 0, "{stderr}");
    roster_testkit::assert_complete(&report);

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_okta_service_app_token_is_minted_by_the_host_with_private_key_jwt() {
    const MINTED: &str = "eyJraWQiOiJmaXh0dXJlIn0.okta.minted-access-token";
    let server = MockServer::start().await;
    let uri = server.uri();
    Mock::given(method("POST"))
        .and(path("/oauth2/v1/token"))
        .respond_with(ok(
            json!({"token_type": "Bearer", "expires_in": 3600, "access_token": MINTED,
            "scope": "okta.apps.read okta.apiTokens.read okta.users.read okta.logs.read"}),
        ))
        .mount(&server)
        .await;
    let auth = || header("authorization", format!("Bearer {MINTED}").as_str());
    Mock::given(method("GET"))
        .and(path("/api/v1/apps"))
        .and(auth())
        .respond_with(ok(
            json!([{"id": "0oa1svc", "name": "oidc_client", "label": "support-agent-svc",
            "status": "ACTIVE", "created": "2024-01-01T00:00:00.000Z", "signOnMode": "OPENID_CONNECT",
            "credentials": {"oauthClient": {"client_id": "0oa1svc", "token_endpoint_auth_method": "private_key_jwt"}},
            "settings": {"oauthClient": {"application_type": "service", "grant_types": ["client_credentials"]}}}]),
        ))
        .mount(&server)
        .await;
    for p in ["/api/v1/apps/0oa1svc/grants", "/api/v1/api-tokens", "/api/v1/logs"] {
        Mock::given(method("GET"))
            .and(path(p))
            .and(auth())
            .respond_with(ok(json!([])))
            .mount(&server)
            .await;
    }
    let key = roster_testkit::keys::test_key_file();
    let config = |org: &str| {
        format!(
            "[[source]]\nname = \"okta\"\nconnector = \"okta\"\norg_url = \"{org}\"\nlog_since = \"2026-11-01T00:00:00Z\"\n\
             http_retries = 1\nauth = \"oauth\"\nclient_id = \"0oa9roster\"\nkey_id = \"roster-key-1\"\nprivate_key_file = \"{}\"\n",
            key.path().display()
        )
    };
    let (env, code, report, stderr) = Env::new(ROSTER).collect_json(config(&uri), vec![]).await;
    assert_eq!(code, 0, "{stderr}");
    roster_testkit::assert_complete(&report);
    assert_eq!(identity(&report, "0oa1svc")["name"], "support-agent-svc");

    let got = server.received_requests().await.unwrap();
    let minted: Vec<_> = got.iter().filter(|r| r.url.path() == "/oauth2/v1/token").collect();
    assert_eq!(minted.len(), 1, "one token for the whole run");
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&minted[0].body).into_owned().collect();
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(
        form["scope"],
        "okta.apps.read okta.apiTokens.read okta.users.read okta.logs.read"
    );
    assert_eq!(
        form["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    assert!(!form.contains_key("client_secret"));
    // The client assertion: signed with the app's key, for this app and this token endpoint.
    let (head, claims) = roster_testkit::keys::verify_jwt(&form["client_assertion"]);
    assert_eq!((&head["alg"], &head["kid"]), (&json!("RS256"), &json!("roster-key-1")));
    assert_eq!(
        (&claims["iss"], &claims["sub"]),
        (&json!("0oa9roster"), &json!("0oa9roster"))
    );
    assert_eq!(claims["aud"], format!("{uri}/oauth2/v1/token"));
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert!(lifetime > 0 && lifetime <= 3600, "{claims}");
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16));
    assert!(
        got.iter()
            .filter(|r| r.url.path().starts_with("/api/"))
            .all(|r| r.headers["authorization"] == format!("Bearer {MINTED}")[..])
    );
    let audit = std::fs::read_to_string(env.state().join("audit.jsonl")).unwrap();
    assert!(
        audit.contains("Bearer <Okta token, service app 0oa9roster (private_key_jwt)>"),
        "{audit}"
    );
    assert!(!roster_testkit::contains(
        &roster_testkit::all_bytes_under(&env.state()),
        MINTED
    ));
}

/// The claims of a DPoP proof, its signature checked against the P-256 key in its own header.
fn dpop_claims(proof: &str) -> (Value, Value) {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = proof.split('.').collect();
    assert_eq!(parts.len(), 3, "not a JWT: {proof}");
    let head: Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
    let claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    assert_eq!((&head["typ"], &head["alg"]), (&json!("dpop+jwt"), &json!("ES256")));
    assert_eq!(
        (&head["jwk"]["kty"], &head["jwk"]["crv"]),
        (&json!("EC"), &json!("P-256"))
    );
    assert!(head["jwk"].get("d").is_none(), "the private key stays home");
    let mut point = vec![4u8];
    point.extend(b64.decode(head["jwk"]["x"].as_str().unwrap()).unwrap());
    point.extend(b64.decode(head["jwk"]["y"].as_str().unwrap()).unwrap());
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, point)
        .verify(
            format!("{}.{}", parts[0], parts[1]).as_bytes(),
            &b64.decode(parts[2]).unwrap(),
        )
        .expect("the proof is signed with the key it names");
    (head, claims)
}

/// Matches a token request whose DPoP proof carries `nonce`.
struct ProofWithNonce(&'static str);

impl wiremock::Match for ProofWithNonce {
    fn matches(&self, req: &wiremock::Request) -> bool {
        req.headers
            .get("dpop")
            .and_then(|p| p.to_str().ok())
            .is_some_and(|p| dpop_claims(p).1["nonce"] == self.0)
    }
}

/// A service app that requires DPoP (Okta's "Require Demonstrating Proof of Possession"): the
/// host notices Okta's refusal, binds the token to a key of its own with a DPoP proof (adding
/// the nonce Okta asks for), and sends every API request as `DPoP <token>` with a fresh proof
/// for that request, bound to the token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_okta_app_that_requires_dpop_gets_dpop_bound_tokens_and_proofs() {
    const MINTED: &str = "eyJraWQiOiJkcG9wIn0.okta.dpop-bound-access-token";
    let server = MockServer::start().await;
    let uri = server.uri();
    let token = || Mock::given(method("POST")).and(path("/oauth2/v1/token"));
    token()
        .and(ProofWithNonce("okta-nonce-1"))
        .respond_with(ok(
            json!({"token_type": "DPoP", "expires_in": 3600, "access_token": MINTED,
            "scope": "okta.apps.read okta.apiTokens.read okta.users.read okta.logs.read"}),
        ))
        .with_priority(1)
        .mount(&server)
        .await;
    token()
        .and(wiremock::matchers::header_exists("dpop"))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("dpop-nonce", "okta-nonce-1")
                .set_body_json(json!({"error": "use_dpop_nonce",
                    "error_description": "Authorization server requires nonce in DPoP proof."})),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    token()
        .respond_with(
            ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_dpop_proof",
                "error_description": "The DPoP proof JWT header is missing."})),
        )
        .with_priority(3)
        .mount(&server)
        .await;
    for p in ["/api/v1/apps", "/api/v1/api-tokens"] {
        Mock::given(method("GET"))
            .and(path(p))
            .and(header("authorization", format!("DPoP {MINTED}").as_str()))
            .and(wiremock::matchers::header_exists("dpop"))
            .respond_with(ok(json!([])))
            .mount(&server)
            .await;
    }
    let key = roster_testkit::keys::test_key_file();
    let (env, code, report, stderr) = Env::new(ROSTER)
        .collect_json(
            format!(
                "[[source]]\nname = \"okta\"\nconnector = \"okta\"\norg_url = \"{uri}\"\nhttp_retries = 0\n\
             auth = \"oauth\"\nclient_id = \"0oa9roster\"\nprivate_key_file = \"{}\"\n",
                key.path().display()
            ),
            vec![],
        )
        .await;
    assert_eq!(code, 0, "{stderr}");
    roster_testkit::assert_complete(&report);

    let got = server.received_requests().await.unwrap();
    let minted: Vec<_> = got.iter().filter(|r| r.url.path() == "/oauth2/v1/token").collect();
    assert_eq!(minted.len(), 3, "plain, then DPoP, then DPoP with the nonce");
    assert!(minted[0].headers.get("dpop").is_none());
    let proof = |r: &wiremock::Request| dpop_claims(r.headers["dpop"].to_str().unwrap());
    let (token_head, token_proof) = proof(minted[2]);
    assert_eq!(token_proof["htm"], "POST");
    assert_eq!(token_proof["htu"], format!("{uri}/oauth2/v1/token"));
    assert_eq!(token_proof["nonce"], "okta-nonce-1");
    // The client assertion still authenticates the app.
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&minted[2].body).into_owned().collect();
    roster_testkit::keys::verify_jwt(&form["client_assertion"]);

    let api: Vec<_> = got.iter().filter(|r| r.url.path().starts_with("/api/")).collect();
    assert_eq!(api.len(), 2);
    let mut jtis = std::collections::HashSet::new();
    for r in &api {
        assert_eq!(r.headers["authorization"], format!("DPoP {MINTED}")[..]);
        let (head, claims) = proof(r);
        assert_eq!(head["jwk"], token_head["jwk"], "the key the token is bound to");
        assert_eq!(claims["htm"], "GET");
        assert_eq!(claims["htu"], format!("{uri}{}", r.url.path()), "no query in htu");
        assert_eq!(claims["ath"], sha256_b64(MINTED));
        assert!(
            jtis.insert(claims["jti"].as_str().unwrap().to_owned()),
            "a fresh proof per request"
        );
    }
    assert!(!roster_testkit::contains(
        &roster_testkit::all_bytes_under(&env.state()),
        MINTED
    ));
}

/// base64url (no padding) of SHA-256, as DPoP's `ath`.
fn sha256_b64(s: &str) -> String {
    use base64::Engine as _;
    let d = ring::digest::digest(&ring::digest::SHA256, s.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d.as_ref())
}

/// A revoked or wrong API token: Okta answers 401 E0000011; the source fails with Okta's words
/// and no other endpoint is tried in vain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_okta_token_fails_the_source_with_oktas_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"errorCode": "E0000011",
            "errorSummary": "Invalid token provided", "errorLink": "E0000011", "errorId": "oae-fixture", "errorCauses": []})))
        .mount(&server)
        .await;
    let (_env, code, report, _stderr) = Env::new(ROSTER)
        .collect_json(
            format!(
                "[[source]]\nname = \"okta\"\nconnector = \"okta\"\norg_url = \"{}\"\n",
                server.uri()
            ),
            vec![("OKTA_API_TOKEN", "00revokedTokenForRosterTests".to_string())],
        )
        .await;
    assert_ne!(code, 0);
    let run = &report["connectors"][0];
    assert_eq!(run["status"], "failed", "{run:#}");
    assert!(
        run["error"].as_str().unwrap().contains("Invalid token provided"),
        "{run:#}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1, "a 401 ends the run");
}
