//! CODEOWNERS of the scanned sources: a repository's from its default branch's committed tree, a
//! working tree's without following a symbolic link.

use roster_correlate::CodeOwners;
use roster_model::ScanIssue;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The CODEOWNERS file of each scanned root (`(path, is_repository)`) that has one, keyed by
/// the root's label: (the file as named in the report, its text). A file that cannot be read is
/// an issue.
pub(crate) fn codeowners_texts(
    roots: &[(PathBuf, bool)],
    labels: &BTreeMap<String, String>,
    issues: &mut Vec<ScanIssue>,
) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    for (root, is_repo) in roots {
        // Named by the source as configured, so reports do not carry this machine's paths.
        let key = root.display().to_string();
        let label = labels.get(&key).cloned().unwrap_or(key);
        // A repository's owners are those of its default branch (what HEAD names), read from the
        // committed tree: never from a working tree, where a symlink could point anywhere.
        let repo = if *is_repo { gix::open(root).ok() } else { None };
        for rel in [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"] {
            let origin = format!("{}/{rel}", label.trim_end_matches('/'));
            let text = match &repo {
                Some(repo) => head_file(repo, rel),
                None => working_tree_file(root, rel),
            };
            let text = match text {
                Ok(Some(t)) => t,
                Ok(None) => continue,
                Err(why) => {
                    issues.push(ScanIssue {
                        level: "skipped".into(),
                        source: origin,
                        message: why,
                    });
                    continue;
                }
            };
            out.insert(label, (origin, text));
            break;
        }
    }
    out
}

/// Parses the files [`codeowners_texts`] read; lines that cannot be read are issues.
pub(crate) fn parse_codeowners(
    texts: BTreeMap<String, (String, String)>,
    issues: &mut Vec<ScanIssue>,
) -> BTreeMap<String, CodeOwners> {
    texts
        .into_iter()
        .map(|(label, (origin, text))| {
            let (c, warnings) = CodeOwners::parse(&text, &origin);
            issues.extend(warnings.into_iter().map(|w| ScanIssue {
                level: "skipped".into(),
                source: origin.clone(),
                message: w,
            }));
            (label, c)
        })
        .collect()
}

/// The largest CODEOWNERS file read (GitHub ignores files over 3 MB).
const MAX_CODEOWNERS: u64 = 3 << 20;

/// A file's text at HEAD of a repository: `Ok(None)` when it is not there; an error when it is
/// there but not a regular file (a symlink), too large or not UTF-8.
fn head_file(repo: &gix::Repository, rel: &str) -> Result<Option<String>, String> {
    let Some(tree) = repo.head_commit().ok().and_then(|c| c.tree().ok()) else {
        return Ok(None);
    };
    let Ok(Some(entry)) = tree.lookup_entry_by_path(rel) else {
        return Ok(None);
    };
    if !entry.mode().is_blob() {
        return Err("not a regular file in the default branch (a symlink?): not read".into());
    }
    let blob = entry.object().map_err(|e| format!("cannot read: {e}"))?;
    if blob.data.len() as u64 > MAX_CODEOWNERS {
        return Err(format!("{} bytes, more than GitHub reads: not read", blob.data.len()));
    }
    String::from_utf8(blob.data.clone())
        .map(Some)
        .map_err(|_| "not UTF-8: not read".into())
}

/// A file's text in a working tree, read without following a symlink in `rel` (a `CODEOWNERS ->
/// ~/.aws/credentials` link must not put that file into the report).
fn working_tree_file(root: &std::path::Path, rel: &str) -> Result<Option<String>, String> {
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;
    let mut at = root.to_path_buf();
    let mut last = None;
    for part in rel.split('/') {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Err(_) => return Ok(None),
            Ok(m) if m.file_type().is_symlink() => {
                return Err(format!("{} is a symbolic link: not followed", at.display()));
            }
            Ok(m) => last = Some(m),
        }
    }
    let Some(seen) = last.filter(std::fs::Metadata::is_file) else {
        return Err("not a regular file: not read".into());
    };
    let file = std::fs::File::open(&at).map_err(|e| format!("cannot open: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot read: {e}"))?;
    // Swapped for a link between the check and the open: not what was checked.
    if (meta.dev(), meta.ino()) != (seen.dev(), seen.ino()) {
        return Err("changed while being read: not read".into());
    }
    let mut bytes = Vec::new();
    file.take(MAX_CODEOWNERS + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > MAX_CODEOWNERS {
        return Err("more than 3 MiB, more than GitHub reads: not read".into());
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| "not UTF-8: not read".into())
}
