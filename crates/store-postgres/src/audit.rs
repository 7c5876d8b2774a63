//! The audit log: entries are inserted inside the transactions of the actions they record
//! ([`insert`]); the table's triggers refuse any change to them.

use crate::PgStore;
use crate::errors::MapErr;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use justus_core::audit::{AuditAction, AuditEntry, AuditId};
use justus_core::store::Audit;
use justus_core::{MessageId, RoomId, StoreError, StoreResult, UserId};
use sqlx::PgConnection;
use uuid::Uuid;

/// Appends `entry`, inside the caller's transaction.
pub(crate) async fn insert(conn: &mut PgConnection, entry: &AuditEntry) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, room_id, actor_id, action, target_user_id, target_message_id, \
         reason, details, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)",
    )
    .bind(entry.id.as_uuid())
    .bind(entry.room_id.map(|r| r.as_uuid()))
    .bind(entry.actor_id.as_uuid())
    .bind(entry.action.as_str())
    .bind(entry.target_user_id.map(|u| u.as_uuid()))
    .bind(entry.target_message_id.map(|m| m.as_uuid()))
    .bind(entry.reason.as_deref())
    .bind(entry.details.as_ref().map(|d| d.to_string()))
    .bind(entry.created_at)
    .execute(conn)
    .await
    .store()?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: Uuid,
    room_id: Option<Uuid>,
    actor_id: Uuid,
    action: String,
    target_user_id: Option<Uuid>,
    target_message_id: Option<Uuid>,
    reason: Option<String>,
    details: Option<String>,
    created_at: DateTime<Utc>,
}

impl TryFrom<EntryRow> for AuditEntry {
    type Error = StoreError;
    fn try_from(r: EntryRow) -> Result<Self, StoreError> {
        Ok(AuditEntry {
            id: AuditId(r.id),
            room_id: r.room_id.map(RoomId),
            actor_id: UserId(r.actor_id),
            action: AuditAction::parse(&r.action).ok_or_else(|| {
                StoreError::Other(format!("stored audit action {:?} is not valid", r.action))
            })?,
            target_user_id: r.target_user_id.map(UserId),
            target_message_id: r.target_message_id.map(MessageId),
            reason: r.reason,
            details: r
                .details
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| StoreError::Other(format!("stored audit details: {e}")))?,
            created_at: r.created_at,
        })
    }
}

#[async_trait]
impl Audit for PgStore {
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "audit_log", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "audit_log"))]
    async fn audit_log(
        &self,
        room: Option<RoomId>,
        before: Option<AuditId>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        let rows: Vec<EntryRow> = sqlx::query_as(
            "SELECT id, room_id, actor_id, action, target_user_id, target_message_id, reason, \
             details::text AS details, created_at FROM audit_log \
             WHERE ($1::uuid IS NULL OR room_id = $1) AND ($2::uuid IS NULL OR id < $2) \
             ORDER BY id DESC LIMIT $3",
        )
        .bind(room.map(|r| r.as_uuid()))
        .bind(before.map(|b| b.as_uuid()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .store()?;
        rows.into_iter().map(TryInto::try_into).collect()
    }
}
