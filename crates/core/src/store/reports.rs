//! The reports aggregate (see [`crate::report`]).

use crate::error::StoreResult;
use crate::ids::{ReportId, RoomId, UserId};
use crate::report::{Report, ReportStatus};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Which reports to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportScope {
    /// One room's.
    Room(RoomId),
    /// Every room's (the instance's admins).
    All,
    /// Those one person made.
    ReportedBy(UserId),
}

#[async_trait]
pub trait Reports: Send + Sync {
    /// Files a report. `Conflict("report_open")` when the reporter already has an open report
    /// on the same message (or, for a person, on the same person in the same room).
    async fn create_report(&self, report: &Report) -> StoreResult<()>;
    /// One report; `NotFound` if there is none.
    async fn report(&self, id: ReportId) -> StoreResult<Report>;
    /// Reports in `scope`, open ones only when `open_only`, newest first, older than `before`
    /// when given, at most `limit`.
    async fn reports(
        &self,
        scope: ReportScope,
        open_only: bool,
        before: Option<ReportId>,
        limit: u32,
    ) -> StoreResult<Vec<Report>>;
    /// Resolves an open report (`status` is `ActionTaken` or `Dismissed`) and records
    /// `report_resolved` in the audit log, in one transaction. `Conflict("report_resolved")`
    /// when it was already resolved; `NotFound` when there is no such report.
    async fn resolve_report(
        &self,
        id: ReportId,
        status: ReportStatus,
        by: UserId,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<Report>;
}
