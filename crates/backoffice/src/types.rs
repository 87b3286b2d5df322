//! What back offices and bankgate exchange, in domain terms. Back-office ids are [`BoRef`]s; bankgate's
//! own ids never cross this boundary. Sensitive numbers arrive masked.

pub use bankgate_domain::beneficiary::Rail;
use bankgate_domain::card::Expiry;
use bankgate_domain::ids::BoRef;
use bankgate_domain::mask::MaskedPan;
use bankgate_domain::restrictions::{CardRestrictions, DeclineReason};
use bankgate_domain::{Money, Rate};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, PrimitiveDateTime};

/// A key that makes a state-changing call safe to repeat: the back office applies a key once and answers
/// a repeat with the first result.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct IdempotencyKey(pub String);

/// A person to register as a customer of a back office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct NewCustomer {
    pub first_name: String,
    pub last_name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    Active,
    Blocked,
}

impl AccountStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Blocked => "blocked",
        }
    }
}

/// An account as its back office reports it. `number_masked` is masked by the back office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct BoAccount {
    pub id_bo: BoRef,
    pub customer_id_bo: BoRef,
    pub name: String,
    pub type_id: String,
    pub number_masked: String,
    pub routing_number: Option<String>,
    /// The ledger balance (`native` on the wire).
    pub ledger: Money,
    /// What can be spent now.
    pub available: Money,
    pub status: AccountStatus,
    pub is_closed: bool,
    #[cfg_attr(feature = "schema", schema(value_type = crate::schema::DateTime))]
    pub opened_at: OffsetDateTime,
    #[cfg_attr(feature = "schema", schema(value_type = crate::schema::DateTime))]
    pub updated_at: OffsetDateTime,
}

/// A request to open an account, with an optional opening deposit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct OpenAccount {
    pub name: String,
    pub type_id: String,
    pub currency: bankgate_domain::Currency,
}

/// A card as its back office reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct BoCard {
    pub id_bo: BoRef,
    pub account_id_bo: BoRef,
    pub customer_id_bo: BoRef,
    pub name_on_card: String,
    pub type_id: String,
    pub number_masked: MaskedPan,
    pub currency: bankgate_domain::Currency,
    pub expiry: Expiry,
    /// The on/off switch: off blocks every authorization.
    pub enabled: bool,
    pub activated: bool,
    pub closed: bool,
    pub restrictions: CardRestrictions,
    #[cfg_attr(feature = "schema", schema(value_type = crate::schema::DateTime))]
    pub issued_at: OffsetDateTime,
    #[cfg_attr(feature = "schema", schema(value_type = crate::schema::DateTime))]
    pub updated_at: OffsetDateTime,
    #[cfg_attr(feature = "schema", schema(value_type = Option<crate::schema::DateTime>))]
    pub activated_at: Option<OffsetDateTime>,
}

/// A request to issue a new card on an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct IssueCard {
    pub name_on_card: String,
    pub type_id: String,
    /// Issue it already activated (as a card handed over in a branch would be).
    pub activated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TransactionState {
    Pending,
    Confirmed,
    Declined,
    Reversed,
}

impl TransactionState {
    pub fn as_str(&self) -> &'static str {
        match self {
            TransactionState::Pending => "pending",
            TransactionState::Confirmed => "confirmed",
            TransactionState::Declined => "declined",
            TransactionState::Reversed => "reversed",
        }
    }

    /// The reference's numeric `stateId` for this state.
    pub fn state_id(&self) -> i32 {
        match self {
            TransactionState::Pending => 100,
            TransactionState::Confirmed => 400,
            TransactionState::Declined => 500,
            TransactionState::Reversed => 600,
        }
    }
}

/// One movement on an account as its back office reports it. `amount` is signed: negative for a debit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct BoTransaction {
    pub id_bo: BoRef,
    pub account_id_bo: BoRef,
    pub amount: Money,
    pub txn_type: String,
    pub type_name: String,
    pub narrative: String,
    pub state: TransactionState,
    pub card_id_bo: Option<BoRef>,
    pub mcc: Option<String>,
    /// The end-to-end reference: for movements bankgate asked for, bankgate's operation id.
    pub reference: String,
    /// For a movement converted between currencies: the rate applied and the other side's amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fx: Option<FxDetail>,
    #[cfg_attr(feature = "schema", schema(value_type = crate::schema::DateTime))]
    pub recorded_at: OffsetDateTime,
    #[cfg_attr(feature = "schema", schema(value_type = crate::schema::DateTime))]
    pub value_at: OffsetDateTime,
    #[cfg_attr(feature = "schema", schema(value_type = Option<crate::schema::DateTime>))]
    pub completed_at: Option<OffsetDateTime>,
}

/// Which transactions of an account to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub enum TransactionQuery {
    /// The newest `limit` transactions valued at or after `since`.
    Latest {
        limit: u32,
        #[cfg_attr(feature = "schema", schema(value_type = crate::schema::DateTime))]
        since: OffsetDateTime,
    },
    /// Every transaction valued on a day from `from` to `to`, both inclusive (UTC days).
    Range {
        #[cfg_attr(feature = "schema", schema(value_type = crate::schema::Date))]
        from: Date,
        #[cfg_attr(feature = "schema", schema(value_type = crate::schema::Date))]
        to: Date,
    },
}

/// An incoming credit from outside the back office (cash, an incoming ACH); used by onboarding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Deposit {
    pub amount: Money,
    pub narrative: String,
    #[cfg_attr(feature = "schema", schema(value_type = crate::schema::DateTime))]
    pub value_at: OffsetDateTime,
}

/// A simulated card-network authorization request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct AuthorizationRequest {
    pub card_id_bo: BoRef,
    pub amount: Money,
    pub mcc: String,
    pub merchant: Option<String>,
    /// The merchant's local date and time, which day and time restrictions are judged by.
    #[cfg_attr(feature = "schema", schema(value_type = crate::schema::LocalDateTime))]
    pub local_time: PrimitiveDateTime,
    /// When the authorization happened, for the transaction's record.
    #[cfg_attr(feature = "schema", schema(value_type = crate::schema::DateTime))]
    pub at: OffsetDateTime,
}

/// The network's answer to an authorization.
// One outcome exists per authorization and is moved, never stored in bulk: boxing the approval would
// only make matching on it clumsier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub enum AuthorizationOutcome {
    Approved { transaction: BoTransaction },
    Declined { reason: DeclineReason },
}

/// How a converted movement was converted: `rate` units of the credited currency per unit of the debited
/// one, and the amount on the other side of the conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct FxDetail {
    pub rate: Rate,
    pub counter_amount: Money,
}

/// A transfer between two accounts of the same back office. `debit` leaves `from` and `credit` reaches
/// `to`, both positive; they differ in currency exactly when `fx` is set, and then `credit` is `debit`
/// converted at `fx.rate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct BookTransfer {
    pub from: BoRef,
    pub to: BoRef,
    pub debit: Money,
    pub credit: Money,
    pub rate: Option<Rate>,
    pub narrative_debit: String,
    pub narrative_credit: String,
    pub reference: String,
}

/// Both statement lines of a book transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct TransferLegs {
    pub debit: BoTransaction,
    pub credit: BoTransaction,
}

/// Why money moves between a customer account and the back office's settlement account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum LegKind {
    /// One side of a transfer whose other side is at another back office.
    Transfer,
    /// Giving back a debit whose transfer could not be completed.
    Reversal,
}

/// One side of a movement between back offices: `amount` (positive) leaves or reaches `account` through
/// this back office's settlement account. `fx` is recorded on the line when the movement was converted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct SettlementLeg {
    pub account: BoRef,
    pub amount: Money,
    pub kind: LegKind,
    pub narrative: String,
    pub reference: String,
    pub fx: Option<FxDetail>,
}

/// Where a payment out of the bank goes. Card destinations travel as the back office's vault reference,
/// never as a number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Payee {
    pub rail: Rail,
    pub name: String,
    /// The rail's routing details (routing and account number, IBAN and BIC, PayPal id, card vault
    /// reference, postal address), as the rail needs them.
    pub details: std::collections::BTreeMap<String, String>,
}

/// A payment out of `account` to a payee outside the back office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Payout {
    pub account: BoRef,
    pub amount: Money,
    pub payee: Payee,
    pub narrative: String,
    pub reference: String,
}

/// A card number to keep in the back office's vault for push-to-card payments.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct CardToVault {
    pub pan: String,
    pub expiry: Expiry,
    pub holder_name: String,
}

impl std::fmt::Debug for CardToVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardToVault")
            .field("expiry", &self.expiry)
            .finish_non_exhaustive()
    }
}

/// One quoted currency pair: how many `dst` one `src` buys from this back office (`buy`, what customers
/// converting src into dst get) and what it sells at. A common rate has `buy == sell`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct RateQuote {
    pub src: bankgate_domain::Currency,
    pub dst: bankgate_domain::Currency,
    pub buy: Rate,
    pub sell: Rate,
}

/// Everything a back office quotes, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct RateBoard {
    pub base_currency: bankgate_domain::Currency,
    pub quotes: Vec<RateQuote>,
    #[cfg_attr(feature = "schema", schema(value_type = crate::schema::DateTime))]
    pub refreshed_at: OffsetDateTime,
}

impl RateBoard {
    /// The rate a customer converting `src` into `dst` gets, if quoted.
    pub fn conversion_rate(
        &self,
        src: bankgate_domain::Currency,
        dst: bankgate_domain::Currency,
    ) -> Option<Rate> {
        self.quotes
            .iter()
            .find(|q| q.src == src && q.dst == dst)
            .map(|q| q.buy)
    }
}

/// What a back-office change is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub enum ChangedObject {
    /// The account's balances moved (a posting: a purchase, a credit, a settled payment); it has new
    /// transactions.
    Account(BoRef),
    /// The card changed.
    Card(BoRef),
}

/// One entry of a back office's change feed. Entries are numbered in the order their changes were
/// committed, except that a number may show up shortly after a higher one (see [`ChangesApi`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct BoChange {
    pub seq: i64,
    /// The customer who holds what changed.
    pub customer_id_bo: BoRef,
    pub object: ChangedObject,
    #[cfg_attr(feature = "schema", schema(value_type = crate::schema::DateTime))]
    pub at: OffsetDateTime,
}
