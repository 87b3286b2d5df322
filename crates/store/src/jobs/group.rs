//! Group commit of running jobs' writes: saga-log saves and endings (done, failed, a retry scheduled).
//! Under load many jobs reach such a point at once, and each was a transaction of its own (the job's row,
//! its hold, the account's total, the events: six or seven round trips and a commit). Here the writes
//! waiting at any moment go in one transaction: their rows are updated by one statement (guarded
//! by each one's claim), their holds released in one and their events appended in one, and the
//! whole batch costs one commit. So the store's work per job falls as the load rises.
//!
//! One batch is written at a time per node, by a task started when a write arrives and no batch is being
//! written, and ending when none wait; writes arriving meanwhile form the next batch. There is no timer:
//! a write on an idle node goes at once. A batch that fails is written again one write at a time, so one
//! job's fault never fails another's write. Callers see each write as if it were alone.

use super::records::{qualified_job_columns, JobOutcome, JobRecord, JobRow};
use crate::events::{append_events_of_users, EventKind};
use crate::holds::{release_holds, HoldRelease};
use crate::{Result, Store, StoreError};
use bankgate_db::Conn;
use bankgate_domain::ids::{OperationId, UserId};
use bankgate_domain::time_format::to_millis;
use sqlx::query_as;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
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

/// Writes waiting for the next batch, and whether a batch is being written.
#[derive(Default)]
pub(crate) struct JobWriteQueue {
    state: Mutex<Waiting>,
}

#[derive(Default)]
struct Waiting {
    writes: Vec<(JobWrite, oneshot::Sender<Written>)>,
    writing: bool,
}

impl JobWriteQueue {
    fn lock(&self) -> MutexGuard<'_, Waiting> {
        // A panic while holding the lock leaves the list as it was: still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Store {
    /// Writes `write` with whatever other jobs' writes are waiting, and answers once it is committed.
    pub(crate) async fn write_job(&self, write: JobWrite) -> Written {
        let (reply, answer) = oneshot::channel();
        let start_writer = {
            let mut waiting = self.job_writes.lock();
            waiting.writes.push((write, reply));
            !std::mem::replace(&mut waiting.writing, true)
        };
        if start_writer {
            let store = self.clone();
            tokio::spawn(async move { store.write_waiting_jobs().await });
        }
        answer
            .await
            .map_err(|_| StoreError::Missing("the job write's batch ended without an answer"))?
    }

    /// The writer: writes batches until none wait.
    async fn write_waiting_jobs(self) {
        // Should the task end early (a panic, the runtime shutting down), the writes still waiting are
        // answered with an error by dropping them, and the next write starts a new writer.
        let mut writer = WriterGuard {
            store: &self,
            ended_early: true,
        };
        loop {
            let batch: Vec<_> = {
                let mut waiting = self.job_writes.lock();
                if waiting.writes.is_empty() {
                    waiting.writing = false;
                    writer.ended_early = false;
                    return;
                }
                let take = waiting.writes.len().min(MOST_PER_BATCH);
                waiting.writes.drain(..take).collect()
            };
            let (writes, replies): (Vec<JobWrite>, Vec<_>) = batch.into_iter().unzip();
            match self.write_job_batch(&writes).await {
                Ok(written) => {
                    for (reply, job) in replies.into_iter().zip(written) {
                        let _ = reply.send(Ok(job));
                    }
                }
                Err(e) if writes.len() == 1 => {
                    if let Some(reply) = replies.into_iter().next() {
                        let _ = reply.send(Err(e));
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, writes = writes.len(),
                        "a batch of job writes failed; writing them one by one");
                    for (write, reply) in writes.iter().zip(replies) {
                        let alone = self.write_job_batch(std::slice::from_ref(write)).await;
                        let _ = reply.send(alone.map(|mut jobs| jobs.pop().flatten()));
                    }
                }
            }
        }
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

/// Updates the rows of the jobs whose writes' claims still hold, two statements at most (saga logs,
/// endings): each job as it now is, in the order of `writes`, None where the claim no longer holds.
async fn update_job_rows(conn: &mut Conn, writes: &[JobWrite]) -> Result<Vec<Option<JobRecord>>> {
    let (logs, ends): (Vec<&JobWrite>, Vec<&JobWrite>) = writes
        .iter()
        .partition(|w| matches!(w.change, JobChange::Progress { .. }));
    let mut updated: HashMap<String, JobRecord> = HashMap::with_capacity(writes.len());
    for row in save_logs(conn, &logs).await? {
        let job = row.into_record()?;
        updated.insert(job.id.as_str().to_owned(), job);
    }
    for row in end_jobs(conn, &ends).await? {
        let job = row.into_record()?;
        updated.insert(job.id.as_str().to_owned(), job);
    }
    Ok(writes
        .iter()
        .map(|w| updated.remove(w.id.as_str()))
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
    let returning = qualified_job_columns();
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

/// Marks the writer gone if its task ends other than by finding no writes waiting.
struct WriterGuard<'a> {
    store: &'a Store,
    ended_early: bool,
}

impl Drop for WriterGuard<'_> {
    fn drop(&mut self) {
        if self.ended_early {
            // The writes still waiting are dropped, which answers each with an error; the next write
            // starts a new writer.
            let mut waiting = self.store.job_writes.lock();
            waiting.writes.clear();
            waiting.writing = false;
        }
    }
}
