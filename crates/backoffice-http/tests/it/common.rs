//! The harness: a back-office server over a sandbox on its own test database, the adapter pointed at
//! it, and a second sandbox on the same database to compare the adapter's answers with the sandbox's
//! own and to look behind the API.

use bankgate_backoffice::{
    AccountsApi, BackOfficeError, BoAccount, BoTransaction, CustomersApi, Deposit, IdempotencyKey,
    NewCustomer, OpenAccount, TransactionQuery,
};
use bankgate_backoffice_http::{
    BackOfficeServer, HttpBackOffice, HttpOptions, SandboxServerSettings,
};
use bankgate_db::testing::TestDatabase;
use bankgate_db::{Db, DbOptions, Engine};
use bankgate_domain::ids::{random_base36, BackOfficeId, BoRef};
use bankgate_domain::{Currency, ManualClock, Money};
use bankgate_sandbox::Sandbox;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use time::macros::datetime;
use time::OffsetDateTime;

/// A Wednesday noon, UTC: where every test's clock starts.
pub const START: OffsetDateTime = datetime!(2025-01-15 12:00 UTC);

pub const ID: &str = "sandbox-remote";

pub struct Remote {
    pub server: Option<BackOfficeServer>,
    /// The adapter, with its default (generous) timeout.
    pub client: HttpBackOffice,
    /// The same sandbox opened directly on the server's database.
    pub direct: Sandbox,
    pub peek: Db,
    pub clock: ManualClock,
    pub http: reqwest::Client,
    pub database: TestDatabase,
}

impl Remote {
    pub async fn start(engine: Engine) -> Remote {
        let database = TestDatabase::create(engine).await;
        let clock = ManualClock::new(START);
        let server = BackOfficeServer::open_sandbox(&settings(&database), Arc::new(clock.clone()))
            .await
            .unwrap();
        let client = HttpBackOffice::new(id(), &server.url()).unwrap();
        let peek = Db::connect(&database.url, &DbOptions::default())
            .await
            .unwrap();
        let direct = Sandbox::open(id(), peek.clone(), Arc::new(clock.clone()))
            .await
            .unwrap();
        Remote {
            server: Some(server),
            client,
            direct,
            peek,
            clock,
            http: reqwest::Client::new(),
            database,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.as_ref().unwrap().url())
    }

    /// An adapter to the same server that gives up after `timeout`.
    pub fn impatient_client(&self, timeout: Duration) -> HttpBackOffice {
        let options = HttpOptions {
            timeout,
            ..HttpOptions::default()
        };
        HttpBackOffice::with_options(id(), &self.url(""), options).unwrap()
    }

    /// `PUT /admin/faults` with `settings`, which must be accepted.
    pub async fn set_faults(&self, settings: Value) {
        let response = self
            .http
            .put(self.url("/admin/faults"))
            .json(&settings)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    }

    pub async fn clear_faults(&self) {
        let response = self
            .http
            .delete(self.url("/admin/faults"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    /// Stops the server and starts a new one on the same database (on a new port).
    pub async fn restart(&mut self) {
        self.server.take().unwrap().stop().await.unwrap();
        let server =
            BackOfficeServer::open_sandbox(&settings(&self.database), Arc::new(self.clock.clone()))
                .await
                .unwrap();
        self.client = HttpBackOffice::new(id(), &server.url()).unwrap();
        self.server = Some(server);
    }

    pub async fn customer(&self) -> BoRef {
        let person = NewCustomer {
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
        };
        self.client.create_customer(&person, &key()).await.unwrap()
    }

    pub async fn account(&self, customer: &BoRef, currency: Currency) -> BoAccount {
        let request = OpenAccount {
            name: "Everyday".into(),
            type_id: "checking".into(),
            currency,
        };
        self.client
            .open_account(customer, &request, &key())
            .await
            .unwrap()
    }

    pub async fn deposit_with(
        &self,
        client: &HttpBackOffice,
        account: &BoAccount,
        minor: i64,
        key: &IdempotencyKey,
    ) -> Result<BoTransaction, BackOfficeError> {
        let deposit = Deposit {
            amount: Money::new(minor, account.ledger.currency),
            narrative: "Cash at the branch".into(),
            value_at: START,
        };
        client.deposit(&account.id_bo, &deposit, key).await
    }

    /// A new customer's account in `currency` holding `minor`.
    pub async fn funded(&self, currency: Currency, minor: i64) -> BoAccount {
        let customer = self.customer().await;
        let account = self.account(&customer, currency).await;
        if minor > 0 {
            self.deposit_with(&self.client, &account, minor, &key())
                .await
                .unwrap();
        }
        self.client.get_account(&account.id_bo).await.unwrap()
    }

    /// The account's available balance, as the sandbox itself reports it.
    pub async fn balance(&self, account: &BoAccount) -> i64 {
        self.direct
            .get_account(&account.id_bo)
            .await
            .unwrap()
            .available
            .minor
    }

    /// Every statement line of the account, as the sandbox itself reports them.
    pub async fn lines(&self, account: &BoAccount) -> Vec<BoTransaction> {
        self.direct
            .list_transactions(&account.id_bo, &all_lines())
            .await
            .unwrap()
    }

    pub async fn count(&self, sql: &str) -> i64 {
        let (n,): (i64,) = bankgate_db::sqlx::query_as(sql)
            .fetch_one(self.peek.read())
            .await
            .unwrap();
        n
    }
}

fn settings(database: &TestDatabase) -> SandboxServerSettings {
    SandboxServerSettings {
        id: id(),
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: database.url.clone(),
    }
}

pub fn id() -> BackOfficeId {
    BackOfficeId::parse(ID).unwrap()
}

pub fn key() -> IdempotencyKey {
    IdempotencyKey(random_base36(20))
}

pub fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD)
}

pub fn all_lines() -> TransactionQuery {
    TransactionQuery::Latest {
        limit: 1_000,
        since: START - time::Duration::days(365),
    }
}

/// The code of a refusal; anything else fails the test.
#[track_caller]
pub fn code<T: std::fmt::Debug>(result: Result<T, BackOfficeError>) -> &'static str {
    match result {
        Err(BackOfficeError::Rejected { code, .. }) => code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Asserts the call went unanswered.
#[track_caller]
pub fn assert_unavailable<T: std::fmt::Debug>(result: Result<T, BackOfficeError>) {
    assert!(
        matches!(result, Err(BackOfficeError::Unavailable(_))),
        "expected Unavailable, got {result:?}"
    );
}
