//! Arbitrary bytes as a user's rules file: loading must return rules or errors, never panic,
//! and a file that loads must pass through the example checker without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;
use roster_rules::{Flavor, RuleSetBuilder, check_rules};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for flavor in [Flavor::Roster, Flavor::Gitleaks] {
        let mut b = RuleSetBuilder::new();
        b.add("fuzz.toml", text, flavor);
        if let Ok(set) = b.build() {
            let _ = check_rules(&set, |_| true);
        }
    }
});
