//! Moving a SQLite database's write-ahead log back into its file on a thread of its own.
//!
//! SQLite's default is to checkpoint inside the commit that grows the log past 1,000 pages: that commit
//! copies the pages into the database file and syncs both files, on whatever thread committed, which
//! here is a runtime thread serving requests. Instead a thread per database checkpoints every
//! [`EVERY`] without blocking readers or the writer (a passive checkpoint), and, since a page written
//! many times between two checkpoints is copied once, copies far fewer pages. Commits still checkpoint
//! on their own past [`BACKSTOP_PAGES`]. Under sustained writes that is what empties the log (SQLite
//! starts it over only when a checkpoint has caught up as a write begins, and this thread's run while
//! the writer appends), so the log file grows to about that size and stays there.

use super::error::from_rusqlite;
use super::SqliteTarget;
use rusqlite::Connection;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Mutex;
use std::time::Duration;

/// How often the log is checkpointed.
const EVERY: Duration = Duration::from_millis(250);
/// The log size (in pages) past which a commit checkpoints by itself, as a backstop.
pub(super) const BACKSTOP_PAGES: u32 = 25_000;

/// The checkpointing thread of one database; it stops when this is stopped or dropped.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    stop: Mutex<Option<Sender<()>>>,
}

impl Checkpointer {
    pub(crate) fn start(target: &SqliteTarget) -> Result<Checkpointer, sqlx::Error> {
        let db = Connection::open_with_flags(&target.path, target.flags).map_err(from_rusqlite)?;
        let (stop, stopped) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".to_owned())
            .spawn(move || {
                // Ends when the sender is dropped (the database was closed or dropped).
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
                    match db.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                        // Another checkpoint (a commit's backstop) is under way: next time.
                        Err(e) if super::error::is_busy(&e) => {}
                        Err(e) => tracing::warn!(error = %e, "checkpointing the SQLite log failed"),
                        Ok(()) => {}
                    }
                }
            })
            .map_err(sqlx::Error::Io)?;
        Ok(Checkpointer {
            stop: Mutex::new(Some(stop)),
        })
    }

    /// Stops the thread (at its next wake-up at the latest) and closes its connection.
    pub(crate) fn stop(&self) {
        let mut stop = self.stop.lock().unwrap_or_else(|p| p.into_inner());
        drop(stop.take());
    }
}
