//! Canonical request URLs: the host checks a plugin's URL against the manifest and must send
//! exactly what it checked. A path a server could decode or normalise into another one
//! (`..%2F`, `%5C`, `/./`, a backslash) is refused, as is any URL the parser would rewrite
//! (userinfo, a percent-encoded host), so the check and the wire never disagree.

use url::Url;

/// Parses the URL of a plugin's request and refuses what is not canonical. The returned URL
/// is the one the host checks and sends.
pub fn checked_url(uri: &http::Uri) -> Result<Url, String> {
    let raw = uri.to_string();
    let authority = uri.authority().ok_or("the URL has no host")?;
    if authority.as_str().contains('@') {
        return Err("the URL carries userinfo (user:password@); credentials come from the host".into());
    }
    if raw.contains('\\') {
        return Err("the URL contains a backslash".into());
    }
    let url = Url::parse(&raw).map_err(|e| format!("not a valid URL ({e})"))?;
    let host = uri.host().unwrap_or_default().to_ascii_lowercase();
    if url.host_str() != Some(host.as_str()) {
        return Err(format!(
            "the host {:?} would be read as {:?}; write it plainly",
            uri.host().unwrap_or_default(),
            url.host_str().unwrap_or_default()
        ));
    }
    check_path(uri.path())?;
    if url.path() != uri.path() {
        return Err(format!(
            "the path {:?} would be normalised to {:?}; send the canonical form",
            uri.path(),
            url.path()
        ));
    }
    Ok(url)
}

/// Refuses encoded backslashes and dots, NUL, dot segments and empty segments in a path: each
/// can lead a server outside the prefix the host checked. An encoded slash (`%2F`, how GitLab
/// takes a namespace path as one `:id` segment) is checked as the `/` a server may decode it
/// to, so `a%2F..%2Fb` is a dot segment too; prefixes match the path as written.
pub fn check_path(path: &str) -> Result<(), String> {
    let lower = path.to_ascii_lowercase();
    let decoded = lower.replace("%2f", "/");
    let path = decoded.as_str();
    let via = if decoded.len() < lower.len() {
        " once its encoded slashes (%2F) are decoded"
    } else {
        ""
    };
    for (enc, what) in [
        ("%5c", "an encoded backslash"),
        ("%2e", "an encoded dot"),
        ("%00", "an encoded NUL"),
        ("%25", "an encoded percent sign"),
    ] {
        if lower.contains(enc) {
            return Err(format!("the path contains {what} ({enc})"));
        }
    }
    if path.contains('\\') {
        return Err("the path contains a backslash".into());
    }
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    let last = segments.len() - 1;
    for (i, s) in segments.iter().enumerate() {
        if *s == "." || *s == ".." {
            return Err(format!("the path contains a dot segment ({s:?}){via}"));
        }
        // A trailing slash is fine; `//` inside a path is not.
        if s.is_empty() && i != last {
            return Err(format!("the path contains an empty segment (//){via}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(u: &str) -> Result<Url, String> {
        checked_url(&u.parse::<http::Uri>().map_err(|e| format!("http: {e}"))?)
    }

    #[test]
    fn canonical_urls_pass_unchanged() {
        for u in [
            "https://api.github.com/orgs/acme/installations?per_page=100",
            "http://127.0.0.1:5000/",
            "https://graph.microsoft.com/v1.0/applications?$select=id&$top=999",
            "https://graph.microsoft.com/beta/auditLogs/signIns?$filter=createdDateTime%20ge%202026-01-01T00:00:00Z",
            "https://api.okta.com/api/v1/users/00u1%40x",
            "https://gitlab.com/api/v4/projects/acme%2Fplatform%2Fapp/access_tokens",
        ] {
            let url = check(u).unwrap_or_else(|e| panic!("{u}: {e}"));
            assert_eq!(url.path(), u.parse::<http::Uri>().unwrap().path());
        }
    }

    #[test]
    fn paths_a_server_could_read_otherwise_are_refused() {
        for u in [
            "https://h.example/api/..%2F..%2Fadmin",
            "https://h.example/api/..%2f..%2fadmin",
            "https://h.example/api/acme%2F..%2F..%2Fadmin",
            "https://h.example/api/acme%2F%2Fadmin",
            "https://h.example/api/acme%2F.%2Fadmin",
            "https://h.example/api/..%5Cadmin",
            "https://h.example/api/%2e%2e/admin",
            "https://h.example/api/%2E./admin",
            "https://h.example/api/../admin",
            "https://h.example/api/./admin",
            "https://h.example/api/..",
            "https://h.example/api//admin",
            "https://h.example/api/%252e%252e/admin",
            "https://h.example/api/a%00b",
            "https://user:pw@h.example/api/",
            "https://h.example@evil.example/api/",
        ] {
            assert!(check(u).is_err(), "{u} was accepted");
        }
    }
}
