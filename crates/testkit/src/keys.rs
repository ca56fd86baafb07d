//! A test-only RSA key (generated for these tests, registered nowhere): the private key of the
//! fictional GitHub App, Okta service app, Google service account and Entra app in the
//! token-minting tests.

use std::path::PathBuf;

/// The test key as PKCS#1 PEM.
pub const TEST_RSA_KEY: &str = include_str!("../keys/test-rsa-key.pem");

/// The test key as PKCS#8 PEM.
pub const TEST_RSA_KEY_PKCS8: &str = include_str!("../keys/test-rsa-key.pkcs8.pem");

/// [`TEST_RSA_KEY`] in a file, for `private_key_file`.
pub fn test_key_file() -> tempfile::NamedTempFile {
    let key = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(key.path(), TEST_RSA_KEY).unwrap();
    key
}

/// A file with a self-signed certificate for the test key, followed by the key (one PEM).
pub fn test_cert_and_key_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("keys/test-rsa-key-with-cert.pem")
}

/// Checks that `jwt` is an RS256 or PS256 JWT signed with [`TEST_RSA_KEY`]; returns its header
/// and claims.
#[cfg(feature = "jwt")]
pub fn verify_jwt(jwt: &str) -> (serde_json::Value, serde_json::Value) {
    use base64::Engine as _;
    use rustls::pki_types::pem::PemObject as _;
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "not a JWT: {jwt}");
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let head: serde_json::Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    let alg: &dyn ring::signature::VerificationAlgorithm = match head["alg"].as_str() {
        Some("RS256") => &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        Some("PS256") => &ring::signature::RSA_PSS_2048_8192_SHA256,
        other => panic!("unexpected JWT algorithm {other:?}"),
    };
    let der = rustls::pki_types::PrivatePkcs1KeyDer::from_pem_slice(TEST_RSA_KEY.as_bytes()).unwrap();
    let pair = ring::signature::RsaKeyPair::from_der(der.secret_pkcs1_der()).unwrap();
    ring::signature::UnparsedPublicKey::new(alg, ring::signature::KeyPair::public_key(&pair).as_ref())
        .verify(
            format!("{}.{}", parts[0], parts[1]).as_bytes(),
            &b64.decode(parts[2]).unwrap(),
        )
        .expect("the JWT is signed with the test key");
    (head, claims)
}

/// A Google service account key file (the JSON Google issues) for `client_email`, holding the
/// test key, whose token endpoint is `token_uri`.
pub fn google_key_file(client_email: &str, key_id: &str, client_id: &str, token_uri: &str) -> String {
    let project = client_email
        .split_once('@')
        .and_then(|(_, d)| d.strip_suffix(".iam.gserviceaccount.com"))
        .unwrap_or("roster-fixture");
    serde_json::json!({"type": "service_account", "project_id": project, "private_key_id": key_id,
        "private_key": TEST_RSA_KEY_PKCS8, "client_email": client_email, "client_id": client_id,
        "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": token_uri})
    .to_string()
}

/// The one token request among `requests` (POST `/token`, the JWT bearer grant Google's token
/// endpoint takes): the header and claims of its assertion, checked to be signed with the test
/// key.
#[cfg(all(feature = "jwt", feature = "http"))]
pub fn google_token_assertion(requests: &[wiremock::Request]) -> (serde_json::Value, serde_json::Value) {
    let minted: Vec<_> = requests.iter().filter(|r| r.url.path() == "/token").collect();
    assert_eq!(minted.len(), 1, "one token for the whole run");
    let form = String::from_utf8_lossy(&minted[0].body).into_owned();
    let field = |k: &str| {
        form.split('&')
            .find_map(|p| p.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("no {k} in the token request: {form}"))
            .to_string()
    };
    assert_eq!(
        field("grant_type"),
        "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
    );
    verify_jwt(&field("assertion"))
}
