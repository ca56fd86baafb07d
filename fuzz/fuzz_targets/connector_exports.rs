//! See roster_fuzzing::connector_exports.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| roster_fuzzing::connector_exports(data));
