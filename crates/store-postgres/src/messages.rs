//! Messages: sending, editing, deleting, reactions and pins.

use crate::PgStore;
use crate::errors::MapErr;
use crate::history::{
    Tx, abort, event, fill, insert_mentions, load_message, message_event, next_seq, record,
    record_because,
};
use crate::rows::MessageRow;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use justus_core::event::{EventKind, RoomEvent};
use justus_core::message::{MAX_PINS, Message, NewMessage, Page};
use justus_core::store::{Messages, SendOutcome};
use justus_core::{MessageId, RoomId, StoreError, StoreResult, UserId};
use sqlx::{PgConnection, PgPool};

/// The message a sender already sent with `client_id`, if any.
async fn by_client_id(
    conn: &mut PgConnection,
    sender: UserId,
    client_id: &str,
) -> StoreResult<Option<Message>> {
    let row: Option<MessageRow> = sqlx::query_as(concat!(
        "SELECT ",
        message_columns!(),
        " FROM messages msg WHERE msg.sender_id = $1 AND msg.client_id = $2"
    ))
    .bind(sender.as_uuid())
    .bind(client_id)
    .fetch_optional(&mut *conn)
    .await
    .store()?;
    match row {
        None => Ok(None),
        Some(row) => Ok(fill(conn, vec![row]).await?.pop()),
    }
}

/// Mentions as the store returns them: deduplicated, by user id.
pub(crate) fn normalised(mentions: &[UserId]) -> Vec<UserId> {
    let mut out = mentions.to_vec();
    out.sort_unstable();
    out.dedup();
    out
}

/// The inside of `send_message`'s transaction; `None` when (sender, client_id) exists already.
async fn insert_message(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    new: &NewMessage,
) -> StoreResult<Option<SendOutcome>> {
    let seq = next_seq(tx, new.room_id, new.now).await?;
    let is_member: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $2)",
    )
    .bind(new.room_id.as_uuid())
    .bind(new.sender_id.as_uuid())
    .fetch_one(&mut **tx)
    .await
    .store()?;
    if !is_member {
        return Err(StoreError::NotFound);
    }
    if let Some(reply_to) = new.reply_to {
        let live: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM messages \
             WHERE id = $1 AND room_id = $2 AND deleted_at IS NULL)",
        )
        .bind(reply_to.as_uuid())
        .bind(new.room_id.as_uuid())
        .fetch_one(&mut **tx)
        .await
        .store()?;
        if !live {
            return Err(StoreError::NotFound);
        }
    }
    // If a concurrent send with the same key has not committed yet, this waits for it, then
    // inserts nothing (or inserts, if it rolled back).
    let row: Option<MessageRow> = sqlx::query_as(concat!(
        "INSERT INTO messages AS msg (id, room_id, seq, sender_id, client_id, body, reply_to, ",
        "fwd_sender_id, fwd_sent_at, mentions_room, created_at) ",
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ",
        "ON CONFLICT (sender_id, client_id) DO NOTHING RETURNING ",
        message_columns!()
    ))
    .bind(new.id.as_uuid())
    .bind(new.room_id.as_uuid())
    .bind(seq)
    .bind(new.sender_id.as_uuid())
    .bind(&new.client_id)
    .bind(&new.body)
    .bind(new.reply_to.map(|m| m.as_uuid()))
    .bind(new.forwarded.as_ref().map(|f| f.sender_id.as_uuid()))
    .bind(new.forwarded.as_ref().map(|f| f.sent_at))
    .bind(new.mentions_room)
    .bind(new.now)
    .fetch_optional(&mut **tx)
    .await
    .store()?;
    let Some(row) = row else {
        return Ok(None);
    };
    insert_mentions(tx, new.id, new.room_id, seq, &normalised(&new.mentions)).await?;
    crate::media::insert_attachments(tx, new).await?;
    let created = created(row, new, seq);
    if let SendOutcome::Created(_, ev) = &created {
        record(tx, ev).await?;
    }
    Ok(Some(created))
}

/// The answer to a send whose row (`RETURNING` the message columns) was just inserted at
/// `seq`: the message with its mentions and attachments, and its `message.created` event.
pub(crate) fn created(row: MessageRow, new: &NewMessage, seq: i64) -> SendOutcome {
    let mut message = row.into_message(normalised(&new.mentions), Vec::new());
    message.attachments = new.attachments.clone();
    let ev = message_event(
        seq,
        EventKind::MessageCreated,
        new.sender_id,
        message.clone(),
        new.now,
    );
    SendOutcome::Created(message, ev)
}

/// Locks a live message of the (already locked) room; its seq, or `None`.
async fn lock_live(
    tx: &mut Tx,
    room: RoomId,
    id: MessageId,
) -> StoreResult<Option<(i64, Option<DateTime<Utc>>)>> {
    sqlx::query_as(
        "SELECT seq, pinned_at FROM messages \
         WHERE id = $1 AND room_id = $2 AND deleted_at IS NULL FOR NO KEY UPDATE",
    )
    .bind(id.as_uuid())
    .bind(room.as_uuid())
    .fetch_optional(&mut **tx)
    .await
    .store()
}

/// One send in its own transaction: the path a batch falls back to when it fails as a whole
/// (see `send_writer`), so each of its sends gets its own outcome.
pub(crate) async fn send_one(pool: &PgPool, new: &NewMessage) -> StoreResult<SendOutcome> {
    let mut conn = pool.acquire().await.store()?;
    // Retries are the common duplicate: answered without taking the room's lock.
    if let Some(existing) = by_client_id(&mut conn, new.sender_id, &new.client_id).await? {
        return Ok(SendOutcome::Existing(existing));
    }
    let mut tx = sqlx::Acquire::begin(&mut *conn).await.store()?;
    match insert_message(&mut tx, new).await {
        // Rejected (not a member, bad reply): release the room's lock now.
        Err(e) => abort(tx, e).await,
        Ok(Some(created)) => {
            tx.commit().await.store()?;
            Ok(created)
        }
        Ok(None) => {
            // A concurrent send with the same key committed first. Rolling back gives our
            // seq back (nobody else could take a seq of this room while we held its lock).
            tx.rollback().await.store()?;
            let existing = by_client_id(&mut conn, new.sender_id, &new.client_id).await?;
            existing
                .map(SendOutcome::Existing)
                .ok_or_else(|| StoreError::Other("duplicate message vanished".into()))
        }
    }
}

#[async_trait]
impl Messages for PgStore {
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "client_id_used", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "client_id_used"))]
    async fn client_id_used(&self, sender: UserId, client_id: &str) -> StoreResult<bool> {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM messages WHERE sender_id = $1 AND client_id = $2)",
        )
        .bind(sender.as_uuid())
        .bind(client_id)
        .fetch_one(&self.pool)
        .await
        .store()
    }
    /// Through the batching writer (`send_writer`).
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "send_message", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "send_message"))]
    async fn send_message(&self, new: &NewMessage) -> StoreResult<SendOutcome> {
        self.sends.send(new).await
    }

    /// One writer task takes sends in the order they are queued, and the first poll of
    /// `send_message` queues its send (callers wait for a full queue in order).
    fn commits_sends_in_order(&self) -> bool {
        true
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "message", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "message"))]
    async fn message(&self, room: RoomId, id: MessageId) -> StoreResult<Message> {
        let mut conn = self.pool.acquire().await.store()?;
        load_message(&mut conn, room, id).await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "messages", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "messages"))]
    async fn messages(&self, room: RoomId, page: Page, limit: u32) -> StoreResult<Vec<Message>> {
        let mut conn = self.pool.acquire().await.store()?;
        let (query, bound, descending) = match page {
            Page::Latest => (
                concat!(
                    "SELECT ",
                    message_columns!(),
                    " FROM messages msg WHERE msg.room_id = $1 AND $3::bigint IS NULL ",
                    "ORDER BY msg.seq DESC LIMIT $2"
                ),
                None,
                true,
            ),
            Page::Before(before) => (
                concat!(
                    "SELECT ",
                    message_columns!(),
                    " FROM messages msg WHERE msg.room_id = $1 AND msg.seq < $3 ",
                    "ORDER BY msg.seq DESC LIMIT $2"
                ),
                Some(before),
                true,
            ),
            Page::After(after) => (
                concat!(
                    "SELECT ",
                    message_columns!(),
                    " FROM messages msg WHERE msg.room_id = $1 AND msg.seq > $3 ",
                    "ORDER BY msg.seq LIMIT $2"
                ),
                Some(after),
                false,
            ),
        };
        let mut rows: Vec<MessageRow> = sqlx::query_as(query)
            .bind(room.as_uuid())
            .bind(i64::from(limit))
            .bind(bound)
            .fetch_all(&mut *conn)
            .await
            .store()?;
        if descending {
            rows.reverse();
        }
        fill(&mut conn, rows).await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "edit_message", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "edit_message"))]
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
        let mut tx = self.pool.begin().await.store()?;
        let seq = next_seq(&mut tx, room, now).await?;
        let Some((message_seq, _)) = lock_live(&mut tx, room, id).await? else {
            return abort(tx, StoreError::NotFound).await;
        };
        sqlx::query(
            "INSERT INTO message_edits (message_id, body, replaced_at) \
             SELECT id, body, $2 FROM messages WHERE id = $1",
        )
        .bind(id.as_uuid())
        .bind(now)
        .execute(&mut *tx)
        .await
        .store()?;
        sqlx::query(
            "UPDATE messages SET body = $2, edited_at = $3, mentions_room = $4 WHERE id = $1",
        )
        .bind(id.as_uuid())
        .bind(body)
        .bind(now)
        .bind(mentions_room)
        .execute(&mut *tx)
        .await
        .store()?;
        sqlx::query("DELETE FROM message_mentions WHERE message_id = $1")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .store()?;
        insert_mentions(&mut tx, id, room, message_seq, &normalised(mentions)).await?;
        let message = load_message(&mut tx, room, id).await?;
        let ev = message_event(seq, EventKind::MessageEdited, actor, message.clone(), now);
        record(&mut tx, &ev).await?;
        tx.commit().await.store()?;
        Ok((message, ev))
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "edit_history", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "edit_history"))]
    async fn edit_history(
        &self,
        room: RoomId,
        id: MessageId,
    ) -> StoreResult<Vec<(String, DateTime<Utc>)>> {
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM messages WHERE id = $1 AND room_id = $2)",
        )
        .bind(id.as_uuid())
        .bind(room.as_uuid())
        .fetch_one(&self.pool)
        .await
        .store()?;
        if !exists {
            return Err(StoreError::NotFound);
        }
        sqlx::query_as(
            "SELECT body, replaced_at FROM message_edits WHERE message_id = $1 \
             ORDER BY replaced_at, ord",
        )
        .bind(id.as_uuid())
        .fetch_all(&self.pool)
        .await
        .store()
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "delete_message", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "delete_message"))]
    async fn delete_message(
        &self,
        room: RoomId,
        id: MessageId,
        actor: UserId,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<RoomEvent> {
        let mut tx = self.pool.begin().await.store()?;
        let seq = next_seq(&mut tx, room, now).await?;
        let done = sqlx::query(
            "UPDATE messages SET body = '', deleted_at = $3, deleted_by = $4, reply_to = NULL, \
             pinned_at = NULL, mentions_room = false \
             WHERE id = $1 AND room_id = $2 AND deleted_at IS NULL",
        )
        .bind(id.as_uuid())
        .bind(room.as_uuid())
        .bind(now)
        .bind(actor.as_uuid())
        .execute(&mut *tx)
        .await
        .store()?;
        if done.rows_affected() == 0 {
            return abort(tx, StoreError::NotFound).await;
        }
        for table in ["message_reactions", "message_mentions", "message_edits"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE message_id = $1"))
                .bind(id.as_uuid())
                .execute(&mut *tx)
                .await
                .store()?;
        }
        let message = load_message(&mut tx, room, id).await?;
        let ev = message_event(seq, EventKind::MessageDeleted, actor, message, now);
        record_because(&mut tx, &ev, reason.as_deref()).await?;
        tx.commit().await.store()?;
        Ok(ev)
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "set_reaction", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "set_reaction"))]
    async fn set_reaction(
        &self,
        room: RoomId,
        id: MessageId,
        user: UserId,
        emoji: &str,
        add: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<RoomEvent>> {
        let mut tx = self.pool.begin().await.store()?;
        let seq = next_seq(&mut tx, room, now).await?;
        if lock_live(&mut tx, room, id).await?.is_none() {
            return abort(tx, StoreError::NotFound).await;
        }
        let query = if add {
            "INSERT INTO message_reactions (message_id, user_id, emoji, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM message_reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3 \
             AND $4::timestamptz IS NOT NULL"
        };
        let done = sqlx::query(query)
            .bind(id.as_uuid())
            .bind(user.as_uuid())
            .bind(emoji)
            .bind(now)
            .execute(&mut *tx)
            .await
            .store()?;
        if done.rows_affected() == 0 {
            // Nothing changed: give the seq back.
            tx.rollback().await.store()?;
            return Ok(None);
        }
        let kind = if add {
            EventKind::ReactionAdded
        } else {
            EventKind::ReactionRemoved
        };
        let mut ev = event(room, seq, kind, user, now);
        ev.message_id = Some(id);
        ev.user_id = Some(user);
        ev.emoji = Some(emoji.to_owned());
        record(&mut tx, &ev).await?;
        tx.commit().await.store()?;
        Ok(Some(ev))
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "set_pinned", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "set_pinned"))]
    async fn set_pinned(
        &self,
        room: RoomId,
        id: MessageId,
        pinned: bool,
        actor: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<RoomEvent>> {
        let mut tx = self.pool.begin().await.store()?;
        let seq = next_seq(&mut tx, room, now).await?;
        let Some((_, pinned_at)) = lock_live(&mut tx, room, id).await? else {
            return abort(tx, StoreError::NotFound).await;
        };
        if pinned_at.is_some() == pinned {
            tx.rollback().await.store()?;
            return Ok(None);
        }
        if pinned {
            // The room's lock makes this count stable until we commit.
            let count: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM messages WHERE room_id = $1 AND pinned_at IS NOT NULL",
            )
            .bind(room.as_uuid())
            .fetch_one(&mut *tx)
            .await
            .store()?;
            if count >= MAX_PINS {
                return abort(tx, StoreError::Conflict("too_many_pins")).await;
            }
        }
        sqlx::query("UPDATE messages SET pinned_at = $2 WHERE id = $1")
            .bind(id.as_uuid())
            .bind(pinned.then_some(now))
            .execute(&mut *tx)
            .await
            .store()?;
        let message = load_message(&mut tx, room, id).await?;
        let kind = if pinned {
            EventKind::MessagePinned
        } else {
            EventKind::MessageUnpinned
        };
        let ev = message_event(seq, kind, actor, message, now);
        record(&mut tx, &ev).await?;
        tx.commit().await.store()?;
        Ok(Some(ev))
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "pinned", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "pinned"))]
    async fn pinned(&self, room: RoomId) -> StoreResult<Vec<Message>> {
        let mut conn = self.pool.acquire().await.store()?;
        let rows: Vec<MessageRow> = sqlx::query_as(concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages msg WHERE msg.room_id = $1 AND msg.pinned_at IS NOT NULL ",
            "AND msg.deleted_at IS NULL ORDER BY msg.created_at DESC, msg.seq DESC"
        ))
        .bind(room.as_uuid())
        .fetch_all(&mut *conn)
        .await
        .store()?;
        fill(&mut conn, rows).await
    }
}
