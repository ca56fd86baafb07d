//! Line hashes of a blob version, and the lines (with context) a new version changed.

use std::collections::HashSet;

/// Hashes of a version's lines. They are hashes already, so the set does not hash them again.
pub(super) type LineSet = HashSet<u64, std::hash::BuildHasherDefault<IdentityHasher>>;

/// A hasher for keys that are already well-mixed 64-bit hashes.
#[derive(Default)]
pub(super) struct IdentityHasher(u64);

impl std::hash::Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Lines of context kept around each changed line (rules whose regex spans a few lines).
const CONTEXT: usize = 3;

/// Each line's hash and byte range.
pub(super) fn line_hashes(data: &[u8]) -> Vec<(u64, std::ops::Range<usize>)> {
    let mut out = Vec::with_capacity(data.len() / 40 + 1);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', data).chain(std::iter::once(data.len())) {
        if start > data.len() {
            break;
        }
        out.push((hash_line(&data[start..end]), start..end));
        start = end + 1;
    }
    out
}

/// A fast 64-bit hash (multiply-rotate over 8-byte words); collisions only cost a skipped line
/// that equals, by hash, a line of the previous version.
fn hash_line(line: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h: u64 = line.len() as u64;
    let mut chunks = line.chunks_exact(8);
    for c in &mut chunks {
        h = (h.rotate_left(5) ^ u64::from_le_bytes(c.try_into().expect("8 bytes"))).wrapping_mul(K);
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    (h.rotate_left(5) ^ u64::from_le_bytes(tail)).wrapping_mul(K)
}

/// The lines of `data` not in `previous`, with context, as one buffer (separate runs split by an
/// empty line), and for each of its lines the original 1-based line number. `None` when nothing
/// changed.
pub(super) fn changed_lines(
    data: &[u8],
    previous: &LineSet,
    lines: &[(u64, std::ops::Range<usize>)],
) -> Option<(Vec<u8>, Vec<u32>)> {
    let mut keep = vec![false; lines.len()];
    let mut any = false;
    for (i, (h, _)) in lines.iter().enumerate() {
        if !previous.contains(h) {
            any = true;
            let lo = i.saturating_sub(CONTEXT);
            let hi = (i + CONTEXT + 1).min(lines.len());
            keep[lo..hi].iter_mut().for_each(|k| *k = true);
        }
    }
    if !any {
        return None;
    }
    let mut text = Vec::new();
    let mut map = Vec::new();
    let mut last: Option<usize> = None;
    for (i, (_, range)) in lines.iter().enumerate() {
        if !keep[i] {
            continue;
        }
        if last.is_some_and(|l| l + 1 != i) {
            text.push(b'\n');
            map.push(u32::try_from(i).unwrap_or(u32::MAX));
        }
        text.extend_from_slice(&data[range.clone()]);
        text.push(b'\n');
        map.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
        last = Some(i);
    }
    Some((text, map))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_lines_keep_context_and_map_line_numbers() {
        let old = b"a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\n";
        let previous: LineSet = line_hashes(old).into_iter().map(|(h, _)| h).collect();
        let new = b"a\nb\nc\nd\ne\nf\nNEW\ng\nh\ni\nj\nk\nl\nEND\n";
        let lines = line_hashes(new);
        let (text, map) = changed_lines(new, &previous, &lines).unwrap();
        // NEW (line 7) with 3 lines of context either side runs into END's context (lines 11-15).
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "d\ne\nf\nNEW\ng\nh\ni\nj\nk\nl\nEND\n\n"
        );
        assert_eq!(map, [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
        // Changes far apart: two runs, split by an empty line that maps to the line before.
        let long_old: String = (0..30).map(|i| format!("line{i}\n")).collect();
        let long_previous: LineSet = line_hashes(long_old.as_bytes()).into_iter().map(|(h, _)| h).collect();
        let long_new = long_old.replace("line5\n", "CHANGED\n").replace("line25\n", "ALSO\n");
        let lines = line_hashes(long_new.as_bytes());
        let (text, map) = changed_lines(long_new.as_bytes(), &long_previous, &lines).unwrap();
        let text = String::from_utf8(text).unwrap();
        let text_lines: Vec<&str> = text.lines().collect();
        assert_eq!(text_lines[3], "CHANGED");
        assert_eq!(map[3], 6);
        let also = text_lines.iter().position(|l| *l == "ALSO").unwrap();
        assert_eq!(map[also], 26);
        assert!(text_lines.contains(&""), "runs are separated: {text}");
        assert!(changed_lines(old, &previous, &line_hashes(old)).is_none());
    }
}
