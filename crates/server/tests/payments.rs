//! Payments to beneficiaries: the generic remittance (`POST /remittance/:AFiRemittanceId`, queued and
//! undoable, held from acceptance, paid when its window ends, the client's id making repeats harmless)
//! and `POST /transfer/acc2ben/:AFiBeneficiaryId` (paid at once, answering the statement line's ids),
//! with their body variants and refusals.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::money::{ach_beneficiary, beneficiary_id};
use common::{assert_no_full_pan, engines, json, Resp, Session, TestApp};
use serde_json::Value;
use time::Duration;

/// An account's balance as "native/available", exactly as written on the wire.
async fn held(app: &TestApp, who: &Session, account: &str) -> String {
    let (native, available) = app.balance(who, account).await;
    format!("{native}/{available}")
}

async fn ach(app: &TestApp, who: &Session) -> String {
    beneficiary_id(&app.add_beneficiary(who, &ach_beneficiary()).await)
}

async fn remit(app: &TestApp, who: &Session, remittance_id: &str, body: &Value) -> Resp {
    app.post_json(&format!("/remittance/{remittance_id}"), who.token(), body)
        .await
}

/// The lines of `account` whose reference is `reference`.
async fn lines_of(app: &TestApp, who: &Session, account: &str, reference: &str) -> Vec<Value> {
    app.latest(who, account)
        .await
        .into_iter()
        .filter(|t| t["reference"] == reference)
        .collect()
}

async fn undo_count(app: &TestApp, who: &Session) -> usize {
    let resp = app.get("/undo", who.token()).await;
    resp.success()["undos"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_remittance_is_held_then_paid_once_whatever_the_repeats() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        let beneficiary = ach(&app, &demo).await;
        let body = json!({ "sourceAccountId": ids.checking, "AFiBeneficiaryId": beneficiary,
                           "amount": "120.00", "currency": "USD", "narrativeDebit": "Rent",
                           "txnType": "USA", "extrasDebit": "x" });
        let first = remit(&app, &demo, "rent-2025-01", &body).await;
        let first = first.success().clone();
        assert_eq!(first["AFiRemittanceId"], "rent-2025-01");
        assert_eq!(first["isReplay"], false);
        let undo = &first["undo"];
        let undo_id = undo["id"].as_str().unwrap().to_owned();
        assert_eq!(undo_id.len(), 5, "{first}");
        assert!(undo_id.bytes().all(|b| b.is_ascii_lowercase()), "{first}");
        assert_eq!(undo["isActionable"], false);
        assert_eq!(undo["dtsQueued"], "2025-01-15T12:00:00.000Z");
        assert_eq!(undo["dtsExpiry"], "2025-01-15T12:00:10.000Z");
        assert_eq!(undo["kind"], "remittance");
        assert_eq!(undo["reference"], first["reference"]);
        let reference = first["reference"].as_str().unwrap().to_owned();

        // Held at once; nothing has left yet.
        assert_eq!(held(&app, &demo, &ids.checking).await, "1000.00/880.00");
        assert!(lines_of(&app, &demo, &ids.checking, &reference)
            .await
            .is_empty());

        // The same id again answers the first job and holds nothing more.
        let again = remit(&app, &demo, "rent-2025-01", &body).await;
        let again = again.success();
        assert_eq!(again["isReplay"], true);
        assert_eq!(again["undo"]["id"], json!(undo_id));
        assert_eq!(again["reference"], json!(reference));
        assert_eq!(held(&app, &demo, &ids.checking).await, "1000.00/880.00");
        assert_eq!(undo_count(&app, &demo).await, 1);

        app.clock.advance(Duration::seconds(10));
        let done = app
            .wait_for_undo(&demo, &undo_id, &["done", "failed"])
            .await;
        assert_eq!(done["state"], "done", "{done}");
        assert_eq!(held(&app, &demo, &ids.checking).await, "880.00/880.00");
        let lines = lines_of(&app, &demo, &ids.checking, &reference).await;
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        assert_eq!(line["AFiBeneficiaryId"], json!(beneficiary));
        assert_eq!(line["amount"], json!(-120.0));
        assert_eq!(line["debit"], json!(120.0));
        assert_eq!(line["credit"], json!(0.0));
        assert_eq!(line["currency"], "USD");
        assert_eq!(line["narrative"], "Rent");
        assert_eq!(line["sourceAFiAccountId"], json!(ids.checking));
        assert_eq!(line["destinationAFiAccountId"], Value::Null);
        assert_eq!(line["transactionState"], "confirmed");
        assert_no_full_pan(
            &app.get(
                &format!("/accounts/{}/transactions/latest", ids.checking),
                demo.token(),
            )
            .await
            .text,
        );

        // A repeat after it ran still pays nothing.
        let late = remit(&app, &demo, "rent-2025-01", &body).await;
        let late = late.success();
        assert_eq!(late["isReplay"], true);
        assert_eq!(late["undo"]["state"], "done");
        app.clock.advance(Duration::seconds(60));
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert_eq!(held(&app, &demo, &ids.checking).await, "880.00/880.00");
        assert_eq!(
            lines_of(&app, &demo, &ids.checking, &reference).await.len(),
            1
        );

        // Another id is another payment.
        let next = remit(&app, &demo, "rent-2025-02", &body).await;
        assert_eq!(next.success()["isReplay"], false);
        assert_ne!(next.json["undo"]["id"], json!(undo_id));
        assert_eq!(held(&app, &demo, &ids.checking).await, "880.00/760.00");
        app.stop().await;
    }
}

#[tokio::test]
async fn remittance_variants_refusals_and_cancel() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (demo, demo2) = (app.demo.clone(), app.demo2.clone());
        let ids = app.demo_objects(&demo).await;
        let other = app.demo_objects(&demo2).await;
        let beneficiary = ach(&app, &demo).await;
        let foreign_beneficiary = ach(&app, &demo2).await;

        // Schema 2: sourceAFiAccountId, and an amount as a JSON number.
        let body = json!({ "sourceAFiAccountId": ids.savings, "AFiBeneficiaryId": beneficiary,
                           "amount": 50, "currency": "USD" });
        let queued = remit(&app, &demo, "from-savings", &body).await;
        let savings_undo = queued.success()["undo"]["id"].as_str().unwrap().to_owned();
        assert_eq!(held(&app, &demo, &ids.savings).await, "500.00/450.00");

        let with = |source: &str, beneficiary: &str, amount: Value, currency: &str| {
            json!({ "sourceAccountId": source, "AFiBeneficiaryId": beneficiary,
                    "amount": amount, "currency": currency })
        };
        let cases = [
            (
                with(&ids.checking, &beneficiary, json!("10.00"), "EUR"),
                400,
                "CURRENCY_MISMATCH",
            ),
            (
                with(&ids.euro, &beneficiary, json!("10.00"), "USD"),
                400,
                "CURRENCY_MISMATCH",
            ),
            (
                with(&ids.checking, &beneficiary, json!("1000.01"), "USD"),
                409,
                "INSUFFICIENT_FUNDS",
            ),
            (
                with(&ids.checking, &beneficiary, json!(0), "USD"),
                400,
                "INVALID_AMOUNT",
            ),
            (
                with(&other.checking, &beneficiary, json!("1.00"), "USD"),
                404,
                "ACCOUNT_NOT_FOUND",
            ),
            (
                with(&ids.checking, &foreign_beneficiary, json!("1.00"), "USD"),
                404,
                "BENEFICIARY_NOT_FOUND",
            ),
            (
                json!({ "sourceAccountId": ids.checking, "amount": 1, "currency": "USD" }),
                400,
                "MISSING_FIELD",
            ),
            (
                json!({ "AFiBeneficiaryId": beneficiary, "amount": 1, "currency": "USD" }),
                400,
                "MISSING_FIELD",
            ),
        ];
        for (i, (body, status, code)) in cases.into_iter().enumerate() {
            let resp = remit(&app, &demo, &format!("refused-{i}"), &body).await;
            resp.error(status, code);
        }
        let too_long = "r".repeat(65);
        remit(
            &app,
            &demo,
            &too_long,
            &with(&ids.checking, &beneficiary, json!(1), "USD"),
        )
        .await
        .error(400, "INVALID_REMITTANCE_ID");

        // Nothing refused was held or queued, and a refused id can be used once the payment is right.
        assert_eq!(held(&app, &demo, &ids.checking).await, "1000.00/1000.00");
        assert_eq!(undo_count(&app, &demo).await, 1);
        let retried = remit(
            &app,
            &demo,
            "refused-2",
            &with(&ids.checking, &beneficiary, json!("999.99"), "USD"),
        )
        .await;
        assert_eq!(retried.success()["isReplay"], false);
        assert_eq!(held(&app, &demo, &ids.checking).await, "1000.00/0.01");
        // demo2 may use the same remittance id for a payment of their own.
        let theirs = with(&other.checking, &foreign_beneficiary, json!("5.00"), "USD");
        assert_eq!(
            remit(&app, &demo2, "refused-2", &theirs).await.success()["isReplay"],
            false
        );

        // Cancelling releases the hold; nothing is paid when the window would have ended.
        let retried_undo = retried.json["undo"]["id"].as_str().unwrap();
        app.delete(&format!("/undo/{retried_undo}"), demo.token())
            .await
            .success();
        assert_eq!(held(&app, &demo, &ids.checking).await, "1000.00/1000.00");
        app.clock.advance(Duration::seconds(10));
        app.wait_for_undo(&demo, &savings_undo, &["done"]).await;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert_eq!(held(&app, &demo, &ids.checking).await, "1000.00/1000.00");
        assert_eq!(held(&app, &demo, &ids.savings).await, "450.00/450.00");
        assert_eq!(held(&app, &demo2, &other.checking).await, "995.00/995.00");
        app.stop().await;
    }
}

#[tokio::test]
async fn acc2ben_pays_at_once_and_names_its_statement_line() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        let beneficiary = ach(&app, &demo).await;
        let path = format!("/transfer/acc2ben/{beneficiary}");
        let body = json!({ "sourceAccountId": ids.checking, "amount": 25, "currency": "USD",
                           "narrativeDebit": "Invoice 7" });
        let resp = app.post_json(&path, demo.token(), &body).await;
        let paid = resp.success().clone();
        assert_eq!(paid["amount"], json!(25.0));
        assert_eq!(paid["currency"], "USD");
        assert_eq!(paid["dtsCompleted"], "2025-01-15T12:00:00.000Z");
        assert!(paid.get("undo").is_none(), "{paid}");
        let transaction_id = paid["transactionId"].as_str().unwrap();
        assert!(!paid["transactionIdBO"].as_str().unwrap().is_empty());

        // Done without the clock moving, and nothing left to undo.
        assert_eq!(held(&app, &demo, &ids.checking).await, "975.00/975.00");
        assert_eq!(undo_count(&app, &demo).await, 0);
        let latest = app.latest(&demo, &ids.checking).await;
        let line = latest
            .iter()
            .find(|t| t["transactionId"] == transaction_id)
            .unwrap_or_else(|| panic!("{transaction_id} not in {latest:?}"));
        assert_eq!(line["id"], json!(transaction_id));
        assert_eq!(line["transactionIdBO"], paid["transactionIdBO"]);
        assert_eq!(line["reference"], paid["reference"]);
        assert_eq!(line["AFiBeneficiaryId"], json!(beneficiary));
        assert_eq!(line["amount"], json!(-25.0));
        assert_eq!(line["narrative"], "Invoice 7");

        // The other spellings of the source, and the beneficiary repeated in the body.
        let variants = [
            json!({ "srcAcc": ids.checking, "amount": "1.00", "currency": "USD" }),
            json!({ "sourceAFiAccountId": ids.checking, "AFiBeneficiaryId": beneficiary, "amount": "1.00", "currency": "USD" }),
        ];
        for body in variants {
            app.post_json(&path, demo.token(), &body).await.success();
        }
        assert_eq!(held(&app, &demo, &ids.checking).await, "973.00/973.00");

        // A card beneficiary, paid from the other bank; a PayPal one in euros from the euro account.
        let card = beneficiary_id(
            &app.add_beneficiary(
                &demo,
                &json!({
            "txnType": "tocard", "destinationPAN": "4111111111111111", "expiryYYYYMM": "202812",
            "destinationFirstName": "Grace", "destinationLastName": "Hopper" }),
            )
            .await,
        );
        let to_card = app
            .post_json(
                &format!("/transfer/acc2ben/{card}"),
                demo.token(),
                &json!({ "sourceAccountId": ids.savings, "amount": "40.00", "currency": "USD" }),
            )
            .await;
        assert_no_full_pan(&to_card.text);
        to_card.success();
        let paypal = beneficiary_id(
            &app.add_beneficiary(
                &demo,
                &json!({ "txnType": "paypal", "paypalId": "g@example.com" }),
            )
            .await,
        );
        app.post_json(
            &format!("/transfer/acc2ben/{paypal}"),
            demo.token(),
            &json!({ "sourceAccountId": ids.euro, "amount": "50.00", "currency": "EUR" }),
        )
        .await
        .success();
        assert_eq!(held(&app, &demo, &ids.savings).await, "460.00/460.00");
        assert_eq!(held(&app, &demo, &ids.euro).await, "150.00/150.00");
        let card_lines = app.latest(&demo, &ids.savings).await;
        assert_eq!(
            card_lines[0]["AFiBeneficiaryId"],
            json!(card),
            "{card_lines:?}"
        );
        assert_no_full_pan(
            &app.get(
                &format!("/accounts/{}/transactions/latest", ids.savings),
                demo.token(),
            )
            .await
            .text,
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn acc2ben_refusals_move_nothing() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (demo, demo2) = (app.demo.clone(), app.demo2.clone());
        let ids = app.demo_objects(&demo).await;
        let other = app.demo_objects(&demo2).await;
        let beneficiary = ach(&app, &demo).await;
        let foreign = ach(&app, &demo2).await;
        let pay = |beneficiary: &str, body: Value| {
            let (app, token, path) = (
                &app,
                demo.token.clone(),
                format!("/transfer/acc2ben/{beneficiary}"),
            );
            async move { app.post_json(&path, Some(&token), &body).await }
        };
        let usd = |source: &str, amount: &str| json!({ "sourceAccountId": source, "amount": amount, "currency": "USD" });
        pay(&foreign, usd(&ids.checking, "1.00"))
            .await
            .error(404, "BENEFICIARY_NOT_FOUND");
        pay("bgnothere", usd(&ids.checking, "1.00"))
            .await
            .error(404, "BENEFICIARY_NOT_FOUND");
        pay(&beneficiary, usd(&other.checking, "1.00"))
            .await
            .error(404, "ACCOUNT_NOT_FOUND");
        pay(&beneficiary, usd(&ids.checking, "1000.01"))
            .await
            .error(409, "INSUFFICIENT_FUNDS");
        pay(&beneficiary, usd(&ids.euro, "1.00"))
            .await
            .error(400, "CURRENCY_MISMATCH");
        pay(&beneficiary, json!({ "sourceAccountId": ids.checking, "AFiBeneficiaryId": foreign, "amount": 1, "currency": "USD" }))
            .await
            .error(400, "BENEFICIARY_MISMATCH");
        pay(&beneficiary, json!({ "amount": 1, "currency": "USD" }))
            .await
            .error(400, "MISSING_FIELD");

        // A queued remittance's hold counts: what it holds cannot be paid out again at once.
        let queued = json!({ "sourceAccountId": ids.checking, "AFiBeneficiaryId": beneficiary,
                             "amount": "900.00", "currency": "USD" });
        remit(&app, &demo, "big-one", &queued).await.success();
        pay(&beneficiary, usd(&ids.checking, "100.01"))
            .await
            .error(409, "INSUFFICIENT_FUNDS");
        pay(&beneficiary, usd(&ids.checking, "100.00"))
            .await
            .success();
        assert_eq!(held(&app, &demo, &ids.checking).await, "900.00/0.00");
        assert_eq!(held(&app, &demo2, &other.checking).await, "1000.00/1000.00");
        app.stop().await;
    }
}
