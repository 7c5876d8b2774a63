//! Room history: seq allocation, event rows, and reading them back.

use super::load;
use crate::conn::map_err;
use crate::rows::{self, EVENT_COLS, ts};
use chrono::{DateTime, Utc};
use justus_core::event::{EventKind, EventPage, RoomEvent};
use justus_core::{MessageId, RoomId, StoreError, StoreResult, UserId};
use rusqlite::{Connection, params};
use std::collections::HashMap;

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
    let seq = next_seq(c, room, now)?;
    let mut ev = RoomEvent::new(room, seq, kind, actor, now);
    fill(&mut ev);
    insert_event(c, &ev)?;
    Ok(ev)
}

pub(crate) fn insert_event(c: &Connection, ev: &RoomEvent) -> StoreResult<()> {
    let changes = ev
        .changes
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StoreError::Other(format!("encoding room changes: {e}")))?;
    c.prepare_cached(
        "INSERT INTO room_events (room_id, seq, kind, actor_id, created_at, message_id, user_id, emoji, role, changes) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
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
        ])
    })
    .map(drop)
    .map_err(map_err)
}

/// Whether events of this kind carry the message's current state.
pub(super) fn carries_message(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::MessageCreated
            | EventKind::MessageEdited
            | EventKind::MessageDeleted
            | EventKind::MessagePinned
            | EventKind::MessageUnpinned
    )
}

pub(super) fn events(
    c: &Connection,
    room: RoomId,
    after: i64,
    limit: u32,
) -> StoreResult<EventPage> {
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
        .filter(|e| carries_message(e.kind))
        .filter_map(|e| e.message_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if !ids.is_empty() {
        let messages: HashMap<MessageId, _> = load::messages_by_ids(c, &ids)?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        for ev in events.iter_mut().filter(|e| carries_message(e.kind)) {
            ev.message = ev.message_id.and_then(|id| messages.get(&id).cloned());
        }
    }
    Ok(EventPage { events, has_more })
}
