use super::*;
use sqlx::Executor;
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
