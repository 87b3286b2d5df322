//! The movement between two back offices, as a saga with a durable log: debit the source into its back
//! office's settlement account, then credit the destination out of its own; a credit refused for good is
//! compensated by reversing the debit. The log records the debit (releasing the hold, which the source's
//! bank now counts itself) and the decision to compensate before the reversal, so a resumed job never
//! credits after reversing; an unanswered step is repeated with its key, never given up on.

use super::execute::{step_key, Progress};
use super::plan::{MovementPlan, MovementResult, PlannedAccount, SagaLog};
use crate::services::jobs::StepFailure;
use crate::services::{Result, ServiceError, Services};
use bankgate_backoffice::{BoTransaction, FxDetail, IdempotencyKey, LegKind, SettlementLeg};
use bankgate_domain::{Money, Rate};
use bankgate_store::JobRecord;

impl Services {
    pub(super) async fn settlement_saga(
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
