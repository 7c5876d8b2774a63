//! Rows as PostgreSQL returns them, and their conversion into domain types.

use chrono::{DateTime, Utc};
use justus_core::session::{RefreshRecord, Session, TokenHash};
use justus_core::user::{DisplayName, Email, User, Username};
use justus_core::{SessionId, StoreError, UserId};
use uuid::Uuid;

// Column lists matching the row structs, as macros so queries can be `concat!`-ed literals.

/// The columns of [`UserRow`], for `users` aliased as `u`.
macro_rules! user_columns {
    () => {
        "u.id, u.username, u.email, u.display_name, u.created_at, u.updated_at"
    };
}

/// The columns of [`SessionRow`].
macro_rules! session_columns {
    () => {
        "id, user_id, created_at, last_used_at, expires_at, user_agent, ip, revoked_at"
    };
}

/// The columns of [`TokenRow`].
macro_rules! token_columns {
    () => {
        "hash, session_id, created_at, replaced_at, replaced_by"
    };
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: Uuid,
    username: String,
    email: Option<String>,
    display_name: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: UserId(r.id),
            // The store only ever holds values the domain parsed.
            username: Username::from_trusted(r.username),
            display_name: DisplayName::from_trusted(r.display_name),
            email: r.email.map(Email::from_trusted),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A user joined with their password hash, for login.
#[derive(sqlx::FromRow)]
pub(crate) struct LoginRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub password_hash: String,
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    id: Uuid,
    user_id: Uuid,
    created_at: DateTime<Utc>,
    last_used_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    user_agent: Option<String>,
    ip: Option<String>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<SessionRow> for Session {
    fn from(r: SessionRow) -> Self {
        Session {
            id: SessionId(r.id),
            user_id: UserId(r.user_id),
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            expires_at: r.expires_at,
            user_agent: r.user_agent,
            ip: r.ip,
            revoked_at: r.revoked_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    hash: Vec<u8>,
    session_id: Uuid,
    created_at: DateTime<Utc>,
    replaced_at: Option<DateTime<Utc>>,
    replaced_by: Option<Vec<u8>>,
}

impl TokenRow {
    /// The hash of the token that replaced this one, if any.
    pub fn replaced_by(&self) -> Result<Option<TokenHash>, StoreError> {
        self.replaced_by.as_deref().map(token_hash).transpose()
    }

    pub fn into_record(self) -> Result<RefreshRecord, StoreError> {
        Ok(RefreshRecord {
            hash: token_hash(&self.hash)?,
            session_id: SessionId(self.session_id),
            created_at: self.created_at,
            replaced_at: self.replaced_at,
        })
    }
}

fn token_hash(bytes: &[u8]) -> Result<TokenHash, StoreError> {
    <[u8; 32]>::try_from(bytes).map(TokenHash).map_err(|_| {
        StoreError::Other(format!(
            "stored refresh-token hash has {} bytes, expected 32",
            bytes.len()
        ))
    })
}
