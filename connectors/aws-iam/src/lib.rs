//! Roster connector for AWS IAM: users and their access keys (status, age, last use with service
//! and region), roles with their trust policies (AI-service principals flagged), attached and
//! inline policies (admin and wildcard grants flagged), owner and team tags, Bedrock API keys
//! (service-specific credentials), and the credential report as an export file.
//!
//! The AWS SDK runs inside the plugin unsigned (`allow_no_auth`); the host signs every request
//! with SigV4 using credentials the plugin never sees.

use aws_sdk_iam::config::{BehaviorVersion, Region};
use aws_sdk_iam::types::StatusType;
use aws_smithy_wasm::wasi::{WasiHttpClientBuilder, WasiSleep};
use roster_connector_sdk::types::*;
use roster_connector_sdk::{Emitter, Guest, OutputLimit, export, progress, setting};
use serde_json::Value;

mod exports;

struct AwsIam;

/// Service principals of AWS's AI services: a role they may assume is an AI workload identity.
const AI_SERVICES: [&str; 4] = [
    "bedrock.amazonaws.com",
    "bedrock-agentcore.amazonaws.com",
    "sagemaker.amazonaws.com",
    "q.amazonaws.com",
];

/// Tag keys that name an owner (compared without case) and the owner kind they imply.
const OWNER_TAGS: [(&str, &str); 7] = [
    ("owner", "user"),
    ("owner-email", "user"),
    ("contact", "user"),
    ("created-by", "user"),
    ("createdby", "user"),
    ("team", "team"),
    ("owner-team", "team"),
];

fn millis(t: Option<&aws_sdk_iam::primitives::DateTime>) -> Option<i64> {
    t.and_then(|d| d.to_millis().ok())
}

/// Policy documents come URL-encoded from IAM (and as plain JSON from some emulators).
fn decode_document(doc: &str) -> String {
    if !doc.trim_start().starts_with('%') {
        return doc.to_string();
    }
    let b = doc.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        // Two hex digits, read as bytes: slicing the text could split a multibyte character.
        if b[i] == b'%'
            && let Some(hex) = b.get(i + 1..i + 3).filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            && let Ok(v) = u8::from_str_radix(std::str::from_utf8(hex).unwrap_or_default(), 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
        _ => vec![],
    }
}

fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => vec![],
    }
}

/// Principals a trust policy lets assume the role: `Service:x`, `AWS:arn`, `Federated:x`.
fn trusted_principals(doc: &str) -> Vec<String> {
    let Ok(doc) = serde_json::from_str::<Value>(&decode_document(doc)) else {
        return vec![];
    };
    let mut out = vec![];
    for st in statements(&doc) {
        if st.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        match st.get("Principal") {
            Some(Value::String(s)) => out.push(format!("AWS:{s}")),
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    out.extend(strings(Some(v)).into_iter().map(|p| format!("{k}:{p}")));
                }
            }
            _ => {}
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Allowed actions and resources of a policy document, and whether it grants admin (`*` on `*`)
/// or wildcards.
fn analyse_policy(doc: &str) -> (Vec<String>, Vec<String>, Vec<(String, String)>) {
    let Ok(doc) = serde_json::from_str::<Value>(&decode_document(doc)) else {
        return (vec![], vec![], vec![("unparsed".into(), "true".into())]);
    };
    let (mut actions, mut resources, mut admin) = (vec![], vec![], false);
    for st in statements(&doc) {
        if st.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        let a = strings(st.get("Action"));
        let na = strings(st.get("NotAction"));
        let r = strings(st.get("Resource"));
        if r.iter().any(|r| r == "*") && (a.iter().any(|a| a == "*") || !na.is_empty()) {
            admin = true;
        }
        actions.extend(a);
        actions.extend(na.into_iter().map(|x| format!("NotAction:{x}")));
        resources.extend(r);
    }
    actions.sort();
    actions.dedup();
    resources.sort();
    resources.dedup();
    let mut attrs = vec![];
    if admin {
        attrs.push(("admin".into(), "true".into()));
    }
    let wild: Vec<&str> = actions
        .iter()
        .filter(|a| a.ends_with('*'))
        .map(String::as_str)
        .collect();
    if !wild.is_empty() {
        attrs.push(("wildcard_actions".into(), wild.join(",")));
    }
    (actions, resources, attrs)
}

fn tags_and_owners(tags: &[aws_sdk_iam::types::Tag]) -> (Vec<(String, String)>, Vec<Owner>) {
    owners_from_tags(
        tags.iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect(),
    )
}

fn owners_from_tags(pairs: Vec<(String, String)>) -> (Vec<(String, String)>, Vec<Owner>) {
    let mut owners = vec![];
    for (want, kind) in OWNER_TAGS {
        for (k, v) in &pairs {
            if k.eq_ignore_ascii_case(want) && !v.trim().is_empty() {
                owners.push(Owner {
                    id: v.clone(),
                    name: v.clone(),
                    kind: kind.into(),
                    via: format!("tag:{k}"),
                    enabled: None,
                });
            }
        }
    }
    (pairs, owners)
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

struct Run {
    client: aws_sdk_iam::Client,
    out: Emitter,
    notes: Vec<String>,
    key_last_used: bool,
    service_specific: bool,
    /// Users whose credentials are read at the same time.
    concurrency: usize,
    /// Read the credential report (console passwords, MFA).
    credential_report: bool,
}

/// One user's credentials, read by [`user_credentials`].
#[derive(Default)]
struct UserCredentials {
    credentials: Vec<Credential>,
    notes: Vec<String>,
}

fn stop(e: OutputLimit) -> String {
    e.0
}

impl Run {
    async fn collect(&mut self) -> Result<(), String> {
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

/// Reads the export files (the credential report and the AWS CLI's JSON), joins the access keys
/// they name, and returns a note per key the exports disagree on. Public so that the fuzz
/// targets (crates/fuzzing) can run it natively.
pub fn read_exports(out: &mut Emitter, files: &[ExportFile]) -> Result<Vec<String>, ConnectorError> {
    let mut arns = std::collections::HashMap::new();
    let mut keys = exports::KeyExports::default();
    for f in files {
        match f.format.as_str() {
            "credential-report" => {
                let text = String::from_utf8_lossy(&f.data);
                exports::credential_report(&f.name, &text, Some(&mut keys), out).map_err(ConnectorError::Config)?;
            }
            "gaad" | "users" | "access-keys" => {
                exports::cli_export(f, out, &mut arns, &mut keys).map_err(ConnectorError::Config)?;
            }
            other => {
                return Err(ConnectorError::Config(format!(
                    "{}: unknown export format {other:?} (aws-iam reads: credential-report, gaad, users, access-keys)",
                    f.name
                )));
            }
        }
    }
    keys.finish(&arns, out).map_err(ConnectorError::Internal)
}

impl Guest for AwsIam {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            id: "aws-iam".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "AWS IAM users, access keys, roles, policies and the credential report".into(),
            record_schema: 1,
        }
    }

    fn collect(request: CollectRequest) -> Result<CollectSummary, ConnectorError> {
        let cfg = &request.config;
        let mut out = Emitter::default();
        let mut notes = read_exports(&mut out, &request.files)?;
        if setting(cfg, "api") != Some("false") {
            let endpoint = roster_connector_sdk::endpoint(cfg)?;
            let region = setting(cfg, "region").unwrap_or("us-east-1").to_string();
            let conf = aws_sdk_iam::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new(region))
                .endpoint_url(endpoint)
                .http_client(WasiHttpClientBuilder::new().build())
                .sleep_impl(WasiSleep)
                .allow_no_auth()
                .build();
            let mut run = Run {
                client: aws_sdk_iam::Client::from_conf(conf),
                out,
                notes: vec![],
                key_last_used: setting(cfg, "key_last_used") != Some("false"),
                service_specific: setting(cfg, "service_specific_credentials") != Some("false"),
                credential_report: setting(cfg, "credential_report") != Some("false"),
                concurrency: setting(cfg, "concurrency")
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(8usize)
                    .clamp(1, 32),
            };
            let res = wstd::runtime::block_on(run.collect());
            out = run.out;
            notes.extend(run.notes);
            if let Err(e) = res {
                // Keep what was collected; say what failed.
                let _ = out.flush();
                return Err(ConnectorError::Upstream(e));
            }
        }
        out.flush().map_err(|e| ConnectorError::Internal(e.0))?;
        Ok(CollectSummary {
            complete: notes.is_empty(),
            notes,
        })
    }
}

export!(AwsIam);

/// What a role's trust policy and path say: AI services that may assume it, and whether AWS
/// manages it (a service-linked role).
fn role_facts(trusted: &[String], path: Option<&str>) -> Vec<(String, String)> {
    let mut attrs = vec![];
    let ai: Vec<&str> = AI_SERVICES
        .iter()
        .copied()
        .filter(|s| trusted.iter().any(|t| t == &format!("Service:{s}")))
        .collect();
    if !ai.is_empty() {
        attrs.push(("ai_service_principals".into(), ai.join(",")));
    }
    if path.is_some_and(|p| p.starts_with("/aws-service-role/")) {
        attrs.push(("service_linked".into(), "true".into()));
    }
    attrs
}
