//! The stored shape of accounts, cards and transactions, and their conversion to the back-office
//! contract's types. Each row struct comes with the one SELECT that fills it, so a column list is
//! written once. Masking happens here or earlier: no row carries a full account number out unmasked, and
//! card rows never select the PAN at all.

use crate::error::SandboxError;
use bankgate_backoffice::{
    AccountStatus, BoAccount, BoCard, BoTransaction, FxDetail, TransactionState,
};
use bankgate_domain::card::Expiry;
use bankgate_domain::ids::BoRef;
use bankgate_domain::mask::{mask_account_number, MaskedPan};
use bankgate_domain::restrictions::CardRestrictions;
use bankgate_domain::time_format::from_millis;
use bankgate_domain::{Currency, Money, Rate};

fn currency(code: &str) -> Result<Currency, SandboxError> {
    Currency::parse(code).map_err(SandboxError::corrupt)
}

#[derive(sqlx::FromRow)]
pub(crate) struct AccountRow {
    id: String,
    customer_id: String,
    name: String,
    type_id: String,
    number: String,
    routing_number: String,
    currency: String,
    ledger_minor: i64,
    available_minor: i64,
    status: String,
    is_closed: i64,
    opened_at: i64,
    updated_at: i64,
}

impl AccountRow {
    pub(crate) const SELECT: &'static str = "SELECT id, customer_id, name, type_id, number, routing_number, \
         currency, ledger_minor, available_minor, status, is_closed, opened_at, updated_at FROM sbx_accounts";

    pub(crate) fn into_account(self) -> Result<BoAccount, SandboxError> {
        let currency = currency(&self.currency)?;
        let status = match self.status.as_str() {
            "active" => AccountStatus::Active,
            "blocked" => AccountStatus::Blocked,
            other => {
                return Err(SandboxError::corrupt(format_args!(
                    "account status {other:?}"
                )))
            }
        };
        Ok(BoAccount {
            id_bo: BoRef(self.id),
            customer_id_bo: BoRef(self.customer_id),
            name: self.name,
            type_id: self.type_id,
            number_masked: mask_account_number(&self.number),
            routing_number: Some(self.routing_number),
            ledger: Money::new(self.ledger_minor, currency),
            available: Money::new(self.available_minor, currency),
            status,
            is_closed: self.is_closed != 0,
            opened_at: from_millis(self.opened_at),
            updated_at: from_millis(self.updated_at),
        })
    }
}

/// A card joined with its account, which owns the customer and the currency.
#[derive(sqlx::FromRow)]
pub(crate) struct CardRow {
    id: String,
    account_id: String,
    customer_id: String,
    name_on_card: String,
    type_id: String,
    pan_masked: String,
    currency: String,
    expiry_year: i64,
    expiry_month: i64,
    enabled: i64,
    activated: i64,
    closed: i64,
    restrictions: String,
    issued_at: i64,
    updated_at: i64,
    activated_at: Option<i64>,
}

impl CardRow {
    /// Cards are aliased `c`, their accounts `a`, so callers can filter on either.
    pub(crate) const SELECT: &'static str = "SELECT c.id, c.account_id, a.customer_id, c.name_on_card, \
         c.type_id, c.pan_masked, a.currency, c.expiry_year, c.expiry_month, c.enabled, c.activated, c.closed, \
         c.restrictions, c.issued_at, c.updated_at, c.activated_at \
         FROM sbx_cards c JOIN sbx_accounts a ON a.id = c.account_id";

    pub(crate) fn into_card(self) -> Result<BoCard, SandboxError> {
        let restrictions: CardRestrictions = serde_json::from_str(&self.restrictions)?;
        let year = i32::try_from(self.expiry_year).map_err(SandboxError::corrupt)?;
        let month = u8::try_from(self.expiry_month).map_err(SandboxError::corrupt)?;
        Ok(BoCard {
            id_bo: BoRef(self.id),
            account_id_bo: BoRef(self.account_id),
            customer_id_bo: BoRef(self.customer_id),
            name_on_card: self.name_on_card,
            type_id: self.type_id,
            number_masked: MaskedPan::from_masked(self.pan_masked),
            currency: currency(&self.currency)?,
            expiry: Expiry { year, month },
            enabled: self.enabled != 0,
            activated: self.activated != 0,
            closed: self.closed != 0,
            restrictions,
            issued_at: from_millis(self.issued_at),
            updated_at: from_millis(self.updated_at),
            activated_at: self.activated_at.map(from_millis),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TransactionRow {
    id: String,
    account_id: String,
    amount_minor: i64,
    currency: String,
    txn_type: String,
    type_name: String,
    narrative: String,
    state: String,
    card_id: Option<String>,
    mcc: Option<String>,
    reference: String,
    recorded_at: i64,
    value_at: i64,
    completed_at: Option<i64>,
    fx_rate: Option<String>,
    fx_counter_minor: Option<i64>,
    fx_counter_currency: Option<String>,
}

impl TransactionRow {
    /// The columns that fill a row, for SELECT and RETURNING.
    pub(crate) const COLUMNS: &'static str = "id, account_id, amount_minor, currency, txn_type, \
         type_name, narrative, state, card_id, mcc, reference, recorded_at, value_at, completed_at, \
         fx_rate, fx_counter_minor, fx_counter_currency";
    pub(crate) const SELECT: &'static str =
        "SELECT id, account_id, amount_minor, currency, txn_type, \
         type_name, narrative, state, card_id, mcc, reference, recorded_at, value_at, completed_at, \
         fx_rate, fx_counter_minor, fx_counter_currency FROM sbx_transactions";

    pub(crate) fn into_transaction(self) -> Result<BoTransaction, SandboxError> {
        let fx = fx_detail(
            self.fx_rate,
            self.fx_counter_minor,
            self.fx_counter_currency,
        )?;
        Ok(BoTransaction {
            id_bo: BoRef(self.id),
            account_id_bo: BoRef(self.account_id),
            amount: Money::new(self.amount_minor, currency(&self.currency)?),
            txn_type: self.txn_type,
            type_name: self.type_name,
            narrative: self.narrative,
            state: parse_state(&self.state)?,
            card_id_bo: self.card_id.map(BoRef),
            mcc: self.mcc,
            reference: self.reference,
            fx,
            recorded_at: from_millis(self.recorded_at),
            value_at: from_millis(self.value_at),
            completed_at: self.completed_at.map(from_millis),
        })
    }
}

/// The three fx columns are written together: all set or all NULL.
fn fx_detail(
    rate: Option<String>,
    counter_minor: Option<i64>,
    counter_currency: Option<String>,
) -> Result<Option<FxDetail>, SandboxError> {
    match (rate, counter_minor, counter_currency) {
        (None, None, None) => Ok(None),
        (Some(rate), Some(minor), Some(code)) => Ok(Some(FxDetail {
            rate: Rate::parse(&rate).map_err(SandboxError::corrupt)?,
            counter_amount: Money::new(minor, currency(&code)?),
        })),
        partial => Err(SandboxError::corrupt(format_args!(
            "partial fx columns {partial:?}"
        ))),
    }
}

fn parse_state(state: &str) -> Result<TransactionState, SandboxError> {
    [
        TransactionState::Pending,
        TransactionState::Confirmed,
        TransactionState::Declined,
        TransactionState::Reversed,
    ]
    .into_iter()
    .find(|s| s.as_str() == state)
    .ok_or_else(|| SandboxError::corrupt(format_args!("transaction state {state:?}")))
}
