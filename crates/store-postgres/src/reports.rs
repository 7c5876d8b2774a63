//! Reports: filed, listed by room, by reporter or all, and resolved with their audit entry in
//! one transaction.

use crate::PgStore;
use crate::errors::MapErr;
use crate::history::abort;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use justus_core::report::{Report, ReportStatus};
use justus_core::store::{ReportScope, Reports};
use justus_core::{MessageId, ReportId, RoomId, StoreError, StoreResult, UserId};
use sqlx::PgConnection;
use uuid::Uuid;

const COLS: &str = "id, reporter_id, room_id, message_id, target_user_id, reason, excerpt, status, \
     created_at, resolved_by, resolved_at, resolution_note";

#[derive(sqlx::FromRow)]
struct ReportRow {
    id: Uuid,
    reporter_id: Uuid,
    room_id: Uuid,
    message_id: Option<Uuid>,
    target_user_id: Uuid,
    reason: String,
    excerpt: String,
    status: String,
    created_at: DateTime<Utc>,
    resolved_by: Option<Uuid>,
    resolved_at: Option<DateTime<Utc>>,
    resolution_note: Option<String>,
}

impl TryFrom<ReportRow> for Report {
    type Error = StoreError;
    fn try_from(r: ReportRow) -> Result<Self, StoreError> {
        Ok(Report {
            id: ReportId(r.id),
            reporter_id: UserId(r.reporter_id),
            room_id: RoomId(r.room_id),
            message_id: r.message_id.map(MessageId),
            target_user_id: UserId(r.target_user_id),
            reason: r.reason,
            excerpt: r.excerpt,
            status: ReportStatus::parse(&r.status).ok_or_else(|| {
                StoreError::Other(format!("stored report status {:?} is not valid", r.status))
            })?,
            created_at: r.created_at,
            resolved_by: r.resolved_by.map(UserId),
            resolved_at: r.resolved_at,
            resolution_note: r.resolution_note,
        })
    }
}

async fn load(conn: &mut PgConnection, id: ReportId, lock: bool) -> StoreResult<Report> {
    let sql = format!(
        "SELECT {COLS} FROM reports WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let row: Option<ReportRow> = sqlx::query_as(&sql)
        .bind(id.as_uuid())
        .fetch_optional(conn)
        .await
        .store()?;
    row.ok_or(StoreError::NotFound)?.try_into()
}

#[async_trait]
impl Reports for PgStore {
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "create_report", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "create_report"))]
    async fn create_report(&self, r: &Report) -> StoreResult<()> {
        // The partial unique index refuses a second open report on the same thing.
        sqlx::query(&format!(
            "INSERT INTO reports ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL, NULL)"
        ))
        .bind(r.id.as_uuid())
        .bind(r.reporter_id.as_uuid())
        .bind(r.room_id.as_uuid())
        .bind(r.message_id.map(|m| m.as_uuid()))
        .bind(r.target_user_id.as_uuid())
        .bind(&r.reason)
        .bind(&r.excerpt)
        .bind(r.status.as_str())
        .bind(r.created_at)
        .execute(&self.pool)
        .await
        .store()?;
        Ok(())
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "report", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "report"))]
    async fn report(&self, id: ReportId) -> StoreResult<Report> {
        let mut conn = self.pool.acquire().await.store()?;
        load(&mut conn, id, false).await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "reports", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "reports"))]
    async fn reports(
        &self,
        scope: ReportScope,
        open_only: bool,
        before: Option<ReportId>,
        limit: u32,
    ) -> StoreResult<Vec<Report>> {
        let (room, reporter) = match scope {
            ReportScope::Room(r) => (Some(r.as_uuid()), None),
            ReportScope::ReportedBy(u) => (None, Some(u.as_uuid())),
            ReportScope::All => (None, None),
        };
        let rows: Vec<ReportRow> = sqlx::query_as(&format!(
            "SELECT {COLS} FROM reports WHERE ($1::uuid IS NULL OR room_id = $1) \
             AND ($2::uuid IS NULL OR reporter_id = $2) AND (NOT $3 OR status = 'open') \
             AND ($4::uuid IS NULL OR id < $4) ORDER BY id DESC LIMIT $5"
        ))
        .bind(room)
        .bind(reporter)
        .bind(open_only)
        .bind(before.map(|b| b.as_uuid()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .store()?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "resolve_report", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "resolve_report"))]
    async fn resolve_report(
        &self,
        id: ReportId,
        outcome: ReportStatus,
        by: UserId,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<Report> {
        let mut tx = self.pool.begin().await.store()?;
        let report = match load(&mut tx, id, true).await {
            Ok(r) => r,
            Err(e) => return abort(tx, e).await,
        };
        if report.status != ReportStatus::Open {
            return abort(tx, StoreError::Conflict("report_resolved")).await;
        }
        sqlx::query(
            "UPDATE reports SET status = $2, resolved_by = $3, resolved_at = $4, \
             resolution_note = $5 WHERE id = $1",
        )
        .bind(id.as_uuid())
        .bind(outcome.as_str())
        .bind(by.as_uuid())
        .bind(now)
        .bind(note.as_deref())
        .execute(&mut *tx)
        .await
        .store()?;
        crate::audit::insert(
            &mut tx,
            &justus_core::audit::report_resolved(&report, outcome, by, note.as_deref(), now),
        )
        .await?;
        let resolved = load(&mut tx, id, false).await?;
        tx.commit().await.store()?;
        Ok(resolved)
    }
}
