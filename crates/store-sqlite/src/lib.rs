//! SQLite adapter of the `Store` port: the embedded default.
//!
//! Shape: one writer thread owns the only read-write connection and commits jobs in groups
//! (each job in its own savepoint, the group in one transaction, every caller answered only
//! after the commit); a few reader threads serve queries on read-only connections. WAL mode
//! lets readers run while the writer commits. See `docs/ARCHITECTURE.md`.
#![forbid(unsafe_code)]

pub mod bulk;
mod conn;
mod migrate;
mod rows;
mod snapshot;
mod store;

pub use conn::{SqliteOptions, Synchronous};
pub use snapshot::{check_integrity, snapshot};
pub use store::SqliteStore;
