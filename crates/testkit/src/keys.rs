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
