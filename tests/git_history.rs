//! `roster scan --git`: history with real repositories made by `git`, scanned with gix.

use crate::ROSTER;
use roster_testkit::fake::{self, B62, rand_from};
use roster_testkit::{Env, field};

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
    let env = Env::new(ROSTER);
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
    assert!(roster_testkit::is_redaction_of(
        f[0]["redacted"].as_str().unwrap(),
        &key
    ));
    assert_eq!(v["stats"]["commits"], 3);
    assert_eq!(v["stats"]["blobs"], 3, "three unique blobs, each scanned once");
}

#[test]
fn a_key_kept_across_many_commits_and_branches_is_reported_once() {
    let env = Env::new(ROSTER);
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

/// Commits are visited parents first, otherwise oldest first, whatever the shape of the
/// history: a key is attributed to the commit that added it even where a later commit is
/// reached first from the tips (a side branch merged from an older commit), or where a child's
/// committer clock is behind its parent's. Loose and packed (decoded ahead of the walk) alike.
#[test]
fn a_key_is_attributed_to_the_commit_that_added_it_on_any_shape_of_history() {
    let env = Env::new(ROSTER);
    let (k1, k2) = (fake::openai_project(), fake::anthropic());
    let at = |t: u32| format!("@{t} +0000");
    let commit = |t: u32, msg: &str| {
        env.git("r", &["add", "."]);
        env.git_at("r", &at(t), &["commit", "-qm", msg]);
        env.git("r", &["rev-parse", "HEAD"])
    };
    env.git("r", &["init", "-q", "-b", "main"]);
    env.write("r/config.env", format!("OPENAI_API_KEY={k1}\n"));
    let added = commit(1_700_000_000, "A: the key");
    for (i, t) in [(1, 1_700_001_000), (2, 1_700_002_000), (3, 1_700_003_000)] {
        env.write(&format!("r/notes{i}.txt"), format!("{i}\n"));
        commit(t, &format!("main {i}"));
    }
    // A side branch from A, merged last: walking from the tip reaches A through it before the
    // main line's commits that also hold the key.
    env.git("r", &["checkout", "-qb", "side", &added]);
    env.write("r/side.txt", "side\n");
    commit(1_700_004_000, "side");
    env.git("r", &["checkout", "-q", "main"]);
    env.git_at(
        "r",
        &at(1_700_005_000),
        &["merge", "-q", "--no-ff", "side", "-m", "merge"],
    );
    // A key added by a commit whose child's clock is an hour behind.
    env.write("r/second.env", format!("ANTHROPIC_API_KEY={k2}\n"));
    let skewed = commit(1_700_009_000, "the second key");
    env.write("r/after.txt", "after\n");
    commit(1_700_005_400, "a child dated before its parent");
    let expect = |v: &serde_json::Value| {
        let f = v["findings"].as_array().unwrap();
        assert_eq!(f.len(), 2, "{v:#}");
        let of = |path: &str| {
            f.iter()
                .find(|x| x["path"] == path)
                .unwrap_or_else(|| panic!("{path}: {v:#}"))
        };
        assert_eq!(of("config.env")["commit"], added.as_str(), "{v:#}");
        assert_eq!(of("config.env")["date"], "2023-11-14T22:13:20Z");
        assert_eq!(of("second.env")["commit"], skewed.as_str(), "{v:#}");
        assert!(roster_testkit::is_redaction_of(
            of("second.env")["redacted"].as_str().unwrap(),
            &k2
        ));
    };
    let (code, loose, stderr) = env.scan_json(&["--git", "r"]);
    assert_eq!(code, 1, "{stderr}");
    expect(&loose);
    env.git("r", &["repack", "-adfq"]);
    env.git("r", &["prune-packed"]);
    let (_, packed, stderr) = env.scan_json(&["--git", "r"]);
    assert!(packed["issues"].as_array().unwrap().is_empty(), "{stderr}");
    expect(&packed);
    assert_eq!(packed["stats"]["commits"], 8);
}

/// Refs are taken as they point and annotated tags peeled once deduplicated: a commit reachable
/// only through an annotated tag (its branch deleted), or through a tag of that tag, is scanned;
/// a tag of a blob is left out without an error.
#[test]
fn commits_only_an_annotated_tag_reaches_are_scanned() {
    let env = Env::new(ROSTER);
    let key = fake::openai_project();
    env.git("r", &["init", "-q", "-b", "main"]);
    env.write("r/readme.md", "hello\n");
    env.git("r", &["add", "."]);
    env.git("r", &["commit", "-qm", "base"]);
    env.git("r", &["checkout", "-qb", "release"]);
    env.write("r/deploy.env", format!("OPENAI_API_KEY={key}\n"));
    env.git("r", &["add", "."]);
    env.git("r", &["commit", "-qm", "release with a key"]);
    let tagged = env.git("r", &["rev-parse", "HEAD"]);
    env.git("r", &["tag", "-a", "v1", "-m", "v1"]);
    env.git("r", &["tag", "-a", "v1-signed-off", "v1", "-m", "a tag of a tag"]);
    let blob = env.git("r", &["rev-parse", "HEAD:readme.md"]);
    env.git("r", &["tag", "-a", "a-blob", &blob, "-m", "a tag of a blob"]);
    env.git("r", &["checkout", "-q", "main"]);
    env.git("r", &["branch", "-D", "release"]);
    for packed in [false, true] {
        if packed {
            env.git("r", &["pack-refs", "--all"]);
            env.git("r", &["repack", "-adfq"]);
        }
        let (code, v, stderr) = env.scan_json(&["--git", "r"]);
        assert_eq!(code, 1, "{stderr}");
        assert!(v["issues"].as_array().unwrap().is_empty(), "{v:#}");
        let f = v["findings"].as_array().unwrap();
        assert_eq!(f.len(), 1, "{v:#}");
        assert_eq!(f[0]["commit"], tagged.as_str());
        assert_eq!(v["stats"]["commits"], 2);
    }
}

#[test]
fn since_scans_only_new_commits() {
    let env = Env::new(ROSTER);
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

/// A pull request gate: `--since BASE` covers what HEAD adds to BASE, not what other branches
/// carry (`git log BASE..HEAD`); `BASE..TIP` names the tip; `--all-refs` brings every ref back.
#[test]
fn since_covers_what_the_tip_adds_not_other_branches() {
    let env = Env::new(ROSTER);
    env.git("r", &["init", "-q", "-b", "main"]);
    env.write("r/app.py", "print('hello')\n");
    env.git("r", &["add", "."]);
    env.git("r", &["commit", "-qm", "base"]);
    // An unmerged branch with a key of its own.
    env.git("r", &["checkout", "-qb", "experiment"]);
    env.write("r/bot.env", format!("ANTHROPIC_API_KEY={}\n", fake::anthropic()));
    env.git("r", &["add", "."]);
    env.git("r", &["commit", "-qm", "experiment"]);
    // The pull request's branch, from main: one commit with a key, one clean.
    env.git("r", &["checkout", "-q", "main"]);
    env.git("r", &["checkout", "-qb", "pr"]);
    env.write("r/ci.env", format!("OPENAI_API_KEY={}\n", fake::openai_project()));
    env.git("r", &["add", "."]);
    env.git("r", &["commit", "-qm", "add ci key"]);
    env.write("r/readme.txt", "docs\n");
    env.git("r", &["add", "."]);
    env.git("r", &["commit", "-qm", "docs"]);

    let (code, v, stderr) = env.scan_json(&["--git", "r", "--since", "main"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(field(&v, "rule_id"), ["openai.project-key"], "{v:#}");
    assert_eq!(v["stats"]["commits"], 2, "the two commits of the pull request");
    // The same range named explicitly, from another checkout.
    env.git("r", &["checkout", "-q", "main"]);
    let (code, v, _) = env.scan_json(&["--git", "r", "--since", "main..pr"]);
    assert_eq!(code, 1);
    assert_eq!(field(&v, "rule_id"), ["openai.project-key"]);
    let (code, v, _) = env.scan_json(&["--git", "r", "--since", "main"]);
    assert_eq!(
        (code, v["stats"]["commits"].as_u64()),
        (0, Some(0)),
        "HEAD adds nothing to main"
    );
    let (_, v, _) = env.scan_json(&["--git", "r", "--since", "main", "--all-refs"]);
    let mut rules = field(&v, "rule_id");
    rules.sort();
    assert_eq!(rules, ["anthropic.api-key", "openai.project-key"]);

    // A range the gate cannot honour is an error naming it, and nothing is scanned.
    let out = env.roster(&["scan", "--git", "r", "--since", "main...pr", "--format", "json"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not A...B"));
    let out = env.roster(&[
        "scan",
        "--git",
        "r",
        "--since",
        "0123456789abcdef0123456789abcdef01234567",
    ]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "an unknown base is an incomplete run, not a clean one"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("fetch-depth: 0"));
}

#[test]
fn staged_scans_only_the_index() {
    let env = Env::new(ROSTER);
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
    let env = Env::new(ROSTER);
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
    // Another scope (another pipeline) has scanned nothing yet: it reads the whole history,
    // once.
    let (code, v, _) = env.scan_json(&["--git", "repo", "--incremental", "--scope", "nightly"]);
    assert_eq!(code, 1);
    let all: u64 = env
        .git("repo", &["rev-list", "--count", "--all"])
        .trim()
        .parse()
        .unwrap();
    assert_eq!(v["stats"]["commits"], all, "{v:#}");
    let (code, v, _) = env.scan_json(&["--git", "repo", "--incremental", "--scope", "nightly"]);
    assert_eq!((code, &v["stats"]["commits"]), (0, &serde_json::json!(0)));
}

#[test]
fn a_corrupt_object_is_reported_and_the_rest_is_scanned() {
    let env = Env::new(ROSTER);
    env.git("repo", &["init", "-q", "-b", "main"]);
    env.write("repo/good.env", format!("OPENAI_API_KEY={}\n", fake::openai_project()));
    env.write("repo/bad.env", format!("ANTHROPIC_API_KEY={}\n", fake::anthropic()));
    env.git("repo", &["add", "."]);
    env.git("repo", &["commit", "-qm", "two files"]);
    let bad = env.git("repo", &["rev-parse", "HEAD:bad.env"]);
    let obj = env.path(&format!("repo/.git/objects/{}/{}", &bad[..2], &bad[2..]));
    overwrite(&obj, b"this is not zlib data");
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
    let env = Env::new(ROSTER);
    env.write("plain/.env", format!("OPENAI_API_KEY={}\n", fake::openai_project()));
    let (code, v, stderr) = env.scan_json(&["plain", "--git", "plain"]);
    assert_eq!(code, 1);
    assert_eq!(field(&v, "path"), [".env"]);
    assert!(stderr.contains("not a readable git repository"), "{stderr}");
    assert_eq!(v["incomplete"], true);
}

/// Later versions of a file are matched on their changed lines (with context): a key added to
/// the middle of a long file, a multi-line private key, and a Kubernetes Secret whose data
/// changed (decoded files are always scanned whole) are all found at the right line and commit.
#[test]
fn secrets_added_to_later_versions_of_a_file_are_found() {
    use base64::Engine as _;
    let env = Env::new(ROSTER);
    env.git("r", &["init", "-q", "-b", "main"]);
    let filler: String = (0..200).map(|i| format!("value_{i} = compute({i})\n")).collect();
    env.write("r/settings.py", &filler);
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    env.write(
        "r/k8s.yaml",
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: bot\ndata:\n  LOG_LEVEL: {}\n",
            b64("debug")
        ),
    );
    env.git("r", &["add", "."]);
    env.git("r", &["commit", "-qm", "base"]);
    // v2: a key in the middle of the file, and a new Secret value.
    let key = fake::openai_project();
    let mut lines: Vec<String> = filler.lines().map(str::to_owned).collect();
    lines.insert(120, format!("OPENAI_API_KEY = \"{key}\""));
    env.write("r/settings.py", lines.join("\n") + "\n");
    let gh = fake::github_pat();
    env.write(
        "r/k8s.yaml",
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: bot\ndata:\n  LOG_LEVEL: {}\n  GITHUB_TOKEN: {}\n",
            b64("debug"),
            b64(&gh)
        ),
    );
    env.git("r", &["commit", "-qam", "v2"]);
    let v2 = env.git("r", &["rev-parse", "HEAD"]);
    // v3: a PEM private key appended after more edits.
    lines[10] = "value_10 = compute(11)".into();
    let body: String = (0..6).map(|_| rand_from(B62, 64) + "\n").collect();
    let pem =
        format!("PRIVATE_KEY = \"\"\"-----BEGIN RSA PRIVATE KEY-----\n{body}-----END RSA PRIVATE KEY-----\n\"\"\"");
    let pem_line = lines.len() + 1;
    lines.push(pem);
    env.write("r/settings.py", lines.join("\n") + "\n");
    env.git("r", &["commit", "-qam", "v3"]);
    let v3 = env.git("r", &["rev-parse", "HEAD"]);

    let (_, v, stderr) = env.scan_json(&["--git", "r"]);
    let f = v["findings"].as_array().unwrap();
    let find = |rule: &str| {
        f.iter()
            .find(|x| x["rule_id"] == rule)
            .unwrap_or_else(|| panic!("{rule} not found: {v:#} {stderr}"))
    };
    let openai = find("openai.project-key");
    assert_eq!(
        (openai["line"].as_u64(), openai["commit"].as_str()),
        (Some(121), Some(v2.as_str()))
    );
    let token = find("github.classic-pat");
    assert_eq!(
        (token["line"].as_u64(), token["commit"].as_str()),
        (Some(7), Some(v2.as_str()))
    );
    assert!(token["decoded"].as_str().unwrap().contains("base64"));
    let pk = find("private-key.pem");
    assert_eq!(pk["commit"].as_str(), Some(v3.as_str()));
    assert!(
        (pem_line as u64..pem_line as u64 + 2).contains(&pk["line"].as_u64().unwrap()),
        "{pk}"
    );
}

#[test]
fn a_corrupt_pack_entry_is_reported_and_the_rest_is_scanned() {
    let env = Env::new(ROSTER);
    env.git("repo", &["init", "-q", "-b", "main"]);
    for i in 0..20 {
        env.write(&format!("repo/doc{i}.txt"), rand_from(B62, 4000));
    }
    env.write("repo/key.env", format!("OPENAI_API_KEY={}\n", fake::openai_project()));
    env.git("repo", &["add", "."]);
    env.git("repo", &["commit", "-qm", "docs and a key"]);
    env.git("repo", &["gc", "-q"]);
    let victim = env.git("repo", &["rev-parse", "HEAD:doc7.txt"]);
    let pack_dir = env.path("repo/.git/objects/pack");
    let idx = std::fs::read_dir(&pack_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "idx"))
        .expect("a pack index after gc");
    // verify-pack lines: <id> <type> <size> <size-in-pack> <offset>
    let listing = env.git("repo", &["verify-pack", "-v", idx.to_str().unwrap()]);
    let line = listing
        .lines()
        .find(|l| l.starts_with(&victim))
        .expect("victim blob is packed");
    let cols: Vec<&str> = line.split_whitespace().collect();
    let (in_pack, offset): (usize, usize) = (cols[3].parse().unwrap(), cols[4].parse().unwrap());
    let pack = idx.with_extension("pack");
    let mut bytes = std::fs::read(&pack).unwrap();
    for b in &mut bytes[offset + in_pack / 3..offset + 2 * in_pack / 3] {
        *b ^= 0xA5;
    }
    overwrite(&pack, bytes);

    let (code, v, stderr) = env.scan_json(&["--git", "repo"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(field(&v, "path"), ["key.env"]);
    assert_eq!(v["incomplete"], true);
    let issues = serde_json::to_string(&v["issues"]).unwrap();
    assert!(issues.contains("doc7.txt") && issues.contains(&victim), "{issues}");
    assert_eq!(v["stats"]["blobs"], 20, "every other blob was scanned");
}

/// Overwrites a file git made read-only (objects and packs), to corrupt it on purpose.
fn overwrite(path: &std::path::Path, bytes: impl AsRef<[u8]>) {
    let mut perms = std::fs::metadata(path).unwrap().permissions();
    #[allow(
        clippy::permissions_set_readonly_false,
        reason = "the test corrupts a read-only git file on purpose"
    )]
    perms.set_readonly(false);
    std::fs::set_permissions(path, perms).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// A history of three keys added to config.py one by one (each edited around afterwards) and
/// the first copied to deploy/.env; with `repack`, `git repack -d` after the first two keys
/// (two packs, the rest loose). Returns the keys, the commits that introduced them, and the
/// commit of the copy.
fn three_keys_history(env: &Env, repack: bool) -> (Vec<String>, Vec<String>, String) {
    env.git("r", &["init", "-q", "-b", "main"]);
    let filler: String = (0..300).map(|i| format!("setting_{i} = lookup({i})\n")).collect();
    env.write("r/config.py", &filler);
    env.write(
        "r/bot/agent.py",
        "from langchain_openai import ChatOpenAI\nllm = ChatOpenAI()\n",
    );
    env.git("r", &["add", "."]);
    env.git("r", &["commit", "-qm", "base"]);
    let keys = vec![fake::openai_project(), fake::anthropic(), fake::github_pat()];
    let mut lines: Vec<String> = filler.lines().map(str::to_owned).collect();
    let mut introduced = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        // Each key goes into the middle of the file, and stays there for later versions.
        lines.insert(100 * i + 50, format!("TOKEN_{i} = \"{k}\""));
        env.write("r/config.py", lines.join("\n") + "\n");
        env.git("r", &["commit", "-qam", &format!("key {i}")]);
        introduced.push(env.git("r", &["rev-parse", "HEAD"]));
        for j in 0..5 {
            lines[10 + j] = format!("setting_edit_{i}_{j} = 1");
            env.write("r/config.py", lines.join("\n") + "\n");
            env.git("r", &["commit", "-qam", &format!("edit {i}.{j}")]);
        }
        if repack && i < 2 {
            env.git("r", &["repack", "-dq"]);
        }
    }
    // The same key copied to a second path later: a finding of its own there.
    env.write("r/deploy/.env", format!("OPENAI_API_KEY={}\n", keys[0]));
    env.git("r", &["add", "."]);
    env.git("r", &["commit", "-qm", "deploy"]);
    let copied = env.git("r", &["rev-parse", "HEAD"]);
    (keys, introduced, copied)
}

/// The findings (rule, path, line, commit), agents and blob count of a scan.
fn history_summary(v: &serde_json::Value) -> (Vec<String>, serde_json::Value, serde_json::Value) {
    let mut f: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {} {} {}", f["rule_id"], f["path"], f["line"], f["commit"]))
        .collect();
    f.sort();
    (f, v["agents"].clone(), v["stats"]["blobs"].clone())
}

/// Each key once at the commit that introduced it in config.py, the copy in deploy/.env, and
/// every blob covered.
fn assert_three_keys(scan: &serde_json::Value, keys: &[String], introduced: &[String], copied: &str) {
    let f = scan["findings"].as_array().unwrap();
    assert_eq!(
        f.len(),
        4,
        "three keys in config.py, one copied to deploy/.env: {scan:#}"
    );
    for (i, commit) in introduced.iter().enumerate() {
        let at = f
            .iter()
            .find(|x| x["path"] == "config.py" && x["commit"] == commit.as_str())
            .unwrap_or_else(|| panic!("key {i} not attributed to its commit: {scan:#}"));
        assert!(roster_testkit::is_redaction_of(
            at["redacted"].as_str().unwrap(),
            &keys[i]
        ));
    }
    assert!(f.iter().any(|x| x["path"] == "deploy/.env" && x["commit"] == copied));
    // 1 + 3 * 6 versions of config.py, the agent and the .env.
    assert_eq!(scan["stats"]["blobs"], 21);
}

/// A whole-history scan of a packed repository decodes the packs in pack order (by delta tree,
/// on every core) rather than blob by blob: it must report exactly what the loose repository
/// gives, each secret once at the commit that introduced it, and cover every blob.
#[test]
fn a_packed_history_gives_the_findings_of_the_loose_one() {
    let env = Env::new(ROSTER);
    let (keys, introduced, copied) = three_keys_history(&env, false);
    let (_, loose, stderr) = env.scan_json(&["--git", "r"]);
    assert!(loose["issues"].as_array().unwrap().is_empty(), "{stderr}");
    env.git("r", &["repack", "-adfq"]);
    env.git("r", &["prune-packed"]);
    let (_, packed, stderr) = env.scan_json(&["--git", "r"]);
    assert!(packed["issues"].as_array().unwrap().is_empty(), "{stderr}");
    assert_eq!(history_summary(&loose), history_summary(&packed));
    assert_three_keys(&packed, &keys, &introduced, &copied);
}

/// Trees and commits are read from the packs ahead of the walk, and whatever the packs lack by
/// id: a history spread over two packs and loose objects gives what one pack gives.
#[test]
fn a_history_in_two_packs_and_loose_objects_gives_the_findings_of_one_pack() {
    let env = Env::new(ROSTER);
    let (keys, introduced, copied) = three_keys_history(&env, true);
    let packs = std::fs::read_dir(env.path("r/.git/objects/pack"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "pack"))
        .count();
    assert_eq!(packs, 2);
    let loose = env.git("r", &["count-objects"]);
    assert!(!loose.starts_with("0 objects"), "{loose}");
    let (_, mixed, stderr) = env.scan_json(&["--git", "r"]);
    assert!(mixed["issues"].as_array().unwrap().is_empty(), "{stderr}");
    assert_three_keys(&mixed, &keys, &introduced, &copied);
    env.git("r", &["repack", "-adfq"]);
    env.git("r", &["prune-packed"]);
    let (_, packed, stderr) = env.scan_json(&["--git", "r"]);
    assert!(packed["issues"].as_array().unwrap().is_empty(), "{stderr}");
    assert_eq!(history_summary(&mixed), history_summary(&packed));
}
