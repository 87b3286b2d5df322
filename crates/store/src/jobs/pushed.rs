//! The push events job changes append, as the last statements of their transactions: `undo` for jobs
//! the user sees in their undo queue, `accounts` when a hold moved an account's available balance.

use super::JobRecord;
use crate::events::{append_events, append_events_of_users, EventKind};
use crate::{Result, Store};
use bankgate_domain::ids::UserId;

impl Store {
    /// Commits a change to `job` with its events as the last statements: `undo` when the user can see
    /// the job in their undo queue, `accounts` when a hold on `held_account` moved (its available
    /// balance changed). Announces the user when there were any.
    pub(super) async fn commit_job_change(
        &self,
        mut tx: bankgate_db::Tx,
        job: &JobRecord,
        held_account: Option<&str>,
        at: i64,
    ) -> Result<()> {
        let mut events = Vec::with_capacity(2);
        if job.undo_id.is_some() {
            events.push((EventKind::Undo, job.id.as_str()));
        }
        if let Some(account) = held_account {
            events.push((EventKind::Accounts, account));
        }
        append_events(&mut tx, self.db.engine(), &job.user_id, &events, at).await?;
        tx.commit().await?;
        if !events.is_empty() {
            self.announce(&job.user_id);
        }
        Ok(())
    }

    /// Commits a change to several jobs (of any users) with an `undo` event for each the user can see,
    /// taking the users' event counters in user order so that two such commits never wait on each other
    /// in a cycle. Announces each user.
    pub(super) async fn commit_undo_changes(
        &self,
        mut tx: bankgate_db::Tx,
        jobs: &[JobRecord],
        at: i64,
    ) -> Result<()> {
        let mut undoable: Vec<&JobRecord> = jobs.iter().filter(|j| j.undo_id.is_some()).collect();
        undoable.sort_by(|a, b| a.user_id.as_str().cmp(b.user_id.as_str()));
        let events: Vec<(&UserId, EventKind, &str)> = undoable
            .iter()
            .map(|j| (&j.user_id, EventKind::Undo, j.id.as_str()))
            .collect();
        append_events_of_users(&mut tx, self.db.engine(), &events, at).await?;
        tx.commit().await?;
        for same_user in undoable.chunk_by(|a, b| a.user_id == b.user_id) {
            self.announce(&same_user[0].user_id);
        }
        Ok(())
    }
}
