//! Carrying out an accepted movement at the back offices, step by step, with every step's result logged
//! before the next begins:
//! * same back office: one book transfer;
//! * two back offices: debit the source into its settlement account, then credit the destination out of
//!   its own; if the credit fails for good, the debit is reversed;
//! * to a beneficiary: one payout from the source.
//!
//! Each step carries the idempotency key `<operation id>:<step>`, so repeating a step (after a retry, a
//! lost reply or a crash) never applies it twice. A failure before any money moved ends the job failed.
//! Once the source has been debited, the job never gives up: it retries until the credit or the
//! reversal goes through.

use super::plan::{
    payload_of, MovementPlan, MovementResult, PlannedAccount, PlannedDestination, SagaLog,
};
use crate::services::jobs::StepFailure;
use crate::services::{Result, ServiceError, Services};
use bankgate_backoffice::{
    BoTransaction, BookTransfer, FxDetail, IdempotencyKey, LegKind, Payout, SettlementLeg,
};
use bankgate_domain::{Money, Rate};
use bankgate_store::{JobKind, JobOutcome, JobRecord};

/// Where a movement's execution got to this time.
enum Progress {
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

    async fn settlement_saga(
        &self,
        job: &JobRecord,
        plan: &MovementPlan,
        destination: &PlannedAccount,
        credit: Money,
        rate: Option<Rate>,
        log: &mut SagaLog,
    ) -> Result<Progress> {
        let fx_on_debit = rate.map(|rate| FxDetail {
            rate,
            counter_amount: credit,
        });
        let fx_on_credit = rate.map(|rate| FxDetail {
            rate,
            counter_amount: plan.debit,
        });
        if log.debit.is_none() {
            let leg = leg(
                &plan.source,
                plan.debit,
                LegKind::Transfer,
                &plan.narrative_debit,
                job,
                fx_on_debit,
            );
            match self
                .settle(&plan.source, leg, step_key(job, "debit"), false)
                .await
            {
                Ok(line) => log.debit = Some(line),
                Err(StepFailure::Permanent(reason)) => return Ok(Progress::Failed(reason)),
                Err(transient) => return Ok(Progress::Interrupted(transient)),
            }
            // Logged, so that a resumed job knows money has moved; the hold goes in the same write,
            // since the source's bank now counts the debit itself.
            self.save_log_releasing_hold(job, log).await?;
        }
        if log.compensating.is_none() && log.credit.is_none() {
            let leg = leg(
                destination,
                credit,
                LegKind::Transfer,
                &plan.narrative_credit,
                job,
                fx_on_credit,
            );
            match self
                .settle(destination, leg, step_key(job, "credit"), true)
                .await
            {
                // Not logged: the job ends next, and a credit repeated after a crash is answered from
                // the back office's record of its key.
                Ok(line) => log.credit = Some(line),
                Err(StepFailure::Permanent(reason)) => {
                    log.compensating = Some(reason);
                    self.save_log(job, log).await?;
                }
                // An unanswered credit may have been applied: only a definite refusal may lead to the
                // reversal, or both sides would end up with the money. Until then it is retried with
                // its key, which the bank answers with the first result if it was applied.
                Err(transient) => return Ok(Progress::Interrupted(transient)),
            }
        }
        if let Some(reason) = log.compensating.clone() {
            if log.reversal.is_none() {
                let narrative = format!("Reversal: {}", plan.narrative_debit);
                let leg = leg(
                    &plan.source,
                    plan.debit,
                    LegKind::Reversal,
                    &narrative,
                    job,
                    None,
                );
                match self
                    .settle(&plan.source, leg, step_key(job, "reversal"), true)
                    .await
                {
                    Ok(line) => log.reversal = Some(line),
                    Err(StepFailure::Permanent(refusal)) => {
                        // The money sits in the source bank's settlement account and that bank will
                        // not take it back automatically: operations must settle it by hand.
                        tracing::error!(operation = %job.id, %refusal, %reason,
                            "reversal refused; the debit needs manual settlement");
                        return Ok(Progress::Failed(format!(
                            "{reason}; the amount could not be returned automatically and the bank \
                             will return it"
                        )));
                    }
                    Err(transient) => return Ok(Progress::Interrupted(transient)),
                }
                self.save_log(job, log).await?;
            }
            return Ok(Progress::Failed(reason));
        }
        match (&log.debit, &log.credit) {
            (Some(debit), Some(credit)) => Ok(Progress::Finished(Box::new(MovementResult {
                debit: debit.clone(),
                credit: Some(credit.clone()),
            }))),
            _ => Err(ServiceError::Internal(format!(
                "saga of {} lost a step",
                job.id
            ))),
        }
    }

    /// One settlement leg: a debit into, or a credit out of, the account's back office's settlement.
    async fn settle(
        &self,
        account: &PlannedAccount,
        leg: SettlementLeg,
        key: IdempotencyKey,
        credit: bool,
    ) -> std::result::Result<BoTransaction, StepFailure> {
        let operation = if credit {
            "transfers.credit"
        } else {
            "transfers.debit"
        };
        self.back_offices
            .call(&account.back_office, operation, |bo| async move {
                let transfers = bo.require_transfers()?;
                if credit {
                    transfers.credit_from_settlement(&leg, &key).await
                } else {
                    transfers.debit_to_settlement(&leg, &key).await
                }
            })
            .await
            .map_err(StepFailure::from)
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

    async fn save_log_releasing_hold(&self, job: &JobRecord, log: &SagaLog) -> Result<()> {
        let text = serde_json::to_string(log)
            .map_err(|e| ServiceError::Internal(format!("saga log: {e}")))?;
        self.save_progress(job, &text, true).await
    }

    async fn save_progress(&self, job: &JobRecord, text: &str, release_hold: bool) -> Result<()> {
        let claim = self.claim_of(job);
        let now = self.clock.now();
        if self
            .store
            .save_job_progress(&job.id, &claim, text, release_hold, now)
            .await?
        {
            Ok(())
        } else {
            // Another node took the job over after this claim's lease ran out; it carries on from
            // the log as last saved, and this run stops here.
            Err(ServiceError::Internal(format!(
                "lost the claim on {}",
                job.id
            )))
        }
    }

    async fn save_log(&self, job: &JobRecord, log: &SagaLog) -> Result<()> {
        let text = serde_json::to_string(log)
            .map_err(|e| ServiceError::Internal(format!("saga log: {e}")))?;
        self.save_progress(job, &text, false).await
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

fn step_key(job: &JobRecord, step: &str) -> IdempotencyKey {
    IdempotencyKey(format!("{}:{step}", job.id))
}

fn leg(
    account: &PlannedAccount,
    amount: Money,
    kind: LegKind,
    narrative: &str,
    job: &JobRecord,
    fx: Option<FxDetail>,
) -> SettlementLeg {
    SettlementLeg {
        account: account.id_bo.clone(),
        amount,
        kind,
        narrative: narrative.to_owned(),
        reference: job.id.to_string(),
        fx,
    }
}
