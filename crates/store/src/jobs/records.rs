//! The job queue's records: what a job is, where it is in its life, and the answers the queue gives.

use crate::holds::NewHold;
use crate::{Result, StoreError};
use bankgate_domain::ids::{OperationId, UserId};
use bankgate_domain::time_format::from_millis;
use std::fmt;
use time::OffsetDateTime;

/// What a job does; the services own each kind's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// `POST /transfer/acc2acc`.
    Transfer,
    /// `POST /remittance/creditCardPayment`.
    CardPayment,
    /// `POST /remittance/:AFiRemittanceId`.
    Remittance,
    /// `POST /transfer/acc2ben/:id`: not undoable, run at once by the request itself.
    BeneficiaryPayment,
    /// `DELETE /beneficiary/:id`.
    BeneficiaryDeletion,
    /// `POST /cards/:id/:onoff` accepted while the card's back office was unavailable (stand-in).
    CardSwitch,
}

impl JobKind {
    pub const ALL: [JobKind; 6] = [
        JobKind::Transfer,
        JobKind::CardPayment,
        JobKind::Remittance,
        JobKind::BeneficiaryPayment,
        JobKind::BeneficiaryDeletion,
        JobKind::CardSwitch,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            JobKind::Transfer => "transfer",
            JobKind::CardPayment => "card_payment",
            JobKind::Remittance => "remittance",
            JobKind::BeneficiaryPayment => "beneficiary_payment",
            JobKind::BeneficiaryDeletion => "beneficiary_deletion",
            JobKind::CardSwitch => "card_switch",
        }
    }

    fn parse(s: &str) -> Result<JobKind> {
        JobKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(StoreError::Invalid("job kind"))
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// In its undo window or due and not yet claimed: still cancellable.
    Waiting,
    /// Claimed by a worker; execution has begun.
    Running,
    /// A step failed in a way worth retrying; due again at `due_at`. No longer cancellable.
    Retrying,
    Done,
    Failed,
    Cancelled,
}

impl JobState {
    pub fn as_str(&self) -> &'static str {
        match self {
            JobState::Waiting => "waiting",
            JobState::Running => "running",
            JobState::Retrying => "retrying",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> Result<JobState> {
        [
            JobState::Waiting,
            JobState::Running,
            JobState::Retrying,
            JobState::Done,
            JobState::Failed,
            JobState::Cancelled,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or(StoreError::Invalid("job state"))
    }

    pub fn is_final(&self) -> bool {
        matches!(
            self,
            JobState::Done | JobState::Failed | JobState::Cancelled
        )
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job to queue, with the hold it places (if it moves money).
#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: OperationId,
    pub user_id: UserId,
    pub kind: JobKind,
    /// Undoable jobs get a short id users cancel by; generated here, unique per user.
    pub undoable: bool,
    /// The client's own id for the operation (`AFiRemittanceId`): a second job with the same one is
    /// not queued; the first is returned. Queued with `Store::enqueue_job_unless_open`, only while the
    /// first has not ended (one pending deletion per beneficiary).
    pub client_ref: Option<String>,
    /// JSON, owned by the service that runs this kind.
    pub payload: String,
    pub queued_at: OffsetDateTime,
    /// End of the undo window: when the job becomes due.
    pub due_at: OffsetDateTime,
    pub max_attempts: u32,
    pub hold: Option<NewHold>,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    pub id: OperationId,
    pub user_id: UserId,
    pub kind: JobKind,
    pub undo_id: Option<String>,
    pub client_ref: Option<String>,
    pub payload: String,
    pub state: JobState,
    pub queued_at: OffsetDateTime,
    /// The end of the undo window as first set (`dtsExpiry`); "do now" does not move it.
    pub expires_at: OffsetDateTime,
    pub due_at: OffsetDateTime,
    pub attempts: u32,
    pub max_attempts: u32,
    pub progress: Option<String>,
    pub result: Option<String>,
    pub failure: Option<String>,
    pub finished_at: Option<OffsetDateTime>,
}

/// Who holds a job's claim: the node and the attempt it claimed. Writes about a running job name their
/// claim, so a runner whose lease ran out (and whose job another node took over) changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobClaim<'a> {
    pub node: &'a str,
    pub attempt: u32,
}

/// The answer to queueing a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    Queued(JobRecord),
    /// A job with the same client reference exists (for `Store::enqueue_job_unless_open`, one that has
    /// not ended); nothing new was queued.
    Existing(JobRecord),
    /// The hold could not be placed: the available balance seen does not cover it.
    InsufficientFunds,
    /// The account's balance moved since the caller read it; read again and retry.
    StaleBalance,
    /// Accepted in stand-in, the user's money queued that way would exceed the limit.
    StandInLimit,
}

/// How a job ended, or that it should be tried again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Done { result: String },
    Failed { reason: String },
    Retry { at: OffsetDateTime, reason: String },
}

/// The answer to cancelling a job by its undo id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cancelled {
    Cancelled(JobRecord),
    /// Execution has begun or the job has ended: it can no longer be undone.
    TooLate(JobRecord),
    NotFound,
}

pub(crate) const JOB_COLUMNS: &str =
    "id, user_id, kind, undo_id, client_ref, payload, state, queued_at, expires_at, \
     due_at, attempts, max_attempts, progress, result, failure, finished_at";

/// [`JOB_COLUMNS`] qualified by `table` (or a `WITH` query's name), for statements that join it with
/// something else.
pub(crate) fn qualified_job_columns(table: &str) -> String {
    JOB_COLUMNS
        .split(',')
        .map(|c| format!("{table}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(sqlx::FromRow)]
pub(crate) struct JobRow {
    id: String,
    user_id: String,
    kind: String,
    undo_id: Option<String>,
    client_ref: Option<String>,
    payload: String,
    state: String,
    queued_at: i64,
    expires_at: i64,
    due_at: i64,
    attempts: i64,
    max_attempts: i64,
    progress: Option<String>,
    result: Option<String>,
    failure: Option<String>,
    finished_at: Option<i64>,
}

impl JobRow {
    pub(crate) fn into_record(self) -> Result<JobRecord> {
        Ok(JobRecord {
            id: OperationId::from_trusted(self.id),
            user_id: UserId::from_trusted(self.user_id),
            kind: JobKind::parse(&self.kind)?,
            undo_id: self.undo_id,
            client_ref: self.client_ref,
            payload: self.payload,
            state: JobState::parse(&self.state)?,
            queued_at: from_millis(self.queued_at),
            expires_at: from_millis(self.expires_at),
            due_at: from_millis(self.due_at),
            attempts: u32::try_from(self.attempts).unwrap_or(u32::MAX),
            max_attempts: u32::try_from(self.max_attempts).unwrap_or(u32::MAX),
            progress: self.progress,
            result: self.result,
            failure: self.failure,
            finished_at: self.finished_at.map(from_millis),
        })
    }
}
