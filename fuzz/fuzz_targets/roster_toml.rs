//! See roster_fuzzing::roster_toml.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| roster_fuzzing::roster_toml(data));
