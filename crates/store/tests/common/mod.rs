//! What the store's test suites share: a store on every engine available (SQLite always, PostgreSQL
//! when BANKGATE_TEST_POSTGRES_URL is set), each in a database of its own, and the objects they record.
// Each suite uses some of these helpers, not all.
#![allow(dead_code)]

use bankgate_backoffice::{AccountStatus, BoAccount, BoCard, BoTransaction, TransactionState};
use bankgate_db::testing::{test_engines, TestDatabase};
use bankgate_db::{Db, DbOptions, Engine};
use bankgate_domain::card::Expiry;
use bankgate_domain::ids::OperationId;
use bankgate_domain::ids::{BackOfficeId, BoRef, UserId};
use bankgate_domain::mask::MaskedPan;
use bankgate_domain::user::UserProfile;
use bankgate_domain::{Currency, Money};
use bankgate_store::{JobKind, NewHold, NewJob, NewUser, Store, StoredAccount};
use time::macros::datetime;
use time::OffsetDateTime;

pub const T0: OffsetDateTime = datetime!(2026-01-05 10:00 UTC);

async fn open(database: &TestDatabase) -> Store {
    let db = Db::connect(&database.url, &DbOptions::default())
        .await
        .expect("connect");
    Store::open(db).await.expect("migrate")
}

/// Runs `test` once per engine, on a fresh database.
pub async fn with_each_store<F, Fut>(test: F)
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for engine in test_engines() {
        let database = TestDatabase::create(engine).await;
        let store = open(&database).await;
        test(store.clone()).await;
        store.db().close().await;
    }
}

/// Two stores on one database, as two nodes would have. SQLite serves one node (its single writer
/// connection is what makes claims atomic there), so on SQLite both "nodes" share one store.
pub async fn with_two_nodes<F, Fut>(test: F)
where
    F: Fn(Store, Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    with_two_stores(false, test).await
}

/// Two stores on one database with a memo each, on every engine (SQLite included: writes one at a time
/// are all these tests make).
pub async fn with_two_memos<F, Fut>(test: F)
where
    F: Fn(Store, Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    with_two_stores(true, test).await
}

async fn with_two_stores<F, Fut>(separate_on_sqlite: bool, test: F)
where
    F: Fn(Store, Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for engine in test_engines() {
        let database = TestDatabase::create(engine).await;
        let first = open(&database).await;
        let second = match engine {
            Engine::Sqlite if !separate_on_sqlite => first.clone(),
            _ => open(&database).await,
        };
        test(first.clone(), second.clone()).await;
        first.db().close().await;
        second.db().close().await;
    }
}

pub async fn user(store: &Store, name: &str) -> UserId {
    let id = UserId::generate();
    let new = NewUser {
        id: id.clone(),
        user_name: name.into(),
        password_hash: "hash".into(),
        profile: UserProfile::default(),
        created_at: T0,
    };
    store.create_user(&new).await.expect("create user");
    id
}

/// A user holding one account at `sandbox-a`, `acc_<name>` there, recorded at T0 with 100.00.
pub async fn user_with_account(store: &Store, name: &str) -> (UserId, StoredAccount) {
    let id = user(store, name).await;
    let account = bo_account(&format!("acc_{name}"), 10_000);
    let mut stored = store
        .record_accounts(&id, &office("sandbox-a"), &[account], T0)
        .await
        .expect("record account");
    (id, stored.remove(0))
}

pub fn office(id: &str) -> BackOfficeId {
    BackOfficeId::from_trusted(id.into())
}

pub fn usd(cents: i64) -> Money {
    Money::new(cents, Currency::USD)
}

/// A USD checking account holding `cents`, last changed at T0.
pub fn bo_account(id: &str, cents: i64) -> BoAccount {
    BoAccount {
        id_bo: BoRef(id.into()),
        customer_id_bo: BoRef("cus_1".into()),
        name: "Checking".into(),
        type_id: "checking".into(),
        number_masked: "100000******9622".into(),
        routing_number: Some("084106768".into()),
        ledger: usd(cents),
        available: usd(cents),
        status: AccountStatus::Active,
        is_closed: false,
        opened_at: T0,
        updated_at: T0,
    }
}

pub fn bo_card(id: &str, account: &str) -> BoCard {
    BoCard {
        id_bo: BoRef(id.into()),
        account_id_bo: BoRef(account.into()),
        customer_id_bo: BoRef("cus_1".into()),
        name_on_card: "DANA DEMO".into(),
        type_id: "debit".into(),
        number_masked: MaskedPan::mask("4000001234567899"),
        currency: Currency::USD,
        expiry: Expiry {
            year: 2029,
            month: 1,
        },
        enabled: true,
        activated: true,
        closed: false,
        restrictions: Default::default(),
        issued_at: T0,
        updated_at: T0,
        activated_at: Some(T0),
    }
}

pub fn bo_transaction(
    id: &str,
    account: &str,
    cents: i64,
    value_at: OffsetDateTime,
) -> BoTransaction {
    BoTransaction {
        id_bo: BoRef(id.into()),
        account_id_bo: BoRef(account.into()),
        amount: usd(cents),
        txn_type: "card_purchase".into(),
        type_name: "Card purchase".into(),
        narrative: "Coffee".into(),
        state: TransactionState::Confirmed,
        card_id_bo: None,
        mcc: Some("5814".into()),
        reference: "ref".into(),
        fx: None,
        recorded_at: value_at,
        value_at,
        completed_at: Some(value_at),
    }
}

/// An undoable transfer job of `user`, queued at T0 and due at `due`, placing `hold` if given.
pub fn transfer_job(user: &UserId, due: OffsetDateTime, hold: Option<NewHold>) -> NewJob {
    NewJob {
        id: OperationId::generate(),
        user_id: user.clone(),
        kind: JobKind::Transfer,
        undoable: true,
        client_ref: None,
        payload: "{}".into(),
        queued_at: T0,
        due_at: due,
        max_attempts: 3,
        hold,
    }
}
