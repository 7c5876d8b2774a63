//! Loading messages with their reactions and mentions, batched: one query per kind of detail
//! for a whole page, whatever its size (the ids are bound as one `rarray`).

use crate::conn::map_err;
use crate::rows::{self, MESSAGE_COLS};
use justus_core::message::{Message, Reaction};
use justus_core::{MessageId, RoomId, StoreError, StoreResult, UserId};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Params, params};
use std::collections::HashMap;
use std::rc::Rc;

/// Users listed per reaction group.
const REACTION_USERS: usize = 20;

fn id_array(ids: impl Iterator<Item = MessageId>) -> Rc<Vec<Value>> {
    Rc::new(
        ids.map(|id| Value::Blob(id.0.as_bytes().to_vec()))
            .collect(),
    )
}

/// Runs a `SELECT {MESSAGE_COLS} FROM messages m …` query and completes its rows.
pub(super) fn query(c: &Connection, sql: &str, p: impl Params) -> StoreResult<Vec<Message>> {
    let mut st = c.prepare_cached(sql).map_err(map_err)?;
    let mut messages: Vec<Message> = st
        .query_map(p, rows::message)
        .and_then(|rows| rows.collect())
        .map_err(map_err)?;
    fill(c, &mut messages)?;
    Ok(messages)
}

/// A message of `room`; `NotFound` if it does not exist there.
pub(super) fn message(c: &Connection, room: RoomId, id: MessageId) -> StoreResult<Message> {
    let mut st = c
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLS} FROM messages m WHERE m.id = ?1 AND m.room_id = ?2"
        ))
        .map_err(map_err)?;
    let mut m = st
        .query_row(params![id.0, room.0], rows::message)
        .optional()
        .map_err(map_err)?
        .ok_or(StoreError::NotFound)?;
    fill(c, std::slice::from_mut(&mut m))?;
    Ok(m)
}

/// Messages by id, in no particular order; unknown ids are skipped.
pub(super) fn messages_by_ids(c: &Connection, ids: &[MessageId]) -> StoreResult<Vec<Message>> {
    query(
        c,
        &format!("SELECT {MESSAGE_COLS} FROM messages m WHERE m.id IN rarray(?1)"),
        [id_array(ids.iter().copied())],
    )
}

/// Fills `reactions` and `mentions` of live messages (tombstones have none).
pub(super) fn fill(c: &Connection, messages: &mut [Message]) -> StoreResult<()> {
    let index: HashMap<MessageId, usize> = messages
        .iter()
        .enumerate()
        .filter(|(_, m)| m.deleted_at.is_none())
        .map(|(i, m)| (m.id, i))
        .collect();
    if index.is_empty() {
        return Ok(());
    }
    let ids = id_array(index.keys().copied());

    let mut st = c
        .prepare_cached(
            "SELECT message_id, emoji, user_id FROM message_reactions \
             WHERE message_id IN rarray(?1) ORDER BY message_id, created_at, rowid",
        )
        .map_err(map_err)?;
    let mut rows = st.query([Rc::clone(&ids)]).map_err(map_err)?;
    while let Some(r) = rows.next().map_err(map_err)? {
        let id = MessageId(r.get(0).map_err(map_err)?);
        let emoji: String = r.get(1).map_err(map_err)?;
        let user = UserId(r.get(2).map_err(map_err)?);
        let Some(&i) = index.get(&id) else { continue };
        let reactions = &mut messages[i].reactions;
        // Groups appear in order of their first reaction, since rows come oldest first.
        let group = match reactions.iter().position(|g| g.emoji == emoji) {
            Some(g) => &mut reactions[g],
            None => {
                reactions.push(Reaction {
                    emoji,
                    count: 0,
                    users: Vec::new(),
                });
                let last = reactions.len() - 1;
                &mut reactions[last]
            }
        };
        group.count += 1;
        if group.users.len() < REACTION_USERS {
            group.users.push(user);
        }
    }

    let mut st = c
        .prepare_cached(
            "SELECT message_id, user_id FROM message_mentions \
             WHERE message_id IN rarray(?1) ORDER BY message_id, user_id",
        )
        .map_err(map_err)?;
    let mut rows = st.query([ids]).map_err(map_err)?;
    while let Some(r) = rows.next().map_err(map_err)? {
        let id = MessageId(r.get(0).map_err(map_err)?);
        if let Some(&i) = index.get(&id) {
            messages[i]
                .mentions
                .push(UserId(r.get(1).map_err(map_err)?));
        }
    }
    super::media::fill(c, messages)
}
