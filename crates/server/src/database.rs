//! Picks the Store adapter from the config, once: PostgreSQL when `DATABASE_URL` is set,
//! otherwise SQLite in the data dir.

use crate::config::{Config, redact_url};
use anyhow::Context;
use justus_core::store::Store;
use justus_store_postgres::PgStore;
use justus_store_sqlite::{SqliteOptions, SqliteStore, Synchronous};
use std::sync::Arc;

pub async fn open(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    match &config.database.url {
        Some(url) => {
            let store = PgStore::connect(url.expose(), config.database.max_connections)
                .await
                .with_context(|| {
                    format!(
                        "cannot open PostgreSQL at {} (DATABASE_URL)",
                        redact_url(url.expose())
                    )
                })?;
            tracing::info!(database = %redact_url(url.expose()), "using PostgreSQL");
            Ok(Arc::new(store))
        }
        None => {
            let path = config.data_dir.join("justus.db");
            let opts = SqliteOptions {
                synchronous: if config.database.sqlite_synchronous == "normal" {
                    Synchronous::Normal
                } else {
                    Synchronous::Full
                },
                ..SqliteOptions::default()
            };
            let store = SqliteStore::open(&path, &opts)
                .with_context(|| format!("cannot open SQLite database {}", path.display()))?;
            tracing::info!(path = %path.display(), "using SQLite");
            Ok(Arc::new(store))
        }
    }
}
