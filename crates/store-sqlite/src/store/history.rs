//! Room history: seq allocation and event rows (shared by every history change), reading them
//! back, read markers, and full-text search.

use super::SqliteStore;
use super::load;
use crate::conn::map_err;
use crate::rows::{self, EVENT_COLS, MESSAGE_COLS, MESSAGE_NCOLS, ts};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use justus_core::event::{EventKind, EventPage, RoomEvent};
use justus_core::message::Message;
use justus_core::store::{HIGHLIGHT_END, HIGHLIGHT_START, History, SearchHit};
use justus_core::{MessageId, RoomId, StoreError, StoreResult, UserId};
use rusqlite::types::Value;
use rusqlite::{Connection, params};
use std::collections::HashMap;
use std::rc::Rc;

/// At most this many words of a search query are used.
const MAX_QUERY_WORDS: usize = 16;

/// Takes the room's next seq and bumps its activity time; `NotFound` for a missing or deleted
/// room. Every history change calls this exactly once per event, inside its writer job.
pub(super) fn next_seq(c: &Connection, room: RoomId, now: DateTime<Utc>) -> StoreResult<i64> {
    c.prepare_cached(
        "UPDATE rooms SET last_seq = last_seq + 1, last_activity_at = ?2 \
         WHERE id = ?1 AND deleted_at IS NULL RETURNING last_seq",
    )
    .and_then(|mut st| st.query_row(params![room.0, ts(now)], |r| r.get(0)))
    .map_err(map_err)
}

/// Allocates a seq and records an event of `kind`; `fill` sets the kind-specific fields
/// (which are stored too, except `message`, which is always loaded at read time).
pub(super) fn record(
    c: &Connection,
    room: RoomId,
    kind: EventKind,
    actor: UserId,
    now: DateTime<Utc>,
    fill: impl FnOnce(&mut RoomEvent),
) -> StoreResult<RoomEvent> {
    record_because(c, room, kind, actor, now, None, fill)
}

/// [`record`] for a moderator's action, with the reason they gave (for the audit log).
pub(super) fn record_because(
    c: &Connection,
    room: RoomId,
    kind: EventKind,
    actor: UserId,
    now: DateTime<Utc>,
    reason: Option<&str>,
    fill: impl FnOnce(&mut RoomEvent),
) -> StoreResult<RoomEvent> {
    let seq = next_seq(c, room, now)?;
    let mut ev = RoomEvent::new(room, seq, kind, actor, now);
    fill(&mut ev);
    insert_event_because(c, &ev, reason)?;
    Ok(ev)
}

pub(crate) fn insert_event(c: &Connection, ev: &RoomEvent) -> StoreResult<()> {
    insert_event_because(c, ev, None)
}

/// Stores the event and, when it is a moderation action (`audit::entry_for`), its audit entry.
pub(crate) fn insert_event_because(
    c: &Connection,
    ev: &RoomEvent,
    reason: Option<&str>,
) -> StoreResult<()> {
    if let Some(entry) = justus_core::audit::entry_for(ev, reason) {
        super::audit::insert(c, &entry)?;
    }
    let changes = ev
        .changes
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StoreError::Other(format!("encoding room changes: {e}")))?;
    c.prepare_cached(
        "INSERT INTO room_events (room_id, seq, kind, actor_id, created_at, message_id, user_id, emoji, role, changes, muted_until) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )
    .and_then(|mut st| {
        st.execute(params![
            ev.room_id.0,
            ev.seq,
            ev.kind.as_str(),
            ev.actor_id.0,
            ts(ev.created_at),
            ev.message_id.map(|m| m.0),
            ev.user_id.map(|u| u.0),
            ev.emoji,
            ev.role.map(|r| r.as_str()),
            changes,
            ev.muted_until.map(ts),
        ])
    })
    .map(drop)
    .map_err(map_err)
}

#[async_trait]
impl History for SqliteStore {
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "events", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "events"))]
    async fn events(&self, room: RoomId, after: i64, limit: u32) -> StoreResult<EventPage> {
        self.threads
            .read(move |c| {
                let mut st = c
                    .prepare_cached(&format!(
                        "SELECT {EVENT_COLS} FROM room_events e WHERE e.room_id = ?1 AND e.seq > ?2 \
                         ORDER BY e.seq LIMIT ?3"
                    ))
                    .map_err(map_err)?;
                let mut events: Vec<RoomEvent> = st
                    .query_map(params![room.0, after, i64::from(limit) + 1], rows::event)
                    .and_then(|rows| rows.collect())
                    .map_err(map_err)?;
                let has_more = events.len() > limit as usize;
                events.truncate(limit as usize);

                let mut ids: Vec<MessageId> = events
                    .iter()
                    .filter(|e| e.kind.carries_message())
                    .filter_map(|e| e.message_id)
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                if !ids.is_empty() {
                    let messages: HashMap<MessageId, _> = load::messages_by_ids(c, &ids)?
                        .into_iter()
                        .map(|m| (m.id, m))
                        .collect();
                    for ev in events.iter_mut().filter(|e| e.kind.carries_message()) {
                        ev.message = ev.message_id.and_then(|id| messages.get(&id).cloned());
                    }
                }
                Ok(EventPage { events, has_more })
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "mark_read", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "mark_read"))]
    async fn mark_read(&self, room: RoomId, user: UserId, seq: i64) -> StoreResult<i64> {
        self.threads
            .write(move |c| {
                c.prepare_cached(
                    "UPDATE room_members SET read_seq = max(read_seq, min(?3, \
                       (SELECT last_seq FROM rooms WHERE id = ?1 AND deleted_at IS NULL))) \
                     WHERE room_id = ?1 AND user_id = ?2 \
                       AND EXISTS (SELECT 1 FROM rooms WHERE id = ?1 AND deleted_at IS NULL) \
                     RETURNING read_seq",
                )
                .and_then(|mut st| st.query_row(params![room.0, user.0, seq], |r| r.get(0)))
                .map_err(map_err)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "search", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "search"))]
    async fn search(
        &self,
        user: UserId,
        query: &str,
        room: Option<RoomId>,
        limit: u32,
    ) -> StoreResult<Vec<SearchHit>> {
        let Some(q) = fts_query(query) else {
            return Ok(Vec::new());
        };
        self.threads
            .read(move |c| {
                // Three steps, so that only the hits returned pay for loading and snippets
                // (SQLite would compute every selected column, snippet included, for every match
                // before sorting): rank the matches, load the best messages, then build their
                // snippets.
                let mut st = c
                    .prepare_cached(
                        "SELECT m.rowid, -bm25(messages_fts) FROM messages_fts \
                         JOIN messages m ON m.rowid = messages_fts.rowid \
                         JOIN room_members rm ON rm.room_id = m.room_id AND rm.user_id = ?2 \
                         JOIN rooms r ON r.id = m.room_id \
                         WHERE messages_fts MATCH ?1 AND m.deleted_at IS NULL AND r.deleted_at IS NULL \
                           AND (?3 IS NULL OR m.room_id = ?3) \
                         ORDER BY bm25(messages_fts), m.seq DESC LIMIT ?4",
                    )
                    .map_err(map_err)?;
                let ranked: Vec<(i64, f64)> = st
                    .query_map(
                        params![q, user.0, room.map(|r| r.0), i64::from(limit)],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .and_then(|rows| rows.collect())
                    .map_err(map_err)?;
                if ranked.is_empty() {
                    return Ok(Vec::new());
                }
                let rowids = Rc::new(
                    ranked
                        .iter()
                        .map(|&(rowid, _)| Value::Integer(rowid))
                        .collect::<Vec<_>>(),
                );

                let mut messages: HashMap<i64, Message> = HashMap::with_capacity(ranked.len());
                let mut st = c
                    .prepare_cached(&format!(
                        "SELECT {MESSAGE_COLS}, m.rowid FROM messages m WHERE m.rowid IN rarray(?1)"
                    ))
                    .map_err(map_err)?;
                let mut rows = st.query([Rc::clone(&rowids)]).map_err(map_err)?;
                while let Some(r) = rows.next().map_err(map_err)? {
                    let rowid: i64 = r.get(MESSAGE_NCOLS).map_err(map_err)?;
                    messages.insert(rowid, rows::message(r).map_err(map_err)?);
                }

                let mut snippets: HashMap<i64, String> = HashMap::with_capacity(ranked.len());
                let mut st = c
                    .prepare_cached(&format!(
                        "SELECT rowid, snippet(messages_fts, 0, '{HIGHLIGHT_START}', '{HIGHLIGHT_END}', '…', 16) \
                         FROM messages_fts WHERE messages_fts MATCH ?1 AND rowid IN rarray(?2)"
                    ))
                    .map_err(map_err)?;
                let mut rows = st.query(params![q, rowids]).map_err(map_err)?;
                while let Some(r) = rows.next().map_err(map_err)? {
                    snippets.insert(r.get(0).map_err(map_err)?, r.get(1).map_err(map_err)?);
                }

                let (mut found, ranks): (Vec<Message>, Vec<(String, f64)>) = ranked
                    .into_iter()
                    .filter_map(|(rowid, rank)| {
                        let message = messages.remove(&rowid)?;
                        let snippet = snippets.remove(&rowid).unwrap_or_default();
                        Some((message, (snippet, rank)))
                    })
                    .unzip();
                load::fill(c, &mut found)?;
                Ok(found
                    .into_iter()
                    .zip(ranks)
                    .map(|(message, (snippet, rank))| SearchHit {
                        message,
                        snippet,
                        rank,
                    })
                    .collect())
            })
            .await
    }
}

/// Applies the queued full-text index changes (see the `messages_fts_queue` migration) in
/// order: once per writer group, before its COMMIT.
pub(crate) fn apply_search_queue(c: &Connection) -> rusqlite::Result<()> {
    let pending: bool = c
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM messages_fts_queue)")?
        .query_row([], |r| r.get(0))?;
    if !pending {
        return Ok(());
    }
    c.prepare_cached(
        "INSERT INTO messages_fts (messages_fts, rowid, body) \
         SELECT cmd, msg_rowid, body FROM messages_fts_queue ORDER BY id",
    )?
    .execute([])?;
    c.prepare_cached("DELETE FROM messages_fts_queue")?
        .execute([])
        .map(drop)
}

/// Turns user input into an FTS5 query that cannot be syntax: its words (runs of Unicode
/// alphanumerics), each quoted as a phrase, all required, the last one as a prefix.
/// `None` when there is no word to look for.
fn fts_query(raw: &str) -> Option<String> {
    let words: Vec<&str> = raw
        .split(|ch: char| !ch.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_QUERY_WORDS)
        .collect();
    let (last, rest) = words.split_last()?;
    let mut q = String::new();
    for w in rest {
        q.push('"');
        q.push_str(w);
        q.push_str("\" ");
    }
    q.push('"');
    q.push_str(last);
    q.push_str("\"*");
    Some(q)
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn queries_are_sanitised() {
        assert_eq!(
            fts_query("hello world").as_deref(),
            Some("\"hello\" \"world\"*")
        );
        assert_eq!(fts_query("\"").as_deref(), None);
        assert_eq!(
            fts_query("NEAR(a b)").as_deref(),
            Some("\"NEAR\" \"a\" \"b\"*")
        );
        assert_eq!(
            fts_query("') OR 1=1 --").as_deref(),
            Some("\"OR\" \"1\" \"1\"*")
        );
        assert_eq!(fts_query("🎉🎉").as_deref(), None);
        assert_eq!(fts_query("café*").as_deref(), Some("\"café\"*"));
        let long = "w ".repeat(5000);
        assert_eq!(fts_query(&long).map(|q| q.matches('"').count()), Some(32));
    }
}
