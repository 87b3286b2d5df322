//! SQLite connections that run each statement on the calling thread.
//!
//! sqlx's SQLite driver gives every connection a thread of its own and hands each statement to it and
//! each row back: two thread switches per statement, which on two cores cost more than the statements
//! themselves (a transfer makes some 60 of them across bankgate's and the sandboxes' databases). A
//! statement on a local file is short, so bankgate runs it where the caller is, through rusqlite, and
//! turns the results into sqlx's `Any` rows so that the stores' queries stay as they are.
//!
//! What would block the thread for long is not allowed to: the connection never waits inside SQLite for
//! another connection's lock (busy timeout zero). A statement refused as busy before it did anything is
//! tried again after an async sleep, up to [`BUSY_WAIT`], as SQLite's own busy handler would have.

mod checkpoint;
mod error;
mod statement;

pub(crate) use checkpoint::Checkpointer;

use error::from_rusqlite;
use rusqlite::{Connection, OpenFlags};
use sqlx::any::{AnyArguments, AnyQueryResult, AnyRow};
use sqlx::Either;
use statement::StatementShape;
use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// How long a statement keeps trying while another connection holds the lock it needs.
const BUSY_WAIT: Duration = Duration::from_secs(10);
/// Prepared statements kept per connection: the stores' distinct statements, with room to spare.
const STATEMENT_CACHE: usize = 512;

/// Where a SQLite database is and how to open it, from a `sqlite:` URL.
#[derive(Debug, Clone)]
pub(crate) struct SqliteTarget {
    path: PathBuf,
    flags: OpenFlags,
}

impl SqliteTarget {
    /// Reads the URL as sqlx does: `sqlite://FILE` or `sqlite:FILE`, with `?mode=ro|rw|rwc`.
    pub(crate) fn parse(url: &str) -> Result<SqliteTarget, sqlx::Error> {
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?;
        let mode = url
            .split_once('?')
            .map(|(_, query)| query)
            .unwrap_or_default()
            .split('&')
            .find_map(|pair| pair.strip_prefix("mode="));
        let access = match mode {
            Some("ro") => OpenFlags::SQLITE_OPEN_READ_ONLY,
            Some("rwc") => OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
            Some("rw") | None => OpenFlags::SQLITE_OPEN_READ_WRITE,
            // Each connection would get a database of its own: the writer's changes would never reach
            // the readers.
            Some("memory") => return Err(in_memory()),
            Some(other) => {
                return Err(sqlx::Error::Configuration(
                    format!("unsupported SQLite mode {other:?}").into(),
                ))
            }
        };
        if url.contains(":memory:") {
            return Err(in_memory());
        }
        Ok(SqliteTarget {
            path: options.get_filename().to_owned(),
            // Each connection is used by one task at a time: SQLite's own mutexes are not needed.
            flags: access | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        })
    }
}

fn transaction_lost() -> sqlx::Error {
    sqlx::Error::Protocol(
        "SQLite rolled the transaction back after an earlier error; nothing of it was kept"
            .to_owned(),
    )
}

fn in_memory() -> sqlx::Error {
    sqlx::Error::Configuration(
        "bankgate keeps SQLite databases in files: give a file, not :memory:".into(),
    )
}

impl SqliteTarget {
    /// Whether connections may write (a read-only database has no log to checkpoint).
    pub(crate) fn writable(&self) -> bool {
        !self.flags.contains(OpenFlags::SQLITE_OPEN_READ_ONLY)
    }
}

/// One SQLite connection, used by one task at a time.
pub struct SqliteConn {
    db: Connection,
    /// What bankgate learned about each statement text it ran: how many statements it holds, and the
    /// names of its result columns once seen.
    shapes: HashMap<Box<str>, StatementShape>,
    /// SQLite rolled back the open transaction by itself after an error. Until the transaction's owner
    /// ends it, every statement fails: run in autocommit, each would land on its own, and the
    /// transaction would end half-applied.
    transaction_lost: bool,
}

impl std::fmt::Debug for SqliteConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteConn").finish_non_exhaustive()
    }
}

/// The results of one run, as sqlx's `fetch_many` yields them.
pub(crate) type Results = Vec<Either<AnyQueryResult, AnyRow>>;

impl SqliteConn {
    pub(crate) fn open(target: &SqliteTarget) -> Result<SqliteConn, sqlx::Error> {
        let db = Connection::open_with_flags(&target.path, target.flags).map_err(from_rusqlite)?;
        db.busy_timeout(Duration::ZERO).map_err(from_rusqlite)?;
        db.execute_batch(&format!(
            "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = {}",
            checkpoint::BACKSTOP_PAGES
        ))
        .map_err(from_rusqlite)?;
        db.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(SqliteConn {
            db,
            shapes: HashMap::new(),
            transaction_lost: false,
        })
    }

    /// Runs `sql` with `arguments`, waiting (asynchronously) while the database is locked by another
    /// connection.
    pub(crate) async fn run(
        &mut self,
        sql: &str,
        arguments: Option<AnyArguments<'_>>,
    ) -> Result<Results, sqlx::Error> {
        if self.transaction_lost {
            return Err(transaction_lost());
        }
        let arguments = arguments.map(|a| a.values.0).unwrap_or_default();
        // When the first refusal as busy came: the clock is read only once there is a wait to time.
        let mut busy_since = None;
        let mut pause = Duration::from_millis(1);
        loop {
            let in_transaction = self.in_transaction();
            let failure = match statement::run(&self.db, &mut self.shapes, sql, &arguments) {
                Ok(results) => return Ok(results),
                Err(failure) => failure,
            };
            if in_transaction && !self.in_transaction() {
                self.transaction_lost = true;
                return Err(from_rusqlite(failure.error));
            }
            // Tried again only if nothing ran: a text of several statements may have run some.
            let started = *busy_since.get_or_insert_with(tokio::time::Instant::now);
            if !(failure.nothing_ran
                && error::is_busy(&failure.error)
                && started.elapsed() < BUSY_WAIT)
            {
                return Err(from_rusqlite(failure.error));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    /// Ends the open transaction, as COMMIT or ROLLBACK. A commit of a transaction SQLite already
    /// rolled back is an error; a rollback of it succeeds.
    pub(crate) async fn end_transaction(&mut self, commit: bool) -> Result<(), sqlx::Error> {
        if std::mem::take(&mut self.transaction_lost) {
            return if commit {
                Err(transaction_lost())
            } else {
                Ok(())
            };
        }
        let end = if commit { "COMMIT" } else { "ROLLBACK" };
        self.run(end, None).await.map(drop)
    }

    /// Whether a transaction is open on this connection.
    pub(crate) fn in_transaction(&self) -> bool {
        !self.db.is_autocommit()
    }

    /// Ends an open transaction without waiting for anything (a transaction dropped unfinished). A
    /// rollback takes no lock, so it cannot be refused as busy.
    pub(crate) fn roll_back_now(&mut self) {
        self.transaction_lost = false;
        if self.in_transaction() {
            if let Err(e) = self.db.execute_batch("ROLLBACK") {
                tracing::warn!(error = %e, "rolling back an abandoned SQLite transaction failed");
            }
        }
    }
}

#[cfg(test)]
mod tests;
