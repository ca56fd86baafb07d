//! The aws-iam connector's export files: the AWS CLI's JSON output and the credential report
//! CSV, joined so that each access key is counted once, under its id.

use std::collections::HashMap;

use roster_connector_sdk::types::*;
use roster_connector_sdk::{Emitter, parse_time};
use serde_json::Value;

use crate::records::{analyse_policy, owners_from_tags, role_facts, trusted_principals};
use crate::stop;

/// One active access key slot of the credential report: no id, its creation time (the report's
/// `last_rotated`), last use and service.
pub(crate) struct Slot {
    user: String,
    arn: String,
    k: u8,
    created: Option<i64>,
    last_used: Option<i64>,
    service: Option<String>,
}

/// Access keys the export files name, held until every file is read: the credential report's
/// slots and the keys `list-access-keys` lists (under the user's name).
#[derive(Default)]
pub(crate) struct KeyExports {
    slots: Vec<Slot>,
    listed: Vec<Credential>,
    /// User name → ARN, from the credential report.
    arns: HashMap<String, String>,
}

impl KeyExports {
    /// Joins the report's key slots to the listed keys and emits each key once: under its id
    /// when a `list-access-keys` export names it (with the report's last use where the listing
    /// has none), else as `<user>#access_key_<n>`. A slot joins the listed key of the same user
    /// created in the same second; a user's remaining slots join the remaining active keys in
    /// order of creation (the report's key 1 is the older). Returns notes on what could not be
    /// joined.
    pub(crate) fn finish(mut self, arns: &HashMap<String, String>, out: &mut Emitter) -> Result<Vec<String>, String> {
        let mut notes = vec![];
        let mut arns = arns.clone();
        arns.extend(std::mem::take(&mut self.arns));
        let second = |t: Option<i64>| t.map(|ms| ms.div_euclid(1000));
        // Which listed keys a report slot has joined.
        let mut taken = vec![false; self.listed.len()];
        let free = |taken: &[bool], c: &Credential, i: usize, user: &str| {
            !taken[i] && c.identity_id == user && c.status == CredentialStatus::Active
        };
        let mut leftover = vec![];
        for slot in self.slots {
            let exact = (0..self.listed.len()).find(|&i| {
                let c = &self.listed[i];
                free(&taken, c, i, &slot.user) && second(c.created) == second(slot.created)
            });
            if let Some(i) = exact {
                merge(&mut self.listed[i], &slot);
                taken[i] = true;
            } else if self.listed.iter().any(|c| c.identity_id == slot.user) {
                leftover.push(slot);
            } else {
                out.credential(Credential {
                    id: format!("{}#access_key_{}", slot.user, slot.k),
                    identity_id: slot.arn.clone(),
                    kind: CredentialKind::AccessKey,
                    status: CredentialStatus::Active,
                    name: None,
                    created: slot.created,
                    expires: None,
                    last_used: slot.last_used,
                    last_used_service: slot.service.clone(),
                    redacted: None,
                    attrs: vec![],
                })
                .map_err(stop)?;
            }
        }
        // Slots whose time matched no listed key (exports taken at different moments): the
        // user's remaining active keys, oldest first.
        leftover.sort_by_key(|s| (s.user.clone(), s.k));
        for slot in leftover {
            let oldest = (0..self.listed.len())
                .filter(|&i| free(&taken, &self.listed[i], i, &slot.user))
                .min_by_key(|&i| self.listed[i].created);
            match oldest {
                Some(i) => {
                    merge(&mut self.listed[i], &slot);
                    taken[i] = true;
                }
                None => notes.push(format!(
                    "the credential report shows an active access key {} for {} that the access-keys export does not list",
                    slot.k, slot.user
                )),
            }
        }
        for mut c in self.listed {
            if let Some(arn) = arns.get(c.identity_id.as_str()) {
                c.identity_id = arn.clone();
            }
            out.credential(c).map_err(stop)?;
        }
        Ok(notes)
    }
}

/// What the report adds to a listed key: its last use, when the listing has none.
fn merge(c: &mut Credential, slot: &Slot) {
    if c.last_used.is_none() {
        c.last_used = slot.last_used;
        c.last_used_service = slot.service.clone();
    }
}

/// The IAM credential report (CSV, as `aws iam get-credential-report` returns it, base64
/// decoded): one identity per user, and each active access key slot (`access_key_1`, `_2`: no
/// key id, but its creation time, last use and service) kept in `keys` to be joined to the keys
/// an `access-keys` export lists ([`KeyExports::finish`]).
///
/// `keys` is `None` when the keys come from the API (ListAccessKeys) instead: then the report
/// adds only what the API has nowhere else, the console password and MFA.
pub(crate) fn credential_report(
    name: &str,
    text: &str,
    mut keys: Option<&mut KeyExports>,
    out: &mut Emitter,
) -> Result<usize, String> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .ok_or_else(|| format!("{name}: empty credential report"))?
        .split(',')
        .collect();
    let col = |name: &str| header.iter().position(|h| h.trim() == name);
    let (Some(user_col), Some(arn_col)) = (col("user"), col("arn")) else {
        return Err(format!("{name}: not a credential report (no user and arn columns)"));
    };
    let time = |v: Option<&&str>| v.and_then(|v| parse_time(v));
    let mut n = 0;
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let (Some(user), Some(arn)) = (f.get(user_col), f.get(arn_col)) else {
            continue;
        };
        if *user == "<root_account>" {
            continue;
        }
        let created = col("user_creation_time").and_then(|c| time(f.get(c)));
        let flag = |c: &str| col(c).and_then(|c| f.get(c)).map(|v| v.trim() == "true");
        let mut attrs = vec![("from".to_string(), format!("credential report {name}"))];
        if flag("password_enabled") == Some(true) {
            // A console password: a person's way in.
            attrs.push(("console_password".into(), "true".into()));
        }
        if let Some(mfa) = flag("mfa_active") {
            attrs.push(("mfa_active".into(), mfa.to_string()));
        }
        out.identity(Identity {
            id: arn.to_string(),
            kind: IdentityKind::CloudUser,
            name: user.to_string(),
            created,
            last_used: col("password_last_used").and_then(|c| time(f.get(c))),
            enabled: Some(true),
            owners: vec![],
            tags: vec![],
            trusted_by: vec![],
            attrs,
        })
        .map_err(stop)?;
        if let Some(keys) = keys.as_deref_mut() {
            keys.arns.insert(user.to_string(), arn.to_string());
        }
        for k in 1..=2 {
            let Some(keys) = keys.as_deref_mut() else { break };
            let get = |s: &str| col(&format!("access_key_{k}_{s}")).and_then(|c| f.get(c)).copied();
            if get("active") != Some("true") {
                continue;
            }
            keys.slots.push(Slot {
                user: user.to_string(),
                arn: arn.to_string(),
                k,
                created: get("last_rotated").and_then(parse_time),
                last_used: get("last_used_date").and_then(parse_time),
                service: get("last_used_service")
                    .filter(|s| *s != "N/A" && *s != "not_supported")
                    .map(str::to_string),
            });
        }
        n += 1;
    }
    Ok(n)
}

/// The array under `key` in one page of AWS CLI output, or an error naming the file and command.
fn list_in<'a>(page: &'a Value, key: &str, command: &str, file: &str) -> Result<&'a Vec<Value>, String> {
    page.get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{file}: not {command} output (no {key})"))
}

fn jstr<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn jtime(v: &Value, k: &str) -> Option<i64> {
    jstr(v, k).and_then(parse_time)
}

fn jtags(v: &Value) -> (Vec<(String, String)>, Vec<Owner>) {
    let pairs = v
        .get("Tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| {
            Some((
                jstr(t, "Key")?.to_string(),
                jstr(t, "Value").unwrap_or_default().to_string(),
            ))
        })
        .collect();
    owners_from_tags(pairs)
}

/// A policy document as the AWS CLI prints it: an object, or (URL-encoded) text.
fn jdoc(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// Exports in the AWS CLI's JSON output (`aws iam get-account-authorization-details`,
/// `aws iam list-users`, `aws iam list-access-keys`), so a consultant can work from files the
/// client hands over. For `access-keys`, an array of such outputs is accepted too, and each key
/// may carry the `AccessKeyLastUsed` object of `aws iam get-access-key-last-used`.
pub(crate) fn cli_export(
    file: &ExportFile,
    out: &mut Emitter,
    arns: &mut HashMap<String, String>,
    keys: &mut KeyExports,
) -> Result<usize, String> {
    let doc: Value = serde_json::from_slice(&file.data).map_err(|e| format!("{}: not JSON ({e})", file.name))?;
    let pages: Vec<&Value> = match &doc {
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    };
    let list = |page, key, command| list_in(page, key, command, &file.name);
    let mut n = 0;
    let from = vec![("from".to_string(), format!("{} {}", file.format, file.name))];
    match file.format.as_str() {
        "gaad" => {
            for page in pages {
                let docs: HashMap<&str, String> = page
                    .get("Policies")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|p| {
                        let v = p
                            .get("PolicyVersionList")?
                            .as_array()?
                            .iter()
                            .find(|v| v.get("IsDefaultVersion").and_then(Value::as_bool) == Some(true))?;
                        Some((jstr(p, "Arn")?, jdoc(v.get("Document"))?))
                    })
                    .collect();
                let users = page.get("UserDetailList").and_then(Value::as_array);
                let roles = page.get("RoleDetailList").and_then(Value::as_array);
                if users.is_none() && roles.is_none() {
                    return Err(format!(
                        "{}: not get-account-authorization-details output (no UserDetailList or RoleDetailList)",
                        file.name
                    ));
                }
                for (u, is_role) in users
                    .into_iter()
                    .flatten()
                    .map(|u| (u, false))
                    .chain(roles.into_iter().flatten().map(|r| (r, true)))
                {
                    let name_key = if is_role { "RoleName" } else { "UserName" };
                    let (Some(arn), Some(name)) = (jstr(u, "Arn"), jstr(u, name_key)) else {
                        continue;
                    };
                    if !is_role {
                        arns.insert(name.to_string(), arn.to_string());
                    }
                    let (tags, owners) = jtags(u);
                    let mut attrs = from.clone();
                    let mut trusted = vec![];
                    let mut last_used = None;
                    if is_role {
                        trusted = jdoc(u.get("AssumeRolePolicyDocument"))
                            .map(|d| trusted_principals(&d))
                            .unwrap_or_default();
                        attrs.extend(role_facts(&trusted, jstr(u, "Path")));
                        last_used = u.get("RoleLastUsed").and_then(|l| jtime(l, "LastUsedDate"));
                    } else {
                        attrs.push(("account_type".into(), "iam-user".into()));
                        if let Some(id) = jstr(u, "UserId") {
                            attrs.push(("user_id".into(), id.into()));
                        }
                    }
                    out.identity(Identity {
                        id: arn.into(),
                        kind: if is_role {
                            IdentityKind::Role
                        } else {
                            IdentityKind::CloudUser
                        },
                        name: name.into(),
                        created: jtime(u, "CreateDate"),
                        last_used,
                        enabled: Some(true),
                        owners,
                        tags,
                        trusted_by: trusted,
                        attrs,
                    })
                    .map_err(stop)?;
                    for p in u
                        .get("AttachedManagedPolicies")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let parn = jstr(p, "PolicyArn").unwrap_or_default();
                        let (actions, resources, mut attrs) = match docs.get(parn) {
                            Some(doc) => analyse_policy(doc),
                            None => (vec![], vec![], vec![("document".into(), "not in the export".into())]),
                        };
                        attrs.push(("arn".into(), parn.into()));
                        out.permission(Permission {
                            identity_id: arn.into(),
                            name: jstr(p, "PolicyName").unwrap_or(parn).into(),
                            kind: "managed-policy".into(),
                            actions,
                            resources,
                            attrs,
                        })
                        .map_err(stop)?;
                    }
                    let inline_key = if is_role { "RolePolicyList" } else { "UserPolicyList" };
                    for p in u.get(inline_key).and_then(Value::as_array).into_iter().flatten() {
                        let (actions, resources, attrs) =
                            analyse_policy(&jdoc(p.get("PolicyDocument")).unwrap_or_default());
                        out.permission(Permission {
                            identity_id: arn.into(),
                            name: jstr(p, "PolicyName").unwrap_or("inline").into(),
                            kind: "inline-policy".into(),
                            actions,
                            resources,
                            attrs,
                        })
                        .map_err(stop)?;
                    }
                    n += 1;
                }
            }
        }
        "users" => {
            for page in pages {
                for u in list(page, "Users", "list-users")? {
                    let (Some(arn), Some(name)) = (jstr(u, "Arn"), jstr(u, "UserName")) else {
                        continue;
                    };
                    arns.insert(name.to_string(), arn.to_string());
                    let mut attrs = from.clone();
                    attrs.push(("account_type".into(), "iam-user".into()));
                    let console = jtime(u, "PasswordLastUsed");
                    if console.is_some() {
                        // Only a user with a console password has signed in to the console.
                        attrs.push(("console_password".into(), "true".into()));
                    }
                    let (tags, owners) = jtags(u);
                    out.identity(Identity {
                        id: arn.into(),
                        kind: IdentityKind::CloudUser,
                        name: name.into(),
                        created: jtime(u, "CreateDate"),
                        last_used: console,
                        enabled: Some(true),
                        owners,
                        tags,
                        trusted_by: vec![],
                        attrs,
                    })
                    .map_err(stop)?;
                    n += 1;
                }
            }
        }
        _ => {
            for page in pages {
                for k in list(page, "AccessKeyMetadata", "list-access-keys")? {
                    let (Some(id), Some(user)) = (jstr(k, "AccessKeyId"), jstr(k, "UserName")) else {
                        continue;
                    };
                    // list-access-keys names the user, not its ARN: the ARN comes from a gaad,
                    // users or credential report export ([`KeyExports::finish`]).
                    let last = k.get("AccessKeyLastUsed");
                    keys.listed.push(Credential {
                        id: id.into(),
                        identity_id: user.to_string(),
                        kind: CredentialKind::AccessKey,
                        status: if jstr(k, "Status") == Some("Active") {
                            CredentialStatus::Active
                        } else {
                            CredentialStatus::Inactive
                        },
                        name: None,
                        created: jtime(k, "CreateDate"),
                        expires: None,
                        last_used: last.and_then(|l| jtime(l, "LastUsedDate")),
                        last_used_service: last
                            .and_then(|l| jstr(l, "ServiceName"))
                            .filter(|s| *s != "N/A")
                            .map(str::to_string),
                        redacted: None,
                        attrs: from.clone(),
                    });
                    n += 1;
                }
            }
        }
    }
    Ok(n)
}
