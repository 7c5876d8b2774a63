//! Avatars of users and rooms (a reference to a media record).

use super::accounts::user_by_id;
use super::history::record;
use super::rooms::room;
use crate::conn::map_err;
use crate::rows::ts;
use chrono::{DateTime, Utc};
use justus_core::event::{EventKind, RoomChanges, RoomEvent};
use justus_core::room::Room;
use justus_core::user::User;
use justus_core::{MediaId, RoomId, StoreError, StoreResult, UserId};
use rusqlite::{Connection, params};

pub(super) fn set_user_avatar(
    c: &Connection,
    user: UserId,
    avatar: Option<MediaId>,
    now: DateTime<Utc>,
) -> StoreResult<User> {
    let n = c
        .prepare_cached("UPDATE users SET avatar = ?2, updated_at = ?3 WHERE id = ?1")
        .and_then(|mut st| st.execute(params![user.0, avatar.map(|a| a.0), ts(now)]))
        .map_err(map_err)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    user_by_id(c, user)
}

pub(super) fn set_room_avatar(
    c: &Connection,
    id: RoomId,
    avatar: Option<MediaId>,
    actor: UserId,
    now: DateTime<Utc>,
) -> StoreResult<(Room, RoomEvent)> {
    // A deleted room is `NotFound` before any seq is spent.
    room(c, id)?;
    let ev = record(c, id, EventKind::RoomUpdated, actor, now, |e| {
        e.changes = Some(RoomChanges {
            avatar: Some(avatar),
            ..RoomChanges::default()
        });
    })?;
    c.prepare_cached("UPDATE rooms SET avatar = ?2 WHERE id = ?1")
        .and_then(|mut st| st.execute(params![id.0, avatar.map(|a| a.0)]))
        .map_err(map_err)?;
    Ok((room(c, id)?, ev))
}
