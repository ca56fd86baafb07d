//! Hostile inputs that must not hurt the run: a compression bomb in a repository, trees nested
//! thousands deep, a file holding tens of thousands of keys. Each finishes, reports what it did
//! not cover, and still finds what it did.

use crate::ROSTER;
use roster_testkit::{Env, fake, field};
use std::io::Write;

/// Writes a loose blob of `size` zero bytes into `repo`'s object store by streaming zlib (a few
/// hundred KiB on disk), and returns its id. The id comes from `git hash-object` on a sparse file
/// (hashing only: nothing is written, and the file costs no disk).
fn zero_blob_bomb(env: &Env, repo: &str, size: u64) -> String {
    zero_bomb(env, repo, "blob", size)
}

/// [`zero_blob_bomb`] for any object type (`tree`: a tree object of zeros, which git accepts by
/// its header until something parses it).
fn zero_bomb(env: &Env, repo: &str, kind: &str, size: u64) -> String {
    let sparse = env.path("zeros.tmp");
    std::fs::File::create(&sparse).unwrap().set_len(size).unwrap();
    let id = env.git(
        repo,
        &[
            "hash-object",
            "--literally",
            "-t",
            kind,
            "--no-filters",
            sparse.to_str().unwrap(),
        ],
    );
    std::fs::remove_file(&sparse).unwrap();
    let dir = env.path(&format!("{repo}/.git/objects/{}", &id[..2]));
    std::fs::create_dir_all(&dir).unwrap();
    let file = std::fs::File::create(dir.join(&id[2..])).unwrap();
    let mut z = flate2::write::ZlibEncoder::new(std::io::BufWriter::new(file), flate2::Compression::fast());
    z.write_all(format!("{kind} {size}\0").as_bytes()).unwrap();
    let chunk = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len() as u64);
        z.write_all(&chunk[..n as usize]).unwrap();
        left -= n;
    }
    z.finish().unwrap().flush().unwrap();
    id
}

#[test]
fn a_compression_bomb_blob_is_skipped_from_its_header_without_being_inflated() {
    let env = Env::new(ROSTER);
    env.git("repo", &["init", "-q", "-b", "main"]);
    let key = fake::openai_project();
    env.write("repo/app.env", format!("OPENAI_API_KEY={key}\n"));
    env.git("repo", &["add", "."]);
    let bomb = zero_blob_bomb(&env, "repo", 300 << 20);
    let on_disk = std::fs::metadata(env.path(&format!("repo/.git/objects/{}/{}", &bomb[..2], &bomb[2..])))
        .unwrap()
        .len();
    assert!(on_disk < 2 << 20, "the bomb is small on disk: {on_disk} bytes");
    env.git(
        "repo",
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("100644,{bomb},zeros.bin"),
        ],
    );
    env.git("repo", &["commit", "-qm", "a bomb and a key"]);

    let (code, v, stderr) = env.scan_json(&["--git", "repo", "--max-file-size", "16"]);
    assert_eq!(code, 1, "the key fails the run: {stderr}");
    assert_eq!(field(&v, "path"), ["app.env"], "the rest of the history is scanned");
    let issues = v["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 1, "{issues:#?}");
    assert_eq!(issues[0]["level"], "skipped");
    let source = issues[0]["source"].as_str().unwrap();
    assert!(source.contains("zeros.bin") && source.contains(&bomb), "{source}");
    let msg = issues[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("300 MiB") && msg.contains("not inflated") && msg.contains("--max-file-size"),
        "{msg}"
    );
    assert_eq!(v["stats"]["skipped_large"], 1);
    assert_eq!(v["incomplete"], false, "skipping by size is policy, as for files");
    assert!(stderr.contains("1 file(s) skipped"), "{stderr}");
}

#[test]
fn a_compression_bomb_tree_is_reported_from_its_header_without_being_inflated() {
    let env = Env::new(ROSTER);
    env.git("repo", &["init", "-q", "-b", "main"]);
    let key = fake::openai_project();
    env.write("repo/app.env", format!("OPENAI_API_KEY={key}\n"));
    env.git("repo", &["add", "."]);
    env.git("repo", &["commit", "-qm", "a key"]);
    let bomb = zero_bomb(&env, "repo", "tree", 200 << 20);
    let commit = env.git("repo", &["commit-tree", &bomb, "-p", "HEAD", "-m", "a tree bomb"]);
    env.git("repo", &["update-ref", "refs/heads/bomb", &commit]);

    let (code, v, stderr) = env.scan_json(&["--git", "repo"]);
    assert_eq!(code, 1, "the key fails the run: {stderr}");
    assert_eq!(field(&v, "path"), ["app.env"], "the rest of the history is scanned");
    let msg = v["issues"][0]["message"].as_str().unwrap();
    assert!(
        msg.contains(&bomb) && msg.contains("200 MiB") && msg.contains("not inflated"),
        "{msg}"
    );
    assert_eq!(
        v["incomplete"], true,
        "a tree not read is a part of history not scanned"
    );
}

/// Commits, with gix and `git commit-tree`, a root tree holding `top.env` and `depth` trees
/// nested as `d/d/…/d/deep.env`.
fn commit_deep_tree(env: &Env, repo: &str, depth: usize, top: &str, deep: &str) {
    use gix::objs::tree::{Entry, EntryKind};
    let r = gix::open(env.path(repo)).unwrap();
    let blob = |text: &str| r.write_blob(text.as_bytes()).unwrap().detach();
    let entry = |name: &str, kind: EntryKind, oid| Entry {
        mode: kind.into(),
        filename: name.into(),
        oid,
    };
    let mut inner = gix::objs::Tree {
        entries: vec![entry("deep.env", EntryKind::Blob, blob(deep))],
    };
    for _ in 0..depth {
        let id = r.write_object(&inner).unwrap().detach();
        inner = gix::objs::Tree {
            entries: vec![entry("d", EntryKind::Tree, id)],
        };
    }
    // Entries sorted by name, as git requires.
    inner.entries.insert(0, entry("top.env", EntryKind::Blob, blob(top)));
    inner.entries.sort();
    let root = r.write_object(&inner).unwrap().detach().to_string();
    let commit = env.git(repo, &["commit-tree", &root, "-m", "deep"]);
    env.git(repo, &["update-ref", "refs/heads/main", &commit]);
}

#[test]
fn a_tree_nested_a_thousand_deep_is_cut_at_the_cap_and_reported() {
    let env = Env::new(ROSTER);
    env.git("repo", &["init", "-q", "-b", "main"]);
    let shallow = fake::anthropic();
    let deep = fake::openai_project();
    commit_deep_tree(
        &env,
        "repo",
        1000,
        &format!("ANTHROPIC_API_KEY={shallow}\n"),
        &format!("OPENAI_API_KEY={deep}\n"),
    );

    let (code, v, stderr) = env.scan_json(&["--git", "repo"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(field(&v, "path"), ["top.env"], "the shallow key is found");
    assert_eq!(v["incomplete"], true, "what lies past the cap was not scanned");
    let issues = v["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 1, "one cut, reported once: {issues:#?}");
    assert_eq!(issues[0]["level"], "error");
    let source = issues[0]["source"].as_str().unwrap();
    assert!(source.starts_with("repo: d/d/d/") && source.ends_with('…'), "{source}");
    let msg = issues[0]["message"].as_str().unwrap();
    assert!(msg.contains("deeper than 256 levels"), "{msg}");
    assert!(stderr.contains("deeper than 256 levels"), "warned on stderr: {stderr}");

    // The working tree has the same cap: 300 nested directories on disk.
    let mut dir = env.path("tree");
    for _ in 0..300 {
        dir.push("d");
    }
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("deep.env"), format!("OPENAI_API_KEY={deep}\n")).unwrap();
    env.write("tree/top.env", format!("ANTHROPIC_API_KEY={shallow}\n"));
    let (code, v, stderr) = env.scan_json(&["tree"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(field(&v, "path"), ["top.env"]);
    let text = serde_json::to_string(&v["issues"]).unwrap();
    assert!(
        text.contains("deeper than 256 levels") && text.contains("/d/d/d/"),
        "{text}"
    );
    assert_eq!(v["incomplete"], true);
}

#[test]
fn tens_of_thousands_of_one_key_kind_in_a_file_are_capped_and_the_cap_reported() {
    let env = Env::new(ROSTER);
    let mut text = String::new();
    for i in 0..30_000 {
        text.push_str(&format!("key{i} = {}\n", fake::aws_key_id()));
    }
    text.push_str(&format!("ANTHROPIC_API_KEY={}\n", fake::anthropic()));
    env.write("r/keys.txt", &text);

    // Without a cap: every key (a few random ones fall below the rule's entropy floor).
    let (_, v, _) = env.scan_json(&["r", "--max-findings-per-rule", "0"]);
    let all = field(&v, "rule_id")
        .iter()
        .filter(|r| **r == "aws.access-key-id")
        .count();
    assert!(all > 29_900, "{all}");
    assert_eq!(v["issues"].as_array().unwrap().len(), 0);
    assert_eq!(v["stats"]["findings_over_cap"], 0);
    let over = all - 1000;

    let (code, v, stderr) = env.scan_json(&["r"]);
    assert_eq!(code, 1, "{stderr}");
    let rules = field(&v, "rule_id");
    assert_eq!(rules.iter().filter(|r| **r == "aws.access-key-id").count(), 1000);
    assert!(
        rules.contains(&"anthropic.api-key"),
        "other rules still report: {rules:?}"
    );
    assert_eq!(
        rules.len(),
        1001,
        "a generic rule does not report what the capped rule found"
    );
    assert_eq!(v["stats"]["findings_over_cap"], over);
    let issues = v["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 1, "{issues:#?}");
    assert_eq!(issues[0]["level"], "skipped");
    assert!(issues[0]["source"].as_str().unwrap().ends_with("keys.txt"));
    assert_eq!(
        issues[0]["message"],
        format!(
            "rule aws.access-key-id matched more than 1000 times; the other {over} were not reported \
             (--max-findings-per-rule raises the cap)"
        )
    );
    assert!(
        stderr.contains(&format!("{over} finding(s) not reported")) && !stderr.contains("file(s) skipped"),
        "{stderr}"
    );
    assert_eq!(v["incomplete"], false);

    // The flag sets the cap.
    let (_, v, _) = env.scan_json(&["r", "--max-findings-per-rule", "10"]);
    assert_eq!(field(&v, "rule_id").len(), 11);
    assert_eq!(v["stats"]["findings_over_cap"], all - 10);

    // The text report says so too.
    let out = env.roster(&["scan", "r"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("{over} more not reported")), "{text}");
}
