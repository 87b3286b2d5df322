//! A connection taken from a pool, and the transaction the stores write through, with what each does
//! when dropped: give the connection back, roll back what was left open, and count a write only once it
//! has landed.

use super::{SqlitePool, WriteGeneration};
use crate::sqlite::SqliteConn;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, Connection, Database, TransactionManager};
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use tokio::sync::OwnedSemaphorePermit;

/// A database connection as the stores use it: `&mut Conn` runs sqlx queries.
#[derive(Debug)]
pub enum Conn {
    /// A connection of sqlx's pool (PostgreSQL).
    Sqlx(PoolConnection<Any>),
    /// A SQLite connection that runs statements on the calling thread (boxed: it is larger than the
    /// handle sqlx's pools give out, and transactions are passed around by value).
    Sqlite(Box<SqliteConn>),
}

impl Conn {
    /// The engine this connection speaks to.
    pub fn engine(&self) -> crate::Engine {
        match self {
            Conn::Sqlx(_) => crate::Engine::Postgres,
            Conn::Sqlite(_) => crate::Engine::Sqlite,
        }
    }

    async fn begin(&mut self, for_writing: bool) -> Result<(), sqlx::Error> {
        match self {
            Conn::Sqlx(conn) => <Any as Database>::TransactionManager::begin(conn, None).await,
            // A writer takes the write lock at once, so a transaction that read first never finds
            // another connection's write between its read and its own.
            Conn::Sqlite(conn) => {
                let begin = if for_writing {
                    "BEGIN IMMEDIATE"
                } else {
                    "BEGIN"
                };
                conn.run(begin, None).await.map(drop)
            }
        }
    }

    async fn end(&mut self, commit: bool) -> Result<(), sqlx::Error> {
        match (self, commit) {
            (Conn::Sqlx(conn), true) => <Any as Database>::TransactionManager::commit(conn).await,
            (Conn::Sqlx(conn), false) => {
                <Any as Database>::TransactionManager::rollback(conn).await
            }
            (Conn::Sqlite(conn), commit) => conn.end_transaction(commit).await,
        }
    }

    /// Ends an open transaction without waiting: queued on sqlx's connection, done at once on SQLite.
    fn abandon_transaction(&mut self) {
        match self {
            Conn::Sqlx(conn) => <Any as Database>::TransactionManager::start_rollback(conn),
            Conn::Sqlite(conn) => conn.roll_back_now(),
        }
    }

    /// The sqlx connection underneath, where there is one (what sqlx's migrator runs on).
    pub(crate) fn as_sqlx(&mut self) -> Option<&mut AnyConnection> {
        match self {
            Conn::Sqlx(conn) => Some(conn),
            Conn::Sqlite(_) => None,
        }
    }
}

/// A connection taken from a [`Pool`](super::Pool), given back when dropped.
#[derive(Debug)]
pub struct PoolConn {
    /// Taken out only by `drop`.
    conn: Option<Conn>,
    /// Where a SQLite connection goes back to; sqlx's connections know their pool themselves.
    home: Option<SqliteHome>,
    writes: Option<WriteGeneration>,
    /// A write on a sqlx connection (a commit, or a statement run through the pool) was sent and not
    /// yet answered. If the caller is cancelled now, the write may still land after the connection is
    /// dropped. (A SQLite statement runs within one poll: it has landed or not when it returns.)
    settling: bool,
}

#[derive(Debug)]
pub(super) struct SqliteHome {
    pub(super) pool: Arc<SqlitePool>,
    // Released after the connection is back in the idle list (dropped after it is given back).
    pub(super) _permit: OwnedSemaphorePermit,
}

const HELD: &str = "a pooled connection is only taken out when it is dropped";

impl Deref for PoolConn {
    type Target = Conn;

    #[allow(clippy::expect_used)]
    fn deref(&self) -> &Conn {
        self.conn.as_ref().expect(HELD)
    }
}

impl DerefMut for PoolConn {
    #[allow(clippy::expect_used)]
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn.as_mut().expect(HELD)
    }
}

impl PoolConn {
    pub(super) fn new(
        conn: Conn,
        home: Option<SqliteHome>,
        writes: Option<WriteGeneration>,
    ) -> PoolConn {
        PoolConn {
            conn: Some(conn),
            home,
            writes,
            settling: false,
        }
    }

    /// Runs `write` on this connection, marked as settling while it is under way.
    pub(super) async fn settle<T>(
        &mut self,
        write: impl AsyncFnOnce(&mut Conn) -> Result<T, sqlx::Error>,
    ) -> Result<T, sqlx::Error> {
        self.settling = true;
        let result = write(&mut **self).await;
        self.settling = false;
        result
    }
}

impl Drop for PoolConn {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        let writes = self.writes.take();
        match (&mut conn, self.home.take()) {
            (Conn::Sqlite(sqlite), Some(home)) => {
                // Whatever a caller left open is not handed to the next one; a connection whose
                // rollback failed is closed instead.
                sqlite.roll_back_now();
                if let Conn::Sqlite(sqlite) = conn {
                    if !sqlite.in_transaction() {
                        home.pool.give_back(sqlite);
                    }
                }
            }
            (Conn::Sqlx(_), _) if self.settling && writes.is_some() => {
                // Dropped by a caller cancelled while its write was under way: the write may still
                // land, and the generation must not move before it does. A ping queues behind it.
                if let (Ok(runtime), Some(writes)) =
                    (tokio::runtime::Handle::try_current(), writes.clone())
                {
                    runtime.spawn(async move {
                        if let Conn::Sqlx(mut conn) = conn {
                            let _ = conn.ping().await;
                        }
                        writes.advance();
                    });
                    return;
                }
            }
            _ => {}
        }
        if let Some(writes) = writes {
            writes.advance();
        }
    }
}

/// A transaction on a pooled connection, as sqlx's `Transaction` but over [`PoolConn`]. Dropped
/// without [`Tx::commit`] or [`Tx::rollback`], it is rolled back before anyone else uses the connection.
#[derive(Debug)]
pub struct Tx {
    conn: PoolConn,
    open: bool,
}

impl Tx {
    pub(super) async fn begin(mut conn: PoolConn) -> Result<Tx, sqlx::Error> {
        let for_writing = conn.writes.is_some();
        conn.begin(for_writing).await?;
        Ok(Tx { conn, open: true })
    }

    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        self.conn.settle(async |conn| conn.end(true).await).await?;
        self.open = false;
        if let Some(writes) = &self.conn.writes {
            writes.advance();
        }
        Ok(())
    }

    pub async fn rollback(mut self) -> Result<(), sqlx::Error> {
        self.conn.end(false).await?;
        self.open = false;
        Ok(())
    }
}

impl Deref for Tx {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        &self.conn
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.conn
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if self.open {
            self.conn.abandon_transaction();
        }
    }
}
