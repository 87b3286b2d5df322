//! Transfers between the user's own accounts (`POST /transfer/acc2acc`, credit-card payments) and the
//! undo queue around them: holds from acceptance, execution at the end of the window, cancel, do-now,
//! conversion between currencies, and the statement lines both accounts show afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::money::pair;
use common::{engines, json, Session, TestApp};
use serde_json::Value;
use time::Duration;

/// The lines of `account` whose reference is `reference`.
async fn lines_of(app: &TestApp, who: &Session, account: &str, reference: &str) -> Vec<Value> {
    let resp = app
        .get(
            &format!("/accounts/{account}/transactions/latest"),
            who.token(),
        )
        .await;
    resp.ok()
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["reference"] == reference)
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_transfer_holds_at_once_and_moves_when_its_window_ends() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        let body = app
            .transfer(&demo, &ids.checking, &ids.savings, "100.00", "USD")
            .await;
        let undo = &body["undo"];
        let undo_id = undo["id"].as_str().unwrap();
        assert_eq!(undo_id.len(), 5, "{body}");
        assert!(undo_id.bytes().all(|b| b.is_ascii_lowercase()), "{body}");
        assert_eq!(undo["isActionable"], false);
        assert_eq!(undo["dtsQueued"], "2025-01-15T12:00:00.000Z");
        assert_eq!(undo["dtsExpiry"], "2025-01-15T12:00:10.000Z");
        assert_eq!(undo["state"], "waiting");

        // Before execution: the source's available balance is held, nothing else moves.
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("1000.00", "900.00")
        );
        assert_eq!(
            app.balance(&demo, &ids.savings).await,
            pair("500.00", "500.00")
        );
        let pending = app.get("/undo", demo.token()).await;
        assert_eq!(pending.success()["undos"].as_array().unwrap().len(), 1);

        // Nothing runs before the window ends.
        app.clock.advance(Duration::seconds(9));
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert_eq!(
            app.wait_for_undo(&demo, undo_id, &["waiting"]).await["isActionable"],
            false
        );

        app.clock.advance(Duration::seconds(1));
        let done = app.wait_for_undo(&demo, undo_id, &["done", "failed"]).await;
        assert_eq!(done["state"], "done", "{done}");
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("900.00", "900.00")
        );
        assert_eq!(
            app.balance(&demo, &ids.savings).await,
            pair("600.00", "600.00")
        );

        // Both accounts show their line, naming both ends and the operation.
        let reference = body["reference"].as_str().unwrap();
        let debit = lines_of(&app, &demo, &ids.checking, reference).await;
        let credit = lines_of(&app, &demo, &ids.savings, reference).await;
        assert_eq!(debit.len(), 1, "{debit:?}");
        assert_eq!(credit.len(), 1, "{credit:?}");
        for line in [&debit[0], &credit[0]] {
            assert_eq!(line["sourceAFiAccountId"], json!(ids.checking));
            assert_eq!(line["destinationAFiAccountId"], json!(ids.savings));
            assert_eq!(line["transactionState"], "confirmed");
            assert_eq!(line["isComplete"], true);
            assert_eq!(line["isPending"], false);
        }
        assert_eq!(debit[0]["amount"], json!(-100.0));
        assert_eq!(debit[0]["debit"], json!(100.0));
        assert_eq!(credit[0]["amount"], json!(100.0));
        assert_eq!(credit[0]["credit"], json!(100.0));
        // The finished entry has left the pending list.
        assert!(app.get("/undo", demo.token()).await.success()["undos"]
            .as_array()
            .unwrap()
            .is_empty());
        app.stop().await;
    }
}

#[tokio::test]
async fn cancelling_releases_the_hold_and_nothing_moves() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        let body = app
            .transfer(&demo, &ids.checking, &ids.savings, "50", "USD")
            .await;
        let undo_id = body["undo"]["id"].as_str().unwrap();
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("1000.00", "950.00")
        );

        let cancelled = app.delete(&format!("/undo/{undo_id}"), demo.token()).await;
        let cancelled = cancelled.success();
        assert_eq!(cancelled["undo"]["isCancelled"], true, "{cancelled}");
        assert_eq!(cancelled["undo"]["state"], "cancelled");
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("1000.00", "1000.00")
        );

        app.clock.advance(Duration::seconds(30));
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("1000.00", "1000.00")
        );
        assert_eq!(
            app.balance(&demo, &ids.savings).await,
            pair("500.00", "500.00")
        );
        let again = app.delete(&format!("/undo/{undo_id}"), demo.token()).await;
        again.error(409, "UNDO_TOO_LATE");
        let now = app
            .post_empty(&format!("/undo/now/{undo_id}"), demo.token())
            .await;
        now.error(409, "UNDO_FINISHED");
        // The documented alternative spelling of cancel.
        let other = app
            .transfer(&demo, &ids.checking, &ids.savings, "1", "USD")
            .await;
        let other_id = other["undo"]["id"].as_str().unwrap();
        let via_post = app
            .post_empty(&format!("/undo/{other_id}/cancel"), demo.token())
            .await;
        assert_eq!(via_post.success()["undo"]["isCancelled"], true);
        app.stop().await;
    }
}

#[tokio::test]
async fn do_now_runs_at_once_and_then_it_is_too_late_to_undo() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        let body = app
            .transfer(&demo, &ids.checking, &ids.savings, "10.00", "USD")
            .await;
        let undo_id = body["undo"]["id"].as_str().unwrap();
        let now = app
            .post_empty(&format!("/undo/now/{undo_id}"), demo.token())
            .await;
        assert_eq!(now.success()["undo"]["isActionable"], true);
        app.wait_for_undo(&demo, undo_id, &["done"]).await;
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("990.00", "990.00")
        );
        app.delete(&format!("/undo/{undo_id}"), demo.token())
            .await
            .error(409, "UNDO_TOO_LATE");

        // All at once: two more, both run without the clock moving.
        let a = app
            .transfer(&demo, &ids.checking, &ids.savings, "1.00", "USD")
            .await;
        let b = app
            .transfer(&demo, &ids.savings, &ids.checking, "2.00", "USD")
            .await;
        let all = app.post_empty("/undo/now", demo.token()).await;
        assert_eq!(all.success()["undos"].as_array().unwrap().len(), 2);
        for queued in [&a, &b] {
            app.wait_for_undo(&demo, queued["undo"]["id"].as_str().unwrap(), &["done"])
                .await;
        }
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("991.00", "991.00")
        );
        assert_eq!(
            app.balance(&demo, &ids.savings).await,
            pair("509.00", "509.00")
        );
        // Unknown and foreign undo ids are 404.
        app.delete("/undo/zzzzz", demo.token())
            .await
            .error(404, "UNDO_NOT_FOUND");
        let demo2 = app.demo2.clone();
        app.delete(&format!("/undo/{undo_id}"), demo2.token())
            .await
            .error(404, "UNDO_NOT_FOUND");
        app.post_empty(&format!("/undo/now/{undo_id}"), demo2.token())
            .await
            .error(404, "UNDO_NOT_FOUND");
        app.stop().await;
    }
}

#[tokio::test]
async fn holds_refuse_spending_the_same_money_twice() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        let body = json!({ "srcAcc": ids.checking, "dstAcc": ids.savings, "amount": 1000.01, "currency": "USD" });
        let resp = app
            .post_json("/transfer/acc2acc", demo.token(), &body)
            .await;
        resp.error(409, "INSUFFICIENT_FUNDS");
        app.transfer(&demo, &ids.checking, &ids.savings, "600", "USD")
            .await;
        let second = json!({ "srcAcc": ids.checking, "dstAcc": ids.savings, "amount": "500", "currency": "USD" });
        let resp = app
            .post_json("/transfer/acc2acc", demo.token(), &second)
            .await;
        resp.error(409, "INSUFFICIENT_FUNDS");
        // What is left can still be moved.
        app.transfer(&demo, &ids.checking, &ids.savings, "400.00", "USD")
            .await;
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("1000.00", "0.00")
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn concurrent_transfers_never_hold_more_than_is_available() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        let body = json!({ "srcAcc": ids.savings, "dstAcc": ids.checking, "amount": "60.00", "currency": "USD" });
        let attempts = (0..20).map(|_| app.post_json("/transfer/acc2acc", demo.token(), &body));
        let results = futures::future::join_all(attempts).await;
        let accepted = results.iter().filter(|r| r.status == 200).count();
        for refused in results.iter().filter(|r| r.status != 200) {
            refused.error(409, "INSUFFICIENT_FUNDS");
        }
        // 500.00 available: exactly eight 60.00 transfers fit.
        assert_eq!(
            accepted,
            8,
            "{:?}",
            results.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        assert_eq!(
            app.balance(&demo, &ids.savings).await,
            pair("500.00", "20.00")
        );
        app.post_empty("/undo/now", demo.token()).await.success();
        for r in results.iter().filter(|r| r.status == 200) {
            app.wait_for_undo(&demo, r.json["undo"]["id"].as_str().unwrap(), &["done"])
                .await;
        }
        assert_eq!(
            app.balance(&demo, &ids.savings).await,
            pair("20.00", "20.00")
        );
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("1480.00", "1480.00")
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn converted_transfers_use_the_banks_rate_and_record_it() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        // At one back office (sandbox-b holds both savings and euro): 100.00 USD buys 92.00 EUR.
        let body = app
            .transfer(&demo, &ids.savings, &ids.euro, "100.00", "USD")
            .await;
        let undo_id = body["undo"]["id"].as_str().unwrap();
        app.post_empty(&format!("/undo/now/{undo_id}"), demo.token())
            .await
            .success();
        app.wait_for_undo(&demo, undo_id, &["done"]).await;
        assert_eq!(
            app.balance(&demo, &ids.savings).await,
            pair("400.00", "400.00")
        );
        assert_eq!(
            app.balance(&demo, &ids.euro).await,
            pair("292.00", "292.00")
        );
        let reference = body["reference"].as_str().unwrap();
        let credit = lines_of(&app, &demo, &ids.euro, reference).await;
        assert_eq!(credit[0]["exchangeRate"], json!(0.92), "{credit:?}");
        assert_eq!(credit[0]["counterAmount"], json!(100.0));
        assert_eq!(credit[0]["counterCurrency"], "USD");
        let debit = lines_of(&app, &demo, &ids.savings, reference).await;
        assert_eq!(debit[0]["exchangeRate"], json!(0.92), "{debit:?}");
        assert_eq!(debit[0]["counterAmount"], json!(92.0));

        // Across back offices, with the amount given in the destination's currency: 46.00 EUR costs
        // 50.00 USD from checking (sandbox-a's rate).
        let body = app
            .transfer(&demo, &ids.checking, &ids.euro, "46.00", "EUR")
            .await;
        let undo_id = body["undo"]["id"].as_str().unwrap();
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("1000.00", "950.00")
        );
        app.post_empty(&format!("/undo/now/{undo_id}"), demo.token())
            .await
            .success();
        app.wait_for_undo(&demo, undo_id, &["done"]).await;
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("950.00", "950.00")
        );
        assert_eq!(
            app.balance(&demo, &ids.euro).await,
            pair("338.00", "338.00")
        );
        // A currency neither account holds is refused.
        let body =
            json!({ "srcAcc": ids.checking, "dstAcc": ids.euro, "amount": 1, "currency": "GBP" });
        app.post_json("/transfer/acc2acc", demo.token(), &body)
            .await
            .error(400, "CURRENCY_MISMATCH");
        app.stop().await;
    }
}

#[tokio::test]
async fn transfer_bodies_are_checked_and_foreign_accounts_are_not_found() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        let other = app.demo_objects(&app.demo2.clone()).await;
        let send = |body: Value| {
            let app = &app;
            let token = demo.token.clone();
            async move {
                app.post_json("/transfer/acc2acc/", Some(&token), &body)
                    .await
            }
        };
        // Schema 2 spelling, and the trailing slash of the old doc.
        let ok = send(
            json!({ "sourceAFiAccountId": ids.checking, "destinationAFiAccountId": ids.savings,
            "amount": 0.01, "currency": "USD", "narrative": "rent" }),
        )
        .await;
        ok.success();
        send(json!({ "srcAcc": ids.checking, "amount": 1, "currency": "USD" }))
            .await
            .error(400, "MISSING_FIELD");
        send(json!({ "srcAcc": ids.checking, "dstAcc": ids.savings, "currency": "USD" }))
            .await
            .error(400, "MISSING_FIELD");
        send(json!({ "srcAcc": ids.checking, "dstAcc": ids.savings, "amount": 1 }))
            .await
            .error(400, "MISSING_FIELD");
        send(json!({ "srcAcc": ids.checking, "dstAcc": ids.savings, "amount": "1.001", "currency": "USD" })).await
            .error(400, "INVALID_AMOUNT");
        send(json!({ "srcAcc": ids.checking, "dstAcc": ids.savings, "amount": -5, "currency": "USD" })).await
            .error(400, "INVALID_AMOUNT");
        send(json!({ "srcAcc": ids.checking, "dstAcc": ids.savings, "amount": "lots", "currency": "USD" })).await
            .error(400, "INVALID_AMOUNT");
        send(json!({ "srcAcc": ids.checking, "dstAcc": ids.savings, "amount": true, "currency": "USD" })).await
            .error(400, "INVALID_JSON");
        send(json!({ "srcAcc": ids.checking, "dstAcc": ids.savings, "amount": 1, "currency": "usd" })).await
            .error(400, "INVALID_CURRENCY");
        send(json!({ "srcAcc": ids.checking, "dstAcc": ids.checking, "amount": 1, "currency": "USD" })).await
            .error(400, "SAME_ACCOUNT");
        send(json!({ "srcAcc": other.checking, "dstAcc": ids.savings, "amount": 1, "currency": "USD" })).await
            .error(404, "ACCOUNT_NOT_FOUND");
        send(json!({ "srcAcc": ids.checking, "dstAcc": other.savings, "amount": 1, "currency": "USD" })).await
            .error(404, "ACCOUNT_NOT_FOUND");
        // Nothing refused was held.
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("1000.00", "999.99")
        );
        // A credit-card payment is the same operation with its own kind.
        let card_payment = app
            .post_json("/remittance/creditCardPayment", demo.token(), &json!({
                "sourceAccountId": ids.savings, "destinationAccountId": ids.checking, "amount": 0.01, "currency": "USD"
            }))
            .await;
        assert_eq!(card_payment.success()["undo"]["kind"], "card_payment");
        app.stop().await;
    }
}

#[tokio::test]
async fn waiting_transfers_survive_a_restart_and_stay_cancellable() {
    for engine in engines() {
        let mut app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        let keep = app
            .transfer(&demo, &ids.checking, &ids.savings, "70.00", "USD")
            .await;
        let cancel = app
            .transfer(&demo, &ids.checking, &ids.savings, "30.00", "USD")
            .await;
        app.restart().await;
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("1000.00", "900.00")
        );
        let cancel_id = cancel["undo"]["id"].as_str().unwrap();
        app.delete(&format!("/undo/{cancel_id}"), demo.token())
            .await
            .success();
        app.clock.advance(Duration::seconds(10));
        app.wait_for_undo(&demo, keep["undo"]["id"].as_str().unwrap(), &["done"])
            .await;
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("930.00", "930.00")
        );
        assert_eq!(
            app.balance(&demo, &ids.savings).await,
            pair("570.00", "570.00")
        );
        app.stop().await;
    }
}
