//! Transfers that cannot complete: every accepted transfer must end executed, cancelled or failed with a
//! reason the user can see, never half. A debit refused at execution fails cleanly with the hold
//! released; a credit refused after the debit went through is compensated by a reversal, so the
//! source ends where it started.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bankgate_db::{Db, DbOptions};
use common::money::pair;
use common::{engines, json, TestApp};

#[tokio::test]
async fn a_refused_credit_is_reversed_and_the_transfer_fails_with_its_reason() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        let queued = app
            .transfer(&demo, &ids.checking, &ids.savings, "125.00", "USD")
            .await;

        // The destination's bank closes the account while the transfer waits.
        let savings = app.account(&demo, &ids.savings).await;
        let savings_bo = savings["accountIdBO"].as_str().unwrap().to_owned();
        let sandbox = Db::connect(
            &app.sandbox_database_url("sandbox-b"),
            &DbOptions::default(),
        )
        .await
        .unwrap();
        sqlx::query("UPDATE sbx_accounts SET is_closed = 1 WHERE id = $1")
            .bind(&savings_bo)
            .execute(sandbox.write())
            .await
            .unwrap();
        sandbox.close().await;

        let undo_id = queued["undo"]["id"].as_str().unwrap();
        app.post_empty(&format!("/undo/now/{undo_id}"), demo.token())
            .await
            .success();
        let ended = app.wait_for_undo(&demo, undo_id, &["done", "failed"]).await;
        assert_eq!(ended["state"], "failed", "{ended}");
        let reason = ended["reason"].as_str().unwrap();
        assert!(reason.contains("closed"), "reason {reason:?}");

        // The debit happened and was given back: two lines, and the balance is whole again.
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("1000.00", "1000.00")
        );
        let lines = app
            .get(
                &format!("/accounts/{}/transactions/latest", ids.checking),
                demo.token(),
            )
            .await;
        let reference = queued["reference"].as_str().unwrap();
        let mine: Vec<_> = lines
            .ok()
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["reference"] == reference)
            .cloned()
            .collect();
        let mut amounts: Vec<f64> = mine.iter().map(|t| t["amount"].as_f64().unwrap()).collect();
        amounts.sort_by(f64::total_cmp);
        assert_eq!(amounts, vec![-125.0, 125.0], "{mine:?}");
        assert!(mine.iter().any(|t| t["txnType"] == "reversal"), "{mine:?}");
        // Nothing reached the closed account.
        let theirs = app
            .get(
                &format!("/accounts/{}/transactions/latest", ids.savings),
                demo.token(),
            )
            .await;
        let theirs = theirs.ok().as_array().unwrap().clone();
        assert!(
            theirs.iter().all(|t| t["reference"] != reference),
            "{theirs:?}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn a_debit_refused_at_execution_fails_and_releases_the_hold() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        let queued = app
            .transfer(&demo, &ids.checking, &ids.savings, "900.00", "USD")
            .await;
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("1000.00", "100.00")
        );

        // A card purchase at the back office, which knows nothing of bankgate's hold, spends the money.
        let purchase = app
            .authorize(&ids.checking_card, "500.00", "5411", json!({}))
            .await;
        assert_eq!(purchase.success()["approved"], true, "{}", purchase.text);

        let undo_id = queued["undo"]["id"].as_str().unwrap();
        app.post_empty(&format!("/undo/now/{undo_id}"), demo.token())
            .await
            .success();
        let ended = app.wait_for_undo(&demo, undo_id, &["done", "failed"]).await;
        assert_eq!(ended["state"], "failed", "{ended}");
        assert!(!ended["reason"].as_str().unwrap().is_empty());
        // Only the purchase moved money; the hold is gone.
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("500.00", "500.00")
        );
        assert_eq!(
            app.balance(&demo, &ids.savings).await,
            pair("500.00", "500.00")
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn a_job_whose_node_died_mid_run_is_taken_over_when_its_lease_ends() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        let queued = app
            .transfer(&demo, &ids.checking, &ids.savings, "40.00", "USD")
            .await;
        let undo_id = queued["undo"]["id"].as_str().unwrap();

        // Another node claims the job and dies before finishing it.
        let store = &app.services().store;
        let reference =
            bankgate_domain::ids::OperationId::parse(queued["reference"].as_str().unwrap())
                .unwrap();
        let now = common::START;
        let claimed = store
            .claim_job(
                &reference,
                "node-that-dies",
                now,
                now + time::Duration::seconds(60),
            )
            .await
            .unwrap();
        assert!(claimed.is_some());
        // Execution has begun: it can no longer be undone, and the hold stays.
        app.delete(&format!("/undo/{undo_id}"), demo.token())
            .await
            .error(409, "UNDO_TOO_LATE");
        app.clock.advance(time::Duration::seconds(30));
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert_eq!(
            app.wait_for_undo(&demo, undo_id, &["running"]).await["state"],
            "running"
        );
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("1000.00", "960.00")
        );

        // Past the lease, this node's runner takes it over and completes it, once.
        app.clock.advance(time::Duration::seconds(31));
        let done = app.wait_for_undo(&demo, undo_id, &["done", "failed"]).await;
        assert_eq!(done["state"], "done", "{done}");
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("960.00", "960.00")
        );
        assert_eq!(
            app.balance(&demo, &ids.savings).await,
            pair("540.00", "540.00")
        );
        app.stop().await;
    }
}
