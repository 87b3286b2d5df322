//! Running queued jobs: the worker loop every node runs, the dispatch of a claimed job to the service
//! that carries out its kind, and the retry policy. Claims go through the store, which guarantees one
//! runner per job across nodes; this module decides what happens after each attempt.

use super::{Result, ServiceError, Services};
use bankgate_backoffice::BackOfficeError;
use bankgate_domain::ids::OperationId;
use bankgate_store::{JobClaim, JobKind, JobOutcome, JobRecord};
use rand::Rng;
use std::sync::Arc;
use std::time::Duration as StdDuration;
use time::Duration;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;

/// The first retry waits this long; each next one twice as long, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF_MS: i64 = 500;
const MAX_BACKOFF: Duration = Duration::seconds(60);
/// How often a node forgets expired idempotency keys (and push events), and how long keys are kept.
const PRUNE_EVERY: StdDuration = StdDuration::from_secs(3600);
const IDEMPOTENCY_KEPT: Duration = Duration::days(8);
/// How long a request waits for a job it could not run itself (another runner had it).
const WAIT_FOR_JOB: StdDuration = StdDuration::from_secs(10);

/// Why a back-office step did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StepFailure {
    /// Refused for good (a business reason); the user is told this.
    Permanent(String),
    /// Worth trying again: unreachable, or failed on its side.
    Transient(String),
}

impl From<BackOfficeError> for StepFailure {
    fn from(e: BackOfficeError) -> Self {
        match e {
            BackOfficeError::Rejected { code, message } => {
                // The back office's own words may carry its ids; users get bankgate's.
                tracing::info!(code, %message, "back office refused a step");
                StepFailure::Permanent(refusal_reason(code))
            }
            BackOfficeError::NotFound(what) => {
                StepFailure::Permanent(format!("the {what} is not known at its bank"))
            }
            BackOfficeError::Unsupported { capability, .. } => {
                StepFailure::Permanent(format!("the bank does not offer {capability}"))
            }
            BackOfficeError::UnknownBackOffice(id) => {
                StepFailure::Permanent(format!("back office {id} is no longer configured"))
            }
            BackOfficeError::Unavailable(detail) | BackOfficeError::Internal(detail) => {
                // The detail may name hosts or a back office's internals: logged, not shown.
                tracing::warn!(%detail, "a back-office step did not complete");
                StepFailure::Transient("the bank did not answer; trying again".to_owned())
            }
        }
    }
}

/// What a user is told when a back office refused a step, by the back office's refusal code.
fn refusal_reason(code: &str) -> String {
    match code {
        "INSUFFICIENT_FUNDS" => "there was not enough money in the account".to_owned(),
        "ACCOUNT_CLOSED" => "the account is closed at its bank".to_owned(),
        "ACCOUNT_BLOCKED" => "the account is blocked at its bank".to_owned(),
        "CURRENCY_MISMATCH" => "the account's bank does not hold that currency there".to_owned(),
        "PAYEE_INVALID" => "the bank refused the beneficiary's details".to_owned(),
        "CARD_EXPIRED" => "the beneficiary's card has expired".to_owned(),
        "CARD_INVALID" => "the bank refused the beneficiary's card".to_owned(),
        other => format!("the bank refused it ({other})"),
    }
}

impl Services {
    /// What to do after an attempt was interrupted: retry after a backoff, or, when nothing has moved
    /// and the attempts are used up, end the job failed.
    pub(crate) fn after_interruption(
        &self,
        job: &JobRecord,
        failure: StepFailure,
        may_give_up: bool,
    ) -> JobOutcome {
        let reason = match failure {
            StepFailure::Permanent(r) | StepFailure::Transient(r) => r,
        };
        if may_give_up && job.attempts >= job.max_attempts {
            return JobOutcome::Failed {
                reason: format!(
                    "the bank did not complete it after {} attempts: {reason}",
                    job.attempts
                ),
            };
        }
        JobOutcome::Retry {
            at: self.clock.now() + backoff(job.attempts),
            reason,
        }
    }

    /// This node's claim on a job it claimed.
    pub(crate) fn claim_of<'a>(&'a self, job: &JobRecord) -> JobClaim<'a> {
        JobClaim {
            node: &self.node_id,
            attempt: job.attempts,
        }
    }

    /// Runs a claimed job to its next resting point and records it. Returns the job as it now stands.
    pub(crate) async fn run_claimed_job(&self, job: JobRecord) -> Result<Option<JobRecord>> {
        let epoch = self.back_offices.recovery_epoch();
        let outcome = match job.kind {
            JobKind::Transfer
            | JobKind::CardPayment
            | JobKind::Remittance
            | JobKind::BeneficiaryPayment => self.execute_movement(&job).await,
            JobKind::BeneficiaryDeletion => self.execute_beneficiary_deletion(&job).await,
            JobKind::CardSwitch => self.execute_card_switch(&job).await,
        };
        let outcome = outcome.unwrap_or_else(|e| {
            tracing::error!(job = %job.id, error = %e, "job attempt failed inside bankgate");
            // A movement may have sent a step before failing here, so it is retried with its keys;
            // a deletion moves no money and may give up.
            let may_give_up = job.kind == JobKind::BeneficiaryDeletion;
            let failure = StepFailure::Transient("interrupted; trying again".to_owned());
            self.after_interruption(&job, failure, may_give_up)
        });
        if let JobOutcome::Failed { reason } = &outcome {
            tracing::info!(job = %job.id, kind = job.kind.as_str(), %reason, "job failed");
        }
        let claim = self.claim_of(&job);
        let finished = self
            .store
            .finish_job(&job.id, &claim, &outcome, self.clock.now())
            .await?;
        if matches!(outcome, JobOutcome::Retry { .. }) {
            if self.back_offices.recovery_epoch() != epoch {
                // A back office came back while this attempt failed: the runner's expedite may have
                // run before this job was retrying, so do it again rather than sit out the backoff.
                expedite_retrying_jobs(self).await;
            }
            self.job_wakeup.notify_one();
        }
        Ok(finished)
    }

    /// Runs job `id` in this request, if no runner has claimed it yet; otherwise waits for it to end.
    pub(crate) async fn run_job_now(&self, id: &OperationId) -> Result<JobRecord> {
        let now = self.clock.now();
        if let Some(job) = self
            .store
            .claim_job(id, &self.node_id, now, now + self.settings.job_lease)
            .await?
        {
            if let Some(done) = self.run_claimed_job(job).await? {
                return Ok(done);
            }
        }
        let started = tokio::time::Instant::now();
        loop {
            let job = self
                .store
                .job(id)
                .await?
                .ok_or_else(|| ServiceError::Internal(format!("job {id} vanished")))?;
            if job.state.is_final() || started.elapsed() > WAIT_FOR_JOB {
                return Ok(job);
            }
            tokio::time::sleep(StdDuration::from_millis(20)).await;
        }
    }
}

/// 0.5 s, 1 s, 2 s, ... up to a minute, with up to 20% jitter so retries of many jobs spread out.
fn backoff(attempts: u32) -> Duration {
    let exponent = attempts.saturating_sub(1).min(16);
    let base =
        Duration::milliseconds(FIRST_BACKOFF_MS.saturating_mul(1 << exponent)).min(MAX_BACKOFF);
    let jitter = rand::rng().random_range(0.0..0.2);
    base + base * jitter
}

/// Starts this node's job runner: it claims due jobs (at most `settings.job_workers` at a time) and runs
/// each on its own task, waking when jobs are queued due, when one finishes, when a back office comes
/// back (making the jobs retrying for want of it due), and at least every `settings.job_poll_interval`. Stops when `stop` turns true.
pub fn spawn_job_runner(services: Services, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let slots = Arc::new(Semaphore::new(services.settings.job_workers.max(1)));
        let poll = services.settings.job_poll_interval;
        let mut last_prune: Option<tokio::time::Instant> = None;
        let recoveries = services.back_offices.recoveries();
        loop {
            let free = slots.available_permits();
            if free > 0 {
                claim_and_run(&services, &slots, free).await;
            }
            if last_prune.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                last_prune = Some(tokio::time::Instant::now());
                hourly_upkeep(&services).await;
            }
            let mut recovered = false;
            tokio::select! {
                _ = services.job_wakeup.notified() => {}
                _ = recoveries.notified() => recovered = true,
                _ = tokio::time::sleep(poll) => {}
                _ = stop.wait_for(|stopped| *stopped) => break,
            }
            if recovered {
                expedite_retrying_jobs(&services).await;
            }
        }
        // Let running jobs reach their next resting point before the node goes away.
        let _ = slots
            .acquire_many(services.settings.job_workers.max(1) as u32)
            .await;
    })
}

/// A back office came back: jobs that were waiting out a backoff for want of its answer run now.
async fn expedite_retrying_jobs(services: &Services) {
    match services
        .store
        .expedite_retrying_jobs(services.clock.now())
        .await
    {
        Ok(0) => {}
        Ok(moved) => tracing::info!(moved, "a back office answers again; retrying jobs run now"),
        Err(e) => tracing::warn!(error = %e, "expediting retrying jobs failed"),
    }
}

/// Hourly upkeep: forgets Idempotency-Key responses older than the seven days section 25 promises to
/// keep them and push events older than theirs, and sends the summary reports that are due.
async fn hourly_upkeep(services: &Services) {
    let before = services.clock.now() - IDEMPOTENCY_KEPT;
    match services.store.prune_idempotency_keys(before).await {
        Ok(0) => {}
        Ok(pruned) => tracing::info!(pruned, "forgot old idempotency keys"),
        Err(e) => tracing::warn!(error = %e, "pruning idempotency keys failed"),
    }
    match services.prune_events().await {
        Ok(0) => {}
        Ok(pruned) => tracing::info!(pruned, "forgot old push events"),
        Err(e) => tracing::warn!(error = %e, "pruning push events failed"),
    }
    match services.send_due_summaries().await {
        Ok(0) => {}
        Ok(sent) => tracing::info!(sent, "sent summary reports"),
        Err(e) => tracing::warn!(error = %e, "sending summary reports failed"),
    }
}

async fn claim_and_run(services: &Services, slots: &Arc<Semaphore>, free: usize) {
    let now = services.clock.now();
    let limit = u32::try_from(free).unwrap_or(u32::MAX);
    let jobs = match services
        .store
        .claim_due_jobs(
            &services.node_id,
            now,
            now + services.settings.job_lease,
            limit,
        )
        .await
    {
        Ok(jobs) => jobs,
        Err(e) => {
            tracing::error!(error = %e, "claiming due jobs failed");
            return;
        }
    };
    for job in jobs {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let services = services.clone();
        tokio::spawn(async move {
            let id = job.id.clone();
            if let Err(e) = services.run_claimed_job(job).await {
                tracing::error!(job = %id, error = %e, "recording a job's outcome failed");
            }
            drop(permit);
            services.job_wakeup.notify_one();
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_minute() {
        let first = backoff(1);
        assert!(first >= Duration::milliseconds(500) && first < Duration::milliseconds(600));
        let third = backoff(3);
        assert!(third >= Duration::seconds(2) && third < Duration::milliseconds(2400));
        let late = backoff(40);
        assert!(late >= MAX_BACKOFF && late < MAX_BACKOFF * 1.2);
    }
}
