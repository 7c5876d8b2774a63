//! Reports: filed, listed by room, by reporter or all, and resolved with their audit entry in
//! one writer job.

use super::SqliteStore;
use crate::conn::map_err;
use crate::rows::{from_ts, ts};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use justus_core::report::{Report, ReportStatus};
use justus_core::store::{ReportScope, Reports};
use justus_core::{MessageId, ReportId, RoomId, StoreError, StoreResult, UserId};
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

const COLS: &str = "id, reporter_id, room_id, message_id, target_user_id, reason, excerpt, status, \
     created_at, resolved_by, resolved_at, resolution_note";

fn row(r: &Row<'_>) -> rusqlite::Result<(Report, String)> {
    Ok((
        Report {
            id: ReportId(r.get(0)?),
            reporter_id: UserId(r.get(1)?),
            room_id: RoomId(r.get(2)?),
            message_id: r.get::<_, Option<Uuid>>(3)?.map(MessageId),
            target_user_id: UserId(r.get(4)?),
            reason: r.get(5)?,
            excerpt: r.get(6)?,
            // Set by `status` below, where a bad value is a store error.
            status: ReportStatus::Open,
            created_at: from_ts(r.get(8)?),
            resolved_by: r.get::<_, Option<Uuid>>(9)?.map(UserId),
            resolved_at: r.get::<_, Option<i64>>(10)?.map(from_ts),
            resolution_note: r.get(11)?,
        },
        r.get(7)?,
    ))
}

fn status((mut report, s): (Report, String)) -> StoreResult<Report> {
    report.status = ReportStatus::parse(&s)
        .ok_or_else(|| StoreError::Other(format!("stored report status {s:?} is not valid")))?;
    Ok(report)
}

fn load(c: &Connection, id: ReportId) -> StoreResult<Report> {
    let found = c
        .prepare_cached(&format!("SELECT {COLS} FROM reports WHERE id = ?1"))
        .and_then(|mut st| st.query_row([id.0], row).optional())
        .map_err(map_err)?;
    status(found.ok_or(StoreError::NotFound)?)
}

#[async_trait]
impl Reports for SqliteStore {
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "create_report", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "create_report"))]
    async fn create_report(&self, report: &Report) -> StoreResult<()> {
        let r = report.clone();
        self.threads
            .write(move |c| {
                let duplicate: bool = c
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM reports WHERE reporter_id = ?1 AND status = 'open' \
                         AND room_id = ?2 AND target_user_id = ?3 AND message_id IS ?4)",
                    )
                    .and_then(|mut st| {
                        st.query_row(
                            params![r.reporter_id.0, r.room_id.0, r.target_user_id.0, r.message_id.map(|m| m.0)],
                            |row| row.get(0),
                        )
                    })
                    .map_err(map_err)?;
                if duplicate {
                    return Err(StoreError::Conflict("report_open"));
                }
                c.prepare_cached(&format!(
                    "INSERT INTO reports ({COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, NULL, NULL)"
                ))
                .and_then(|mut st| {
                    st.execute(params![
                        r.id.0,
                        r.reporter_id.0,
                        r.room_id.0,
                        r.message_id.map(|m| m.0),
                        r.target_user_id.0,
                        r.reason,
                        r.excerpt,
                        r.status.as_str(),
                        ts(r.created_at),
                    ])
                })
                .map(drop)
                .map_err(map_err)
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "report", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "report"))]
    async fn report(&self, id: ReportId) -> StoreResult<Report> {
        self.threads.read(move |c| load(c, id)).await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "reports", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "reports"))]
    async fn reports(
        &self,
        scope: ReportScope,
        open_only: bool,
        before: Option<ReportId>,
        limit: u32,
    ) -> StoreResult<Vec<Report>> {
        self.threads
            .read(move |c| {
                let (room, reporter) = match scope {
                    ReportScope::Room(r) => (Some(r.0), None),
                    ReportScope::ReportedBy(u) => (None, Some(u.0)),
                    ReportScope::All => (None, None),
                };
                let mut st = c
                    .prepare_cached(&format!(
                        "SELECT {COLS} FROM reports WHERE (?1 IS NULL OR room_id = ?1) \
                         AND (?2 IS NULL OR reporter_id = ?2) AND (NOT ?3 OR status = 'open') \
                         AND (?4 IS NULL OR id < ?4) ORDER BY id DESC LIMIT ?5"
                    ))
                    .map_err(map_err)?;
                let rows = st
                    .query_map(
                        params![room, reporter, open_only, before.map(|b| b.0), limit],
                        row,
                    )
                    .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                    .map_err(map_err)?;
                rows.into_iter().map(status).collect()
            })
            .await
    }

    #[tracing::instrument(target = "justus::trace", level = "debug", name = "resolve_report", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "resolve_report"))]
    async fn resolve_report(
        &self,
        id: ReportId,
        outcome: ReportStatus,
        by: UserId,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<Report> {
        self.threads
            .write(move |c| {
                let report = load(c, id)?;
                if report.status != ReportStatus::Open {
                    return Err(StoreError::Conflict("report_resolved"));
                }
                c.prepare_cached(
                    "UPDATE reports SET status = ?2, resolved_by = ?3, resolved_at = ?4, \
                     resolution_note = ?5 WHERE id = ?1",
                )
                .and_then(|mut st| st.execute(params![id.0, outcome.as_str(), by.0, ts(now), note]))
                .map_err(map_err)?;
                super::audit::insert(
                    c,
                    &justus_core::audit::report_resolved(
                        &report,
                        outcome,
                        by,
                        note.as_deref(),
                        now,
                    ),
                )?;
                load(c, id)
            })
            .await
    }
}
