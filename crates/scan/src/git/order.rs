//! The order a history scan visits commits in: parents before children, otherwise oldest first
//! (by committer time, as `git log --topo-order --reverse` would put them). The first commit in
//! this order whose tree reaches a blob is the one that introduced it, so each finding is
//! attributed to the commit (author, date) that added the secret, on any shape of history.

use super::walk::Objects;
use crate::ScanOutput;
use gix::ObjectId;
use gix::hashtable::HashMap;
use gix::traverse::commit::simple::{CommitTimeOrder, Sorting};

/// Commits for the walk: from those the pack traversal decoded (a whole-history scan has them
/// all), else from the object database.
struct Commits<'a> {
    objects: &'a Objects,
    repo: &'a gix::Repository,
}

impl gix::objs::Find for Commits<'_> {
    fn try_find<'a>(&self, id: &gix::oid, buffer: &'a mut Vec<u8>) -> gix::error::Result<Option<gix::objs::Data<'a>>> {
        if let Some(bytes) = self.objects.commit(id) {
            buffer.clear();
            buffer.extend_from_slice(bytes);
            return Ok(Some(gix::objs::Data::new(
                buffer,
                gix::objs::Kind::Commit,
                self.repo.object_hash(),
            )));
        }
        self.repo.objects.try_find(id, buffer)
    }
}

/// One commit as the walk lists it (newest first by committer time).
struct Listed {
    id: ObjectId,
    time: i64,
    parents: Vec<ObjectId>,
}

/// The commits `tips` reach and `hidden` do not, parents before children and otherwise oldest
/// first. A commit that cannot be read stops the walk; what was listed until then is kept and
/// the source is marked incomplete.
pub(super) fn commits_oldest_first(
    repo: &gix::Repository,
    objects: &Objects,
    tips: &[ObjectId],
    hidden: &[ObjectId],
    out: &mut ScanOutput,
) -> Vec<ObjectId> {
    let source = out.source.clone();
    let walk = gix::traverse::commit::Simple::new(tips.iter().copied(), Commits { objects, repo })
        .sorting(Sorting::ByCommitTime(CommitTimeOrder::NewestFirst))
        .and_then(|w| w.hide(hidden.iter().copied()));
    let walk = match walk {
        Ok(walk) => walk,
        Err(e) => {
            out.issue("error", &source, format!("cannot walk history: {e}"));
            return Vec::new();
        }
    };
    let mut listed = Vec::new();
    for info in walk {
        match info {
            Ok(info) => listed.push(Listed {
                id: info.id,
                time: info.commit_time.unwrap_or(0),
                parents: info.parent_ids.to_vec(),
            }),
            Err(e) => {
                out.issue(
                    "error",
                    &source,
                    format!("history walk stopped early: {e}; later commits were not scanned"),
                );
                break;
            }
        }
    }
    parents_first(&listed).into_iter().map(|i| listed[i].id).collect()
}

/// Indexes into `listed`: every commit after its parents (those listed), otherwise by committer
/// time, oldest first, and for equal times in the reverse of the listing.
fn parents_first(listed: &[Listed]) -> Vec<usize> {
    let mut by_age: Vec<usize> = (0..listed.len()).collect();
    by_age.sort_by_key(|&i| (listed[i].time, std::cmp::Reverse(i)));
    let mut rank = vec![0; listed.len()];
    for (r, &i) in by_age.iter().enumerate() {
        rank[i] = r;
    }
    let index: HashMap<ObjectId, usize> = listed.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    // Each commit's listed parents, oldest first.
    let parents: Vec<Vec<usize>> = listed
        .iter()
        .map(|c| {
            let mut p: Vec<usize> = c.parents.iter().filter_map(|id| index.get(id).copied()).collect();
            p.sort_by_key(|&i| rank[i]);
            p.dedup();
            p
        })
        .collect();
    // Depth first from each commit in age order: its parents not yet placed are placed first.
    // `placed` also marks the commits on the stack, so a (malformed) cycle cannot loop.
    let mut placed = vec![false; listed.len()];
    let mut order = Vec::with_capacity(listed.len());
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for &start in &by_age {
        if placed[start] {
            continue;
        }
        placed[start] = true;
        stack.push((start, 0));
        while let Some((node, next)) = stack.last_mut() {
            if let Some(&p) = parents[*node].get(*next) {
                *next += 1;
                if !placed[p] {
                    placed[p] = true;
                    stack.push((p, 0));
                }
            } else {
                order.push(*node);
                stack.pop();
            }
        }
    }
    debug_assert_eq!(order.len(), listed.len());
    order
}

#[cfg(test)]
mod tests {
    use super::{Listed, parents_first};
    use gix::ObjectId;

    fn id(n: u8) -> ObjectId {
        ObjectId::from_bytes_or_panic(&[n; 20])
    }

    fn listed(commits: &[(u8, i64, &[u8])]) -> Vec<Listed> {
        commits
            .iter()
            .map(|&(n, time, parents)| Listed {
                id: id(n),
                time,
                parents: parents.iter().map(|&p| id(p)).collect(),
            })
            .collect()
    }

    fn order(commits: &[(u8, i64, &[u8])]) -> Vec<u8> {
        let l = listed(commits);
        parents_first(&l).into_iter().map(|i| l[i].id.as_bytes()[0]).collect()
    }

    #[test]
    fn a_linear_history_is_oldest_first() {
        assert_eq!(order(&[(3, 30, &[2]), (2, 20, &[1]), (1, 10, &[])]), vec![1, 2, 3]);
    }

    #[test]
    fn a_branch_merged_later_keeps_its_base_before_the_mainline() {
        // main: 1 ← 2 ← 3 ← 4, side: 1 ← 5, merge 6 = (4, 5).
        let o = order(&[
            (6, 60, &[4, 5]),
            (5, 50, &[1]),
            (4, 40, &[3]),
            (3, 30, &[2]),
            (2, 20, &[1]),
            (1, 10, &[]),
        ]);
        assert_eq!(o, vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn a_parent_with_a_later_clock_still_comes_first() {
        // 2's committer clock was ahead: it is dated after its child 3.
        let o = order(&[(2, 90, &[1]), (4, 40, &[3]), (3, 30, &[2]), (1, 10, &[])]);
        assert_eq!(o, vec![1, 2, 3, 4]);
    }

    #[test]
    fn equal_times_keep_parents_first_and_unlisted_parents_are_ignored() {
        // 9 is hidden (not listed); 2 and 3 share a time.
        let o = order(&[(3, 10, &[2]), (2, 10, &[1, 9]), (1, 10, &[])]);
        assert_eq!(o, vec![1, 2, 3]);
    }
}
