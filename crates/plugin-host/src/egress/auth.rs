//! Attaching the host's credential to a request: a configured or minted token, a header, or an
//! AWS SigV4 signature. Every value set is marked sensitive, so that it is never logged.

use std::time::SystemTime;

use aws_credential_types::provider::ProvideCredentials;
use bytes::Bytes;
use http::{HeaderValue, Request};

use crate::manifest::Auth;
use roster_model::error_chain;

/// Sets a header holding a secret, marked sensitive so that it is never logged.
fn set_secret(req: &mut Request<()>, name: http::HeaderName, value: &str, what: &str) -> Result<(), String> {
    let mut v = HeaderValue::from_str(value).map_err(|_| format!("the {what} is not a valid header value"))?;
    v.set_sensitive(true);
    req.headers_mut().insert(name, v);
    Ok(())
}

pub(super) async fn authenticate(req: &mut Request<()>, auth: &Auth, body: &Bytes) -> Result<(), String> {
    match auth {
        Auth::None => Ok(()),
        Auth::Authorization { scheme, secret } => set_secret(
            req,
            http::header::AUTHORIZATION,
            &format!("{scheme} {}", secret.expose()),
            "configured token",
        ),
        Auth::Minted { scheme, minter } => {
            let token = minter.token().await?;
            let uri = req.uri();
            let htu = format!(
                "{}://{}{}",
                uri.scheme_str().unwrap_or("https"),
                uri.authority().map(|a| a.as_str()).unwrap_or_default(),
                uri.path()
            );
            // A DPoP-bound token goes with its proof and the DPoP scheme (RFC 9449 §7.1).
            let scheme = match minter.proof(req.method().as_str(), &htu, &token)? {
                Some(proof) => {
                    set_secret(req, http::HeaderName::from_static("dpop"), &proof, "DPoP proof")?;
                    "DPoP"
                }
                None => scheme.as_str(),
            };
            set_secret(
                req,
                http::header::AUTHORIZATION,
                &format!("{scheme} {}", token.expose()),
                "minted token",
            )
        }
        Auth::Header { name, secret } => set_secret(req, name.clone(), secret.expose(), "configured secret"),
        Auth::AwsSigV4 {
            service,
            region,
            provider,
        } => {
            use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
            let creds = provider
                .provide_credentials()
                .await
                .map_err(|e| {
                    format!(
                        "no AWS credentials (the SDK's chain tried the environment, profiles, SSO and instance metadata): \
                         set AWS_PROFILE or `profile` in the source, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; {}",
                        error_chain(&e)
                    )
                })?;
            let identity = creds.into();
            let params = aws_sigv4::sign::v4::SigningParams::builder()
                .identity(&identity)
                .region(region)
                .name(service)
                .time(SystemTime::now())
                .settings(SigningSettings::default())
                .build()
                .map_err(|e| format!("SigV4 parameters: {e}"))?
                .into();
            let uri = req.uri().to_string();
            let headers: Vec<(&str, &str)> = req
                .headers()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
                .collect();
            let signable = SignableRequest::new(
                req.method().as_str(),
                uri.as_str(),
                headers.into_iter(),
                SignableBody::Bytes(body),
            )
            .map_err(|e| format!("SigV4: {e}"))?;
            let (instructions, _) = sign(signable, &params).map_err(|e| format!("SigV4: {e}"))?.into_parts();
            instructions.apply_to_request_http1x(req);
            if let Some(v) = req.headers_mut().get_mut(http::header::AUTHORIZATION) {
                v.set_sensitive(true);
            }
            Ok(())
        }
    }
}
