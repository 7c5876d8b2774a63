//! Avatars of users and rooms (a reference to a media record).

use crate::errors::MapErr;
use crate::history::{abort, event, record};
use crate::rows::{RoomRow, UserRow};
use chrono::{DateTime, Utc};
use justus_core::event::{EventKind, RoomChanges, RoomEvent};
use justus_core::room::Room;
use justus_core::user::User;
use justus_core::{MediaId, RoomId, StoreError, StoreResult, UserId};
use sqlx::PgPool;

pub(crate) async fn set_user_avatar(
    pool: &PgPool,
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
    .fetch_optional(pool)
    .await
    .store()?;
    Ok(row.ok_or(StoreError::NotFound)?.into())
}

pub(crate) async fn set_room_avatar(
    pool: &PgPool,
    id: RoomId,
    avatar: Option<MediaId>,
    actor: UserId,
    now: DateTime<Utc>,
) -> StoreResult<(Room, RoomEvent)> {
    let mut tx = pool.begin().await.store()?;
    // The row lock of the update also serialises the seq, as in `update_room`.
    let row: Option<RoomRow> = sqlx::query_as(concat!(
        "UPDATE rooms AS r SET avatar = $2, last_seq = r.last_seq + 1, last_activity_at = $3 ",
        "WHERE r.id = $1 AND r.deleted_at IS NULL RETURNING ",
        room_columns!()
    ))
    .bind(id.as_uuid())
    .bind(avatar.map(|a| a.0))
    .bind(now)
    .fetch_optional(&mut *tx)
    .await
    .store()?;
    let Some(row) = row else {
        return abort(tx, StoreError::NotFound).await;
    };
    let room: Room = row.try_into()?;
    let mut ev = event(id, room.last_seq, EventKind::RoomUpdated, actor, now);
    ev.changes = Some(RoomChanges {
        avatar: Some(avatar),
        ..RoomChanges::default()
    });
    record(&mut tx, &ev).await?;
    tx.commit().await.store()?;
    Ok((room, ev))
}
