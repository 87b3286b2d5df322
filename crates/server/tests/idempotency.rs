//! The `Idempotency-Key` request header (section 25) on state-changing routes, here
//! `POST /transfer/acc2acc` and `POST /accounts/:id`: a repeat gets the stored status and body with
//! `Idempotent-Replayed: true` and has no second effect; the same key for another request is 422; keys
//! are per user; refusals are replayed too; a bad key is 400; requests without the header are untouched.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bankgate_domain::Clock;
use common::money::pair;
use common::{engines, json, Resp, Session, TestApp};
use serde_json::Value;
use time::Duration;

const REPLAYED: &str = "idempotent-replayed";

async fn keyed(app: &TestApp, who: &Session, path: &str, key: &str, body: &Value) -> Resp {
    let request = app
        .client
        .post(app.url(path))
        .header("token", &who.token)
        .header("Idempotency-Key", key)
        .json(body);
    app.send(request).await
}

async fn undo_ids(app: &TestApp, who: &Session) -> Vec<String> {
    let resp = app.get("/undo", who.token()).await;
    resp.success()["undos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Asserts `again` repeats `first` exactly, marked as a replay.
#[track_caller]
fn assert_replay_of(again: &Resp, first: &Resp) {
    assert_eq!(again.status, first.status, "{}", again.text);
    assert_eq!(again.text, first.text);
    assert_eq!(again.header(REPLAYED), Some("true"), "{:?}", again.headers);
    assert!(again
        .header("content-type")
        .unwrap_or_default()
        .starts_with("application/json"));
}

#[tokio::test]
async fn a_transfer_retried_after_its_answer_was_never_recorded_is_not_queued_twice() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        for (path, key) in [
            ("/transfer/acc2acc", "move-1"),
            ("/remittance/creditCardPayment", "card-payment-1"),
        ] {
            let body = json!({ "srcAcc": ids.checking, "dstAcc": ids.savings, "amount": "400.00", "currency": "USD" });
            let first = keyed(&app, &demo, path, key, &body).await;
            first.success();
            // The node died after queueing and before recording the answer: the key's record is gone
            // (abandoned claims end the same way). The retry must find the first movement by its key
            // rather than queue another.
            let far = app.clock.now() + Duration::days(365);
            app.services()
                .store
                .prune_idempotency_keys(far)
                .await
                .unwrap();
            let again = keyed(&app, &demo, path, key, &body).await;
            assert_eq!(again.status, 200, "{}", again.text);
            assert_eq!(again.json["reference"], first.json["reference"]);
            assert_eq!(again.json["undo"]["id"], first.json["undo"]["id"]);
        }
        assert_eq!(undo_ids(&app, &demo).await.len(), 2);
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("1000.00", "200.00")
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn a_repeated_transfer_is_replayed_and_moves_money_once() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        let body = json!({ "srcAcc": ids.checking, "dstAcc": ids.savings, "amount": "100.00", "currency": "USD" });
        let first = keyed(&app, &demo, "/transfer/acc2acc", "pay-savings-1", &body).await;
        first.success();
        assert_eq!(first.header(REPLAYED), None);
        let undo_id = first.json["undo"]["id"].as_str().unwrap().to_owned();

        let again = keyed(&app, &demo, "/transfer/acc2acc", "pay-savings-1", &body).await;
        assert_replay_of(&again, &first);
        assert_eq!(undo_ids(&app, &demo).await, vec![undo_id.clone()]);
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("1000.00", "900.00")
        );

        app.clock.advance(Duration::seconds(10));
        app.wait_for_undo(&demo, &undo_id, &["done"]).await;
        // The same object written differently is the same request.
        let written = format!(
            "{{ \"currency\": \"USD\",\n  \"amount\": \"100.00\", \"dstAcc\": \"{}\", \"srcAcc\": \"{}\" }}",
            ids.savings, ids.checking
        );
        let request = app
            .client
            .post(app.url("/transfer/acc2acc/"))
            .header("token", &demo.token)
            .header("Idempotency-Key", "pay-savings-1")
            .header("content-type", "application/json")
            .body(written);
        assert_replay_of(&app.send(request).await, &first);

        // Still the stored answer after it ran, and still only one movement.
        let late = keyed(&app, &demo, "/transfer/acc2acc", "pay-savings-1", &body).await;
        assert_replay_of(&late, &first);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(undo_ids(&app, &demo).await.is_empty());
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("900.00", "900.00")
        );
        assert_eq!(
            app.balance(&demo, &ids.savings).await,
            pair("600.00", "600.00")
        );

        // Kept for at least seven days.
        app.clock.advance(Duration::days(6));
        let demo = app.login_ok("demo", "demo-password").await;
        let week = keyed(&app, &demo, "/transfer/acc2acc", "pay-savings-1", &body).await;
        assert_replay_of(&week, &first);
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("900.00", "900.00")
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn a_replayed_rename_does_not_rename_again() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        let path = format!("/accounts/{}", ids.checking);
        let first = keyed(&app, &demo, &path, "rename-1", &json!({ "name": "Bills" })).await;
        assert_eq!(first.success()["account"]["name"], "Bills");
        assert_eq!(first.header(REPLAYED), None);

        // Renamed since, without a key; the replay answers as before but changes nothing.
        let other = app
            .post_json(&path, demo.token(), &json!({ "name": "Groceries" }))
            .await;
        assert_eq!(other.success()["account"]["name"], "Groceries");
        assert_eq!(other.header(REPLAYED), None);
        let again = keyed(&app, &demo, &path, "rename-1", &json!({ "name": "Bills" })).await;
        assert_replay_of(&again, &first);
        assert_eq!(app.account(&demo, &ids.checking).await["name"], "Groceries");

        // The same key for another request is refused, and does nothing either.
        for (path, body) in [
            (path.clone(), json!({ "name": "Savings pot" })),
            (
                format!("/accounts/{}", ids.savings),
                json!({ "name": "Bills" }),
            ),
            (
                "/transfer/acc2acc".to_owned(),
                json!({ "srcAcc": ids.checking, "dstAcc": ids.savings, "amount": 1, "currency": "USD" }),
            ),
        ] {
            let reused = keyed(&app, &demo, &path, "rename-1", &body).await;
            reused.error(422, "IDEMPOTENCY_KEY_REUSED");
            assert_eq!(reused.header(REPLAYED), None);
        }
        assert_eq!(app.account(&demo, &ids.checking).await["name"], "Groceries");
        assert_ne!(app.account(&demo, &ids.savings).await["name"], "Bills");
        assert!(undo_ids(&app, &demo).await.is_empty());
        app.stop().await;
    }
}

#[tokio::test]
async fn an_amount_written_another_way_is_the_same_request() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        // The body as the client's serializer writes it, with the amount as a JSON number.
        let send = |amount: &str| {
            let body = format!(
                r#"{{"srcAcc":"{}","dstAcc":"{}","amount":{amount},"currency":"USD"}}"#,
                ids.checking, ids.savings
            );
            let request = app
                .client
                .post(app.url("/transfer/acc2acc"))
                .header("token", &demo.token)
                .header("Idempotency-Key", "amount-as-number")
                .header("content-type", "application/json")
                .body(body);
            app.send(request)
        };
        let first = send("25").await;
        first.success();
        assert_eq!(first.header(REPLAYED), None);
        for same in ["25.00", "25.0", "2.5e1", "250E-1"] {
            assert_replay_of(&send(same).await, &first);
        }
        send("25.000000001")
            .await
            .error(422, "IDEMPOTENCY_KEY_REUSED");
        assert_eq!(undo_ids(&app, &demo).await.len(), 1);
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("1000.00", "975.00")
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn keys_belong_to_their_user() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (demo, demo2) = (app.demo.clone(), app.demo2.clone());
        let ids = app.demo_objects(&demo).await;
        let other = app.demo_objects(&demo2).await;
        let mine = json!({ "srcAcc": ids.checking, "dstAcc": ids.savings, "amount": "10.00", "currency": "USD" });
        let theirs = json!({ "srcAcc": other.checking, "dstAcc": other.savings, "amount": "20.00", "currency": "USD" });
        let first = keyed(&app, &demo, "/transfer/acc2acc", "shared-key", &mine).await;
        first.success();
        let second = keyed(&app, &demo2, "/transfer/acc2acc", "shared-key", &theirs).await;
        second.success();
        assert_eq!(second.header(REPLAYED), None);
        assert_ne!(second.json["undo"]["id"], first.json["undo"]["id"]);
        // Even the very same request by another user runs on its own (and is refused as theirs).
        let copied = keyed(&app, &demo2, "/transfer/acc2acc", "copied-key", &mine).await;
        copied.error(404, "ACCOUNT_NOT_FOUND");
        let original = keyed(&app, &demo, "/transfer/acc2acc", "copied-key", &mine).await;
        original.success();
        assert_eq!(original.header(REPLAYED), None);

        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("1000.00", "980.00")
        );
        assert_eq!(
            app.balance(&demo2, &other.checking).await,
            pair("1000.00", "980.00")
        );
        assert_eq!(undo_ids(&app, &demo).await.len(), 2);
        assert_eq!(undo_ids(&app, &demo2).await.len(), 1);
        app.stop().await;
    }
}

#[tokio::test]
async fn refusals_are_replayed_and_bad_keys_refused() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        let big = json!({ "srcAcc": ids.savings, "dstAcc": ids.checking, "amount": "600.00", "currency": "USD" });
        let refused = keyed(&app, &demo, "/transfer/acc2acc", "too-much", &big).await;
        refused.error(409, "INSUFFICIENT_FUNDS");
        assert_eq!(refused.header(REPLAYED), None);

        // Funds arrive; the key still answers its first outcome and moves nothing.
        let top_up = json!({ "srcAcc": ids.checking, "dstAcc": ids.savings, "amount": "200.00", "currency": "USD" });
        let undo = app
            .post_json("/transfer/acc2acc", demo.token(), &top_up)
            .await;
        let undo_id = undo.success()["undo"]["id"].as_str().unwrap().to_owned();
        app.post_empty(&format!("/undo/now/{undo_id}"), demo.token())
            .await
            .success();
        app.wait_for_undo(&demo, &undo_id, &["done"]).await;
        let again = keyed(&app, &demo, "/transfer/acc2acc", "too-much", &big).await;
        assert_replay_of(&again, &refused);
        assert_eq!(
            app.balance(&demo, &ids.savings).await,
            pair("700.00", "700.00")
        );

        // Bad keys: nothing runs.
        for key in ["k".repeat(300), "two words".to_owned(), String::new()] {
            let resp = keyed(&app, &demo, "/transfer/acc2acc", &key, &top_up).await;
            resp.error(400, "INVALID_IDEMPOTENCY_KEY");
        }
        let longest = keyed(&app, &demo, "/transfer/acc2acc", &"k".repeat(255), &top_up).await;
        longest.success();
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("800.00", "600.00")
        );

        // A request that failed authentication leaves its key free.
        let request = app
            .client
            .post(app.url("/transfer/acc2acc"))
            .header("token", "not-a-token")
            .header("Idempotency-Key", "after-401")
            .json(&top_up);
        app.send(request).await.error(401, "UNAUTHORIZED");
        let fresh = keyed(&app, &demo, "/transfer/acc2acc", "after-401", &top_up).await;
        fresh.success();
        assert_eq!(fresh.header(REPLAYED), None);
        app.stop().await;
    }
}

#[tokio::test]
async fn without_a_key_nothing_is_deduplicated_and_racing_repeats_run_once() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        let body = json!({ "srcAcc": ids.checking, "dstAcc": ids.savings, "amount": "10.00", "currency": "USD" });
        for _ in 0..2 {
            let resp = app
                .post_json("/transfer/acc2acc", demo.token(), &body)
                .await;
            resp.success();
            assert_eq!(resp.header(REPLAYED), None);
        }
        assert_eq!(undo_ids(&app, &demo).await.len(), 2);
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("1000.00", "980.00")
        );

        // Ten at once with one key: one runs; the others are replays or told it is still running.
        let racing = (0..10).map(|_| keyed(&app, &demo, "/transfer/acc2acc", "double-tap", &body));
        let results = futures::future::join_all(racing).await;
        let fresh: Vec<&Resp> = results
            .iter()
            .filter(|r| r.header(REPLAYED).is_none() && r.status == 200)
            .collect();
        assert_eq!(
            fresh.len(),
            1,
            "{:?}",
            results.iter().map(|r| &r.text).collect::<Vec<_>>()
        );
        for other in results
            .iter()
            .filter(|r| r.header(REPLAYED).is_some() || r.status != 200)
        {
            if other.status == 409 {
                other.error(409, "IDEMPOTENCY_KEY_IN_USE");
            } else {
                assert_replay_of(other, fresh[0]);
            }
        }
        assert_eq!(undo_ids(&app, &demo).await.len(), 3);
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("1000.00", "970.00")
        );
        app.stop().await;
    }
}

async fn remittance_setup(app: &TestApp, who: &Session) -> (String, String) {
    let ids = app.demo_objects(who).await;
    let body = json!({ "txnType": "paypal", "paypalId": "g@example.com" });
    let added = app.put_json("/beneficiaries", who.token(), &body).await;
    let beneficiary = added.success()["beneficiary"]["AFiBeneficiaryId"]
        .as_str()
        .unwrap();
    (ids.checking, beneficiary.to_owned())
}

#[tokio::test]
async fn racing_remittances_with_one_id_queue_one_payment() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let (checking, beneficiary) = remittance_setup(&app, &demo).await;
        let body = json!({ "sourceAccountId": checking, "AFiBeneficiaryId": beneficiary,
                           "amount": "75.00", "currency": "USD" });
        let racing = (0..8).map(|_| app.post_json("/remittance/tap-1", demo.token(), &body));
        let results = futures::future::join_all(racing).await;
        let undo = results[0].success()["undo"]["id"].clone();
        for resp in &results {
            assert_eq!(resp.success()["undo"]["id"], undo, "{}", resp.text);
        }
        let firsts = results
            .iter()
            .filter(|r| r.json["isReplay"] == false)
            .count();
        assert_eq!(
            firsts,
            1,
            "{:?}",
            results.iter().map(|r| &r.text).collect::<Vec<_>>()
        );
        assert_eq!(undo_ids(&app, &demo).await.len(), 1);
        assert_eq!(
            app.balance(&demo, &checking).await,
            pair("1000.00", "925.00")
        );
        app.post_empty("/undo/now", demo.token()).await.success();
        app.wait_for_undo(&demo, undo.as_str().unwrap(), &["done"])
            .await;
        assert_eq!(
            app.balance(&demo, &checking).await,
            pair("925.00", "925.00")
        );
        app.stop().await;
    }
}

/// Section 25: `AFiRemittanceId` acts as an idempotency key of its own, and a key reused for a different
/// request is 422. Today the second, different payment is answered as a replay of the first (200,
/// `isReplay: true`): the client believes a payment was queued that never will be.
#[tokio::test]
async fn a_remittance_id_reused_for_another_payment_is_refused() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let (checking, beneficiary) = remittance_setup(&app, &demo).await;
        let first = json!({ "sourceAccountId": checking, "AFiBeneficiaryId": beneficiary,
                            "amount": "10.00", "currency": "USD" });
        app.post_json("/remittance/inv-1", demo.token(), &first)
            .await
            .success();
        let mut other = first.clone();
        other["amount"] = json!("99.00");
        let resp = app
            .post_json("/remittance/inv-1", demo.token(), &other)
            .await;
        resp.error(422, "REMITTANCE_ID_REUSED");
        assert_eq!(
            app.balance(&demo, &checking).await,
            pair("1000.00", "990.00")
        );
        app.stop().await;
    }
}
