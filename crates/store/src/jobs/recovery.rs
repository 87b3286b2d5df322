//! Jobs and the back offices they wait for: making jobs due at once (those retrying after an unanswered
//! step when their back office has come back, instead of sitting out the rest of their backoff; one job
//! its request hands to the runner), and finding the later requests that supersede a queued one.

use super::records::{JobRow, JOB_COLUMNS};
use super::{JobKind, JobRecord};
use crate::{Result, Store};
use bankgate_domain::ids::{OperationId, UserId};
use bankgate_domain::time_format::to_millis;
use sqlx::{query, query_as};
use time::OffsetDateTime;

impl Store {
    /// Makes every job that is retrying due now. Waiting jobs keep their undo window. Returns how many
    /// were moved forward.
    pub async fn expedite_retrying_jobs(&self, at: OffsetDateTime) -> Result<u64> {
        let at = to_millis(at);
        // The first condition, redundant, is written as the index of due jobs has it, which is how SQLite
        // knows that index serves (PostgreSQL infers it).
        let done = query(
            "UPDATE jobs SET due_at = $1, updated_at = $1 \
             WHERE state IN ('waiting', 'retrying') AND state = 'retrying' AND due_at > $1",
        )
        .bind(at)
        .execute(self.db.write())
        .await?;
        Ok(done.rows_affected())
    }
}

impl Store {
    /// Makes job `id` due now if it is still waiting.
    pub async fn expedite_job(&self, id: &OperationId, at: OffsetDateTime) -> Result<()> {
        let at = to_millis(at);
        query("UPDATE jobs SET due_at = $1, updated_at = $1 WHERE id = $2 AND state = 'waiting' AND due_at > $1")
            .bind(at)
            .bind(id.as_str())
            .execute(self.db.write())
            .await?;
        Ok(())
    }
}

impl Store {
    /// The user's jobs of `kind` queued after `job`, not cancelled, oldest first: the requests that came
    /// after it.
    pub async fn later_jobs(&self, job: &JobRecord) -> Result<Vec<JobRecord>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE user_id = $1 AND kind = $2 AND state <> 'cancelled' \
             AND (queued_at > $3 OR (queued_at = $3 AND id > $4)) ORDER BY queued_at, id"
        );
        let rows: Vec<JobRow> = query_as(&sql)
            .bind(job.user_id.as_str())
            .bind(job.kind.as_str())
            .bind(to_millis(job.queued_at))
            .bind(job.id.as_str())
            .fetch_all(self.db.read())
            .await?;
        rows.into_iter().map(JobRow::into_record).collect()
    }
}

impl Store {
    /// The user's most recently queued job of `kind`, if any.
    pub async fn latest_job(&self, user: &UserId, kind: JobKind) -> Result<Option<JobRecord>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE user_id = $1 AND kind = $2 \
             ORDER BY queued_at DESC, id DESC LIMIT 1"
        );
        let row: Option<JobRow> = query_as(&sql)
            .bind(user.as_str())
            .bind(kind.as_str())
            .fetch_optional(self.db.read())
            .await?;
        row.map(JobRow::into_record).transpose()
    }
}
