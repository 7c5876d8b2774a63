//! The store port for SQLite: one file per trait (`accounts.rs` implements `Accounts`, …), plus
//! `load.rs`, which completes message rows for every reader of messages.

mod accounts;
mod ai;
mod audit;
mod health;
mod history;
mod load;
mod media;
mod messages;
mod reports;
mod retention;
mod rooms;

pub(crate) use history::apply_search_queue;
pub(crate) use history::insert_event;

use crate::conn::{SqliteOptions, Threads, open_dir_check};
use justus_core::StoreResult;
use std::path::{Path, PathBuf};

pub struct SqliteStore {
    threads: Threads,
    /// A scratch file beside the database, written to find out whether space has returned.
    probe_path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &Path, opts: &SqliteOptions) -> StoreResult<Self> {
        open_dir_check(path)?;
        let mut probe = path.as_os_str().to_owned();
        probe.push("-writeprobe");
        Ok(Self {
            threads: Threads::start(path, opts, history::apply_search_queue)?,
            probe_path: PathBuf::from(probe),
        })
    }
}
