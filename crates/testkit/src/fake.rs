//! Fake secrets in real formats, generated at run time (and valid for nothing).

use std::sync::atomic::{AtomicU64, Ordering};

static SEED: AtomicU64 = AtomicU64::new(0);

/// A pseudo-random generator seeded from the clock and a counter (fake secrets need no CSPRNG).
pub fn rand_u64() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut x = t ^ SEED.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed).rotate_left(17) ^ 0xD6E8_FEB8_6659_FD93;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

/// The base-62 alphabet.
pub const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `n` random characters from `alphabet`.
pub fn rand_from(alphabet: &[u8], n: usize) -> String {
    (0..n)
        .map(|_| alphabet[(rand_u64() % alphabet.len() as u64) as usize] as char)
        .collect()
}

/// `n` random base-62 characters.
pub fn b62(n: usize) -> String {
    rand_from(B62, n)
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// An OpenAI project API key (`sk-proj-...T3BlbkFJ...`).
pub fn openai_project() -> String {
    let a = rand_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 74);
    let b = rand_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 74);
    format!("sk-proj-{a}T3BlbkFJ{b}")
}

/// An Anthropic API key (`sk-ant-api03-...AA`).
pub fn anthropic() -> String {
    format!(
        "sk-ant-api03-{}AA",
        rand_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 93)
    )
}

/// A GitHub classic personal access token with a valid CRC-32 checksum.
pub fn github_pat() -> String {
    let body = b62(30);
    let mut v = crc32(body.as_bytes()) as u64;
    let mut check = [b'0'; 6];
    for slot in check.iter_mut().rev() {
        *slot = B62[(v % 62) as usize];
        v /= 62;
    }
    format!("ghp_{body}{}", std::str::from_utf8(&check).unwrap())
}

/// An AWS access key id (`AKIA...`).
pub fn aws_key_id() -> String {
    format!("AKIA{}", rand_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16))
}

/// An AWS secret access key.
pub fn aws_secret() -> String {
    rand_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40)
}

/// A Hugging Face token (`hf_...`).
pub fn huggingface() -> String {
    format!(
        "hf_{}",
        rand_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 34)
    )
}

/// A Slack bot token (`xoxb-...`).
pub fn slack_bot() -> String {
    format!(
        "xoxb-{}-{}-{}",
        rand_from(b"0123456789", 12),
        rand_from(b"0123456789", 13),
        b62(24)
    )
}
