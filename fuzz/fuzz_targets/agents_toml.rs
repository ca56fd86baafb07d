//! See roster_fuzzing::agents_toml.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| roster_fuzzing::agents_toml(data));
