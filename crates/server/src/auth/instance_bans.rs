//! Instance-wide bans (the instance admins of `ADMIN_USERS`): suspending an account ends its
//! sessions at once — tokens stop working, sockets close — and refuses its logins until it is
//! reinstated; sign-up blocks refuse new accounts from an address range. Every change is in
//! the instance's audit log. The rules (ranges, matching) are `justus_core::instance_ban`.

use crate::error::{Error, Result, not_found};
use crate::state::App;
use justus_core::instance_ban::{SignupBlock, blocking, parse_cidr};
use justus_core::user::User;
use justus_core::{SignupBlockId, StoreError, UserId};
use std::net::IpAddr;

fn is_admin(app: &App, user: &User) -> bool {
    app.config.auth.is_instance_admin(user.username.as_str())
}

/// The caller, if they are one of the instance's admins.
async fn admin(app: &App, user: UserId) -> Result<User> {
    let me = app.store.user_by_id(user).await?;
    if !is_admin(app, &me) {
        return Err(Error::instance_admins_only());
    }
    Ok(me)
}

/// Suspends `target`: its sessions end now (here and, through the bus, on every instance) and
/// it cannot sign in again until reinstated. `block_signups_from` also blocks sign-ups from
/// that range, in the same request. Instance admins cannot be suspended (they are named by the
/// operator's configuration), nor can anyone suspend themselves.
pub async fn suspend(
    app: &App,
    actor: UserId,
    target: UserId,
    reason: Option<String>,
    block_signups_from: Option<&str>,
) -> Result<()> {
    admin(app, actor).await?;
    // Validated before anything changes, so a bad range leaves the account as it was.
    let range = block_signups_from.map(parse_cidr).transpose()?;
    if target == actor {
        return Err(Error::unprocessable(
            "cannot_suspend_self",
            "you cannot suspend your own account",
        ));
    }
    let user = app
        .store
        .user_by_id(target)
        .await
        .map_err(not_found("user"))?;
    if is_admin(app, &user) {
        return Err(Error::forbidden(
            "cannot_suspend_admin",
            "instance admins cannot be suspended; remove them from ADMIN_USERS first",
        ));
    }
    if let Some(ended) = app
        .store
        .set_suspended(target, true, actor, reason.clone(), app.now())
        .await
        .map_err(not_found("user"))?
    {
        app.end_sessions(&ended);
        metrics::counter!("accounts_suspended_total").increment(1);
        tracing::info!(user_id = %target, by = %actor, sessions = ended.len(), "account suspended");
    }
    if let Some(range) = range {
        match add(app, actor, range.to_string(), reason).await {
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Lifts a suspension; the person signs in again as usual. Idempotent.
pub async fn reinstate(
    app: &App,
    actor: UserId,
    target: UserId,
    reason: Option<String>,
) -> Result<()> {
    admin(app, actor).await?;
    if app
        .store
        .set_suspended(target, false, actor, reason, app.now())
        .await
        .map_err(not_found("user"))?
        .is_some()
    {
        tracing::info!(user_id = %target, by = %actor, "account reinstated");
    }
    Ok(())
}

/// The suspended accounts, most recent first.
pub async fn suspended(app: &App, actor: UserId) -> Result<Vec<User>> {
    admin(app, actor).await?;
    Ok(app.store.suspended_users().await?)
}

pub async fn signup_blocks(app: &App, actor: UserId) -> Result<Vec<SignupBlock>> {
    admin(app, actor).await?;
    Ok(app.store.signup_blocks().await?)
}

/// Blocks sign-ups from `cidr` (a range or one address). 409 `already_blocked` for a range
/// already blocked (after normalising: `10.1.2.3/16` is `10.1.0.0/16`).
pub async fn block_signups(
    app: &App,
    actor: UserId,
    cidr: &str,
    reason: Option<String>,
) -> Result<SignupBlock> {
    admin(app, actor).await?;
    let range = parse_cidr(cidr)?;
    add(app, actor, range.to_string(), reason)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => Error::conflict(
                "already_blocked",
                "sign-ups from this range are already blocked",
            ),
            other => other.into(),
        })
}

async fn add(
    app: &App,
    actor: UserId,
    cidr: String,
    reason: Option<String>,
) -> std::result::Result<SignupBlock, StoreError> {
    let block = SignupBlock {
        id: SignupBlockId::new(),
        cidr,
        reason,
        created_by: actor,
        created_at: app.now(),
    };
    app.store.add_signup_block(&block).await?;
    tracing::info!(cidr = %block.cidr, by = %actor, "sign-ups blocked");
    Ok(block)
}

pub async fn unblock_signups(
    app: &App,
    actor: UserId,
    id: SignupBlockId,
    reason: Option<String>,
) -> Result<()> {
    admin(app, actor).await?;
    let block = app
        .store
        .remove_signup_block(id, actor, reason, app.now())
        .await
        .map_err(not_found("signup block"))?;
    tracing::info!(cidr = %block.cidr, by = %actor, "sign-up block lifted");
    Ok(())
}

/// Refuses a sign-up from a blocked range (403 `signup_blocked`), counted in
/// `abuse_refusals_total{rule="signup_block"}`.
pub async fn check_signup(app: &App, ip: IpAddr) -> Result<()> {
    let blocks = app.store.signup_blocks().await?;
    if blocking(&blocks, ip).is_some() {
        metrics::counter!("abuse_refusals_total", "rule" => "signup_block").increment(1);
        return Err(Error::forbidden(
            "signup_blocked",
            "sign-ups from your network are closed on this server",
        ));
    }
    Ok(())
}

/// Refuses a suspended account (403 `account_suspended`): login runs it after the password
/// check (so a guesser learns nothing), and again after the session exists, which closes the
/// race with a suspension committed in between (that suspension revoked the new session too).
pub fn check_not_suspended(user: &User) -> Result<()> {
    match user.suspended_at {
        Some(_) => Err(account_suspended()),
        None => Ok(()),
    }
}

/// 403 `account_suspended`.
pub fn account_suspended() -> Error {
    Error::forbidden(
        "account_suspended",
        "this account has been suspended by the server's administrators",
    )
}
