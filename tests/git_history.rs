//! `roster scan --git`: history with real repositories made by `git`, scanned with gix.

use crate::common::*;

/// A repo where a key is added in the second commit (by Mallory) and deleted in the third.
fn leaked_then_deleted(env: &Env) -> (String, String) {
    let key = fake::openai_project();
    env.git("repo", &["init", "-q", "-b", "main"]);
    env.write("repo/app.py", "print('hello')\n");
    env.git("repo", &["add", "."]);
    env.git("repo", &["commit", "-qm", "first"]);
    env.write(
        "repo/app.py",
        format!("import openai\nclient = openai.OpenAI(api_key=\"{key}\")\n"),
    );
    env.git("repo", &["add", "."]);
    env.git(
        "repo",
        &[
            "-c",
            "user.name=Mallory",
            "-c",
            "user.email=mallory@corp.example",
            "commit",
            "-qm",
            "add bot",
            "--author",
            "Mallory <mallory@corp.example>",
            "--date",
            "2024-03-05T10:20:30Z",
        ],
    );
    let introducing = env.git("repo", &["rev-parse", "HEAD"]);
    env.write(
        "repo/app.py",
        "import openai, os\nclient = openai.OpenAI(api_key=os.environ[\"OPENAI_API_KEY\"])\n",
    );
    env.git("repo", &["add", "."]);
    env.git("repo", &["commit", "-qm", "remove key"]);
    (key, introducing)
}

#[test]
fn deleted_key_is_attributed_to_the_introducing_commit_and_author() {
    let env = Env::new();
    let (key, introducing) = leaked_then_deleted(&env);
    // The working tree is clean...
    let (code, v, _) = env.scan_json(&["repo"]);
    assert_eq!((code, v["findings"].as_array().unwrap().len()), (0, 0));
    // ...the history is not.
    let (code, v, stderr) = env.scan_json(&["--git", "repo"]);
    assert_eq!(code, 1, "{stderr}");
    let f = &v["findings"].as_array().unwrap()[..];
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["rule_id"], "openai.project-key");
    assert_eq!(f[0]["commit"], introducing.as_str());
    assert_eq!(f[0]["author"], "Mallory <mallory@corp.example>");
    assert_eq!(f[0]["date"], "2024-03-05T10:20:30Z");
    assert_eq!(f[0]["path"], "app.py");
    assert_eq!(f[0]["line"], 2);
    assert!(f[0]["redacted"].as_str().unwrap().ends_with(&key[key.len() - 4..]));
    assert_eq!(v["stats"]["commits"], 3);
    assert_eq!(v["stats"]["blobs"], 3, "three unique blobs, each scanned once");
}

#[test]
fn a_key_kept_across_many_commits_and_branches_is_reported_once() {
    let env = Env::new();
    let key = fake::anthropic();
    env.git("r", &["init", "-q", "-b", "main"]);
    env.write("r/.env", format!("ANTHROPIC_API_KEY={key}\n"));
    env.git("r", &["add", "."]);
    env.git("r", &["commit", "-qm", "c0"]);
    let first = env.git("r", &["rev-parse", "HEAD"]);
    for i in 1..6 {
        env.write("r/.env", format!("ANTHROPIC_API_KEY={key}\nLOG={i}\n"));
        env.git("r", &["commit", "-qam", &format!("c{i}")]);
    }
    env.git("r", &["checkout", "-qb", "feature"]);
    env.write("r/other.txt", "x\n");
    env.git("r", &["add", "."]);
    env.git("r", &["commit", "-qm", "feature work"]);
    let (_, v, _) = env.scan_json(&["--git", "r"]);
    let f = v["findings"].as_array().unwrap();
    assert_eq!(f.len(), 1, "one secret at one path: one finding, {v:#}");
    assert_eq!(f[0]["commit"], first.as_str());
}

#[test]
fn since_scans_only_new_commits() {
    let env = Env::new();
    leaked_then_deleted(&env);
    env.git("repo", &["branch", "base"]);
    let (code, v, _) = env.scan_json(&["--git", "repo", "--since", "base"]);
    assert_eq!((code, v["findings"].as_array().unwrap().len()), (0, 0), "{v:#}");
    let key = fake::github_pat();
    env.write("repo/ci.yml", format!("env:\n  GH_TOKEN: {key}\n"));
    env.git("repo", &["add", "."]);
    env.git("repo", &["commit", "-qm", "ci"]);
    let (code, v, _) = env.scan_json(&["--git", "repo", "--since", "base"]);
    assert_eq!(code, 1);
    assert_eq!(field(&v, "rule_id"), ["github.classic-pat"]);
    assert_eq!(v["stats"]["commits"], 1);
    let out = env.roster(&["scan", "--git", "repo", "--since", "no-such-branch"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-branch"));
}

#[test]
fn staged_scans_only_the_index() {
    let env = Env::new();
    leaked_then_deleted(&env);
    let (code, _, _) = env.scan_json(&["--git", "repo", "--staged"]);
    assert_eq!(code, 0, "nothing staged");
    env.write("repo/new.env", format!("HF_TOKEN={}\n", fake::huggingface()));
    env.write("repo/unstaged.env", format!("HF_TOKEN={}\n", fake::huggingface()));
    env.git("repo", &["add", "new.env"]);
    let (code, v, _) = env.scan_json(&["--git", "repo", "--staged"]);
    assert_eq!(code, 1);
    assert_eq!(field(&v, "path"), ["new.env"]);
}

#[test]
fn incremental_skips_what_was_scanned() {
    let env = Env::new();
    leaked_then_deleted(&env);
    let (code, _, _) = env.scan_json(&["--git", "repo", "--incremental"]);
    assert_eq!(code, 1);
    let (code, v, _) = env.scan_json(&["--git", "repo", "--incremental"]);
    assert_eq!(code, 0, "already scanned: {v:#}");
    assert_eq!(v["stats"]["commits"], 0);
    env.write("repo/more.env", format!("OPENAI_API_KEY={}\n", fake::openai_project()));
    env.git("repo", &["add", "."]);
    env.git("repo", &["commit", "-qm", "more"]);
    let (code, v, _) = env.scan_json(&["--git", "repo", "--incremental"]);
    assert_eq!(code, 1);
    assert_eq!(field(&v, "path"), ["more.env"]);
    assert_eq!(v["stats"]["commits"], 1);
}

#[test]
fn a_corrupt_object_is_reported_and_the_rest_is_scanned() {
    let env = Env::new();
    env.git("repo", &["init", "-q", "-b", "main"]);
    env.write("repo/good.env", format!("OPENAI_API_KEY={}\n", fake::openai_project()));
    env.write("repo/bad.env", format!("ANTHROPIC_API_KEY={}\n", fake::anthropic()));
    env.git("repo", &["add", "."]);
    env.git("repo", &["commit", "-qm", "two files"]);
    let bad = env.git("repo", &["rev-parse", "HEAD:bad.env"]);
    let obj = env.path(&format!("repo/.git/objects/{}/{}", &bad[..2], &bad[2..]));
    let mut perms = std::fs::metadata(&obj).unwrap().permissions();
    #[allow(
        clippy::permissions_set_readonly_false,
        reason = "test makes a loose object writable to corrupt it"
    )]
    perms.set_readonly(false);
    std::fs::set_permissions(&obj, perms).unwrap();
    std::fs::write(&obj, b"this is not zlib data").unwrap();
    let (code, v, stderr) = env.scan_json(&["--git", "repo"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(field(&v, "path"), ["good.env"]);
    assert_eq!(v["incomplete"], true);
    let issues = serde_json::to_string(&v["issues"]).unwrap();
    assert!(issues.contains("bad.env") && issues.contains(&bad), "{issues}");
    assert!(stderr.contains("bad.env"), "warned on stderr: {stderr}");
}

#[test]
fn not_a_repository_is_a_clear_error_and_other_sources_still_scan() {
    let env = Env::new();
    env.write("plain/.env", format!("OPENAI_API_KEY={}\n", fake::openai_project()));
    let (code, v, stderr) = env.scan_json(&["plain", "--git", "plain"]);
    assert_eq!(code, 1);
    assert_eq!(field(&v, "path"), [".env"]);
    assert!(stderr.contains("not a readable git repository"), "{stderr}");
    assert_eq!(v["incomplete"], true);
}
