//! Group commit of running jobs' writes: saga-log saves and endings (done, failed, a retry scheduled).
//! Under load many jobs reach such a point at once, and each was a transaction of its own (the job's row,
//! its hold, the account's total, the events: six or seven round trips and a commit). Here the writes
//! waiting at any moment go in one transaction: their rows are updated by at most two statements (logs,
//! endings), each row guarded by its write's claim, their holds released in one, the accounts' totals
//! moved in one and their events appended in one, and the whole batch costs one commit. So the store's
//! work per job falls as the load rises.
//!
//! One batch is written at a time per node, by a task started when a write arrives and no batch is being
//! written, and ending when none wait; writes arriving meanwhile form the next batch. There is no timer:
//! a write on an idle node goes at once. The price is that a batch waiting for a row lock delays every job
//! write of its node behind it. A batch the database refuses (a constraint, a deadlock's victim) is
//! written again one write at a time, so one job's fault never fails another's write; a batch that failed
//! because the database is unreachable or busy is not (each write would only wait as long again), and
//! every write in it gets the failure. A batch takes at most one write per job. Callers see each write
//! as if it were alone, except that a caller who stops waiting does not stop its write.

use super::records::{qualified_job_columns, JobOutcome, JobRecord, JobRow};
use crate::events::{append_events_of_users, EventKind};
use crate::holds::{release_holds, HoldRelease};
use crate::on_demand::{Drainer, OnDemandQueue};
use crate::{Result, Store, StoreError};
use bankgate_db::Conn;
use bankgate_domain::ids::{OperationId, UserId};
use bankgate_domain::time_format::to_millis;
use sqlx::query_as;
use std::collections::{HashMap, HashSet};
use tokio::sync::oneshot;

/// Most writes in one transaction: enough to carry a node's busiest moments, few enough that a batch's
/// row locks are held briefly.
const MOST_PER_BATCH: usize = 64;

/// A write about a running job, guarded by the claim that runs it.
pub(crate) struct JobWrite {
    pub id: OperationId,
    pub node: String,
    pub attempt: u32,
    /// When it happened (ms).
    pub at: i64,
    pub change: JobChange,
}

pub(crate) enum JobChange {
    /// The saga log, releasing the job's hold in the same write when asked.
    Progress { log: String, release_hold: bool },
    /// The job ends, releasing its hold, or is scheduled to retry, keeping it.
    End(JobOutcome),
}

impl JobWrite {
    fn releases_hold(&self) -> bool {
        match &self.change {
            JobChange::Progress { release_hold, .. } => *release_hold,
            JobChange::End(outcome) => !matches!(outcome, JobOutcome::Retry { .. }),
        }
    }
}

/// The job as it stands after the write, or None when the claim no longer holds (nothing changed).
type Written = Result<Option<JobRecord>>;

/// Writes waiting for the next batch, each with the caller waiting for its answer.
pub(crate) type JobWriteQueue = OnDemandQueue<(JobWrite, oneshot::Sender<Written>)>;

impl Store {
    /// Writes `write` with whatever other jobs' writes are waiting, and answers once it is committed.
    pub(crate) async fn write_job(&self, write: JobWrite) -> Written {
        let (reply, answer) = oneshot::channel();
        let store = self.clone();
        self.job_writes
            .push((write, reply), |writer| write_waiting_jobs(store, writer));
        answer
            .await
            .map_err(|_| StoreError::Missing("the job write's batch ended without an answer"))?
    }

    /// Writes `writes` in one transaction: each job's row, then the holds released, then the events.
    /// The answers are in the order of `writes`.
    async fn write_job_batch(&self, writes: &[JobWrite]) -> Result<Vec<Option<JobRecord>>> {
        let at = writes.iter().map(|w| w.at).max().unwrap_or_default();
        let mut tx = self.db.write().begin().await?;
        let jobs = update_job_rows(&mut tx, writes).await?;
        let releasing: Vec<&str> = writes
            .iter()
            .zip(&jobs)
            .filter(|(write, job)| job.is_some() && write.releases_hold())
            .map(|(write, _)| write.id.as_str())
            .collect();
        let released = release_holds(&mut tx, &releasing, HoldRelease::AfterExecution, at).await?;
        // A job's ending shows in the user's undo queue; a released hold in the account's balance.
        let mut events: Vec<(&UserId, EventKind, &str)> = Vec::new();
        for (write, job) in writes.iter().zip(&jobs) {
            let Some(job) = job else { continue };
            if matches!(write.change, JobChange::End(_)) && job.undo_id.is_some() {
                events.push((&job.user_id, EventKind::Undo, job.id.as_str()));
            }
            if let Some(account) = released.get(job.id.as_str()) {
                events.push((&job.user_id, EventKind::Accounts, account.as_str()));
            }
        }
        // Grouped by user, each user's in the order they happened.
        events.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        append_events_of_users(&mut tx, self.db.engine(), &events, at).await?;
        tx.commit().await?;
        for same_user in events.chunk_by(|a, b| a.0 == b.0) {
            self.announce(same_user[0].0);
        }
        Ok(jobs)
    }
}

/// The writer: writes batches until none wait. Should it stop early, the writes still waiting are
/// dropped, which answers each with an error.
async fn write_waiting_jobs(
    store: Store,
    mut writer: Drainer<(JobWrite, oneshot::Sender<Written>)>,
) {
    while let Some(batch) = writer.next_batch(next_batch) {
        let (writes, replies): (Vec<JobWrite>, Vec<_>) = batch.into_iter().unzip();
        match store.write_job_batch(&writes).await {
            Ok(written) => {
                for (reply, job) in replies.into_iter().zip(written) {
                    let _ = reply.send(Ok(job));
                }
            }
            Err(e) if writes.len() > 1 && is_refusal(&e) => {
                // Perhaps one write's doing (or a deadlock's victim): each is tried alone.
                tracing::warn!(error = %e, writes = writes.len(),
                    "a batch of job writes was refused; writing them one by one");
                for (write, reply) in writes.iter().zip(replies) {
                    let alone = store.write_job_batch(std::slice::from_ref(write)).await;
                    let _ = reply.send(alone.map(|mut jobs| jobs.pop().flatten()));
                }
            }
            Err(e) => {
                // The database is unreachable or busy: writing apart would only wait as long again,
                // once per write. Every write is answered with the failure (its job retries later).
                let told = e.to_string();
                let mut replies = replies.into_iter();
                if let Some(first) = replies.next() {
                    let _ = first.send(Err(e));
                }
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Unwritten(told.clone())));
                }
            }
        }
    }
}

/// Takes the next batch from the waiting writes, in order: at most [`MOST_PER_BATCH`], and at most one
/// write per job (a second, which no caller makes today, waits for the next batch: its answer depends on
/// the first's).
fn next_batch(
    waiting: &mut Vec<(JobWrite, oneshot::Sender<Written>)>,
) -> Vec<(JobWrite, oneshot::Sender<Written>)> {
    let mut batch = Vec::with_capacity(waiting.len().min(MOST_PER_BATCH));
    let mut later = Vec::new();
    let mut jobs = HashSet::new();
    for entry in waiting.drain(..) {
        if batch.len() < MOST_PER_BATCH && jobs.insert(entry.0.id.clone()) {
            batch.push(entry);
        } else {
            later.push(entry);
        }
    }
    *waiting = later;
    batch
}

/// Whether a batch's failure may be one write's doing: the database refused a statement, or something a
/// write touched was not as the store expects.
fn is_refusal(e: &StoreError) -> bool {
    match e {
        StoreError::Db(bankgate_db::DbError::Sqlx(e)) => bankgate_db::is_statement_refusal(e),
        StoreError::Missing(_) | StoreError::Invalid(_) | StoreError::Corrupt(_) => true,
        _ => false,
    }
}

/// Updates the rows of the jobs whose writes' claims still hold, two statements at most (saga logs,
/// endings): each job as it now is, in the order of `writes`, None where the claim no longer holds.
async fn update_job_rows(conn: &mut Conn, writes: &[JobWrite]) -> Result<Vec<Option<JobRecord>>> {
    let (logs, ends): (Vec<&JobWrite>, Vec<&JobWrite>) = writes
        .iter()
        .partition(|w| matches!(w.change, JobChange::Progress { .. }));
    // Keyed by job and attempt: two claims on one job (a lapsed lease taken over) differ in attempt, and
    // only the one that holds gets the row.
    let mut updated: HashMap<(String, u32), JobRecord> = HashMap::with_capacity(writes.len());
    for row in save_logs(conn, &logs).await? {
        let job = row.into_record()?;
        updated.insert((job.id.as_str().to_owned(), job.attempts), job);
    }
    for row in end_jobs(conn, &ends).await? {
        let job = row.into_record()?;
        updated.insert((job.id.as_str().to_owned(), job.attempts), job);
    }
    Ok(writes
        .iter()
        .map(|w| updated.remove(&(w.id.as_str().to_owned(), w.attempt)))
        .collect())
}

/// `UPDATE jobs ... FROM` a list of values, one row per write: `columns` name the values after the
/// claim's (id, node, attempt), `set` uses them as `v.<column>`. Only rows whose claim holds change.
fn update_from_values(columns: &[&str], set: &str, rows: usize) -> String {
    let width = 3 + columns.len();
    let values = (0..rows)
        .map(|row| {
            let params = (1..=width)
                .map(|i| format!("${}", row * width + i))
                .collect::<Vec<_>>()
                .join(", ");
            format!("({params})")
        })
        .collect::<Vec<_>>()
        .join(", ");
    let returning = qualified_job_columns("jobs");
    format!(
        "WITH v (id, node, attempt, {}) AS (VALUES {values}) UPDATE jobs SET {set} FROM v \
         WHERE jobs.id = v.id AND jobs.state = 'running' AND jobs.claimed_by = v.node \
         AND jobs.attempts = v.attempt RETURNING {returning}",
        columns.join(", ")
    )
}

async fn save_logs(conn: &mut Conn, writes: &[&JobWrite]) -> Result<Vec<JobRow>> {
    if writes.is_empty() {
        return Ok(Vec::new());
    }
    let sql = update_from_values(
        &["progress", "at"],
        "progress = v.progress, updated_at = v.at",
        writes.len(),
    );
    let mut statement = query_as::<_, JobRow>(&sql);
    for write in writes {
        let JobChange::Progress { log, .. } = &write.change else {
            continue;
        };
        statement = statement
            .bind(write.id.as_str())
            .bind(write.node.as_str())
            .bind(i64::from(write.attempt))
            .bind(log.as_str())
            .bind(write.at);
    }
    Ok(statement.fetch_all(&mut *conn).await?)
}

async fn end_jobs(conn: &mut Conn, writes: &[&JobWrite]) -> Result<Vec<JobRow>> {
    if writes.is_empty() {
        return Ok(Vec::new());
    }
    let sql = update_from_values(
        &["state", "result", "failure", "finished", "due", "at"],
        "state = v.state, result = COALESCE(v.result, jobs.result), \
         failure = COALESCE(v.failure, jobs.failure), finished_at = v.finished, \
         due_at = COALESCE(v.due, jobs.due_at), updated_at = v.at, lease_until = NULL",
        writes.len(),
    );
    let mut statement = query_as::<_, JobRow>(&sql);
    for write in writes {
        let JobChange::End(outcome) = &write.change else {
            continue;
        };
        let (state, result, failure, finished, due) = match outcome {
            JobOutcome::Done { result } => {
                ("done", Some(result.as_str()), None, Some(write.at), None)
            }
            JobOutcome::Failed { reason } => {
                ("failed", None, Some(reason.as_str()), Some(write.at), None)
            }
            JobOutcome::Retry { at, reason } => (
                "retrying",
                None,
                Some(reason.as_str()),
                None,
                Some(to_millis(*at)),
            ),
        };
        statement = statement
            .bind(write.id.as_str())
            .bind(write.node.as_str())
            .bind(i64::from(write.attempt))
            .bind(state)
            .bind(result)
            .bind(failure)
            .bind(finished)
            .bind(due)
            .bind(write.at);
    }
    Ok(statement.fetch_all(&mut *conn).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting_write(job: &str) -> (JobWrite, oneshot::Sender<Written>) {
        let write = JobWrite {
            id: OperationId::from_trusted(job.to_owned()),
            node: "a".into(),
            attempt: 1,
            at: 0,
            change: JobChange::End(JobOutcome::Failed {
                reason: "refused".into(),
            }),
        };
        (write, oneshot::channel().0)
    }

    fn ids(writes: &[(JobWrite, oneshot::Sender<Written>)]) -> Vec<&str> {
        writes.iter().map(|(w, _)| w.id.as_str()).collect()
    }

    #[test]
    fn a_batch_takes_one_write_per_job_in_order_and_leaves_the_rest_waiting() {
        let mut waiting: Vec<_> = ["x", "y", "x", "z", "y"]
            .into_iter()
            .map(waiting_write)
            .collect();
        let batch = next_batch(&mut waiting);
        assert_eq!(ids(&batch), ["x", "y", "z"]);
        assert_eq!(ids(&waiting), ["x", "y"]);
    }

    #[test]
    fn a_batch_holds_at_most_its_limit() {
        let names: Vec<String> = (0..MOST_PER_BATCH + 3).map(|i| format!("job{i}")).collect();
        let mut waiting: Vec<_> = names.iter().map(|n| waiting_write(n)).collect();
        let batch = next_batch(&mut waiting);
        assert_eq!(batch.len(), MOST_PER_BATCH);
        assert_eq!(ids(&waiting), ["job64", "job65", "job66"]);
    }
}
