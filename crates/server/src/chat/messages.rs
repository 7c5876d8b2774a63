//! Messages, reactions, pins, history, read state and search.

use super::access::Access;
use super::{forbidden, member_access, not_found, not_muted, permit, require};
use crate::error::{Error, Result};
use crate::state::App;
use justus_core::bus::{BusMessage, Ephemeral};
use justus_core::event::EventPage;
use justus_core::media::{Attachment, MAX_ATTACHMENTS};
use justus_core::message::{
    Forwarded, Message, NewMessage, Page, parse_body, parse_client_id, parse_emoji, parse_mentions,
};
use justus_core::room::{Action, Member, Room, RoomKind, can, slow_mode_for};
use justus_core::store::{SearchHit, SendOutcome};
use justus_core::{MediaId, MessageId, RoomId, StoreError, UserId};
use std::sync::Arc;

/// A send request, from REST or the gateway.
#[derive(Clone, Debug)]
pub struct SendInput {
    pub client_id: String,
    pub body: Option<String>,
    pub reply_to: Option<MessageId>,
    /// Forward this message (from a room the caller is in) instead of writing a body.
    pub forward_from: Option<(RoomId, MessageId)>,
    /// The caller's own uploads to attach, in order (at most `MAX_ATTACHMENTS`).
    pub attachments: Vec<MediaId>,
}

/// Checks the caller may post here: member, role (only-admins mode), not muted, not blocked
/// in a DM. Groups are answered from `app.post_access` when it knows them (see `chat::access`).
async fn can_post(app: &App, room_id: RoomId, user: UserId) -> Result<Arc<Access>> {
    if let Some(access) = app.post_access.get(room_id, user) {
        permit(&access.room, &access.member, Action::Post)?;
        not_muted(&access.member, app.now())?;
        return Ok(access);
    }
    let stamp = app.post_access.stamp();
    let (room, member) = require(app, room_id, user, Action::Post).await?;
    not_muted(&member, app.now())?;
    if room.kind == RoomKind::Group {
        let access = Arc::new(Access { room, member });
        app.post_access.put(stamp, access.clone());
        return Ok(access);
    }
    let peer = app
        .store
        .members(room_id)
        .await?
        .into_iter()
        .find(|m| m.user_id != user);
    if let Some(peer) = peer
        && app.store.is_blocked_between(user, peer.user_id).await?
    {
        return Err(Error::forbidden("blocked", "you cannot message this user"));
    }
    Ok(Arc::new(Access { room, member }))
}

/// A room's slow mode, on REST and the gateway alike (cluster-wide with Redis). A retry of a
/// message already sent is let through: the store answers it with the stored message, and
/// refusing it would turn a lost acknowledgement into a lost message for the client.
async fn slow_mode(
    app: &App,
    room_id: RoomId,
    user: UserId,
    client_id: &str,
    every: std::time::Duration,
) -> Result<()> {
    let Err(wait) = app.limits.slow_mode(room_id, user, every).await else {
        return Ok(());
    };
    if app.store.client_id_used(user, client_id).await? {
        return Ok(());
    }
    metrics::counter!("slow_mode_refusals_total").increment(1);
    Err(Error::too_many(
        "slow_mode",
        format!(
            "slow mode: one message every {} s in this room",
            every.as_secs()
        ),
        wait.as_secs_f64().ceil() as u64,
    ))
}

/// Resolves `@username`s in `body` to members of the room; `@room` counts only for those
/// allowed to notify everyone (it stays plain text otherwise).
async fn resolve_mentions(
    app: &App,
    room: &Room,
    member: &Member,
    body: &str,
) -> Result<(Vec<UserId>, bool)> {
    let parsed = parse_mentions(body);
    super::abuse::check_body(app, body, parsed.usernames.len())?;
    super::abuse::check_new_links(app, member.user_id, body).await?;
    let mut ids = app.store.members_named(room.id, &parsed.usernames).await?;
    ids.retain(|id| *id != member.user_id);
    ids.sort_unstable();
    Ok((
        ids,
        parsed.room && can(room, member.role, Action::MentionRoom),
    ))
}

/// Sends a message: acknowledged (returned) only after commit; idempotent by `client_id`.
/// Returns the message and whether it was created now (false: a retry of an earlier send).
#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.messages.send",
    skip_all
)]
pub async fn send(
    app: &App,
    user: UserId,
    room_id: RoomId,
    input: SendInput,
) -> Result<(Message, bool)> {
    let prepared = prepare_send(app, user, room_id, input).await?;
    commit_send(app, prepared).await
}

/// A send that passed every check, ready to commit.
#[derive(Debug)]
pub struct PreparedSend(NewMessage);

/// The first half of [`send`]: every check and lookup, nothing written. The gateway runs it
/// for one request at a time and may then start the next socket request while this one's
/// [`commit_send`] waits for its commit (see `Messages::commits_sends_in_order`).
#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.messages.prepare_send",
    skip_all
)]
pub async fn prepare_send(
    app: &App,
    user: UserId,
    room_id: RoomId,
    input: SendInput,
) -> Result<PreparedSend> {
    let client_id = parse_client_id(&input.client_id)?;
    let access = can_post(app, room_id, user).await?;
    if let Some(every) = slow_mode_for(&access.room, access.member.role) {
        slow_mode(app, room_id, user, &client_id, every).await?;
    }
    let attachments = own_attachments(app, user, &input.attachments).await?;
    let max = app.config.limits.message_max_chars as usize;
    let body = match input.body {
        // A message may be only its attachments.
        Some(b) if !attachments.is_empty() && b.trim().is_empty() => None,
        other => other,
    };
    let (body, forwarded) = match (body, input.forward_from) {
        (Some(_), Some(_)) => {
            return Err(Error::unprocessable(
                "invalid_body",
                "send either a body or forward_from, not both",
            ));
        }
        (Some(body), None) => (parse_body(&body, max)?, None),
        (None, Some((src_room, src_msg))) => {
            member_access(app, src_room, user).await?;
            let src = app
                .store
                .message(src_room, src_msg)
                .await
                .map_err(not_found("message"))?;
            if src.deleted_at.is_some() {
                return Err(Error::not_found("message"));
            }
            let attribution = src.forwarded.clone().unwrap_or(Forwarded {
                sender_id: src.sender_id,
                sent_at: src.created_at,
            });
            (src.body, Some(attribution))
        }
        (None, None) if !attachments.is_empty() => (String::new(), None),
        (None, None) => {
            return Err(
                Error::unprocessable("required", "message must not be empty").with_field("body"),
            );
        }
    };
    if let Some(reply) = input.reply_to {
        let target = app
            .store
            .message(room_id, reply)
            .await
            .map_err(|_| reply_error())?;
        if target.deleted_at.is_some() {
            return Err(reply_error());
        }
    }
    let (mentions, mentions_room) =
        resolve_mentions(app, &access.room, &access.member, &body).await?;
    super::abuse::check_join_post(
        app,
        &access.room,
        &access.member,
        &body,
        mentions.len() + usize::from(mentions_room),
        attachments.len(),
    )?;
    super::abuse::check_duplicate(app, user, room_id, &body)?;
    let new = NewMessage {
        id: MessageId::new(),
        room_id,
        sender_id: user,
        client_id,
        body,
        reply_to: input.reply_to,
        forwarded,
        mentions,
        mentions_room,
        now: app.now(),
        attachments,
    };
    Ok(PreparedSend(new))
}

/// The second half of [`send`]: the write (the store re-checks membership inside its
/// transaction), then the event published. Its first poll queues the write.
#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.messages.commit_send",
    skip_all
)]
pub async fn commit_send(app: &App, prepared: PreparedSend) -> Result<(Message, bool)> {
    let new = prepared.0;
    let started = std::time::Instant::now();
    let outcome = app.store.send_message(&new).await;
    // Queue wait and commit: what "persistence latency" means to an operator.
    metrics::histogram!("messages_persist_seconds").record(started.elapsed().as_secs_f64());
    let outcome = outcome.map_err(|e| match e {
        StoreError::NotFound => Error::not_found("room"),
        other => other.into(),
    });
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            metrics::counter!("messages_failed_total").increment(1);
            return Err(e);
        }
    };
    match outcome {
        SendOutcome::Created(message, event) => {
            metrics::counter!("messages_persisted_total").increment(1);
            app.publish_events([event]);
            Ok((message, true))
        }
        SendOutcome::Existing(existing) if new.same_content(&existing) => Ok((existing, false)),
        SendOutcome::Existing(_) => Err(Error::conflict(
            "client_id_reused",
            "this client_id was already used for a different message",
        )
        .with_field("client_id")),
    }
}

/// Resolves attachment ids to the caller's own uploads, in the order given. Anyone else's (or
/// an unknown id) → 403: a message cannot borrow a file its sender could not read.
async fn own_attachments(app: &App, user: UserId, ids: &[MediaId]) -> Result<Vec<Attachment>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    if ids.len() > MAX_ATTACHMENTS {
        return Err(Error::unprocessable(
            "too_many_attachments",
            format!("a message may carry at most {MAX_ATTACHMENTS} attachments"),
        )
        .with_field("attachments"));
    }
    let mut seen = std::collections::HashSet::new();
    if !ids.iter().all(|id| seen.insert(*id)) {
        return Err(Error::unprocessable(
            "duplicate_attachment",
            "the same upload is attached twice",
        )
        .with_field("attachments"));
    }
    let owned = app.store.media_owned_by(user, ids).await?;
    ids.iter()
        .map(|id| {
            owned
                .iter()
                .find(|m| m.id == *id)
                .map(|m| m.attachment())
                .ok_or_else(|| {
                    Error::forbidden(
                        "attachment_forbidden",
                        "you can only attach your own uploads",
                    )
                    .with_field("attachments")
                })
        })
        .collect()
}

fn reply_error() -> Error {
    Error::unprocessable(
        "invalid_reply",
        "reply_to must be a live message in this room",
    )
    .with_field("reply_to")
}

#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.messages.edit",
    skip_all
)]
pub async fn edit(
    app: &App,
    user: UserId,
    room_id: RoomId,
    id: MessageId,
    body: &str,
) -> Result<Message> {
    let (room, member) = member_access(app, room_id, user).await?;
    not_muted(&member, app.now())?;
    let current = app
        .store
        .message(room_id, id)
        .await
        .map_err(not_found("message"))?;
    if current.deleted_at.is_some() {
        return Err(Error::not_found("message"));
    }
    if current.sender_id != user {
        return Err(Error::forbidden(
            "forbidden",
            "you can only edit your own messages",
        ));
    }
    let body = parse_body(body, app.config.limits.message_max_chars as usize)?;
    if body == current.body {
        return Ok(current);
    }
    let (mentions, mentions_room) = resolve_mentions(app, &room, &member, &body).await?;
    let (message, ev) = app
        .store
        .edit_message(
            room_id,
            id,
            &body,
            &mentions,
            mentions_room,
            user,
            app.now(),
        )
        .await
        .map_err(not_found("message"))?;
    app.publish_events([ev]);
    Ok(message)
}

#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.messages.edit_history",
    skip_all
)]
pub async fn edit_history(
    app: &App,
    user: UserId,
    room_id: RoomId,
    id: MessageId,
) -> Result<Vec<(String, chrono::DateTime<chrono::Utc>)>> {
    member_access(app, room_id, user).await?;
    app.store
        .edit_history(room_id, id)
        .await
        .map_err(not_found("message"))
}

#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.messages.delete",
    skip_all
)]
/// Deletes a message: one's own, or (admins) anyone's, audited with `reason`.
pub async fn delete(
    app: &App,
    user: UserId,
    room_id: RoomId,
    id: MessageId,
    reason: Option<String>,
) -> Result<()> {
    let (room, member) = member_access(app, room_id, user).await?;
    let current = app
        .store
        .message(room_id, id)
        .await
        .map_err(not_found("message"))?;
    if current.deleted_at.is_some() {
        return Err(Error::not_found("message"));
    }
    if current.sender_id != user && !can(&room, member.role, Action::DeleteOthersMessages) {
        return Err(forbidden(Action::DeleteOthersMessages));
    }
    let ev = app
        .store
        .delete_message(room_id, id, user, reason, app.now())
        .await
        .map_err(not_found("message"))?;
    app.publish_events([ev]);
    Ok(())
}

#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.messages.react",
    skip_all
)]
pub async fn react(
    app: &App,
    user: UserId,
    room_id: RoomId,
    id: MessageId,
    emoji: &str,
    add: bool,
) -> Result<()> {
    let emoji = parse_emoji(emoji)?;
    let (_, member) = require(app, room_id, user, Action::React).await?;
    not_muted(&member, app.now())?;
    let ev = app
        .store
        .set_reaction(room_id, id, user, &emoji, add, app.now())
        .await
        .map_err(not_found("message"))?;
    app.publish_events(ev);
    Ok(())
}

#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.messages.pin",
    skip_all
)]
pub async fn pin(
    app: &App,
    user: UserId,
    room_id: RoomId,
    id: MessageId,
    pinned: bool,
) -> Result<()> {
    require(app, room_id, user, Action::Pin).await?;
    let ev = app
        .store
        .set_pinned(room_id, id, pinned, user, app.now())
        .await
        .map_err(|e| match e {
            StoreError::Conflict("too_many_pins") => Error::conflict(
                "too_many_pins",
                "a room can have at most 50 pinned messages",
            ),
            other => not_found("message")(other),
        })?;
    app.publish_events(ev);
    Ok(())
}

#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.messages.pinned",
    skip_all
)]
pub async fn pinned(app: &App, user: UserId, room_id: RoomId) -> Result<Vec<Message>> {
    member_access(app, room_id, user).await?;
    Ok(app.store.pinned(room_id).await?)
}

#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.messages.list",
    skip_all
)]
pub async fn list(
    app: &App,
    user: UserId,
    room_id: RoomId,
    page: Page,
    limit: u32,
) -> Result<Vec<Message>> {
    member_access(app, room_id, user).await?;
    Ok(app.store.messages(room_id, page, limit).await?)
}

/// One message of a room the caller is in (a tombstone too): a reply quote or a link to a
/// message learns its `seq` here, then loads the page around it.
#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.messages.get",
    skip_all
)]
pub async fn get(app: &App, user: UserId, room_id: RoomId, id: MessageId) -> Result<Message> {
    member_access(app, room_id, user).await?;
    app.store
        .message(room_id, id)
        .await
        .map_err(not_found("message"))
}

#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.messages.events",
    skip_all
)]
pub async fn events(
    app: &App,
    user: UserId,
    room_id: RoomId,
    after: i64,
    limit: u32,
) -> Result<(EventPage, i64)> {
    let (room, _) = member_access(app, room_id, user).await?;
    let page = app.store.events(room_id, after, limit).await?;
    Ok((page, room.last_seq))
}

#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.messages.mark_read",
    skip_all
)]
pub async fn mark_read(app: &App, user: UserId, room_id: RoomId, seq: i64) -> Result<i64> {
    member_access(app, room_id, user).await?;
    let before = app
        .store
        .member(room_id, user)
        .await?
        .map(|m| m.read_seq)
        .unwrap_or(0);
    let read = app
        .store
        .mark_read(room_id, user, seq)
        .await
        .map_err(not_found("room"))?;
    if read > before {
        app.bus.publish(BusMessage::Ephemeral(Ephemeral::Receipt {
            room_id,
            user_id: user,
            seq: read,
        }));
    }
    Ok(read)
}

#[tracing::instrument(
    target = "justus::trace",
    level = "debug",
    name = "chat.messages.search",
    skip_all
)]
pub async fn search(
    app: &App,
    user: UserId,
    query: &str,
    room: Option<RoomId>,
    limit: u32,
) -> Result<Vec<SearchHit>> {
    if query.chars().count() > 256 {
        return Err(Error::bad_request(
            "query_too_long",
            "search query must be at most 256 characters",
        )
        .with_field("q"));
    }
    if let Some(r) = room {
        member_access(app, r, user).await?;
    }
    if query.trim().is_empty() {
        return Ok(Vec::new());
    }
    Ok(app.store.search(user, query, room, limit).await?)
}
