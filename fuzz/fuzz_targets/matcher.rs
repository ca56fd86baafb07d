//! Arbitrary file contents through every built-in rule and the per-file passes (Kubernetes
//! Secret decoding, MCP config parsing): never panic, and every finding points inside the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use roster_scan::{Fingerprinter, ScanOptions, Scanner};
use std::sync::{Arc, OnceLock};

static SCANNER: OnceLock<Scanner> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let scanner = SCANNER.get_or_init(|| {
        let rules = roster_rules::RuleSet::builtin().expect("built-in rules load");
        Scanner::new(Arc::new(rules), Fingerprinter::new([1; 32]), ScanOptions::default())
    });
    for path in ["fuzz.txt", "k8s/secret.yaml", ".cursor/mcp.json"] {
        let out = scanner.scan_bytes("fuzz", path, data);
        let lines = data.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
        for f in &out.findings {
            assert!(f.line >= 1 && f.line <= lines, "line {} outside 1..={lines}", f.line);
        }
    }
});
