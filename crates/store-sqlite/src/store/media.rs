//! Media records, message attachments, the visibility rule for uploads, and avatars (a
//! reference to a media record).

use super::SqliteStore;
use super::accounts::user_by_id;
use crate::conn::map_err;
use crate::rows::{from_ts, ts};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use justus_core::media::{Attachment, Media, MediaKind};
use justus_core::message::{Message, NewMessage};
use justus_core::store::MediaRecords;
use justus_core::user::User;
use justus_core::{MediaId, MessageId, StoreError, StoreResult, UserId};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::collections::HashMap;
use std::rc::Rc;

pub(super) const MEDIA_COLS: &str = "md.id, md.owner_id, md.kind, md.mime, md.size, md.name, md.width, md.height, \
     md.duration_ms, md.blurhash, md.has_thumbs, md.created_at, md.attached_at";

pub(super) fn media_row(r: &Row<'_>) -> rusqlite::Result<Media> {
    let kind: String = r.get(2)?;
    Ok(Media {
        id: MediaId(r.get(0)?),
        owner_id: UserId(r.get(1)?),
        kind: MediaKind::parse(&kind).unwrap_or(MediaKind::File),
        mime: r.get(3)?,
        size: r.get(4)?,
        name: r.get(5)?,
        width: r.get(6)?,
        height: r.get(7)?,
        duration_ms: r.get(8)?,
        blurhash: r.get(9)?,
        has_thumbs: r.get(10)?,
        created_at: from_ts(r.get(11)?),
        attached_at: r.get::<_, Option<i64>>(12)?.map(from_ts),
    })
}

fn id_array(ids: impl Iterator<Item = uuid::Uuid>) -> Rc<Vec<Value>> {
    Rc::new(ids.map(|id| Value::Blob(id.as_bytes().to_vec())).collect())
}

fn mark_attached(c: &Connection, id: MediaId, now: DateTime<Utc>) -> StoreResult<()> {
    let n = c
        .prepare_cached("UPDATE media SET attached_at = COALESCE(attached_at, ?2) WHERE id = ?1")
        .and_then(|mut st| st.execute(params![id.0, ts(now)]))
        .map_err(map_err)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

#[async_trait]
impl MediaRecords for SqliteStore {
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "create_media", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "create_media"))]
    async fn create_media(&self, m: &Media) -> StoreResult<()> {
        let m = m.clone();
        self.threads
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO media (id, owner_id, kind, mime, size, name, width, height, duration_ms, \
                     blurhash, has_thumbs, created_at, attached_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        m.id.0,
                        m.owner_id.0,
                        m.kind.as_str(),
                        m.mime,
                        m.size,
                        m.name,
                        m.width,
                        m.height,
                        m.duration_ms,
                        m.blurhash,
                        m.has_thumbs,
                        ts(m.created_at),
                        m.attached_at.map(ts),
                    ])
                })
                .map_err(|e| match map_err(e) {
                    StoreError::Other(msg) if msg.contains("media.id") => StoreError::Conflict("media"),
                    other => other,
                })?;
                Ok(())
            })
            .await
    }

    /// One statement, run by the single writer: the usage it sums cannot change before the
    /// insert.
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "create_media_within_quota", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "create_media_within_quota"))]
    async fn create_media_within_quota(&self, m: &Media, quota: i64) -> StoreResult<()> {
        let m = m.clone();
        self.threads
            .write(move |c| {
                let inserted = c
                    .prepare_cached(
                        "INSERT INTO media (id, owner_id, kind, mime, size, name, width, height, duration_ms, \
                         blurhash, has_thumbs, created_at, attached_at) \
                         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13 \
                         WHERE (SELECT COALESCE(SUM(size), 0) FROM media WHERE owner_id = ?2) + ?5 <= ?14",
                    )
                    .and_then(|mut st| {
                        st.execute(params![
                            m.id.0,
                            m.owner_id.0,
                            m.kind.as_str(),
                            m.mime,
                            m.size,
                            m.name,
                            m.width,
                            m.height,
                            m.duration_ms,
                            m.blurhash,
                            m.has_thumbs,
                            ts(m.created_at),
                            m.attached_at.map(ts),
                            quota,
                        ])
                    })
                    .map_err(|e| match map_err(e) {
                        StoreError::Other(msg) if msg.contains("media.id") => {
                            StoreError::Conflict("media")
                        }
                        other => other,
                    })?;
                if inserted == 0 {
                    return Err(StoreError::Conflict("media_quota"));
                }
                Ok(())
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "media", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "media"))]
    async fn media(&self, id: MediaId) -> StoreResult<Media> {
        self.threads
            .read(move |c| {
                c.prepare_cached(&format!(
                    "SELECT {MEDIA_COLS} FROM media md WHERE md.id = ?1"
                ))
                .and_then(|mut st| st.query_row([id.0], media_row).optional())
                .map_err(map_err)?
                .ok_or(StoreError::NotFound)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "media_owned_by", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "media_owned_by"))]
    async fn media_owned_by(&self, owner: UserId, ids: &[MediaId]) -> StoreResult<Vec<Media>> {
        let ids = ids.to_vec();
        self.threads
            .read(move |c| {
                let mut st = c
                    .prepare_cached(&format!(
                        "SELECT {MEDIA_COLS} FROM media md WHERE md.owner_id = ?1 AND md.id IN rarray(?2)"
                    ))
                    .map_err(map_err)?;
                st.query_map(
                    params![owner.0, id_array(ids.iter().map(|m| m.0))],
                    media_row,
                )
                .and_then(|rows| rows.collect())
                .map_err(map_err)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "media_usage", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "media_usage"))]
    async fn media_usage(&self, owner: UserId) -> StoreResult<i64> {
        self.threads
            .read(move |c| {
                c.prepare_cached("SELECT COALESCE(SUM(size), 0) FROM media WHERE owner_id = ?1")
                    .and_then(|mut st| st.query_row([owner.0], |r| r.get(0)))
                    .map_err(map_err)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "media_visible_to", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "media_visible_to"))]
    async fn media_visible_to(&self, id: MediaId, user: UserId) -> StoreResult<bool> {
        self.threads
            .read(move |c| {
                c.prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM media WHERE id = ?1 AND owner_id = ?2) \
                     OR EXISTS (SELECT 1 FROM message_attachments a \
                         JOIN room_members rm ON rm.room_id = a.room_id AND rm.user_id = ?2 \
                         JOIN rooms r ON r.id = a.room_id AND r.deleted_at IS NULL \
                         JOIN messages m ON m.id = a.message_id AND m.deleted_at IS NULL \
                         WHERE a.media_id = ?1)",
                )
                .and_then(|mut st| st.query_row(params![id.0, user.0], |r| r.get(0)))
                .map_err(map_err)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "mark_media_attached", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "mark_media_attached"))]
    async fn mark_media_attached(&self, id: MediaId, now: DateTime<Utc>) -> StoreResult<()> {
        self.threads.write(move |c| mark_attached(c, id, now)).await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "unattached_media", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "unattached_media"))]
    async fn unattached_media(&self, cutoff: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Media>> {
        self.threads
            .read(move |c| {
                let mut st = c
                    .prepare_cached(&format!(
                        "SELECT {MEDIA_COLS} FROM media md WHERE md.attached_at IS NULL AND md.created_at < ?1 \
                         ORDER BY md.created_at LIMIT ?2"
                    ))
                    .map_err(map_err)?;
                st.query_map(params![ts(cutoff), limit], media_row)
                    .and_then(|rows| rows.collect())
                    .map_err(map_err)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "delete_unattached_media", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "delete_unattached_media"))]
    async fn delete_unattached_media(&self, id: MediaId) -> StoreResult<bool> {
        self.threads
            .write(move |c| {
                // An attachment row may exist only with attached_at set (same transaction), so
                // checking attached_at is enough.
                let n = c
                    .prepare_cached("DELETE FROM media WHERE id = ?1 AND attached_at IS NULL")
                    .and_then(|mut st| st.execute([id.0]))
                    .map_err(map_err)?;
                Ok(n == 1)
            })
            .await
    }

    // --- avatars -----------------------------------------------------------------------------

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "set_user_avatar", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "set_user_avatar"))]
    async fn set_user_avatar(
        &self,
        user: UserId,
        avatar: Option<MediaId>,
        now: DateTime<Utc>,
    ) -> StoreResult<User> {
        self.threads
            .write(move |c| {
                let n = c
                    .prepare_cached("UPDATE users SET avatar = ?2, updated_at = ?3 WHERE id = ?1")
                    .and_then(|mut st| st.execute(params![user.0, avatar.map(|a| a.0), ts(now)]))
                    .map_err(map_err)?;
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
                user_by_id(c, user)
            })
            .await
    }
}

/// Links a new message's attachments and marks them used (inside `send_message`'s job).
pub(super) fn insert_attachments(c: &Connection, new: &NewMessage) -> StoreResult<()> {
    for (pos, a) in new.attachments.iter().enumerate() {
        c.prepare_cached(
            "INSERT INTO message_attachments (message_id, position, media_id, room_id) \
             VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut st| st.execute(params![new.id.0, pos as i64, a.id.0, new.room_id.0]))
        .map_err(map_err)?;
        mark_attached(c, a.id, new.now)?;
    }
    Ok(())
}

/// Fills `attachments` of live messages, one query for the batch.
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
    let mut st = c
        .prepare_cached(&format!(
            "SELECT a.message_id, {MEDIA_COLS} FROM message_attachments a \
             JOIN media md ON md.id = a.media_id \
             WHERE a.message_id IN rarray(?1) ORDER BY a.message_id, a.position"
        ))
        .map_err(map_err)?;
    let rows: Vec<(MessageId, Attachment)> = st
        .query_map([id_array(index.keys().map(|m| m.0))], |r| {
            let message = MessageId(r.get(0)?);
            // The media columns start after the message id.
            let kind: String = r.get(3)?;
            Ok((
                message,
                Attachment {
                    id: MediaId(r.get(1)?),
                    kind: MediaKind::parse(&kind).unwrap_or(MediaKind::File),
                    mime: r.get(4)?,
                    size: r.get(5)?,
                    name: r.get(6)?,
                    width: r.get(7)?,
                    height: r.get(8)?,
                    duration_ms: r.get(9)?,
                    blurhash: r.get(10)?,
                },
            ))
        })
        .and_then(|rows| rows.collect())
        .map_err(map_err)?;
    for (message, attachment) in rows {
        if let Some(&i) = index.get(&message) {
            messages[i].attachments.push(attachment);
        }
    }
    Ok(())
}
