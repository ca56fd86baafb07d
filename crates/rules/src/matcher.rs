//! Matching a buffer against a [`RuleSet`]: keyword prefilter, windowed regexes, then entropy,
//! validators and allowlists.

use crate::compile::DEFAULT_RADIUS;
use crate::{RuleSet, shannon_entropy};
use roster_model::RuleKind;
use std::ops::Range;

/// A candidate that passed every filter of its rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Index of the rule ([`RuleSet::rule`]).
    pub rule: u32,
    /// Byte range of the secret (or the agent evidence) in the buffer.
    pub secret: Range<usize>,
    /// Byte range of the whole regex match.
    pub whole: Range<usize>,
    /// The validator that confirmed the format, if the rule has one.
    pub validated: Option<&'static str>,
}

/// Reusable per-thread buffers for [`RuleSet::find_matches`].
#[derive(Debug, Default)]
pub struct Scratch {
    windows: Vec<Vec<(usize, usize)>>,
    touched: Vec<u32>,
    /// Per rule: 0 = path not checked yet, 1 = applies, 2 = does not apply.
    applies: Vec<u8>,
    checked: Vec<u32>,
    /// Per touched rule: matches past the limit, counted but not stored.
    over: Vec<(u32, u64)>,
    /// The whole-match ranges of non-fallback rules' matches past the limit, kept only when a
    /// fallback rule of the same kind ran on the buffer (it yields to them).
    over_spans: Vec<(RuleKind, Range<usize>)>,
    /// Keyword hits of the buffer being matched.
    hits: Vec<KeywordHit>,
    /// Each rule's regex results by window content, when remembered ([`Scratch::remembering`]).
    memo: Option<WindowMemo>,
}

/// A rule's regex matches in a window depend only on the rule and the window's bytes: a history
/// scan meets the same windows (unchanged lines) in version after version of a file, and looks
/// their matches up here instead of running the regex again. Entries are compared byte for byte,
/// so a hash collision costs a regex run, never a wrong result. Windows and matches are kept in
/// two arenas (no allocation per entry), and everything is dropped at once when full.
#[derive(Debug)]
struct WindowMemo {
    /// By hash of (rule, window bytes): the newest entry with that hash.
    map: std::collections::HashMap<u64, u32, NoHash>,
    entries: Vec<MemoEntry>,
    /// The entries' windows, end to end.
    windows: Vec<u8>,
    /// The entries' candidates (whole match, secret; relative to the window's start).
    found: Vec<(Range<usize>, Range<usize>)>,
    hasher: foldhash::fast::FixedState,
    /// The most window bytes held.
    cap: usize,
}

#[derive(Debug)]
struct MemoEntry {
    rule: u32,
    window: Range<usize>,
    found: Range<usize>,
    /// The previous entry with the same hash.
    next: Option<u32>,
}

/// The memo's keys are already hashes.
#[derive(Debug, Default, Clone, Copy)]
struct NoHash;

impl std::hash::BuildHasher for NoHash {
    type Hasher = PassThrough;
    fn build_hasher(&self) -> PassThrough {
        PassThrough(0)
    }
}

#[derive(Debug)]
struct PassThrough(u64);

impl std::hash::Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl WindowMemo {
    fn new(cap: usize) -> Self {
        Self {
            map: std::collections::HashMap::with_hasher(NoHash),
            entries: Vec::new(),
            windows: Vec::new(),
            found: Vec::new(),
            hasher: foldhash::fast::FixedState::with_seed(0x5eed),
            cap,
        }
    }

    /// The candidates (whole match, secret; relative to the window) of `rule`'s regex in
    /// `window`, run only when not remembered.
    fn found(&mut self, r: u32, rule: &crate::Rule, window: &[u8]) -> &[(Range<usize>, Range<usize>)] {
        use std::hash::BuildHasher;
        let key = self.hasher.hash_one((r, window));
        let head = self.map.get(&key).copied();
        let mut at = head;
        while let Some(i) = at {
            let e = &self.entries[i as usize];
            if e.rule == r && self.windows[e.window.clone()] == *window {
                return &self.found[e.found.clone()];
            }
            at = e.next;
        }
        let full = self.windows.len() + window.len() > self.cap || self.entries.len() >= u32::MAX as usize;
        if full {
            self.map.clear();
            self.entries.clear();
            self.windows.clear();
            self.found.clear();
        }
        let next = if full { None } else { head };
        let (w, f) = (self.windows.len(), self.found.len());
        self.windows.extend_from_slice(window);
        self.found.extend(regex_candidates(rule, window));
        let i = u32::try_from(self.entries.len()).expect("checked above");
        self.entries.push(MemoEntry {
            rule: r,
            window: w..self.windows.len(),
            found: f..self.found.len(),
            next,
        });
        self.map.insert(key, i);
        &self.found[f..]
    }
}

/// Each candidate of `rule`'s regex in `hay`: (whole match, secret), relative to `hay`; a match
/// whose secret group is empty is none.
fn regex_candidates<'a>(
    rule: &'a crate::Rule,
    hay: &'a [u8],
) -> impl Iterator<Item = (Range<usize>, Range<usize>)> + 'a {
    rule.regex.captures_iter(hay).filter_map(|caps| {
        let whole = caps.get(0).expect("group 0 always matches");
        let sec = caps.get(rule.secret_group).or(Some(whole)).filter(|m| !m.is_empty())?;
        Some((whole.range(), sec.range()))
    })
}

/// Where a keyword of the prefilter starts in a buffer: at each position, the longest keyword
/// that starts there (matched ASCII case-insensitively).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeywordHit {
    /// Byte offset of its first byte.
    pub start: usize,
    /// Byte offset past its last byte.
    pub end: usize,
    /// Which keyword (an index into the prefilter's patterns).
    pub pattern: u32,
}

impl Scratch {
    fn reset(&mut self, rules: usize) {
        if self.windows.len() != rules {
            self.windows = vec![Vec::new(); rules];
            self.applies = vec![0; rules];
            self.touched.clear();
            self.checked.clear();
        }
        for &r in &self.touched {
            self.windows[r as usize].clear();
        }
        self.touched.clear();
        for &r in &self.checked {
            self.applies[r as usize] = 0;
        }
        self.checked.clear();
        self.over.clear();
        self.over_spans.clear();
    }

    /// A scratch that remembers each rule's regex results by window content, holding up to
    /// `cap` bytes of windows: for scanning many versions of the same files (a history), where
    /// most windows recur. The results are the same as without.
    pub fn remembering(cap: usize) -> Self {
        Self {
            memo: Some(WindowMemo::new(cap)),
            ..Self::default()
        }
    }

    /// After [`RuleSet::find_matches_limited`]: each rule that matched more than the limit, and
    /// how many of its matches were counted but not stored.
    pub fn overflow(&self) -> &[(u32, u64)] {
        &self.over
    }

    /// After [`RuleSet::find_matches_limited`]: the whole-match ranges of the unstored matches of
    /// non-fallback rules, when a fallback rule of the same kind also ran (so that it can still
    /// yield to them). Unordered.
    pub fn overflow_spans(&self) -> &[(RuleKind, Range<usize>)] {
        &self.over_spans
    }
}

impl RuleSet {
    fn applies(&self, rule: u32, path: &str, scratch: &mut Scratch) -> bool {
        let r = &self.rules[rule as usize];
        let Some(filter) = &r.path_filter else { return true };
        let state = &mut scratch.applies[rule as usize];
        if *state == 0 {
            *state = if filter.matches(path) { 1 } else { 2 };
            scratch.checked.push(rule);
        }
        scratch.applies[rule as usize] == 1
    }

    /// Finds every rule match in `data` (the content of `path`), appending to `out`.
    /// Matches are not deduplicated across rules; a rule never reports the same range twice.
    pub fn find_matches(&self, path: &str, data: &[u8], scratch: &mut Scratch, out: &mut Vec<Match>) {
        self.find_matches_limited(path, data, usize::MAX, scratch, out);
    }

    /// As [`find_matches`](Self::find_matches), but stores at most `limit` matches per rule; the
    /// rest are counted ([`Scratch::overflow`]) without being stored, so a buffer holding
    /// millions of matches costs neither memory nor time per match beyond the regex.
    pub fn find_matches_limited(
        &self,
        path: &str,
        data: &[u8],
        limit: usize,
        scratch: &mut Scratch,
        out: &mut Vec<Match>,
    ) {
        let mut hits = std::mem::take(&mut scratch.hits);
        hits.clear();
        self.keyword_hits(data, 0..data.len(), &mut hits);
        self.find_matches_at_hits(path, data, &hits, limit, scratch, out);
        scratch.hits = hits;
    }

    /// The most bytes one keyword spans: whether (and which) keyword hit starts at a position
    /// depends only on the bytes from there to this many past it.
    pub fn keyword_reach(&self) -> usize {
        self.prefilter.max_pattern_len().max(1)
    }

    /// Appends, in ascending order, the keyword hits of `data` that start in `starts`: exactly
    /// those of a search over the whole buffer that start there (the search reads at most
    /// [`keyword_reach`](Self::keyword_reach) bytes past `starts`).
    pub fn keyword_hits(&self, data: &[u8], starts: Range<usize>, out: &mut Vec<KeywordHit>) {
        let stop = starts.end.min(data.len());
        let end = data.len().min(stop.saturating_add(self.keyword_reach() - 1));
        let mut at = starts.start;
        while at < stop {
            let Some(hit) = self.prefilter.find(aho_corasick::Input::new(data).span(at..end)) else {
                break;
            };
            if hit.start() >= stop {
                break;
            }
            at = hit.start() + 1;
            out.push(KeywordHit {
                start: hit.start(),
                end: hit.end(),
                pattern: u32::try_from(hit.pattern().as_usize()).expect("fewer than 2^32 keywords"),
            });
        }
    }

    /// As [`find_matches_limited`](Self::find_matches_limited), given the buffer's keyword hits
    /// ([`keyword_hits`](Self::keyword_hits) over the whole buffer, or the same list built
    /// otherwise): the result is the same as matching the buffer from scratch.
    pub fn find_matches_at_hits(
        &self,
        path: &str,
        data: &[u8],
        hits: &[KeywordHit],
        limit: usize,
        scratch: &mut Scratch,
        out: &mut Vec<Match>,
    ) {
        scratch.reset(self.rules.len());
        for hit in hits {
            let Some(keyword_rules) = self.keyword_rules.get(hit.pattern as usize) else {
                continue;
            };
            let (start, end) = (hit.start.min(data.len()), hit.end.min(data.len()));
            for &r in keyword_rules {
                if !self.applies(r, path, scratch) {
                    continue;
                }
                let extra = self.rules[r as usize].window;
                let (ws, we) = window(data, start, end, extra);
                let w = &mut scratch.windows[r as usize];
                if w.is_empty() {
                    scratch.touched.push(r);
                }
                match w.last_mut() {
                    Some(last) if ws <= last.1 && we >= last.0 => {
                        last.0 = last.0.min(ws);
                        last.1 = last.1.max(we);
                    }
                    _ => w.push((ws, we)),
                }
            }
        }
        for &r in &self.unkeyed {
            if self.applies(r, path, scratch) {
                scratch.windows[r as usize].push((0, data.len()));
                scratch.touched.push(r);
            }
        }
        let touched = std::mem::take(&mut scratch.touched);
        // Kinds that a fallback rule here yields in: overflow spans of those are kept.
        let fallback_kinds: Vec<RuleKind> = touched
            .iter()
            .map(|&r| &self.rules[r as usize])
            .filter(|r| r.fallback)
            .map(|r| r.kind)
            .collect();
        for &r in &touched {
            let rule = &self.rules[r as usize];
            let keep_spans = !rule.fallback && fallback_kinds.contains(&rule.kind);
            let rule_start = out.len();
            let mut over = 0u64;
            let (windows, memo, over_spans) =
                (&scratch.windows[r as usize], &mut scratch.memo, &mut scratch.over_spans);
            for &(ws, we) in windows {
                let hay = &data[ws..we];
                let mut take = |(whole, sec): (Range<usize>, Range<usize>)| {
                    let secret = ws + sec.start..ws + sec.end;
                    let whole = ws + whole.start..ws + whole.end;
                    let Some(validated) = self.accept(r, path, data, &secret, &whole) else {
                        return;
                    };
                    if out.len() - rule_start >= limit {
                        over += 1;
                        if keep_spans {
                            over_spans.push((rule.kind, whole));
                        }
                        return;
                    }
                    out.push(Match {
                        rule: r,
                        secret,
                        whole,
                        validated,
                    });
                };
                match memo {
                    Some(memo) => memo.found(r, rule, hay).iter().cloned().for_each(&mut take),
                    None => regex_candidates(rule, hay).for_each(&mut take),
                }
            }
            // Windows are disjoint and ascending, so a repeat would be adjacent once sorted
            // (already sorted in practice: the sort is then linear).
            out[rule_start..].sort_by_key(|m| (m.secret.start, m.secret.end));
            let mut kept = rule_start;
            for i in rule_start..out.len() {
                if kept == rule_start || out[kept - 1].secret != out[i].secret {
                    out.swap(kept, i);
                    kept += 1;
                }
            }
            out.truncate(kept);
            if over > 0 {
                scratch.over.push((r, over));
            }
        }
        scratch.touched = touched;
    }

    /// Entropy, validator and allowlists. `Some(validated)` when the candidate is kept.
    fn accept(
        &self,
        r: u32,
        path: &str,
        data: &[u8],
        secret: &Range<usize>,
        whole: &Range<usize>,
    ) -> Option<Option<&'static str>> {
        let rule = &self.rules[r as usize];
        let s = &data[secret.clone()];
        if let Some(min) = rule.entropy
            && shannon_entropy(s) < min
        {
            return None;
        }
        let mut validated = None;
        if let Some(v) = rule.validator {
            if !v.check(s) {
                return None;
            }
            validated = Some(v.name());
        }
        let line = line_bounds(data, secret.start);
        let line = &data[line];
        let w = &data[whole.clone()];
        if rule.allowlists.iter().any(|a| a.allows(path, s, w, line)) {
            return None;
        }
        if rule.kind == RuleKind::Secret
            && self
                .global
                .iter()
                .filter(|a| a.target_rules.is_empty() || a.target_rules.contains(&rule.id))
                .any(|a| a.allows(path, s, w, line))
        {
            return None;
        }
        Some(validated)
    }
}

/// The region a rule's regex examines around a keyword hit: from the hit's line start to its line
/// end (each bounded by [`DEFAULT_RADIUS`]), or `extra` bytes past the hit for multi-line rules.
fn window(data: &[u8], start: usize, end: usize, extra: usize) -> (usize, usize) {
    let lo = start.saturating_sub(DEFAULT_RADIUS);
    let ws = memchr::memrchr(b'\n', &data[lo..start]).map_or(lo, |i| lo + i + 1);
    let we = if extra > 0 {
        data.len().min(end + extra)
    } else {
        let hi = data.len().min(end + DEFAULT_RADIUS);
        memchr::memchr(b'\n', &data[end..hi]).map_or(hi, |i| end + i)
    };
    (ws, we)
}

/// The byte range of the line containing `pos` (without the newline).
pub(crate) fn line_bounds(data: &[u8], pos: usize) -> Range<usize> {
    let pos = pos.min(data.len());
    let s = memchr::memrchr(b'\n', &data[..pos]).map_or(0, |i| i + 1);
    let e = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i);
    s..e
}

#[cfg(test)]
mod tests {
    use crate::{Flavor, RuleSetBuilder, Scratch};

    const RULES: &str = r#"
[[rules]]
id = "t.key"
name = "Test key"
regex = '''\b(tk_[A-Za-z0-9]{20})\b'''
keywords = ["tk_"]
entropy = 3.0
[rules.allowlist]
stopwords = ["zzz"]

[[rules]]
id = "t.py-only"
regex = '''(pyk_[a-z]{8})'''
keywords = ["pyk_"]
paths = ["**/*.py"]
"#;

    fn set() -> crate::RuleSet {
        let mut b = RuleSetBuilder::new();
        b.add("t.toml", RULES, Flavor::Roster);
        b.build().unwrap()
    }

    fn ids(set: &crate::RuleSet, path: &str, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        set.find_matches(path, text.as_bytes(), &mut Scratch::default(), &mut out);
        out.iter().map(|m| set.rule(m.rule).id.clone()).collect()
    }

    #[test]
    fn keyword_case_insensitive_and_entropy() {
        let s = set();
        assert_eq!(
            ids(&s, "a.txt", "x = TK_ nothing\nkey = tk_A1b2C3d4E5f6G7h8I9j0\n"),
            ["t.key"]
        );
        assert!(
            ids(&s, "a.txt", "key = tk_aaaaaaaaaaaaaaaaaaaa").is_empty(),
            "low entropy"
        );
        assert!(ids(&s, "a.txt", "key = tk_A1b2C3d4zzzE5f6G7h8I").is_empty(), "stopword");
    }

    #[test]
    fn path_filter_applies() {
        let s = set();
        assert_eq!(ids(&s, "src/app.py", "k = 'pyk_abcdefgh'"), ["t.py-only"]);
        assert!(ids(&s, "src/app.js", "k = 'pyk_abcdefgh'").is_empty());
    }

    #[test]
    fn many_hits_one_report() {
        let s = set();
        let text = "tk_ tk_ tk_A1b2C3d4E5f6G7h8I9j0 tk_\n".repeat(3);
        assert_eq!(ids(&s, "a", &text).len(), 3);
    }

    /// A remembering scratch gives the matches (and overflow) of a plain one, over versions of
    /// one file that share most lines, as a history's do, with a memo small enough to be
    /// cleared many times over.
    #[test]
    fn remembered_windows_give_the_matches_of_fresh_ones() {
        let rules = crate::RuleSet::builtin().expect("builtin rules");
        let mut lines: Vec<String> = rules
            .rules()
            .iter()
            .flat_map(|r| r.examples.iter().chain(&r.negative_examples))
            .flat_map(|e| e.lines().map(str::to_owned).collect::<Vec<_>>())
            .collect();
        lines.extend([
            "fn main() {}".to_owned(),
            "    let token = value;".to_owned(),
            String::new(),
        ]);
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut file: Vec<String> = (0..60).map(|_| lines[next(lines.len())].clone()).collect();
        let (mut fresh, mut remembering) = (Scratch::default(), Scratch::remembering(4 << 10));
        let mut found = 0;
        for version in 0..300 {
            for _ in 0..=next(4) {
                let at = next(file.len());
                match next(3) {
                    0 => file[at] = lines[next(lines.len())].clone(),
                    1 => file.insert(at, lines[next(lines.len())].clone()),
                    _ => file[at].push_str(&lines[next(lines.len())]),
                }
            }
            let data = file.join("\n");
            let path = ["src/config.py", "deploy/values.yaml", ".env"][version % 3];
            let limit = if version % 4 == 0 { 1 } else { usize::MAX };
            let (mut a, mut b) = (Vec::new(), Vec::new());
            rules.find_matches_limited(path, data.as_bytes(), limit, &mut fresh, &mut a);
            rules.find_matches_limited(path, data.as_bytes(), limit, &mut remembering, &mut b);
            assert_eq!(a, b, "version {version}");
            assert_eq!(fresh.overflow(), remembering.overflow(), "version {version}");
            found += a.len();
        }
        assert!(found > 1000, "the versions hold matches ({found})");
    }
}
