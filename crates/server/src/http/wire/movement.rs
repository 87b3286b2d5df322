//! Transfers, remittances, payments to beneficiaries and the undo queue on the wire. Bodies accept every
//! documented variant (`srcAcc` / `sourceAccountId` / `sourceAFiAccountId`, `dstAcc` /
//! `destinationAFiAccountId` / `destinationAccountId`), amounts as numbers or strings.

use super::common::{dts, Amount, DecimalInput};
use crate::http::error::ApiError;
use crate::services::movements::{PaymentRequest, TransferRequest};
use bankgate_domain::ids::{AccountId, BeneficiaryId};
use bankgate_domain::{Currency, Money};
use bankgate_store::{JobRecord, JobState};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// `POST /transfer/acc2acc` and `POST /remittance/creditCardPayment` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransferBody {
    #[serde(
        alias = "srcAcc",
        alias = "sourceAFiAccountId",
        rename = "sourceAccountId"
    )]
    pub source: Option<String>,
    #[serde(
        alias = "dstAcc",
        alias = "destinationAFiAccountId",
        rename = "destinationAccountId"
    )]
    pub destination: Option<String>,
    /// A number or a numeric string, in `currency`: the currency of either account.
    #[schema(value_type = f64, example = 25.00)]
    pub amount: Option<DecimalInput>,
    #[schema(example = "USD")]
    pub currency: Option<String>,
    /// Used for both sides unless they are given apart.
    pub narrative: Option<String>,
    pub narrative_debit: Option<String>,
    pub narrative_credit: Option<String>,
}

impl TransferBody {
    pub fn into_request(self) -> Result<TransferRequest, ApiError> {
        let source = required(self.source, "sourceAccountId (or srcAcc)")?;
        let destination = required(self.destination, "destinationAccountId (or dstAcc)")?;
        Ok(TransferRequest {
            source: account_id(&source)?,
            destination: account_id(&destination)?,
            amount: money(self.amount, self.currency)?,
            narrative_debit: self.narrative_debit.or_else(|| self.narrative.clone()),
            narrative_credit: self.narrative_credit.or(self.narrative),
        })
    }
}

/// `POST /remittance/{AFiRemittanceId}` and `POST /transfer/acc2ben/{AFiBeneficiaryId}` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentBody {
    #[serde(
        alias = "srcAcc",
        alias = "sourceAFiAccountId",
        rename = "sourceAccountId"
    )]
    pub source: Option<String>,
    /// Required for remittances; for acc2ben the path names the beneficiary (and must agree if both do).
    #[serde(rename = "AFiBeneficiaryId")]
    pub beneficiary: Option<String>,
    #[schema(value_type = f64, example = 25.00)]
    pub amount: Option<DecimalInput>,
    #[schema(example = "USD")]
    pub currency: Option<String>,
    /// Accepted for compatibility; the beneficiary's own rail decides.
    pub txn_type: Option<String>,
    pub narrative_debit: Option<String>,
    pub narrative_credit: Option<String>,
    /// Accepted and ignored: free text the reference passes to some back offices.
    pub extras_debit: Option<String>,
    pub extras_credit: Option<String>,
}

impl PaymentBody {
    /// The request, with the beneficiary from the path when there is one there.
    pub fn into_request(self, path_beneficiary: Option<&str>) -> Result<PaymentRequest, ApiError> {
        let source = required(self.source, "sourceAccountId (or srcAcc)")?;
        let beneficiary = match (path_beneficiary, self.beneficiary.as_deref()) {
            (Some(path), Some(body)) if path != body => {
                return Err(ApiError::bad_request(
                    "BENEFICIARY_MISMATCH",
                    "AFiBeneficiaryId in the body differs from the path",
                ))
            }
            (Some(path), _) => path.to_owned(),
            (None, Some(body)) => body.to_owned(),
            (None, None) => return Err(missing("AFiBeneficiaryId")),
        };
        Ok(PaymentRequest {
            source: account_id(&source)?,
            beneficiary: BeneficiaryId::parse(&beneficiary).ok_or_else(|| {
                ApiError::not_found("BENEFICIARY_NOT_FOUND", "Beneficiary not found")
            })?,
            amount: money(self.amount, self.currency)?,
            narrative_debit: self.narrative_debit,
            narrative_credit: self.narrative_credit,
        })
    }
}

fn missing(field: &str) -> ApiError {
    ApiError::bad_request("MISSING_FIELD", format!("{field} is required"))
}

fn required(value: Option<String>, field: &str) -> Result<String, ApiError> {
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| missing(field))
}

/// An id that cannot be an account id names none of the user's accounts: 404, like any foreign id.
fn account_id(raw: &str) -> Result<AccountId, ApiError> {
    AccountId::parse(raw.trim())
        .ok_or_else(|| ApiError::not_found("ACCOUNT_NOT_FOUND", "Account not found"))
}

/// `amount` and `currency` as exact money.
pub fn money(amount: Option<DecimalInput>, currency: Option<String>) -> Result<Money, ApiError> {
    let currency = required(currency, "currency")?;
    let currency = Currency::parse(currency.trim())
        .map_err(|e| ApiError::bad_request("INVALID_CURRENCY", e.to_string()))?;
    let amount = amount.ok_or_else(|| missing("amount"))?;
    amount
        .to_money(currency)
        .map_err(|e| ApiError::bad_request("INVALID_AMOUNT", e.to_string()))
}

/// An entry of the undo queue.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UndoWire {
    /// Five lowercase letters; cancel with `DELETE /undo/{id}`, run now with `POST /undo/now/{id}`.
    #[schema(example = "ozqtz")]
    pub id: String,
    /// True once the undo window has ended (or "do now" was asked): it runs at the next scan.
    pub is_actionable: bool,
    pub dts_queued: String,
    /// The last moment an undo is possible.
    pub dts_expiry: String,
    pub is_cancelled: bool,
    /// waiting, running, retrying, done, failed or cancelled.
    #[schema(example = "waiting")]
    pub state: String,
    /// transfer, card_payment, remittance, beneficiary_payment, beneficiary_deletion or card_switch.
    pub kind: String,
    /// The operation's id; statement lines it makes carry it as their `reference`.
    pub reference: String,
    /// Why it failed, or why it is being retried.
    pub reason: Option<String>,
    pub dts_finished: Option<String>,
}

impl UndoWire {
    pub fn new(job: &JobRecord, now: OffsetDateTime) -> Self {
        UndoWire {
            id: job.undo_id.clone().unwrap_or_default(),
            is_actionable: !job.state.is_final() && job.due_at <= now,
            dts_queued: dts(job.queued_at),
            dts_expiry: dts(job.expires_at),
            is_cancelled: job.state == JobState::Cancelled,
            state: job.state.as_str().to_owned(),
            kind: job.kind.as_str().to_owned(),
            reference: job.id.to_string(),
            reason: match job.state {
                JobState::Failed | JobState::Retrying => job.failure.clone(),
                _ => None,
            },
            dts_finished: job.finished_at.map(dts),
        }
    }
}

/// The answer to a queued, undoable call.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueuedResponse {
    /// True: the operation was queued (it runs when its undo window ends).
    pub success: bool,
    /// Present and true when the account's bank is unavailable (stand-in, status 202): the operation
    /// runs when it answers again.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub queued: bool,
    pub undo: UndoWire,
    /// The operation's id.
    pub reference: String,
}

/// The answer to `POST /remittance/{AFiRemittanceId}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RemittanceResponse {
    pub success: bool,
    /// Present and true when accepted in stand-in (status 202).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub queued: bool,
    pub undo: UndoWire,
    pub reference: String,
    #[serde(rename = "AFiRemittanceId")]
    pub afi_remittance_id: String,
    /// True when this id was used before: nothing new was queued.
    #[serde(rename = "isReplay")]
    pub is_replay: bool,
}

/// The answer to `POST /transfer/acc2ben/{AFiBeneficiaryId}`: the payment has been made.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDoneResponse {
    pub success: bool,
    /// The operation's id, also the statement line's `reference`.
    pub reference: String,
    /// bankgate's id of the debit on the source account.
    pub transaction_id: String,
    #[serde(rename = "transactionIdBO")]
    pub transaction_id_bo: String,
    #[schema(value_type = f64)]
    pub amount: Amount,
    pub currency: String,
    pub dts_completed: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UndoListResponse {
    pub success: bool,
    /// The user's queued actions that have not ended, oldest first.
    pub undos: Vec<UndoWire>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UndoResponse {
    pub success: bool,
    pub undo: UndoWire,
}
