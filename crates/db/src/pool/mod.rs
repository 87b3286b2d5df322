//! Connection pools, and the transaction type the stores write through.
//!
//! PostgreSQL uses sqlx's pool. SQLite uses bankgate's own, smaller one: sqlx's pool pings every
//! connection it takes back (a round trip to SQLite's worker thread and a spawned task per statement),
//! and on the single writer connection that ping sits inside the critical section every write waits for.
//! A SQLite connection is a local file, so there is nothing for the ping to find: bankgate's pool hands a
//! connection back as soon as its user drops it. What the ping also did, flushing the work of a caller
//! cancelled mid-statement, SQLite's worker already does in order (a dropped transaction queues its
//! rollback before the connection is handed out again). A connection that sat idle for a while is pinged
//! before it is handed out, as on PostgreSQL, and replaced if its worker thread is gone; one whose worker
//! is found gone while in use (sqlx's `WorkerCrashed`) is not given back.

mod conn;
mod executor;
#[cfg(test)]
mod tests;

use conn::{Held, SqliteHeld};
pub use conn::{PoolConn, Tx};
use sqlx::any::AnyConnectOptions;
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Connection};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
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

    pub(crate) fn sqlite(connect: AnyConnectOptions, size: u32, acquire_timeout: Duration) -> Pool {
        let size = size.max(1) as usize;
        Pool {
            kind: Kind::Sqlite(Arc::new(SqlitePool {
                connect,
                idle: Mutex::new(Vec::with_capacity(size)),
                permits: Arc::new(Semaphore::new(size)),
                acquire_timeout,
            })),
            writes: None,
        }
    }

    /// A connection for the caller alone until it is dropped.
    pub async fn acquire(&self) -> Result<PoolConn, sqlx::Error> {
        let held = match &self.kind {
            Kind::Sqlx(pool) => Held::Sqlx(pool.acquire().await?),
            Kind::Sqlite(pool) => pool.acquire().await?,
        };
        Ok(PoolConn::new(held, self.writes.clone()))
    }

    /// Begins a transaction on a connection of its own; dropped without [`Tx::commit`], it rolls back.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Tx::begin(self.acquire().await?).await
    }

    pub async fn close(&self) {
        match &self.kind {
            Kind::Sqlx(pool) => pool.close().await,
            Kind::Sqlite(pool) => pool.close().await,
        }
    }
}

#[derive(Debug)]
struct SqlitePool {
    connect: AnyConnectOptions,
    /// Connections not in use, each with when it was given back.
    idle: Mutex<Vec<(AnyConnection, Instant)>>,
    /// One permit per connection the pool may have open; closed when the pool is.
    permits: Arc<Semaphore>,
    acquire_timeout: Duration,
}

impl SqlitePool {
    async fn acquire(self: &Arc<Self>) -> Result<Held, sqlx::Error> {
        tokio::time::timeout(self.acquire_timeout, self.acquire_untimed())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
    }

    async fn acquire_untimed(self: &Arc<Self>) -> Result<Held, sqlx::Error> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = self.lock_idle().pop();
        let conn = match idle {
            Some((conn, since)) if since.elapsed() <= crate::PING_IF_IDLE_FOR => conn,
            Some((mut conn, _)) => match conn.ping().await {
                Ok(()) => conn,
                Err(_) => self.open().await?,
            },
            None => self.open().await?,
        };
        Ok(Held::Sqlite(SqliteHeld {
            conn: Some(conn),
            pool: Arc::clone(self),
            broken: false,
            _permit: permit,
        }))
    }

    async fn open(&self) -> Result<AnyConnection, sqlx::Error> {
        let mut conn = self.connect.connect().await?;
        crate::sqlite_pragmas(&mut conn).await?;
        Ok(conn)
    }

    fn give_back(&self, conn: AnyConnection) {
        // Checked under the lock `close` takes, so nothing is put back after `close` emptied the list.
        let mut idle = self.lock_idle();
        if !self.permits.is_closed() {
            idle.push((conn, Instant::now()));
        }
    }

    /// Closes the idle connections; one in use is closed when its user drops it.
    async fn close(&self) {
        let idle = {
            let mut idle = self.lock_idle();
            self.permits.close();
            std::mem::take(&mut *idle)
        };
        for (conn, _) in idle {
            let _ = conn.close().await;
        }
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<(AnyConnection, Instant)>> {
        // The list is only pushed to and popped from; a panic elsewhere cannot leave it half-changed.
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
