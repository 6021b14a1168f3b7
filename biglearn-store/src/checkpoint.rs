//! Background checkpoints of the SQLite write-ahead log.
//!
//! SQLite's automatic checkpoint runs inside the commit that pushes the log
//! past its threshold: it copies the log into the database file and syncs
//! it while this crate's writer lock is held, so every append queued
//! behind that commit waits (tens of milliseconds under load, the tail of
//! the server's latency). Here a thread with its own connection runs a
//! `PASSIVE` checkpoint every [`INTERVAL`]: it copies the log while writers
//! keep appending and never waits for anyone. The writer's automatic
//! checkpoint stays on only as a fallback, at a high threshold.
//!
//! Neither checkpoint restarts the log by itself under steady load: some
//! reader always holds a recent snapshot and new frames keep coming, so
//! the log is never wholly copied at a moment when no writer writes, and
//! it grew without end (2.8 GB after 20 s at 3,000 responses/s; every page
//! lookup searches a wal-index that grows with it). So when a passive
//! checkpoint finds the log longer than [`RESTART_AFTER_FRAMES`], this
//! thread marks a restart due, and the store's writer runs a `RESTART`
//! checkpoint at the end of its next write
//! ([`crate::sqlite::SqliteBackend`]): holding the writer, it copies the
//! few frames left, waits briefly for the readers of older snapshots, and
//! the next commit writes the log from its start again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use biglearn_core::log::StoreError;
use diesel::connection::SimpleConnection;
use diesel::{Connection, RunQueryDsl, SqliteConnection};

/// How often the log is checkpointed.
const INTERVAL: Duration = Duration::from_millis(100);

/// Log length (frames: pages) past which a restart of the log is due:
/// 64 MiB at the default page size, about a second of the engine's writes
/// at 3,000 responses/s.
pub(crate) const RESTART_AFTER_FRAMES: i64 = 16_384;

/// The row `PRAGMA wal_checkpoint` answers.
#[derive(diesel::QueryableByName)]
struct CheckpointRow {
    /// Frames in the log.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    log: i32,
}

/// The checkpoint thread of one database file; stops when dropped.
pub(crate) struct Checkpointer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Checkpointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpointer").finish_non_exhaustive()
    }
}

impl Checkpointer {
    /// Opens a connection to `path` with `pragmas` and starts checkpointing;
    /// sets `restart_due` when the log should be restarted.
    pub(crate) fn start(
        path: &str,
        pragmas: &str,
        restart_due: Arc<AtomicBool>,
    ) -> Result<Checkpointer, StoreError> {
        let mut conn = SqliteConnection::establish(path).map_err(|e| {
            StoreError::Config(format!(
                "cannot open the checkpoint connection to {path:?}: {e}"
            ))
        })?;
        conn.batch_execute(pragmas).map_err(|e| {
            StoreError::Config(format!(
                "cannot configure the checkpoint connection to {path:?}: {e}"
            ))
        })?;
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let signal = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("biglearn-checkpoint".into())
            .spawn(move || run(&signal, &mut conn, &restart_due))
            .map_err(|e| StoreError::Config(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Checkpointer {
            stop,
            thread: Some(thread),
        })
    }
}

fn run(stop: &(Mutex<bool>, Condvar), conn: &mut SqliteConnection, restart_due: &AtomicBool) {
    let (flag, wake) = stop;
    let mut stopped = flag.lock().unwrap_or_else(PoisonError::into_inner);
    while !*stopped {
        stopped = wake
            .wait_timeout(stopped, INTERVAL)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
        if *stopped {
            break;
        }
        drop(stopped);
        // A failed checkpoint (busy, I/O) is retried on the next tick; the
        // writer's fallback threshold bounds the log meanwhile.
        let passive =
            diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").load::<CheckpointRow>(conn);
        if let Ok(rows) = passive {
            if rows
                .iter()
                .any(|row| i64::from(row.log) > RESTART_AFTER_FRAMES)
            {
                restart_due.store(true, Ordering::SeqCst);
            }
        }
        stopped = flag.lock().unwrap_or_else(PoisonError::into_inner);
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let (flag, wake) = &*self.stop;
        *flag.lock().unwrap_or_else(PoisonError::into_inner) = true;
        wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;

    use crate::config::SqliteOptions;
    use crate::error::TxError;
    use crate::sqlite::SqliteBackend;

    fn write_pages(backend: &SqliteBackend, round: u32) {
        backend
            .write_derived("test write", |conn| {
                conn.batch_execute(&format!(
                    "INSERT INTO t (n, b) VALUES ({round}, zeroblob(40000));"
                ))
                .map_err(TxError::from)
            })
            .expect("derived write");
    }

    fn log_bytes(path: &str) -> u64 {
        std::fs::metadata(format!("{path}-wal"))
            .map(|m| m.len())
            .expect("the log file")
    }

    /// A reader that holds its snapshot until dropped.
    fn reader(path: &str) -> diesel::SqliteConnection {
        let mut conn = diesel::SqliteConnection::establish(path).expect("reader");
        conn.batch_execute("BEGIN; SELECT count(*) FROM t;")
            .expect("reading");
        conn
    }

    /// A restart marked due is run by the next derived write, so the log
    /// starts again from its beginning even while a reader holds a
    /// snapshot (which keeps SQLite from restarting it by itself): the log
    /// file stops growing.
    #[test]
    fn a_due_restart_lets_the_log_start_again_under_readers() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("restart.sqlite3");
        let path = path.to_str().expect("UTF-8 path");
        let backend = SqliteBackend::open(path, SqliteOptions::default()).expect("opening");
        backend
            .write_derived("create", |conn| {
                conn.batch_execute("CREATE TABLE t (n INTEGER, b BLOB);")
                    .map_err(TxError::from)
            })
            .expect("create table");
        let first = reader(path);
        for round in 0..20 {
            write_pages(&backend, round);
        }
        let grown = log_bytes(path);
        drop(first);
        backend.mark_log_restart_due();
        write_pages(&backend, 20); // copies the log, then restarts it
        assert!(!backend.log_restart_is_due());
        let second = reader(path);
        for round in 21..41 {
            write_pages(&backend, round);
        }
        let after = log_bytes(path);
        drop(second);
        assert!(
            after <= grown + grown / 10,
            "the log grew from {grown} to {after} bytes: it was not restarted"
        );
    }
}
