use super::*;
use crate::is_unique_violation;
use sqlx::{Executor, Row};

fn open(dir: &tempfile::TempDir) -> SqliteConn {
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let target = SqliteTarget::parse(&url).unwrap_or_else(|e| panic!("url: {e}"));
    SqliteConn::open(&target).unwrap_or_else(|e| panic!("open: {e}"))
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"))
}

async fn create(conn: &mut crate::Conn) {
    conn.execute(
        "CREATE TABLE v (id INTEGER PRIMARY KEY, n BIGINT, flag BOOLEAN, x REAL, s TEXT, b BLOB)",
    )
    .await
    .unwrap_or_else(|e| panic!("create: {e}"));
}

#[tokio::test]
async fn values_go_in_and_come_out_as_sqlxs_sqlite_driver_gives_them() {
    let dir = temp_dir();
    let mut conn = crate::Conn::Sqlite(Box::new(open(&dir)));
    create(&mut conn).await;
    // Arguments named by number may come in any order and repeat.
    sqlx::query("INSERT INTO v (id, n, flag, x, s, b) VALUES ($1, $2, $3, $4, $5, $6), ($1 + 1, $2, NULL, NULL, NULL, NULL)")
        .bind(7_i64)
        .bind(-9_000_000_000_i64)
        .bind(true)
        .bind(2.5_f64)
        .bind("é and ;")
        .bind(vec![0_u8, 1, 2])
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("insert: {e}"));
    let rows = sqlx::query("SELECT id, n, flag, x, s, b FROM v ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("select: {e}"));
    assert_eq!(rows.len(), 2);
    let first = &rows[0];
    assert_eq!(first.try_get::<i64, _>("id").ok(), Some(7));
    assert_eq!(first.try_get::<i64, _>("n").ok(), Some(-9_000_000_000));
    assert_eq!(first.try_get::<i64, _>("flag").ok(), Some(1));
    assert_eq!(first.try_get::<f64, _>("x").ok(), Some(2.5));
    assert_eq!(
        first.try_get::<String, _>("s").ok().as_deref(),
        Some("é and ;")
    );
    assert_eq!(first.try_get::<Vec<u8>, _>("b").ok(), Some(vec![0, 1, 2]));
    let second = &rows[1];
    assert_eq!(second.try_get::<i64, _>(0).ok(), Some(8));
    assert_eq!(second.try_get::<Option<String>, _>("s").ok(), Some(None));
    assert_eq!(second.try_get::<Option<i64>, _>("flag").ok(), Some(None));
}

#[tokio::test]
async fn a_duplicate_key_is_a_unique_violation_and_counts_are_reported() {
    let dir = temp_dir();
    let mut conn = crate::Conn::Sqlite(Box::new(open(&dir)));
    create(&mut conn).await;
    let insert = "INSERT INTO v (id) VALUES ($1)";
    for id in [1_i64, 2] {
        sqlx::query(insert)
            .bind(id)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("insert: {e}"));
    }
    let again = sqlx::query(insert).bind(1_i64).execute(&mut conn).await;
    assert!(again.is_err_and(|e| is_unique_violation(&e)));
    let updated = sqlx::query("UPDATE v SET n = 5 WHERE id <= $1 RETURNING id")
        .bind(2_i64)
        .fetch_all(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("update: {e}"));
    assert_eq!(updated.len(), 2);
    let result = sqlx::query("DELETE FROM v WHERE n = 5")
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("delete: {e}"));
    assert_eq!(result.rows_affected(), 2);
}

#[tokio::test]
async fn a_text_of_several_statements_runs_them_all() {
    let dir = temp_dir();
    let mut conn = crate::Conn::Sqlite(Box::new(open(&dir)));
    create(&mut conn).await;
    conn.execute("INSERT INTO v (id) VALUES (1); INSERT INTO v (id) VALUES (2);")
        .await
        .unwrap_or_else(|e| panic!("insert: {e}"));
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM v")
        .fetch_one(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("count: {e}"));
    assert_eq!(n, 2);
    // A broken statement is an error, not a silent nothing.
    assert!(conn.execute("SELEKT 1").await.is_err());
}

#[test]
fn an_in_memory_database_is_refused_with_a_reason() {
    for url in ["sqlite::memory:", "sqlite://x.db?mode=memory"] {
        assert!(
            matches!(SqliteTarget::parse(url), Err(sqlx::Error::Configuration(_))),
            "{url}: {:?}",
            SqliteTarget::parse(url).map(|_| ())
        );
    }
    assert!(SqliteTarget::parse("sqlite://x.db?mode=rwc").is_ok());
}

#[tokio::test]
async fn a_statement_may_use_what_the_one_before_it_in_the_same_text_created() {
    let dir = temp_dir();
    let mut conn = crate::Conn::Sqlite(Box::new(open(&dir)));
    conn.execute(
        "CREATE TABLE w (v INTEGER); INSERT INTO w (v) VALUES (1); INSERT INTO w (v) VALUES (2)",
    )
    .await
    .unwrap_or_else(|e| panic!("create and insert: {e}"));
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM w")
        .fetch_one(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("count: {e}"));
    assert_eq!(n, 2);
}

#[tokio::test]
async fn a_cached_statement_reads_the_columns_a_schema_change_gave_it() {
    let dir = temp_dir();
    let mut conn = crate::Conn::Sqlite(Box::new(open(&dir)));
    conn.execute("CREATE TABLE w (a INTEGER); INSERT INTO w (a) VALUES (1)")
        .await
        .unwrap_or_else(|e| panic!("create: {e}"));
    let select = "SELECT * FROM w";
    let before = sqlx::query(select)
        .fetch_one(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("select: {e}"));
    assert_eq!(before.columns().len(), 1);
    conn.execute("ALTER TABLE w ADD COLUMN b TEXT DEFAULT 'x'")
        .await
        .unwrap_or_else(|e| panic!("alter: {e}"));
    let after = sqlx::query(select)
        .fetch_one(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("select: {e}"));
    assert_eq!(after.try_get::<String, _>("b").ok().as_deref(), Some("x"));
}
