//! Accepting movements: validating them against the user's accounts, fixing amounts and rate, and queueing
//! the job with its hold. Nothing reaches a back office's books here; only balances and rates are read.
//! When the source's back office cannot be asked, the movement is accepted in stand-in: judged by the
//! last balance it confirmed, within the stand-in limits, and queued to run when it answers again.
//! Transfers between the user's accounts are accepted here; payments to beneficiaries in `payments.rs`,
//! through the same queueing.

use super::plan::{MovementPlan, PlannedAccount, PlannedDestination};
use crate::services::{Entity, Result, ServiceError, Services};
use bankgate_domain::ids::{AccountId, OperationId, UserId};
use bankgate_domain::{Currency, Money, Rate};
use bankgate_store::{Enqueued, HoldPosition, JobKind, JobRecord, NewHold, NewJob, StoredAccount};
use time::Duration;

/// How often an acceptance re-reads a balance that moved under it before giving up.
const STALE_BALANCE_RETRIES: usize = 5;
const MAX_NARRATIVE_CHARS: usize = 140;

/// `POST /transfer/acc2acc` and `POST /remittance/creditCardPayment`, parsed.
#[derive(Debug, Clone)]
pub struct TransferRequest {
    pub source: AccountId,
    pub destination: AccountId,
    /// In the source's or the destination's currency: that side moves exactly this much.
    pub amount: Money,
    pub narrative_debit: Option<String>,
    pub narrative_credit: Option<String>,
}

/// A queued job, and whether it was queued by an earlier call with the same client id.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub job: JobRecord,
    pub replayed: bool,
    /// Accepted while the source's back office was unavailable: it runs when that back office answers.
    pub stand_in: bool,
}

impl Services {
    /// Accepts a transfer between two of the user's accounts, queued for the undo window.
    pub async fn accept_transfer(
        &self,
        user: &UserId,
        kind: JobKind,
        request: TransferRequest,
        retry_key: Option<String>,
    ) -> Result<Accepted> {
        if let Some(first) = self.queued_before(user, kind, retry_key.as_deref()).await? {
            return Ok(first);
        }
        let (source, destination) = self
            .store
            .get_account_pair(user, &request.source, &request.destination)
            .await?;
        let not_found = || ServiceError::NotFound(Entity::Account);
        let (source, destination) = (
            source.ok_or_else(not_found)?,
            destination.ok_or_else(not_found)?,
        );
        if source.id == destination.id {
            return Err(ServiceError::invalid(
                "SAME_ACCOUNT",
                "source and destination must be different accounts",
            ));
        }
        ensure_positive(request.amount)?;
        let (debit, credit, rate) = self.amounts(&source, &destination, request.amount).await?;
        let plan = MovementPlan {
            source: planned(&source),
            debit,
            destination: PlannedDestination::Account {
                account: planned(&destination),
                credit,
                rate,
            },
            narrative_debit: narrative(request.narrative_debit, || {
                format!("Transfer to {}", destination.account.name)
            })?,
            narrative_credit: narrative(request.narrative_credit, || {
                format!("Transfer from {}", source.account.name)
            })?,
        };
        let window = self.undo_window(kind);
        self.queue_movement(user, kind, plan, retry_key, true, window)
            .await
    }

    /// The job an earlier request with the same Idempotency-Key queued, if any. It is looked up before
    /// anything is judged, because the first request's own hold may since have left too little money
    /// for the repeat to pass.
    pub(super) async fn queued_before(
        &self,
        user: &UserId,
        kind: JobKind,
        retry_key: Option<&str>,
    ) -> Result<Option<Accepted>> {
        let Some(key) = retry_key else {
            return Ok(None);
        };
        let first = self.store.job_by_client_ref(user, kind, key).await?;
        Ok(first.map(|job| Accepted {
            job,
            replayed: true,
            stand_in: false,
        }))
    }

    /// The amounts each side moves, and the rate when they differ in currency. The rate is the source
    /// back office's, fixed now: the user accepts what they see.
    async fn amounts(
        &self,
        source: &StoredAccount,
        destination: &StoredAccount,
        amount: Money,
    ) -> Result<(Money, Money, Option<Rate>)> {
        let (from, to) = (
            source.account.ledger.currency,
            destination.account.ledger.currency,
        );
        if amount.currency != from && amount.currency != to {
            return Err(ServiceError::invalid(
                "CURRENCY_MISMATCH",
                format!("currency must be {from} or {to}, the currencies of the two accounts"),
            ));
        }
        if from == to {
            return Ok((amount, amount, None));
        }
        let rate = self.conversion_rate(source, from, to).await?;
        let debit = if amount.currency == from {
            amount
        } else {
            rate.inverse().convert(amount, from).map_err(too_large)?
        };
        let credit = rate.convert(debit, to).map_err(too_large)?;
        if !debit.is_positive() || !credit.is_positive() {
            return Err(ServiceError::invalid(
                "AMOUNT_TOO_SMALL",
                "the amount is too small to convert",
            ));
        }
        Ok((debit, credit, Some(rate)))
    }

    async fn conversion_rate(
        &self,
        source: &StoredAccount,
        from: Currency,
        to: Currency,
    ) -> Result<Rate> {
        let board = self
            .read_back_office(
                &source.back_office_id,
                "rates.get",
                Entity::Account,
                |bo| async move { bo.require_rates()?.rate_board().await },
            )
            .await?;
        board.conversion_rate(from, to).ok_or_else(|| {
            ServiceError::conflict(
                "RATE_UNAVAILABLE",
                format!("the account's bank does not convert {from} to {to}"),
            )
        })
    }

    /// Places the hold and queues the job, re-reading the balance if an execution moved it meanwhile.
    /// Accepted in stand-in, the job is undoable whatever `undoable` says.
    pub(super) async fn queue_movement(
        &self,
        user: &UserId,
        kind: JobKind,
        plan: MovementPlan,
        client_ref: Option<String>,
        undoable: bool,
        window: Duration,
    ) -> Result<Accepted> {
        let payload = serde_json::to_string(&plan)
            .map_err(|e| ServiceError::Internal(format!("plan: {e}")))?;
        for _ in 0..STALE_BALANCE_RETRIES {
            let position = self.store.hold_position(&plan.source.account_id).await?;
            let hold = self.hold_for(user, &plan, position).await?;
            let stand_in = hold.stand_in_limit.is_some();
            let now = self.clock.now();
            let job = NewJob {
                id: OperationId::generate(),
                user_id: user.clone(),
                kind,
                // Queued in stand-in, even a payment meant to run at once waits for its bank, and may
                // be cancelled until it runs.
                undoable: undoable || stand_in,
                client_ref: client_ref.clone(),
                payload: payload.clone(),
                queued_at: now,
                due_at: now + window,
                max_attempts: self.settings.job_max_attempts,
                hold: Some(hold),
            };
            match self.store.enqueue_job(&job).await? {
                Enqueued::Queued(job) => {
                    if job.due_at <= self.clock.now() {
                        self.job_wakeup.notify_one();
                    }
                    return Ok(Accepted {
                        job,
                        replayed: false,
                        stand_in,
                    });
                }
                Enqueued::Existing(job) => {
                    return Ok(Accepted {
                        job,
                        replayed: true,
                        stand_in: false,
                    })
                }
                Enqueued::StandInLimit => {
                    return Err(self.over_stand_in_limit_per_user(plan.debit.currency))
                }
                Enqueued::InsufficientFunds => {
                    return Err(ServiceError::conflict(
                        "INSUFFICIENT_FUNDS",
                        "the available balance does not cover this amount",
                    ))
                }
                Enqueued::StaleBalance => continue,
            }
        }
        Err(ServiceError::conflict(
            "BALANCE_CHANGING",
            "the account's balance is changing; try again",
        ))
    }

    /// The hold on the source, judged by its available balance at its back office, read now; or, when
    /// the back office is unavailable, by the last balance it confirmed, within the stand-in limits.
    async fn hold_for(
        &self,
        user: &UserId,
        plan: &MovementPlan,
        position: HoldPosition,
    ) -> Result<NewHold> {
        let id_bo = &plan.source.id_bo;
        let asked = self
            .read_back_office(
                &plan.source.back_office,
                "accounts.get",
                Entity::Account,
                |bo| async move { bo.require_accounts()?.get_account(id_bo).await },
            )
            .await;
        let (account, stand_in_limit) = match asked {
            Ok(account) => (account, None),
            Err(ServiceError::BackOfficeUnavailable) => {
                let (stored, limit) = self
                    .stand_in_source(user, &plan.source.account_id, plan.debit)
                    .await?;
                (stored.account, Some(limit))
            }
            Err(e) => return Err(e),
        };
        if account.is_closed {
            return Err(ServiceError::conflict(
                "ACCOUNT_CLOSED",
                "the source account is closed",
            ));
        }
        Ok(NewHold {
            account_id: plan.source.account_id.clone(),
            amount: plan.debit,
            available_at_back_office: account.available,
            position,
            stand_in_limit,
        })
    }

    pub(super) fn undo_window(&self, kind: JobKind) -> Duration {
        let window = match kind {
            JobKind::BeneficiaryDeletion => self.settings.undo_window_beneficiary_deletion,
            _ => self.settings.undo_window_movement,
        };
        Duration::try_from(window).unwrap_or(Duration::ZERO)
    }
}

pub(super) fn planned(account: &StoredAccount) -> PlannedAccount {
    PlannedAccount {
        account_id: account.id.clone(),
        back_office: account.back_office_id.clone(),
        id_bo: account.account.id_bo.clone(),
    }
}

pub(super) fn ensure_positive(amount: Money) -> Result<()> {
    if amount.is_positive() {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            "INVALID_AMOUNT",
            "amount must be more than zero",
        ))
    }
}

fn too_large(_: bankgate_domain::MoneyError) -> ServiceError {
    ServiceError::invalid("INVALID_AMOUNT", "amount is too large")
}

/// The user's narrative, trimmed and bounded, or the default.
pub(super) fn narrative(given: Option<String>, default: impl FnOnce() -> String) -> Result<String> {
    match given.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()) {
        Some(n) if n.chars().count() > MAX_NARRATIVE_CHARS => Err(ServiceError::invalid(
            "INVALID_NARRATIVE",
            format!("a narrative is limited to {MAX_NARRATIVE_CHARS} characters"),
        )),
        Some(n) => Ok(n),
        None => Ok(default()),
    }
}
