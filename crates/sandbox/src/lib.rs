//! A small but real core-banking system, used as bankgate's built-in sandbox back office. It keeps
//! customers, deposit accounts on a double-entry ledger, payment cards with their controls, decides card
//! authorizations, moves money between accounts (converting between currencies at its quoted rates) and
//! to other back offices and payees, all in its own database (SQLite or PostgreSQL, never the
//! middleware's). It reports its own changes in a feed (`changes`).
//!
//! Money moves only through the `ledger` module: every entry balances to zero per currency and an
//! account's stored balances change in the same transaction as its postings. [`Sandbox::ledger_report`]
//! checks both rules from the outside.
#![forbid(unsafe_code)]

mod account_lists;
mod accounts;
mod authorization;
mod cards;
mod changes;
mod customers;
mod error;
mod idempotency;
mod ledger;
mod movement;
mod numbers;
mod payouts;
mod pin;
mod rates;
mod report;
mod rows;
mod settlement;
mod transactions;
mod transfers;
mod vault;

pub use error::SandboxError;
pub use rates::SandboxOptions;
pub use report::{AccountMismatch, LedgerReport};

use async_trait::async_trait;
use bankgate_backoffice::{
    AccountsApi, BackOffice, BackOfficeError, CardAuthorizationApi, CardsApi, ChangesApi,
    CustomersApi, PaymentsApi, RatesApi, TransfersApi,
};
use bankgate_db::Db;
use bankgate_domain::ids::BackOfficeId;
use bankgate_domain::time_format::to_millis;
use bankgate_domain::Clock;
use sqlx::migrate::Migrator;
use std::fmt;
use std::sync::Arc;
use time::{Date, UtcOffset};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// One sandbox back office over its own database.
pub struct Sandbox {
    id: BackOfficeId,
    db: Db,
    clock: Arc<dyn Clock>,
    /// Every account of this sandbox shares it, like the accounts of one real bank.
    routing_number: String,
    options: SandboxOptions,
    account_lists: account_lists::AccountLists,
}

impl Sandbox {
    /// Opens the sandbox `id` on `db` with the default options, creating or upgrading its tables first.
    pub async fn open(
        id: BackOfficeId,
        db: Db,
        clock: Arc<dyn Clock>,
    ) -> Result<Sandbox, SandboxError> {
        Self::open_with(id, db, clock, SandboxOptions::default()).await
    }

    /// Opens the sandbox `id` on `db` with `options`, creating or upgrading its tables first.
    pub async fn open_with(
        id: BackOfficeId,
        db: Db,
        clock: Arc<dyn Clock>,
        options: SandboxOptions,
    ) -> Result<Sandbox, SandboxError> {
        options.validate()?;
        db.migrate(&SQLITE_MIGRATIONS, &POSTGRES_MIGRATIONS).await?;
        let routing_number = numbers::routing_number_for(&id);
        Ok(Sandbox {
            id,
            db,
            clock,
            routing_number,
            options,
            account_lists: Default::default(),
        })
    }

    /// Checks the ledger's invariants; see [`LedgerReport`].
    pub async fn ledger_report(&self) -> Result<LedgerReport, SandboxError> {
        report::ledger_report(&self.db).await
    }

    /// Now, as the store keeps times. Taken once per operation so all its rows agree.
    fn now_ms(&self) -> i64 {
        to_millis(self.clock.now())
    }

    /// Today's date in UTC, which card expiries are judged by at the bank.
    fn today_utc(&self) -> Date {
        self.clock.now().to_offset(UtcOffset::UTC).date()
    }
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("id", &self.id)
            .field("engine", &self.db.engine())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl BackOffice for Sandbox {
    fn id(&self) -> &BackOfficeId {
        &self.id
    }

    async fn health(&self) -> Result<(), BackOfficeError> {
        sqlx::query("SELECT 1")
            .execute(self.db.read())
            .await
            .map_err(SandboxError::from)?;
        Ok(())
    }

    fn customers(&self) -> Option<&dyn CustomersApi> {
        Some(self)
    }

    fn accounts(&self) -> Option<&dyn AccountsApi> {
        Some(self)
    }

    fn cards(&self) -> Option<&dyn CardsApi> {
        Some(self)
    }

    fn card_authorization(&self) -> Option<&dyn CardAuthorizationApi> {
        Some(self)
    }

    fn transfers(&self) -> Option<&dyn TransfersApi> {
        Some(self)
    }

    fn payments(&self) -> Option<&dyn PaymentsApi> {
        Some(self)
    }

    fn rates(&self) -> Option<&dyn RatesApi> {
        Some(self)
    }

    fn changes(&self) -> Option<&dyn ChangesApi> {
        Some(self)
    }
}
