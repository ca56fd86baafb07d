//! See roster_fuzzing::matcher.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| roster_fuzzing::matcher(data));
