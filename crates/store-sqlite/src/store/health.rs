//! Readiness: a round trip, and whether writes can succeed.

use super::SqliteStore;
use crate::conn::map_err;
use async_trait::async_trait;
use justus_core::store::Health;
use justus_core::{StoreError, StoreResult};
use std::path::Path;

/// What the probe writes: enough that a nearly full disk fails it.
const PROBE_BYTES: usize = 1024 * 1024;

/// Writes, syncs and removes [`PROBE_BYTES`] next to the database.
fn probe_write(path: &Path) -> std::io::Result<()> {
    use std::io::Write;
    let result = std::fs::File::create(path).and_then(|mut f| {
        f.write_all(&vec![0u8; PROBE_BYTES])?;
        f.sync_all()
    });
    let _ = std::fs::remove_file(path);
    result
}

#[async_trait]
impl Health for SqliteStore {
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "ping", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "ping"))]
    async fn ping(&self) -> StoreResult<()> {
        self.threads
            .read(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(map_err))
            .await
    }

    /// Free while writes succeed. After a commit failed (disk full, I/O), a probe file shows
    /// whether space has returned; the failure itself is forgotten only when a commit that
    /// changed something succeeds. The probe runs on a reader thread, beside the writes.
    #[tracing::instrument(target = "justus::trace", level = "debug", name = "check_writable", skip_all, fields(otel.kind = "client", db.system.name = "sqlite", db.operation.name = "check_writable"))]
    async fn check_writable(&self) -> StoreResult<()> {
        let Some(why) = self.threads.write_failure() else {
            return Ok(());
        };
        let path = self.probe_path.clone();
        self.threads
            .read(move |_| {
                probe_write(&path).map_err(|e| {
                    StoreError::Unavailable(format!("writes fail ({why}); probe: {e}"))
                })
            })
            .await
    }
}
