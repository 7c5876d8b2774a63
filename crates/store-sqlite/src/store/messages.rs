//! Messages, reactions, pins, read markers and search.

use super::history::{insert_event, next_seq, record};
use super::load;
use crate::conn::map_err;
use crate::rows::{self, MESSAGE_COLS, MESSAGE_NCOLS, message_cols, ts};
use chrono::{DateTime, Utc};
use justus_core::event::{EventKind, RoomEvent};
use justus_core::message::{MAX_PINS, Message, NewMessage, Page};
use justus_core::store::{HIGHLIGHT_END, HIGHLIGHT_START, SearchHit, SendOutcome};
use justus_core::{MessageId, RoomId, StoreError, StoreResult, UserId};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::rc::Rc;

/// At most this many words of a search query are used.
const MAX_QUERY_WORDS: usize = 16;

/// The hot path: one writer job does the idempotency lookup, the membership re-check, seq
/// allocation, the message, its mentions and its event. Nothing is read back.
pub(super) fn send_message(c: &Connection, new: &NewMessage) -> StoreResult<SendOutcome> {
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
    super::media::insert_attachments(c, new)?;
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
}

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

pub(super) fn messages(
    c: &Connection,
    room: RoomId,
    page: Page,
    limit: u32,
) -> StoreResult<Vec<Message>> {
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
}

#[allow(clippy::too_many_arguments)] // mirrors the trait method
pub(super) fn edit_message(
    c: &Connection,
    room: RoomId,
    id: MessageId,
    body: &str,
    mentions: &[UserId],
    mentions_room: bool,
    actor: UserId,
    now: DateTime<Utc>,
) -> StoreResult<(Message, RoomEvent)> {
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
    // Mentions keep the message's own seq: unread ranges are about when it was posted.
    insert_mentions(c, id, room, seq, mentions)?;
    let ev = record(c, room, EventKind::MessageEdited, actor, now, |e| {
        e.message_id = Some(id)
    })?;
    with_message(c, ev)
}

pub(super) fn edit_history(
    c: &Connection,
    room: RoomId,
    id: MessageId,
) -> StoreResult<Vec<(String, DateTime<Utc>)>> {
    let exists: bool = c
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM messages WHERE id = ?1 AND room_id = ?2)")
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
}

pub(super) fn delete_message(
    c: &Connection,
    room: RoomId,
    id: MessageId,
    actor: UserId,
    now: DateTime<Utc>,
) -> StoreResult<RoomEvent> {
    live_message(c, room, id)?;
    c.prepare_cached(
        "UPDATE messages SET body = '', deleted_at = ?2, reply_to = NULL, pinned_at = NULL, \
         mentions_room = 0 WHERE id = ?1",
    )
    .and_then(|mut st| st.execute(params![id.0, ts(now)]))
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
    Ok(with_message(c, ev)?.1)
}

pub(super) fn set_reaction(
    c: &Connection,
    room: RoomId,
    id: MessageId,
    user: UserId,
    emoji: &str,
    add: bool,
    now: DateTime<Utc>,
) -> StoreResult<Option<RoomEvent>> {
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
}

pub(super) fn set_pinned(
    c: &Connection,
    room: RoomId,
    id: MessageId,
    pinned: bool,
    actor: UserId,
    now: DateTime<Utc>,
) -> StoreResult<Option<RoomEvent>> {
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
}

pub(super) fn pinned(c: &Connection, room: RoomId) -> StoreResult<Vec<Message>> {
    load::query(
        c,
        &format!(
            "SELECT {MESSAGE_COLS} FROM messages m WHERE m.room_id = ?1 AND m.pinned_at IS NOT NULL \
             ORDER BY m.created_at DESC, m.seq DESC"
        ),
        [room.0],
    )
}

pub(super) fn mark_read(c: &Connection, room: RoomId, user: UserId, seq: i64) -> StoreResult<i64> {
    c.prepare_cached(
        "UPDATE room_members SET read_seq = max(read_seq, min(?3, \
           (SELECT last_seq FROM rooms WHERE id = ?1 AND deleted_at IS NULL))) \
         WHERE room_id = ?1 AND user_id = ?2 \
           AND EXISTS (SELECT 1 FROM rooms WHERE id = ?1 AND deleted_at IS NULL) \
         RETURNING read_seq",
    )
    .and_then(|mut st| st.query_row(params![room.0, user.0, seq], |r| r.get(0)))
    .map_err(map_err)
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
pub(super) fn fts_query(raw: &str) -> Option<String> {
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

pub(super) fn search(
    c: &Connection,
    user: UserId,
    query: &str,
    room: Option<RoomId>,
    limit: u32,
) -> StoreResult<Vec<SearchHit>> {
    let Some(q) = fts_query(query) else {
        return Ok(Vec::new());
    };
    // Three steps, so that only the hits returned pay for loading and snippets (SQLite would
    // compute every selected column, snippet included, for every match before sorting):
    // rank the matches, load the best messages, then build their snippets.
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
