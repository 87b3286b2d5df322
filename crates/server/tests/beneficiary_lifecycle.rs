//! The life of a beneficiary after it is added: the queued deletion (`DELETE /beneficiary/:id`, 120 s
//! undo window, one queue entry however often it is asked for, payable until the window ends and gone
//! after, kept when cancelled) and a renewed card beneficiary, vaulted again so its new expiry is paid.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::money::pair;
use common::money::{ach_beneficiary, beneficiary_id};
use common::{assert_no_full_pan, engines, json, Session, TestApp};
use serde_json::Value;
use time::Duration;

fn international() -> Value {
    json!({ "txnType": "international", "bic": "COBADEFFXXX", "iban": "DE89370400440532013000" })
}

fn tocard(expiry: &str) -> Value {
    json!({ "txnType": "tocard", "destinationPAN": "4111111111111111", "expiryYYYYMM": expiry,
            "destinationFirstName": "Grace", "destinationLastName": "Hopper" })
}

async fn listed(app: &TestApp, who: &Session) -> Vec<Value> {
    let resp = app.get("/beneficiaries", who.token()).await;
    resp.success()["beneficiaries"].as_array().unwrap().clone()
}

#[tokio::test]
async fn deletion_is_queued_for_two_minutes_and_stays_payable_until_then() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        let added = app.add_beneficiary(&demo, &ach_beneficiary()).await;
        let id = beneficiary_id(&added);
        let path = format!("/beneficiary/{id}");

        let resp = app.delete(&path, demo.token()).await;
        let body = resp.success();
        assert_eq!(body["text"], "queued the beneficiary deletion");
        let undo = &body["undo"];
        let undo_id = undo["id"].as_str().unwrap().to_owned();
        assert_eq!(undo_id.len(), 5, "{body}");
        assert!(undo_id.bytes().all(|b| b.is_ascii_lowercase()), "{body}");
        assert_eq!(undo["isActionable"], false);
        assert_eq!(undo["dtsQueued"], "2025-01-15T12:00:00.000Z");
        assert_eq!(undo["dtsExpiry"], "2025-01-15T12:02:00.000Z");
        assert_eq!(undo["kind"], "beneficiary_deletion");

        // Asking again within the window answers the same queued deletion.
        let again = app.delete(&path, demo.token()).await;
        assert_eq!(again.success()["undo"]["id"], json!(undo_id));
        let pending = app.get("/undo", demo.token()).await;
        assert_eq!(
            pending.success()["undos"].as_array().unwrap().len(),
            1,
            "{}",
            pending.text
        );

        // Still listed and payable during the window.
        app.clock.advance(Duration::seconds(119));
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert_eq!(
            app.wait_for_undo(&demo, &undo_id, &["waiting"]).await["state"],
            "waiting"
        );
        assert_eq!(listed(&app, &demo).await, vec![added.clone()]);
        app.pay_now(&demo, &ids.checking, &id, "10.00")
            .await
            .success();

        app.clock.advance(Duration::seconds(1));
        let done = app
            .wait_for_undo(&demo, &undo_id, &["done", "failed"])
            .await;
        assert_eq!(done["state"], "done", "{done}");
        assert!(listed(&app, &demo).await.is_empty());
        app.pay_now(&demo, &ids.checking, &id, "10.00")
            .await
            .error(404, "BENEFICIARY_NOT_FOUND");
        app.post_json(&path, demo.token(), &json!({ "name": "back" }))
            .await
            .error(404, "BENEFICIARY_NOT_FOUND");
        app.delete(&path, demo.token())
            .await
            .error(404, "BENEFICIARY_NOT_FOUND");
        // Only the payment made inside the window left the account.
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("990.00", "990.00")
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn deletions_asked_at_once_queue_one_entry() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let added = app.add_beneficiary(&demo, &ach_beneficiary()).await;
        let path = format!("/beneficiary/{}", beneficiary_id(&added));

        let racing = (0..8).map(|_| app.delete(&path, demo.token()));
        let answers = futures::future::join_all(racing).await;
        let undo_ids: Vec<Value> = answers
            .iter()
            .map(|resp| resp.success()["undo"]["id"].clone())
            .collect();
        assert!(undo_ids[0].is_string(), "{}", answers[0].text);
        assert!(
            undo_ids.iter().all(|id| *id == undo_ids[0]),
            "one deletion, one undo id: {undo_ids:?}"
        );
        let pending = app.get("/undo", demo.token()).await;
        let pending = pending.success()["undos"].as_array().unwrap().clone();
        assert_eq!(pending.len(), 1, "{pending:?}");
        assert_eq!(pending[0]["id"], undo_ids[0]);
        app.stop().await;
    }
}

#[tokio::test]
async fn a_cancelled_deletion_keeps_the_beneficiary() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        let added = app.add_beneficiary(&demo, &international()).await;
        let id = beneficiary_id(&added);
        let resp = app
            .delete(&format!("/beneficiary/{id}"), demo.token())
            .await;
        let undo_id = resp.success()["undo"]["id"].as_str().unwrap().to_owned();
        app.clock.advance(Duration::seconds(60));
        let cancelled = app.delete(&format!("/undo/{undo_id}"), demo.token()).await;
        assert_eq!(cancelled.success()["undo"]["isCancelled"], true);

        app.clock.advance(Duration::seconds(300));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(
            app.wait_for_undo(&demo, &undo_id, &["cancelled"]).await["state"],
            "cancelled"
        );
        assert_eq!(listed(&app, &demo).await, vec![added]);
        app.pay_now(&demo, &ids.checking, &id, "5.00")
            .await
            .success();

        // Once cancelled, deleting again queues a fresh deletion.
        let again = app
            .delete(&format!("/beneficiary/{id}"), demo.token())
            .await;
        let again_id = again.success()["undo"]["id"].as_str().unwrap().to_owned();
        assert_ne!(again_id, undo_id);
        app.post_empty(&format!("/undo/now/{again_id}"), demo.token())
            .await
            .success();
        app.wait_for_undo(&demo, &again_id, &["done"]).await;
        assert!(listed(&app, &demo).await.is_empty());
        app.stop().await;
    }
}

#[tokio::test]
async fn a_renewed_card_is_vaulted_again_and_stays_payable() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        let card = app.add_beneficiary(&demo, &tocard("202502")).await;
        let path = format!("/beneficiary/{}", beneficiary_id(&card));

        // A new expiry cannot be taken without the number it belongs to; repeating the kept one can.
        let message = app
            .post_json(&path, demo.token(), &json!({ "expiryYYYYMM": "202812" }))
            .await
            .error(400, "MISSING_FIELD");
        assert!(message.contains("destinationPAN"), "{message}");
        let same = json!({ "expiryMM": "02", "expiryYY": "25", "destinationFirstName": "Amazing" });
        let same = app.post_json(&path, demo.token(), &same).await;
        assert_eq!(same.success()["beneficiary"]["expiryYYYYMM"], "202502");
        assert_eq!(same.json["beneficiary"]["destinationFirstName"], "Amazing");

        // The renewed card: same number, new expiry.
        let renewal = json!({ "destinationPAN": "4111111111111111", "expiryYYYYMM": "202812" });
        let renewed = app.post_json(&path, demo.token(), &renewal).await;
        assert_no_full_pan(&renewed.text);
        let renewed = renewed.success()["beneficiary"].clone();
        assert_eq!(renewed["expiryYYYYMM"], "202812");
        assert_eq!(renewed["destinationPAN"], "4111********1111");

        // In March 2025 the old card has expired; the renewed one is paid.
        app.clock.advance(Duration::days(46));
        let demo = app.login_ok("demo", "demo-password").await;
        let paid = app
            .pay_now(&demo, &ids.checking, &beneficiary_id(&card), "12.34")
            .await;
        assert_no_full_pan(&paid.text);
        paid.success();
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            pair("987.66", "987.66")
        );
        app.stop().await;
    }
}
