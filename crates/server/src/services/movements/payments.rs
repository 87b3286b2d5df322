//! Payments to beneficiaries: remittances (queued with undo, the client's remittance id an idempotency
//! key) and immediate payments (acc2ben), which the request runs itself. They are accepted as transfers
//! are (`accept.rs`): a plan, a hold, a queued job.

use super::accept::{ensure_positive, narrative, planned, Accepted};
use super::plan::{payload_of, MovementPlan, PlannedDestination};
use crate::services::{Result, ServiceError, Services};
use bankgate_domain::ids::{AccountId, BeneficiaryId, UserId};
use bankgate_domain::Money;
use bankgate_store::{JobKind, JobRecord};
use time::Duration;

/// A payment a request runs itself is left for the queue to finish after this, should its node die.
const INLINE_GRACE: Duration = Duration::seconds(30);

/// A payment to a beneficiary (remittance or acc2ben), parsed.
#[derive(Debug, Clone)]
pub struct PaymentRequest {
    pub source: AccountId,
    pub beneficiary: BeneficiaryId,
    pub amount: Money,
    pub narrative_debit: Option<String>,
    pub narrative_credit: Option<String>,
}

impl Services {
    /// Accepts a remittance to a beneficiary. `remittance_id` is the client's id for it: a repeat is
    /// answered with the first job and pays nothing.
    pub async fn accept_remittance(
        &self,
        user: &UserId,
        remittance_id: &str,
        request: PaymentRequest,
    ) -> Result<Accepted> {
        // A replay is answered from the first payment before anything else is looked at, so it works
        // even if the beneficiary has since been deleted or its bank cannot be reached.
        let kind = JobKind::Remittance;
        if let Some(job) = self
            .store
            .job_by_client_ref(user, kind, remittance_id)
            .await?
        {
            return same_remittance(job, &request);
        }
        let plan = self.payment_plan(user, request.clone()).await?;
        let window = self.undo_window(kind);
        let client_ref = Some(remittance_id.to_owned());
        let accepted = self
            .queue_movement(user, kind, plan, client_ref, true, window)
            .await?;
        if accepted.replayed {
            // A concurrent first use of the same id won the race.
            return same_remittance(accepted.job, &request);
        }
        Ok(accepted)
    }

    /// Pays a beneficiary at once (acc2ben): no undo; the request runs the job itself and answers with
    /// how it ended. In stand-in it cannot: the payment is queued and the answer says so.
    /// `retry_key` is the request's Idempotency-Key, if it has one: a retry of a payment whose first
    /// answer was lost finds the first payment by it instead of paying again.
    pub async fn pay_beneficiary_now(
        &self,
        user: &UserId,
        request: PaymentRequest,
        retry_key: Option<String>,
    ) -> Result<Accepted> {
        let kind = JobKind::BeneficiaryPayment;
        if let Some(first) = self.queued_before(user, kind, retry_key.as_deref()).await? {
            let job = self.run_job_now(&first.job.id).await?;
            return Ok(Accepted { job, ..first });
        }
        let plan = self.payment_plan(user, request).await?;
        let accepted = self
            .queue_movement(user, kind, plan, retry_key, false, INLINE_GRACE)
            .await?;
        if accepted.stand_in {
            // Its bank is unavailable: the runner makes the payment when it answers again.
            self.store
                .expedite_job(&accepted.job.id, self.clock.now())
                .await?;
            self.job_wakeup.notify_one();
            return Ok(accepted);
        }
        let job = self.run_job_now(&accepted.job.id).await?;
        Ok(Accepted { job, ..accepted })
    }

    /// bankgate's id of a statement line a finished job of the user produced on its source account.
    pub async fn transaction_id_for(
        &self,
        user: &UserId,
        job: &JobRecord,
        line: &bankgate_backoffice::BoTransaction,
    ) -> Result<bankgate_domain::ids::TransactionId> {
        let plan: MovementPlan = payload_of(job)?;
        self.store
            .transaction_id_by_bo(user, &plan.source.back_office, &line.id_bo.0)
            .await?
            .ok_or_else(|| ServiceError::Internal(format!("line of {} was not recorded", job.id)))
    }

    async fn payment_plan(&self, user: &UserId, request: PaymentRequest) -> Result<MovementPlan> {
        let source = self.stored_account(user, &request.source).await?;
        ensure_positive(request.amount)?;
        let currency = source.account.ledger.currency;
        if request.amount.currency != currency {
            return Err(ServiceError::invalid(
                "CURRENCY_MISMATCH",
                format!(
                    "the source account holds {currency}, not {}",
                    request.amount.currency
                ),
            ));
        }
        let beneficiary = self.beneficiary_record(user, &request.beneficiary).await?;
        let payee = self.payee_for(&beneficiary, &source.back_office_id)?;
        let name = payee.name.clone();
        Ok(MovementPlan {
            source: planned(&source),
            debit: request.amount,
            destination: PlannedDestination::Payee {
                beneficiary_id: request.beneficiary,
                payee,
            },
            narrative_debit: narrative(request.narrative_debit, || format!("Payment to {name}"))?,
            narrative_credit: narrative(request.narrative_credit, || {
                format!("Payment from {}", source.account.name)
            })?,
        })
    }
}

/// The answer to a remittance id used before: the first payment if this is the same one, else 422.
fn same_remittance(job: JobRecord, request: &PaymentRequest) -> Result<Accepted> {
    let plan: MovementPlan = payload_of(&job)?;
    let same = plan.source.account_id == request.source
        && plan.debit == request.amount
        && plan.beneficiary() == Some(&request.beneficiary);
    if same {
        Ok(Accepted {
            job,
            replayed: true,
            stand_in: false,
        })
    } else {
        Err(ServiceError::IdempotencyMismatch {
            code: "REMITTANCE_ID_REUSED",
            message: "this AFiRemittanceId was used for a different payment".to_owned(),
        })
    }
}
