use super::*;
use sqlx::Executor;

async fn sqlite_pool(dir: &tempfile::TempDir, size: u32) -> Pool {
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("pool.db").display());
    let target = SqliteTarget::parse(&url).unwrap_or_else(|e| panic!("url: {e}"));
    let pool = Pool::sqlite(target, size, Duration::from_millis(200));
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
async fn a_closed_pool_hands_out_nothing() {
    let dir = temp_dir();
    let pool = sqlite_pool(&dir, 2).await;
    pool.close().await;
    assert!(matches!(pool.acquire().await, Err(sqlx::Error::PoolClosed)));
}

#[tokio::test]
async fn a_connection_given_back_with_its_transaction_open_is_rolled_back_first() {
    let dir = temp_dir();
    let pool = sqlite_pool(&dir, 1).await;
    {
        let mut conn = pool
            .acquire()
            .await
            .unwrap_or_else(|e| panic!("acquire: {e}"));
        conn.execute("BEGIN; INSERT INTO t (v) VALUES (1)")
            .await
            .unwrap_or_else(|e| panic!("insert: {e}"));
    }
    assert_eq!(count(&pool).await, 0);
}

// One thread: a writer waiting for another connection's lock must not hold the thread the lock's
// holder needs to finish.
#[tokio::test(flavor = "current_thread")]
async fn a_write_waits_for_another_connections_lock_without_blocking_the_thread() {
    let dir = temp_dir();
    let first = sqlite_pool(&dir, 1).await;
    let second = sqlite_pool(&dir, 1).await;
    let mut holding = first.begin().await.unwrap_or_else(|e| panic!("begin: {e}"));
    sqlx::query("INSERT INTO t (v) VALUES (1)")
        .execute(&mut *holding)
        .await
        .unwrap_or_else(|e| panic!("insert: {e}"));
    let waiting = tokio::spawn(async move {
        sqlx::query("INSERT INTO t (v) VALUES (2)")
            .execute(&second)
            .await
            .map(|done| done.rows_affected())
    });
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert!(!waiting.is_finished());
    holding
        .commit()
        .await
        .unwrap_or_else(|e| panic!("commit: {e}"));
    assert!(waiting
        .await
        .is_ok_and(|inserted| inserted.is_ok_and(|n| n == 1)));
    assert_eq!(count(&first).await, 2);
}
