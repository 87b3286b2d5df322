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

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use sqlx::any::{AnyConnectOptions, AnyQueryResult, AnyRow, AnyStatement, AnyTypeInfo};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, ConnectOptions, Connection, Database, Describe, Either};
use sqlx::{Execute, Executor, TransactionManager};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

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
enum Held {
    Sqlx(PoolConnection<Any>),
    Sqlite(SqliteHeld),
}

/// A connection of bankgate's SQLite pool, given back to it when dropped.
#[derive(Debug)]
struct SqliteHeld {
    conn: Option<AnyConnection>,
    pool: Arc<SqlitePool>,
    /// Its worker thread is gone: every later use would fail, so it is not given back.
    broken: bool,
    // Released after the connection is back in the idle list (fields drop after `Drop::drop`).
    _permit: OwnedSemaphorePermit,
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
    fn new(held: Held, writes: Option<WriteGeneration>) -> PoolConn {
        PoolConn {
            held: Some(held),
            writes,
            settling: false,
        }
    }

    /// Passes `result` on, noting a connection whose worker thread is gone so it is not reused.
    fn noting<T>(&mut self, result: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        if let (Err(sqlx::Error::WorkerCrashed), Some(Held::Sqlite(held))) =
            (&result, &mut self.held)
        {
            held.broken = true;
        }
        result
    }

    /// Runs `write` on this connection, marked as settling while it is under way.
    async fn settle<T>(
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
    async fn begin(mut conn: PoolConn) -> Result<Tx, sqlx::Error> {
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

/// A pool runs a statement on a connection taken for that statement alone, as sqlx's pools do. Results
/// are gathered before the connection is given back, which suits the short queries the stores make.
impl<'p> Executor<'p> for &'_ Pool {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<AnyQueryResult, AnyRow>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Any>,
    {
        let pool = self.clone();
        stream::once(async move {
            let mut conn = pool.acquire().await?;
            conn.settle(async |conn| conn.fetch_many(query).try_collect::<Vec<_>>().await)
                .await
        })
        .map_ok(|items| stream::iter(items.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<AnyRow>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Any>,
    {
        let pool = self.clone();
        Box::pin(async move {
            let mut conn = pool.acquire().await?;
            conn.settle(async |conn| conn.fetch_optional(query).await)
                .await
        })
    }

    fn fetch_all<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Vec<AnyRow>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Any>,
    {
        let pool = self.clone();
        Box::pin(async move {
            let mut conn = pool.acquire().await?;
            conn.settle(async |conn| conn.fetch_all(query).await).await
        })
    }

    fn execute<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<AnyQueryResult, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Any>,
    {
        let pool = self.clone();
        Box::pin(async move {
            let mut conn = pool.acquire().await?;
            conn.settle(async |conn| conn.execute(query).await).await
        })
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, Result<AnyStatement<'q>, sqlx::Error>>
    where
        'p: 'e,
    {
        let pool = self.clone();
        Box::pin(async move {
            let mut conn = pool.acquire().await?;
            let result = (&mut *conn).prepare_with(sql, parameters).await;
            conn.noting(result)
        })
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, Result<Describe<Any>, sqlx::Error>>
    where
        'p: 'e,
    {
        let pool = self.clone();
        Box::pin(async move {
            let mut conn = pool.acquire().await?;
            let result = (&mut *conn).describe(sql).await;
            conn.noting(result)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    async fn sqlite_pool(dir: &tempfile::TempDir, size: u32) -> Pool {
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("pool.db").display());
        sqlx::any::install_default_drivers();
        let connect = AnyConnectOptions::from_str(&url).unwrap_or_else(|e| panic!("url: {e}"));
        let pool = Pool::sqlite(connect, size, Duration::from_millis(200));
        pool.execute("CREATE TABLE IF NOT EXISTS t (v INTEGER NOT NULL)")
            .await
            .unwrap_or_else(|e| panic!("create: {e}"));
        pool
    }

    async fn count(pool: &Pool) -> i64 {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM t")
            .fetch_one(pool)
            .await
            .unwrap_or_else(|e| panic!("count: {e}"));
        n
    }

    fn temp_dir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"))
    }

    #[tokio::test]
    async fn a_transaction_dropped_unfinished_is_rolled_back_before_the_connection_is_reused() {
        let dir = temp_dir();
        let pool = sqlite_pool(&dir, 1).await;
        {
            let mut tx = pool.begin().await.unwrap_or_else(|e| panic!("begin: {e}"));
            sqlx::query("INSERT INTO t (v) VALUES (1)")
                .execute(&mut *tx)
                .await
                .unwrap_or_else(|e| panic!("insert: {e}"));
        }
        assert_eq!(count(&pool).await, 0);
        let mut tx = pool.begin().await.unwrap_or_else(|e| panic!("begin: {e}"));
        sqlx::query("INSERT INTO t (v) VALUES (2)")
            .execute(&mut *tx)
            .await
            .unwrap_or_else(|e| panic!("insert: {e}"));
        tx.commit().await.unwrap_or_else(|e| panic!("commit: {e}"));
        assert_eq!(count(&pool).await, 1);
    }

    #[tokio::test]
    async fn a_full_pool_makes_the_next_caller_wait_and_times_out() {
        let dir = temp_dir();
        let pool = sqlite_pool(&dir, 1).await;
        let held = pool
            .acquire()
            .await
            .unwrap_or_else(|e| panic!("acquire: {e}"));
        assert!(matches!(
            pool.acquire().await,
            Err(sqlx::Error::PoolTimedOut)
        ));
        let waiting = tokio::spawn({
            let pool = pool.clone();
            async move { pool.acquire().await.map(|_| ()) }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(held);
        assert!(waiting.await.is_ok_and(|acquired| acquired.is_ok()));
    }

    #[tokio::test]
    async fn a_connection_whose_worker_is_gone_is_not_given_back() {
        let dir = temp_dir();
        let pool = sqlite_pool(&dir, 1).await;
        let Kind::Sqlite(sqlite) = &pool.kind else {
            panic!("a SQLite pool");
        };
        let mut conn = pool
            .acquire()
            .await
            .unwrap_or_else(|e| panic!("acquire: {e}"));
        assert!(conn.noting::<()>(Err(sqlx::Error::WorkerCrashed)).is_err());
        drop(conn);
        assert!(sqlite.lock_idle().is_empty());
        // Its place is free again: the next caller gets a new connection that works.
        assert_eq!(count(&pool).await, 0);
        assert_eq!(sqlite.lock_idle().len(), 1);
    }

    #[tokio::test]
    async fn a_commit_whose_caller_gave_up_moves_the_generation_only_once_it_landed() {
        let dir = temp_dir();
        let writes = WriteGeneration::default();
        let pool = sqlite_pool(&dir, 1).await.counting_writes(&writes);
        // Another connection, as a reader keeping what it read by the generation would have.
        let reader = sqlite_pool(&dir, 1).await;
        for attempt in 1..=500 {
            let before = writes.current();
            let mut tx = pool.begin().await.unwrap_or_else(|e| panic!("begin: {e}"));
            sqlx::query("INSERT INTO t (v) VALUES (1)")
                .execute(&mut *tx)
                .await
                .unwrap_or_else(|e| panic!("insert: {e}"));
            // Polled once: the commit is sent, and its caller gives up before the answer.
            if tokio::time::timeout(Duration::ZERO, tx.commit())
                .await
                .is_ok()
            {
                continue; // Answered at once: nothing was cancelled; try again.
            }
            let deadline = Instant::now() + Duration::from_secs(5);
            while writes.current() == before {
                assert!(Instant::now() < deadline, "the generation never moved");
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            assert_eq!(count(&reader).await, attempt);
            return;
        }
        // On a busy machine the connection's thread can answer within the first poll every time; then
        // no caller gave up, and there was nothing to check.
        eprintln!("every commit was answered within its first poll");
    }

    #[tokio::test]
    async fn a_closed_pool_hands_out_nothing() {
        let dir = temp_dir();
        let pool = sqlite_pool(&dir, 2).await;
        pool.close().await;
        assert!(matches!(pool.acquire().await, Err(sqlx::Error::PoolClosed)));
    }
}
