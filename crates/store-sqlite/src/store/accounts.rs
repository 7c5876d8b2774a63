//! Accounts and sessions; user search and blocks.

use super::SqliteStore;
use crate::conn::map_err;
use crate::rows::{self, SESSION_COLS, TOKEN_COLS, USER_COLS, ts};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use justus_core::audit;
use justus_core::instance_ban::SignupBlock;
use justus_core::session::{
    NewSession, RefreshDecision, RefreshOutcome, RefreshPolicy, Session, TokenHash, decide_refresh,
    listing_idle_cutoff,
};
use justus_core::store::Accounts;
use justus_core::user::{NewUser, User, UserPatch};
use justus_core::{SessionId, SignupBlockId, StoreError, StoreResult, UserId};
use rusqlite::{Connection, OptionalExtension, params};

fn signup_block(r: &rusqlite::Row<'_>) -> rusqlite::Result<SignupBlock> {
    Ok(SignupBlock {
        id: SignupBlockId(r.get(0)?),
        cidr: r.get(1)?,
        reason: r.get(2)?,
        created_by: UserId(r.get(3)?),
        created_at: rows::from_ts(r.get(4)?),
    })
}

pub(super) fn user_by_id(conn: &Connection, id: UserId) -> StoreResult<User> {
    conn.prepare_cached(&format!("SELECT {USER_COLS} FROM users u WHERE u.id = ?1"))
        .and_then(|mut st| st.query_row([id.0], rows::user))
        .map_err(map_err)
}

fn session_by_id(conn: &Connection, id: SessionId) -> StoreResult<Session> {
    conn.prepare_cached(&format!(
        "SELECT {SESSION_COLS} FROM sessions WHERE id = ?1"
    ))
    .and_then(|mut st| st.query_row([id.0], rows::session))
    .map_err(map_err)
}

fn insert_token(
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

/// The whole of [`Accounts::refresh`], inside one writer job.
fn refresh_tx(
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

#[async_trait]
impl Accounts for SqliteStore {
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "create_user", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "create_user"))]
    async fn create_user(&self, new: &NewUser) -> StoreResult<User> {
        let new = new.clone();
        self.threads
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO users (id, username, email, display_name, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        new.id.0,
                        new.username.as_str(),
                        new.email.as_ref().map(|e| e.as_str()),
                        new.display_name.as_str(),
                        ts(new.now)
                    ])
                })
                .map_err(map_err)?;
                c.prepare_cached("INSERT INTO credentials (user_id, password_hash, updated_at) VALUES (?1, ?2, ?3)")
                    .and_then(|mut st| st.execute(params![new.id.0, new.password_hash, ts(new.now)]))
                    .map_err(map_err)?;
                Ok(User {
                    id: new.id,
                    username: new.username,
                    display_name: new.display_name,
                    email: new.email,
                    created_at: new.now,
                    updated_at: new.now,
                    avatar: None,
                    suspended_at: None,
                })
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "user_by_id", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "user_by_id"))]
    async fn user_by_id(&self, id: UserId) -> StoreResult<User> {
        self.threads.read(move |c| user_by_id(c, id)).await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "users_by_ids", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "users_by_ids"))]
    async fn users_by_ids(&self, ids: &[UserId]) -> StoreResult<Vec<User>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<uuid::Uuid> = ids.iter().map(|u| u.0).collect();
        self.threads
            .read(move |c| {
                let mut out = Vec::with_capacity(ids.len());
                // Chunks stay far below SQLite's bound-parameter limit.
                for chunk in ids.chunks(500) {
                    let marks = vec!["?"; chunk.len()].join(",");
                    let mut st = c
                        .prepare(&format!(
                            "SELECT {USER_COLS} FROM users u WHERE u.id IN ({marks})"
                        ))
                        .map_err(map_err)?;
                    let rows = st
                        .query_map(rusqlite::params_from_iter(chunk.iter()), rows::user)
                        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                        .map_err(map_err)?;
                    out.extend(rows);
                }
                Ok(out)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "user_by_login", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "user_by_login"))]
    async fn user_by_login(&self, login: &str) -> StoreResult<(User, String)> {
        let login = login.to_lowercase();
        self.threads
            .read(move |c| {
                c.prepare_cached(&format!(
                    "SELECT {USER_COLS}, cr.password_hash FROM users u JOIN credentials cr ON cr.user_id = u.id \
                     WHERE u.username = ?1 OR u.email = ?1 LIMIT 1"
                ))
                .and_then(|mut st| st.query_row([login], |r| Ok((rows::user(r)?, r.get(rows::USER_NCOLS)?))))
                .map_err(map_err)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "password_hash", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "password_hash"))]
    async fn password_hash(&self, id: UserId) -> StoreResult<String> {
        self.threads
            .read(move |c| {
                c.prepare_cached("SELECT password_hash FROM credentials WHERE user_id = ?1")
                    .and_then(|mut st| st.query_row([id.0], |r| r.get(0)))
                    .map_err(map_err)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "update_user", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "update_user"))]
    async fn update_user(
        &self,
        id: UserId,
        patch: &UserPatch,
        now: DateTime<Utc>,
    ) -> StoreResult<User> {
        let patch = patch.clone();
        self.threads
            .write(move |c| {
                let mut current = user_by_id(c, id)?;
                if let Some(name) = patch.display_name {
                    current.display_name = name;
                }
                if let Some(email) = patch.email {
                    current.email = email;
                }
                current.updated_at = now;
                c.prepare_cached(
                    "UPDATE users SET display_name = ?2, email = ?3, updated_at = ?4 WHERE id = ?1",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        id.0,
                        current.display_name.as_str(),
                        current.email.as_ref().map(|e| e.as_str()),
                        ts(now)
                    ])
                })
                .map_err(map_err)?;
                Ok(current)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "set_password_hash", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "set_password_hash"))]
    async fn set_password_hash(
        &self,
        id: UserId,
        hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let hash = hash.to_owned();
        self.threads
            .write(move |c| {
                let n = c
                    .prepare_cached("UPDATE credentials SET password_hash = ?2, updated_at = ?3 WHERE user_id = ?1")
                    .and_then(|mut st| st.execute(params![id.0, hash, ts(now)]))
                    .map_err(map_err)?;
                if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
            })
            .await
    }

    // --- sessions ----------------------------------------------------------------------------

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "create_session", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "create_session"))]
    async fn create_session(&self, new: &NewSession) -> StoreResult<Session> {
        let new = new.clone();
        self.threads
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip) \
                     VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6)",
                )
                .and_then(|mut st| {
                    st.execute(params![new.id.0, new.user_id.0, ts(new.now), ts(new.expires_at), new.user_agent, new.ip])
                })
                .map_err(map_err)?;
                insert_token(c, &new.token, new.id, new.now).map_err(map_err)?;
                Ok(Session {
                    id: new.id,
                    user_id: new.user_id,
                    created_at: new.now,
                    last_used_at: new.now,
                    expires_at: new.expires_at,
                    user_agent: new.user_agent,
                    ip: new.ip,
                    revoked_at: None,
                })
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "session", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "session"))]
    async fn session(&self, id: SessionId) -> StoreResult<Session> {
        self.threads.read(move |c| session_by_id(c, id)).await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "refresh", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "refresh"))]
    async fn refresh(
        &self,
        presented: &TokenHash,
        next: &TokenHash,
        now: DateTime<Utc>,
        policy: &RefreshPolicy,
    ) -> StoreResult<RefreshOutcome> {
        let (presented, next, policy) = (*presented, *next, *policy);
        self.threads
            .write(move |c| refresh_tx(c, &presented, &next, now, &policy))
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "list_sessions", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "list_sessions"))]
    async fn list_sessions(&self, user: UserId, now: DateTime<Utc>) -> StoreResult<Vec<Session>> {
        let idle_cutoff = listing_idle_cutoff(now);
        self.threads
            .read(move |c| {
                let mut st = c
                    .prepare_cached(&format!(
                        "SELECT {SESSION_COLS} FROM sessions WHERE user_id = ?1 AND revoked_at IS NULL \
                         AND expires_at > ?2 AND last_used_at > ?3 ORDER BY created_at DESC, id DESC"
                    ))
                    .map_err(map_err)?;
                st.query_map(params![user.0, ts(now), ts(idle_cutoff)], rows::session)
                    .and_then(|rows| rows.collect())
                    .map_err(map_err)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "revoke_session", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "revoke_session"))]
    async fn revoke_session(
        &self,
        user: UserId,
        id: SessionId,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.threads
            .write(move |c| {
                let n = c
                    .prepare_cached("UPDATE sessions SET revoked_at = ?3 WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL")
                    .and_then(|mut st| st.execute(params![id.0, user.0, ts(now)]))
                    .map_err(map_err)?;
                if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "revoke_sessions", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "revoke_sessions"))]
    async fn revoke_sessions(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SessionId>> {
        self.threads
            .write(move |c| {
                let mut st = c
                    .prepare_cached(
                        "UPDATE sessions SET revoked_at = ?3 WHERE user_id = ?1 AND revoked_at IS NULL \
                         AND (?2 IS NULL OR id <> ?2) RETURNING id",
                    )
                    .map_err(map_err)?;
                st.query_map(params![user.0, keep.map(|k| k.0), ts(now)], |r| Ok(SessionId(r.get(0)?)))
                    .and_then(|rows| rows.collect())
                    .map_err(map_err)
            })
            .await
    }

    // --- users: search and blocks ------------------------------------------------------------

    /// Usernames are ASCII and compared bytewise, so the prefix range
    /// `[prefix, prefix + U+10FFFF)` uses the unique index.
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "search_users", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "search_users"))]
    async fn search_users(&self, prefix: &str, limit: u32) -> StoreResult<Vec<User>> {
        let prefix = prefix.to_lowercase();
        let upper = format!("{prefix}\u{10FFFF}");
        self.threads
            .read(move |c| {
                let mut st = c
                    .prepare_cached(&format!(
                        "SELECT {USER_COLS} FROM users u WHERE u.username >= ?1 AND u.username < ?2 \
                         ORDER BY u.username LIMIT ?3"
                    ))
                    .map_err(map_err)?;
                st.query_map(params![prefix, upper, i64::from(limit)], rows::user)
                    .and_then(|rows| rows.collect())
                    .map_err(map_err)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "block_user", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "block_user"))]
    async fn block_user(
        &self,
        blocker: UserId,
        blocked: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.threads
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO user_blocks (blocker_id, blocked_id, created_at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT DO NOTHING",
                )
                .and_then(|mut st| st.execute(params![blocker.0, blocked.0, ts(now)]))
                .map(drop)
                .map_err(map_err)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "unblock_user", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "unblock_user"))]
    async fn unblock_user(&self, blocker: UserId, blocked: UserId) -> StoreResult<()> {
        self.threads
            .write(move |c| {
                c.prepare_cached(
                    "DELETE FROM user_blocks WHERE blocker_id = ?1 AND blocked_id = ?2",
                )
                .and_then(|mut st| st.execute(params![blocker.0, blocked.0]))
                .map(drop)
                .map_err(map_err)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "blocked_users", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "blocked_users"))]
    async fn blocked_users(&self, blocker: UserId) -> StoreResult<Vec<UserId>> {
        self.threads
            .read(move |c| {
                let mut st = c
                    .prepare_cached(
                        "SELECT blocked_id FROM user_blocks WHERE blocker_id = ?1 ORDER BY created_at, blocked_id",
                    )
                    .map_err(map_err)?;
                st.query_map([blocker.0], |r| Ok(UserId(r.get(0)?)))
                    .and_then(|rows| rows.collect())
                    .map_err(map_err)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "is_blocked_between", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "is_blocked_between"))]
    async fn is_blocked_between(&self, a: UserId, b: UserId) -> StoreResult<bool> {
        self.threads
            .read(move |c| {
                c.prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM user_blocks WHERE (blocker_id = ?1 AND blocked_id = ?2) \
                     OR (blocker_id = ?2 AND blocked_id = ?1))",
                )
                .and_then(|mut st| st.query_row(params![a.0, b.0], |r| r.get(0)))
                .map_err(map_err)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "group_adds", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "group_adds"))]
    async fn group_adds(&self, user: UserId) -> StoreResult<justus_core::user::GroupAdds> {
        self.threads
            .read(move |c| {
                let s: String = c
                    .prepare_cached("SELECT group_adds FROM users WHERE id = ?1")
                    .and_then(|mut st| st.query_row([user.0], |r| r.get(0)))
                    .map_err(map_err)?;
                justus_core::user::GroupAdds::parse(&s).ok_or_else(|| {
                    StoreError::Other(format!("stored group_adds {s:?} is not valid"))
                })
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "set_group_adds", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "set_group_adds"))]
    async fn set_group_adds(
        &self,
        user: UserId,
        policy: justus_core::user::GroupAdds,
    ) -> StoreResult<()> {
        self.threads
            .write(move |c| {
                let n = c
                    .prepare_cached("UPDATE users SET group_adds = ?2 WHERE id = ?1")
                    .and_then(|mut st| st.execute(params![user.0, policy.as_str()]))
                    .map_err(map_err)?;
                if n == 0 {
                    Err(StoreError::NotFound)
                } else {
                    Ok(())
                }
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "set_last_seen", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "set_last_seen"))]
    async fn set_last_seen(&self, user: UserId, at: DateTime<Utc>) -> StoreResult<()> {
        self.threads
            .write(move |c| {
                let n = c
                    .prepare_cached("UPDATE users SET last_seen_at = ?2 WHERE id = ?1")
                    .and_then(|mut st| st.execute(params![user.0, ts(at)]))
                    .map_err(map_err)?;
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "last_seen", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "last_seen"))]
    async fn last_seen(&self, user: UserId) -> StoreResult<Option<DateTime<Utc>>> {
        self.threads
            .read(move |c| {
                c.prepare_cached("SELECT last_seen_at FROM users WHERE id = ?1")
                    .and_then(|mut st| st.query_row([user.0], |r| r.get::<_, Option<i64>>(0)))
                    .map(|at| at.map(rows::from_ts))
                    .map_err(map_err)
            })
            .await
    }

    // --- instance-wide bans ------------------------------------------------------------------

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "set_suspended", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "set_suspended"))]
    async fn set_suspended(
        &self,
        user: UserId,
        suspend: bool,
        actor: UserId,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Vec<SessionId>>> {
        self.threads
            .write(move |c| {
                let was = user_by_id(c, user)?.suspended_at.is_some();
                if was == suspend {
                    return Ok(None);
                }
                c.prepare_cached("UPDATE users SET suspended_at = ?2 WHERE id = ?1")
                    .and_then(|mut st| st.execute(params![user.0, suspend.then(|| ts(now))]))
                    .map_err(map_err)?;
                let ended = if suspend {
                    let mut st = c
                        .prepare_cached(
                            "UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 \
                             AND revoked_at IS NULL RETURNING id",
                        )
                        .map_err(map_err)?;
                    st.query_map(params![user.0, ts(now)], |r| Ok(SessionId(r.get(0)?)))
                        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                        .map_err(map_err)?
                } else {
                    Vec::new()
                };
                super::audit::insert(
                    c,
                    &audit::account_suspension(user, suspend, actor, reason, now),
                )?;
                Ok(Some(ended))
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "suspended_users", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "suspended_users"))]
    async fn suspended_users(&self) -> StoreResult<Vec<User>> {
        self.threads
            .read(move |c| {
                let mut st = c
                    .prepare_cached(&format!(
                        "SELECT {USER_COLS} FROM users u WHERE u.suspended_at IS NOT NULL \
                         ORDER BY u.suspended_at DESC"
                    ))
                    .map_err(map_err)?;
                st.query_map([], rows::user)
                    .and_then(|rows| rows.collect())
                    .map_err(map_err)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "signup_blocks", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "signup_blocks"))]
    async fn signup_blocks(&self) -> StoreResult<Vec<SignupBlock>> {
        self.threads
            .read(move |c| {
                let mut st = c
                    .prepare_cached(
                        "SELECT id, cidr, reason, created_by, created_at FROM signup_blocks \
                         ORDER BY created_at DESC, id DESC",
                    )
                    .map_err(map_err)?;
                st.query_map([], signup_block)
                    .and_then(|rows| rows.collect())
                    .map_err(map_err)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "add_signup_block", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "add_signup_block"))]
    async fn add_signup_block(&self, block: &SignupBlock) -> StoreResult<()> {
        let block = block.clone();
        self.threads
            .write(move |c| {
                let added = c
                    .prepare_cached(
                        "INSERT INTO signup_blocks (id, cidr, reason, created_by, created_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (cidr) DO NOTHING",
                    )
                    .and_then(|mut st| {
                        st.execute(params![
                            block.id.0,
                            block.cidr,
                            block.reason,
                            block.created_by.0,
                            ts(block.created_at)
                        ])
                    })
                    .map_err(map_err)?;
                if added == 0 {
                    return Err(StoreError::Conflict("cidr"));
                }
                let entry = audit::signup_block(
                    &block,
                    true,
                    block.created_by,
                    block.reason.clone(),
                    block.created_at,
                );
                super::audit::insert(c, &entry)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "remove_signup_block", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "remove_signup_block"))]
    async fn remove_signup_block(
        &self,
        id: SignupBlockId,
        actor: UserId,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<SignupBlock> {
        self.threads
            .write(move |c| {
                let block = c
                    .prepare_cached(
                        "DELETE FROM signup_blocks WHERE id = ?1 \
                         RETURNING id, cidr, reason, created_by, created_at",
                    )
                    .and_then(|mut st| st.query_row([id.0], signup_block))
                    .map_err(map_err)?;
                super::audit::insert(c, &audit::signup_block(&block, false, actor, reason, now))?;
                Ok(block)
            })
            .await
    }
}
