//! Media records, message attachments, the visibility rule for uploads, and avatars (a
//! reference to a media record).

use crate::PgStore;
use crate::errors::MapErr;
use crate::rows::UserRow;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use justus_core::media::{Attachment, Media, MediaKind};
use justus_core::message::NewMessage;
use justus_core::store::MediaRecords;
use justus_core::user::User;
use justus_core::{MediaId, StoreError, StoreResult, UserId};
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

pub(crate) const MEDIA_COLS: &str = "md.id, md.owner_id, md.kind, md.mime, md.size, md.name, md.width, md.height, \
     md.duration_ms, md.blurhash, md.has_thumbs, md.created_at, md.attached_at";

#[derive(sqlx::FromRow)]
pub(crate) struct MediaRow {
    id: Uuid,
    owner_id: Uuid,
    kind: String,
    mime: String,
    size: i64,
    name: String,
    width: Option<i32>,
    height: Option<i32>,
    duration_ms: Option<i64>,
    blurhash: Option<String>,
    has_thumbs: bool,
    created_at: DateTime<Utc>,
    attached_at: Option<DateTime<Utc>>,
}

impl From<MediaRow> for Media {
    fn from(r: MediaRow) -> Self {
        Media {
            id: MediaId(r.id),
            owner_id: UserId(r.owner_id),
            kind: MediaKind::parse(&r.kind).unwrap_or(MediaKind::File),
            mime: r.mime,
            size: r.size,
            name: r.name,
            width: r.width,
            height: r.height,
            duration_ms: r.duration_ms,
            blurhash: r.blurhash,
            has_thumbs: r.has_thumbs,
            created_at: r.created_at,
            attached_at: r.attached_at,
        }
    }
}

async fn mark_attached(
    conn: &mut PgConnection,
    id: MediaId,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let done =
        sqlx::query("UPDATE media SET attached_at = COALESCE(attached_at, $2) WHERE id = $1")
            .bind(id.as_uuid())
            .bind(now)
            .execute(conn)
            .await
            .store()?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Links a new message's attachments and marks them used (inside `send_message`'s transaction).
pub(crate) async fn insert_attachments(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    new: &NewMessage,
) -> StoreResult<()> {
    for (pos, a) in new.attachments.iter().enumerate() {
        sqlx::query(
            "INSERT INTO message_attachments (message_id, position, media_id, room_id) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(new.id.as_uuid())
        .bind(pos as i32)
        .bind(a.id.as_uuid())
        .bind(new.room_id.as_uuid())
        .execute(&mut **tx)
        .await
        .store()?;
        mark_attached(tx, a.id, new.now).await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct AttachmentRow {
    message_id: Uuid,
    #[sqlx(flatten)]
    media: MediaRow,
}

/// Attachments of the messages `ids`, in position order, one query for the batch.
pub(crate) async fn attachments_of(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> StoreResult<HashMap<Uuid, Vec<Attachment>>> {
    let mut out: HashMap<Uuid, Vec<Attachment>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let rows: Vec<AttachmentRow> = sqlx::query_as(&format!(
        "SELECT a.message_id, {MEDIA_COLS} FROM message_attachments a \
         JOIN media md ON md.id = a.media_id \
         WHERE a.message_id = ANY($1) ORDER BY a.message_id, a.position"
    ))
    .bind(ids)
    .fetch_all(conn)
    .await
    .store()?;
    for r in rows {
        out.entry(r.message_id)
            .or_default()
            .push(Media::from(r.media).attachment());
    }
    Ok(out)
}

#[async_trait]
impl MediaRecords for PgStore {
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "create_media", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "create_media"))]
    async fn create_media(&self, m: &Media) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO media (id, owner_id, kind, mime, size, name, width, height, duration_ms, \
             blurhash, has_thumbs, created_at, attached_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(m.id.as_uuid())
        .bind(m.owner_id.as_uuid())
        .bind(m.kind.as_str())
        .bind(&m.mime)
        .bind(m.size)
        .bind(&m.name)
        .bind(m.width)
        .bind(m.height)
        .bind(m.duration_ms)
        .bind(&m.blurhash)
        .bind(m.has_thumbs)
        .bind(m.created_at)
        .bind(m.attached_at)
        .execute(&self.pool)
        .await
        .store()?;
        Ok(())
    }

    /// The owner's row is locked first, so the owner's quota-checked inserts run one at a time;
    /// under READ COMMITTED the sum, a statement after the lock, then sees every upload committed
    /// before it. (`FOR NO KEY UPDATE` leaves the row's key shares to others: their inserts that
    /// refer to the user are not blocked.)
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "create_media_within_quota", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "create_media_within_quota"))]
    async fn create_media_within_quota(&self, m: &Media, quota: i64) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.store()?;
        let owner: Option<Uuid> =
            sqlx::query_scalar("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE")
                .bind(m.owner_id.as_uuid())
                .fetch_optional(&mut *tx)
                .await
                .store()?;
        if owner.is_none() {
            return Err(StoreError::NotFound);
        }
        let inserted = sqlx::query(
            "INSERT INTO media (id, owner_id, kind, mime, size, name, width, height, duration_ms, \
             blurhash, has_thumbs, created_at, attached_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 \
             WHERE (SELECT COALESCE(SUM(size), 0) FROM media WHERE owner_id = $2) + $5 <= $14",
        )
        .bind(m.id.as_uuid())
        .bind(m.owner_id.as_uuid())
        .bind(m.kind.as_str())
        .bind(&m.mime)
        .bind(m.size)
        .bind(&m.name)
        .bind(m.width)
        .bind(m.height)
        .bind(m.duration_ms)
        .bind(&m.blurhash)
        .bind(m.has_thumbs)
        .bind(m.created_at)
        .bind(m.attached_at)
        .bind(quota)
        .execute(&mut *tx)
        .await
        .store()?
        .rows_affected();
        if inserted == 0 {
            return Err(StoreError::Conflict("media_quota"));
        }
        tx.commit().await.store()?;
        Ok(())
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "media", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "media"))]
    async fn media(&self, id: MediaId) -> StoreResult<Media> {
        let row: Option<MediaRow> = sqlx::query_as(&format!(
            "SELECT {MEDIA_COLS} FROM media md WHERE md.id = $1"
        ))
        .bind(id.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .store()?;
        row.map(Media::from).ok_or(StoreError::NotFound)
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "media_owned_by", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "media_owned_by"))]
    async fn media_owned_by(&self, owner: UserId, ids: &[MediaId]) -> StoreResult<Vec<Media>> {
        let ids: Vec<Uuid> = ids.iter().map(|m| m.as_uuid()).collect();
        let rows: Vec<MediaRow> = sqlx::query_as(&format!(
            "SELECT {MEDIA_COLS} FROM media md WHERE md.owner_id = $1 AND md.id = ANY($2)"
        ))
        .bind(owner.as_uuid())
        .bind(&ids)
        .fetch_all(&self.pool)
        .await
        .store()?;
        Ok(rows.into_iter().map(Media::from).collect())
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "media_usage", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "media_usage"))]
    async fn media_usage(&self, owner: UserId) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COALESCE(SUM(size), 0)::bigint FROM media WHERE owner_id = $1")
            .bind(owner.as_uuid())
            .fetch_one(&self.pool)
            .await
            .store()
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "media_visible_to", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "media_visible_to"))]
    async fn media_visible_to(&self, id: MediaId, user: UserId) -> StoreResult<bool> {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM media WHERE id = $1 AND owner_id = $2) \
             OR EXISTS (SELECT 1 FROM message_attachments a \
                 JOIN room_members rm ON rm.room_id = a.room_id AND rm.user_id = $2 \
                 JOIN rooms r ON r.id = a.room_id AND r.deleted_at IS NULL \
                 JOIN messages m ON m.id = a.message_id AND m.deleted_at IS NULL \
                 WHERE a.media_id = $1)",
        )
        .bind(id.as_uuid())
        .bind(user.as_uuid())
        .fetch_one(&self.pool)
        .await
        .store()
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "mark_media_attached", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "mark_media_attached"))]
    async fn mark_media_attached(&self, id: MediaId, now: DateTime<Utc>) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.store()?;
        mark_attached(&mut conn, id, now).await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "unattached_media", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "unattached_media"))]
    async fn unattached_media(&self, cutoff: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Media>> {
        let rows: Vec<MediaRow> = sqlx::query_as(&format!(
            "SELECT {MEDIA_COLS} FROM media md WHERE md.attached_at IS NULL AND md.created_at < $1 \
             ORDER BY md.created_at LIMIT $2"
        ))
        .bind(cutoff)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .store()?;
        Ok(rows.into_iter().map(Media::from).collect())
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "delete_unattached_media", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "delete_unattached_media"))]
    async fn delete_unattached_media(&self, id: MediaId) -> StoreResult<bool> {
        // Attachment rows exist only with attached_at set (same transaction): checking it suffices.
        let done = sqlx::query("DELETE FROM media WHERE id = $1 AND attached_at IS NULL")
            .bind(id.as_uuid())
            .execute(&self.pool)
            .await
            .store()?;
        Ok(done.rows_affected() == 1)
    }

    // --- avatars -----------------------------------------------------------------------------

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "set_user_avatar", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "set_user_avatar"))]
    async fn set_user_avatar(
        &self,
        user: UserId,
        avatar: Option<MediaId>,
        now: DateTime<Utc>,
    ) -> StoreResult<User> {
        let row: Option<UserRow> = sqlx::query_as(concat!(
            "UPDATE users AS u SET avatar = $2, updated_at = $3 WHERE u.id = $1 RETURNING ",
            user_columns!()
        ))
        .bind(user.as_uuid())
        .bind(avatar.map(|a| a.0))
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .store()?;
        Ok(row.ok_or(StoreError::NotFound)?.into())
    }
}
