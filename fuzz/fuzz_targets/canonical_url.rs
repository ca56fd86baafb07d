//! See roster_fuzzing::canonical_url.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| roster_fuzzing::canonical_url(data));
