//! Messages: sending, editing, deleting, reactions and pins.

use super::SqliteStore;
use super::history::{insert_event, next_seq, record};
use super::load;
use crate::conn::map_err;
use crate::rows::{self, MESSAGE_COLS, message_cols, ts};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use justus_core::event::{EventKind, RoomEvent};
use justus_core::message::{MAX_PINS, Message, NewMessage, Page};
use justus_core::store::{Messages, SendOutcome};
use justus_core::{MessageId, RoomId, StoreError, StoreResult, UserId};
use rusqlite::{Connection, OptionalExtension, params};

/// Stores mentions (deduplicated); returns them in the order loading yields them (by id).
fn insert_mentions(
    c: &Connection,
    id: MessageId,
    room: RoomId,
    seq: i64,
    mentions: &[UserId],
) -> StoreResult<Vec<UserId>> {
    if mentions.is_empty() {
        return Ok(Vec::new());
    }
    let mut users = mentions.to_vec();
    users.sort_unstable();
    users.dedup();
    let mut st = c
        .prepare_cached(
            "INSERT INTO message_mentions (message_id, user_id, room_id, seq) VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(map_err)?;
    for u in &users {
        st.execute(params![id.0, u.0, room.0, seq])
            .map_err(map_err)?;
    }
    Ok(users)
}

/// A live message of `room`: its pin time. `NotFound` if deleted, missing or foreign.
fn live_message(c: &Connection, room: RoomId, id: MessageId) -> StoreResult<Option<i64>> {
    c.prepare_cached(
        "SELECT pinned_at FROM messages WHERE id = ?1 AND room_id = ?2 AND deleted_at IS NULL",
    )
    .and_then(|mut st| st.query_row(params![id.0, room.0], |r| r.get(0)))
    .map_err(map_err)
}

/// The message's current state, as message events carry it.
fn with_message(c: &Connection, mut ev: RoomEvent) -> StoreResult<(Message, RoomEvent)> {
    let id = ev.message_id.ok_or(StoreError::NotFound)?;
    let m = load::message(c, ev.room_id, id)?;
    ev.message = Some(m.clone());
    Ok((m, ev))
}

#[async_trait]
impl Messages for SqliteStore {
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "client_id_used", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "client_id_used"))]
    async fn client_id_used(&self, sender: UserId, client_id: &str) -> StoreResult<bool> {
        let client_id = client_id.to_owned();
        self.threads
            .read(move |c| {
                c.prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM messages WHERE sender_id = ?1 AND client_id = ?2)",
                )
                .and_then(|mut st| st.query_row(params![sender.0, client_id], |r| r.get(0)))
                .map_err(map_err)
            })
            .await
    }

    /// The hot path: one writer job does the idempotency lookup, the membership re-check, seq
    /// allocation, the message, its mentions and its event. Nothing is read back.
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "send_message", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "send_message"))]
    async fn send_message(&self, new: &NewMessage) -> StoreResult<SendOutcome> {
        let new = new.clone();
        self.threads
            .write(move |c| {
                let existing = c
                    .prepare_cached(concat!(
                        "SELECT ",
                        message_cols!(),
                        " FROM messages m WHERE m.sender_id = ?1 AND m.client_id = ?2"
                    ))
                    .and_then(|mut st| {
                        st.query_row(params![new.sender_id.0, new.client_id], rows::message)
                            .optional()
                    })
                    .map_err(map_err)?;
                if let Some(mut m) = existing {
                    load::fill(c, std::slice::from_mut(&mut m))?;
                    return Ok(SendOutcome::Existing(m));
                }
                let member: bool = c
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM room_members WHERE room_id = ?1 AND user_id = ?2)",
                    )
                    .and_then(|mut st| st.query_row(params![new.room_id.0, new.sender_id.0], |r| r.get(0)))
                    .map_err(map_err)?;
                if !member {
                    return Err(StoreError::NotFound);
                }
                if let Some(reply) = new.reply_to {
                    live_message(c, new.room_id, reply)?;
                }
                let seq = next_seq(c, new.room_id, new.now)?;
                c.prepare_cached(
                    "INSERT INTO messages (id, room_id, seq, sender_id, client_id, body, reply_to, fwd_sender_id, \
                     fwd_sent_at, mentions_room, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        new.id.0,
                        new.room_id.0,
                        seq,
                        new.sender_id.0,
                        new.client_id,
                        new.body,
                        new.reply_to.map(|m| m.0),
                        new.forwarded.as_ref().map(|f| f.sender_id.0),
                        new.forwarded.as_ref().map(|f| ts(f.sent_at)),
                        new.mentions_room,
                        ts(new.now),
                    ])
                })
                .map_err(map_err)?;
                let mentions = insert_mentions(c, new.id, new.room_id, seq, &new.mentions)?;
                super::media::insert_attachments(c, &new)?;
                let message = Message {
                    id: new.id,
                    room_id: new.room_id,
                    seq,
                    sender_id: new.sender_id,
                    client_id: new.client_id.clone(),
                    body: new.body.clone(),
                    reply_to: new.reply_to,
                    forwarded: new.forwarded.clone(),
                    mentions,
                    mentions_room: new.mentions_room,
                    pinned: false,
                    reactions: Vec::new(),
                    created_at: new.now,
                    edited_at: None,
                    deleted_at: None,
                    deleted_by: None,
                    attachments: new.attachments.clone(),
                };
                let mut ev = RoomEvent::new(
                    new.room_id,
                    seq,
                    EventKind::MessageCreated,
                    new.sender_id,
                    new.now,
                );
                ev.message_id = Some(new.id);
                insert_event(c, &ev)?;
                ev.message = Some(message.clone());
                Ok(SendOutcome::Created(message, ev))
            })
            .await
    }

    /// One writer thread takes jobs in the order they are queued, and the first poll of
    /// `send_message` queues its job (the write slots are handed out first come, first served).
    fn commits_sends_in_order(&self) -> bool {
        true
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "message", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "message"))]
    async fn message(&self, room: RoomId, id: MessageId) -> StoreResult<Message> {
        self.threads.read(move |c| load::message(c, room, id)).await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "messages", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "messages"))]
    async fn messages(&self, room: RoomId, page: Page, limit: u32) -> StoreResult<Vec<Message>> {
        self.threads
            .read(move |c| {
                let limit = i64::from(limit);
                let base = format!("SELECT {MESSAGE_COLS} FROM messages m WHERE m.room_id = ?1");
                match page {
                    Page::Latest => {
                        let mut v = load::query(
                            c,
                            &format!("{base} ORDER BY m.seq DESC LIMIT ?2"),
                            params![room.0, limit],
                        )?;
                        v.reverse();
                        Ok(v)
                    }
                    Page::Before(before) => {
                        let mut v = load::query(
                            c,
                            &format!("{base} AND m.seq < ?2 ORDER BY m.seq DESC LIMIT ?3"),
                            params![room.0, before, limit],
                        )?;
                        v.reverse();
                        Ok(v)
                    }
                    Page::After(after) => load::query(
                        c,
                        &format!("{base} AND m.seq > ?2 ORDER BY m.seq LIMIT ?3"),
                        params![room.0, after, limit],
                    ),
                }
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "edit_message", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "edit_message"))]
    async fn edit_message(
        &self,
        room: RoomId,
        id: MessageId,
        body: &str,
        mentions: &[UserId],
        mentions_room: bool,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<(Message, RoomEvent)> {
        let (body, mentions) = (body.to_owned(), mentions.to_vec());
        self.threads
            .write(move |c| {
                live_message(c, room, id)?;
                c.prepare_cached(
                    "INSERT INTO message_edits (message_id, body, replaced_at) \
                     SELECT id, body, ?2 FROM messages WHERE id = ?1",
                )
                .and_then(|mut st| st.execute(params![id.0, ts(now)]))
                .map_err(map_err)?;
                let seq: i64 = c
                    .prepare_cached(
                        "UPDATE messages SET body = ?2, edited_at = ?3, mentions_room = ?4 WHERE id = ?1 RETURNING seq",
                    )
                    .and_then(|mut st| {
                        st.query_row(params![id.0, body, ts(now), mentions_room], |r| r.get(0))
                    })
                    .map_err(map_err)?;
                c.prepare_cached("DELETE FROM message_mentions WHERE message_id = ?1")
                    .and_then(|mut st| st.execute([id.0]))
                    .map_err(map_err)?;
                // Mentions keep the message's own seq: unread ranges are about when it was
                // posted.
                insert_mentions(c, id, room, seq, &mentions)?;
                let ev = record(c, room, EventKind::MessageEdited, actor, now, |e| {
                    e.message_id = Some(id)
                })?;
                with_message(c, ev)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "edit_history", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "edit_history"))]
    async fn edit_history(
        &self,
        room: RoomId,
        id: MessageId,
    ) -> StoreResult<Vec<(String, DateTime<Utc>)>> {
        self.threads
            .read(move |c| {
                let exists: bool = c
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM messages WHERE id = ?1 AND room_id = ?2)",
                    )
                    .and_then(|mut st| st.query_row(params![id.0, room.0], |r| r.get(0)))
                    .map_err(map_err)?;
                if !exists {
                    return Err(StoreError::NotFound);
                }
                let mut st = c
                    .prepare_cached(
                        "SELECT body, replaced_at FROM message_edits WHERE message_id = ?1 \
                         ORDER BY replaced_at, rowid",
                    )
                    .map_err(map_err)?;
                st.query_map([id.0], |r| Ok((r.get(0)?, rows::from_ts(r.get(1)?))))
                    .and_then(|rows| rows.collect())
                    .map_err(map_err)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "delete_message", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "delete_message"))]
    async fn delete_message(
        &self,
        room: RoomId,
        id: MessageId,
        actor: UserId,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent> {
        self.threads
            .write(move |c| {
                live_message(c, room, id)?;
                c.prepare_cached(
                    "UPDATE messages SET body = '', deleted_at = ?2, deleted_by = ?3, reply_to = NULL, \
                     pinned_at = NULL, mentions_room = 0 WHERE id = ?1",
                )
                .and_then(|mut st| st.execute(params![id.0, ts(now), actor.0]))
                .map_err(map_err)?;
                for sql in [
                    "DELETE FROM message_reactions WHERE message_id = ?1",
                    "DELETE FROM message_mentions WHERE message_id = ?1",
                    "DELETE FROM message_edits WHERE message_id = ?1",
                ] {
                    c.prepare_cached(sql)
                        .and_then(|mut st| st.execute([id.0]))
                        .map_err(map_err)?;
                }
                let ev = record(c, room, EventKind::MessageDeleted, actor, now, |e| {
                    e.message_id = Some(id)
                })?;
                let ev = with_message(c, ev)?.1;
                // Judged now that the event carries its message (whose it was).
                if let Some(entry) = justus_core::audit::entry_for(&ev, reason.as_deref()) {
                    super::audit::insert(c, &entry)?;
                }
                Ok(ev)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "set_reaction", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "set_reaction"))]
    async fn set_reaction(
        &self,
        room: RoomId,
        id: MessageId,
        user: UserId,
        emoji: &str,
        add: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<RoomEvent>> {
        let emoji = emoji.to_owned();
        self.threads
            .write(move |c| {
                live_message(c, room, id)?;
                let changed = if add {
                    c.prepare_cached(
                        "INSERT INTO message_reactions (message_id, user_id, emoji, created_at) \
                         VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                    )
                    .and_then(|mut st| st.execute(params![id.0, user.0, emoji, ts(now)]))
                } else {
                    c.prepare_cached(
                        "DELETE FROM message_reactions WHERE message_id = ?1 AND user_id = ?2 AND emoji = ?3",
                    )
                    .and_then(|mut st| st.execute(params![id.0, user.0, emoji]))
                }
                .map_err(map_err)?;
                if changed == 0 {
                    return Ok(None);
                }
                let kind = if add {
                    EventKind::ReactionAdded
                } else {
                    EventKind::ReactionRemoved
                };
                record(c, room, kind, user, now, |e| {
                    e.message_id = Some(id);
                    e.user_id = Some(user);
                    e.emoji = Some(emoji.to_owned());
                })
                .map(Some)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "set_pinned", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "set_pinned"))]
    async fn set_pinned(
        &self,
        room: RoomId,
        id: MessageId,
        pinned: bool,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<RoomEvent>> {
        self.threads
            .write(move |c| {
                let pinned_at = live_message(c, room, id)?;
                if pinned_at.is_some() == pinned {
                    return Ok(None);
                }
                if pinned {
                    let count: i64 = c
                        .prepare_cached(
                            "SELECT count(*) FROM messages WHERE room_id = ?1 AND pinned_at IS NOT NULL",
                        )
                        .and_then(|mut st| st.query_row([room.0], |r| r.get(0)))
                        .map_err(map_err)?;
                    if count >= MAX_PINS {
                        return Err(StoreError::Conflict("too_many_pins"));
                    }
                }
                c.prepare_cached("UPDATE messages SET pinned_at = ?2 WHERE id = ?1")
                    .and_then(|mut st| st.execute(params![id.0, pinned.then(|| ts(now))]))
                    .map_err(map_err)?;
                let kind = if pinned {
                    EventKind::MessagePinned
                } else {
                    EventKind::MessageUnpinned
                };
                let ev = record(c, room, kind, actor, now, |e| e.message_id = Some(id))?;
                Ok(Some(with_message(c, ev)?.1))
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "pinned", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "pinned"))]
    async fn pinned(&self, room: RoomId) -> StoreResult<Vec<Message>> {
        self.threads
            .read(move |c| {
                load::query(
                    c,
                    &format!(
                        "SELECT {MESSAGE_COLS} FROM messages m WHERE m.room_id = ?1 AND m.pinned_at IS NOT NULL \
                         ORDER BY m.created_at DESC, m.seq DESC"
                    ),
                    [room.0],
                )
            })
            .await
    }
}
