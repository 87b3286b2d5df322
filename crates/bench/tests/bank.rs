//! The bank test in the suite: concurrent transfers among accounts at both sandbox back offices and in
//! two currencies, with random cancels and do-nows, audited at the end (see `bankgate_bench::bank`), on
//! SQLite and, when `BANKGATE_TEST_POSTGRES_URL` is set, on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use bankgate_bench::bank::{run_bank, BankOptions};
use bankgate_bench::world::{World, WorldOptions};
use bankgate_db::testing::test_engines;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_transfers_conserve_money_and_run_exactly_once() {
    for engine in test_engines() {
        let world = World::start(&WorldOptions {
            engine,
            customers: 6,
            undo_window_ms: 150,
            job_workers: 16,
        })
        .await
        .unwrap();
        let options = BankOptions {
            operations: 400,
            concurrency: 16,
            cancel_percent: 25,
            do_now_percent: 25,
            // Large enough that some transfers are refused for want of money.
            max_amount_cents: 25_000,
            pace: Duration::ZERO,
        };
        let mut report = run_bank(&world.clients(), &options).await.unwrap();
        report.check_ledgers(&world.ledger_reports().await.unwrap());
        report.print();
        assert!(report.is_clean(), "{engine:?}: {:?}", report.problems);
        assert_eq!(
            report.accepted,
            report.executed + report.cancelled,
            "{report:?}"
        );
        assert!(
            report.executed > 100,
            "too little executed to mean anything: {report:?}"
        );
        assert!(
            report.cancelled > 10,
            "cancels were not exercised: {report:?}"
        );
        assert!(report.refused > 0, "holds were never tested: {report:?}");
        world.stop().await;
    }
}
