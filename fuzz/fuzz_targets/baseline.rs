//! See roster_fuzzing::baseline.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| roster_fuzzing::baseline(data));
