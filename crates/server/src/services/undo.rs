//! The undo queue as users see it: their queued actions, cancelling one before it begins (which releases
//! its hold at once), and "do now" for one or all of them.

use super::{Entity, Result, ServiceError, Services};
use bankgate_domain::ids::UserId;
use bankgate_store::{Cancelled, JobRecord, JobState};

impl Services {
    /// The user's undoable actions that have not ended, oldest first.
    pub async fn pending_undos(&self, user: &UserId) -> Result<Vec<JobRecord>> {
        Ok(self.store.open_undoable_jobs(user).await?)
    }

    /// One of the user's undoable actions, in whatever state it is.
    pub async fn undo_entry(&self, user: &UserId, undo_id: &str) -> Result<JobRecord> {
        self.store
            .job_by_undo_id(user, undo_id)
            .await?
            .ok_or(ServiceError::NotFound(Entity::Undo))
    }

    /// Cancels the action if it has not begun.
    pub async fn cancel_undo(&self, user: &UserId, undo_id: &str) -> Result<JobRecord> {
        match self
            .store
            .cancel_job(user, undo_id, self.clock.now())
            .await?
        {
            Cancelled::Cancelled(job) => Ok(job),
            Cancelled::NotFound => Err(ServiceError::NotFound(Entity::Undo)),
            Cancelled::TooLate(job) => Err(ServiceError::conflict(
                "UNDO_TOO_LATE",
                match job.state {
                    JobState::Cancelled => "it was already cancelled",
                    JobState::Done => "it has already been carried out",
                    JobState::Failed => "it has already ended",
                    _ => "it is already being carried out",
                },
            )),
        }
    }

    /// Makes the action due now. One that is already running or done needs nothing; one that was
    /// cancelled or failed cannot be run.
    pub async fn undo_now(&self, user: &UserId, undo_id: &str) -> Result<JobRecord> {
        let expedited = self
            .store
            .expedite_jobs(user, Some(undo_id), self.clock.now())
            .await?;
        self.job_wakeup.notify_one();
        if let Some(job) = expedited.into_iter().next() {
            return Ok(job);
        }
        let job = self.undo_entry(user, undo_id).await?;
        match job.state {
            JobState::Cancelled | JobState::Failed => Err(ServiceError::conflict(
                "UNDO_FINISHED",
                format!("it has ended ({}) and cannot be run", job.state),
            )),
            _ => Ok(job),
        }
    }

    /// Makes all the user's waiting actions due now; returns them.
    pub async fn undo_all_now(&self, user: &UserId) -> Result<Vec<JobRecord>> {
        let expedited = self
            .store
            .expedite_jobs(user, None, self.clock.now())
            .await?;
        self.job_wakeup.notify_one();
        Ok(expedited)
    }
}
