//! The TLS client setup Roster's own HTTP clients share (the notifiers', and the host's token
//! client in roster-credentials): which roots they trust, rustls over ring, and hyper's connector.

use hyper_util::client::legacy::connect::HttpConnector;
use rustls::{ClientConfig, RootCertStore};
use std::sync::Arc;

/// hyper's connector over [`client_config`]'s TLS.
pub type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// The roots a client trusts: the system's, or Mozilla's (webpki-roots) when the system has
/// none that rustls can use.
pub fn roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (added, _) = roots.add_parsable_certificates(native.certs);
    if added == 0 {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    roots
}

/// A client configuration over ring trusting `roots`: rustls's safe default protocol versions,
/// no client certificate.
pub fn client_config(roots: RootCertStore) -> Result<ClientConfig, String> {
    Ok(
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// hyper's connector with `tls`: https, and plain http too (the caller decides which plain
/// URLs it allows), HTTP/1.
pub fn connector(tls: ClientConfig) -> Connector {
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_always_roots_and_a_configuration() {
        let roots = roots();
        assert!(!roots.is_empty(), "the system's roots or Mozilla's");
        let tls = client_config(roots).expect("ring supports the default protocol versions");
        let _ = connector(tls);
    }
}
