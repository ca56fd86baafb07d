//! See roster_fuzzing::mcp_config.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| roster_fuzzing::mcp_config(data));
