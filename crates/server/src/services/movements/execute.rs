//! Carrying out an accepted movement at the back offices:
//! * same back office: one book transfer;
//! * two back offices: the saga in `saga.rs`;
//! * to a beneficiary: one payout from the source.
//!
//! Each step carries the idempotency key `<operation id>:<step>`, so repeating a step (after a retry, a
//! lost reply or a crash) never applies it twice. A refusal ends the job; a step that got no answer may
//! have been applied, so the job retries it with the same key until the bank answers.

use super::plan::{
    payload_of, MovementPlan, MovementResult, PlannedAccount, PlannedDestination, SagaLog,
};
use crate::services::jobs::StepFailure;
use crate::services::{Result, ServiceError, Services};
use bankgate_backoffice::{BoTransaction, BookTransfer, IdempotencyKey, Payout};
use bankgate_domain::{Money, Rate};
use bankgate_store::{JobKind, JobOutcome, JobRecord};

/// Where a movement's execution got to this time.
pub(super) enum Progress {
    Finished(Box<MovementResult>),
    /// Ended without moving money (or with the debit given back).
    Failed(String),
    /// A step could not be completed now; try again later.
    Interrupted(StepFailure),
}

impl Services {
    /// Runs the movement job as far as it can go and says how it stands.
    pub(crate) async fn execute_movement(&self, job: &JobRecord) -> Result<JobOutcome> {
        let plan: MovementPlan = payload_of(job)?;
        let mut log: SagaLog = match &job.progress {
            Some(progress) => serde_json::from_str(progress)
                .map_err(|e| ServiceError::Internal(format!("saga log of {}: {e}", job.id)))?,
            None => SagaLog::default(),
        };
        let progress = match &plan.destination {
            PlannedDestination::Account {
                account,
                credit,
                rate,
            } if account.back_office == plan.source.back_office => {
                self.book_transfer(job, &plan, account, *credit, *rate)
                    .await
            }
            PlannedDestination::Account {
                account,
                credit,
                rate,
            } => {
                self.settlement_saga(job, &plan, account, *credit, *rate, &mut log)
                    .await?
            }
            PlannedDestination::Payee {
                payee,
                beneficiary_id,
            } => {
                // A beneficiary deleted while the payment waited can no longer be paid. Checked only
                // before the first send: once a payout may have gone out, it is seen through.
                let deleted = job.attempts == 1
                    && self
                        .store
                        .get_beneficiary(&job.user_id, beneficiary_id)
                        .await?
                        .is_none();
                if deleted {
                    Progress::Failed(
                        "the beneficiary was deleted before the payment ran".to_owned(),
                    )
                } else {
                    self.payout(job, &plan, payee).await
                }
            }
        };
        // A payment made in the request answers with bankgate's id of its line, so it is recorded now;
        // other movements' lines are recorded as they pass through the transaction lists, like any line.
        if job.kind == JobKind::BeneficiaryPayment {
            self.record_lines(job, &plan, &log, &progress).await?;
        }
        Ok(match progress {
            Progress::Finished(result) => JobOutcome::Done {
                result: serde_json::to_string(&*result)
                    .map_err(|e| ServiceError::Internal(format!("result: {e}")))?,
            },
            Progress::Failed(reason) => JobOutcome::Failed { reason },
            // Every step moves money, and an unanswered one may have been applied: the job keeps trying
            // with the same key until its bank answers, rather than end as if nothing had happened.
            Progress::Interrupted(failure) => self.after_interruption(job, failure, false),
        })
    }

    async fn book_transfer(
        &self,
        job: &JobRecord,
        plan: &MovementPlan,
        destination: &PlannedAccount,
        credit: Money,
        rate: Option<Rate>,
    ) -> Progress {
        let transfer = BookTransfer {
            from: plan.source.id_bo.clone(),
            to: destination.id_bo.clone(),
            debit: plan.debit,
            credit,
            rate,
            narrative_debit: plan.narrative_debit.clone(),
            narrative_credit: plan.narrative_credit.clone(),
            reference: job.id.to_string(),
        };
        let key = step_key(job, "book");
        let result = self
            .back_offices
            .call(
                &plan.source.back_office,
                "transfers.book",
                |bo| async move { bo.require_transfers()?.book_transfer(&transfer, &key).await },
            )
            .await;
        match result.map_err(StepFailure::from) {
            Ok(legs) => Progress::Finished(Box::new(MovementResult {
                debit: legs.debit,
                credit: Some(legs.credit),
            })),
            Err(StepFailure::Permanent(reason)) => Progress::Failed(reason),
            Err(transient) => Progress::Interrupted(transient),
        }
    }

    async fn payout(
        &self,
        job: &JobRecord,
        plan: &MovementPlan,
        payee: &bankgate_backoffice::Payee,
    ) -> Progress {
        let payout = Payout {
            account: plan.source.id_bo.clone(),
            amount: plan.debit,
            payee: payee.clone(),
            narrative: plan.narrative_debit.clone(),
            reference: job.id.to_string(),
        };
        let key = step_key(job, "payout");
        let result = self
            .back_offices
            .call(
                &plan.source.back_office,
                "payments.pay_out",
                |bo| async move { bo.require_payments()?.pay_out(&payout, &key).await },
            )
            .await;
        match result.map_err(StepFailure::from) {
            Ok(debit) => Progress::Finished(Box::new(MovementResult {
                debit,
                credit: None,
            })),
            Err(StepFailure::Permanent(reason)) => Progress::Failed(reason),
            Err(transient) => Progress::Interrupted(transient),
        }
    }

    /// Records the statement lines the movement produced in the store, with bankgate's ids.
    async fn record_lines(
        &self,
        job: &JobRecord,
        plan: &MovementPlan,
        log: &SagaLog,
        progress: &Progress,
    ) -> Result<()> {
        let mut source_lines: Vec<BoTransaction> = Vec::new();
        let mut destination_lines: Vec<BoTransaction> = Vec::new();
        match progress {
            Progress::Finished(result) => {
                source_lines.push(result.debit.clone());
                destination_lines.extend(result.credit.clone());
            }
            Progress::Failed(_) | Progress::Interrupted(_) => {
                source_lines.extend(log.debit.clone());
                source_lines.extend(log.reversal.clone());
                destination_lines.extend(log.credit.clone());
            }
        }
        let now = self.clock.now();
        let source = &plan.source;
        if !source_lines.is_empty() {
            self.store
                .record_transactions(
                    &job.user_id,
                    &source.account_id,
                    &source.back_office,
                    &source_lines,
                    now,
                )
                .await?;
        }
        if let (Some(destination), false) =
            (plan.destination_account(), destination_lines.is_empty())
        {
            self.store
                .record_transactions(
                    &job.user_id,
                    &destination.account_id,
                    &destination.back_office,
                    &destination_lines,
                    now,
                )
                .await?;
        }
        Ok(())
    }
}

pub(super) fn step_key(job: &JobRecord, step: &str) -> IdempotencyKey {
    IdempotencyKey(format!("{}:{step}", job.id))
}
