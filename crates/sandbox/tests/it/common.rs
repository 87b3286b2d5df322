//! The test harness: a sandbox on a fresh database with a manual clock, plus shortcuts for the setup
//! most tests share (a customer with a funded account and an active card).

use bankgate_backoffice::{
    AccountsApi, AuthorizationOutcome, AuthorizationRequest, BackOfficeError, BoAccount, BoCard,
    CardAuthorizationApi, CardsApi, CustomersApi, Deposit, IdempotencyKey, IssueCard, NewCustomer,
    OpenAccount,
};
use bankgate_db::testing::TestDatabase;
use bankgate_db::{Db, DbOptions, Engine};
use bankgate_domain::ids::{random_base36, BackOfficeId, BoRef};
use bankgate_domain::{Currency, ManualClock, Money};
use bankgate_sandbox::Sandbox;
use std::sync::Arc;
use time::macros::datetime;
use time::{OffsetDateTime, PrimitiveDateTime};

/// A Wednesday noon, UTC: where every test's clock starts.
pub const START: OffsetDateTime = datetime!(2024-01-03 12:00 UTC);

pub struct Harness {
    pub sandbox: Arc<Sandbox>,
    pub clock: ManualClock,
    /// A second connection to the sandbox's database, for looking behind the API.
    pub peek: Db,
    pub database: TestDatabase,
}

impl Harness {
    pub async fn new(engine: Engine) -> Harness {
        let database = TestDatabase::create(engine).await;
        let clock = ManualClock::new(START);
        let sandbox = open_sandbox(&database.url, &clock).await;
        let peek = Db::connect(&database.url, &DbOptions::default())
            .await
            .unwrap();
        Harness {
            sandbox: Arc::new(sandbox),
            clock,
            peek,
            database,
        }
    }

    pub async fn customer(&self) -> BoRef {
        let person = NewCustomer {
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
        };
        self.sandbox.create_customer(&person, &key()).await.unwrap()
    }

    pub async fn account(&self, customer: &BoRef, currency: Currency) -> BoAccount {
        let request = OpenAccount {
            name: "Everyday".into(),
            type_id: "checking".into(),
            currency,
        };
        self.sandbox
            .open_account(customer, &request, &key())
            .await
            .unwrap()
    }

    pub async fn deposit(&self, account: &BoAccount, minor: i64) {
        let deposit = Deposit {
            amount: Money::new(minor, account.ledger.currency),
            narrative: "Opening deposit".into(),
            value_at: self.clock_now(),
        };
        self.sandbox
            .deposit(&account.id_bo, &deposit, &key())
            .await
            .unwrap();
    }

    pub async fn card(&self, account: &BoAccount, activated: bool) -> BoCard {
        let request = IssueCard {
            name_on_card: "ADA LOVELACE".into(),
            type_id: "debit".into(),
            activated,
        };
        self.sandbox
            .issue_card(&account.id_bo, &request, &key())
            .await
            .unwrap()
    }

    /// A customer with a USD account holding `minor` and an activated card on it.
    pub async fn funded_card(&self, minor: i64) -> (BoAccount, BoCard) {
        let customer = self.customer().await;
        let account = self.account(&customer, Currency::USD).await;
        if minor > 0 {
            self.deposit(&account, minor).await;
        }
        let card = self.card(&account, true).await;
        (account, card)
    }

    pub async fn authorize(
        &self,
        request: &AuthorizationRequest,
    ) -> Result<AuthorizationOutcome, BackOfficeError> {
        self.sandbox.authorize(request).await
    }

    pub async fn balance(&self, account: &BoAccount) -> i64 {
        self.sandbox
            .get_account(&account.id_bo)
            .await
            .unwrap()
            .available
            .minor
    }

    pub async fn assert_ledger_clean(&self) {
        let report = self.sandbox.ledger_report().await.unwrap();
        assert!(report.is_clean(), "{report:?}");
    }

    pub fn clock_now(&self) -> OffsetDateTime {
        bankgate_domain::Clock::now(&self.clock)
    }

    /// A raw statement against the sandbox's database, for state the API cannot reach.
    pub async fn exec(&self, sql: &str, id: &str) {
        bankgate_db::sqlx::query(sql)
            .bind(id)
            .execute(self.peek.write())
            .await
            .unwrap();
    }

    pub async fn card_column(&self, card: &BoCard, column: &str) -> Option<String> {
        let sql = format!("SELECT {column} FROM sbx_cards WHERE id = $1");
        let (value,): (Option<String>,) = bankgate_db::sqlx::query_as(&sql)
            .bind(card.id_bo.as_str())
            .fetch_one(self.peek.read())
            .await
            .unwrap();
        value
    }
}

pub async fn open_sandbox(url: &str, clock: &ManualClock) -> Sandbox {
    let db = Db::connect(url, &DbOptions::default()).await.unwrap();
    let id = BackOfficeId::parse("sandbox-test").unwrap();
    Sandbox::open(id, db, Arc::new(clock.clone()))
        .await
        .unwrap()
}

pub fn key() -> IdempotencyKey {
    IdempotencyKey(random_base36(20))
}

pub fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD)
}

/// A grocery purchase of `amount` with `card` at merchant local time `local_time`.
pub fn purchase_at(
    card: &BoCard,
    amount: Money,
    local_time: PrimitiveDateTime,
) -> AuthorizationRequest {
    AuthorizationRequest {
        card_id_bo: card.id_bo.clone(),
        amount,
        mcc: "5411".into(),
        merchant: Some("Corner Grocery".into()),
        local_time,
        at: local_time.assume_utc(),
    }
}

/// A purchase at the harness's start time.
pub fn purchase(card: &BoCard, amount: Money) -> AuthorizationRequest {
    purchase_at(
        card,
        amount,
        PrimitiveDateTime::new(START.date(), START.time()),
    )
}
