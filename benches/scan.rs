//! Scanning throughput benchmarks (`cargo bench`). Figures are reported, never asserted.
//!
//! - `match_source_like_text`: every built-in rule over 16 MiB of generated source-like text
//!   with keywords every few lines and a secret now and then (single thread).
//! - `load_builtin_rules`: parsing and compiling every built-in rule.
//!
//! The end-to-end runs on real trees and on a large git history are in `benches/README.md`.

use divan::{Bencher, counter::BytesCount};
use roster_rules::RuleSet;
use roster_scan::{Fingerprinter, ScanOptions, Scanner};
use std::sync::Arc;

fn main() {
    divan::main();
}

fn corpus(bytes: usize) -> Vec<u8> {
    const WORDS: [&str; 24] = [
        "self", "data", "value", "result", "config", "client", "request", "token", "handler", "error", "return",
        "import", "key", "session", "model", "agent", "stream", "buffer", "index", "cache", "query", "secret",
        "password", "let",
    ];
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut out = Vec::with_capacity(bytes + 256);
    let mut n = 0u64;
    while out.len() < bytes {
        n += 1;
        out.extend_from_slice(b"    ");
        for _ in 0..(3 + next() % 10) {
            out.extend_from_slice(WORDS[(next() % WORDS.len() as u64) as usize].as_bytes());
            out.push(b' ');
        }
        if n.is_multiple_of(500) {
            out.extend_from_slice(b"OPENAI_API_KEY = \"sk-proj-");
            for _ in 0..150 {
                out.push(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[(next() % 62) as usize]);
            }
            out.push(b'"');
        }
        out.push(b'\n');
    }
    out
}

#[divan::bench(sample_count = 10)]
fn match_source_like_text(b: Bencher) {
    let scanner = Scanner::new(
        Arc::new(RuleSet::builtin().unwrap()),
        Fingerprinter::new([7; 32]),
        ScanOptions::default(),
    );
    let data = corpus(16 << 20);
    b.counter(BytesCount::of_slice(&data))
        .bench_local(|| scanner.scan_bytes("bench", "src/app.py", &data));
}

#[divan::bench(sample_count = 10)]
fn load_builtin_rules() -> RuleSet {
    RuleSet::builtin().unwrap()
}
