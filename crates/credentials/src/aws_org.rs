//! AWS Organizations fan-out: the accounts of the organization a source's credential can list
//! (Organizations `ListAccounts`), and a credential in each, assumed through STS `AssumeRole`
//! from the source's own. The host runs one collection per account with it.

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use roster_model::error_chain;

/// The SDK configuration the host's own AWS calls (Organizations, STS) use: the source's
/// credential and region, its `endpoint_url` when it sets one (a local emulator), on the host's
/// rustls HTTP client.
pub async fn sdk_config(
    provider: SharedCredentialsProvider,
    region: &str,
    endpoint_url: Option<&str>,
) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(crate::aws_https_client())
        .region(aws_config::Region::new(region.to_string()))
        .credentials_provider(provider);
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// The ids of the organization's ACTIVE accounts (suspended or closing ones are left out),
/// every page of `ListAccounts`.
pub async fn organization_accounts(conf: &aws_config::SdkConfig) -> Result<Vec<String>, String> {
    use aws_sdk_organizations::types::{AccountState, AccountStatus};
    let client = aws_sdk_organizations::Client::new(conf);
    let mut pages = client.list_accounts().into_paginator().send();
    let mut ids = vec![];
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("Organizations ListAccounts failed: {}", error_chain(&e)))?;
        for a in page.accounts() {
            #[allow(deprecated, reason = "moto and older responses carry Status, newer ones State")]
            let status_active = a.status().is_none_or(|s| *s == AccountStatus::Active);
            let state_active = a.state().is_none_or(|s| *s == AccountState::Active);
            let Some(id) = a.id() else { continue };
            if status_active && state_active {
                ids.push(id.to_string());
            }
        }
    }
    Ok(ids)
}

/// Assumes `arn:aws:iam::<account>:role/<role_name>` (session name `roster`, with `external_id`
/// when set) from the credential in `conf`, once, now: a role that cannot be assumed is an error
/// here, before any collection. The temporary credential lasts the STS default (one hour).
pub async fn assume_role(
    conf: &aws_config::SdkConfig,
    account: &str,
    role_name: &str,
    external_id: Option<&str>,
) -> Result<SharedCredentialsProvider, String> {
    let arn = format!("arn:aws:iam::{account}:role/{role_name}");
    let mut builder = aws_config::sts::AssumeRoleProvider::builder(&arn)
        .session_name("roster")
        .configure(conf);
    if let Some(x) = external_id {
        builder = builder.external_id(x);
    }
    let provider = builder.build().await;
    let creds = provider
        .provide_credentials()
        .await
        .map_err(|e| format!("signing as {arn}: cannot assume the role: {}", error_chain(&e)))?;
    Ok(SharedCredentialsProvider::new(creds))
}

/// One account's manifest: the source's, with every AWS SigV4 rule signing with the role
/// assumed in that account; or why the role could not be assumed.
pub type AccountManifest = (String, Result<roster_plugin_host::Manifest, String>);

/// The per-account manifests of a source whose `manifest` signs with its own AWS credential:
/// the `accounts` given, or when `None` those Organizations lists with that credential, each with `role_name`
/// assumed. An account whose role cannot be assumed carries its error; the others go on. An
/// error here (no AWS rule, ListAccounts refused) stops the whole source.
pub async fn account_manifests(
    manifest: &roster_plugin_host::Manifest,
    accounts: Option<&[String]>,
    role_name: &str,
    external_id: Option<&str>,
    endpoint_url: Option<&str>,
) -> Result<Vec<AccountManifest>, String> {
    use roster_plugin_host::Auth;
    let (provider, region) = manifest
        .allow
        .iter()
        .find_map(|r| match &r.auth {
            Auth::AwsSigV4 { provider, region, .. } => Some((provider.clone(), region.clone())),
            _ => None,
        })
        .ok_or("accounts needs an AWS source that signs its requests (not api = false)")?;
    let conf = sdk_config(provider, &region, endpoint_url).await;
    let ids = match accounts {
        None => organization_accounts(&conf).await?,
        Some(ids) => ids.to_vec(),
    };
    let mut out = vec![];
    for id in ids {
        let assumed = assume_role(&conf, &id, role_name, external_id).await.map(|p| {
            let mut m = manifest.clone();
            for rule in &mut m.allow {
                if let Auth::AwsSigV4 { provider, .. } = &mut rule.auth {
                    *provider = p.clone();
                }
            }
            m
        });
        out.push((id, assumed));
    }
    Ok(out)
}
