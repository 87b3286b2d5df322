//! A connection taken from a pool, and the transaction the stores write through, with what each does
//! when dropped: give the connection back, queue a rollback, and count a write only once it has landed.

use super::{SqlitePool, WriteGeneration};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, Connection, Database, TransactionManager};
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use tokio::sync::OwnedSemaphorePermit;

/// A connection taken from a [`Pool`], given back when dropped.
#[derive(Debug)]
pub struct PoolConn {
    /// Taken out only by `drop`.
    held: Option<Held>,
    writes: Option<WriteGeneration>,
    /// A write (a commit, or a statement run through the pool) was sent and not yet answered. If the
    /// caller is cancelled now, the write may still land after the connection is dropped.
    settling: bool,
}

#[derive(Debug)]
pub(super) enum Held {
    Sqlx(PoolConnection<Any>),
    Sqlite(SqliteHeld),
}

/// A connection of bankgate's SQLite pool, given back to it when dropped.
#[derive(Debug)]
pub(super) struct SqliteHeld {
    pub(super) conn: Option<AnyConnection>,
    pub(super) pool: Arc<SqlitePool>,
    /// Its worker thread is gone: every later use would fail, so it is not given back.
    pub(super) broken: bool,
    // Released after the connection is back in the idle list (fields drop after `Drop::drop`).
    pub(super) _permit: OwnedSemaphorePermit,
}

impl Drop for SqliteHeld {
    fn drop(&mut self) {
        if let (Some(conn), false) = (self.conn.take(), self.broken) {
            self.pool.give_back(conn);
        }
    }
}

const HELD: &str = "a pooled connection is only taken out when it is dropped";

impl Deref for PoolConn {
    type Target = AnyConnection;

    #[allow(clippy::expect_used)]
    fn deref(&self) -> &AnyConnection {
        match self.held.as_ref().expect(HELD) {
            Held::Sqlx(conn) => conn,
            Held::Sqlite(held) => held.conn.as_ref().expect(HELD),
        }
    }
}

impl DerefMut for PoolConn {
    #[allow(clippy::expect_used)]
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self.held.as_mut().expect(HELD) {
            Held::Sqlx(conn) => conn,
            Held::Sqlite(held) => held.conn.as_mut().expect(HELD),
        }
    }
}

impl PoolConn {
    pub(super) fn new(held: Held, writes: Option<WriteGeneration>) -> PoolConn {
        PoolConn {
            held: Some(held),
            writes,
            settling: false,
        }
    }

    /// Passes `result` on, noting a connection whose worker thread is gone so it is not reused.
    pub(super) fn noting<T>(&mut self, result: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        if let (Err(sqlx::Error::WorkerCrashed), Some(Held::Sqlite(held))) =
            (&result, &mut self.held)
        {
            held.broken = true;
        }
        result
    }

    /// Runs `write` on this connection, marked as settling while it is under way.
    pub(super) async fn settle<T>(
        &mut self,
        write: impl AsyncFnOnce(&mut AnyConnection) -> Result<T, sqlx::Error>,
    ) -> Result<T, sqlx::Error> {
        self.settling = true;
        let result = write(&mut **self).await;
        self.settling = false;
        self.noting(result)
    }
}

impl Drop for PoolConn {
    fn drop(&mut self) {
        let Some(held) = self.held.take() else {
            return;
        };
        let Some(writes) = self.writes.take() else {
            return;
        };
        // Dropped by a caller cancelled while its write was under way: the write may still land, and
        // the generation must not move before it does. A ping queues behind it on the connection.
        if self.settling {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    let mut conn = PoolConn::new(held, Some(writes));
                    let pinged = conn.ping().await;
                    let _ = conn.noting(pinged);
                });
                return;
            }
        }
        drop(held);
        writes.advance();
    }
}

/// A transaction on a pooled connection, as sqlx's `Transaction` but over [`PoolConn`]. Dropped
/// without [`Tx::commit`] or [`Tx::rollback`], it queues its rollback on the connection, which runs
/// before anything a later user of the connection sends.
#[derive(Debug)]
pub struct Tx {
    conn: PoolConn,
    open: bool,
}

impl Tx {
    pub(super) async fn begin(mut conn: PoolConn) -> Result<Tx, sqlx::Error> {
        let begun = <Any as Database>::TransactionManager::begin(&mut conn, None).await;
        conn.noting(begun)?;
        Ok(Tx { conn, open: true })
    }

    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        self.conn
            .settle(async |conn| <Any as Database>::TransactionManager::commit(conn).await)
            .await?;
        self.open = false;
        if let Some(writes) = &self.conn.writes {
            writes.advance();
        }
        Ok(())
    }

    pub async fn rollback(mut self) -> Result<(), sqlx::Error> {
        let rolled_back = <Any as Database>::TransactionManager::rollback(&mut self.conn).await;
        self.conn.noting(rolled_back)?;
        self.open = false;
        Ok(())
    }
}

impl Deref for Tx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if self.open {
            <Any as Database>::TransactionManager::start_rollback(&mut self.conn);
        }
    }
}
