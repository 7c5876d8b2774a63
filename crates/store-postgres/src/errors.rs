//! The one place where driver errors become [`StoreError`]s.

use justus_core::StoreError;

/// Unique constraints whose violation the domain reports as a conflict, by constraint name
/// (see `migrations/`). Most are also checked before writing; these cover the races.
const CONFLICTS: &[(&str, &str)] = &[
    ("users_username_key", "username"),
    ("users_email_key", "email"),
    ("room_members_pkey", "member"),
    ("room_bans_pkey", "banned"),
    ("invites_pkey", "invite"),
    ("rooms_dm_key_key", "dm"),
    ("messages_sender_id_client_id_key", "client_id"),
    ("media_pkey", "media"),
    ("reports_one_open", "report_open"),
];

/// SQLSTATE foreign_key_violation: a write referred to a row (user, room, message) that does
/// not exist, which the domain reports as `NotFound`.
const FOREIGN_KEY_VIOLATION: &str = "23503";

/// SQLSTATEs meaning the server is going away or cannot take us right now: worth a retry.
fn is_unavailable_code(code: &str) -> bool {
    code.starts_with("08") // connection_exception
        || matches!(
            code,
            "57P01" // admin_shutdown
                | "57P02" // crash_shutdown
                | "57P03" // cannot_connect_now
                | "53300" // too_many_connections
                | "53100" // disk_full
                | "58030" // io_error
                | "25006" // read_only_sql_transaction (a standby after a failover)
        )
}

/// A connection refused because the database is closed to connections (`ALTER DATABASE …
/// ALLOW_CONNECTIONS false`, maintenance): SQLSTATE 55000, a code too broad to map on its own.
fn is_closed_database(db: &dyn sqlx::error::DatabaseError) -> bool {
    db.code().as_deref() == Some("55000")
        && db
            .message()
            .contains("is not currently accepting connections")
}

pub(crate) fn map(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) => {
            if db.is_unique_violation()
                && let Some((_, field)) = CONFLICTS
                    .iter()
                    .find(|(name, _)| db.constraint() == Some(name))
            {
                return StoreError::Conflict(field);
            }
            if db.code().as_deref() == Some(FOREIGN_KEY_VIOLATION) {
                return StoreError::NotFound;
            }
            if db.code().is_some_and(|code| is_unavailable_code(&code)) || is_closed_database(&*db)
            {
                return StoreError::Unavailable(format!("PostgreSQL: {db}"));
            }
            StoreError::Other(format!("PostgreSQL: {db}"))
        }
        e @ (sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed) => StoreError::Unavailable(format!("PostgreSQL: {e}")),
        e => StoreError::Other(format!("PostgreSQL: {e}")),
    }
}

/// For `?` on sqlx results: `.map_err(errors::map)` spelled shorter.
pub(crate) trait MapErr<T> {
    fn store(self) -> Result<T, StoreError>;
}

impl<T> MapErr<T> for Result<T, sqlx::Error> {
    fn store(self) -> Result<T, StoreError> {
        self.map_err(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_mappings() {
        assert!(matches!(
            map(sqlx::Error::RowNotFound),
            StoreError::NotFound
        ));
        assert!(matches!(
            map(sqlx::Error::PoolTimedOut),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            map(sqlx::Error::PoolClosed),
            StoreError::Unavailable(_)
        ));
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert!(matches!(
            map(sqlx::Error::Io(io)),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            map(sqlx::Error::ColumnNotFound("x".into())),
            StoreError::Other(_)
        ));
    }

    #[test]
    fn unavailable_codes() {
        for code in ["08006", "08001", "57P01", "57P03", "53300"] {
            assert!(is_unavailable_code(code), "{code}");
        }
        for code in ["23505", "40001", "42P01"] {
            assert!(!is_unavailable_code(code), "{code}");
        }
    }
}
