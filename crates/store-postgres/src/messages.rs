//! Messages, reactions, pins, history pages, read markers and search.

use crate::errors::MapErr;
use crate::history::{
    Tx, abort, event, events_from_rows, fill, insert_mentions, load_message, message_event,
    next_seq, record,
};
use crate::rows::{EventRow, MessageRow};
use chrono::{DateTime, Utc};
use justus_core::event::{EventKind, EventPage, RoomEvent};
use justus_core::message::{MAX_PINS, Message, NewMessage, Page};
use justus_core::store::{HIGHLIGHT_END, HIGHLIGHT_START, SearchHit, SendOutcome};
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
fn normalised(mentions: &[UserId]) -> Vec<UserId> {
    let mut out = mentions.to_vec();
    out.sort_unstable();
    out.dedup();
    out
}

pub(crate) async fn send_message(pool: &PgPool, new: &NewMessage) -> StoreResult<SendOutcome> {
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
    let mentions = normalised(&new.mentions);
    insert_mentions(tx, new.id, new.room_id, seq, &mentions).await?;
    crate::media::insert_attachments(tx, new).await?;
    let mut message = row.into_message(mentions, Vec::new());
    message.attachments = new.attachments.clone();
    let ev = message_event(
        seq,
        EventKind::MessageCreated,
        new.sender_id,
        message.clone(),
        new.now,
    );
    record(tx, &ev).await?;
    Ok(Some(SendOutcome::Created(message, ev)))
}

pub(crate) async fn message(pool: &PgPool, room: RoomId, id: MessageId) -> StoreResult<Message> {
    let mut conn = pool.acquire().await.store()?;
    load_message(&mut conn, room, id).await
}

pub(crate) async fn messages(
    pool: &PgPool,
    room: RoomId,
    page: Page,
    limit: u32,
) -> StoreResult<Vec<Message>> {
    let mut conn = pool.acquire().await.store()?;
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

#[allow(clippy::too_many_arguments)]
pub(crate) async fn edit_message(
    pool: &PgPool,
    room: RoomId,
    id: MessageId,
    body: &str,
    mentions: &[UserId],
    mentions_room: bool,
    actor: UserId,
    now: DateTime<Utc>,
) -> StoreResult<(Message, RoomEvent)> {
    let mut tx = pool.begin().await.store()?;
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
    sqlx::query("UPDATE messages SET body = $2, edited_at = $3, mentions_room = $4 WHERE id = $1")
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

pub(crate) async fn edit_history(
    pool: &PgPool,
    room: RoomId,
    id: MessageId,
) -> StoreResult<Vec<(String, DateTime<Utc>)>> {
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM messages WHERE id = $1 AND room_id = $2)")
            .bind(id.as_uuid())
            .bind(room.as_uuid())
            .fetch_one(pool)
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
    .fetch_all(pool)
    .await
    .store()
}

pub(crate) async fn delete_message(
    pool: &PgPool,
    room: RoomId,
    id: MessageId,
    actor: UserId,
    now: DateTime<Utc>,
) -> StoreResult<RoomEvent> {
    let mut tx = pool.begin().await.store()?;
    let seq = next_seq(&mut tx, room, now).await?;
    let done = sqlx::query(
        "UPDATE messages SET body = '', deleted_at = $3, reply_to = NULL, pinned_at = NULL, \
         mentions_room = false WHERE id = $1 AND room_id = $2 AND deleted_at IS NULL",
    )
    .bind(id.as_uuid())
    .bind(room.as_uuid())
    .bind(now)
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
    record(&mut tx, &ev).await?;
    tx.commit().await.store()?;
    Ok(ev)
}

pub(crate) async fn set_reaction(
    pool: &PgPool,
    room: RoomId,
    id: MessageId,
    user: UserId,
    emoji: &str,
    add: bool,
    now: DateTime<Utc>,
) -> StoreResult<Option<RoomEvent>> {
    let mut tx = pool.begin().await.store()?;
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

pub(crate) async fn set_pinned(
    pool: &PgPool,
    room: RoomId,
    id: MessageId,
    pinned: bool,
    actor: UserId,
    now: DateTime<Utc>,
) -> StoreResult<Option<RoomEvent>> {
    let mut tx = pool.begin().await.store()?;
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

pub(crate) async fn pinned(pool: &PgPool, room: RoomId) -> StoreResult<Vec<Message>> {
    let mut conn = pool.acquire().await.store()?;
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

// --- history, read state, search ------------------------------------------------------------

pub(crate) async fn events(
    pool: &PgPool,
    room: RoomId,
    after: i64,
    limit: u32,
) -> StoreResult<EventPage> {
    let mut conn = pool.acquire().await.store()?;
    let mut rows: Vec<EventRow> = sqlx::query_as(concat!(
        "SELECT ",
        event_columns!(),
        " FROM room_events e WHERE e.room_id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3"
    ))
    .bind(room.as_uuid())
    .bind(after)
    .bind(i64::from(limit) + 1)
    .fetch_all(&mut *conn)
    .await
    .store()?;
    let has_more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    Ok(EventPage {
        events: events_from_rows(&mut conn, rows).await?,
        has_more,
    })
}

pub(crate) async fn mark_read(
    pool: &PgPool,
    room: RoomId,
    user: UserId,
    seq: i64,
) -> StoreResult<i64> {
    // Reads `last_seq` without locking the room: writers are never blocked by readers.
    let marker: Option<i64> = sqlx::query_scalar(
        "UPDATE room_members AS m SET read_seq = GREATEST(m.read_seq, LEAST($3, r.last_seq)) \
         FROM rooms r WHERE r.id = m.room_id AND m.room_id = $1 AND m.user_id = $2 \
         AND r.deleted_at IS NULL RETURNING m.read_seq",
    )
    .bind(room.as_uuid())
    .bind(user.as_uuid())
    .bind(seq)
    .fetch_optional(pool)
    .await
    .store()?;
    marker.ok_or(StoreError::NotFound)
}

/// A search query as PostgreSQL is asked it: `websearch_to_tsquery('simple', websearch)` (which
/// never fails on user input: quotes, `or` and `-` are its syntax, anything else is text), and,
/// for search-as-you-type like the SQLite store, the query's last word also matched as a prefix
/// (`to_tsquery('simple', prefix || ':*')`), AND-ed, or OR-ed after a trailing `or`.
#[derive(Debug, PartialEq, Eq)]
struct SearchQuery<'a> {
    websearch: &'a str,
    /// A run of Unicode alphanumerics only, so it cannot be tsquery syntax.
    prefix: Option<&'a str>,
    or_prefix: bool,
}

impl<'a> SearchQuery<'a> {
    fn parse(query: &'a str) -> Self {
        let whole = SearchQuery {
            websearch: query,
            prefix: None,
            or_prefix: false,
        };
        let q = query.trim_end();
        let start = q
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_alphanumeric())
            .last()
            .map(|(i, _)| i);
        let Some(start) = start else {
            return whole;
        };
        let (rest, last) = q.split_at(start);
        // Inside an unclosed quote the word belongs to a phrase; after a token-initial '-' it is
        // excluded: websearch_to_tsquery's meaning stands.
        let in_phrase = rest.matches('"').count() % 2 == 1;
        let negated = rest
            .strip_suffix('-')
            .is_some_and(|before| before.chars().next_back().is_none_or(char::is_whitespace));
        if in_phrase || negated {
            return whole;
        }
        let trimmed = rest.trim_end();
        if trimmed.len() < rest.len() {
            let lower = trimmed.to_ascii_lowercase();
            if let Some(before) = lower.strip_suffix("or")
                && before.chars().next_back().is_none_or(char::is_whitespace)
            {
                return SearchQuery {
                    websearch: &trimmed[..before.len()],
                    prefix: Some(last),
                    or_prefix: true,
                };
            }
        }
        SearchQuery {
            websearch: rest,
            prefix: Some(last),
            or_prefix: false,
        }
    }
}

#[derive(sqlx::FromRow)]
struct HitRow {
    #[sqlx(flatten)]
    message: MessageRow,
    snippet: String,
    rank: f64,
}

pub(crate) async fn search(
    pool: &PgPool,
    user: UserId,
    query: &str,
    room: Option<RoomId>,
    limit: u32,
) -> StoreResult<Vec<SearchHit>> {
    if query.trim().is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let options =
        format!("StartSel={HIGHLIGHT_START}, StopSel={HIGHLIGHT_END}, MaxWords=30, MinWords=10");
    let parsed = SearchQuery::parse(query);
    let mut conn = pool.acquire().await.store()?;
    // Rank and limit first; headlines (the costly part) only for the hits returned.
    let rows: Result<Vec<HitRow>, sqlx::Error> = sqlx::query_as(concat!(
        "SELECT ",
        message_columns!(),
        ", ts_headline('simple', msg.body, hits.q, $5) AS snippet, hits.rank ",
        "FROM (SELECT x.id, q.q, ts_rank(x.search, q.q)::float8 AS rank, x.created_at ",
        "FROM (SELECT CASE WHEN $6::text IS NULL THEN websearch_to_tsquery('simple', $2) ",
        "WHEN $7 THEN websearch_to_tsquery('simple', $2) || to_tsquery('simple', $6 || ':*') ",
        "ELSE websearch_to_tsquery('simple', $2) && to_tsquery('simple', $6 || ':*') END AS q) AS q ",
        "JOIN messages x ON x.search @@ q.q ",
        "JOIN room_members m ON m.room_id = x.room_id AND m.user_id = $1 ",
        "JOIN rooms r ON r.id = x.room_id AND r.deleted_at IS NULL ",
        "WHERE x.deleted_at IS NULL AND ($3::uuid IS NULL OR x.room_id = $3) ",
        "ORDER BY rank DESC, x.created_at DESC, x.id DESC LIMIT $4) AS hits ",
        "JOIN messages msg ON msg.id = hits.id ",
        "ORDER BY hits.rank DESC, hits.created_at DESC, hits.id DESC"
    ))
    .bind(user.as_uuid())
    .bind(parsed.websearch)
    .bind(room.map(|r| r.as_uuid()))
    .bind(i64::from(limit))
    .bind(options)
    .bind(parsed.prefix)
    .bind(parsed.or_prefix)
    .fetch_all(&mut *conn)
    .await;
    let rows = match rows {
        Ok(rows) => rows,
        // A query PostgreSQL refuses (e.g. a NUL byte) matches nothing; it is not our error.
        Err(sqlx::Error::Database(e)) => {
            tracing::debug!(error = %e, "search query rejected by PostgreSQL");
            return Ok(Vec::new());
        }
        Err(e) => return Err(crate::errors::map(e)),
    };
    let mut snippets = Vec::with_capacity(rows.len());
    let mut messages = Vec::with_capacity(rows.len());
    for r in rows {
        snippets.push((r.snippet, r.rank));
        messages.push(r.message);
    }
    let messages = fill(&mut conn, messages).await?;
    Ok(messages
        .into_iter()
        .zip(snippets)
        .map(|(message, (snippet, rank))| SearchHit {
            message,
            snippet,
            rank,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::SearchQuery;

    fn parse(q: &str) -> (&str, Option<&str>, bool) {
        let p = SearchQuery::parse(q);
        (p.websearch, p.prefix, p.or_prefix)
    }

    #[test]
    fn last_word_is_a_prefix() {
        assert_eq!(parse("wonder"), ("", Some("wonder"), false));
        assert_eq!(parse("weather tomor  "), ("weather ", Some("tomor"), false));
        assert_eq!(parse("well-kno"), ("well-", Some("kno"), false));
        assert_eq!(parse("été"), ("", Some("été"), false));
        assert_eq!(parse("apple or ban"), ("apple ", Some("ban"), true));
        assert_eq!(parse("apple OR ban"), ("apple ", Some("ban"), true));
        assert_eq!(parse("or ban"), ("", Some("ban"), true));
        assert_eq!(parse("color ban"), ("color ", Some("ban"), false));
    }

    #[test]
    fn syntax_is_left_to_websearch() {
        for q in [
            "\"banana\"",
            "\"lazy do",
            "fox -cat",
            "-cat",
            "🎉",
            "",
            "  ",
            "fox!",
        ] {
            assert_eq!(parse(q), (q, None, false), "{q:?}");
        }
    }
}
