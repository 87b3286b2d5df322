//! The durable job queue: every queued or undoable operation is a row in `jobs`, written in the same
//! transaction as its hold (outbox). Workers on any number of nodes claim due jobs atomically, so each
//! runs once: `FOR UPDATE SKIP LOCKED` on PostgreSQL, the single writer connection on SQLite. A claim is
//! a lease; a job whose node died is claimed again when its lease runs out and resumes from its saga log.

mod enqueue;
mod group;
mod pushed;
mod records;
mod recovery;

pub use records::{
    Cancelled, Enqueued, JobClaim, JobKind, JobOutcome, JobRecord, JobState, NewJob,
};

use crate::holds::{release_hold, HoldRelease};
use crate::{Result, Store};
use bankgate_db::Conn;
use bankgate_db::Engine;
use bankgate_domain::ids::{OperationId, UserId};
use bankgate_domain::time_format::{from_millis, to_millis};
pub(crate) use group::JobWriteQueue;
use group::{JobChange, JobWrite};
use records::{qualified_job_columns, JobRow, JOB_COLUMNS};
use sqlx::{query, query_as};
use time::OffsetDateTime;

use enqueue::RefScope;

impl Store {
    /// Queues `job` and places its hold in one transaction. Replays of the same client reference return
    /// the first job.
    pub async fn enqueue_job(&self, job: &NewJob) -> Result<Enqueued> {
        self.enqueue(job, RefScope::Forever).await
    }

    /// Queues `job` unless a job of the same user, kind and client reference is still open (waiting,
    /// running or retrying): that one is answered as [`Enqueued::Existing`] and nothing is queued. For
    /// operations of which one at a time may be pending, such as the deletion of one beneficiary
    /// (reference: the beneficiary's id). Unlike [`Store::enqueue_job`], a reference binds only while its
    /// job is open: a job that has ended (done, failed or cancelled) gives its reference up, in the same
    /// transaction as the new job takes it. The unique index on client references is what makes the
    /// check and the insert one decision on every engine. Without a reference, it queues as
    /// [`Store::enqueue_job`] does.
    pub async fn enqueue_job_unless_open(&self, job: &NewJob) -> Result<Enqueued> {
        self.enqueue(job, RefScope::WhileOpen).await
    }

    /// Claims up to `limit` due jobs for `node` until `lease_until`, marking them running.
    pub async fn claim_due_jobs(
        &self,
        node: &str,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<JobRecord>> {
        let lock = match self.db.engine() {
            Engine::Postgres => "FOR UPDATE SKIP LOCKED",
            // One writer connection: the UPDATE below is already the only writer.
            Engine::Sqlite => "",
        };
        // The candidates are picked (and, on PostgreSQL, locked) once, in materialized steps: first jobs
        // whose runner's lease ran out, then due ones in due order, each read in order from an index of
        // its own (migration 0008), so a claim stops at its limit however long the queue. The update
        // checks the state again, so a job changed in between is not claimed. Only kinds this build
        // knows are picked: a node of an older build leaves newer kinds to the nodes that know them.
        let lapsed = "jobs.state = 'running' AND jobs.lease_until < $3";
        let due = "jobs.state IN ('waiting', 'retrying') AND jobs.due_at <= $3";
        let kinds = JobKind::ALL
            .iter()
            .map(|k| format!("'{}'", k.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let returning = qualified_job_columns("jobs");
        let sql = format!(
            "WITH lapsed AS MATERIALIZED (SELECT jobs.id FROM jobs WHERE {lapsed} AND jobs.kind IN ({kinds}) \
             ORDER BY jobs.lease_until LIMIT $4 {lock}), \
             due AS MATERIALIZED (SELECT jobs.id FROM jobs WHERE {due} AND jobs.kind IN ({kinds}) \
             ORDER BY jobs.due_at, jobs.queued_at LIMIT $4 - (SELECT COUNT(*) FROM lapsed) {lock}), \
             picked AS (SELECT id FROM lapsed UNION ALL SELECT id FROM due) \
             UPDATE jobs SET state = 'running', attempts = jobs.attempts + 1, claimed_by = $1, \
             lease_until = $2, updated_at = $3 FROM picked WHERE jobs.id = picked.id \
             AND (({lapsed}) OR ({due})) RETURNING {returning}"
        );
        let mut tx = self.db.write().begin().await?;
        if self.db.engine() == Engine::Postgres {
            // A queue's row counts swing faster than PostgreSQL's statistics follow them: planned from
            // stale counts, a claim read and sorted every due job (thousands under load) instead of
            // reading the index in order and stopping at its limit. Ruling out sorts for this one
            // statement leaves the in-order plan as the only one.
            query("SET LOCAL enable_sort = off")
                .execute(&mut *tx)
                .await?;
        }
        let rows: Vec<JobRow> = query_as(&sql)
            .bind(node)
            .bind(to_millis(lease_until))
            .bind(to_millis(now))
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        if self.db.engine() == Engine::Postgres {
            // The events appended below are planned as everywhere else.
            query("SET LOCAL enable_sort = DEFAULT")
                .execute(&mut *tx)
                .await?;
        }
        let mut jobs = rows
            .into_iter()
            .map(JobRow::into_record)
            .collect::<Result<Vec<_>>>()?;
        self.commit_undo_changes(tx, &jobs, to_millis(now)).await?;
        jobs.sort_by_key(|j| j.due_at);
        Ok(jobs)
    }

    /// Claims one job now, whatever its due time, if it is still waiting (a request running its own
    /// job, such as a payment to a beneficiary).
    pub async fn claim_job(
        &self,
        id: &OperationId,
        node: &str,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Option<JobRecord>> {
        let sql = format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, claimed_by = $1, lease_until = $2, \
             updated_at = $3 WHERE id = $4 AND state = 'waiting' RETURNING {JOB_COLUMNS}"
        );
        let mut tx = self.db.write().begin().await?;
        let row: Option<JobRow> = query_as(&sql)
            .bind(node)
            .bind(to_millis(lease_until))
            .bind(to_millis(now))
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let job = row.map(JobRow::into_record).transpose()?;
        self.commit_undo_changes(tx, job.as_slice(), to_millis(now))
            .await?;
        Ok(job)
    }

    /// Records the saga log of a job this claim still holds, releasing its hold in the same write when
    /// asked (the source's bank has taken the money, so holding it as well would count it twice).
    /// Returns false, changing nothing, when the claim has been lost. Committed with other jobs' writes
    /// waiting at the same time (see `group.rs`).
    pub async fn save_job_progress(
        &self,
        id: &OperationId,
        claim: &JobClaim<'_>,
        progress: &str,
        release: bool,
        at: OffsetDateTime,
    ) -> Result<bool> {
        let change = JobChange::Progress {
            log: progress.to_owned(),
            release_hold: release,
        };
        let saved = self.write_job(job_write(id, claim, at, change)).await?;
        Ok(saved.is_some())
    }

    /// Ends a running job (or schedules its retry), releasing its hold when it ends, in one transaction.
    /// Returns the job as it now is, or None when it was not running (another worker already ended it).
    /// Committed with other jobs' writes waiting at the same time (see `group.rs`).
    pub async fn finish_job(
        &self,
        id: &OperationId,
        claim: &JobClaim<'_>,
        outcome: &JobOutcome,
        at: OffsetDateTime,
    ) -> Result<Option<JobRecord>> {
        let change = JobChange::End(outcome.clone());
        self.write_job(job_write(id, claim, at, change)).await
    }

    /// Cancels the user's job `undo_id` if it has not begun, releasing its hold at once.
    pub async fn cancel_job(
        &self,
        user: &UserId,
        undo_id: &str,
        at: OffsetDateTime,
    ) -> Result<Cancelled> {
        let now = to_millis(at);
        let mut tx = self.db.write().begin().await?;
        let Some(job) = find_by_undo_id(&mut tx, user, undo_id).await? else {
            return Ok(Cancelled::NotFound);
        };
        let updated = query(
            "UPDATE jobs SET state = 'cancelled', finished_at = $1, updated_at = $1 \
             WHERE id = $2 AND state = 'waiting'",
        )
        .bind(now)
        .bind(job.id.as_str())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(Cancelled::TooLate(job));
        }
        let held = release_hold(&mut tx, &job.id, HoldRelease::Cancelled, now).await?;
        let record = fetch_job(&mut tx, job.id.as_str()).await?;
        self.commit_job_change(tx, &record, held.as_deref(), now)
            .await?;
        Ok(Cancelled::Cancelled(record))
    }

    /// Makes the user's waiting jobs due now: one (`undo_id`) or all. Returns the jobs made due.
    pub async fn expedite_jobs(
        &self,
        user: &UserId,
        undo_id: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<Vec<JobRecord>> {
        let which = match undo_id {
            Some(_) => "undo_id = $3",
            None => "undo_id IS NOT NULL",
        };
        // The open states' condition, redundant, is written as the index of a user's open jobs has it,
        // which is how SQLite knows that index serves.
        let sql = format!(
            "UPDATE jobs SET due_at = $1, updated_at = $1 WHERE user_id = $2 \
             AND state IN ('waiting', 'running', 'retrying') AND state = 'waiting' \
             AND {which} AND due_at > $1 RETURNING {JOB_COLUMNS}"
        );
        let mut statement = query_as(&sql).bind(to_millis(at)).bind(user.as_str());
        if let Some(undo_id) = undo_id {
            statement = statement.bind(undo_id);
        }
        let mut tx = self.db.write().begin().await?;
        let rows: Vec<JobRow> = statement.fetch_all(&mut *tx).await?;
        let jobs = rows
            .into_iter()
            .map(JobRow::into_record)
            .collect::<Result<Vec<_>>>()?;
        self.commit_undo_changes(tx, &jobs, to_millis(at)).await?;
        Ok(jobs)
    }

    /// The user's job of `kind` with the client's own reference `client_ref`, if there is one.
    pub async fn job_by_client_ref(
        &self,
        user: &UserId,
        kind: JobKind,
        client_ref: &str,
    ) -> Result<Option<JobRecord>> {
        let mut conn = self.db.read().acquire().await?;
        find_by_client_ref(&mut conn, user, kind, client_ref).await
    }

    /// One of the user's undoable jobs by its undo id.
    pub async fn job_by_undo_id(&self, user: &UserId, undo_id: &str) -> Result<Option<JobRecord>> {
        let mut conn = self.db.read().acquire().await?;
        find_by_undo_id(&mut conn, user, undo_id).await
    }

    /// A job by its id, whoever it belongs to (workers and tests).
    pub async fn job(&self, id: &OperationId) -> Result<Option<JobRecord>> {
        let mut conn = self.db.read().acquire().await?;
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
        let row: Option<JobRow> = query_as(&sql)
            .bind(id.as_str())
            .fetch_optional(&mut *conn)
            .await?;
        row.map(JobRow::into_record).transpose()
    }

    /// The user's jobs among `ids` (statement lines name the operation that made them).
    pub async fn user_jobs_by_ids(
        &self,
        user: &UserId,
        ids: &[OperationId],
    ) -> Result<Vec<JobRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = crate::parameter_list(2, ids.len());
        let sql =
            format!("SELECT {JOB_COLUMNS} FROM jobs WHERE user_id = $1 AND id IN ({placeholders})");
        let mut statement = query_as(&sql).bind(user.as_str());
        for id in ids {
            statement = statement.bind(id.as_str());
        }
        let rows: Vec<JobRow> = statement.fetch_all(self.db.read()).await?;
        rows.into_iter().map(JobRow::into_record).collect()
    }

    /// The user's undoable jobs that have not ended, oldest first.
    pub async fn open_undoable_jobs(&self, user: &UserId) -> Result<Vec<JobRecord>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE user_id = $1 AND state IN ('waiting', 'running', 'retrying') \
             AND undo_id IS NOT NULL ORDER BY queued_at, id"
        );
        let rows: Vec<JobRow> = query_as(&sql)
            .bind(user.as_str())
            .fetch_all(self.db.read())
            .await?;
        rows.into_iter().map(JobRow::into_record).collect()
    }

    /// When the last job to end ended, if any has: for measures across the whole queue (benchmarks).
    pub async fn last_job_finish(&self) -> Result<Option<OffsetDateTime>> {
        let (at,): (Option<i64>,) = query_as("SELECT MAX(finished_at) FROM jobs")
            .fetch_one(self.db.read())
            .await?;
        Ok(at.map(from_millis))
    }

    /// How many jobs are in `states`, for checks across the whole queue (benchmarks, operations).
    pub async fn count_jobs_in_states(&self, states: &[JobState]) -> Result<i64> {
        let list = states
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("SELECT COUNT(*) FROM jobs WHERE state IN ({list})");
        let (count,): (i64,) = query_as(&sql).fetch_one(self.db.read()).await?;
        Ok(count)
    }
}

fn job_write(
    id: &OperationId,
    claim: &JobClaim<'_>,
    at: OffsetDateTime,
    change: JobChange,
) -> JobWrite {
    JobWrite {
        id: id.clone(),
        node: claim.node.to_owned(),
        attempt: claim.attempt,
        at: to_millis(at),
        change,
    }
}

async fn fetch_job(conn: &mut Conn, id: &str) -> Result<JobRecord> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
    let row: JobRow = query_as(&sql).bind(id).fetch_one(&mut *conn).await?;
    row.into_record()
}

async fn find_by_undo_id(
    conn: &mut Conn,
    user: &UserId,
    undo_id: &str,
) -> Result<Option<JobRecord>> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE user_id = $1 AND undo_id = $2");
    let row: Option<JobRow> = query_as(&sql)
        .bind(user.as_str())
        .bind(undo_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(JobRow::into_record).transpose()
}

async fn find_by_client_ref(
    conn: &mut Conn,
    user: &UserId,
    kind: JobKind,
    client_ref: &str,
) -> Result<Option<JobRecord>> {
    let sql = format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE user_id = $1 AND kind = $2 AND client_ref = $3"
    );
    let row: Option<JobRow> = query_as(&sql)
        .bind(user.as_str())
        .bind(kind.as_str())
        .bind(client_ref)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(JobRow::into_record).transpose()
}
