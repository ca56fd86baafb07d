//! The built-in connectors' profiles, embedded at build time from `connectors/*/profile.toml`
//! (see `build.rs`), parsed once.

use std::sync::LazyLock;

use roster_plugin_host::profile::Profile;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/profiles.rs"));
}

static PROFILES: LazyLock<Vec<Profile>> = LazyLock::new(|| {
    embedded::PROFILES
        .iter()
        .map(|(folder, text)| {
            // Checked by the tests: a broken built-in profile is a build defect.
            Profile::parse(&format!("connectors/{folder}/profile.toml"), text).unwrap_or_else(|e| panic!("{e}"))
        })
        .collect()
});

/// The profile of the built-in connector `name`.
pub fn builtin(name: &str) -> Option<&'static Profile> {
    PROFILES.iter().find(|p| p.connector == name)
}

/// The built-in connectors' names.
pub fn names() -> Vec<&'static str> {
    PROFILES.iter().map(|p| p.connector.as_str()).collect()
}

/// All built-in profiles.
#[allow(dead_code, reason = "used by `roster connectors` and the tests")]
pub fn all() -> &'static [Profile] {
    &PROFILES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_profile_parses_and_names_its_folder() {
        assert!(embedded::PROFILES.len() >= 8, "{:?}", names());
        for (folder, _) in embedded::PROFILES {
            let p = builtin(folder).unwrap_or_else(|| panic!("connectors/{folder}: profile names another connector"));
            assert!(!p.auth.is_empty() && !p.allow.is_empty(), "{folder}");
        }
    }
}
