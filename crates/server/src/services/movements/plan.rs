//! What a queued money movement will do, fixed at acceptance and stored as its job's payload, and the
//! saga log of what it has done so far, stored as the job's progress. Both are decided once: execution
//! reads them and never recomputes amounts or rates, so a retried or resumed job does exactly what was
//! accepted.

use crate::services::{Result, ServiceError};
use bankgate_backoffice::{BoTransaction, Payee};
use bankgate_domain::ids::{AccountId, BackOfficeId, BeneficiaryId, BoRef};
use bankgate_domain::{Money, Rate};
use bankgate_store::JobRecord;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// One of the user's accounts, with where it lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedAccount {
    pub account_id: AccountId,
    pub back_office: BackOfficeId,
    pub id_bo: BoRef,
}

/// Where the money goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlannedDestination {
    /// Another of the user's accounts; `credit` differs in currency from the debit when `rate` is set.
    Account {
        account: PlannedAccount,
        credit: Money,
        rate: Option<Rate>,
    },
    /// A beneficiary outside the bank, paid through the source account's back office.
    Payee {
        beneficiary_id: BeneficiaryId,
        payee: Payee,
    },
}

/// A movement as accepted: `debit` leaves `source`, and reaches `destination`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovementPlan {
    pub source: PlannedAccount,
    pub debit: Money,
    pub destination: PlannedDestination,
    pub narrative_debit: String,
    pub narrative_credit: String,
}

/// Reads a job's payload as the kind's plan. The payload is bankgate's own writing, so a failure is a bug.
pub fn payload_of<T: DeserializeOwned>(job: &JobRecord) -> Result<T> {
    serde_json::from_str(&job.payload)
        .map_err(|e| ServiceError::Internal(format!("payload of {}: {e}", job.id)))
}

impl MovementPlan {
    /// The destination account, when the money stays with the user.
    pub fn destination_account(&self) -> Option<&PlannedAccount> {
        match &self.destination {
            PlannedDestination::Account { account, .. } => Some(account),
            PlannedDestination::Payee { .. } => None,
        }
    }

    pub fn beneficiary(&self) -> Option<&BeneficiaryId> {
        match &self.destination {
            PlannedDestination::Payee { beneficiary_id, .. } => Some(beneficiary_id),
            PlannedDestination::Account { .. } => None,
        }
    }
}

/// The payload of a queued beneficiary deletion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeneficiaryDeletion {
    pub beneficiary_id: BeneficiaryId,
}

/// The saga log: each step's result once the back office confirmed it. A resumed job skips the steps
/// recorded here; a step not recorded is repeated with the same idempotency key, which the back office
/// answers with its first result if it had in fact been applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SagaLog {
    /// The source's line: the book transfer's debit, the settlement debit, or the payout.
    pub debit: Option<BoTransaction>,
    pub credit: Option<BoTransaction>,
    /// Set once the credit failed for good: the debit must be given back, and why.
    pub compensating: Option<String>,
    pub reversal: Option<BoTransaction>,
}

/// What a finished movement produced, stored as its job's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovementResult {
    pub debit: BoTransaction,
    pub credit: Option<BoTransaction>,
}
