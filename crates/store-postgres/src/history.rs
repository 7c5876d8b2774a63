//! Room history. First what every conversation write and read shares: seq allocation, event
//! records, and loading messages with their reactions and mentions in batches (never one query
//! per message); then reading history back: the event feed, read markers, full-text search.

use crate::PgStore;
use crate::errors::MapErr;
use crate::rows::{EventRow, MessageRow, ReactionRow};
use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use justus_core::event::{EventKind, EventPage, RoomEvent};
use justus_core::message::{Message, Reaction};
use justus_core::store::{HIGHLIGHT_END, HIGHLIGHT_START, History, SearchHit};
use justus_core::{MessageId, RoomId, StoreError, StoreResult, UserId};
use sqlx::{PgConnection, Postgres, Transaction};
use std::collections::HashMap;
use uuid::Uuid;

pub(crate) type Tx = Transaction<'static, Postgres>;

/// Rolls `tx` back (undoing any seq it took, so history stays gap-free) and fails with `err`.
pub(crate) async fn abort<T>(tx: Transaction<'_, Postgres>, err: StoreError) -> StoreResult<T> {
    tx.rollback().await.store()?;
    Err(err)
}

/// Takes the next seq of a live room and marks it active at `now`. The row lock this takes on
/// the room (and on that room only) is held until the transaction ends, which serialises the
/// room's history writers and keeps seqs gap-free: a transaction that rolls back gives its seq
/// back before the next writer reads `last_seq`. `NotFound` if the room is missing or deleted.
pub(crate) async fn next_seq(
    conn: &mut PgConnection,
    room: RoomId,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    sqlx::query_scalar(
        "UPDATE rooms SET last_seq = last_seq + 1, last_activity_at = $2 \
         WHERE id = $1 AND deleted_at IS NULL RETURNING last_seq",
    )
    .bind(room.as_uuid())
    .bind(now)
    .fetch_optional(conn)
    .await
    .store()?
    .ok_or(StoreError::NotFound)
}

/// A bare event at `now`, as the database will store it (microsecond precision).
pub(crate) fn event(
    room: RoomId,
    seq: i64,
    kind: EventKind,
    actor: UserId,
    now: DateTime<Utc>,
) -> RoomEvent {
    RoomEvent::new(room, seq, kind, actor, now.trunc_subsecs(6))
}

/// A member event (`user_id` set).
pub(crate) fn member_event(
    room: RoomId,
    seq: i64,
    kind: EventKind,
    actor: UserId,
    user: UserId,
    now: DateTime<Utc>,
) -> RoomEvent {
    let mut ev = event(room, seq, kind, actor, now);
    ev.user_id = Some(user);
    ev
}

/// A message event carrying the message's current state.
pub(crate) fn message_event(
    seq: i64,
    kind: EventKind,
    actor: UserId,
    message: Message,
    now: DateTime<Utc>,
) -> RoomEvent {
    let mut ev = event(message.room_id, seq, kind, actor, now);
    ev.message_id = Some(message.id);
    ev.message = Some(message);
    ev
}

/// Stores `ev` as its room's history row (and its audit entry, when it is moderation).
pub(crate) async fn record(conn: &mut PgConnection, ev: &RoomEvent) -> StoreResult<()> {
    record_because(conn, ev, None).await
}

/// [`record`] for a moderator's action, with the reason they gave (for the audit log).
pub(crate) async fn record_because(
    conn: &mut PgConnection,
    ev: &RoomEvent,
    reason: Option<&str>,
) -> StoreResult<()> {
    if let Some(entry) = justus_core::audit::entry_for(ev, reason) {
        crate::audit::insert(&mut *conn, &entry).await?;
    }
    let changes = ev
        .changes
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StoreError::Other(format!("cannot encode room changes: {e}")))?;
    sqlx::query(
        "INSERT INTO room_events \
         (room_id, seq, kind, actor_id, created_at, message_id, user_id, emoji, role, changes, \
         muted_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11)",
    )
    .bind(ev.room_id.as_uuid())
    .bind(ev.seq)
    .bind(ev.kind.as_str())
    .bind(ev.actor_id.as_uuid())
    .bind(ev.created_at)
    .bind(ev.message_id.map(|m| m.as_uuid()))
    .bind(ev.user_id.map(|u| u.as_uuid()))
    .bind(ev.emoji.as_deref())
    .bind(ev.role.map(|r| r.as_str()))
    .bind(changes)
    .bind(ev.muted_until)
    .execute(conn)
    .await
    .store()?;
    Ok(())
}

/// Records the mentions of a message (deduplicated), at the message's seq.
pub(crate) async fn insert_mentions(
    conn: &mut PgConnection,
    message: MessageId,
    room: RoomId,
    seq: i64,
    mentions: &[UserId],
) -> StoreResult<()> {
    if mentions.is_empty() {
        return Ok(());
    }
    let users: Vec<Uuid> = mentions.iter().map(UserId::as_uuid).collect();
    sqlx::query(
        "INSERT INTO message_mentions (message_id, user_id, room_id, seq) \
         SELECT $1, u, $2, $3 FROM unnest($4::uuid[]) AS u ON CONFLICT DO NOTHING",
    )
    .bind(message.as_uuid())
    .bind(room.as_uuid())
    .bind(seq)
    .bind(&users)
    .execute(conn)
    .await
    .store()?;
    Ok(())
}

/// Reactions of many messages, one row per (message, emoji): count and the first 20 users,
/// oldest first; emoji groups in the order of their first reaction. `ord` (insertion order)
/// breaks ties between reactions made at the same instant.
const REACTIONS: &str = "SELECT message_id, emoji, count(*) AS count, \
     (array_agg(user_id ORDER BY created_at, ord))[1:20] AS users \
     FROM message_reactions WHERE message_id = ANY($1) \
     GROUP BY message_id, emoji ORDER BY message_id, min(created_at), min(ord)";

/// Mentions of many messages, by user id within each message.
const MENTIONS: &str = "SELECT message_id, user_id FROM message_mentions \
     WHERE message_id = ANY($1) ORDER BY message_id, user_id";

/// Completes message rows with their reactions and mentions: two queries for the whole batch.
pub(crate) async fn fill(
    conn: &mut PgConnection,
    rows: Vec<MessageRow>,
) -> StoreResult<Vec<Message>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut reactions: HashMap<Uuid, Vec<Reaction>> = HashMap::new();
    let reaction_rows: Vec<ReactionRow> = sqlx::query_as(REACTIONS)
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await
        .store()?;
    for r in reaction_rows {
        reactions.entry(r.message_id).or_default().push(r.into());
    }
    let mut mentions: HashMap<Uuid, Vec<UserId>> = HashMap::new();
    let mention_rows: Vec<(Uuid, Uuid)> = sqlx::query_as(MENTIONS)
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await
        .store()?;
    for (message, user) in mention_rows {
        mentions.entry(message).or_default().push(UserId(user));
    }
    // Tombstones carry no attachments.
    let live: Vec<Uuid> = rows
        .iter()
        .filter(|r| r.deleted_at.is_none())
        .map(|r| r.id)
        .collect();
    let mut attachments = crate::media::attachments_of(conn, &live).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let id = r.id;
            let mut m = r.into_message(
                mentions.remove(&id).unwrap_or_default(),
                reactions.remove(&id).unwrap_or_default(),
            );
            m.attachments = attachments.remove(&id).unwrap_or_default();
            m
        })
        .collect())
}

/// A message of `room` (tombstones included); `NotFound` otherwise.
pub(crate) async fn load_message(
    conn: &mut PgConnection,
    room: RoomId,
    id: MessageId,
) -> StoreResult<Message> {
    let row: Option<MessageRow> = sqlx::query_as(concat!(
        "SELECT ",
        message_columns!(),
        " FROM messages msg WHERE msg.id = $1 AND msg.room_id = $2"
    ))
    .bind(id.as_uuid())
    .bind(room.as_uuid())
    .fetch_optional(&mut *conn)
    .await
    .store()?;
    let row = row.ok_or(StoreError::NotFound)?;
    fill(conn, vec![row])
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// Messages by id, in one batch.
pub(crate) async fn load_messages_by_id(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> StoreResult<HashMap<Uuid, Message>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<MessageRow> = sqlx::query_as(concat!(
        "SELECT ",
        message_columns!(),
        " FROM messages msg WHERE msg.id = ANY($1)"
    ))
    .bind(ids)
    .fetch_all(&mut *conn)
    .await
    .store()?;
    Ok(fill(conn, rows)
        .await?
        .into_iter()
        .map(|m| (m.id.as_uuid(), m))
        .collect())
}

/// Turns stored events into domain events, attaching the current state of the messages of
/// message events (loaded in one batch).
pub(crate) async fn events_from_rows(
    conn: &mut PgConnection,
    rows: Vec<EventRow>,
) -> StoreResult<Vec<RoomEvent>> {
    let mut events = rows
        .into_iter()
        .map(EventRow::into_event)
        .collect::<StoreResult<Vec<_>>>()?;
    let mut ids: Vec<Uuid> = events
        .iter()
        .filter(|e| e.kind.carries_message())
        .filter_map(|e| e.message_id.map(|m| m.as_uuid()))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let messages = load_messages_by_id(conn, &ids).await?;
    for ev in &mut events {
        if ev.kind.carries_message() {
            ev.message = ev
                .message_id
                .and_then(|m| messages.get(&m.as_uuid()).cloned());
        }
    }
    Ok(events)
}

// --- reading history back -----------------------------------------------------------------------

#[async_trait]
impl History for PgStore {
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "events", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "events"))]
    async fn events(&self, room: RoomId, after: i64, limit: u32) -> StoreResult<EventPage> {
        let mut conn = self.pool.acquire().await.store()?;
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

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "mark_read", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "mark_read"))]
    async fn mark_read(&self, room: RoomId, user: UserId, seq: i64) -> StoreResult<i64> {
        // Reads `last_seq` without locking the room: writers are never blocked by readers.
        let marker: Option<i64> = sqlx::query_scalar(
            "UPDATE room_members AS m SET read_seq = GREATEST(m.read_seq, LEAST($3, r.last_seq)) \
             FROM rooms r WHERE r.id = m.room_id AND m.room_id = $1 AND m.user_id = $2 \
             AND r.deleted_at IS NULL RETURNING m.read_seq",
        )
        .bind(room.as_uuid())
        .bind(user.as_uuid())
        .bind(seq)
        .fetch_optional(&self.pool)
        .await
        .store()?;
        marker.ok_or(StoreError::NotFound)
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "search", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "search"))]
    async fn search(
        &self,
        user: UserId,
        query: &str,
        room: Option<RoomId>,
        limit: u32,
    ) -> StoreResult<Vec<SearchHit>> {
        if query.trim().is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let options = format!(
            "StartSel={HIGHLIGHT_START}, StopSel={HIGHLIGHT_END}, MaxWords=30, MinWords=10"
        );
        let parsed = SearchQuery::parse(query);
        let mut conn = self.pool.acquire().await.store()?;
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
