//! Error messages with their causes.

/// An error and its causes, `outer: cause: root cause`, each cause once (SDK errors such as
/// "dispatch failure" say what went wrong only in their sources).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let next = c.to_string();
        if !s.contains(&next) {
            s.push_str(": ");
            s.push_str(&next);
        }
        cur = c.source();
    }
    s
}
