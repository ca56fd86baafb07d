//! Roster's state database: an embedded SQLite file (`roster.db` in the state directory) holding
//! every discover run's inventory and gaps, when each gap was first and last seen, the diff
//! between runs, the gaps the organization accepted (the baseline), the fingerprint key and the
//! commits incremental history scans covered. It never holds a raw secret: reports reach it
//! after redaction.
//!
//! Every run belongs to a scope (one per configuration, by default): the run list, the diff,
//! first and last seen and the commits incremental scans covered are kept per scope, so two
//! configurations sharing a state directory do not mistake each other's runs for their own.
//! The baseline (accepted gaps) and the keys are shared by every scope.
//!
//! Schema changes are migrations numbered by SQLite's `user_version`. A run is written in one
//! transaction, so a run that crashes midway leaves the previous runs intact.

mod baseline;
mod db;
mod history;
mod meta;
mod runs;
mod schema;
mod shards;

pub use baseline::AcceptedGap;
pub use history::{GapInRun, TrendPoint};
pub use runs::{Diff, RunGaps, RunInfo};
pub use shards::{Listing, ShardRow};
use std::cell::RefCell;
use std::path::{Path, PathBuf};

/// The scope of rows recorded before scopes existed, and of `roster scan --incremental`
/// without `--scope`.
pub const DEFAULT_SCOPE: &str = "default";

/// What to do with a damaged database, and what that costs.
const MOVE_ASIDE: &str = "if the file is damaged, restore it from a backup, or move it aside and Roster starts a new one \
     (with a new fingerprint key, so fingerprints change; run history, accepted gaps and incremental-scan state start over)";

/// An error from the state database, naming the file and what to do.
#[derive(Debug)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

/// Where the state database is: a SQLite file, or a PostgreSQL database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An embedded SQLite file (`roster.db` in the state directory).
    File(PathBuf),
    /// A PostgreSQL connection URL (`postgresql://user:password@host:port/db?sslmode=...`).
    Postgres(String),
}

impl Location {
    /// `url` when it is a PostgreSQL URL (`postgres://` or `postgresql://`), else `roster.db` in
    /// the state directory `dir`.
    pub fn new(url: Option<&str>, dir: &Path) -> Result<Location, StoreError> {
        match url.map(str::trim).filter(|u| !u.is_empty()) {
            None => Ok(Location::File(dir.join("roster.db"))),
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                Ok(Location::Postgres(u.to_owned()))
            }
            Some(u) => Err(StoreError(format!(
                "database URL {:?} is not a PostgreSQL URL: write postgresql://user@host:5432/dbname, or leave it unset for the SQLite file in the state directory",
                redact_url(u)
            ))),
        }
    }

    /// How errors and logs name it: the file, or the URL without its password.
    pub fn display(&self) -> String {
        match self {
            Location::File(p) => p.display().to_string(),
            Location::Postgres(u) => redact_url(u),
        }
    }
}

/// A database URL without its password (and without a `password=` query parameter).
pub fn redact_url(url: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let base = match base.split_once("://") {
        Some((scheme, rest)) => {
            let (auth, host) = match rest.rfind('@') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => ("", rest),
            };
            let user = auth.split(':').next().unwrap_or("");
            if auth.is_empty() {
                format!("{scheme}://{host}")
            } else if auth.contains(':') {
                format!("{scheme}://{user}:***@{host}")
            } else {
                format!("{scheme}://{user}@{host}")
            }
        }
        None => base.to_owned(),
    };
    let query: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => p.to_owned(),
        })
        .collect();
    if query.is_empty() {
        base
    } else {
        format!("{base}?{}", query.join("&"))
    }
}

/// The state database.
pub struct Store {
    db: RefCell<db::Db>,
    path: String,
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_at(&Location::File(path.to_owned()))
    }

    /// Opens (creating the SQLite file if needed) the database at `location` and migrates it.
    pub fn open_at(location: &Location) -> Result<Store, StoreError> {
        let name = location.display();
        let db = match location {
            Location::File(path) => {
                let db = db::Db::open_sqlite(path)
                    .map_err(|e| StoreError(format!("state database {name}: {e}; {MOVE_ASIDE}")))?;
                // Inventory and fingerprints are for the state directory's owner only.
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt as _;
                    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
                }
                db
            }
            Location::Postgres(url) => db::Db::open_postgres(url).map_err(|e| {
                StoreError(format!(
                    "state database {name}: {e}; check ROSTER_DATABASE_URL (or database_url in roster.toml) and that the server accepts this user"
                ))
            })?,
        };
        let mut store = Store {
            db: RefCell::new(db),
            path: name,
        };
        store.migrate()?;
        Ok(store)
    }

    fn err(&self, what: &str, e: impl std::fmt::Display) -> StoreError {
        StoreError(format!("state database {}: {what}: {e}", self.path))
    }

    /// Whether the database is PostgreSQL (else a SQLite file).
    pub fn is_postgres(&self) -> bool {
        self.db.borrow().is_postgres()
    }

    /// Runs a read statement.
    fn query(&self, sql: &str, params: &[db::Value], what: &str) -> Result<Vec<db::Row>, StoreError> {
        use db::Exec as _;
        self.db
            .borrow_mut()
            .query(sql, params)
            .map_err(|e| self.err(&format!("cannot read {what}"), e))
    }
}

#[cfg(test)]
impl Store {
    /// Runs statements directly (tests that damage or age a database).
    pub(crate) fn batch(&self, sql: &str) {
        self.db.borrow_mut().batch(sql).unwrap();
    }
}

/// The engines the tests run on: a SQLite file, and a database on the PostgreSQL test server.
#[cfg(test)]
pub(crate) mod testing {
    use super::{Location, Store};

    pub(crate) struct Backend {
        pub(crate) name: &'static str,
        pub(crate) location: Location,
        _dir: Option<tempfile::TempDir>,
    }

    impl Backend {
        pub(crate) fn open(&self) -> Store {
            Store::open_at(&self.location).unwrap_or_else(|e| panic!("{}: {e}", self.name))
        }
    }

    pub(crate) fn backends() -> Vec<Backend> {
        let dir = tempfile::tempdir().unwrap();
        vec![
            Backend {
                name: "sqlite",
                location: Location::File(dir.path().join("roster.db")),
                _dir: Some(dir),
            },
            Backend {
                name: "postgres",
                location: Location::Postgres(roster_testkit::postgres::database()),
                _dir: None,
            },
        ]
    }

    /// Both engines hold the same tables with the same columns once migrated.
    #[test]
    fn both_engines_have_the_same_schema() {
        let [a, b] = <[Backend; 2]>::try_from(backends()).ok().unwrap();
        let columns = |s: &Store, sql: &str| -> Vec<(String, String)> {
            let mut v: Vec<_> = s
                .query(sql, &[], "columns")
                .unwrap()
                .iter()
                .map(|r| (r.text(0).unwrap(), r.text(1).unwrap()))
                .collect();
            v.sort();
            v
        };
        let lite = columns(
            &a.open(),
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'",
        );
        let pg = columns(
            &b.open(),
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name <> 'roster_schema'",
        );
        assert!(lite.len() > 30, "{lite:?}");
        assert_eq!(lite, pg);
        assert_eq!(a.open().version().unwrap(), b.open().version().unwrap());
    }
}

#[cfg(test)]
mod url_tests {
    use super::*;

    #[test]
    fn urls_are_named_without_their_password() {
        assert_eq!(
            redact_url("postgresql://roster:s3cret@db.internal:5432/roster?sslmode=require"),
            "postgresql://roster:***@db.internal:5432/roster?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://db/roster?user=r&password=s3cret"),
            "postgres://db/roster?user=r&password=***"
        );
        assert_eq!(redact_url("postgres://r@db/x"), "postgres://r@db/x");
        let e = Location::new(Some("mysql://u:pw@h/d"), Path::new("/s"))
            .err()
            .unwrap()
            .0;
        assert!(e.contains("mysql://u:***@h/d") && !e.contains("pw"), "{e}");
        assert_eq!(
            Location::new(None, Path::new("/s")).unwrap(),
            Location::File("/s/roster.db".into())
        );
        assert_eq!(
            Location::new(Some(" "), Path::new("/s")).unwrap(),
            Location::File("/s/roster.db".into())
        );
    }
}
