//! The store port on PostgreSQL, for scaled-out deployments: one file per trait of
//! [`justus_core::store`] (`accounts.rs` implements `Accounts`, …).
//!
//! Queries are checked at run time (no database is needed to build); the schema lives in
//! `migrations/` and is applied by [`PgStore::connect`]. Driver errors are mapped to
//! [`StoreError`] in one place (`errors.rs`), rows to domain types in `rows.rs`.
//!
//! Conversations (`rooms.rs`, `messages.rs`, shared parts in `history.rs`): every history change
//! takes its room's next seq with `UPDATE rooms … RETURNING last_seq` inside its transaction,
//! so a room's writers serialise on that one row lock (other rooms are unaffected) and a write
//! that fails or turns out to be a no-op rolls back, giving its seq back: seqs stay gap-free.
//! Sends, the hot path, go through one batching writer task (`send_writer.rs`) that commits
//! every send waiting in one transaction.
#![forbid(unsafe_code)]

#[macro_use]
mod rows;
mod accounts;
mod ai;
mod audit;
mod errors;
mod health;
mod history;
mod media;
mod messages;
mod reports;
mod retention;
mod rooms;
mod send_writer;
#[cfg(feature = "testing")]
pub mod testing;

use justus_core::StoreError;
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::time::Duration;

/// How long a request waits for a pooled connection before the store reports `Unavailable`.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A [`justus_core::store::Store`] backed by a PostgreSQL connection pool.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
    sends: send_writer::SendWriter,
}

impl PgStore {
    /// Connects to `url`, keeping up to `max_connections` connections, and applies pending
    /// migrations (under PostgreSQL's advisory lock, so concurrent instances are safe).
    pub async fn connect(url: &str, max_connections: u32) -> Result<PgStore, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))?;
        sqlx::migrate!().run(&pool).await.map_err(|e| {
            StoreError::Unavailable(format!("cannot apply PostgreSQL migrations: {e}"))
        })?;
        tracing::debug!(
            max_connections,
            "connected to PostgreSQL, schema up to date"
        );
        let sends = send_writer::SendWriter::start(pool.clone());
        Ok(PgStore { pool, sends })
    }

    /// The underlying pool (for adapters sharing the database, and for tests).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
