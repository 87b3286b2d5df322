//! How the stores' sqlx queries run: on a pool (each statement on a connection taken for it alone), or
//! on a connection or transaction (`&mut Conn`), where sqlx's connections run them as sqlx does and
//! SQLite's on the calling thread.

use super::{Conn, Pool};
use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use sqlx::any::{AnyQueryResult, AnyRow, AnyStatement, AnyTypeInfo};
use sqlx::{Any, Describe, Either, Execute, Executor};
use std::future::Future;

/// Runs `work` on a connection of `pool` taken for it alone.
async fn on_own_connection<T>(
    pool: Pool,
    work: impl AsyncFnOnce(&mut Conn) -> Result<T, sqlx::Error>,
) -> Result<T, sqlx::Error> {
    pool.acquire().await?.settle(work).await
}

/// The results of `run`, once gathered, as the stream sqlx's `fetch_many` returns.
fn gathered<'e, T: Send + 'e>(
    run: impl Future<Output = Result<Vec<T>, sqlx::Error>> + Send + 'e,
) -> BoxStream<'e, Result<T, sqlx::Error>> {
    stream::once(run)
        .map_ok(|items| stream::iter(items.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
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
        gathered(on_own_connection(self.clone(), async |conn| {
            conn.fetch_many(query).try_collect::<Vec<_>>().await
        }))
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<AnyRow>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Any>,
    {
        Box::pin(on_own_connection(self.clone(), async |conn| {
            conn.fetch_optional(query).await
        }))
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, Result<AnyStatement<'q>, sqlx::Error>>
    where
        'p: 'e,
    {
        Box::pin(on_own_connection(self.clone(), async |conn| {
            conn.prepare_with(sql, parameters).await
        }))
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, Result<Describe<Any>, sqlx::Error>>
    where
        'p: 'e,
    {
        Box::pin(on_own_connection(self.clone(), async |conn| {
            conn.describe(sql).await
        }))
    }
}

/// Runs `query` on a SQLite connection, all its results gathered.
async fn run_on_sqlite<'q, E>(
    conn: &mut crate::sqlite::SqliteConn,
    mut query: E,
) -> Result<crate::sqlite::Results, sqlx::Error>
where
    E: 'q + Execute<'q, Any>,
{
    let sql = query.sql();
    let arguments = query.take_arguments().map_err(sqlx::Error::Encode)?;
    conn.run(sql, arguments).await
}

impl<'c> Executor<'c> for &'c mut Conn {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<AnyQueryResult, AnyRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match self {
            Conn::Sqlx(conn) => conn.fetch_many(query),
            Conn::Sqlite(conn) => gathered(run_on_sqlite(conn, query)),
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<AnyRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match self {
            Conn::Sqlx(conn) => conn.fetch_optional(query),
            // The statement runs to its end, as sqlx's SQLite driver runs it, before the first row
            // is taken.
            Conn::Sqlite(conn) => Box::pin(async move {
                let results = run_on_sqlite(conn, query).await?;
                Ok(results.into_iter().find_map(|r| r.right()))
            }),
        }
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, Result<AnyStatement<'q>, sqlx::Error>>
    where
        'c: 'e,
    {
        match self {
            Conn::Sqlx(conn) => conn.prepare_with(sql, parameters),
            Conn::Sqlite(_) => Box::pin(async { Err(not_offered("prepared statement handles")) }),
        }
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, Result<Describe<Any>, sqlx::Error>>
    where
        'c: 'e,
    {
        match self {
            Conn::Sqlx(conn) => conn.describe(sql),
            Conn::Sqlite(_) => Box::pin(async { Err(not_offered("query descriptions")) }),
        }
    }
}

/// What bankgate's SQLite connections do not offer: the stores run queries and need nothing else;
/// statements are prepared and cached by text behind each query.
fn not_offered(what: &str) -> sqlx::Error {
    sqlx::Error::Protocol(format!(
        "{what} are not offered on bankgate's SQLite connections"
    ))
}
