//! Responses kept for `Idempotency-Key` replays. The first request with a key claims it (a row with no
//! response yet); when it ends, its status and body are stored. A repeat with the same request is answered
//! with that response, one with a different request is refused, and one arriving while the first still
//! runs is told so. A claim left by a request that never finished (its node died) is taken over once it
//! is older than the caller's `abandoned_after`.

use crate::{Result, Store};
use bankgate_db::is_unique_violation;
use bankgate_domain::ids::UserId;
use bankgate_domain::time_format::to_millis;
use sqlx::{query, query_as};
use time::OffsetDateTime;

/// A stored response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
}

/// The claim a request holds on its key: only the holder's answer is recorded, so a request that
/// finished after its claim was taken over (see [`Store::begin_idempotent`]) changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdempotencyClaim(i64);

/// What to do with a request carrying an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyBegin {
    /// First use: run it, then store its response under this claim.
    Fresh(IdempotencyClaim),
    Replay(StoredResponse),
    /// The key was used for a different request.
    Mismatch,
    /// The first request with this key is still running.
    InFlight,
}

impl Store {
    /// Claims `key` for the request whose fingerprint is `request_hash`, or says why not. A claim older
    /// than `abandoned_after` with no response belongs to a request that died, and is taken over.
    pub async fn begin_idempotent(
        &self,
        user: &UserId,
        key: &str,
        request_hash: &str,
        at: OffsetDateTime,
        abandoned_after: time::Duration,
    ) -> Result<IdempotencyBegin> {
        let now = to_millis(at);
        let inserted = query(
            "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(user.as_str())
        .bind(key)
        .bind(request_hash)
        .bind(now)
        .execute(self.db.write())
        .await;
        match inserted {
            Ok(_) => return Ok(IdempotencyBegin::Fresh(IdempotencyClaim(now))),
            Err(e) if is_unique_violation(&e) => {}
            Err(e) => return Err(e.into()),
        }
        let row: Option<(String, Option<i64>, Option<String>, i64)> = query_as(
            "SELECT request_hash, status, body, created_at FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2",
        )
        .bind(user.as_str())
        .bind(key)
        .fetch_optional(self.db.write())
        .await?;
        let Some((hash, status, body, created_at)) = row else {
            // Pruned between the two statements: the key is free again.
            return Box::pin(self.begin_idempotent(user, key, request_hash, at, abandoned_after))
                .await;
        };
        if hash != request_hash {
            return Ok(IdempotencyBegin::Mismatch);
        }
        match (status, body) {
            (Some(status), Some(body)) => Ok(IdempotencyBegin::Replay(StoredResponse {
                status: u16::try_from(status).unwrap_or(500),
                body,
            })),
            _ if now - created_at > abandoned_after.whole_milliseconds() as i64 => {
                let taken = query(
                    "UPDATE idempotency_keys SET created_at = $1 WHERE user_id = $2 AND idem_key = $3 \
                     AND status IS NULL AND created_at = $4",
                )
                .bind(now)
                .bind(user.as_str())
                .bind(key)
                .bind(created_at)
                .execute(self.db.write())
                .await?;
                Ok(if taken.rows_affected() == 1 {
                    IdempotencyBegin::Fresh(IdempotencyClaim(now))
                } else {
                    IdempotencyBegin::InFlight
                })
            }
            _ => Ok(IdempotencyBegin::InFlight),
        }
    }

    /// Stores the response of the request that claimed `key`.
    pub async fn complete_idempotent(
        &self,
        user: &UserId,
        key: &str,
        claim: IdempotencyClaim,
        response: &StoredResponse,
    ) -> Result<()> {
        query(
            "UPDATE idempotency_keys SET status = $1, body = $2 WHERE user_id = $3 AND idem_key = $4 \
             AND status IS NULL AND created_at = $5",
        )
        .bind(i64::from(response.status))
        .bind(&response.body)
        .bind(user.as_str())
        .bind(key)
        .bind(claim.0)
        .execute(self.db.write())
        .await?;
        Ok(())
    }

    /// Frees `key` without a response: the request ended in a way worth retrying with the same key.
    pub async fn abandon_idempotent(
        &self,
        user: &UserId,
        key: &str,
        claim: IdempotencyClaim,
    ) -> Result<()> {
        query(
            "DELETE FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2 AND status IS NULL \
             AND created_at = $3",
        )
        .bind(user.as_str())
        .bind(key)
        .bind(claim.0)
        .execute(self.db.write())
        .await?;
        Ok(())
    }

    /// Forgets keys older than `before` (kept at least seven days by the caller's choice of `before`).
    pub async fn prune_idempotency_keys(&self, before: OffsetDateTime) -> Result<u64> {
        let deleted = query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(to_millis(before))
            .execute(self.db.write())
            .await?;
        Ok(deleted.rows_affected())
    }
}
