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

/// The redacted form of a secret: a short prefix, an ellipsis and the last four characters.
/// `known_prefix` is the length of a public, format-defining prefix (`sk-proj-`), shown whole up
/// to 12 characters. Never shows more than a third of the secret.
pub fn redact(secret: &[u8], known_prefix: usize) -> String {
    let s = String::from_utf8_lossy(secret);
    let chars: Vec<char> = s.chars().filter(|c| !c.is_control()).collect();
    let n = chars.len();
    if n < 8 {
        return "…".to_owned();
    }
    let (prefix, suffix) = if n < 16 {
        (2, 2)
    } else {
        let p = if known_prefix > 0 { known_prefix.min(12) } else { 4 };
        (p.min(n / 3), 4)
    };
    let head: String = chars[..prefix].iter().collect();
    let tail: String = chars[n - suffix..].iter().collect();
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
    fn redaction_keeps_prefix_and_last_four() {
        let key = b"sk-proj-Ab3dEf9hIj2kLm5nOp8qRs1tUv4wXy7zAb3dEf9hIj2k";
        let r = redact(key, 8);
        assert_eq!(r, "sk-proj-…Ij2k");
        assert_eq!(redact(b"p4ssw0rd!x", 0), "p4…!x");
        assert_eq!(redact(b"short", 0), "…");
        // Never more than a third of a 20-char secret before the ellipsis.
        assert!(redact(b"abcdefghijklmnopqrst", 12).starts_with("abcdef…"));
    }

    #[test]
    fn hex_roundtrip() {
        assert_eq!(unhex(&hex(&[0, 255, 16])).unwrap(), vec![0, 255, 16]);
        assert!(unhex("abc").is_none());
    }
}
