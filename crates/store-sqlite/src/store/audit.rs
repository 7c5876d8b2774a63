//! The audit log: entries are inserted by the writer jobs of the actions they record
//! ([`insert`]); the table's triggers refuse any change to them.

use super::SqliteStore;
use crate::conn::map_err;
use crate::rows::{from_ts, ts};
use async_trait::async_trait;
use justus_core::audit::{AuditAction, AuditEntry, AuditId};
use justus_core::store::Audit;
use justus_core::{MessageId, RoomId, StoreError, StoreResult, UserId};
use rusqlite::{Connection, Row, params};
use uuid::Uuid;

/// Appends `entry`, inside the caller's writer job.
pub(super) fn insert(c: &Connection, entry: &AuditEntry) -> StoreResult<()> {
    let details = entry.details.as_ref().map(|d| d.to_string());
    c.prepare_cached(
        "INSERT INTO audit_log (id, room_id, actor_id, action, target_user_id, target_message_id, \
         reason, details, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .and_then(|mut st| {
        st.execute(params![
            entry.id.0,
            entry.room_id.map(|r| r.0),
            entry.actor_id.0,
            entry.action.as_str(),
            entry.target_user_id.map(|u| u.0),
            entry.target_message_id.map(|m| m.0),
            entry.reason,
            details,
            ts(entry.created_at),
        ])
    })
    .map(drop)
    .map_err(map_err)
}

fn entry(r: &Row<'_>) -> rusqlite::Result<(AuditEntry, String, Option<String>)> {
    let action: String = r.get(3)?;
    let details: Option<String> = r.get(7)?;
    Ok((
        AuditEntry {
            id: AuditId(r.get(0)?),
            room_id: r.get::<_, Option<Uuid>>(1)?.map(RoomId),
            actor_id: UserId(r.get(2)?),
            // Filled below, where a bad value can be reported as a store error.
            action: AuditAction::MemberKicked,
            target_user_id: r.get::<_, Option<Uuid>>(4)?.map(UserId),
            target_message_id: r.get::<_, Option<Uuid>>(5)?.map(MessageId),
            reason: r.get(6)?,
            details: None,
            created_at: from_ts(r.get(8)?),
        },
        action,
        details,
    ))
}

#[async_trait]
impl Audit for SqliteStore {
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "audit_log", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "audit_log"))]
    async fn audit_log(
        &self,
        room: Option<RoomId>,
        before: Option<AuditId>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        self.threads
            .read(move |c| {
                let mut st = c
                    .prepare_cached(
                        "SELECT id, room_id, actor_id, action, target_user_id, target_message_id, \
                         reason, details, created_at FROM audit_log \
                         WHERE (?1 IS NULL OR room_id = ?1) AND (?2 IS NULL OR id < ?2) \
                         ORDER BY id DESC LIMIT ?3",
                    )
                    .map_err(map_err)?;
                let rows = st
                    .query_map(
                        params![room.map(|r| r.0), before.map(|b| b.0), limit],
                        entry,
                    )
                    .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                    .map_err(map_err)?;
                rows.into_iter()
                    .map(|(mut e, action, details)| {
                        e.action = AuditAction::parse(&action).ok_or_else(|| {
                            StoreError::Other(format!(
                                "stored audit action {action:?} is not valid"
                            ))
                        })?;
                        e.details = details
                            .map(|d| serde_json::from_str(&d))
                            .transpose()
                            .map_err(|e| StoreError::Other(format!("stored audit details: {e}")))?;
                        Ok(e)
                    })
                    .collect()
            })
            .await
    }
}
