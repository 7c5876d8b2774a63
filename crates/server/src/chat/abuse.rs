//! Spam heuristics and new-account limits, as the use cases apply them. Each refusal says which
//! rule refused it (`code`) and is counted in `abuse_refusals_total{rule}`; the thresholds are
//! settings (`config::AbuseConfig`).

use crate::error::{Error, Result};
use crate::state::App;
use justus_core::message::{count_links, spam_fingerprint};
use justus_core::room::{Member, Role, Room, RoomKind};
use justus_core::{RoomId, UserId};
use std::time::Duration;

fn refused(rule: &'static str) {
    metrics::counter!("abuse_refusals_total", "rule" => rule).increment(1);
}

fn wait_secs(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil() as u64
}

/// A message's links and @mentions (`mentioned`: the distinct usernames it names).
pub fn check_body(app: &App, body: &str, mentioned: usize) -> Result<()> {
    let abuse = &app.config.abuse;
    if mentioned > abuse.max_mentions as usize {
        refused("mention_flood");
        return Err(Error::unprocessable(
            "mention_flood",
            format!(
                "a message may mention at most {} people; use @room to notify everyone",
                abuse.max_mentions
            ),
        )
        .with_field("body"));
    }
    if count_links(body) > abuse.max_links as usize {
        refused("link_flood");
        return Err(Error::unprocessable(
            "link_flood",
            format!("a message may carry at most {} links", abuse.max_links),
        )
        .with_field("body"));
    }
    Ok(())
}

/// The same text in too many rooms (`SPAM_DUPLICATE_ROOMS` within the window).
pub fn check_duplicate(app: &App, user: UserId, room: RoomId, body: &str) -> Result<()> {
    let rooms = app.config.abuse.duplicate_rooms;
    if rooms == 0 {
        return Ok(());
    }
    let Some(fingerprint) = spam_fingerprint(body) else {
        return Ok(());
    };
    app.limits
        .duplicate_text(user, room, fingerprint, rooms)
        .map_err(|wait| {
            refused("duplicate_text");
            Error::too_many(
                "duplicate_message",
                "the same message was just sent to several rooms; wait before sending it to another",
                wait_secs(wait),
            )
        })
}

/// Rapid join-and-post: links, mentions or files from a member who joined moments ago
/// (`SPAM_JOIN_POST_SECONDS`), the pattern of accounts that join a group only to spam it.
/// Plain text passes (newcomers say hello); admins and the owner are exempt, and so are DMs
/// (opening one is not joining a crowd; new accounts' DMs have their own limit).
pub fn check_join_post(
    app: &App,
    room: &Room,
    member: &Member,
    body: &str,
    mentions: usize,
    attachments: usize,
) -> Result<()> {
    let window = app.config.abuse.join_post_seconds;
    if window == 0 || room.kind == RoomKind::Dm || member.role >= Role::Admin {
        return Ok(());
    }
    let since = (app.now() - member.joined_at).num_milliseconds().max(0) as u64;
    let window_ms = window.saturating_mul(1000);
    if since >= window_ms || (mentions == 0 && attachments == 0 && count_links(body) == 0) {
        return Ok(());
    }
    refused("join_and_post");
    Err(Error::too_many(
        "too_soon_after_join",
        format!(
            "you joined this group moments ago: links, mentions and files can be posted {window} s after joining"
        ),
        wait_secs(Duration::from_millis(window_ms - since)),
    ))
}

/// Whether `user`'s account is younger than `NEW_ACCOUNT_HOURS`.
async fn is_new(app: &App, user: UserId) -> Result<bool> {
    let hours = app.config.abuse.new_account_hours;
    if hours == 0 {
        return Ok(false);
    }
    let account = app.store.user_by_id(user).await?;
    Ok(app.now() - account.created_at < chrono::Duration::hours(i64::from(hours)))
}

fn new_account_limit(what: &'static str, wait: Duration) -> Error {
    refused(what);
    Error::too_many(
        "new_account_limit",
        "new accounts can start only a few conversations at first; try again later",
        wait_secs(wait),
    )
}

/// A new account's upload or picture change (`NEW_ACCOUNT_UPLOADS_PER_HOUR`).
pub async fn check_new_upload(app: &App, user: UserId) -> Result<()> {
    if !is_new(app, user).await? {
        return Ok(());
    }
    app.limits
        .new_account_upload(user)
        .await
        .map_err(|wait| new_account_limit("new_account_uploads", wait))
}

/// A new account's message with more than `NEW_ACCOUNT_MAX_LINKS` links (the account's age is
/// read only for such a message, so ordinary sends cost nothing more).
pub async fn check_new_links(app: &App, user: UserId, body: &str) -> Result<()> {
    let abuse = &app.config.abuse;
    if abuse.new_account_hours == 0
        || count_links(body) <= abuse.new_account_max_links as usize
        || !is_new(app, user).await?
    {
        return Ok(());
    }
    refused("new_account_links");
    Err(Error::unprocessable(
        "new_account_links",
        format!(
            "new accounts may post at most {} links in a message during their first {} h",
            abuse.new_account_max_links, abuse.new_account_hours
        ),
    )
    .with_field("body"))
}

/// A new account creating a group.
pub async fn check_new_group(app: &App, user: UserId) -> Result<()> {
    if !is_new(app, user).await? {
        return Ok(());
    }
    app.limits
        .new_account_group(user)
        .await
        .map_err(|wait| new_account_limit("new_account_groups", wait))
}

/// A new account opening a DM with someone it shares no room with.
pub async fn check_new_dm(app: &App, user: UserId, peer: UserId) -> Result<()> {
    if !is_new(app, user).await? || app.store.share_a_room(user, peer).await? {
        return Ok(());
    }
    app.limits
        .new_account_dm(user)
        .await
        .map_err(|wait| new_account_limit("new_account_dms", wait))
}
