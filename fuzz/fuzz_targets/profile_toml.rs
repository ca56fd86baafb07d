//! See roster_fuzzing::profile_toml.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| roster_fuzzing::profile_toml(data));
