//! The test harness: a sandbox on a fresh database with a manual clock, plus shortcuts for the setup
//! most tests share (a customer with a funded account and an active card) and for looking at the books
//! behind the API (line counts, internal account balances, a snapshot to compare before and after).

use bankgate_backoffice::{
    AccountsApi, AuthorizationOutcome, AuthorizationRequest, BackOfficeError, BoAccount, BoCard,
    BoTransaction, CardAuthorizationApi, CardsApi, CustomersApi, Deposit, IdempotencyKey,
    IssueCard, NewCustomer, OpenAccount, TransactionQuery,
};
use bankgate_db::testing::TestDatabase;
use bankgate_db::{Db, DbOptions, Engine};
use bankgate_domain::ids::{random_base36, BackOfficeId, BoRef};
use bankgate_domain::{Currency, ManualClock, Money};
use bankgate_sandbox::LedgerReport;
use bankgate_sandbox::Sandbox;
use std::fmt::Debug;
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

    /// A new customer's account in `currency` holding `minor`.
    pub async fn funded(&self, currency: Currency, minor: i64) -> BoAccount {
        let customer = self.customer().await;
        let account = self.account(&customer, currency).await;
        if minor > 0 {
            self.deposit(&account, minor).await;
        }
        account
    }

    /// Every statement line of the account, newest first.
    pub async fn lines(&self, account: &BoAccount) -> Vec<BoTransaction> {
        let all = TransactionQuery::Latest {
            limit: 1_000,
            since: START - time::Duration::days(365),
        };
        self.sandbox
            .list_transactions(&account.id_bo, &all)
            .await
            .unwrap()
    }

    /// A `SELECT COUNT(*) ...` against the sandbox's database.
    pub async fn count(&self, sql: &str) -> i64 {
        let (n,): (i64,) = bankgate_db::sqlx::query_as(sql)
            .fetch_one(self.peek.read())
            .await
            .unwrap();
        n
    }

    /// The balance of any ledger account (an internal one such as `int_settlement_usd`): the sum of its
    /// postings.
    pub async fn posted_balance(&self, account_id: &str) -> i64 {
        let (sum,): (i64,) = bankgate_db::sqlx::query_as(
            "SELECT COALESCE(CAST(SUM(amount_minor) AS BIGINT), 0) FROM sbx_postings WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_one(self.peek.read())
        .await
        .unwrap();
        sum
    }

    /// What a refused call must leave as it was.
    pub async fn snapshot(&self, accounts: &[&BoAccount]) -> Snapshot {
        let mut balances = Vec::new();
        for account in accounts {
            let now = self.sandbox.get_account(&account.id_bo).await.unwrap();
            balances.push((now.ledger, now.available, self.lines(account).await.len()));
        }
        Snapshot {
            balances,
            entries: self.count("SELECT COUNT(*) FROM sbx_entries").await,
            postings: self.count("SELECT COUNT(*) FROM sbx_postings").await,
            lines: self.count("SELECT COUNT(*) FROM sbx_transactions").await,
            idempotency: self.count("SELECT COUNT(*) FROM sbx_idempotency").await,
            report: self.sandbox.ledger_report().await.unwrap(),
        }
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

/// Balances and row counts, compared before and after a call that must write nothing.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Per account: ledger, available, statement lines.
    pub balances: Vec<(Money, Money, usize)>,
    pub entries: i64,
    pub postings: i64,
    pub lines: i64,
    pub idempotency: i64,
    pub report: LedgerReport,
}

/// The code of a refusal; anything else fails the test.
pub fn code<T: Debug>(result: Result<T, BackOfficeError>) -> &'static str {
    match result {
        Err(BackOfficeError::Rejected { code, .. }) => code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

pub fn key() -> IdempotencyKey {
    IdempotencyKey(random_base36(20))
}

pub fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD)
}

pub fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::EUR)
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
