//! Collecting N IAM users (each with an access key) from moto with `roster collect`
//! (`cargo bench --bench aws_iam_moto -- 10000`; default 10,000). Prints the seeding time and
//! the wall time of collect runs with the connector reading 1, 8 (the default) and 16 users'
//! keys at a time; figures go into benches/README.md.
//! Needs the test dependencies (scripts/test.sh installs moto) and the connectors built.

use std::time::Instant;

use roster_testkit::Env;
use roster_testkit::moto::Moto;

#[allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]
fn main() {
    let n: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(10_000);
    let moto = Moto::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let t = Instant::now();
    rt.block_on(async {
        let iam = moto.iam("testing", "testing");
        for chunk in (0..n).collect::<Vec<_>>().chunks(64) {
            let mut set = tokio::task::JoinSet::new();
            for &i in chunk {
                let iam = iam.clone();
                set.spawn(async move {
                    let name = format!("svc-{i:05}");
                    iam.create_user().user_name(&name).send().await.unwrap();
                    iam.create_access_key().user_name(&name).send().await.unwrap();
                });
            }
            while set.join_next().await.is_some() {}
        }
    });
    println!("seeded {n} users with keys in {:.1}s", t.elapsed().as_secs_f64());
    let env = Env::new(env!("CARGO_BIN_EXE_roster"));
    for concurrency in [1, 8, 16] {
        env.write(
            "roster.toml",
            format!(
                "[[source]]\nconnector = \"aws-iam\"\nendpoint_url = \"{}\"\nservice_specific_credentials = false\nconcurrency = {concurrency}\n",
                moto.url
            ),
        );
        let t = Instant::now();
        let out = env.roster_env(
            &["collect", "--format", "json", "--output", "inv.json", "--no-progress"],
            &[
                ("AWS_ACCESS_KEY_ID", "testing"),
                ("AWS_SECRET_ACCESS_KEY", "testing"),
                ("AWS_EC2_METADATA_DISABLED", "true"),
            ],
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let report: serde_json::Value = serde_json::from_slice(&std::fs::read(env.path("inv.json")).unwrap()).unwrap();
        let users = report["identities"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["kind"] == "cloud-user")
            .count();
        let keys: usize = report["identities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["credentials"].as_array().unwrap().len())
            .sum();
        println!(
            "concurrency {concurrency}: {users} users, {keys} keys collected in {:.2}s ({} requests)",
            t.elapsed().as_secs_f64(),
            report["connectors"][0]["requests"]
        );
    }
}
