//! What operations ask of the database itself: is it there, can it write, how busy is it.

use crate::error::StoreResult;
use async_trait::async_trait;

#[async_trait]
pub trait Health: Send + Sync {
    /// A cheap round trip, for readiness checks.
    async fn ping(&self) -> StoreResult<()>;

    /// Connection pool occupancy, for metrics; `None` where the adapter has no pool.
    fn pool_stats(&self) -> Option<PoolStats> {
        None
    }

    /// Whether writes can succeed now, for readiness: `Unavailable` while the database cannot
    /// take writes (its disk is full, it is read-only, writes fail on I/O) even though reads
    /// still answer. Cheap enough to call on every readiness probe.
    async fn check_writable(&self) -> StoreResult<()>;
}

/// Connection pool occupancy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
}
