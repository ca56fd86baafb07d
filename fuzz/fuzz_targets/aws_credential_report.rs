//! See roster_fuzzing::aws_credential_report.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| roster_fuzzing::aws_credential_report(data));
