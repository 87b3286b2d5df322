//! Changes made on a back office's own side (money arriving from outside, a card purchase the network
//! decided) flow into bankgate through the back office's change feed: the store records them, the user's
//! apps get them pushed, and alerts fire. Applying the feed again changes nothing. A back office without a
//! feed has its customers refreshed on a schedule instead.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use async_trait::async_trait;
use bankgate::services::back_office_changes::Following;
use bankgate_backoffice::{
    AccountsApi, AuthorizationOutcome, AuthorizationRequest, BackOffice, BackOfficeError,
    CardAuthorizationApi, CardsApi, CustomersApi, Deposit, IdempotencyKey, IssueCard, PaymentsApi,
    RatesApi, TransfersApi,
};
use bankgate_backoffice_http::BackOfficeServer;
use bankgate_db::testing::TestDatabase;
use bankgate_db::{Db, DbOptions, Engine};
use bankgate_domain::ids::{BackOfficeId, BoRef, UserId};
use bankgate_domain::{Clock, Currency, ManualClock, Money};
use bankgate_sandbox::Sandbox;
use common::push::SseStream;
use common::{engines, json, TestApp, START};
use std::collections::BTreeMap;
use std::sync::Arc;
use time::PrimitiveDateTime;

/// The pushes a credit brings: the account with its new balance, then the line.
async fn expect_credit(
    stream: &mut SseStream,
    account: &str,
    balance: f64,
    narrative: &str,
    amount: f64,
) {
    let pushed = stream
        .expect_where("accounts", |d| {
            d["accounts"][0]["balance"]["native"] == balance
        })
        .await;
    assert_eq!(pushed.data["accounts"][0]["AFiAccountId"], account);
    let line = stream
        .expect_where("transactions", |d| {
            d["transactions"][0]["narrative"] == narrative
        })
        .await;
    assert_eq!(line.data["transactions"][0]["amount"], amount);
}

#[tokio::test]
async fn a_credit_and_a_purchase_made_at_the_back_office_are_recorded_and_pushed_once() {
    for engine in engines() {
        let app = TestApp::start_with(engine, |c| c.change_feed_poll_ms = 20).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        app.post_json("/alert/alert1", demo.token(), &json!({ "isEnabled": true }))
            .await
            .success();
        let checking = app.account(&demo, &ids.checking).await;
        let account_ref = BoRef(checking["accountIdBO"].as_str().unwrap().to_owned());
        let card = app
            .get(&format!("/cards/{}", ids.checking_card), demo.token())
            .await;
        let card_ref = BoRef(
            card.success()["card"]["cardIdBO"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        let mut stream = app.events(&demo.token, None).await;

        let sandbox_a = BackOfficeId::parse("sandbox-a").unwrap();
        let office = app.services().back_offices.get(&sandbox_a).unwrap().clone();
        let usd = Currency::parse("USD").unwrap();
        let now = app.clock.now();
        office
            .accounts()
            .unwrap()
            .deposit(
                &account_ref,
                &Deposit {
                    amount: Money::new(25_000, usd),
                    narrative: "Salary from Acme".to_owned(),
                    value_at: now,
                },
                &IdempotencyKey("test-salary".to_owned()),
            )
            .await
            .unwrap();

        // The account first (its balance), then the line, then the alert it fired.
        expect_credit(
            &mut stream,
            &ids.checking,
            1_250.0,
            "Salary from Acme",
            250.0,
        )
        .await;
        let alert = stream.expect_one_of(&["messages"]).await;
        assert_eq!(alert.data["messages"][0]["title"], "Money received");

        let outcome = office
            .card_authorization()
            .unwrap()
            .authorize(&AuthorizationRequest {
                card_id_bo: card_ref,
                amount: Money::new(1_999, usd),
                mcc: "5411".to_owned(),
                merchant: Some("Grocer".to_owned()),
                local_time: PrimitiveDateTime::new(now.date(), now.time()),
                at: now,
            })
            .await
            .unwrap();
        assert!(matches!(outcome, AuthorizationOutcome::Approved { .. }));
        let purchase = stream
            .expect_where("transactions", |d| d["transactions"][0]["amount"] == -19.99)
            .await;
        assert_eq!(
            purchase.data["transactions"][0]["AFiCardId"],
            ids.checking_card.as_str()
        );
        let latest = app.latest(&demo, &ids.checking).await;
        assert!(latest.iter().any(|t| t["amount"] == -19.99), "{latest:?}");

        // A card issued at the back office joins the user's cards: a `cards` event.
        let issued = office
            .cards()
            .unwrap()
            .issue_card(
                &account_ref,
                &IssueCard {
                    name_on_card: "DANA DEMO".to_owned(),
                    type_id: "debit".to_owned(),
                    activated: false,
                },
                &IdempotencyKey("test-second-card".to_owned()),
            )
            .await
            .unwrap();
        let event = stream.expect_one_of(&["cards"]).await;
        let pushed = &event.data["cards"][0];
        assert_eq!(pushed["cardIdBO"], issued.id_bo.as_str());
        assert_eq!(pushed["AFiAccountId"], ids.checking.as_str());
        assert_eq!(app.cards(&demo).await.len(), 3);

        // Applying the feed again (as after a crash before its position was saved) adds no event.
        let user = UserId::parse(&demo.user_id).unwrap();
        let services = app.services();
        let before = services.store.last_event(&user).await.unwrap();
        sqlx::query("UPDATE back_office_feeds SET last_seq = 0")
            .execute(services.store.db().write())
            .await
            .unwrap();
        let mut following = Following::default();
        for _ in 0..3 {
            services
                .follow_back_office(&sandbox_a, &mut following)
                .await
                .unwrap();
        }
        assert_eq!(services.store.last_event(&user).await.unwrap(), before);
        app.stop().await;
    }
}

/// A sandbox that keeps its change feed to itself, as many real back offices do: every other capability
/// is the sandbox's.
struct WithoutFeed(Arc<Sandbox>);

#[async_trait]
impl BackOffice for WithoutFeed {
    fn id(&self) -> &BackOfficeId {
        self.0.id()
    }
    async fn health(&self) -> Result<(), BackOfficeError> {
        self.0.health().await
    }
    fn customers(&self) -> Option<&dyn CustomersApi> {
        self.0.customers()
    }
    fn accounts(&self) -> Option<&dyn AccountsApi> {
        self.0.accounts()
    }
    fn cards(&self) -> Option<&dyn CardsApi> {
        self.0.cards()
    }
    fn card_authorization(&self) -> Option<&dyn CardAuthorizationApi> {
        self.0.card_authorization()
    }
    fn transfers(&self) -> Option<&dyn TransfersApi> {
        self.0.transfers()
    }
    fn payments(&self) -> Option<&dyn PaymentsApi> {
        self.0.payments()
    }
    fn rates(&self) -> Option<&dyn RatesApi> {
        self.0.rates()
    }
}

/// sandbox-a and sandbox-b served over HTTP, each on a database of its own on `engine`.
struct RemoteSandboxes {
    servers: Vec<(String, BackOfficeServer)>,
    sandboxes: Vec<Arc<Sandbox>>,
    databases: Vec<TestDatabase>,
}

impl RemoteSandboxes {
    /// With `a_without_feed`, sandbox-a answers that it has no change feed.
    async fn start(engine: Engine, a_without_feed: bool) -> RemoteSandboxes {
        let clock = ManualClock::new(START);
        let mut remote = RemoteSandboxes {
            servers: Vec::new(),
            sandboxes: Vec::new(),
            databases: Vec::new(),
        };
        for id in ["sandbox-a", "sandbox-b"] {
            let database = TestDatabase::create(engine).await;
            let db = Db::connect(&database.url, &DbOptions::default())
                .await
                .unwrap();
            let id = BackOfficeId::parse(id).unwrap();
            let sandbox = Arc::new(
                Sandbox::open(id.clone(), db, Arc::new(clock.clone()))
                    .await
                    .unwrap(),
            );
            let served: Arc<dyn BackOffice> = if a_without_feed && id.as_str() == "sandbox-a" {
                Arc::new(WithoutFeed(sandbox.clone()))
            } else {
                sandbox.clone()
            };
            let server = BackOfficeServer::start("127.0.0.1:0".parse().unwrap(), served, None)
                .await
                .unwrap();
            remote.servers.push((id.to_string(), server));
            remote.databases.push(database);
            remote.sandboxes.push(sandbox);
        }
        remote
    }

    fn urls(&self) -> BTreeMap<String, String> {
        self.servers
            .iter()
            .map(|(id, server)| (id.clone(), server.url()))
            .collect()
    }

    async fn stop(self) {
        for (_, server) in self.servers {
            server.stop().await.unwrap();
        }
    }
}

#[tokio::test]
async fn a_back_office_without_a_feed_has_its_customers_refreshed_on_schedule() {
    for engine in engines() {
        // Both back offices over HTTP; sandbox-a answers that it has no change feed.
        let remote = RemoteSandboxes::start(engine, true).await;
        let app = TestApp::start_with(engine, |c| {
            c.back_offices = remote.urls();
            c.change_feed_poll_ms = 20;
            c.back_office_refresh_secs = 300;
        })
        .await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        let checking = app.account(&demo, &ids.checking).await;
        let account_ref = BoRef(checking["accountIdBO"].as_str().unwrap().to_owned());
        let mut stream = app.events(&demo.token, None).await;

        let usd = Currency::parse("USD").unwrap();
        remote.sandboxes[0]
            .deposit(
                &account_ref,
                &Deposit {
                    amount: Money::new(4_200, usd),
                    narrative: "Refund from Acme".to_owned(),
                    value_at: app.clock.now(),
                },
                &IdempotencyKey("test-refund".to_owned()),
            )
            .await
            .unwrap();
        // The refresh is due five minutes after the last one: then the credit comes in and is pushed.
        app.clock.advance(time::Duration::seconds(301));
        expect_credit(
            &mut stream,
            &ids.checking,
            1_042.0,
            "Refund from Acme",
            42.0,
        )
        .await;
        app.stop().await;
        remote.stop().await;
    }
}

#[tokio::test]
async fn a_change_that_commits_after_later_ones_is_still_applied() {
    // Only PostgreSQL numbers a change before it commits, so only there can a later one overtake it.
    for engine in engines().into_iter().filter(|e| *e == Engine::Postgres) {
        let remote = RemoteSandboxes::start(engine, false).await;
        let app = TestApp::start_with(engine, |c| {
            c.back_offices = remote.urls();
            c.change_feed_poll_ms = 20;
        })
        .await;
        let (demo, demo2) = (app.demo.clone(), app.demo2.clone());
        let ids = app.demo_objects(&demo).await;
        let other = app.demo_objects(&demo2).await;
        let checking = app.account(&demo, &ids.checking).await;
        let other_ref = app.account(&demo2, &other.checking).await["accountIdBO"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut stream = app.events(&demo.token, None).await;
        let mut other_stream = app.events(&demo2.token, None).await;

        // A change at sandbox-a takes its feed number and stays uncommitted...
        let sandbox_db = Db::connect(&remote.databases[0].url, &DbOptions::default())
            .await
            .unwrap();
        let mut slow = sandbox_db.write().begin().await.unwrap();
        let account_id = checking["accountIdBO"].as_str().unwrap();
        sqlx::query("UPDATE sbx_accounts SET name = 'Travel fund' WHERE id = $1")
            .bind(account_id)
            .execute(&mut *slow)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO sbx_changes (customer_id, kind, object_id, created_at) \
             SELECT customer_id, 'account', id, 0 FROM sbx_accounts WHERE id = $1",
        )
        .bind(account_id)
        .execute(&mut *slow)
        .await
        .unwrap();
        // ...while a later one commits: it is applied once the gap has been waited out.
        let usd = Currency::parse("USD").unwrap();
        remote.sandboxes[0]
            .deposit(
                &BoRef(other_ref),
                &Deposit {
                    amount: Money::new(1_000, usd),
                    narrative: "Gift".to_owned(),
                    value_at: app.clock.now(),
                },
                &IdempotencyKey("test-gift".to_owned()),
            )
            .await
            .unwrap();
        expect_credit(&mut other_stream, &other.checking, 1_010.0, "Gift", 10.0).await;

        // The first change commits late: it is applied all the same.
        slow.commit().await.unwrap();
        let renamed = stream
            .expect_where("accounts", |d| d["accounts"][0]["name"] == "Travel fund")
            .await;
        assert_eq!(
            renamed.data["accounts"][0]["AFiAccountId"],
            ids.checking.as_str()
        );
        app.stop().await;
        remote.stop().await;
    }
}
