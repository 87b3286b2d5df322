//! The capability traits. Each is async and object-safe and speaks domain types only. Calls that change
//! state take an [`IdempotencyKey`] where repeating them could move money or create objects twice.

use crate::types::*;
use crate::BackOfficeError;
use async_trait::async_trait;
use bankgate_domain::card::{Pin, ReissueReason};
use bankgate_domain::ids::{BackOfficeId, BoRef};
use bankgate_domain::restrictions::RestrictionUpdate;

type Result<T> = std::result::Result<T, BackOfficeError>;

/// One configured back office: its id, its health, and the capabilities it offers.
#[async_trait]
pub trait BackOffice: Send + Sync + 'static {
    fn id(&self) -> &BackOfficeId;

    /// The name front ends show (`backOfficeName`); the id unless the adapter knows better.
    fn display_name(&self) -> &str {
        self.id().as_str()
    }

    /// Cheap reachability check used by readiness.
    async fn health(&self) -> Result<()>;

    fn customers(&self) -> Option<&dyn CustomersApi> {
        None
    }
    fn accounts(&self) -> Option<&dyn AccountsApi> {
        None
    }
    fn cards(&self) -> Option<&dyn CardsApi> {
        None
    }
    fn card_authorization(&self) -> Option<&dyn CardAuthorizationApi> {
        None
    }
    fn transfers(&self) -> Option<&dyn TransfersApi> {
        None
    }
    fn payments(&self) -> Option<&dyn PaymentsApi> {
        None
    }
    fn rates(&self) -> Option<&dyn RatesApi> {
        None
    }
    fn changes(&self) -> Option<&dyn ChangesApi> {
        None
    }
}

impl dyn BackOffice {
    fn unsupported(&self, capability: &'static str) -> BackOfficeError {
        BackOfficeError::Unsupported {
            back_office: self.id().clone(),
            capability,
        }
    }

    pub fn require_customers(&self) -> Result<&dyn CustomersApi> {
        self.customers()
            .ok_or_else(|| self.unsupported("customers"))
    }
    pub fn require_accounts(&self) -> Result<&dyn AccountsApi> {
        self.accounts().ok_or_else(|| self.unsupported("accounts"))
    }
    pub fn require_cards(&self) -> Result<&dyn CardsApi> {
        self.cards().ok_or_else(|| self.unsupported("cards"))
    }
    pub fn require_card_authorization(&self) -> Result<&dyn CardAuthorizationApi> {
        self.card_authorization()
            .ok_or_else(|| self.unsupported("card authorization"))
    }
    pub fn require_transfers(&self) -> Result<&dyn TransfersApi> {
        self.transfers()
            .ok_or_else(|| self.unsupported("transfers"))
    }
    pub fn require_payments(&self) -> Result<&dyn PaymentsApi> {
        self.payments().ok_or_else(|| self.unsupported("payments"))
    }
    pub fn require_rates(&self) -> Result<&dyn RatesApi> {
        self.rates().ok_or_else(|| self.unsupported("rates"))
    }
    pub fn require_changes(&self) -> Result<&dyn ChangesApi> {
        self.changes().ok_or_else(|| self.unsupported("changes"))
    }
}

/// Registering the people who hold products.
#[async_trait]
pub trait CustomersApi: Send + Sync {
    async fn create_customer(&self, customer: &NewCustomer, key: &IdempotencyKey) -> Result<BoRef>;
}

/// Deposit accounts, their balances and their transactions.
#[async_trait]
pub trait AccountsApi: Send + Sync {
    async fn list_accounts(&self, customer: &BoRef) -> Result<Vec<BoAccount>>;
    async fn get_account(&self, account: &BoRef) -> Result<BoAccount>;
    async fn open_account(
        &self,
        customer: &BoRef,
        request: &OpenAccount,
        key: &IdempotencyKey,
    ) -> Result<BoAccount>;
    async fn rename_account(&self, account: &BoRef, name: &str) -> Result<BoAccount>;
    async fn list_transactions(
        &self,
        account: &BoRef,
        query: &TransactionQuery,
    ) -> Result<Vec<BoTransaction>>;
    /// Credits money arriving from outside the back office.
    async fn deposit(
        &self,
        account: &BoRef,
        deposit: &Deposit,
        key: &IdempotencyKey,
    ) -> Result<BoTransaction>;
}

/// Payment cards and their controls.
#[async_trait]
pub trait CardsApi: Send + Sync {
    async fn list_cards(&self, customer: &BoRef) -> Result<Vec<BoCard>>;
    async fn get_card(&self, card: &BoRef) -> Result<BoCard>;
    async fn issue_card(
        &self,
        account: &BoRef,
        request: &IssueCard,
        key: &IdempotencyKey,
    ) -> Result<BoCard>;
    /// Activates the card; activating an activated card changes nothing and returns it.
    async fn activate_card(&self, card: &BoRef) -> Result<BoCard>;
    /// The on/off switch.
    async fn set_card_enabled(&self, card: &BoRef, enabled: bool) -> Result<BoCard>;
    async fn set_pin(&self, card: &BoRef, pin: &Pin) -> Result<()>;
    async fn reissue_card(&self, card: &BoRef, reason: ReissueReason) -> Result<BoCard>;
    /// Applies a restriction update by the contract's rules, refusing MCC-list conflicts as
    /// [`BackOfficeError::Rejected`].
    async fn update_restrictions(&self, card: &BoRef, update: &RestrictionUpdate)
        -> Result<BoCard>;
}

/// The card network's side: deciding a purchase. Only simulators offer this.
#[async_trait]
pub trait CardAuthorizationApi: Send + Sync {
    async fn authorize(&self, request: &AuthorizationRequest) -> Result<AuthorizationOutcome>;
}

/// Moving money between accounts: within the back office in one step, or across back offices as two
/// legs through each one's settlement account. Every call is idempotent by its key, and a refusal
/// (not enough money, a closed account, a currency the account does not hold) writes nothing.
#[async_trait]
pub trait TransfersApi: Send + Sync {
    /// Debits `from` and credits `to` in one ledger entry.
    async fn book_transfer(
        &self,
        transfer: &BookTransfer,
        key: &IdempotencyKey,
    ) -> Result<TransferLegs>;
    /// Debits a customer account into the settlement account, if its available balance covers it.
    async fn debit_to_settlement(
        &self,
        leg: &SettlementLeg,
        key: &IdempotencyKey,
    ) -> Result<BoTransaction>;
    /// Credits a customer account out of the settlement account.
    async fn credit_from_settlement(
        &self,
        leg: &SettlementLeg,
        key: &IdempotencyKey,
    ) -> Result<BoTransaction>;
}

/// Payments out of the bank to beneficiaries, over the rails the back office offers.
#[async_trait]
pub trait PaymentsApi: Send + Sync {
    /// Debits the account and sends the money to the payee. Refused payee details write nothing.
    async fn pay_out(&self, payout: &Payout, key: &IdempotencyKey) -> Result<BoTransaction>;
    /// Keeps a card number for push-to-card payments and returns the reference to pay it by.
    async fn vault_card(&self, card: &CardToVault, key: &IdempotencyKey) -> Result<BoRef>;
}

/// Currency conversion quotes.
#[async_trait]
pub trait RatesApi: Send + Sync {
    async fn rate_board(&self) -> Result<RateBoard>;
}

/// The back office's own change feed: what changed on its side (a card purchase, an incoming credit, a
/// settled payment), so bankgate can refresh it without being asked. Entries are hints: the reader asks
/// for the objects as they now are.
#[async_trait]
pub trait ChangesApi: Send + Sync {
    /// Up to `limit` entries numbered above `after`, in number order. A number can be taken by a change
    /// still being committed, so a gap may fill in shortly after; a reader that must not miss entries
    /// reads again from before a gap until it fills or has lasted longer than any transaction can.
    async fn changes_since(&self, after: i64, limit: u32) -> Result<Vec<BoChange>>;
}
