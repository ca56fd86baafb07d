//! See roster_fuzzing::rule_loading.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| roster_fuzzing::rule_loading(data));
