//! `Retention` for SQLite: one writer job per batch purges messages and leaves tombstones.

use super::SqliteStore;
use super::history::insert_event;
use super::load;
use super::media::{MEDIA_COLS, media_row};
use crate::conn::map_err;
use crate::rows::{from_ts, ts};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use justus_core::event::{EventKind, RoomEvent};
use justus_core::media::Media;
use justus_core::store::{Purged, Retention, due_prefix};
use justus_core::{MediaId, MessageId, RoomId, StoreResult, UserId};
use rusqlite::{Connection, params};
use uuid::Uuid;

/// Messages due (id, seq, still live), and whether more may be due after them.
type Due = (Vec<(MessageId, i64, bool)>, bool);

/// The next `limit` messages of `room` after its purge mark that were created before `cutoff`
/// (oldest first; stops at the first newer one), with whether each is still live; and whether
/// more may be due.
fn due(c: &Connection, room: RoomId, cutoff: DateTime<Utc>, limit: u32) -> StoreResult<Due> {
    // One row past the limit says whether more are due (`due_prefix`).
    let rows: Vec<((MessageId, i64, bool), i64)> = c
        .prepare_cached(
            "SELECT m.id, m.seq, m.created_at, m.deleted_at IS NULL FROM messages m \
             JOIN rooms r ON r.id = m.room_id \
             WHERE m.room_id = ?1 AND m.seq > r.purged_seq ORDER BY m.seq LIMIT ?2",
        )
        .and_then(|mut st| {
            st.query_map(params![room.0, i64::from(limit) + 1], |r| {
                Ok(((MessageId(r.get(0)?), r.get(1)?, r.get(3)?), r.get(2)?))
            })?
            .collect()
        })
        .map_err(map_err)?;
    Ok(due_prefix(
        rows.into_iter()
            .map(|(row, created)| (row, from_ts(created))),
        cutoff,
        limit,
    ))
}

/// Records a tombstone event without moving the room's activity time (a purge is not news).
fn tombstone(
    c: &Connection,
    room: RoomId,
    id: MessageId,
    now: DateTime<Utc>,
) -> StoreResult<RoomEvent> {
    let seq: i64 = c
        .prepare_cached("UPDATE rooms SET last_seq = last_seq + 1 WHERE id = ?1 RETURNING last_seq")
        .and_then(|mut st| st.query_row([room.0], |r| r.get(0)))
        .map_err(map_err)?;
    let mut ev = RoomEvent::new(room, seq, EventKind::MessageDeleted, UserId::SERVER, now);
    ev.message_id = Some(id);
    insert_event(c, &ev)?;
    Ok(ev)
}

fn purge(
    c: &Connection,
    room: RoomId,
    cutoff: DateTime<Utc>,
    limit: u32,
    now: DateTime<Utc>,
) -> StoreResult<Purged> {
    let (due, more) = due(c, room, cutoff, limit)?;
    let Some(&(_, last_seq, _)) = due.last() else {
        return Ok(Purged::default());
    };
    let mut media: Vec<MediaId> = Vec::new();
    let mut events = Vec::new();
    for &(id, _, live) in &due {
        let mut st = c
            .prepare_cached("SELECT media_id FROM message_attachments WHERE message_id = ?1")
            .map_err(map_err)?;
        let ids = st
            .query_map([id.0], |r| r.get::<_, Uuid>(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(map_err)?;
        media.extend(ids.into_iter().map(MediaId));
        c.prepare_cached(
            "UPDATE messages SET body = '', deleted_at = COALESCE(deleted_at, ?2), reply_to = NULL, \
             pinned_at = NULL, mentions_room = 0 WHERE id = ?1",
        )
        .and_then(|mut st| st.execute(params![id.0, ts(now)]))
        .map_err(map_err)?;
        for sql in [
            "DELETE FROM message_reactions WHERE message_id = ?1",
            "DELETE FROM message_mentions WHERE message_id = ?1",
            "DELETE FROM message_edits WHERE message_id = ?1",
            "DELETE FROM message_attachments WHERE message_id = ?1",
            "DELETE FROM ai_translations WHERE message_id = ?1",
            // Reports keep who reported what, not the purged text.
            "UPDATE reports SET excerpt = '' WHERE message_id = ?1",
        ] {
            c.prepare_cached(sql)
                .and_then(|mut st| st.execute([id.0]))
                .map_err(map_err)?;
        }
        if live {
            let mut ev = tombstone(c, room, id, now)?;
            ev.message = Some(load::message(c, room, id)?);
            events.push(ev);
        }
    }
    c.prepare_cached("UPDATE rooms SET purged_seq = ?2 WHERE id = ?1")
        .and_then(|mut st| st.execute(params![room.0, last_seq]))
        .map_err(map_err)?;
    media.sort();
    media.dedup();
    let mut orphaned = Vec::new();
    for id in media {
        // Still carried by a kept message, or someone's (or a room's) picture: stays.
        let gone: Option<Media> = c
            .prepare_cached(&format!(
                // RETURNING names the deleted table's columns unqualified.
                "DELETE FROM media WHERE id = ?1 \
                 AND NOT EXISTS (SELECT 1 FROM message_attachments a WHERE a.media_id = media.id) \
                 AND NOT EXISTS (SELECT 1 FROM users u WHERE u.avatar = media.id) \
                 AND NOT EXISTS (SELECT 1 FROM rooms r WHERE r.avatar = media.id) \
                 RETURNING {}",
                MEDIA_COLS.replace("md.", "")
            ))
            .and_then(|mut st| st.query_row([id.0], media_row))
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })
            .map_err(map_err)?;
        orphaned.extend(gone);
    }
    super::audit::insert(
        c,
        &justus_core::audit::purged(room, due.len() as u64, last_seq, now),
    )?;
    Ok(Purged {
        messages: due.len() as u64,
        events,
        orphaned_media: orphaned,
        more,
    })
}

#[async_trait]
impl Retention for SqliteStore {
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "retention_rooms", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "retention_rooms"))]
    async fn retention_rooms(&self, instance_days: u32) -> StoreResult<Vec<(RoomId, Option<i32>)>> {
        self.threads
            .read(move |c| {
                c.prepare_cached(
                    "SELECT id, retention_days FROM rooms WHERE deleted_at IS NULL \
                     AND (retention_days IS NOT NULL OR ?1 > 0) ORDER BY id",
                )
                .and_then(|mut st| {
                    st.query_map([instance_days], |r| Ok((RoomId(r.get(0)?), r.get(1)?)))?
                        .collect()
                })
                .map_err(map_err)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "purge_room", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "purge_room"))]
    async fn purge_room(
        &self,
        room: RoomId,
        cutoff: DateTime<Utc>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<Purged> {
        self.threads
            .write(move |c| purge(c, room, cutoff, limit, now))
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "purgeable", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "purgeable"))]
    async fn purgeable(&self, room: RoomId, cutoff: DateTime<Utc>, limit: u32) -> StoreResult<u64> {
        self.threads
            .read(move |c| Ok(due(c, room, cutoff, limit)?.0.len() as u64))
            .await
    }
}
