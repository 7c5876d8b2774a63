//! `Retention` for PostgreSQL: one transaction per batch purges messages and leaves tombstones.

use crate::PgStore;
use crate::errors::MapErr;
use crate::history::{event, load_messages_by_id, record};
use crate::media::{MEDIA_COLS, MediaRow};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use justus_core::event::EventKind;
use justus_core::store::{Purged, Retention, due_prefix};
use justus_core::{MessageId, RoomId, StoreResult, UserId};
use sqlx::PgConnection;
use uuid::Uuid;

/// Messages due (id, seq, still live), and whether more may be due after them.
type Due = (Vec<(MessageId, i64, bool)>, bool);

/// The next `limit` messages of `room` after its purge mark created before `cutoff` (oldest
/// first; stops at the first newer one), each with whether it is still live; and whether more
/// may be due. `lock` takes the room's row lock first (a purge), serialising it with the
/// room's other history writers.
async fn due(
    conn: &mut PgConnection,
    room: RoomId,
    cutoff: DateTime<Utc>,
    limit: u32,
    lock: bool,
) -> StoreResult<Due> {
    let mark: Option<i64> = sqlx::query_scalar(if lock {
        "SELECT purged_seq FROM rooms WHERE id = $1 AND deleted_at IS NULL FOR UPDATE"
    } else {
        "SELECT purged_seq FROM rooms WHERE id = $1 AND deleted_at IS NULL"
    })
    .bind(room.as_uuid())
    .fetch_optional(&mut *conn)
    .await
    .store()?;
    let Some(mark) = mark else {
        return Ok((Vec::new(), false));
    };
    // One row past the limit says whether more are due (`due_prefix`).
    let rows: Vec<(Uuid, i64, DateTime<Utc>, bool)> = sqlx::query_as(
        "SELECT id, seq, created_at, deleted_at IS NULL FROM messages \
         WHERE room_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(room.as_uuid())
    .bind(mark)
    .bind(i64::from(limit) + 1)
    .fetch_all(&mut *conn)
    .await
    .store()?;
    Ok(due_prefix(
        rows.into_iter()
            .map(|(id, seq, created, live)| ((MessageId(id), seq, live), created)),
        cutoff,
        limit,
    ))
}

#[async_trait]
impl Retention for PgStore {
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "retention_rooms", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "retention_rooms"))]
    async fn retention_rooms(&self, instance_days: u32) -> StoreResult<Vec<(RoomId, Option<i32>)>> {
        let rows: Vec<(Uuid, Option<i32>)> = sqlx::query_as(
            "SELECT id, retention_days FROM rooms WHERE deleted_at IS NULL \
             AND (retention_days IS NOT NULL OR $1 > 0) ORDER BY id",
        )
        .bind(i64::from(instance_days))
        .fetch_all(&self.pool)
        .await
        .store()?;
        Ok(rows.into_iter().map(|(id, d)| (RoomId(id), d)).collect())
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "purge_room", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "purge_room"))]
    async fn purge_room(
        &self,
        room: RoomId,
        cutoff: DateTime<Utc>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<Purged> {
        let mut tx = self.pool.begin().await.store()?;
        let (due, more) = due(&mut tx, room, cutoff, limit, true).await?;
        let Some(&(_, last_seq, _)) = due.last() else {
            tx.commit().await.store()?;
            return Ok(Purged::default());
        };
        let ids: Vec<Uuid> = due.iter().map(|(id, _, _)| id.as_uuid()).collect();
        let media: Vec<Uuid> = sqlx::query_scalar(
            "DELETE FROM message_attachments WHERE message_id = ANY($1) RETURNING media_id",
        )
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await
        .store()?;
        sqlx::query(
            "UPDATE messages SET body = '', deleted_at = COALESCE(deleted_at, $2), reply_to = NULL, \
             pinned_at = NULL, mentions_room = false WHERE id = ANY($1)",
        )
        .bind(&ids)
        .bind(now)
        .execute(&mut *tx)
        .await
        .store()?;
        for table in [
            "message_reactions",
            "message_mentions",
            "message_edits",
            "ai_translations",
        ] {
            sqlx::query(&format!("DELETE FROM {table} WHERE message_id = ANY($1)"))
                .bind(&ids)
                .execute(&mut *tx)
                .await
                .store()?;
        }
        // Reports keep who reported what, not the purged text.
        sqlx::query("UPDATE reports SET excerpt = '' WHERE message_id = ANY($1)")
            .bind(&ids)
            .execute(&mut *tx)
            .await
            .store()?;
        // Tombstones take seqs without moving the room's activity time (a purge is not news).
        let live: Vec<MessageId> = due
            .iter()
            .filter(|(_, _, live)| *live)
            .map(|(id, _, _)| *id)
            .collect();
        let first: i64 = sqlx::query_scalar(
            "UPDATE rooms SET last_seq = last_seq + $2, purged_seq = $3 WHERE id = $1 \
             RETURNING last_seq - $2",
        )
        .bind(room.as_uuid())
        .bind(live.len() as i64)
        .bind(last_seq)
        .fetch_one(&mut *tx)
        .await
        .store()?;
        let mut events = Vec::with_capacity(live.len());
        for (i, id) in live.iter().enumerate() {
            let mut ev = event(
                room,
                first + 1 + i as i64,
                EventKind::MessageDeleted,
                UserId::SERVER,
                now,
            );
            ev.message_id = Some(*id);
            record(&mut tx, &ev).await?;
            events.push(ev);
        }
        // The tombstones the events carry, in one query.
        let live_ids: Vec<Uuid> = live.iter().map(|id| id.as_uuid()).collect();
        let mut tombs = load_messages_by_id(&mut tx, &live_ids).await?;
        for ev in &mut events {
            ev.message = ev.message_id.and_then(|id| tombs.remove(&id.as_uuid()));
        }
        // Uploads still carried by a kept message, or someone's (or a room's) picture, stay.
        let orphaned: Vec<MediaRow> = sqlx::query_as(&format!(
            "DELETE FROM media md WHERE md.id = ANY($1) \
             AND NOT EXISTS (SELECT 1 FROM message_attachments a WHERE a.media_id = md.id) \
             AND NOT EXISTS (SELECT 1 FROM users u WHERE u.avatar = md.id) \
             AND NOT EXISTS (SELECT 1 FROM rooms r WHERE r.avatar = md.id) \
             RETURNING {MEDIA_COLS}"
        ))
        .bind(&media)
        .fetch_all(&mut *tx)
        .await
        .store()?;
        crate::audit::insert(
            &mut tx,
            &justus_core::audit::purged(room, due.len() as u64, last_seq, now),
        )
        .await?;
        tx.commit().await.store()?;
        Ok(Purged {
            messages: due.len() as u64,
            events,
            orphaned_media: orphaned.into_iter().map(Into::into).collect(),
            more,
        })
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "purgeable", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "purgeable"))]
    async fn purgeable(&self, room: RoomId, cutoff: DateTime<Utc>, limit: u32) -> StoreResult<u64> {
        let mut conn = self.pool.acquire().await.store()?;
        Ok(due(&mut conn, room, cutoff, limit, false).await?.0.len() as u64)
    }
}
