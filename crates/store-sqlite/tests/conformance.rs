//! The shared Store conformance suite against SQLite, one fresh database file per test.

use justus_store_sqlite::{SqliteOptions, SqliteStore};

async fn fresh() -> SqliteStore {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("justus.db");
    // The directory must outlive the store; tests are short, so leak it deliberately.
    std::mem::forget(dir);
    SqliteStore::open(&path, &SqliteOptions::default()).expect("open sqlite")
}

justus_core::store_conformance!(fresh());
