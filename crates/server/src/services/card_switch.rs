//! Turning a card on or off while its back office is unavailable. A user who turns a lost card off must
//! never be told to try later, so the switch is queued (stand-in) and made when the back office answers
//! again. Only the user's latest request counts: a queued switch that a later one (not cancelled)
//! follows ends without calling the back office, so switches made in a burst end in the last state asked.

use super::jobs::StepFailure;
use super::movements::plan::payload_of;
use super::{Result, ServiceError, Services};
use bankgate_domain::ids::{CardId, OperationId, UserId};
use bankgate_store::{Enqueued, JobKind, JobOutcome, JobRecord, NewJob, StoredCard};
use serde::{Deserialize, Serialize};

/// What a queued switch carries out.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CardSwitchPlan {
    card_id: CardId,
    enabled: bool,
}

/// How a switch request ended for the caller.
#[derive(Debug, Clone)]
pub enum Switched {
    /// The back office switched the card; this is the card it returned.
    Done(StoredCard),
    /// Its back office is unavailable: the switch is queued. `card` is the stored copy, as last confirmed.
    Queued {
        card: StoredCard,
        job: Box<JobRecord>,
    },
}

impl Services {
    /// Queues the switch of `card` to `enabled`, due at once, to run when its back office answers.
    pub(super) async fn queue_card_switch(
        &self,
        user: &UserId,
        card: StoredCard,
        enabled: bool,
    ) -> Result<Switched> {
        let payload = serde_json::to_string(&CardSwitchPlan {
            card_id: card.id.clone(),
            enabled,
        })
        .map_err(|e| ServiceError::Internal(format!("card switch: {e}")))?;
        // Requests are told apart by when they were queued: one made in the same millisecond as the
        // one before it is queued a millisecond later, so "the latest request" is never a tie.
        let now = self.clock.now();
        let mut queued_at = now;
        if let Some(previous) = self.store.latest_job(user, JobKind::CardSwitch).await? {
            queued_at = queued_at.max(previous.queued_at + time::Duration::milliseconds(1));
        }
        let job = NewJob {
            id: OperationId::generate(),
            user_id: user.clone(),
            kind: JobKind::CardSwitch,
            undoable: true,
            client_ref: None,
            payload,
            queued_at,
            due_at: now,
            max_attempts: self.settings.job_max_attempts,
            hold: None,
        };
        match self.store.enqueue_job(&job).await? {
            Enqueued::Queued(job) => {
                self.job_wakeup.notify_one();
                tracing::info!(job = %job.id, card = %card.id, enabled, "card switch queued in stand-in");
                Ok(Switched::Queued {
                    card,
                    job: Box::new(job),
                })
            }
            other => Err(ServiceError::Internal(format!(
                "queueing a card switch answered {other:?}"
            ))),
        }
    }

    /// Makes a queued switch at the card's back office, unless a later request supersedes it. An
    /// unanswered attempt is retried until the back office answers: giving up would leave a card on that
    /// its holder turned off.
    pub(crate) async fn execute_card_switch(&self, job: &JobRecord) -> Result<JobOutcome> {
        let plan: CardSwitchPlan = payload_of(job)?;
        let later = self.store.later_jobs(job).await?;
        let superseded = later.iter().any(|other| {
            payload_of::<CardSwitchPlan>(other).is_ok_and(|p| p.card_id == plan.card_id)
        });
        if superseded {
            return Ok(JobOutcome::Done {
                result: r#"{"superseded":true}"#.to_owned(),
            });
        }
        let Some(stored) = self.store.get_card(&job.user_id, &plan.card_id).await? else {
            return Ok(JobOutcome::Failed {
                reason: "the card is no longer known".to_owned(),
            });
        };
        let card_ref = &stored.card.id_bo;
        let answer = self
            .back_offices
            .call(
                &stored.back_office_id,
                "cards.set_enabled",
                |bo| async move {
                    bo.require_cards()?
                        .set_card_enabled(card_ref, plan.enabled)
                        .await
                },
            )
            .await;
        match answer.map_err(StepFailure::from) {
            Ok(card) => {
                self.record_cards(
                    &job.user_id,
                    &stored.back_office_id,
                    &[(card, stored.account_id)],
                )
                .await?;
                Ok(JobOutcome::Done {
                    result: "{}".to_owned(),
                })
            }
            Err(StepFailure::Permanent(reason)) => Ok(JobOutcome::Failed { reason }),
            Err(transient) => Ok(self.after_interruption(job, transient, false)),
        }
    }
}
