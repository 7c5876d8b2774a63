//! Checking a presented password: the one path shared by login and by re-authentication
//! (changing the password or the e-mail address), so all are throttled, counted and logged the
//! same way.
//!
//! Order matters: the account is looked up (cheap), the attempt is reserved on the throttle
//! (`limits::Limits::login_begin`: refused attempts never reach Argon2), then the password is
//! verified, against a dummy hash when there is no account so both cost the same.

use crate::auth::audit;
use crate::limits::login::{Attempt, network};
use crate::state::App;
use justus_core::user::User;
use justus_core::{StoreError, UserId};
use std::net::IpAddr;
use std::time::Duration;

/// Why a password check did not succeed.
#[derive(Debug)]
pub enum Refused {
    /// Too many recent failures (or checks in flight): wait this long.
    Throttled(Duration),
    /// Unknown account or wrong password (indistinguishable on purpose).
    Wrong,
    Store(StoreError),
}

/// The password and where it comes from.
pub struct Presented<'a> {
    pub password: &'a str,
    pub ip: IpAddr,
    /// A device token the client holds (`auth::device`), if any.
    pub device_token: Option<&'a str>,
}

/// A successful login: the account, and a device token to keep for the next one.
pub struct LoggedIn {
    pub user: User,
    pub device_token: String,
}

/// Logs in by username or e-mail (`login` already trimmed and lower-cased).
pub async fn login(app: &App, login: &str, p: Presented<'_>) -> Result<LoggedIn, Refused> {
    let found = match app.store.user_by_login(login).await {
        Ok(found) => Some(found),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(Refused::Store(e)),
    };
    let user_id = found.as_ref().map(|(u, _)| u.id);
    let account = match user_id {
        Some(id) => format!("u:{id}"),
        None => format!("l:{login}"),
    };
    let device = check(
        app,
        login,
        account,
        user_id,
        found.as_ref().map(|(_, h)| h.as_str()),
        &p,
    )
    .await?;
    // `check` succeeds only for an existing account.
    let (user, _) = found.ok_or(Refused::Wrong)?;
    let device_token = app
        .devices
        .issue(user.id, device.as_deref(), app.now().timestamp());
    Ok(LoggedIn { user, device_token })
}

/// Re-authenticates a signed-in user before a sensitive change. Throttled like a login of
/// the same account.
pub async fn reauthenticate(app: &App, user: UserId, p: Presented<'_>) -> Result<(), Refused> {
    let hash = app
        .store
        .password_hash(user)
        .await
        .map_err(Refused::Store)?;
    check(
        app,
        &user.to_string(),
        format!("u:{user}"),
        Some(user),
        Some(&hash),
        &p,
    )
    .await
    .map(drop)
}

/// Reserves the attempt, verifies, and gives the reservation back on success. Returns the
/// device id of a valid device token.
async fn check(
    app: &App,
    login: &str,
    account: String,
    user: Option<UserId>,
    hash: Option<&str>,
    p: &Presented<'_>,
) -> Result<Option<String>, Refused> {
    let now = app.now().timestamp();
    let device = match (user, p.device_token) {
        (Some(u), Some(t)) => app.devices.verify(t, u, now),
        _ => None,
    };
    let attempt = Attempt {
        account,
        ip: network(p.ip),
        device: device.clone(),
    };
    let ticket = match app.limits.login_begin(attempt).await {
        Ok(t) => t,
        Err(wait) => {
            metrics::counter!("auth_throttled_total").increment(1);
            audit::login_failed(login, user, p.ip, "throttled");
            return Err(Refused::Throttled(wait));
        }
    };
    let ok = app.passwords.verify(p.password, hash).await;
    if ok && user.is_some() {
        app.limits.login_succeeded(ticket).await;
        Ok(device)
    } else {
        audit::login_failed(
            login,
            user,
            p.ip,
            if user.is_some() {
                "wrong_password"
            } else {
                "unknown_account"
            },
        );
        Err(Refused::Wrong)
    }
}
