//! A delta blob's keyword hits, taken from its base's: git's delta instructions read back, the
//! base's hits kept until its last delta took them, and the hits of the bytes a delta copies
//! shifted into place (the rest searched). The result is the list a search of the whole blob
//! gives; the pack traversal ([`super::pack`]) uses it.

use roster_rules::KeywordHit;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A blob's keyword hits, kept for the deltas built on it until the last of them took them.
pub(super) struct BaseHits {
    pub(super) len: usize,
    pub(super) hits: Vec<KeywordHit>,
}

/// Per delta base (by pack offset): how many of its deltas have yet to take its hits, and the
/// hits (`None` for a binary blob).
pub(super) type Bases = Mutex<HashMap<u64, (u32, Option<Arc<BaseHits>>)>>;

/// Takes a delta base's keyword hits (the last delta built on it frees them).
pub(super) fn take_base(bases: &Bases, offset: u64) -> Option<Arc<BaseHits>> {
    let mut bases = bases.lock().expect("no panic while held");
    let entry = bases.get_mut(&offset)?;
    entry.0 = entry.0.saturating_sub(1);
    if entry.0 == 0 {
        bases.remove(&offset).and_then(|e| e.1)
    } else {
        entry.1.clone()
    }
}

/// The copy instructions of a git delta (its data after the two size headers): for each,
/// (offset in the result, offset in the base, length). `None` when the delta is malformed or
/// does not build exactly `result_len` bytes from a base of `base_len`.
pub(super) fn delta_copies(delta: &[u8], base_len: usize, result_len: usize) -> Option<Vec<(usize, usize, usize)>> {
    fn size(d: &[u8], i: &mut usize) -> Option<usize> {
        let mut v: u64 = 0;
        let mut shift = 0;
        loop {
            let b = *d.get(*i)?;
            *i += 1;
            if shift >= 64 {
                return None;
            }
            v |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                return usize::try_from(v).ok();
            }
        }
    }
    let mut i = 0;
    if size(delta, &mut i)? != base_len || size(delta, &mut i)? != result_len {
        return None;
    }
    let mut out = Vec::new();
    let mut at = 0usize;
    while let Some(&cmd) = delta.get(i) {
        i += 1;
        if cmd & 0x80 != 0 {
            let mut field = |bits: u8, shifts: &[u32]| -> Option<usize> {
                let mut v = 0usize;
                for (n, &s) in shifts.iter().enumerate() {
                    if cmd & (bits << n) != 0 {
                        v |= usize::from(*delta.get(i)?) << s;
                        i += 1;
                    }
                }
                Some(v)
            };
            let ofs = field(0x01, &[0, 8, 16, 24])?;
            let len = match field(0x10, &[0, 8, 16])? {
                0 => 0x10000,
                n => n,
            };
            if ofs.checked_add(len)? > base_len {
                return None;
            }
            out.push((at, ofs, len));
            at = at.checked_add(len)?;
        } else if cmd == 0 {
            return None;
        } else {
            i = i.checked_add(usize::from(cmd))?;
            if i > delta.len() {
                return None;
            }
            at = at.checked_add(usize::from(cmd))?;
        }
    }
    (at == result_len).then_some(out)
}

/// A delta's keyword hits from its base's: where the delta copies at least
/// [`keyword_reach`](roster_rules::RuleSet::keyword_reach) bytes of the base, a hit starting
/// with at least that many copied bytes after it is the base's own; everywhere else the keywords
/// are searched for. The list is the one a search of the whole blob gives.
pub(super) fn hits_from_base(
    rules: &roster_rules::RuleSet,
    data: &[u8],
    copies: &[(usize, usize, usize)],
    base: &[KeywordHit],
) -> Vec<KeywordHit> {
    let reach = rules.keyword_reach();
    let mut out = Vec::new();
    let mut searched_to = 0;
    for &(at, from, len) in copies {
        if len < reach {
            continue;
        }
        // Hits starting in `at..at + n` read only copied bytes.
        let n = len - reach + 1;
        if searched_to < at {
            rules.keyword_hits(data, searched_to..at, &mut out);
        }
        let first = base.partition_point(|h| h.start < from);
        out.extend(
            base[first..]
                .iter()
                .take_while(|h| h.start < from + n)
                .map(|h| KeywordHit {
                    start: h.start - from + at,
                    end: h.end - from + at,
                    pattern: h.pattern,
                }),
        );
        searched_to = searched_to.max(at + n);
    }
    if searched_to < data.len() {
        rules.keyword_hits(data, searched_to..data.len(), &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use roster_rules::RuleSet;

    enum Op {
        Copy(usize, usize),
        Insert(Vec<u8>),
    }

    fn varint(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    /// A git delta (as `git pack-objects` encodes one) and the blob it builds from `base`.
    fn encode(base: &[u8], ops: &[Op]) -> (Vec<u8>, Vec<u8>) {
        let mut result = Vec::new();
        let mut body = Vec::new();
        for op in ops {
            match op {
                Op::Copy(ofs, len) => {
                    result.extend_from_slice(&base[*ofs..ofs + len]);
                    let mut cmd = 0x80u8;
                    let mut args = Vec::new();
                    for n in 0..4 {
                        let b = (ofs >> (8 * n)) as u8;
                        if b != 0 {
                            cmd |= 1 << n;
                            args.push(b);
                        }
                    }
                    let size = if *len == 0x10000 { 0 } else { *len };
                    for n in 0..3 {
                        let b = (size >> (8 * n)) as u8;
                        if b != 0 {
                            cmd |= 0x10 << n;
                            args.push(b);
                        }
                    }
                    body.push(cmd);
                    body.extend(args);
                }
                Op::Insert(bytes) => {
                    result.extend_from_slice(bytes);
                    for chunk in bytes.chunks(127) {
                        body.push(chunk.len() as u8);
                        body.extend_from_slice(chunk);
                    }
                }
            }
        }
        let mut delta = Vec::new();
        varint(base.len(), &mut delta);
        varint(result.len(), &mut delta);
        delta.extend(body);
        (delta, result)
    }

    #[test]
    fn delta_copies_read_git_deltas_and_refuse_broken_ones() {
        let base: Vec<u8> = (0..140_000u32).map(|i| (i % 251) as u8).collect();
        let ops = [
            Op::Copy(0, 10),
            Op::Insert(b"new text".repeat(40)),
            Op::Copy(0x01_0203, 0x10000),
            Op::Copy(300, 1),
        ];
        let (delta, result) = encode(&base, &ops);
        assert_eq!(
            delta_copies(&delta, base.len(), result.len()),
            Some(vec![(0, 0, 10), (330, 0x01_0203, 0x10000), (330 + 0x10000, 300, 1)])
        );
        assert_eq!(delta_copies(&delta, base.len() + 1, result.len()), None, "base size");
        assert_eq!(delta_copies(&delta, base.len(), result.len() - 1), None, "result size");
        assert_eq!(
            delta_copies(&delta[..delta.len() - 1], base.len(), result.len()),
            None,
            "truncated"
        );
        let mut reserved = delta.clone();
        reserved.push(0);
        assert_eq!(delta_copies(&reserved, base.len(), result.len()), None, "command 0");
        let (past, result) = encode(&base, &[Op::Copy(0, 10)]);
        assert_eq!(delta_copies(&past, 5, result.len()), None, "a copy past the base");
    }

    /// A delta's hits built from its base's are the hits of a search of the whole delta, for
    /// random edits cutting through keywords anywhere.
    #[test]
    fn inherited_hits_are_the_hits_of_a_whole_search() {
        let rules = RuleSet::builtin().expect("builtin rules");
        let keywords: Vec<String> = rules.rules().iter().flat_map(|r| r.keywords.iter().cloned()).collect();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut pieces: Vec<Vec<u8>> = keywords.iter().map(|k| k.as_bytes().to_vec()).collect();
        pieces.extend(keywords.iter().map(|k| k.to_uppercase().into_bytes()));
        pieces.extend([b"plain words = value;".to_vec(), b" = x\n".to_vec(), b"_".to_vec()]);
        for case in 0..300 {
            check_case(&rules, &pieces, 20 + rng.next(400), &mut rng, case);
        }
        // Short keywords of every length up to the reach, over a three-letter alphabet: hits
        // everywhere, so every copy edge cuts through some, the longest keyword's included.
        let mut b = roster_rules::RuleSetBuilder::new();
        b.add(
            "t.toml",
            "[[rules]]\nid = \"t.dense\"\nregex = '(abc)'\nkeywords = [\"ab\", \"abc\", \"bca\", \"cabca\", \"abcabc\"]\n",
            roster_rules::Flavor::Roster,
        );
        let dense = b.build().expect("test rules");
        assert_eq!(dense.keyword_reach(), 6);
        let letters: Vec<Vec<u8>> = [&b"a"[..], b"b", b"c", b"abcabc", b"\n"]
            .iter()
            .map(|l| l.to_vec())
            .collect();
        for case in 0..2000 {
            check_case(&dense, &letters, 50 + rng.next(400), &mut rng, case);
        }
    }

    struct Rng(u64);

    impl Rng {
        fn next(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n.max(1) as u64) as usize
        }

        fn text(&mut self, pieces: &[Vec<u8>], n: usize) -> Vec<u8> {
            (0..n).flat_map(|_| pieces[self.next(pieces.len())].clone()).collect()
        }
    }

    /// A random base of `n` pieces and a random delta of it (copies cut anywhere, inserts): the
    /// hits built from the base's are a whole search's.
    fn check_case(rules: &RuleSet, pieces: &[Vec<u8>], n: usize, rng: &mut Rng, case: usize) {
        let base = rng.text(pieces, n);
        let mut ops = Vec::new();
        for _ in 0..rng.next(12) + 1 {
            if rng.next(3) == 0 {
                let n = rng.next(8);
                ops.push(Op::Insert(rng.text(pieces, n)));
            } else {
                let ofs = rng.next(base.len());
                let len = 1 + rng.next(base.len() - ofs);
                ops.push(Op::Copy(ofs, len));
            }
        }
        let (delta, result) = encode(&base, &ops);
        let copies = delta_copies(&delta, base.len(), result.len()).expect("a valid delta");
        let mut base_hits = Vec::new();
        rules.keyword_hits(&base, 0..base.len(), &mut base_hits);
        let mut whole = Vec::new();
        rules.keyword_hits(&result, 0..result.len(), &mut whole);
        assert!(
            !whole.is_empty() || result.len() < 50,
            "case {case}: the text holds keywords"
        );
        assert_eq!(
            hits_from_base(rules, &result, &copies, &base_hits),
            whole,
            "case {case}"
        );
    }
}
