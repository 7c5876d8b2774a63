//! Forward-only migrations tracked in `PRAGMA user_version`.

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
];

pub fn run(conn: &mut Connection) -> rusqlite::Result<()> {
    let current: usize =
        conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", *version as i64)?;
        tx.commit()?;
        tracing::info!(version, "sqlite migration applied");
    }
    Ok(())
}
