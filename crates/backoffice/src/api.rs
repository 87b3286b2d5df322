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
