//! The audit log (see [`crate::audit`]): written by the other aggregates' methods inside the
//! transactions of the actions they record; read here, never changed.

use crate::audit::{AuditEntry, AuditId};
use crate::error::StoreResult;
use crate::ids::RoomId;
use async_trait::async_trait;

#[async_trait]
pub trait Audit: Send + Sync {
    /// Entries about `room` (every room's and instance-wide ones when `None`), newest first,
    /// older than `before` when given, at most `limit`. Entries of deleted rooms stay.
    async fn audit_log(
        &self,
        room: Option<RoomId>,
        before: Option<AuditId>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>>;
}
