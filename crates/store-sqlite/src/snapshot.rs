//! Consistent copies of a live database file, for `justus backup` (crates/server/src/backup.rs).
//!
//! `VACUUM INTO` reads the whole database in one read transaction, so the copy is the state of
//! one instant even while the server keeps committing (WAL readers never block the writer, nor
//! it them); the copy is compact and has no `-wal` file to go with it.

use crate::conn::map_err;
use justus_core::{StoreError, StoreResult};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// Writes a consistent copy of the database at `db` to `dest`, which must not exist.
pub fn snapshot(db: &Path, dest: &Path) -> StoreResult<()> {
    if !db.is_file() {
        return Err(StoreError::NotFound);
    }
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(map_err)?;
    conn.busy_timeout(Duration::from_secs(30))
        .map_err(map_err)?;
    let dest = dest
        .to_str()
        .ok_or_else(|| StoreError::Other("the backup path is not UTF-8".into()))?;
    conn.execute("VACUUM INTO ?1", [dest]).map_err(map_err)?;
    Ok(())
}

/// `PRAGMA integrity_check` of the database at `db`: `Ok` when SQLite finds nothing wrong.
pub fn check_integrity(db: &Path) -> StoreResult<()> {
    let conn =
        Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(map_err)?;
    let verdict: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(map_err)?;
    if verdict == "ok" {
        Ok(())
    } else {
        Err(StoreError::Other(format!(
            "integrity check failed: {verdict}"
        )))
    }
}
