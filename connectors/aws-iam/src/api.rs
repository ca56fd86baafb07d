//! What the connector lists through the IAM API: users and roles with their policies
//! (GetAccountAuthorizationDetails), each user's access keys and service-specific credentials,
//! and the credential report.

use crate::records::{analyse_policy, role_facts, tags_and_owners, trusted_principals};
use crate::{exports, stop};
use aws_sdk_iam::types::StatusType;
use roster_connector_sdk::types::*;
use roster_connector_sdk::{Emitter, progress};

fn millis(t: Option<&aws_sdk_iam::primitives::DateTime>) -> Option<i64> {
    t.and_then(|d| d.to_millis().ok())
}

fn upstream<E: std::error::Error + 'static>(what: &str) -> impl Fn(aws_sdk_iam::error::SdkError<E>) -> String + '_ {
    move |e| {
        let detail = match &e {
            aws_sdk_iam::error::SdkError::ServiceError(s) => format!("{:?}", s.err()),
            other => roster_connector_sdk::error_chain(other),
        };
        format!("{what}: {detail}")
    }
}

pub(crate) struct Run {
    pub(crate) client: aws_sdk_iam::Client,
    pub(crate) out: Emitter,
    pub(crate) notes: Vec<String>,
    pub(crate) key_last_used: bool,
    pub(crate) service_specific: bool,
    /// Users whose credentials are read at the same time.
    pub(crate) concurrency: usize,
    /// Read the credential report (console passwords, MFA).
    pub(crate) credential_report: bool,
}

/// One user's credentials, read by [`user_credentials`].
#[derive(Default)]
struct UserCredentials {
    credentials: Vec<Credential>,
    notes: Vec<String>,
}

impl Run {
    pub(crate) async fn collect(&mut self) -> Result<(), String> {
        let mut marker: Option<String> = None;
        let mut users_seen = 0u64;
        let mut users: Vec<(String, String)> = vec![];
        loop {
            let page = self
                .client
                .get_account_authorization_details()
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(upstream("GetAccountAuthorizationDetails"))?;
            let policies: std::collections::HashMap<&str, &str> = page
                .policies()
                .iter()
                .filter_map(|p| {
                    let doc = p
                        .policy_version_list()
                        .iter()
                        .find(|v| v.is_default_version())?
                        .document()?;
                    Some((p.arn()?, doc))
                })
                .collect();
            for u in page.user_detail_list() {
                let (Some(arn), Some(name)) = (u.arn(), u.user_name()) else {
                    continue;
                };
                let (tags, owners) = tags_and_owners(u.tags());
                let mut attrs = vec![("account_type".into(), "iam-user".into())];
                if let Some(id) = u.user_id() {
                    attrs.push(("user_id".into(), id.into()));
                }
                if !u.group_list().is_empty() {
                    attrs.push(("groups".into(), u.group_list().join(",")));
                }
                self.out
                    .identity(Identity {
                        id: arn.into(),
                        kind: IdentityKind::CloudUser,
                        name: name.into(),
                        created: millis(u.create_date()),
                        last_used: None,
                        enabled: Some(true),
                        owners,
                        tags,
                        trusted_by: vec![],
                        attrs,
                    })
                    .map_err(stop)?;
                self.policies(arn, u.attached_managed_policies(), u.user_policy_list(), &policies)?;
                users.push((arn.to_string(), name.to_string()));
            }
            // Each user's keys take one or more requests: `concurrency` users at a time, their
            // records emitted in order.
            for chunk in users.chunks(self.concurrency) {
                let tasks: Vec<_> = chunk
                    .iter()
                    .map(|(arn, name)| {
                        wstd::runtime::spawn(user_credentials(
                            self.client.clone(),
                            arn.clone(),
                            name.clone(),
                            self.key_last_used,
                            self.service_specific,
                        ))
                    })
                    .collect();
                for t in tasks {
                    let got = t.await;
                    self.notes.extend(got.notes);
                    for c in got.credentials {
                        self.out.credential(c).map_err(stop)?;
                    }
                    users_seen += 1;
                }
                progress(users_seen, None, "IAM users");
            }
            users.clear();
            for r in page.role_detail_list() {
                let (Some(arn), Some(name)) = (r.arn(), r.role_name()) else {
                    continue;
                };
                let (tags, owners) = tags_and_owners(r.tags());
                let trusted = r
                    .assume_role_policy_document()
                    .map(trusted_principals)
                    .unwrap_or_default();
                let mut attrs = role_facts(&trusted, r.path());
                let last = r.role_last_used();
                if let Some(region) = last.and_then(|l| l.region()) {
                    attrs.push(("last_used_region".into(), region.into()));
                }
                self.out
                    .identity(Identity {
                        id: arn.into(),
                        kind: IdentityKind::Role,
                        name: name.into(),
                        created: millis(r.create_date()),
                        last_used: millis(last.and_then(|l| l.last_used_date())),
                        enabled: Some(true),
                        owners,
                        tags,
                        trusted_by: trusted,
                        attrs,
                    })
                    .map_err(stop)?;
                self.policies(arn, r.attached_managed_policies(), r.role_policy_list(), &policies)?;
            }
            if !page.is_truncated() || page.marker().is_none() {
                break;
            }
            marker = page.marker().map(str::to_string);
        }
        if self.credential_report {
            self.credential_report_facts().await?;
        }
        Ok(())
    }

    /// The credential report (GenerateCredentialReport, then GetCredentialReport once it is
    /// ready): which users have a console password, when they last used it, and MFA. A report
    /// that cannot be had is a note.
    async fn credential_report_facts(&mut self) -> Result<(), String> {
        let mut wait = std::time::Duration::from_millis(500);
        let mut ready = false;
        for _ in 0..8 {
            match self.client.generate_credential_report().send().await {
                Ok(o) if o.state() == Some(&aws_sdk_iam::types::ReportStateType::Complete) => {
                    ready = true;
                    break;
                }
                Ok(_) => {
                    wstd::task::sleep(wait.into()).await;
                    wait = (wait * 2).min(std::time::Duration::from_secs(15));
                }
                Err(e) => {
                    self.notes.push(upstream("GenerateCredentialReport")(e));
                    return Ok(());
                }
            }
        }
        if !ready {
            self.notes
                .push("credential report: still being generated after about a minute; run again".into());
            return Ok(());
        }
        let report = match self.client.get_credential_report().send().await {
            Ok(r) => r,
            Err(e) => {
                self.notes.push(upstream("GetCredentialReport")(e));
                return Ok(());
            }
        };
        let text = report
            .content()
            .map(|b| String::from_utf8_lossy(b.as_ref()).into_owned())
            .unwrap_or_default();
        match exports::credential_report("GetCredentialReport", &text, None, &mut self.out) {
            Ok(_) => Ok(()),
            Err(e) if e.starts_with("GetCredentialReport:") => {
                self.notes.push(e);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn policies(
        &mut self,
        owner: &str,
        attached: &[aws_sdk_iam::types::AttachedPolicy],
        inline: &[aws_sdk_iam::types::PolicyDetail],
        docs: &std::collections::HashMap<&str, &str>,
    ) -> Result<(), String> {
        for p in attached {
            let arn = p.policy_arn().unwrap_or_default();
            let (actions, resources, mut attrs) = match docs.get(arn) {
                Some(doc) => analyse_policy(doc),
                None => (vec![], vec![], vec![("document".into(), "not returned".into())]),
            };
            attrs.push(("arn".into(), arn.into()));
            self.out
                .permission(Permission {
                    identity_id: owner.into(),
                    name: p.policy_name().unwrap_or(arn).into(),
                    kind: "managed-policy".into(),
                    actions,
                    resources,
                    attrs,
                })
                .map_err(stop)?;
        }
        for p in inline {
            let (actions, resources, attrs) = analyse_policy(p.policy_document().unwrap_or_default());
            self.out
                .permission(Permission {
                    identity_id: owner.into(),
                    name: p.policy_name().unwrap_or("inline").into(),
                    kind: "inline-policy".into(),
                    actions,
                    resources,
                    attrs,
                })
                .map_err(stop)?;
        }
        Ok(())
    }
}

/// A user's access keys (with their last use) and service-specific credentials (Bedrock API
/// keys, CodeCommit and Keyspaces passwords). A call that fails becomes a note; the others go on.
async fn user_credentials(
    client: aws_sdk_iam::Client,
    user_arn: String,
    user: String,
    key_last_used: bool,
    service_specific: bool,
) -> UserCredentials {
    let mut got = UserCredentials::default();
    match client.list_access_keys().user_name(&user).send().await {
        Ok(keys) => {
            for k in keys.access_key_metadata() {
                let Some(id) = k.access_key_id() else { continue };
                let (mut last_used, mut service, mut attrs) = (None, None, vec![]);
                if key_last_used {
                    match client.get_access_key_last_used().access_key_id(id).send().await {
                        Ok(o) => {
                            if let Some(l) = o.access_key_last_used() {
                                last_used = millis(l.last_used_date());
                                if last_used.is_some() && l.service_name() != "N/A" {
                                    service = Some(l.service_name().to_string());
                                }
                                if l.region() != "N/A" {
                                    attrs.push(("last_used_region".into(), l.region().to_string()));
                                }
                            }
                        }
                        Err(e) => got
                            .notes
                            .push(upstream("GetAccessKeyLastUsed")(e) + &format!(" (key of {user})")),
                    }
                }
                let status = match k.status() {
                    Some(StatusType::Active) => CredentialStatus::Active,
                    Some(StatusType::Inactive) => CredentialStatus::Inactive,
                    _ => CredentialStatus::Unknown,
                };
                got.credentials.push(Credential {
                    id: id.into(),
                    identity_id: user_arn.clone(),
                    kind: CredentialKind::AccessKey,
                    status,
                    name: None,
                    created: millis(k.create_date()),
                    expires: None,
                    last_used,
                    last_used_service: service,
                    redacted: None,
                    attrs,
                });
            }
        }
        Err(e) => got
            .notes
            .push(upstream("ListAccessKeys")(e) + &format!(" (user {user})")),
    }
    if !service_specific {
        return got;
    }
    match client.list_service_specific_credentials().user_name(&user).send().await {
        Ok(creds) => {
            for c in creds.service_specific_credentials() {
                let status = match c.status() {
                    StatusType::Active => CredentialStatus::Active,
                    StatusType::Inactive => CredentialStatus::Inactive,
                    _ => CredentialStatus::Unknown,
                };
                got.credentials.push(Credential {
                    id: c.service_specific_credential_id().into(),
                    identity_id: user_arn.clone(),
                    kind: CredentialKind::ServiceSpecific,
                    status,
                    name: Some(c.service_user_name().into()).filter(|s: &String| !s.is_empty()),
                    created: c.create_date().to_millis().ok(),
                    expires: millis(c.expiration_date()),
                    last_used: None,
                    last_used_service: None,
                    redacted: None,
                    attrs: vec![("service".into(), c.service_name().into())],
                });
            }
        }
        Err(e) => got
            .notes
            .push(upstream("ListServiceSpecificCredentials")(e) + &format!(" (user {user})")),
    }
    got
}
