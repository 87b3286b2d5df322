//! bankgate in front of back offices reached over HTTP: two sandbox back-office servers started
//! in-process (each on its own store), and a demo-mode bankgate configured with `back_offices` pointing
//! at them, so the demo users are set up at the remote back offices through the HTTP adapter and every
//! call, money movement included, crosses the network.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bankgate_backoffice_http::{BackOfficeServer, HttpBackOffice, SandboxServerSettings};
use bankgate_db::testing::TestDatabase;
use bankgate_db::Engine;
use bankgate_domain::ids::BackOfficeId;
use bankgate_domain::{Currency, ManualClock};
use common::money::pair;
use common::{engines, TestApp, START};
use std::collections::BTreeMap;
use std::sync::Arc;
use time::Duration;

/// A sandbox back office served over HTTP on its own test database.
struct RemoteBackOffice {
    server: BackOfficeServer,
    id: BackOfficeId,
    _database: TestDatabase,
}

impl RemoteBackOffice {
    async fn start(id: &str, engine: Engine) -> RemoteBackOffice {
        let database = TestDatabase::create(engine).await;
        let id = BackOfficeId::parse(id).unwrap();
        let settings = SandboxServerSettings {
            id: id.clone(),
            listen: "127.0.0.1:0".parse().unwrap(),
            database_url: database.url.clone(),
        };
        let server = BackOfficeServer::open_sandbox(&settings, Arc::new(ManualClock::new(START)))
            .await
            .unwrap();
        RemoteBackOffice {
            server,
            id,
            _database: database,
        }
    }

    fn client(&self) -> HttpBackOffice {
        HttpBackOffice::new(self.id.clone(), &self.server.url()).unwrap()
    }
}

/// A demo-mode bankgate whose two back offices are `a` and `b`, over HTTP.
async fn bankgate_on(engine: Engine, a: &RemoteBackOffice, b: &RemoteBackOffice) -> TestApp {
    let back_offices = BTreeMap::from([
        (a.id.to_string(), a.server.url()),
        (b.id.to_string(), b.server.url()),
    ]);
    TestApp::start_with(engine, |config| config.back_offices = back_offices).await
}

#[tokio::test]
async fn demo_users_bank_at_back_offices_over_http() {
    for engine in engines() {
        let a = RemoteBackOffice::start("sandbox-a", engine).await;
        let b = RemoteBackOffice::start("sandbox-b", engine).await;
        let app = bankgate_on(engine, &a, &b).await;
        let demo = app.demo.clone();

        // No in-process sandbox was opened: the back offices are the remote ones.
        let local_file = app.sandbox_database_url("sandbox-a");
        let local_file = local_file.strip_prefix("sqlite://").unwrap();
        assert!(!std::path::Path::new(local_file).exists(), "{local_file}");

        // The three demo accounts, from both remote back offices.
        let accounts = app.accounts(&demo).await;
        assert_eq!(accounts.len(), 3, "{accounts:?}");
        let at = |office: &str| {
            accounts
                .iter()
                .filter(|x| x["backOfficeId"] == office)
                .count()
        };
        assert_eq!((at("sandbox-a"), at("sandbox-b")), (1, 2));
        let ids = app.demo_objects(&demo).await;
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("1000.00", "1000.00")
        );
        assert_eq!(
            app.balance(&demo, &ids.savings).await,
            pair("500.00", "500.00")
        );
        assert_eq!(
            app.latest(&demo, &ids.checking).await.len(),
            4,
            "deposit and three purchases"
        );

        // Readiness asks the remote back offices.
        let ready = app.admin_get("/ready").await;
        assert_eq!(ready.status, 200, "{}", ready.text);

        // 100.00 from checking at sandbox-a to savings at sandbox-b: a saga across two servers.
        let accepted = app
            .transfer(&demo, &ids.checking, &ids.savings, "100.00", "USD")
            .await;
        let undo_id = accepted["undo"]["id"].as_str().unwrap().to_owned();
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("1000.00", "900.00")
        );
        app.clock.advance(Duration::seconds(10));
        let done = app
            .wait_for_undo(&demo, &undo_id, &["done", "failed"])
            .await;
        assert_eq!(done["state"], "done", "{done}");
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("900.00", "900.00")
        );
        assert_eq!(
            app.balance(&demo, &ids.savings).await,
            pair("600.00", "600.00")
        );

        // Both back offices' books balance, the money having passed through their settlement accounts.
        for office in [&a, &b] {
            let report = office.client().ledger_report().await.unwrap();
            assert!(report.is_clean(), "{}: {report:?}", office.id);
            assert!(report.currency_totals.contains_key(&Currency::USD));
        }

        app.stop().await;
        a.server.stop().await.unwrap();
        b.server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn seeding_the_demo_again_at_the_same_back_offices_creates_nothing_twice() {
    let engine = Engine::Sqlite;
    let a = RemoteBackOffice::start("sandbox-a", engine).await;
    let b = RemoteBackOffice::start("sandbox-b", engine).await;
    let first = bankgate_on(engine, &a, &b).await;
    let first_ids = first.demo_objects(&first.demo).await;
    let first_lines = first.latest(&first.demo, &first_ids.checking).await;
    first.stop().await;

    // A new bankgate (its own database empty) in front of the same back offices.
    let second = bankgate_on(engine, &a, &b).await;
    let demo = second.demo.clone();
    let ids = second.demo_objects(&demo).await;
    assert_eq!(
        second.balance(&demo, &ids.checking).await,
        pair("1000.00", "1000.00")
    );
    assert_eq!(
        second.balance(&demo, &ids.savings).await,
        pair("500.00", "500.00")
    );
    let lines = second.latest(&demo, &ids.checking).await;
    assert_eq!(lines.len(), first_lines.len());
    assert_eq!(second.cards(&demo).await.len(), 2);
    second.stop().await;
}
