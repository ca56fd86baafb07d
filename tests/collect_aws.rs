//! `roster collect` with the aws-iam connector against moto (a real IAM emulator), seeded through
//! the real aws-sdk-iam client. Needs moto: scripts/test.sh installs it; a missing moto fails.

use crate::ROSTER;
use roster_testkit::Env;
use roster_testkit::moto::Moto;

const BEDROCK_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"bedrock.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const LAMBDA_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const ADMIN: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const BEDROCK_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["bedrock:*"],"Resource":"*"}}"#;

struct Seeded {
    old_key: String,
    bedrock_key: String,
    scanner_key: String,
    scanner_secret: String,
}

async fn seed(moto: &Moto) -> Seeded {
    let iam = moto.iam("testing", "testing");
    let tag = |k: &str, v: &str| aws_sdk_iam::types::Tag::builder().key(k).value(v).build().unwrap();
    // A service account with an owner tag and an old key last used by Bedrock.
    iam.create_user()
        .user_name("support-bot")
        .tags(tag("owner", "alice@example.com"))
        .send()
        .await
        .unwrap();
    let old = iam.create_access_key().user_name("support-bot").send().await.unwrap();
    let old_key = old.access_key().unwrap().access_key_id().to_string();
    iam.put_user_policy()
        .user_name("support-bot")
        .policy_name("bedrock-everything")
        .policy_document(BEDROCK_ALL)
        .send()
        .await
        .unwrap();
    // A person's user: a console password (the credential report shows it).
    iam.create_user().user_name("alice-console").send().await.unwrap();
    iam.create_login_profile()
        .user_name("alice-console")
        .password("Fixture-Only-Passw0rd!")
        .send()
        .await
        .unwrap();
    // A user nobody owns, with a key never used.
    iam.create_user().user_name("orphan-ci").send().await.unwrap();
    iam.create_access_key().user_name("orphan-ci").send().await.unwrap();
    // A Bedrock API key (an IAM service-specific credential) on it, for 30 days.
    let bedrock = iam
        .create_service_specific_credential()
        .user_name("orphan-ci")
        .service_name("bedrock.amazonaws.com")
        .credential_age_days(30)
        .send()
        .await
        .unwrap();
    let bedrock_key = bedrock
        .service_specific_credential()
        .unwrap()
        .service_specific_credential_id()
        .to_string();
    // The identity Roster's host signs with.
    iam.create_user().user_name("roster-scanner").send().await.unwrap();
    let scanner = iam
        .create_access_key()
        .user_name("roster-scanner")
        .send()
        .await
        .unwrap();
    let scanner = scanner.access_key().unwrap();
    // Roles: one Bedrock may assume, with admin rights; one for Lambda.
    let admin = iam
        .create_policy()
        .policy_name("AgentAdmin")
        .policy_document(ADMIN)
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("support-agent")
        .assume_role_policy_document(BEDROCK_TRUST)
        .tags(tag("team", "support-platform"))
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("support-agent")
        .policy_arn(admin.policy().unwrap().arn().unwrap())
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("thumbnailer")
        .assume_role_policy_document(LAMBDA_TRUST)
        .send()
        .await
        .unwrap();
    moto.backdate(serde_json::json!({
        "access_key_id": old_key, "created": "2024-09-01T00:00:00",
        "last_used": "2025-01-15T10:00:00", "last_used_service": "bedrock"
    }));
    moto.backdate(serde_json::json!({"user_name": "support-bot", "created": "2024-08-30T12:00:00"}));
    Seeded {
        old_key,
        bedrock_key,
        scanner_key: scanner.access_key_id().to_string(),
        scanner_secret: scanner.secret_access_key().to_string(),
    }
}

fn identity<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no identity {name} in {:#}", report["identities"]))
}

#[test]
fn aws_iam_connector_lists_users_keys_and_bedrock_roles_from_moto() {
    let moto = Moto::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let seeded = rt.block_on(seed(&moto));

    let env = Env::new(ROSTER);
    env.write(
        "roster.toml",
        format!(
            "[[source]]\nname = \"aws-test\"\nconnector = \"aws-iam\"\nendpoint_url = \"{}\"\nregion = \"us-east-1\"\n\
             ",
            moto.url
        ),
    );
    let home = env.path("home");
    std::fs::create_dir_all(&home).unwrap();
    let out = env.roster_env(
        &[
            "collect",
            "--config",
            "roster.toml",
            "--format",
            "json",
            "--output",
            "report.json",
        ],
        &[
            ("AWS_ACCESS_KEY_ID", &seeded.scanner_key),
            ("AWS_SECRET_ACCESS_KEY", &seeded.scanner_secret),
            ("HOME", home.to_str().unwrap()),
            ("AWS_CONFIG_FILE", env.path("none").to_str().unwrap()),
            ("AWS_SHARED_CREDENTIALS_FILE", env.path("none").to_str().unwrap()),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(env.path("report.json")).unwrap()).unwrap();
    roster_testkit::assert_complete(&report);
    assert_eq!(report["incomplete"], false);

    // The old key, with its real age and last use.
    let bot = identity(&report, "support-bot");
    assert_eq!(bot["kind"], "cloud-user");
    assert_eq!(bot["source"], "aws-test");
    assert_eq!(bot["id"], "arn:aws:iam::123456789012:user/support-bot");
    assert_eq!(bot["owner"]["name"], "alice@example.com");
    assert_eq!(bot["owner"]["via"], "tag:owner");
    assert_eq!(bot["created"], "2024-08-30T12:00:00Z");
    let key = &bot["credentials"][0];
    assert_eq!(key["id"], seeded.old_key.as_str());
    assert_eq!(key["status"], "active");
    assert_eq!(key["created"], "2024-09-01T00:00:00Z");
    assert_eq!(key["last_used"], "2025-01-15T10:00:00Z");
    assert_eq!(key["last_used_service"], "bedrock");
    assert_eq!(key["expires"], serde_json::Value::Null);
    let inline = &bot["permissions"][0];
    assert_eq!(
        (inline["kind"].as_str(), inline["name"].as_str()),
        (Some("inline-policy"), Some("bedrock-everything"))
    );
    assert_eq!(inline["attrs"]["wildcard_actions"], "bedrock:*");

    // A key never used, on a user with no owner.
    let orphan = identity(&report, "orphan-ci");
    assert!(orphan["owner"].is_null());
    let creds = orphan["credentials"].as_array().unwrap();
    let access_key = creds.iter().find(|c| c["kind"] == "access-key").unwrap();
    assert!(access_key["last_used"].is_null());
    // Its Bedrock API key, with the expiry IAM set from the requested age.
    let bedrock = creds
        .iter()
        .find(|c| c["kind"] == "service-specific")
        .unwrap_or_else(|| panic!("{orphan:#}"));
    assert_eq!(bedrock["id"], seeded.bedrock_key.as_str());
    assert_eq!(bedrock["status"], "active");
    assert_eq!(bedrock["attrs"]["service"], "bedrock.amazonaws.com");
    let days = |t: &serde_json::Value| roster_model::parse_time(t.as_str().unwrap()).unwrap() / 86_400_000;
    assert_eq!(days(&bedrock["expires"]) - days(&bedrock["created"]), 30);

    // The credential report: who has a console password, and MFA.
    let alice = identity(&report, "alice-console");
    assert_eq!(alice["attrs"]["console_password"], "true");
    assert_eq!(alice["attrs"]["mfa_active"], "false");
    assert!(bot["attrs"].get("console_password").is_none(), "{bot:#}");
    assert_eq!(bot["attrs"]["mfa_active"], "false");
    assert_eq!(
        bot["credentials"].as_array().unwrap().len(),
        1,
        "no placeholder keys from the report"
    );

    // The Bedrock-trusting role, with admin rights, and the Lambda role that is not an AI role.
    let agent = identity(&report, "support-agent");
    assert_eq!(agent["kind"], "role");
    assert_eq!(agent["trusted_by"][0], "Service:bedrock.amazonaws.com");
    assert_eq!(agent["attrs"]["ai_service_principals"], "bedrock.amazonaws.com");
    assert_eq!(agent["owner"]["kind"], "team");
    let admin = &agent["permissions"][0];
    assert_eq!(
        (admin["name"].as_str(), admin["attrs"]["admin"].as_str()),
        (Some("AgentAdmin"), Some("true"))
    );
    let thumb = identity(&report, "thumbnailer");
    assert!(thumb["attrs"].get("ai_service_principals").is_none());

    // The host signed the plugin's requests with the scanner's key: moto saw that key used.
    let scanner = identity(&report, "roster-scanner");
    assert_eq!(scanner["credentials"][0]["id"], seeded.scanner_key.as_str());
    let used = rt
        .block_on(
            moto.iam("testing", "testing")
                .get_access_key_last_used()
                .access_key_id(&seeded.scanner_key)
                .send(),
        )
        .unwrap();
    assert!(
        used.access_key_last_used().unwrap().last_used_date().is_some(),
        "the host's key was never used to sign"
    );
    // ...and the secret key is nowhere in the report, the audit log or the state dir.
    let everything = roster_testkit::all_bytes_under(env.dir.path());
    assert!(
        !roster_testkit::contains(&everything, &seeded.scanner_secret),
        "the signing secret leaked"
    );
    let audit = std::fs::read_to_string(env.state().join("audit.jsonl")).unwrap();
    assert!(audit.contains("AWS SigV4 (iam, us-east-1)"), "{audit}");
    assert!(audit.lines().all(|l| l.contains("\"outcome\":\"allowed\"")), "{audit}");
}

/// A consultant's case: no access, only the credential report the client exported
/// (`aws iam get-credential-report`, decoded).
#[test]
fn aws_iam_connector_reads_a_credential_report_export() {
    let env = Env::new(ROSTER);
    env.write(
        "exports/credential-report.csv",
        "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,\
mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,\
access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,\
access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
<root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,2026-01-01T00:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
ci-deployer,arn:aws:iam::123456789012:user/ci-deployer,2022-01-05T10:00:00+00:00,false,N/A,N/A,N/A,false,true,2022-01-05T10:05:00+00:00,2026-11-01T08:00:00+00:00,us-east-1,bedrock,true,2023-02-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A
",
    );
    env.write(
        "roster.toml",
        "[[source]]\nname = \"client-aws\"\nconnector = \"aws-iam\"\napi = false\n\
         files = [{ path = \"exports/credential-report.csv\", format = \"credential-report\" }]\n",
    );
    let out = env.roster(&["collect", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["connectors"][0]["status"], "complete");
    assert_eq!(report["connectors"][0]["requests"], 0, "no API call without access");
    let ids = report["identities"].as_array().unwrap();
    assert_eq!(ids.len(), 1, "the root account is not a non-human identity: {ids:#?}");
    let user = &ids[0];
    assert_eq!(user["id"], "arn:aws:iam::123456789012:user/ci-deployer");
    assert_eq!(user["created"], "2022-01-05T10:00:00Z");
    let keys = user["credentials"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0]["created"], "2022-01-05T10:05:00Z");
    assert_eq!(keys[0]["last_used"], "2026-11-01T08:00:00Z");
    assert_eq!(keys[0]["last_used_service"], "bedrock");
    assert!(keys[1]["last_used"].is_null(), "key 2 never used");
}

#[test]
fn an_aws_source_without_credentials_fails_saying_what_to_set() {
    let env = Env::new(ROSTER);
    env.write(
        "roster.toml",
        "[[source]]\nconnector = \"aws-iam\"\nendpoint_url = \"http://127.0.0.1:9/\"\nhttp_retries = 0\n",
    );
    let empty = env.path("no-aws-config");
    let empty = empty.to_str().unwrap();
    // Nothing in the SDK's chain: no variables, no files, no instance metadata.
    let out = env.roster_env(
        &["collect", "--format", "json"],
        &[
            ("AWS_ACCESS_KEY_ID", ""),
            ("AWS_SECRET_ACCESS_KEY", ""),
            ("AWS_SESSION_TOKEN", ""),
            ("AWS_PROFILE", ""),
            ("AWS_CONFIG_FILE", empty),
            ("AWS_SHARED_CREDENTIALS_FILE", empty),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", ""),
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", ""),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", ""),
        ],
    );
    // A source that collected nothing fails the command (exit 2), and the report says why.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("source(s) failed: aws-iam"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let run = &report["connectors"][0];
    assert_ne!(run["status"], "complete", "{run:#}");
    let why = run.to_string();
    assert!(
        why.contains("no AWS credentials") && why.contains("set AWS_PROFILE"),
        "{run:#}"
    );
    let audit = std::fs::read_to_string(env.state().join("audit.jsonl")).unwrap();
    assert!(audit.contains("no AWS credentials"), "{audit}");
}

/// Runs the real AWS CLI (PyPI `awscli`, installed by scripts/test.sh) against moto, `aws iam`
/// with moto's default credential.
fn aws_cli(moto: &Moto, args: &[&str]) -> Vec<u8> {
    let args: Vec<&str> = ["iam"].iter().chain(args).copied().collect();
    aws_cli_as(
        moto,
        &[("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")],
        &args,
    )
}

/// Runs the real AWS CLI against moto with the credential in `creds` (`AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`).
pub(crate) fn aws_cli_as(moto: &Moto, creds: &[(&str, &str)], args: &[&str]) -> Vec<u8> {
    let aws = roster_testkit::test_deps().join("venv/bin/aws");
    let out = std::process::Command::new(&aws)
        .args(["--endpoint-url", &moto.url, "--output", "json"])
        .args(args)
        .envs(creds.iter().copied())
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}; run scripts/test.sh to install it", aws.display()));
    assert!(
        out.status.success(),
        "aws {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The four exports docs/connectors.md lists for aws-iam, written by the real AWS CLI against
/// moto, read with no API access: every user comes back with exactly its access keys, each under
/// its id and counted once (the credential report's key slots join the listed keys, adding
/// their last use).
#[test]
fn aws_cli_exports_give_each_user_exactly_its_keys() {
    let moto = Moto::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let seeded = rt.block_on(seed(&moto));
    // A user with two keys, one of them deactivated later.
    let iam = moto.iam("testing", "testing");
    let (two_a, two_b) = rt.block_on(async {
        iam.create_user().user_name("etl-two-keys").send().await.unwrap();
        let a = iam.create_access_key().user_name("etl-two-keys").send().await.unwrap();
        let b = iam.create_access_key().user_name("etl-two-keys").send().await.unwrap();
        (
            a.access_key().unwrap().access_key_id().to_string(),
            b.access_key().unwrap().access_key_id().to_string(),
        )
    });

    let env = Env::new(ROSTER);
    env.write("gaad.json", aws_cli(&moto, &["get-account-authorization-details"]));
    let users = aws_cli(&moto, &["list-users"]);
    env.write("users.json", &users);
    let users: serde_json::Value = serde_json::from_slice(&users).unwrap();
    let mut expected = std::collections::BTreeMap::new();
    let mut listings = vec![];
    for u in users["Users"].as_array().unwrap() {
        let name = u["UserName"].as_str().unwrap();
        let listing: serde_json::Value =
            serde_json::from_slice(&aws_cli(&moto, &["list-access-keys", "--user-name", name])).unwrap();
        let mut ids: Vec<String> = listing["AccessKeyMetadata"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["AccessKeyId"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        expected.insert(name.to_string(), ids);
        listings.push(listing);
    }
    // `for u in ...; do aws iam list-access-keys --user-name $u; done | jq -s`
    env.write("access-keys.json", serde_json::to_vec(&listings).unwrap());
    aws_cli(&moto, &["generate-credential-report"]);
    let report: serde_json::Value = serde_json::from_slice(&aws_cli(&moto, &["get-credential-report"])).unwrap();
    use base64::Engine as _;
    let csv = base64::engine::general_purpose::STANDARD
        .decode(report["Content"].as_str().unwrap())
        .unwrap();
    assert!(csv.starts_with(b"user,arn,"), "{}", String::from_utf8_lossy(&csv));
    env.write("credential-report.csv", csv);
    assert_eq!(expected["etl-two-keys"].len(), 2);

    env.write(
        "roster.toml",
        "[[source]]\nname = \"aws-export\"\nconnector = \"aws-iam\"\napi = false\nfiles = [\n\
         { path = \"credential-report.csv\", format = \"credential-report\" },\n\
         { path = \"gaad.json\", format = \"gaad\" },\n\
         { path = \"users.json\", format = \"users\" },\n\
         { path = \"access-keys.json\", format = \"access-keys\" },\n]\n",
    );
    let out = env.roster(&[
        "collect",
        "--config",
        "roster.toml",
        "--format",
        "json",
        "--output",
        "inv.json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let inv: serde_json::Value = serde_json::from_slice(&std::fs::read(env.path("inv.json")).unwrap()).unwrap();
    roster_testkit::assert_complete(&inv);
    for (user, keys) in &expected {
        let ident = identity(&inv, user);
        let mut got: Vec<String> = ident["credentials"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["kind"] == "access-key")
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect();
        got.sort();
        assert_eq!(&got, keys, "{user}: {ident:#}");
    }
    // The report's last use reaches the listed key; both keys of the two-key user are there.
    let bot = identity(&inv, "support-bot");
    let key = &bot["credentials"][0];
    assert_eq!(key["id"], seeded.old_key.as_str());
    assert_eq!(key["last_used"], "2025-01-15T10:00:00Z");
    // (moto's report leaves the service out: access_key_1_last_used_service is not written.)
    assert_eq!(identity(&inv, "alice-console")["attrs"]["console_password"], "true");
    let two = identity(&inv, "etl-two-keys");
    assert!(
        two["credentials"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == two_a.as_str())
    );
    assert!(
        two["credentials"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == two_b.as_str())
    );
    let all = inv.to_string();
    assert!(
        !all.contains("#access_key_"),
        "a report slot was counted as another key"
    );
}
