//! Connection threads: one group-committing writer and a pool of readers.
//!
//! rusqlite is synchronous; rather than `spawn_blocking` per query we keep long-lived threads,
//! each owning its connection and prepared-statement cache, fed by channels. Async callers get
//! their answer through a oneshot.

use justus_core::{StoreError, StoreResult};
use rusqlite::{Connection, OpenFlags};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{Semaphore, oneshot};

/// `PRAGMA synchronous`: FULL survives power loss; NORMAL (WAL) survives process crashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Synchronous {
    #[default]
    Full,
    Normal,
}

#[derive(Clone, Debug)]
pub struct SqliteOptions {
    pub synchronous: Synchronous,
    /// Reader threads (connections).
    pub readers: usize,
    /// Upper bound of jobs committed in one transaction.
    pub max_batch: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            synchronous: Synchronous::Full,
            readers: 4,
            max_batch: 512,
        }
    }
}

/// Called after the group's commit with its outcome.
type Completion = Box<dyn FnOnce(StoreResult<()>) + Send>;
/// Runs inside a savepoint; says whether to keep its changes, and how to answer the caller.
type WriteJob = Box<dyn FnOnce(&Connection) -> (bool, Completion) + Send>;
type ReadJob = Box<dyn FnOnce(&Connection) + Send>;
/// Runs on the writer after a group's jobs, before its COMMIT (see [`Threads::start`]).
pub(crate) type BeforeCommit = fn(&Connection) -> rusqlite::Result<()>;

pub(crate) struct Threads {
    writer: crossbeam_channel::Sender<WriteJob>,
    readers: crossbeam_channel::Sender<ReadJob>,
    /// Jobs queued or running, per channel: the channels themselves are unbounded (a blocking
    /// send would stall the async caller's thread), so callers wait here, asynchronously, for a
    /// slot. Memory held by queued jobs is bounded by these counts.
    write_slots: Arc<Semaphore>,
    read_slots: Arc<Semaphore>,
    /// Why the last group that wrote something failed to commit; cleared by the next group
    /// that commits changes (an empty commit proves nothing about free space).
    write_failure: Arc<Mutex<Option<String>>>,
}

/// Queued-or-running jobs per channel. The writer commits up to `max_batch` (512) at once, so
/// this is many batches of backlog; the readers answer small queries.
pub(crate) const WRITE_SLOTS: usize = 8192;
pub(crate) const READ_SLOTS: usize = 4096;

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

fn configure(conn: &Connection, opts: &SqliteOptions, read_only: bool) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "temp_store", "memory")?;
    if read_only {
        conn.pragma_update(None, "query_only", true)?;
    } else {
        conn.pragma_update(None, "journal_mode", "wal")?;
        let sync = match opts.synchronous {
            Synchronous::Full => "full",
            Synchronous::Normal => "normal",
        };
        conn.pragma_update(None, "synchronous", sync)?;
        // The writer touches random pages of the idempotency index (sender_id, client_id) on
        // every send; a 64 MiB cache keeps them resident (the default is 2 MiB).
        conn.pragma_update(None, "cache_size", -65536)?;
        // Checkpoint (on the writer, at commit) every ~40 MiB of WAL rather than every 4 MiB,
        // and truncate the WAL back afterwards.
        conn.pragma_update(None, "wal_autocheckpoint", 10_000)?;
        conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
    }
    // `rarray(?)`: one cached statement loads the reactions/mentions of a whole page.
    rusqlite::vtab::array::load_module(conn)?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(())
}

pub(crate) fn map_err(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match &e {
        rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
        rusqlite::Error::SqliteFailure(f, msg) => match f.code {
            ErrorCode::ConstraintViolation => {
                let msg = msg.as_deref().unwrap_or_default();
                if msg.contains("users.username") {
                    StoreError::Conflict("username")
                } else if msg.contains("users.email") {
                    StoreError::Conflict("email")
                } else {
                    StoreError::Other(e.to_string())
                }
            }
            ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::CannotOpen
            | ErrorCode::DiskFull => StoreError::Unavailable(e.to_string()),
            _ => StoreError::Other(e.to_string()),
        },
        _ => StoreError::Other(e.to_string()),
    }
}

fn gone() -> StoreError {
    StoreError::Unavailable("sqlite worker stopped".into())
}

impl Threads {
    /// `before_commit` finishes every group's transaction (e.g. applies deferred index work); if
    /// it fails, the whole group is rolled back and every caller gets the error.
    pub(crate) fn start(
        path: &Path,
        opts: &SqliteOptions,
        before_commit: BeforeCommit,
    ) -> StoreResult<Self> {
        let mut writer_conn = Connection::open(path).map_err(map_err)?;
        configure(&writer_conn, opts, false).map_err(map_err)?;
        crate::migrate::run(&mut writer_conn)?;

        let (wtx, wrx) = crossbeam_channel::unbounded::<WriteJob>();
        let max_batch = opts.max_batch.max(1);
        let write_failure = Arc::new(Mutex::new(None));
        let failure = write_failure.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(writer_conn, wrx, max_batch, before_commit, &failure))
            .map_err(|e| StoreError::Other(e.to_string()))?;

        let (rtx, rrx) = crossbeam_channel::unbounded::<ReadJob>();
        for i in 0..opts.readers.max(1) {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(map_err)?;
            configure(&conn, opts, true).map_err(map_err)?;
            let rrx = rrx.clone();
            std::thread::Builder::new()
                .name(format!("sqlite-reader-{i}"))
                .spawn(move || {
                    for job in rrx.iter() {
                        // A panicking job must not take the reader down; its caller sees the
                        // dropped oneshot as an error.
                        let _ = catch_unwind(AssertUnwindSafe(|| job(&conn)));
                    }
                })
                .map_err(|e| StoreError::Other(e.to_string()))?;
        }
        Ok(Self {
            writer: wtx,
            readers: rtx,
            write_slots: Arc::new(Semaphore::new(WRITE_SLOTS)),
            read_slots: Arc::new(Semaphore::new(READ_SLOTS)),
            write_failure,
        })
    }

    /// Why the last write failed, while no write has succeeded since.
    pub(crate) fn write_failure(&self) -> Option<String> {
        self.write_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Runs `f` on a reader connection.
    pub(crate) async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let slot = self
            .read_slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| gone())?;
        let (tx, rx) = oneshot::channel();
        self.readers
            .send(Box::new(move |conn| {
                let _ = tx.send(f(conn));
                drop(slot);
            }))
            .map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// Runs `f` on the writer inside a savepoint of the current group transaction. The caller
    /// is answered after the group commits; an `Err` from `f` rolls back only its own changes.
    pub(crate) async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let slot = self
            .write_slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| gone())?;
        let (tx, rx) = oneshot::channel();
        let job: WriteJob = Box::new(move |conn| {
            let result = f(conn);
            let keep = result.is_ok();
            let done: Completion = Box::new(move |commit| {
                let _ = tx.send(commit.and(result));
                drop(slot);
            });
            (keep, done)
        });
        self.writer.send(job).map_err(|_| gone())?;
        rx.await
            .map_err(|_| StoreError::Unavailable("sqlite write not committed".into()))?
    }
}

/// Runs a fixed statement through the statement cache (savepoints are per job: parsing them
/// every time shows up in the profile).
fn exec_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

fn writer_loop(
    conn: Connection,
    jobs: crossbeam_channel::Receiver<WriteJob>,
    max_batch: usize,
    before_commit: BeforeCommit,
    write_failure: &Mutex<Option<String>>,
) {
    let record = |failure: Option<String>| {
        *write_failure.lock().unwrap_or_else(PoisonError::into_inner) = failure;
    };
    let mut batch = Vec::with_capacity(max_batch);
    let mut completions: Vec<Completion> = Vec::with_capacity(max_batch);
    while let Ok(first) = jobs.recv() {
        batch.push(first);
        while batch.len() < max_batch {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            tracing::error!(error = %e, "sqlite writer cannot begin a transaction");
            record(Some(e.to_string()));
            // Dropping a job drops its caller's oneshot: the caller sees "not committed".
            batch.clear();
            continue;
        }
        let changes_before = conn.total_changes();
        for job in batch.drain(..) {
            if let Err(e) = exec_cached(&conn, "SAVEPOINT job") {
                tracing::error!(error = %e, "sqlite savepoint failed");
                continue;
            }
            let outcome = catch_unwind(AssertUnwindSafe(|| job(&conn)));
            let (keep, done) = match outcome {
                Ok(pair) => pair,
                Err(_) => (false, Box::new(|_| {}) as Completion),
            };
            let end = if keep {
                exec_cached(&conn, "RELEASE job")
            } else {
                exec_cached(&conn, "ROLLBACK TO job")
                    .and_then(|()| exec_cached(&conn, "RELEASE job"))
            };
            if let Err(e) = end {
                tracing::error!(error = %e, "sqlite savepoint end failed");
            }
            completions.push(done);
        }
        let commit = before_commit(&conn)
            .and_then(|()| conn.execute_batch("COMMIT"))
            .map_err(map_err);
        match &commit {
            Err(e) => {
                tracing::error!(error = %e, "sqlite group commit failed");
                record(Some(e.to_string()));
                let _ = conn.execute_batch("ROLLBACK");
            }
            Ok(()) if conn.total_changes() != changes_before => record(None),
            Ok(()) => {}
        }
        for done in completions.drain(..) {
            done(match &commit {
                Ok(()) => Ok(()),
                Err(e) => Err(e.clone()),
            });
        }
    }
}

pub(crate) fn open_dir_check(path: &Path) -> StoreResult<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Many more concurrent callers than slots: the queue never holds more than the slots,
    /// every caller is answered, and the slots are all back afterwards.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queued_jobs_stay_bounded_under_a_flood() {
        let dir = tempfile::tempdir().unwrap();
        let threads = Arc::new(
            Threads::start(&dir.path().join("t.db"), &SqliteOptions::default(), |_| {
                Ok(())
            })
            .unwrap(),
        );
        let callers = WRITE_SLOTS * 3;
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..callers {
            let t = threads.clone();
            tasks.spawn(async move {
                t.write(|c| c.execute_batch("SELECT 1").map_err(map_err))
                    .await
            });
        }
        // Sample the channel's length while the flood runs (without the slots it would grow to
        // every caller's job).
        let finished = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sampler = {
            let (t, finished) = (threads.clone(), finished.clone());
            tokio::spawn(async move {
                let mut peak = 0;
                while !finished.load(std::sync::atomic::Ordering::Relaxed) {
                    peak = peak.max(t.writer.len());
                    tokio::task::yield_now().await;
                }
                peak
            })
        };
        let mut done = 0;
        while let Some(r) = tasks.join_next().await {
            r.unwrap().unwrap();
            done += 1;
        }
        finished.store(true, std::sync::atomic::Ordering::Relaxed);
        let peak = sampler.await.unwrap();
        assert_eq!(done, callers);
        assert!(peak > 0 && peak <= WRITE_SLOTS, "{peak}");
        assert_eq!(threads.write_slots.available_permits(), WRITE_SLOTS);
    }
}
