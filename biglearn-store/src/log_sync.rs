//! Durability of SQLite commits, with the disk flush outside the writer.
//!
//! At `synchronous = FULL` SQLite flushes the write-ahead log inside every
//! commit, while this crate's single writer connection is held. Event
//! appends are committed in groups many times a second, so the writer
//! spent much of its time waiting for the disk, and the engine's commits
//! (which need no flush: the event log can rebuild them) queued behind
//! those waits. Measured in the server at 3,000 responses/s, the engine
//! thread was blocked on the writer for about a quarter of its time.
//!
//! So the writer connection commits at `NORMAL` (no flush), and a commit
//! that must survive a power loss is followed by a flush of the log file
//! ([`LogSync::flush`]) after the writer is released and before the caller
//! hears of success. That is as durable as `FULL`:
//! - the log is append-only between restarts, and a flush of the file
//!   makes every frame written before it durable, the commit's own frames
//!   and all earlier ones, so recovery (which reads frames from the start
//!   while their checksums chain) finds the transaction;
//! - the log restarts from its beginning only after a checkpoint copied
//!   every frame into the database file, and at `NORMAL` a checkpoint
//!   flushes the log before copying and the database file after, so frames
//!   a restart overwrites are durable in the database already;
//! - the log file is deleted only when the last connection closes, after a
//!   checkpoint; when it is missing, the database file is flushed instead.
//!
//! Several threads may flush at once; each flush covers at least its own
//! commit.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use biglearn_core::log::StoreError;

/// Flushes one database's write-ahead log to disk.
#[derive(Debug)]
pub(crate) struct LogSync {
    database: PathBuf,
    log: PathBuf,
    flushes: AtomicU64,
}

impl LogSync {
    /// For the database file at `database` (its log is `<database>-wal`).
    pub(crate) fn new(database: &Path) -> LogSync {
        let mut log = database.as_os_str().to_owned();
        log.push("-wal");
        LogSync {
            database: database.to_owned(),
            log: PathBuf::from(log),
            flushes: AtomicU64::new(0),
        }
    }

    /// How many flushes completed since the store was opened.
    pub(crate) fn flushes(&self) -> u64 {
        self.flushes.load(Ordering::Relaxed)
    }

    /// Makes every commit made so far durable: flushes the log file, or
    /// the database file when there is no log. The file is opened for each
    /// flush (a few microseconds next to the flush itself), so a log that
    /// was replaced is never missed.
    pub(crate) fn flush(&self, backend: &'static str) -> Result<(), StoreError> {
        let fail = |what: &Path, e: std::io::Error| StoreError::Backend {
            backend,
            operation: "flushing the write-ahead log to disk",
            message: format!("{}: {e}", what.display()),
        };
        let file = match File::open(&self.log) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                File::open(&self.database).map_err(|e| fail(&self.database, e))?
            }
            Err(e) => return Err(fail(&self.log, e)),
        };
        file.sync_data().map_err(|e| fail(&self.log, e))?;
        self.flushes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_log_flushes_the_database_file_and_a_missing_database_is_an_error() {
        let dir = tempfile::tempdir().expect("dir");
        let database = dir.path().join("db.sqlite3");
        std::fs::write(&database, b"x").expect("database file");
        let sync = LogSync::new(&database);
        sync.flush("sqlite").expect("flush without a log");
        std::fs::write(dir.path().join("db.sqlite3-wal"), b"frames").expect("log");
        sync.flush("sqlite").expect("flush of the log");
        assert_eq!(sync.flushes(), 2);

        let gone = LogSync::new(&dir.path().join("nothing.sqlite3"));
        let error = gone.flush("sqlite").expect_err("no database file");
        let text = error.to_string();
        assert!(
            text.contains("nothing.sqlite3") && text.contains("flushing"),
            "{text}"
        );
        assert_eq!(gone.flushes(), 0);
    }
}
