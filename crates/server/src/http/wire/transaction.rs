//! The transaction record and the modify-transaction body.

use super::common::{dts, patch, Amount};
use crate::services::transactions::{TransactionChanges, TransactionView};
use bankgate_domain::patch::Patch;
use bankgate_domain::Money;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionWire {
    pub transaction_id: String,
    pub id: String,
    #[serde(rename = "transactionIdBO")]
    pub transaction_id_bo: String,
    #[serde(rename = "AFiAccountId")]
    pub afi_account_id: String,
    #[serde(rename = "AFiUserId")]
    pub afi_user_id: String,
    #[serde(rename = "AFiCardId")]
    pub afi_card_id: Option<String>,
    #[serde(rename = "accountIdBO")]
    pub account_id_bo: String,
    pub back_office_id: String,
    /// Signed: negative for a debit.
    #[schema(value_type = f64, example = -4.75)]
    pub amount: Amount,
    #[schema(value_type = f64)]
    pub debit: Amount,
    #[schema(value_type = f64)]
    pub credit: Amount,
    pub currency: String,
    pub txn_type: String,
    pub type_name: String,
    pub narrative: String,
    pub mcc: Option<String>,
    pub state_id: i32,
    pub transaction_state: String,
    pub is_declined: bool,
    pub is_pending: bool,
    pub is_complete: bool,
    #[serde(rename = "sourceAFiAccountId")]
    pub source_afi_account_id: Option<String>,
    #[serde(rename = "destinationAFiAccountId")]
    pub destination_afi_account_id: Option<String>,
    /// The beneficiary paid, for payments to beneficiaries.
    #[serde(rename = "AFiBeneficiaryId", skip_serializing_if = "Option::is_none")]
    pub afi_beneficiary_id: Option<String>,
    /// For a movement converted between currencies: units of the credited currency per unit debited.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>, example = 0.92)]
    pub exchange_rate: Option<f64>,
    /// The other side's amount of a converted movement, unsigned.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub counter_amount: Option<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counter_currency: Option<String>,
    /// The operation that made this line: bankgate's operation id for transfers and payments.
    pub reference: String,
    pub comment: Option<String>,
    pub labels: Vec<String>,
    #[schema(value_type = Option<Object>)]
    pub attachments: Option<serde_json::Value>,
    pub dts_recorded: String,
    pub dts_value: String,
    pub dts_completed: Option<String>,
    pub dts_refreshed: String,
    pub is_stale: bool,
}

impl From<TransactionView> for TransactionWire {
    fn from(view: TransactionView) -> Self {
        let is_stale = view.freshness.is_stale();
        let s = view.stored;
        let t = s.transaction;
        let view_movement = view.movement;
        let zero = Money::zero(t.amount.currency);
        let is_debit = t.amount.minor < 0;
        let magnitude = Money::new(t.amount.minor.saturating_abs(), t.amount.currency);
        let account = s.account_id.as_str().to_owned();
        TransactionWire {
            transaction_id: s.id.as_str().to_owned(),
            id: s.id.into_string(),
            transaction_id_bo: t.id_bo.0,
            afi_account_id: account.clone(),
            afi_user_id: s.user_id.into_string(),
            afi_card_id: view.card_id.map(|c| c.into_string()),
            account_id_bo: t.account_id_bo.0,
            back_office_id: s.back_office_id.to_string(),
            amount: Amount(t.amount),
            debit: Amount(if is_debit { magnitude } else { zero }),
            credit: Amount(if is_debit { zero } else { magnitude }),
            currency: t.amount.currency.to_string(),
            txn_type: t.txn_type,
            type_name: t.type_name,
            narrative: t.narrative,
            mcc: t.mcc,
            state_id: t.state.state_id(),
            transaction_state: t.state.as_str().to_owned(),
            is_declined: t.state == bankgate_backoffice::TransactionState::Declined,
            is_pending: t.state == bankgate_backoffice::TransactionState::Pending,
            is_complete: t.state == bankgate_backoffice::TransactionState::Confirmed,
            source_afi_account_id: match &view_movement {
                Some(m) => Some(m.source_account_id.to_string()),
                None => is_debit.then(|| account.clone()),
            },
            destination_afi_account_id: match &view_movement {
                Some(m) => m.destination_account_id.as_ref().map(ToString::to_string),
                None => (!is_debit).then_some(account),
            },
            afi_beneficiary_id: view_movement
                .as_ref()
                .and_then(|m| m.beneficiary_id.as_ref())
                .map(ToString::to_string),
            exchange_rate: t.fx.map(|fx| fx.rate.to_f64()),
            counter_amount: t.fx.map(|fx| Amount(fx.counter_amount)),
            counter_currency: t.fx.map(|fx| fx.counter_amount.currency.to_string()),
            reference: t.reference,
            comment: s.annotations.comment,
            labels: s.annotations.labels,
            attachments: None,
            dts_recorded: dts(t.recorded_at),
            dts_value: dts(t.value_at),
            dts_completed: t.completed_at.map(dts),
            dts_refreshed: dts(s.refreshed_at),
            is_stale,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionResponse {
    pub success: bool,
    pub transaction: TransactionWire,
}

/// `POST /accounts/{id}/transactions/{transactionId}` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TransactionChangesBody {
    pub changes: TransactionChangesWire,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct TransactionChangesWire {
    #[serde(deserialize_with = "patch")]
    #[schema(value_type = Option<String>)]
    pub comment: Patch<String>,
    pub labels: Option<Vec<String>>,
}

impl From<TransactionChangesWire> for TransactionChanges {
    fn from(w: TransactionChangesWire) -> Self {
        TransactionChanges {
            comment: w.comment,
            labels: w.labels,
        }
    }
}
