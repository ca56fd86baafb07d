//! Nothing leaks: known secrets are planted in every field an attacker or a careless user
//! controls (file contents, a file's path, a commit message, the author's name and email, an MCP
//! server URL, provider display names in exports, the agent registry), then every command runs
//! and every report format is written. No output file, state file, audit log, standard output or
//! standard error holds any 8-character piece of a secret after its public prefix.

use crate::ROSTER;
use roster_testkit::{Env, all_bytes_under, contains, fake};
use std::process::Output;

/// A planted secret: where it was put, the secret, and the length of its public prefix (a
/// format's `sk-proj-` may be shown; nothing after it may).
struct Planted {
    what: &'static str,
    secret: String,
    public: usize,
}

impl Planted {
    fn new(what: &'static str, secret: String, public: &str) -> Self {
        assert!(secret.starts_with(public));
        Self {
            what,
            secret,
            public: public.len(),
        }
    }

    /// Every 8-character piece of the secret after its public prefix (a piece straddling the
    /// prefix is mostly public: `k-proj-s` is in any report naming another `sk-proj-s…` key).
    fn pieces(&self) -> impl Iterator<Item = &str> {
        (self.public..=self.secret.len() - 8).map(|i| &self.secret[i..i + 8])
    }

    /// The first piece of the secret found in `hay`, if any.
    fn leaked_in(&self, hay: &[u8]) -> Option<&str> {
        self.pieces().find(|p| contains(hay, p))
    }
}

fn run(env: &Env, args: &[&str], outputs: &mut Vec<(String, Vec<u8>)>) -> Output {
    let out = env.roster(args);
    let code = out.status.code();
    assert!(
        matches!(code, Some(0 | 1 | 3)),
        "roster {args:?} exited {code:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    outputs.push((format!("stdout of roster {}", args.join(" ")), out.stdout.clone()));
    outputs.push((format!("stderr of roster {}", args.join(" ")), out.stderr.clone()));
    out
}

/// Every file under `dir`, with its name.
fn files_under(dir: &std::path::Path, out: &mut Vec<(String, Vec<u8>)>) {
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
}

fn edit_json(path: &std::path::Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

#[test]
fn planted_secrets_appear_in_no_output() {
    let env = Env::new(ROSTER);
    let demo = env.roster(&["demo", "--output", "demo"]);
    assert_eq!(demo.status.code(), Some(0), "{}", String::from_utf8_lossy(&demo.stderr));
    let org = env.path("demo/sample-org");
    let app = org.join("acme-app");

    let aws_id = fake::aws_key_id();
    let planted = [
        Planted::new("file contents", fake::openai_project(), "sk-proj-"),
        Planted::new("file contents (AWS secret key)", fake::aws_secret(), ""),
        Planted::new("a file's path", fake::openai_project(), "sk-proj-"),
        Planted::new("the file at that path", fake::github_pat(), "ghp_"),
        Planted::new("a commit message", fake::github_pat(), "ghp_"),
        Planted::new("an author name", fake::huggingface(), "hf_"),
        Planted::new("an author email", fake::slack_bot(), "xoxb-"),
        Planted::new("an MCP server URL", fake::b62(32), ""),
        Planted::new("a provider's key name", fake::anthropic(), "sk-ant-api03-"),
        Planted::new("a provider's credential display name", fake::github_pat(), "ghp_"),
        Planted::new("an agent registry field", fake::openai_project(), "sk-proj-"),
    ];
    let s = |i: usize| planted[i].secret.as_str();

    // The code: one commit carries secrets in its files, a path, its message and its author.
    std::fs::write(
        app.join("settings.py"),
        format!(
            "OPENAI_API_KEY = \"{}\"\nAWS_ACCESS_KEY_ID = \"{aws_id}\"\naws_secret_access_key = \"{}\"\n",
            s(0),
            s(1)
        ),
    )
    .unwrap();
    std::fs::create_dir_all(app.join("keys")).unwrap();
    std::fs::write(app.join(format!("keys/{}.txt", s(2))), format!("token: {}\n", s(3))).unwrap();
    std::fs::create_dir_all(app.join(".cursor")).unwrap();
    std::fs::write(
        app.join(".cursor/mcp.json"),
        format!(
            r#"{{"mcpServers": {{"tickets": {{"url": "https://mcp.tickets.example/api/mcp/s/{}/mcp"}}}}}}"#,
            s(7)
        ),
    )
    .unwrap();
    roster_testkit::git_in(&app, &["add", "-A"]);
    roster_testkit::git_in(
        &app,
        &[
            "commit",
            "-q",
            "-m",
            &format!("rotate the bot token {}", s(4)),
            "--author",
            &format!("ci {} <{}@acme.example>", s(5), s(6)),
        ],
    );

    // The exports and the registry.
    edit_json(&org.join("exports/openai/api-keys.json"), |v| {
        v["data"][0]["name"] = format!("support-bot production {}", s(8)).into();
    });
    edit_json(&org.join("exports/entra/applications.json"), |v| {
        v["value"][0]["passwordCredentials"][0]["displayName"] = format!("prod {}", s(9)).into();
    });
    let registry = std::fs::read_to_string(org.join("agents.toml")).unwrap();
    let registry = registry.replacen(
        "purpose = \"Answers support tickets",
        &format!("purpose = \"Key {} answers support tickets", s(10)),
        1,
    );
    std::fs::write(org.join("agents.toml"), registry).unwrap();

    // Every command, every format.
    let mut outputs = Vec::new();
    std::fs::create_dir_all(env.path("out")).unwrap();
    let repo = app.display().to_string();
    let config = org.join("roster.toml").display().to_string();
    for format in ["text", "json", "jsonl", "sarif", "csv", "md", "ocsf"] {
        let file = format!("out/scan-git.{format}");
        run(
            &env,
            &["scan", "--git", &repo, "--format", format, "--output", &file],
            &mut outputs,
        );
    }
    run(
        &env,
        &["scan", &repo, "--format", "json", "--output", "out/scan-files.json"],
        &mut outputs,
    );
    run(&env, &["scan", &repo], &mut outputs);
    run(&env, &["scan", "--git", &repo], &mut outputs);
    run(
        &env,
        &["baseline", "create", "--git", &repo, "--output", "out/baseline.json"],
        &mut outputs,
    );
    run(&env, &["collect", "--config", &config], &mut outputs);
    run(
        &env,
        &[
            "collect",
            "--config",
            &config,
            "--format",
            "json",
            "--output",
            "out/collect.json",
        ],
        &mut outputs,
    );
    for _ in 0..2 {
        run(
            &env,
            &["discover", "--config", &config, "--output-dir", "out/discover"],
            &mut outputs,
        );
    }
    run(&env, &["diff"], &mut outputs);
    run(&env, &["runs"], &mut outputs);
    files_under(&env.path("out"), &mut outputs);
    files_under(&env.state(), &mut outputs);
    assert!(outputs.len() > 40, "{} outputs", outputs.len());

    // One pass over each output for every piece of every secret (the outputs include the
    // compiled plugin cache, tens of MB).
    let pieces: Vec<(usize, &str)> = planted
        .iter()
        .enumerate()
        .flat_map(|(i, p)| p.pieces().map(move |piece| (i, piece)))
        .collect();
    let finder = aho_corasick::AhoCorasick::new(pieces.iter().map(|(_, piece)| piece)).unwrap();
    let mut leaks = std::collections::BTreeSet::new();
    for (name, bytes) in &outputs {
        for m in finder.find_overlapping_iter(bytes.as_slice()) {
            let (i, piece) = pieces[m.pattern().as_usize()];
            leaks.insert(format!("{} ({piece}…) in {name}", planted[i].what));
        }
    }
    assert!(leaks.is_empty(), "leaked:\n{}", Vec::from_iter(leaks).join("\n"));

    // The secrets were there to be found: the reports name them, redacted.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.path("out/scan-git.json")).unwrap()).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let from = |what: &str| {
        findings
            .iter()
            .find(|f| f["path"].as_str().unwrap().starts_with(what))
            .unwrap_or_else(|| panic!("no finding in {what}: {findings:#?}"))
    };
    assert_eq!(from("keys/sk-proj-…")["rule_id"], "github.classic-pat");
    let commit = from("settings.py");
    assert!(
        commit["commit_summary"]
            .as_str()
            .unwrap()
            .starts_with("rotate the bot token ghp_…")
    );
    assert!(commit["author"].as_str().unwrap().starts_with("ci hf_…"));
    // The control: asked for with --show-secrets, the secret is in the output, so the search
    // above would have seen it.
    let shown = env.roster(&["scan", "--git", &repo, "--format", "json", "--show-secrets"]);
    assert!(planted[0].leaked_in(&shown.stdout).is_some());
    let all = all_bytes_under(&env.path("out"));
    assert!(contains(&all, "sk-proj-"), "the public prefix is shown");
}
