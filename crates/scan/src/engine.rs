//! Turning one buffer into findings and agent evidence: rule matches, then the per-file passes
//! (generic rules yield to specific ones, inline `roster:allow`), plus decoders for content that
//! hides secrets from a plain text scan (Kubernetes Secret `data:` values are base64).

use crate::fingerprint::{Fingerprinter, redact, redact_identifier};
use crate::mcp;
use base64::Engine as _;
use roster_model::{AgentCategory, Finding, FindingExtra, McpServer, RuleKind, SecretBytes};
use roster_rules::{KeywordHit, Match, RuleSet, Scratch, shannon_entropy};
use std::collections::HashMap;

/// Evidence from an agent rule, before aggregation into agents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentHit {
    /// Rule index.
    pub rule: u32,
    /// File path.
    pub path: String,
    /// 1-based line.
    pub line: u32,
    /// The captured evidence.
    pub evidence: String,
    /// Commit (history scans).
    pub commit: Option<String>,
}

/// What one buffer produced.
#[derive(Debug, Default)]
pub struct FileResult {
    /// Secret findings (without commit info).
    pub findings: Vec<Finding>,
    /// Agent evidence.
    pub agent_hits: Vec<AgentHit>,
    /// MCP servers declared in the buffer.
    pub mcp_servers: Vec<McpServer>,
    /// Findings suppressed by `roster:allow`.
    pub suppressed_inline: u64,
    /// Rules that matched more than the per-rule cap in the buffer (rule id, how many of its
    /// matches were not reported), in rule order.
    pub over_cap: Vec<(String, u64)>,
}

/// Per-thread matching state.
#[derive(Debug)]
pub struct Engine {
    scratch: Scratch,
    matches: Vec<Match>,
    /// Reported items per rule per buffer; 0 = no cap.
    cap: usize,
    /// Per rule, in the current buffer: (reported, not reported past the cap).
    counts: HashMap<u32, (usize, u64)>,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new(crate::DEFAULT_MAX_FINDINGS_PER_RULE)
    }
}

const INLINE_ALLOW: [&[u8]; 2] = [b"roster:allow", b"gitleaks:allow"];

impl Engine {
    /// An engine that reports at most `max_findings_per_rule` findings (or agent hits) of one
    /// rule per buffer (0 = no cap); see [`crate::ScanOptions::max_findings_per_rule`].
    pub fn new(max_findings_per_rule: usize) -> Self {
        Self {
            scratch: Scratch::default(),
            matches: Vec::new(),
            cap: max_findings_per_rule,
            counts: HashMap::new(),
        }
    }

    /// As [`new`](Self::new), remembering each rule's regex results by window content (up to
    /// `memo_bytes` of windows): for the many versions of one file a history holds, whose
    /// unchanged lines give the same windows. Findings are the same as without.
    pub fn remembering(max_findings_per_rule: usize, memo_bytes: usize) -> Self {
        Self {
            scratch: Scratch::remembering(memo_bytes),
            ..Self::new(max_findings_per_rule)
        }
    }

    /// Scans `data` (the content of `path` in `source`) and appends to `out`.
    pub fn scan(
        &mut self,
        rules: &RuleSet,
        fp: &Fingerprinter,
        source: &str,
        path: &str,
        data: &[u8],
        out: &mut FileResult,
    ) {
        self.scan_at_hits(rules, fp, source, path, data, None, out);
    }

    /// As [`scan`](Self::scan), with `data`'s keyword hits ([`RuleSet::keyword_hits`] over all
    /// of it) when the caller has them: the result is the same, without searching for keywords.
    #[allow(clippy::too_many_arguments, reason = "scan's arguments and the hits")]
    pub fn scan_at_hits(
        &mut self,
        rules: &RuleSet,
        fp: &Fingerprinter,
        source: &str,
        path: &str,
        data: &[u8],
        hits: Option<&[KeywordHit]>,
        out: &mut FileResult,
    ) {
        let first = out.findings.len();
        self.counts.clear();
        self.scan_inner(rules, fp, source, path, data, None, hits, out);
        if let Some(decoded) = kubernetes_secret_data(path, data) {
            let raw_end = out.findings.len();
            for d in decoded {
                self.scan_inner(rules, fp, source, path, d.text.as_bytes(), Some(&d), None, out);
            }
            // A value found decoded is reported once, decoded: drop what the plain pass saw of it.
            let mut decoded_lines: Vec<u32> = out.findings[raw_end..].iter().map(|f| f.line).collect();
            decoded_lines.sort_unstable();
            decoded_lines.dedup();
            let mut idx = 0;
            out.findings.retain(|f| {
                let raw_pass = (first..raw_end).contains(&idx);
                idx += 1;
                !raw_pass || decoded_lines.binary_search(&f.line).is_err()
            });
        }
        if mcp::is_candidate(path, data) {
            out.mcp_servers.extend(mcp::servers(path, data));
        }
        apply_composites(rules, &mut out.findings, first);
        pair_findings(rules, &mut out.findings[first..]);
        let mut over: Vec<(u32, u64)> = self
            .counts
            .iter()
            .filter(|(_, c)| c.1 > 0)
            .map(|(&r, c)| (r, c.1))
            .collect();
        over.sort_unstable();
        out.over_cap
            .extend(over.into_iter().map(|(r, n)| (rules.rule(r).id.clone(), n)));
    }

    #[allow(clippy::too_many_arguments, reason = "internal helper with one caller")]
    fn scan_inner(
        &mut self,
        rules: &RuleSet,
        fp: &Fingerprinter,
        source: &str,
        path: &str,
        data: &[u8],
        decoded: Option<&Decoded>,
        hits: Option<&[KeywordHit]>,
        out: &mut FileResult,
    ) {
        self.matches.clear();
        let limit = if self.cap == 0 { usize::MAX } else { self.cap };
        match hits {
            Some(h) => rules.find_matches_at_hits(path, data, h, limit, &mut self.scratch, &mut self.matches),
            None => rules.find_matches_limited(path, data, limit, &mut self.scratch, &mut self.matches),
        }
        for &(r, n) in self.scratch.overflow() {
            self.counts.entry(r).or_default().1 += n;
        }
        if self.matches.is_empty() {
            return;
        }
        // Generic (fallback) rules yield to a specific rule that found an overlapping secret
        // (including specific matches past the cap, which were not stored as matches).
        let specific = Overlaps::new(
            self.matches
                .iter()
                .filter(|m| !rules.rule(m.rule).fallback)
                .map(|m| (rules.rule(m.rule).kind, m.whole.clone()))
                .chain(self.scratch.overflow_spans().iter().cloned()),
        );
        self.matches.sort_by_key(|m| (m.secret.start, m.rule));
        let mut lines = LineCounter::default();
        for m in &self.matches {
            let rule = rules.rule(m.rule);
            if rule.fallback && specific.any(rule.kind, &m.whole) {
                continue;
            }
            let (line, column) = lines.position(data, m.secret.start);
            let secret = &data[m.secret.clone()];
            let (line, column) = match decoded {
                Some(d) => (d.line, d.column),
                None => (line, column),
            };
            if rule.kind == RuleKind::Agent {
                if over_cap(&mut self.counts, self.cap, m.rule) {
                    continue;
                }
                out.agent_hits.push(AgentHit {
                    rule: m.rule,
                    path: path.to_owned(),
                    line,
                    evidence: String::from_utf8_lossy(secret).chars().take(200).collect(),
                    commit: None,
                });
                continue;
            }
            let line_text = match decoded {
                Some(d) => d.original_line.as_bytes(),
                None => line_slice(data, m.secret.start),
            };
            if INLINE_ALLOW
                .iter()
                .any(|a| memchr::memmem::find(line_text, a).is_some())
            {
                out.suppressed_inline += 1;
                continue;
            }
            if over_cap(&mut self.counts, self.cap, m.rule) {
                continue;
            }
            let mut finding = Finding {
                rule_id: rule.id.as_str().into(),
                rule_name: rule.name.as_str().into(),
                provider: rule.provider.as_str().into(),
                kind: RuleKind::Secret,
                severity: rule.severity,
                path: path.into(),
                line,
                column,
                fingerprint: fp.fingerprint(secret).into(),
                redacted: if rule.identifier {
                    redact_identifier(secret, known_prefix(rule, secret)).into()
                } else {
                    redact(secret, known_prefix(rule, secret)).into()
                },
                length: secret.len(),
                entropy: (shannon_entropy(secret) * 100.0).round() / 100.0,
                source: source.into(),
                commit: None,
                author: None,
                date: None,
                commit_summary: None,
                extra: None,
            };
            finding.set_extra(FindingExtra {
                decoded: decoded.map(|d| d.how.to_owned()),
                validated: m.validated.map(str::to_owned),
                raw: Some(SecretBytes(secret.to_vec())),
                ..FindingExtra::default()
            });
            out.findings.push(finding);
        }
    }
}

/// The length of the rule keyword that starts `secret`, if one does: a public, format-defining
/// prefix (`sk-proj-`, `AKIA`) that its redacted form may show whole.
pub(crate) fn known_prefix(rule: &roster_rules::Rule, secret: &[u8]) -> usize {
    rule.keywords
        .iter()
        .filter(|k| secret.len() > k.len() && secret[..k.len()].eq_ignore_ascii_case(k.as_bytes()))
        .map(String::len)
        .max()
        .unwrap_or(0)
}

/// Counts one item of `rule` in this buffer: true when the cap was already reached (the item is
/// counted as not reported and must be dropped).
fn over_cap(counts: &mut std::collections::HashMap<u32, (usize, u64)>, cap: usize, rule: u32) -> bool {
    let c = counts.entry(rule).or_default();
    if cap > 0 && c.0 >= cap {
        c.1 += 1;
        true
    } else {
        c.0 += 1;
        false
    }
}

/// Byte ranges of one buffer's specific matches, by kind, sorted by start with the running
/// maximum end, so that "does any overlap this range" is a binary search.
struct Overlaps {
    /// Per kind (secret, agent): (start, end, max end of this and every earlier range).
    by_kind: [Vec<(usize, usize, usize)>; 2],
}

impl Overlaps {
    fn new(spans: impl Iterator<Item = (RuleKind, std::ops::Range<usize>)>) -> Self {
        let mut by_kind: [Vec<(usize, usize, usize)>; 2] = [Vec::new(), Vec::new()];
        for (k, r) in spans {
            by_kind[Self::slot(k)].push((r.start, r.end, 0));
        }
        for v in &mut by_kind {
            v.sort_unstable();
            let mut max = 0;
            for e in v.iter_mut() {
                max = max.max(e.1);
                e.2 = max;
            }
        }
        Self { by_kind }
    }

    fn slot(k: RuleKind) -> usize {
        match k {
            RuleKind::Secret => 0,
            RuleKind::Agent => 1,
        }
    }

    /// True when a range of kind `k` overlaps `r` (each starts before the other ends).
    fn any(&self, k: RuleKind, r: &std::ops::Range<usize>) -> bool {
        let v = &self.by_kind[Self::slot(k)];
        let n = v.partition_point(|e| e.0 < r.end);
        n > 0 && v[n - 1].2 > r.start
    }
}

/// True when a decoder reads this file as a whole (Kubernetes Secret manifests, MCP configs), so
/// a partial view of it (changed lines only) would miss what the decoder finds.
pub fn needs_whole_file(path: &str, data: &[u8]) -> bool {
    is_kubernetes_secret(path, data) || mcp::is_candidate(path, data)
}

/// A YAML Kubernetes `Secret` manifest, whose `data:` values the decoder reads.
fn is_kubernetes_secret(path: &str, data: &[u8]) -> bool {
    (path.ends_with(".yaml") || path.ends_with(".yml"))
        && (memchr::memmem::find(data, b"kind: Secret").is_some()
            || memchr::memmem::find(data, b"kind: \"Secret\"").is_some())
}

/// Composite rules: a finding whose rule has `required` rules is kept only when each has a
/// finding near it in this file; findings of `skip_report` rules are then dropped.
fn apply_composites(rules: &RuleSet, findings: &mut Vec<Finding>, first: usize) {
    let rule_of = |id: &str| rules.rule_by_id(id);
    let here = &findings[first..];
    if !here
        .iter()
        .any(|f| rule_of(&f.rule_id).is_some_and(|r| !r.required.is_empty() || r.skip_report))
    {
        return;
    }
    // Positions of each rule's findings, by line: a requirement looks only at its line window.
    let mut at: HashMap<&str, Vec<(u32, u32)>> = HashMap::new();
    for f in here {
        at.entry(f.rule_id.as_str()).or_default().push((f.line, f.column));
    }
    for v in at.values_mut() {
        v.sort_unstable();
    }
    let keep: Vec<bool> = here
        .iter()
        .map(|f| {
            let Some(rule) = rule_of(&f.rule_id) else { return true };
            if rule.skip_report {
                return false;
            }
            rule.required.iter().all(|req| {
                let Some(v) = at.get(req.id.as_str()) else { return false };
                let (lo, hi) = match req.within_lines {
                    Some(n) => (f.line.saturating_sub(n), f.line.saturating_add(n)),
                    None => (0, u32::MAX),
                };
                let from = v.partition_point(|p| p.0 < lo);
                v[from..]
                    .iter()
                    .take_while(|p| p.0 <= hi)
                    .any(|p| req.near(f.line, f.column, p.0, p.1))
            })
        })
        .collect();
    let mut idx = 0;
    findings.retain(|_| {
        let k = idx < first || keep[idx - first];
        idx += 1;
        k
    });
}

/// Lines apart two halves of a credential may be and still be paired.
const PAIR_LINES: u32 = 5;

/// Pairs findings whose rules complete each other (`pairs_with`), nearest first (the earliest
/// finding among equally near ones).
fn pair_findings(rules: &RuleSet, findings: &mut [Finding]) {
    let by_id = |id: &str| rules.rule_by_id(id);
    if !findings
        .iter()
        .any(|f| by_id(&f.rule_id).is_some_and(|r| r.pairs_with.is_some()))
    {
        return;
    }
    // Each rule's findings as (line, index), sorted: the partner search is a window lookup.
    let mut at: HashMap<String, Vec<(u32, usize)>> = HashMap::new();
    for (j, f) in findings.iter().enumerate() {
        at.entry(f.rule_id.to_string()).or_default().push((f.line, j));
    }
    for v in at.values_mut() {
        v.sort_unstable();
    }
    for i in 0..findings.len() {
        let Some(partner_rule) = by_id(&findings[i].rule_id).and_then(|r| r.pairs_with.as_deref()) else {
            continue;
        };
        let Some(v) = at.get(partner_rule) else { continue };
        let line = findings[i].line;
        let from = v.partition_point(|p| p.0 < line.saturating_sub(PAIR_LINES));
        let nearest = v[from..]
            .iter()
            .take_while(|p| p.0 <= line.saturating_add(PAIR_LINES))
            .filter(|p| p.1 != i)
            .min_by_key(|p| (p.0.abs_diff(line), p.1))
            .map(|p| p.1);
        if let Some(j) = nearest {
            let (a, b) = (findings[i].fingerprint.clone(), findings[j].fingerprint.clone());
            findings[i].extra_mut().paired_with = Some(b.to_string());
            findings[j].extra_mut().paired_with = Some(a.to_string());
        }
    }
}

/// True when a rule's evidence is a credential reference (an env var name).
pub fn is_credential_ref(rules: &RuleSet, hit: &AgentHit) -> bool {
    rules.rule(hit.rule).category == Some(AgentCategory::CredentialRef)
}

/// True for hits of `identity-ref` rules: the public id of an app the workload signs in as.
pub fn is_identity_ref(rules: &RuleSet, hit: &AgentHit) -> bool {
    rules.rule(hit.rule).category == Some(AgentCategory::IdentityRef)
}

fn line_slice(data: &[u8], pos: usize) -> &[u8] {
    let s = memchr::memrchr(b'\n', &data[..pos]).map_or(0, |i| i + 1);
    let e = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i);
    &data[s..e]
}

/// Incremental line/column computation for ascending offsets.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    line: u32,
    line_start: usize,
}

impl LineCounter {
    fn position(&mut self, data: &[u8], pos: usize) -> (u32, u32) {
        if pos < self.offset {
            *self = LineCounter::default();
        }
        for i in memchr::memchr_iter(b'\n', &data[self.offset..pos]) {
            self.line += 1;
            self.line_start = self.offset + i + 1;
        }
        self.offset = pos;
        let col = u32::try_from(pos - self.line_start + 1).unwrap_or(u32::MAX);
        (self.line.saturating_add(1), col)
    }
}

/// A decoded value, scanned as `KEY: value` so name-bound rules see the key.
#[derive(Debug)]
struct Decoded {
    text: String,
    line: u32,
    column: u32,
    original_line: String,
    how: &'static str,
}

/// Values under `data:` in a YAML Kubernetes `Secret` manifest, base64-decoded.
fn kubernetes_secret_data(path: &str, data: &[u8]) -> Option<Vec<Decoded>> {
    if !is_kubernetes_secret(path, data) {
        return None;
    }
    let text = std::str::from_utf8(data).ok()?;
    let mut out = Vec::new();
    let mut data_indent: Option<usize> = None;
    for (n, raw_line) in text.lines().enumerate() {
        let indent = raw_line.len() - raw_line.trim_start().len();
        let line = raw_line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "---" {
            data_indent = None;
            continue;
        }
        if line == "data:" {
            data_indent = Some(indent);
            continue;
        }
        let Some(base) = data_indent else { continue };
        if indent <= base {
            data_indent = None;
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim().trim_matches(['"', '\'']);
        if value.len() < 8 {
            continue;
        }
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(value) else {
            continue;
        };
        let Ok(decoded) = String::from_utf8(bytes) else {
            continue;
        };
        let decoded = decoded.trim_end_matches('\n');
        if decoded.chars().any(|c| c.is_control() && c != '\n') {
            continue;
        }
        let col = raw_line.find(value).map_or(1, |c| c + 1);
        out.push(Decoded {
            text: format!("{}: {decoded}\n", key.trim()),
            line: u32::try_from(n + 1).unwrap_or(u32::MAX),
            column: u32::try_from(col).unwrap_or(u32::MAX),
            original_line: raw_line.to_owned(),
            how: "base64 (Kubernetes Secret data)",
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_counter_positions() {
        let data = b"ab\ncd\nef";
        let mut c = LineCounter::default();
        assert_eq!(c.position(data, 0), (1, 1));
        assert_eq!(c.position(data, 4), (2, 2));
        assert_eq!(c.position(data, 6), (3, 1));
    }

    #[test]
    fn overlaps_match_a_linear_scan() {
        let spans = [(0, 5), (3, 40), (10, 12), (50, 60), (55, 56), (70, 71)];
        let o = Overlaps::new(spans.iter().map(|&(a, b)| (RuleKind::Secret, a..b)));
        for start in 0..80 {
            for end in start + 1..82 {
                let linear = spans.iter().any(|&(a, b)| a < end && start < b);
                assert_eq!(o.any(RuleKind::Secret, &(start..end)), linear, "{start}..{end}");
                assert!(!o.any(RuleKind::Agent, &(start..end)), "kinds are kept apart");
            }
        }
    }

    #[test]
    fn k8s_secret_values_are_decoded() {
        let yaml = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\ndata:\n  OPENAI_API_KEY: c2stcHJvai1hYmM=\n  short: YQ==\ntype: Opaque\n";
        assert!(
            kubernetes_secret_data("notes.txt", yaml.as_bytes()).is_none(),
            "only YAML manifests"
        );
        let d = kubernetes_secret_data("k8s/secret.yaml", yaml.as_bytes()).unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].text, "OPENAI_API_KEY: sk-proj-abc\n");
        assert_eq!(d[0].line, 6);
    }
}
