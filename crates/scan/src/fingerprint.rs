//! Keyed fingerprints and redaction: how one secret is recognized across files, repositories and
//! runs without ever being stored.

use hmac::{Hmac, Mac};
use roster_model::hex;
use sha2::Sha256;
use std::fmt;

/// Computes HMAC-SHA256 fingerprints under a per-installation key.
#[derive(Clone)]
pub struct Fingerprinter {
    key: [u8; 32],
}

impl fmt::Debug for Fingerprinter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fingerprinter(<key redacted>)")
    }
}

impl Fingerprinter {
    /// A fingerprinter with this key.
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    /// The hex HMAC-SHA256 of `secret`.
    pub fn fingerprint(&self, secret: &[u8]) -> String {
        keyed_hex(&self.key, secret)
    }
}

/// Hex HMAC-SHA256 of `data` under `key`.
pub fn keyed_hex(key: &[u8], data: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    hex(&mac.finalize().into_bytes())
}

/// The redacted form of a secret. `known_prefix` is the length of a public, format-defining
/// prefix (`sk-proj-`, `AKIA`), shown whole up to 12 characters and a third of the secret. Of the
/// rest (the part that is secret) at most a quarter is shown, and never more than 8 characters:
/// from 24 characters on, the last four (so a key can be told apart from its siblings, as the
/// providers' consoles do) and, with no known prefix, a short head; below 24 characters no tail at
/// all, and with no known prefix a head of at most 4; below 8 nothing.
pub fn redact(secret: &[u8], known_prefix: usize) -> String {
    let s = String::from_utf8_lossy(secret);
    let chars: Vec<char> = s.chars().filter(|c| !c.is_control()).collect();
    let n = chars.len();
    let prefix = known_prefix.min(12).min(n / 3);
    let rest = n - prefix;
    let budget = (rest / 4).min(8);
    let (head, tail) = match (rest, prefix) {
        (0..8, _) => (0, 0),
        (8..24, 0) => (budget.min(4), 0),
        (8..24, _) => (0, 0),
        (_, 0) => (budget - 4, 4),
        (_, _) => (0, 4),
    };
    if prefix + head == 0 && tail == 0 {
        return "…".to_owned();
    }
    let shown: String = chars[..prefix + head].iter().collect();
    let last: String = chars[n - tail..].iter().collect();
    format!("{shown}…{last}")
}

/// The redacted form of a public identifier naming a credential (an AWS access key ID): its
/// known prefix and its last four characters, as the provider's console shows it.
pub fn redact_identifier(id: &[u8], known_prefix: usize) -> String {
    let chars: Vec<char> = String::from_utf8_lossy(id)
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let n = chars.len();
    if n < 12 {
        return redact(id, known_prefix);
    }
    let head: String = chars[..known_prefix.min(n / 3)].iter().collect();
    let tail: String = chars[n - 4..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use roster_model::unhex;

    #[test]
    fn fingerprint_is_keyed_and_stable() {
        let a = Fingerprinter::new([1; 32]);
        let b = Fingerprinter::new([2; 32]);
        assert_eq!(a.fingerprint(b"s3cret"), a.fingerprint(b"s3cret"));
        assert_ne!(a.fingerprint(b"s3cret"), b.fingerprint(b"s3cret"));
        assert_eq!(a.fingerprint(b"x").len(), 64);
    }

    #[test]
    fn redaction_shows_a_quarter_at_most() {
        let key = b"sk-proj-Ab3dEf9hIj2kLm5nOp8qRs1tUv4wXy7zAb3dEf9hIj2k";
        assert_eq!(redact(key, 8), "sk-proj-…Ij2k");
        assert_eq!(redact(b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", 0), "wJal…EKEY");
        // Short secrets: no tail, a head of a quarter at most.
        assert_eq!(redact(b"p4ssw0rd!x", 0), "p4…");
        assert_eq!(redact(b"Tr0ub4dor&3horse", 0), "Tr0u…");
        assert_eq!(redact(b"AKIAIOSFODNN7EXAMPLE", 4), "AKIA…");
        assert_eq!(redact(b"short", 0), "…");
        assert!(redact(b"abcdefghijklmnopqrst", 12).starts_with("abcdef…"));
        // Whatever the length and prefix, the non-public part shown is at most a quarter.
        for n in 0..200 {
            let s: String = (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
            for p in [0, 3, 8, 12] {
                let r = redact(s.as_bytes(), p);
                let prefix = p.min(12).min(n / 3);
                let shown = r.chars().filter(|&c| c != '…').count().saturating_sub(prefix);
                assert!(shown * 4 <= n - prefix, "{n} {p} {r}");
                if n - prefix < 24 {
                    assert!(r.ends_with('…'), "{r}");
                }
            }
        }
    }

    #[test]
    fn hex_roundtrip() {
        assert_eq!(unhex(&hex(&[0, 255, 16])).unwrap(), vec![0, 255, 16]);
        assert!(unhex("abc").is_none());
    }
}
