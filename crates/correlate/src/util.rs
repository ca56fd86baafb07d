//! Small helpers shared by the joins, the owner resolution and the gap kinds: entity and
//! evidence constructors, day arithmetic, and facts about credentials and providers.

use roster_model::{EntityRef, Evidence, Identity, Text, parse_time};

/// One day in milliseconds.
const DAY_MS: i64 = 86_400_000;

/// A text every gap that names it shares: one allocation per call site, made on first use.
macro_rules! fixed_text {
    ($s:expr) => {{
        static TEXT: std::sync::LazyLock<roster_model::Text> =
            std::sync::LazyLock::new(|| roster_model::Text::from($s));
        TEXT.clone()
    }};
}

/// A list of controls every gap that cites it shares (one allocation per call site).
macro_rules! controls {
    ($($s:expr),* $(,)?) => {{
        static LIST: std::sync::LazyLock<std::sync::Arc<[roster_model::Text]>> =
            std::sync::LazyLock::new(|| std::sync::Arc::from([$(roster_model::Text::from($s)),*]));
        LIST.clone()
    }};
}
pub(crate) use {controls, fixed_text};

/// The kind of an entity, shared by every reference to one of that kind.
fn entity_kind(kind: &str) -> Text {
    match kind {
        "identity" => fixed_text!("identity"),
        "credential" => fixed_text!("credential"),
        "secret" => fixed_text!("secret"),
        "agent" => fixed_text!("agent"),
        "registry-entry" => fixed_text!("registry-entry"),
        other => Text::from(other),
    }
}

/// A reference to an entity a gap involves; `id` and `name` are shared when given as `&Text`.
pub(crate) fn ent(kind: &str, id: impl Into<Text>, name: impl Into<Text>) -> EntityRef {
    EntityRef {
        kind: entity_kind(kind),
        id: id.into(),
        name: name.into(),
    }
}

/// One line of a gap's evidence chain; `source` is shared when given as `&Text`.
pub(crate) fn ev(source: impl Into<Text>, detail: String, time: Option<&str>) -> Evidence {
    Evidence {
        source: source.into(),
        detail,
        time: time.map(Text::from),
    }
}

/// Whole days in a span of milliseconds (rounded down).
pub(crate) fn days(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

/// Whether the provider reports when this kind of identity was last used, so that no date means
/// never used: AWS users (key and console use) and roles (RoleLastUsed), GitHub fine-grained
/// tokens and deploy keys, OpenAI keys, Google Cloud service account keys whose project's key
/// activity was read (the gcp-iam connector marks those `provider = gcp`). Anthropic keys, Okta tokens and apps, Entra apps without
/// the sign-in report, and GitHub app installations carry no such date.
pub(crate) fn reports_usage(ident: &Identity) -> bool {
    matches!(
        ident.kind.as_str(),
        "cloud-user" | "role" | "personal-access-token" | "deploy-key"
    ) || ident
        .credentials
        .iter()
        .any(|c| c.attrs.get("provider").is_some_and(|p| p == "openai" || p == "gcp"))
}

/// Whether a credential can still be used: the provider says active, or gives no status (Entra)
/// and it has not expired.
pub(crate) fn is_active(c: &roster_model::Credential, now: i64) -> bool {
    use roster_model::CredentialStatus as S;
    c.status == S::Active
        || (c.status == S::Unknown && c.expires.as_deref().and_then(parse_time).is_none_or(|e| e > now))
}

/// Whether `path` is `dir` or lies beneath it (`.` holds everything).
pub(crate) fn under(path: &str, dir: &str) -> bool {
    dir == "." || path == dir || path.starts_with(&format!("{dir}/"))
}
