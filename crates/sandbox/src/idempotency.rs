//! Idempotent writes. A call carrying an [`IdempotencyKey`] runs in one transaction that also records its
//! result under (operation, key); a repeat finds that record and answers with the first result, applying
//! nothing again. Only successes are recorded, so a refused call can be retried with the same key once
//! the cause is fixed.

use crate::error::SandboxError;
use bankgate_backoffice::IdempotencyKey;
use bankgate_db::Conn;
use bankgate_db::{is_unique_violation, Db};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A write transaction on the sandbox database.
pub(crate) type Tx = bankgate_db::Tx;

/// How an idempotent call starts.
pub(crate) enum Begun<T> {
    /// The key was used before: this is the first call's result.
    Replayed(T),
    /// First use: do the work in this transaction, then [`IdempotentCall::finish`] it.
    Fresh(Tx),
}

/// One operation under one key. Keys are scoped per operation so that a caller may reuse one request
/// key across the several back-office calls that request makes.
pub(crate) struct IdempotentCall<'k> {
    operation: &'static str,
    key: &'k IdempotencyKey,
}

impl<'k> IdempotentCall<'k> {
    pub(crate) fn new(operation: &'static str, key: &'k IdempotencyKey) -> Self {
        IdempotentCall { operation, key }
    }

    /// The key itself, for ledger entries to carry.
    pub(crate) fn key(&self) -> &str {
        &self.key.0
    }

    /// Opens the write transaction and looks for an earlier result inside it, so on SQLite (one writer)
    /// a concurrent repeat cannot slip in between.
    pub(crate) async fn begin<T: DeserializeOwned>(
        &self,
        db: &Db,
    ) -> Result<Begun<T>, SandboxError> {
        let mut tx = db.write().begin().await?;
        match self.stored(&mut tx).await? {
            Some(result) => Ok(Begun::Replayed(result)),
            None => Ok(Begun::Fresh(tx)),
        }
    }

    /// Records `result` and commits. When a concurrent call with the same key committed first (possible
    /// on PostgreSQL, where both can start before either records), this call's work is rolled back and
    /// the winner's result returned, so exactly one of them took effect.
    pub(crate) async fn finish<T>(
        &self,
        db: &Db,
        mut tx: Tx,
        result: T,
        now_ms: i64,
    ) -> Result<T, SandboxError>
    where
        T: Serialize + DeserializeOwned,
    {
        let json = serde_json::to_string(&result)?;
        let recorded = sqlx::query(
            "INSERT INTO sbx_idempotency (operation, idempotency_key, result, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(self.operation)
        .bind(self.key())
        .bind(json)
        .bind(now_ms)
        .execute(&mut *tx)
        .await;
        match recorded {
            Ok(_) => {
                tx.commit().await?;
                Ok(result)
            }
            Err(e) if is_unique_violation(&e) => {
                tx.rollback().await?;
                let mut conn = db.write().acquire().await?;
                self.stored(&mut conn).await?.ok_or_else(|| {
                    SandboxError::Invariant("idempotency record vanished after a conflict".into())
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Ends a fresh call with its outcome: a success is recorded and committed by
    /// [`IdempotentCall::finish`]; a failure is rolled back. A refusal can be the shadow of a concurrent
    /// call with the same key that committed first (on PostgreSQL both may start before either records,
    /// and the first one's debit can leave too little for the second), so a refused call answers with
    /// that call's result when there is one, as the repeat it was.
    pub(crate) async fn conclude<T>(
        &self,
        db: &Db,
        tx: Tx,
        outcome: Result<T, SandboxError>,
        now_ms: i64,
    ) -> Result<T, SandboxError>
    where
        T: Serialize + DeserializeOwned,
    {
        let error = match outcome {
            Ok(result) => return self.finish(db, tx, result, now_ms).await,
            Err(error) => error,
        };
        tx.rollback().await?;
        if matches!(error, SandboxError::Rejected { .. }) {
            let mut conn = db.write().acquire().await?;
            if let Some(first) = self.stored(&mut conn).await? {
                return Ok(first);
            }
        }
        Err(error)
    }

    async fn stored<T: DeserializeOwned>(
        &self,
        conn: &mut Conn,
    ) -> Result<Option<T>, SandboxError> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT result FROM sbx_idempotency WHERE operation = $1 AND idempotency_key = $2",
        )
        .bind(self.operation)
        .bind(self.key())
        .fetch_optional(&mut *conn)
        .await?;
        row.map(|(json,)| serde_json::from_str(&json))
            .transpose()
            .map_err(SandboxError::from)
    }
}
