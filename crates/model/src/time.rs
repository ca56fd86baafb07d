//! RFC 3339 times to and from Unix milliseconds.

/// Formats Unix milliseconds as RFC 3339 UTC (`2024-09-01T00:00:00Z`).
pub fn format_millis(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm), proleptic Gregorian calendar.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parses an RFC 3339 / ISO 8601 UTC time (`2024-09-01T00:00:00Z`, fractional seconds and
/// numeric offsets accepted, a date alone too) into Unix milliseconds.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let (mut h, mut mi, mut sec, mut frac_ms, mut off) = (0, 0, 0, 0i64, 0i64);
    if b.len() > 10 {
        if !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        h = num(11..13)?;
        mi = num(14..16)?;
        sec = num(17..19)?;
        let mut i = 19;
        if b.get(i) == Some(&b'.') {
            let start = i + 1;
            i = start;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let digits = &s[start..i];
            let ms3: String = digits.chars().chain("000".chars()).take(3).collect();
            frac_ms = ms3.parse().ok()?;
        }
        match b.get(i) {
            None | Some(b'Z' | b'z') => {}
            Some(&sign @ (b'+' | b'-')) => {
                let oh = num(i + 1..i + 3)?;
                let om = num(i + 4..i + 6).or_else(|| num(i + 3..i + 5))?;
                off = (oh * 60 + om) * 60 * if sign == b'+' { 1 } else { -1 };
            }
            _ => return None,
        }
    }
    // Days-from-civil (inverse of the above).
    let (yy, mm) = if mo <= 2 { (y - 1, mo + 9) } else { (y, mo - 3) };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * mm + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + sec - off) * 1000 + frac_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        assert_eq!(format_millis(0), "1970-01-01T00:00:00Z");
        assert_eq!(parse_time("2024-09-01T00:00:00Z"), Some(1_725_148_800_000));
        assert_eq!(format_millis(1_725_148_800_000), "2024-09-01T00:00:00Z");
        assert_eq!(parse_time("2024-02-29T23:59:59.5+01:00"), Some(1_709_247_599_500));
        assert_eq!(parse_time("2000-03-01"), Some(951_868_800_000));
        assert_eq!(parse_time("2025-13-01T00:00:00Z"), None);
        assert_eq!(parse_time("not a date"), None);
        for ms in [-86_400_000_i64, 951_782_400_000, 4_102_444_800_000] {
            assert_eq!(parse_time(&format_millis(ms)), Some(ms));
        }
    }
}
