//! Readiness and pool metrics.

use crate::PgStore;
use crate::errors::{self, MapErr};
use async_trait::async_trait;
use justus_core::store::{Health, PoolStats};
use justus_core::{StoreError, StoreResult};

#[async_trait]
impl Health for PgStore {
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "ping", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "ping"))]
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.store()?;
        Ok(())
    }

    fn pool_stats(&self) -> Option<PoolStats> {
        Some(PoolStats {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
        })
    }

    /// `txid_current()` assigns a transaction id, so its commit writes WAL: it fails on a
    /// read-only server (a standby after a failover, `default_transaction_read_only`) and when
    /// PostgreSQL cannot write. Any failure here means writes would fail: `Unavailable`.
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "check_writable", skip_all, fields(otel.kind = "client", db.system.name = "postgresql", db.operation.name = "check_writable"))]
    async fn check_writable(&self) -> StoreResult<()> {
        sqlx::query("SELECT txid_current()")
            .execute(&self.pool)
            .await
            .map_err(|e| match errors::map(e) {
                StoreError::Other(why) => StoreError::Unavailable(why),
                other => other,
            })?;
        Ok(())
    }
}
