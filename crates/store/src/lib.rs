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
mod history;
mod meta;
mod runs;
mod schema;

pub use baseline::AcceptedGap;
pub use history::{GapInRun, TrendPoint};
pub use runs::{Diff, RunGaps, RunInfo};
use rusqlite::Connection;
use std::path::Path;

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

/// The state database.
pub struct Store {
    conn: Connection,
    path: String,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let name = path.display().to_string();
        let err =
            |what: &str, e: rusqlite::Error| StoreError(format!("state database {name}: {what}: {e}; {MOVE_ASIDE}"));
        let conn = Connection::open(path).map_err(|e| err("cannot open", e))?;
        // Inventory and fingerprints are for the state directory's owner only.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| err("cannot configure", e))?;
        conn.execute_batch("PRAGMA foreign_keys = ON;")
            .map_err(|e| err("cannot configure", e))?;
        let mut store = Store { conn, path: name };
        store.migrate()?;
        Ok(store)
    }

    fn err(&self, what: &str, e: impl std::fmt::Display) -> StoreError {
        StoreError(format!("state database {}: {what}: {e}", self.path))
    }

    /// The schema version the file is at.
    pub fn version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| {
                self.err(
                    "cannot read the schema version (is it a SQLite file?)",
                    format!("{e}; {MOVE_ASIDE}"),
                )
            })
    }
}
