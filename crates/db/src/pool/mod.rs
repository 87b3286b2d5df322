//! Connection pools, and the transaction type the stores write through.
//!
//! PostgreSQL uses sqlx's pool. SQLite uses bankgate's own, smaller one, of connections that run each
//! statement on the calling thread (`crate::sqlite`): a connection goes back to the idle list the moment
//! its user drops it, with anything it left open rolled back first. A SQLite connection is a local file
//! with no thread of its own, so there is nothing for a ping to find and none is made.

mod conn;
mod executor;
#[cfg(test)]
mod tests;

use crate::sqlite::{SqliteConn, SqliteTarget};
use conn::SqliteHome;
pub use conn::{Conn, PoolConn, Tx};
use sqlx::AnyPool;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// A pool of connections to one database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Pool {
    kind: Kind,
    /// Counts the writes through this pool, for a write pool (see [`WriteGeneration`]).
    writes: Option<WriteGeneration>,
}

/// A number that moves after every write made through one database's write pool: each committed
/// transaction, and each connection given back (which covers statements run outside a transaction). A
/// reader that finds it unchanged from before a read to after can keep what it read as current until
/// the number moves again; it is only as good as the rule that every write goes through the pool.
#[derive(Debug, Clone, Default)]
pub struct WriteGeneration(Arc<AtomicU64>);

impl WriteGeneration {
    pub fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    fn advance(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

#[derive(Debug, Clone)]
enum Kind {
    Sqlx(AnyPool),
    Sqlite(Arc<SqlitePool>),
}

impl Pool {
    pub(crate) fn sqlx(pool: AnyPool) -> Pool {
        Pool {
            kind: Kind::Sqlx(pool),
            writes: None,
        }
    }

    /// The same connections, counting the writes made through them in `writes`.
    pub(crate) fn counting_writes(self, writes: &WriteGeneration) -> Pool {
        Pool {
            writes: Some(writes.clone()),
            ..self
        }
    }

    pub(crate) fn sqlite(target: SqliteTarget, size: u32, acquire_timeout: Duration) -> Pool {
        let size = size.max(1) as usize;
        Pool {
            kind: Kind::Sqlite(Arc::new(SqlitePool {
                target,
                idle: Mutex::new(Vec::with_capacity(size)),
                permits: Arc::new(Semaphore::new(size)),
                acquire_timeout,
            })),
            writes: None,
        }
    }

    /// A connection for the caller alone until it is dropped.
    pub async fn acquire(&self) -> Result<PoolConn, sqlx::Error> {
        let (conn, home) = match &self.kind {
            Kind::Sqlx(pool) => (Conn::Sqlx(pool.acquire().await?), None),
            Kind::Sqlite(pool) => {
                let (conn, home) = pool.acquire().await?;
                (Conn::Sqlite(conn), Some(home))
            }
        };
        Ok(PoolConn::new(conn, home, self.writes.clone()))
    }

    /// Begins a transaction on a connection of its own; dropped without [`Tx::commit`], it rolls back.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Tx::begin(self.acquire().await?).await
    }

    pub async fn close(&self) {
        match &self.kind {
            Kind::Sqlx(pool) => pool.close().await,
            Kind::Sqlite(pool) => pool.close(),
        }
    }
}

#[derive(Debug)]
struct SqlitePool {
    target: SqliteTarget,
    /// Connections not in use, kept boxed as their users hold them, so that handing one out or taking
    /// it back moves a pointer.
    #[allow(clippy::vec_box)]
    idle: Mutex<Vec<Box<SqliteConn>>>,
    /// One permit per connection the pool may have open; closed when the pool is.
    permits: Arc<Semaphore>,
    acquire_timeout: Duration,
}

impl SqlitePool {
    async fn acquire(self: &Arc<Self>) -> Result<(Box<SqliteConn>, SqliteHome), sqlx::Error> {
        let permit = tokio::time::timeout(
            self.acquire_timeout,
            Arc::clone(&self.permits).acquire_owned(),
        )
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)?
        .map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = self.lock_idle().pop();
        let conn = match idle {
            Some(conn) => conn,
            None => Box::new(SqliteConn::open(&self.target)?),
        };
        let home = SqliteHome {
            pool: Arc::clone(self),
            _permit: permit,
        };
        Ok((conn, home))
    }

    fn give_back(&self, conn: Box<SqliteConn>) {
        // Checked under the lock `close` takes, so nothing is put back after `close` emptied the list.
        let mut idle = self.lock_idle();
        if !self.permits.is_closed() {
            idle.push(conn);
        }
    }

    /// Closes the idle connections; one in use is closed when its user drops it.
    fn close(&self) {
        let idle = {
            let mut idle = self.lock_idle();
            self.permits.close();
            std::mem::take(&mut *idle)
        };
        drop(idle);
    }

    #[allow(clippy::vec_box)]
    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<Box<SqliteConn>>> {
        // The list is only pushed to and popped from; a panic elsewhere cannot leave it half-changed.
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
