//! See roster_fuzzing::codeowners.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| roster_fuzzing::codeowners(data));
