//! AWS Organizations fan-out against moto (it emulates Organizations, STS and IAM in several
//! accounts): an aws-iam source with `accounts = "organization"` lists the organization's
//! accounts with the host's credential, assumes `role_name` in each and collects each account
//! as its own run, named by account id; an account where the role cannot be used fails alone.
//! The organization, its accounts and their IAM contents are made with the real AWS CLI; then
//! moto's IAM authorization is turned on, so every request the host sends must be allowed by
//! the policies of the key that signed it (moto does not check that an assumed role exists at
//! AssumeRole, only when the assumed credential is used).

use crate::ROSTER;
use crate::collect_aws::aws_cli_as;
use roster_testkit::Env;
use roster_testkit::moto::Moto;

const MANAGEMENT: &str = "123456789012";
const TESTING: [(&str, &str); 2] = [("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")];

/// The CLI's JSON output; null for the calls that print nothing.
fn json(bytes: Vec<u8>) -> serde_json::Value {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return serde_json::Value::Null;
    }
    serde_json::from_slice(&bytes).unwrap()
}

/// The credential of an assumed role, as environment variables for the AWS CLI.
fn assume(moto: &Moto, arn: &str) -> Vec<(&'static str, String)> {
    let out = json(aws_cli_as(
        moto,
        &TESTING,
        &["sts", "assume-role", "--role-arn", arn, "--role-session-name", "seed"],
    ));
    let c = &out["Credentials"];
    let s = |k: &str| c[k].as_str().unwrap().to_string();
    vec![
        ("AWS_ACCESS_KEY_ID", s("AccessKeyId")),
        ("AWS_SECRET_ACCESS_KEY", s("SecretAccessKey")),
        ("AWS_SESSION_TOKEN", s("SessionToken")),
    ]
}

struct Org {
    members: [String; 2],
    scanner_key: String,
    scanner_secret: String,
}

/// An organization (moto's default account is its management account) with two member
/// accounts; in each member a `RosterReadOnly` role that may read IAM and a service user with a
/// key; in the management account the scanner user Roster signs with, allowed to list the
/// accounts and assume roles, and no `RosterReadOnly` role.
fn seed(moto: &Moto) -> Org {
    let cli = |creds: &[(&str, &str)], args: &[&str]| json(aws_cli_as(moto, creds, args));
    cli(
        &TESTING,
        &["organizations", "create-organization", "--feature-set", "ALL"],
    );
    let mut members = vec![];
    for name in ["dev", "prod"] {
        let email = format!("{name}@example.com");
        let out = cli(
            &TESTING,
            &[
                "organizations",
                "create-account",
                "--email",
                &email,
                "--account-name",
                name,
            ],
        );
        let id = out["CreateAccountStatus"]["AccountId"].as_str().unwrap().to_string();
        assert_ne!(id, MANAGEMENT);
        // Into the member account, to make its IAM contents (moto keeps them per account).
        let creds = assume(moto, &format!("arn:aws:iam::{id}:role/OrganizationAccountAccessRole"));
        let creds: Vec<(&str, &str)> = creds.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let trust = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{MANAGEMENT}:root"}},"Action":"sts:AssumeRole"}}]}}"#
        );
        let iam = |args: &[&str]| {
            let args: Vec<&str> = ["iam"].iter().chain(args).copied().collect();
            cli(&creds, &args)
        };
        iam(&[
            "create-role",
            "--role-name",
            "RosterReadOnly",
            "--assume-role-policy-document",
            &trust,
        ]);
        iam(&[
            "put-role-policy",
            "--role-name",
            "RosterReadOnly",
            "--policy-name",
            "read-iam",
            "--policy-document",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*","iam:Generate*"],"Resource":"*"}]}"#,
        ]);
        let user = format!("{name}-deployer");
        iam(&["create-user", "--user-name", &user]);
        iam(&["create-access-key", "--user-name", &user]);
        members.push(id);
    }
    let iam = |args: &[&str]| {
        let args: Vec<&str> = ["iam"].iter().chain(args).copied().collect();
        cli(&TESTING, &args)
    };
    iam(&["create-user", "--user-name", "roster-scanner"]);
    iam(&[
        "put-user-policy",
        "--user-name",
        "roster-scanner",
        "--policy-name",
        "fan-out",
        "--policy-document",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["organizations:ListAccounts","sts:AssumeRole"],"Resource":"*"}]}"#,
    ]);
    let key = iam(&["create-access-key", "--user-name", "roster-scanner"]);
    moto.enforce_auth();
    Org {
        members: [members[0].clone(), members[1].clone()],
        scanner_key: key["AccessKey"]["AccessKeyId"].as_str().unwrap().to_string(),
        scanner_secret: key["AccessKey"]["SecretAccessKey"].as_str().unwrap().to_string(),
    }
}

fn collect(env: &Env, org: &Org, config: &str) -> (i32, serde_json::Value, String) {
    env.write("roster.toml", config);
    let home = env.path("home");
    std::fs::create_dir_all(&home).unwrap();
    let none = env.path("none");
    let out = env.roster_env(
        &["collect", "--config", "roster.toml", "--format", "json"],
        &[
            ("AWS_ACCESS_KEY_ID", &org.scanner_key),
            ("AWS_SECRET_ACCESS_KEY", &org.scanner_secret),
            ("AWS_SESSION_TOKEN", ""),
            ("HOME", home.to_str().unwrap()),
            ("AWS_CONFIG_FILE", none.to_str().unwrap()),
            ("AWS_SHARED_CREDENTIALS_FILE", none.to_str().unwrap()),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    (out.status.code().unwrap_or(-1), report, stderr)
}

fn run<'a>(report: &'a serde_json::Value, source: &str) -> &'a serde_json::Value {
    report["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["source"] == source)
        .unwrap_or_else(|| panic!("no run {source} in {:#}", report["connectors"]))
}

fn users_of<'a>(report: &'a serde_json::Value, source: &str) -> Vec<&'a str> {
    let mut ids: Vec<&str> = report["identities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["source"] == source && i["kind"] == "cloud-user")
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    ids.sort();
    ids
}

#[test]
fn an_organization_is_collected_account_by_account_through_assumed_roles() {
    let moto = Moto::start();
    let org = seed(&moto);
    let [dev, prod] = &org.members;
    let env = Env::new(ROSTER);
    let config = format!(
        "[[source]]\nname = \"aws\"\nconnector = \"aws-iam\"\nendpoint_url = \"{}\"\nregion = \"us-east-1\"\n\
         accounts = \"organization\"\nrole_name = \"RosterReadOnly\"\nhttp_retries = 0\n",
        moto.url
    );
    let (code, report, stderr) = collect(&env, &org, &config);

    // Each member account is its own complete run, named by its id, with that account's users
    // (read with the role assumed there: the scanner's own key may not read IAM at all).
    for (id, user) in [(dev, "dev-deployer"), (prod, "prod-deployer")] {
        let source = format!("aws/{id}");
        assert_eq!(run(&report, &source)["status"], "complete", "{stderr}");
        assert_eq!(
            users_of(&report, &source),
            [format!("arn:aws:iam::{id}:user/{user}")],
            "{source}: {stderr}"
        );
    }
    // The management account has no RosterReadOnly role: its run fails, alone, naming the role
    // it signed as (moto lets AssumeRole succeed and refuses the first IAM request; AWS refuses
    // AssumeRole, and the run's error is that refusal).
    let management = run(&report, &format!("aws/{MANAGEMENT}"));
    assert_ne!(management["status"], "complete", "{management:#}");
    assert!(
        management["error"]
            .as_str()
            .unwrap()
            .starts_with(&format!("signing as arn:aws:iam::{MANAGEMENT}:role/RosterReadOnly: ")),
        "{management:#}"
    );
    assert_eq!(
        report["connectors"].as_array().unwrap().len(),
        3,
        "{:#}",
        report["connectors"]
    );
    assert!(users_of(&report, &format!("aws/{MANAGEMENT}")).is_empty());
    assert_eq!(report["incomplete"], true);
    assert_eq!(code, 3, "a failed account makes the result incomplete: {stderr}");
    assert!(stderr.contains(&format!("aws/{MANAGEMENT}")), "{stderr}");

    // An explicit list: only those accounts, each through its role, with an external id.
    let env = Env::new(ROSTER);
    let config = format!(
        "[[source]]\nname = \"aws\"\nconnector = \"aws-iam\"\nendpoint_url = \"{}\"\n\
         accounts = [\"{prod}\"]\nrole_name = \"RosterReadOnly\"\nexternal_id = \"roster-audit\"\n",
        moto.url
    );
    let (code, report, stderr) = collect(&env, &org, &config);
    assert_eq!(code, 0, "{stderr}");
    let runs: Vec<&str> = report["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["source"].as_str().unwrap())
        .collect();
    assert_eq!(runs, [format!("aws/{prod}")]);
    assert_eq!(
        users_of(&report, &format!("aws/{prod}")),
        [format!("arn:aws:iam::{prod}:user/prod-deployer")]
    );
    // The scanner's secret and the assumed credentials stay with the host.
    let everything = roster_testkit::all_bytes_under(env.dir.path());
    assert!(!roster_testkit::contains(&everything, &org.scanner_secret));
}

#[test]
fn fan_out_settings_that_cannot_work_stop_before_anything_runs() {
    let env = Env::new(ROSTER);
    for (settings, says) in [
        ("accounts = \"organization\"\n", "needs role_name"),
        (
            "accounts = [\"12345\"]\nrole_name = \"R\"\n",
            "twelve-digit account ids",
        ),
        ("accounts = \"all\"\nrole_name = \"R\"\n", "must be \"organization\""),
        ("role_name = \"R\"\n", "accounts is not"),
    ] {
        env.write(
            "roster.toml",
            format!("[[source]]\nconnector = \"aws-cloudtrail\"\n{settings}"),
        );
        let out = env.roster(&["collect", "--config", "roster.toml", "--format", "json"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{settings}");
        assert!(
            stderr.contains(says) && stderr.contains("nothing was run"),
            "{settings}: {stderr}"
        );
    }
}
