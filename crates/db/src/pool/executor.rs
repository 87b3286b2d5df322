//! Statements run on a pool directly: each on a connection taken for it alone.

use super::Pool;
use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use sqlx::any::{AnyQueryResult, AnyRow, AnyStatement, AnyTypeInfo};
use sqlx::{Any, AnyConnection, Describe, Either, Execute, Executor};

/// Runs `work` on a connection of `pool` taken for it alone.
async fn on_own_connection<T>(
    pool: Pool,
    work: impl AsyncFnOnce(&mut AnyConnection) -> Result<T, sqlx::Error>,
) -> Result<T, sqlx::Error> {
    pool.acquire().await?.settle(work).await
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
        stream::once(on_own_connection(self.clone(), async |conn| {
            conn.fetch_many(query).try_collect::<Vec<_>>().await
        }))
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
        Box::pin(on_own_connection(self.clone(), async |conn| {
            conn.fetch_optional(query).await
        }))
    }

    fn fetch_all<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Vec<AnyRow>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Any>,
    {
        Box::pin(on_own_connection(self.clone(), async |conn| {
            conn.fetch_all(query).await
        }))
    }

    fn execute<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<AnyQueryResult, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Any>,
    {
        Box::pin(on_own_connection(self.clone(), async |conn| {
            conn.execute(query).await
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
