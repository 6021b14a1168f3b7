//! Background checkpoints of the SQLite write-ahead log.
//!
//! SQLite's automatic checkpoint runs inside the commit that pushes the log
//! past its threshold: it copies the log into the database file and syncs
//! it while this crate's writer lock is held, so every append queued
//! behind that commit waits (tens of milliseconds under load, the tail of
//! the server's latency). Here a thread with its own connection runs a
//! `PASSIVE` checkpoint every [`INTERVAL`]: it copies the log while writers
//! keep appending and never waits for anyone. The writer's automatic
//! checkpoint stays on: only it can restart the log from its beginning
//! (that needs a moment when no new frame is being written), and with the
//! copying done here it has only the last few frames left to copy.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use biglearn_core::log::StoreError;
use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};

/// How often the log is checkpointed.
const INTERVAL: Duration = Duration::from_millis(100);

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
    /// Opens a connection to `path` with `pragmas` and starts checkpointing.
    pub(crate) fn start(path: &str, pragmas: &str) -> Result<Checkpointer, StoreError> {
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
            .spawn(move || run(&signal, &mut conn))
            .map_err(|e| StoreError::Config(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Checkpointer {
            stop,
            thread: Some(thread),
        })
    }
}

fn run(stop: &(Mutex<bool>, Condvar), conn: &mut SqliteConnection) {
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
        let _ = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE);");
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
