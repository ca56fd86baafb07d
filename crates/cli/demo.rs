//! `roster demo`: the bundled sample organization (a code repository with history, AWS exports,
//! an agent registry) written out and run through the whole discover pipeline.

use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

macro_rules! sample {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../examples/sample-org/", $path)))),*]
    };
}

/// The sample organization's files (except the repository's history), embedded so the demo
/// needs nothing but the binary and its connectors.
const FILES: &[(&str, &str)] = sample!(
    "README.md",
    "roster.toml",
    "agents.toml",
    "exports/aws/gaad.json",
    "exports/aws/users.json",
    "exports/aws/access-keys.json",
    "exports/aws/cloudtrail.json",
    "exports/openai/api-keys.json",
    "exports/okta/users.json",
    "exports/okta/api-tokens.json",
    "exports/okta/system-log.json",
    "exports/entra/applications.json",
    "exports/entra/sign-in-activity.json",
    "exports/entra/service-principals.json",
    "exports/github/personal-access-tokens.json",
    "exports/anthropic/users.json",
    "exports/anthropic/api-keys.json",
    "exports/google/token-activities.json",
    "exports/gcp/service-accounts.json",
    "exports/gcp/keys-analytics-export.json",
    "exports/gcp/iam-policy.json",
    "exports/gcp/service-account-creations.json",
    "exports/azure/role-assignments.json",
    "exports/azure/role-definitions.json",
    "exports/azure/cognitive-services-accounts.json",
    "exports/gitlab/members.json",
    "exports/gitlab/audit-events.json",
    "exports/gitlab/project-access-tokens/acme-infra.json",
    "exports/bedrock/agents.json",
    "exports/bedrock/agent-details.json",
    "exports/slack/users.json",
    "exports/slack/bots.json",
    "exports/slack/integration-logs.json",
);

/// The files of the acme-app repository, at their final version.
const APP: &[(&str, &str)] = sample!(
    "acme-app/README.md",
    "acme-app/.github/CODEOWNERS",
    "acme-app/support-bot/agent.py",
    "acme-app/support-bot/requirements.txt",
    "acme-app/billing-service/settings.py",
    "acme-app/billing-service/worker.py",
    "acme-app/scripts/deploy.sh",
    "acme-app/notebooks/eval.ipynb",
    "acme-app/.cursor/mcp.json",
    "acme-app/deploy/k8s/secret.yaml",
    "acme-app/agents/triage/main.py",
    "acme-app/agents/triage/requirements.txt",
    "acme-app/tools/release-notes/bot.py",
    "acme-app/tools/release-notes/requirements.txt",
);

/// A file that existed only in the repository's history.
const ENV_FILE: &str = include_str!("../../examples/sample-org/history/support-bot.env");

/// One commit of the sample history: author, e-mail, date (Unix seconds), message, and the
/// files it adds (from `APP`, or the history-only `.env`) and removes.
struct Commit {
    author: &'static str,
    email: &'static str,
    time: i64,
    message: &'static str,
    add: &'static [&'static str],
    remove: &'static [&'static str],
}

const HISTORY: &[Commit] = &[
    Commit {
        author: "Alice Martin",
        email: "alice@acme.example",
        time: 1_736_931_600, // 2025-01-15
        message: "support bot: first version",
        add: &[
            "README.md",
            ".github/CODEOWNERS",
            "support-bot/agent.py",
            "support-bot/requirements.txt",
        ],
        remove: &[],
    },
    Commit {
        author: "Bob Okafor",
        email: "bob@acme.example",
        time: 1_741_003_200, // 2025-03-03
        message: "billing: deploy script",
        add: &["billing-service/settings.py", "scripts/deploy.sh"],
        remove: &[],
    },
    Commit {
        author: "Dave Lindqvist",
        email: "dave@acme.example",
        time: 1_745_150_400, // 2025-04-20
        message: "billing: nightly invoice export",
        add: &["billing-service/worker.py"],
        remove: &[],
    },
    Commit {
        author: "Carol Nguyen",
        email: "carol@acme.example",
        time: 1_749_646_800, // 2025-06-11
        message: "eval notebook, MCP servers for the editor, k8s secret for the bot",
        add: &["notebooks/eval.ipynb", ".cursor/mcp.json", "deploy/k8s/secret.yaml"],
        remove: &[],
    },
    Commit {
        author: "Carol Nguyen",
        email: "carol@acme.example",
        time: 1_751_371_200, // 2025-07-01
        message: "experiment: triage crew",
        add: &["agents/triage/main.py", "agents/triage/requirements.txt"],
        remove: &[],
    },
    Commit {
        author: "Alice Martin",
        email: "alice@acme.example",
        time: 1_757_404_800, // 2025-09-09
        message: "support bot: local settings",
        add: &["support-bot/.env"],
        remove: &[],
    },
    Commit {
        author: "Alice Martin",
        email: "alice@acme.example",
        time: 1_757_491_200, // 2025-09-10
        message: "remove local settings (oops)",
        add: &[],
        remove: &["support-bot/.env"],
    },
    Commit {
        author: "Bob Okafor",
        email: "bob@acme.example",
        time: 1_760_000_000, // 2025-10-09
        message: "release notes bot",
        add: &["tools/release-notes/bot.py", "tools/release-notes/requirements.txt"],
        remove: &[],
    },
];

fn content(path: &str) -> Option<&'static str> {
    if path == "support-bot/.env" {
        return Some(ENV_FILE);
    }
    APP.iter()
        .find(|(p, _)| p.strip_prefix("acme-app/") == Some(path))
        .map(|(_, t)| *t)
}

/// A directory tree of blob ids, written bottom-up as git trees.
#[derive(Default)]
struct Dir {
    files: BTreeMap<String, gix::ObjectId>,
    dirs: BTreeMap<String, Dir>,
}

impl Dir {
    fn insert(&mut self, path: &str, id: gix::ObjectId) {
        match path.split_once('/') {
            Some((d, rest)) => self.dirs.entry(d.to_owned()).or_default().insert(rest, id),
            None => {
                self.files.insert(path.to_owned(), id);
            }
        }
    }

    fn remove(&mut self, path: &str) {
        match path.split_once('/') {
            Some((d, rest)) => {
                if let Some(sub) = self.dirs.get_mut(d) {
                    sub.remove(rest);
                    if sub.files.is_empty() && sub.dirs.is_empty() {
                        self.dirs.remove(d);
                    }
                }
            }
            None => {
                self.files.remove(path);
            }
        }
    }

    fn write(&self, repo: &gix::Repository) -> Result<gix::ObjectId> {
        use gix::objs::tree::{Entry, EntryKind};
        let mut entries = vec![];
        for (name, id) in &self.files {
            entries.push(Entry {
                mode: EntryKind::Blob.into(),
                filename: name.as_str().into(),
                oid: *id,
            });
        }
        for (name, d) in &self.dirs {
            entries.push(Entry {
                mode: EntryKind::Tree.into(),
                filename: name.as_str().into(),
                oid: d.write(repo)?,
            });
        }
        entries.sort();
        Ok(repo.write_object(&gix::objs::Tree { entries })?.detach())
    }
}

/// Creates the acme-app repository at `dir` with the sample history, and writes its final files
/// as the working tree.
fn build_repo(dir: &Path) -> Result<()> {
    if dir.join(".git").exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot replace {}", dir.display()))?;
    }
    let repo = gix::init(dir).with_context(|| format!("cannot create a git repository at {}", dir.display()))?;
    let mut tree = Dir::default();
    let mut parent: Option<gix::ObjectId> = None;
    for c in HISTORY {
        for p in c.add {
            let text = content(p).with_context(|| format!("sample history names a missing file {p}"))?;
            tree.insert(p, repo.write_blob(text)?.detach());
        }
        for p in c.remove {
            tree.remove(p);
        }
        let tree_id = tree.write(&repo)?;
        let time = format!("{} +0000", c.time);
        let sig = gix::actor::SignatureRef {
            name: c.author.into(),
            email: c.email.into(),
            time: &time,
        };
        let id = repo
            .commit_as(sig, sig, "HEAD", c.message, tree_id, parent)
            .with_context(|| format!("cannot write the sample commit {:?}", c.message))?;
        parent = Some(id.detach());
    }
    for (rel, text) in APP {
        let p = dir.join(rel.trim_start_matches("acme-app/"));
        std::fs::create_dir_all(p.parent().expect("sample paths have parents"))?;
        std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?;
    }
    Ok(())
}

pub fn run(out: &Path) -> Result<ExitCode> {
    let sample = out.join("sample-org");
    for (rel, text) in FILES {
        let p = sample.join(rel);
        std::fs::create_dir_all(p.parent().expect("sample paths have parents"))
            .with_context(|| format!("cannot create {}", sample.display()))?;
        std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?;
    }
    build_repo(&sample.join("acme-app"))?;
    let state = out.join("state");
    let d = crate::discover::run(&crate::discover::Options {
        config: &sample.join("roster.toml"),
        registry: None,
        output_dir: out,
        state_dir: &state,
        progress: false,
        now_ms: crate::discover::now_ms(),
        as_of: None,
        scope: None,
    })?;
    let mut text = roster_report::gaps_text(&d.report);
    text.push_str(&d.history);
    text.push_str(&format!("\nSample organization: {}\n", sample.display()));
    for p in &d.written {
        text.push_str(&format!("Report: {}\n", p.display()));
    }
    crate::write_output(None, &text)?;
    // The sample is complete by construction: a source that failed (a connector missing from
    // the binary, say) is a broken install, not a demo.
    Ok(crate::exit_code(false, d.report.incomplete, false))
}
