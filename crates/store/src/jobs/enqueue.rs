//! Queueing a job with its hold, in one transaction (outbox): the job's row, the hold decided by one
//! guarded upsert of the account's total (`holds.rs`), and the user's events.
//!
//! On PostgreSQL, where each statement is a round trip to the server, the common case (a hold, no
//! client reference, not in stand-in) is a single statement: `BEGIN`, four statements and `COMMIT`
//! become one, which made acceptances the cheapest part of a transfer instead of the dearest. It does
//! what the general path does, in the same lock order (the account's total, then the user's event
//! counter), and answers the same way.

use super::records::{qualified_job_columns, JobRow, JOB_COLUMNS};
use super::{find_by_client_ref, Enqueued, JobState, NewJob};
use crate::events::EventKind;
use crate::holds::{check_hold, place_hold, refusal_of, NewHold, PLACE_HOLD};
use crate::{Result, Store, StoreError};
use bankgate_db::{is_unique_violation, Engine};
use bankgate_domain::ids::new_undo_id;
use bankgate_domain::time_format::to_millis;
use sqlx::{query, query_as};

/// Attempts at queueing before an undo-id collision streak is treated as a fault.
const ENQUEUE_ATTEMPTS: usize = 8;

/// How long a job's client reference binds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RefScope {
    /// For good: a replay gets the first job whatever became of it (`AFiRemittanceId`).
    Forever,
    /// While the job is open; once it has ended, the reference is free for a new job.
    WhileOpen,
}

impl Store {
    pub(super) async fn enqueue(&self, job: &NewJob, scope: RefScope) -> Result<Enqueued> {
        for _ in 0..ENQUEUE_ATTEMPTS {
            match self.try_enqueue(job, scope).await {
                Err(StoreError::Db(bankgate_db::DbError::Sqlx(e))) if is_unique_violation(&e) => {
                    // An undo-id collision, or a concurrent job with the same client reference: either
                    // way the next attempt sees the world as it now is.
                    continue;
                }
                // Another request released the same ended job's reference first.
                Ok(None) => continue,
                Ok(Some(answer)) => return Ok(answer),
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict("could not queue the job"))
    }

    /// One attempt at queueing; None when a concurrent attempt changed the job holding the reference
    /// (the caller tries again).
    async fn try_enqueue(&self, job: &NewJob, scope: RefScope) -> Result<Option<Enqueued>> {
        // The common case on PostgreSQL, a hold and no client reference, is one statement.
        if let (Engine::Postgres, None, Some(hold)) = (self.db.engine(), &job.client_ref, &job.hold)
        {
            if hold.stand_in_limit.is_none() {
                return self.enqueue_in_one_statement(job, hold).await.map(Some);
            }
        }
        let mut tx = self.db.write().begin().await?;
        if let Some(client_ref) = &job.client_ref {
            if let Some(existing) =
                find_by_client_ref(&mut tx, &job.user_id, job.kind, client_ref).await?
            {
                if scope == RefScope::Forever || !existing.state.is_final() {
                    return Ok(Some(Enqueued::Existing(existing)));
                }
                // The ended job gives its reference up to the new one. Guarded by the reference, so
                // of two requests releasing it at once only one goes on (on PostgreSQL the second
                // waits for the first's row lock, then sees the reference gone).
                let released =
                    query("UPDATE jobs SET client_ref = NULL WHERE id = $1 AND client_ref = $2")
                        .bind(existing.id.as_str())
                        .bind(client_ref)
                        .execute(&mut *tx)
                        .await?;
                if released.rows_affected() == 0 {
                    tx.rollback().await?;
                    return Ok(None);
                }
            }
        }
        let now = to_millis(job.queued_at);
        let due = to_millis(job.due_at);
        let undo_id = job.undoable.then(new_undo_id);
        let sql = format!(
            "INSERT INTO jobs (id, user_id, kind, undo_id, client_ref, payload, state, queued_at, expires_at, \
             due_at, attempts, max_attempts, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, 0, $10, $8) \
             RETURNING {JOB_COLUMNS}"
        );
        let row: JobRow = query_as(&sql)
            .bind(job.id.as_str())
            .bind(job.user_id.as_str())
            .bind(job.kind.as_str())
            .bind(undo_id.as_deref())
            .bind(job.client_ref.as_deref())
            .bind(&job.payload)
            .bind(JobState::Waiting.as_str())
            .bind(now)
            .bind(due)
            .bind(i64::from(job.max_attempts))
            .fetch_one(&mut *tx)
            .await?;
        if let Some(hold) = &job.hold {
            if let Some(refused) = place_hold(&mut tx, &job.id, &job.user_id, hold, now).await? {
                tx.rollback().await?;
                return Ok(Some(refused));
            }
        }
        let record = row.into_record()?;
        let held = job.hold.as_ref().map(|h| h.account_id.as_str());
        self.commit_job_change(tx, &record, held, now).await?;
        Ok(Some(Enqueued::Queued(record)))
    }

    /// PostgreSQL: places the hold, records it, queues the job and appends its events in one statement;
    /// nothing is written unless the hold is placed.
    async fn enqueue_in_one_statement(&self, job: &NewJob, hold: &NewHold) -> Result<Enqueued> {
        check_hold(hold)?;
        let mut conn = self.db.write().acquire().await?;
        if !hold.may_fit() {
            return refusal_of(&mut conn, hold).await;
        }
        let now = to_millis(job.queued_at);
        let undo_id = job.undoable.then(new_undo_id);
        // Events as `append_events` numbers them: `undo` (when the user sees the job), then `accounts`,
        // each numbered back from the counter's new value.
        let (undo, accounts) = (EventKind::Undo.as_str(), EventKind::Accounts.as_str());
        let (events, count) = match undo_id {
            Some(_) => (
                format!("(VALUES ($2, 1, '{undo}', $9), ($2, 0, '{accounts}', $1))"),
                2,
            ),
            None => (format!("(VALUES ($2, 0, '{accounts}', $1))"), 1),
        };
        // Counted only when the job was queued, so nothing is appended unless the hold was placed.
        let events = crate::events::append_steps(
            &format!("(SELECT user_id, {count} AS n FROM job) AS counts"),
            &events,
            "$10",
        );
        let returning = qualified_job_columns("job");
        // $1 to $8 are the hold's (`PLACE_HOLD`), then the job's.
        let sql = format!(
            "WITH placed AS ({PLACE_HOLD} RETURNING account_id), \
             hold AS (INSERT INTO holds (job_id, account_id, amount_minor, currency, placed_at, stand_in) \
             SELECT $9, account_id, $4, $3, $10, 0 FROM placed), \
             job AS (INSERT INTO jobs (id, user_id, kind, undo_id, client_ref, payload, state, queued_at, \
             expires_at, due_at, attempts, max_attempts, updated_at) \
             SELECT $9, $2, $11, $12, NULL, $13, $14, $10, $15, $15, 0, $16, $10 FROM placed \
             RETURNING {JOB_COLUMNS}), \
             {events} SELECT {returning} FROM job"
        );
        let row: Option<JobRow> = query_as::<_, JobRow>(&sql)
            .bind(hold.account_id.as_str())
            .bind(job.user_id.as_str())
            .bind(hold.amount.currency.as_str())
            .bind(hold.amount.minor)
            .bind(hold.position.released_minor)
            .bind(hold.available_at_back_office.minor)
            .bind(hold.position.version)
            .bind(hold.position.released_count)
            .bind(job.id.as_str())
            .bind(now)
            .bind(job.kind.as_str())
            .bind(undo_id.as_deref())
            .bind(&job.payload)
            .bind(JobState::Waiting.as_str())
            .bind(to_millis(job.due_at))
            .bind(i64::from(job.max_attempts))
            // Read to the end: outside a transaction PostgreSQL commits after sending the row, and only
            // the end of the exchange says whether the commit succeeded.
            .fetch_all(&mut *conn)
            .await?
            .pop();
        let Some(row) = row else {
            return refusal_of(&mut conn, hold).await;
        };
        drop(conn);
        self.announce(&job.user_id);
        Ok(Enqueued::Queued(row.into_record()?))
    }
}
