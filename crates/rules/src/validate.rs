//! Format checksums that let a rule tell a real token from a look-alike without a network call.

use base64::Engine as _;

/// A validator named in a rule's `validate` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Validator {
    /// GitHub's `prefix_` + 30 base62 chars + 6-char base62 CRC32 of those 30 chars.
    GithubCrc32,
    /// A JWT: three base64url parts, the header a JSON object with `alg`.
    Jwt,
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

impl Validator {
    pub(crate) fn parse(name: &str) -> Option<Self> {
        match name {
            "github-crc32" => Some(Validator::GithubCrc32),
            "jwt" => Some(Validator::Jwt),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Validator::GithubCrc32 => "github-crc32",
            Validator::Jwt => "jwt",
        }
    }

    pub(crate) fn check(self, secret: &[u8]) -> bool {
        match self {
            Validator::GithubCrc32 => github_crc32(secret),
            Validator::Jwt => jwt(secret),
        }
    }
}

fn github_crc32(token: &[u8]) -> bool {
    let Some(us) = token.iter().position(|&b| b == b'_') else {
        return false;
    };
    let rest = &token[us + 1..];
    if rest.len() != 36 {
        return false;
    }
    let (body, check) = rest.split_at(30);
    let mut value: u64 = 0;
    for &c in check {
        let Some(d) = BASE62.iter().position(|&x| x == c) else {
            return false;
        };
        value = value * 62 + d as u64;
    }
    value == u64::from(crc32(body))
}

/// CRC-32/ISO-HDLC (the zlib CRC), bitwise: tokens are short.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

fn jwt(token: &[u8]) -> bool {
    let mut parts = token.split(|&b| b == b'.');
    let (Some(header), Some(payload), Some(_sig), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let decode = |p: &[u8]| {
        let trimmed: Vec<u8> = p.iter().copied().filter(|&b| b != b'=').collect();
        engine.decode(trimmed).ok()
    };
    let Some(h) = decode(header) else { return false };
    let Ok(serde_json::Value::Object(h)) = serde_json::from_slice::<serde_json::Value>(&h) else {
        return false;
    };
    if !h.contains_key("alg") {
        return false;
    }
    let Some(payload) = decode(payload) else { return false };
    // Supabase's anon key is a JWT with `role: anon`, made to ship in browser code
    // (supabase.com/docs/guides/api/api-keys): public, not a credential to report.
    !matches!(
        serde_json::from_slice::<serde_json::Value>(&payload),
        Ok(serde_json::Value::Object(p)) if p.get("role").and_then(|r| r.as_str()) == Some("anon")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_zlib() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn github_checksum() {
        // Built here: body of 30 base62 chars, checksum = base62(crc32(body)) padded to 6.
        let body = b"Zq3uTn8LwP1sV7xKb2RcYe5Gh9JmAd";
        let mut v = u64::from(crc32(body));
        let mut enc = [b'0'; 6];
        for slot in enc.iter_mut().rev() {
            *slot = BASE62[(v % 62) as usize];
            v /= 62;
        }
        let token = [b"ghp_".as_slice(), body, &enc].concat();
        assert!(github_crc32(&token));
        let mut bad = token.clone();
        bad[10] = if bad[10] == b'a' { b'b' } else { b'a' };
        assert!(!github_crc32(&bad));
    }

    #[test]
    fn jwt_header_must_have_alg() {
        assert!(jwt(b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"));
        assert!(!jwt(b"eyJmb28iOiJiYXIifQ.eyJzdWIiOiIxIn0.c2ln"));
        assert!(!jwt(b"not.a.jwt"));
    }
}
