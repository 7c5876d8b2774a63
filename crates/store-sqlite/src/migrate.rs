//! Forward-only migrations tracked in `PRAGMA user_version`.

use crate::conn::map_err;
use justus_core::{StoreError, StoreResult};
use rusqlite::Connection;

/// Every migration with the schema version it produces (from its file name), ascending and
/// without gaps on `main`; each runs once, in its own transaction, when the database is below
/// its number.
const MIGRATIONS: &[(usize, &str)] = &[
    (1, include_str!("../migrations/0001_accounts.sql")),
    (2, include_str!("../migrations/0002_conversations.sql")),
    (3, include_str!("../migrations/0003_media.sql")),
    (4, include_str!("../migrations/0004_ai.sql")),
    (5, include_str!("../migrations/0005_avatars.sql")),
    (6, include_str!("../migrations/0006_retention.sql")),
    (7, include_str!("../migrations/0007_moderation.sql")),
    (8, include_str!("../migrations/0008_safety.sql")),
];

pub fn run(conn: &mut Connection) -> StoreResult<()> {
    let current: usize = conn
        .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
        .map_err(map_err)? as usize;
    // A database a newer justus migrated: this binary does not know its schema, and writing to
    // it could corrupt what the newer one relies on (migrations are forward-only).
    let known = MIGRATIONS.last().map_or(0, |(v, _)| *v);
    if current > known {
        return Err(StoreError::Other(format!(
            "the database's schema is version {current}, newer than this justus knows ({known}): \
             a newer version upgraded it; run that version, or restore the backup taken before \
             the upgrade (docs/operations.md#upgrades)"
        )));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        let tx = conn.transaction().map_err(map_err)?;
        tx.execute_batch(sql).map_err(map_err)?;
        tx.pragma_update(None, "user_version", *version as i64)
            .map_err(map_err)?;
        tx.commit().map_err(map_err)?;
        tracing::info!(version, "sqlite migration applied");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_a_schema_from_a_newer_version() {
        let mut conn = Connection::open_in_memory().expect("open");
        run(&mut conn).expect("migrates");
        run(&mut conn).expect("a second start changes nothing");
        let known = MIGRATIONS.last().map_or(0, |(v, _)| *v);
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(version as usize, known);
        conn.pragma_update(None, "user_version", known as i64 + 1)
            .expect("as a newer justus would leave it");
        let e = run(&mut conn).expect_err("refused").to_string();
        assert!(e.contains("newer than this justus knows"), "{e}");
    }
}
