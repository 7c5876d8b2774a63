//! Sessions begin (after a registration or a login) and continue (refresh-token rotation)
//! here; the handlers only choose where the tokens travel (body or cookie).

use crate::auth::refresh::{self, ABSOLUTE_TTL_DAYS};
use crate::error::Result;
use crate::state::App;
use chrono::{DateTime, Duration, Utc};
use justus_core::SessionId;
use justus_core::session::{NewSession, RefreshOutcome, RefreshPolicy};
use justus_core::user::User;
use std::net::IpAddr;

/// A session's credentials, as handed to the client.
pub struct Issued {
    pub user: User,
    pub session: SessionId,
    pub session_expires: DateTime<Utc>,
    pub refresh_token: String,
    pub access_token: String,
    pub access_expires: i64,
}

/// Starts a session for `user` from `ip` (`user_agent` as the client sent it, shortened).
pub async fn start(
    app: &App,
    user: User,
    ip: IpAddr,
    user_agent: Option<String>,
) -> Result<Issued> {
    let now = app.now();
    let (token, hash) = refresh::generate();
    let session = app
        .store
        .create_session(&NewSession {
            id: SessionId::new(),
            user_id: user.id,
            token: hash,
            now,
            expires_at: now + Duration::days(ABSOLUTE_TTL_DAYS),
            user_agent,
            ip: Some(ip.to_string()),
        })
        .await?;
    // A suspension committed while this login ran revoked every session it found, but not
    // this one if it came later: look again now that the session exists.
    if app.store.user_by_id(user.id).await?.suspended_at.is_some() {
        let mut ended = app.store.revoke_sessions(user.id, None, now).await?;
        // Already revoked if the suspension came after this session: ended here all the same.
        ended.push(session.id);
        app.end_sessions(&ended);
        return Err(crate::auth::instance_bans::account_suspended());
    }
    issue(app, user, session.id, session.expires_at, token)
}

fn issue(
    app: &App,
    user: User,
    session: SessionId,
    session_expires: DateTime<Utc>,
    refresh_token: String,
) -> Result<Issued> {
    let (access_token, access_expires) = app.keys.issue(user.id, session, app.now().timestamp())?;
    Ok(Issued {
        user,
        session,
        session_expires,
        refresh_token,
        access_token,
        access_expires,
    })
}

/// Why a refresh token was refused (each answers 401 with its own code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Invalid,
    Expired,
    /// An already rotated token came back: the session is ended for safety.
    Reused,
}

impl Refused {
    pub fn code(self) -> &'static str {
        match self {
            Refused::Invalid => "invalid_refresh_token",
            Refused::Expired => "session_expired",
            Refused::Reused => "refresh_token_reused",
        }
    }
    pub fn message(self) -> &'static str {
        match self {
            Refused::Invalid => "the refresh token is not valid",
            Refused::Expired => "the session has ended; log in again",
            Refused::Reused => {
                "this refresh token was already used; the session was ended for safety"
            }
        }
    }
}

/// Rotates a refresh token: the old one stops working, a new pair is issued. A token used
/// twice ends its session (whoever holds the other copy is locked out with the thief).
pub async fn rotate(app: &App, token: &str) -> Result<std::result::Result<Issued, Refused>> {
    if !refresh::plausible(token) {
        return Ok(Err(Refused::Invalid));
    }
    let (next, next_hash) = refresh::generate();
    let outcome = app
        .store
        .refresh(
            &refresh::hash(token),
            &next_hash,
            app.now(),
            &RefreshPolicy::default(),
        )
        .await?;
    let refused = match outcome {
        RefreshOutcome::Rotated(session) => {
            let user = app.store.user_by_id(session.user_id).await?;
            metrics::counter!("auth_refresh_total", "outcome" => "rotated").increment(1);
            return issue(app, user, session.id, session.expires_at, next).map(Ok);
        }
        RefreshOutcome::Invalid => Refused::Invalid,
        RefreshOutcome::Expired => Refused::Expired,
        RefreshOutcome::ReuseDetected {
            session_id,
            user_id,
        } => {
            app.end_sessions(&[session_id]);
            tracing::warn!(%user_id, %session_id, "refresh token reuse: session revoked");
            Refused::Reused
        }
    };
    let label = match refused {
        Refused::Invalid => "invalid",
        Refused::Expired => "expired",
        Refused::Reused => "reuse",
    };
    metrics::counter!("auth_refresh_total", "outcome" => label).increment(1);
    Ok(Err(refused))
}
