//! Mapping between SQLite rows and domain types.

use chrono::{DateTime, Utc};
use justus_core::session::{RefreshRecord, Session, TokenHash};
use justus_core::user::{DisplayName, Email, User, Username};
use justus_core::{SessionId, UserId};
use rusqlite::Row;

/// Timestamps are stored as microseconds since the epoch (the precision PostgreSQL keeps too).
pub fn ts(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub fn from_ts(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

pub const USER_COLS: &str = "u.id, u.username, u.email, u.display_name, u.created_at, u.updated_at";

pub fn user(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: UserId(r.get(0)?),
        username: Username::from_trusted(r.get(1)?),
        email: r.get::<_, Option<String>>(2)?.map(Email::from_trusted),
        display_name: DisplayName::from_trusted(r.get(3)?),
        created_at: from_ts(r.get(4)?),
        updated_at: from_ts(r.get(5)?),
    })
}

pub const SESSION_COLS: &str =
    "id, user_id, created_at, last_used_at, expires_at, user_agent, ip, revoked_at";

pub fn session(r: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        id: SessionId(r.get(0)?),
        user_id: UserId(r.get(1)?),
        created_at: from_ts(r.get(2)?),
        last_used_at: from_ts(r.get(3)?),
        expires_at: from_ts(r.get(4)?),
        user_agent: r.get(5)?,
        ip: r.get(6)?,
        revoked_at: r.get::<_, Option<i64>>(7)?.map(from_ts),
    })
}

pub const TOKEN_COLS: &str = "hash, session_id, created_at, replaced_at, replaced_by";

pub fn hash(bytes: Vec<u8>) -> rusqlite::Result<TokenHash> {
    let arr: [u8; 32] = bytes.try_into().map_err(|_| {
        rusqlite::Error::InvalidColumnType(0, "hash".into(), rusqlite::types::Type::Blob)
    })?;
    Ok(TokenHash(arr))
}

/// A token row with the hash of its successor.
pub fn token(r: &Row<'_>) -> rusqlite::Result<(RefreshRecord, Option<TokenHash>)> {
    let rec = RefreshRecord {
        hash: hash(r.get(0)?)?,
        session_id: SessionId(r.get(1)?),
        created_at: from_ts(r.get(2)?),
        replaced_at: r.get::<_, Option<i64>>(3)?.map(from_ts),
    };
    let next = r.get::<_, Option<Vec<u8>>>(4)?.map(hash).transpose()?;
    Ok((rec, next))
}
