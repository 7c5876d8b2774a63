//! Accounts and sessions; user search and blocks.

use crate::conn::map_err;
use crate::rows::{self, SESSION_COLS, TOKEN_COLS, USER_COLS, ts};
use chrono::{DateTime, Utc};
use justus_core::session::{
    RefreshDecision, RefreshOutcome, RefreshPolicy, Session, TokenHash, decide_refresh,
};
use justus_core::user::User;
use justus_core::{SessionId, StoreResult, UserId};
use rusqlite::{Connection, OptionalExtension, params};

pub(super) fn user_by_id(conn: &Connection, id: UserId) -> StoreResult<User> {
    conn.prepare_cached(&format!("SELECT {USER_COLS} FROM users u WHERE u.id = ?1"))
        .and_then(|mut st| st.query_row([id.0], rows::user))
        .map_err(map_err)
}

pub(super) fn session_by_id(conn: &Connection, id: SessionId) -> StoreResult<Session> {
    conn.prepare_cached(&format!(
        "SELECT {SESSION_COLS} FROM sessions WHERE id = ?1"
    ))
    .and_then(|mut st| st.query_row([id.0], rows::session))
    .map_err(map_err)
}

pub(super) fn insert_token(
    conn: &Connection,
    hash: &TokenHash,
    session: SessionId,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![hash.0.as_slice(), session.0, ts(now)])
    .map(drop)
}

pub(super) fn refresh_tx(
    conn: &Connection,
    presented: &TokenHash,
    next: &TokenHash,
    now: DateTime<Utc>,
    policy: &RefreshPolicy,
) -> StoreResult<RefreshOutcome> {
    let token_sql = format!("SELECT {TOKEN_COLS} FROM refresh_tokens WHERE hash = ?1");
    let found = conn
        .prepare_cached(&token_sql)
        .and_then(|mut st| {
            st.query_row([presented.0.as_slice()], rows::token)
                .optional()
        })
        .map_err(map_err)?;
    let Some((token, successor_hash)) = found else {
        return Ok(RefreshOutcome::Invalid);
    };
    let session = session_by_id(conn, token.session_id)?;
    let successor = match successor_hash {
        Some(h) => conn
            .prepare_cached(&token_sql)
            .and_then(|mut st| st.query_row([h.0.as_slice()], rows::token).optional())
            .map_err(map_err)?
            .map(|(rec, _)| rec),
        None => None,
    };
    let decision = decide_refresh(&session, &token, successor.as_ref(), now, policy);
    let exec = |sql: &str, p: &[&dyn rusqlite::ToSql]| {
        conn.prepare_cached(sql)
            .and_then(|mut st| st.execute(p))
            .map_err(map_err)
    };
    match decision {
        RefreshDecision::Expired => Ok(RefreshOutcome::Expired),
        RefreshDecision::ReuseDetected => {
            exec(
                "UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                &[&session.id.0, &ts(now)],
            )?;
            Ok(RefreshOutcome::ReuseDetected {
                session_id: session.id,
                user_id: session.user_id,
            })
        }
        RefreshDecision::Rotate | RefreshDecision::RotateWithinGrace => {
            if decision == RefreshDecision::Rotate {
                exec(
                    "UPDATE refresh_tokens SET replaced_at = ?2, replaced_by = ?3 WHERE hash = ?1",
                    &[&presented.0.as_slice(), &ts(now), &next.0.as_slice()],
                )?;
            } else {
                if let Some(s) = &successor {
                    exec(
                        "UPDATE refresh_tokens SET replaced_at = ?2 WHERE hash = ?1",
                        &[&s.hash.0.as_slice(), &ts(now)],
                    )?;
                }
                // The retried token keeps its original rotation time: the grace window does not
                // restart with every retry.
                exec(
                    "UPDATE refresh_tokens SET replaced_by = ?2 WHERE hash = ?1",
                    &[&presented.0.as_slice(), &next.0.as_slice()],
                )?;
            }
            insert_token(conn, next, session.id, now).map_err(map_err)?;
            exec(
                "UPDATE sessions SET last_used_at = ?2 WHERE id = ?1",
                &[&session.id.0, &ts(now)],
            )?;
            Ok(RefreshOutcome::Rotated(Session {
                last_used_at: now,
                ..session
            }))
        }
    }
}

/// Users whose username starts with `prefix`, alphabetical. Usernames are ASCII and compared
/// bytewise, so the prefix range `[prefix, prefix + U+10FFFF)` uses the unique index.
pub(super) fn search_users(c: &Connection, prefix: &str, limit: u32) -> StoreResult<Vec<User>> {
    let prefix = prefix.to_lowercase();
    let upper = format!("{prefix}\u{10FFFF}");
    let mut st = c
        .prepare_cached(&format!(
            "SELECT {USER_COLS} FROM users u WHERE u.username >= ?1 AND u.username < ?2 \
             ORDER BY u.username LIMIT ?3"
        ))
        .map_err(map_err)?;
    st.query_map(params![prefix, upper, i64::from(limit)], rows::user)
        .and_then(|rows| rows.collect())
        .map_err(map_err)
}

pub(super) fn block_user(
    c: &Connection,
    blocker: UserId,
    blocked: UserId,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    c.prepare_cached(
        "INSERT INTO user_blocks (blocker_id, blocked_id, created_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT DO NOTHING",
    )
    .and_then(|mut st| st.execute(params![blocker.0, blocked.0, ts(now)]))
    .map(drop)
    .map_err(map_err)
}

pub(super) fn unblock_user(c: &Connection, blocker: UserId, blocked: UserId) -> StoreResult<()> {
    c.prepare_cached("DELETE FROM user_blocks WHERE blocker_id = ?1 AND blocked_id = ?2")
        .and_then(|mut st| st.execute(params![blocker.0, blocked.0]))
        .map(drop)
        .map_err(map_err)
}

pub(super) fn blocked_users(c: &Connection, blocker: UserId) -> StoreResult<Vec<UserId>> {
    let mut st = c
        .prepare_cached(
            "SELECT blocked_id FROM user_blocks WHERE blocker_id = ?1 ORDER BY created_at, blocked_id",
        )
        .map_err(map_err)?;
    st.query_map([blocker.0], |r| Ok(UserId(r.get(0)?)))
        .and_then(|rows| rows.collect())
        .map_err(map_err)
}

pub(super) fn is_blocked_between(c: &Connection, a: UserId, b: UserId) -> StoreResult<bool> {
    c.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM user_blocks WHERE (blocker_id = ?1 AND blocked_id = ?2) \
         OR (blocker_id = ?2 AND blocked_id = ?1))",
    )
    .and_then(|mut st| st.query_row(params![a.0, b.0], |r| r.get(0)))
    .map_err(map_err)
}
