//! Beneficiaries (`PUT /beneficiaries`, `GET /beneficiaries`, `POST` and `DELETE /beneficiary/:id`): every
//! rail added with its documented fields and its numbers masked, per-field validation naming the wire
//! field, modify changing only what is sent (and nothing when a change is refused), other users' ids
//! answering 404, and the queued deletion: payable until its 120 s window ends, gone after, kept when
//! cancelled.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::money::beneficiary_id;
use common::{assert_no_full_pan, engines, json, Resp, Session, TestApp};
use serde_json::Value;
use time::Duration;

fn usa(txn_type: &str) -> Value {
    json!({
        "txnType": txn_type, "name": "Landlord", "isFavorite": true, "bankName": "First Bank",
        "destinationName": "Jane Roe", "type": "CHECKING", "routingNumber": "011000015",
        "accountNumber": "123456789"
    })
}

fn international() -> Value {
    json!({ "txnType": "international", "bic": "COBADEFFXXX", "iban": "DE89 3704 0044 0532 0130 00",
            "destinationName": "Max Muster", "bankName": "Commerzbank" })
}

fn tocard() -> Value {
    json!({ "txnType": "tocard", "destinationPAN": "4111 1111 1111 1111", "expiryYYYYMM": "202812",
            "destinationFirstName": "Grace", "destinationLastName": "Hopper" })
}

fn cheque() -> Value {
    json!({ "txnType": "cheque", "legalName": "ACME Corp", "address": {
        "addressLine1": "1 Main St", "city": "Arlington", "province": "Virginia",
        "postalCode": "22201", "state": "va", "country": "us" } })
}

async fn add(app: &TestApp, who: &Session, body: &Value) -> Resp {
    let resp = app.put_json("/beneficiaries", who.token(), body).await;
    assert_no_full_pan(&resp.text);
    resp
}

async fn listed(app: &TestApp, who: &Session) -> Vec<Value> {
    let resp = app.get("/beneficiaries", who.token()).await;
    assert_no_full_pan(&resp.text);
    resp.success()["beneficiaries"].as_array().unwrap().clone()
}

#[tokio::test]
async fn every_rail_is_added_with_its_fields_and_numbers_masked() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();

        let ach = app.add_beneficiary(&demo, &usa("USA")).await;
        assert!(beneficiary_id(&ach).starts_with("bg"), "{ach}");
        assert_eq!(ach["id"], ach["AFiBeneficiaryId"]);
        assert_eq!(ach["AFiUserId"], json!(demo.user_id));
        assert_eq!(ach["txnType"], "USA");
        assert_eq!(ach["typeName"], "USA interbank transfer");
        assert_eq!(ach["name"], "Landlord");
        assert_eq!(ach["isFavourite"], true);
        assert_eq!(ach["isActive"], true);
        assert_eq!(ach["isDeleted"], false);
        assert_eq!(ach["status"], "active");
        assert_eq!(ach["accountNumber"], "****6789");
        assert_eq!(ach["routingNumber"], "011000015");
        assert_eq!(ach["type"], "CHECKING");
        assert_eq!(ach["bankName"], "First Bank");
        assert_eq!(ach["destinationName"], "Jane Roe");
        assert_eq!(ach["dtsCreated"], "2025-01-15T12:00:00.000Z");

        let wire = app.add_beneficiary(&demo, &usa("USA_wire")).await;
        assert_eq!(wire["txnType"], "USA_wire");
        assert_eq!(wire["typeName"], "USA wire transfer");
        assert_eq!(wire["accountNumber"], "****6789");

        let swift = app.add_beneficiary(&demo, &international()).await;
        assert_eq!(swift["txnType"], "international");
        assert_eq!(swift["typeName"], "International transfer");
        assert_eq!(swift["bic"], "COBADEFFXXX");
        assert_eq!(swift["iban"], "DE************3000");
        // No name given: the destination names it; isFavorite defaults to false.
        assert_eq!(swift["name"], "Max Muster");
        assert_eq!(swift["isFavourite"], false);

        let paypal =
            json!({ "txnType": "paypal", "paypalId": "+1 (415) 555-0123", "isFavourite": "true" });
        let paypal = app.add_beneficiary(&demo, &paypal).await;
        assert_eq!(paypal["typeName"], "PayPal");
        assert_eq!(paypal["paypalId"], "+14155550123");
        assert_eq!(paypal["isFavourite"], true);

        let card = app.add_beneficiary(&demo, &tocard()).await;
        assert_eq!(card["txnType"], "tocard");
        assert_eq!(card["typeName"], "Card");
        assert_eq!(card["destinationPAN"], "4111********1111");
        assert_eq!(card["expiryYYYYMM"], "202812");
        assert_eq!(card["expiryMM"], "12");
        assert_eq!(card["expiryYY"], "28");
        assert_eq!(card["name"], "Grace Hopper");

        let post = app.add_beneficiary(&demo, &cheque()).await;
        assert_eq!(post["typeName"], "Cheque");
        assert_eq!(post["legalName"], "ACME Corp");
        assert_eq!(
            post["address"],
            json!({ "type": null, "addressLine1": "1 Main St", "addressLine2": null, "city": "Arlington",
                    "state": "VA", "province": "Virginia", "postalCode": "22201", "country": "US" })
        );

        // All of them are listed, to their owner only, and no number is shown whole.
        let all = [&ach, &wire, &swift, &paypal, &card, &post];
        let list = listed(&app, &demo).await;
        assert_eq!(list.len(), all.len(), "{list:?}");
        for added in all {
            let found: Vec<&Value> = list.iter().filter(|b| b["id"] == added["id"]).collect();
            assert_eq!(found, vec![added]);
        }
        let text = app.get("/beneficiaries", demo.token()).await.text;
        assert!(!text.contains("123456789"), "{text}");
        assert!(!text.contains("0532013000"), "{text}");
        assert!(listed(&app, &app.demo2.clone()).await.is_empty());
        app.stop().await;
    }
}

/// A valid body of the rail, to spoil one field of.
fn valid(rail: &str) -> Value {
    match rail {
        "international" => international(),
        "tocard" => tocard(),
        "cheque" => cheque(),
        "paypal" => json!({ "txnType": "paypal", "paypalId": "g@example.com" }),
        other => usa(other),
    }
}

#[tokio::test]
async fn invalid_beneficiaries_are_refused_naming_the_field() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let (invalid, missing) = ("INVALID_BENEFICIARY", "MISSING_FIELD");
        // (rail, field, value, code): the field is spoiled (null removes it) and must be named.
        let cases = [
            ("USA", "routingNumber", json!("011000016"), invalid),
            ("USA_wire", "routingNumber", json!("01100001"), invalid),
            ("USA", "type", json!("BROKERAGE"), invalid),
            ("USA", "accountNumber", json!("12ab"), invalid),
            (
                "international",
                "iban",
                json!("DE89370400440532013001"),
                invalid,
            ),
            ("international", "bic", json!("COB1DEFF"), invalid),
            (
                "tocard",
                "destinationPAN",
                json!("4111111111111112"),
                invalid,
            ),
            ("tocard", "expiryYYYYMM", json!("202412"), invalid),
            ("paypal", "paypalId", json!("not an address@"), invalid),
            ("cheque", "address", Value::Null, missing),
            ("USA", "bankName", json!("  "), missing),
            ("international", "bic", Value::Null, missing),
            ("tocard", "destinationFirstName", Value::Null, missing),
            ("USA", "txnType", Value::Null, missing),
            ("USA", "txnType", json!("wire"), invalid),
        ];
        for (rail, field, value, code) in cases {
            let mut body = valid(rail);
            match value {
                Value::Null => body.as_object_mut().unwrap().remove(field),
                value => body
                    .as_object_mut()
                    .unwrap()
                    .insert(field.to_owned(), value),
            };
            let message = add(&app, &demo, &body).await.error(400, code);
            assert!(
                message.contains(field),
                "{field} not named for {body}: {message}"
            );
        }
        // The refused card number is not echoed back.
        let mut body = tocard();
        body["destinationPAN"] = json!("4111111111111112");
        let resp = add(&app, &demo, &body).await;
        assert!(!resp.text.contains("411111111111"), "{}", resp.text);
        assert!(listed(&app, &demo).await.is_empty());
        app.stop().await;
    }
}

#[tokio::test]
async fn default_amounts_keep_their_currency() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let defaults = |b: &Value| (b["defaultAmount"].clone(), b["defaultCurrency"].clone());
        let body = json!({ "txnType": "paypal", "paypalId": "g@example.com", "defaultAmount": 25.5,
                           "defaultCurrency": "EUR" });
        let added = app.add_beneficiary(&demo, &body).await;
        assert_eq!(defaults(&added), (json!(25.5), json!("EUR")));
        let path = format!("/beneficiary/{}", beneficiary_id(&added));
        let steps = [
            (json!({ "defaultAmount": "7" }), json!(7.0), json!("EUR")),
            (
                json!({ "defaultCurrency": "GBP" }),
                json!(7.0),
                json!("GBP"),
            ),
            (
                json!({ "defaultAmount": 3, "defaultCurrency": "USD" }),
                json!(3.0),
                json!("USD"),
            ),
            (json!({ "defaultAmount": null }), Value::Null, Value::Null),
            (
                json!({ "defaultCurrency": "EUR" }),
                json!(0.0),
                json!("EUR"),
            ),
        ];
        for (changes, amount, currency) in steps {
            let resp = app.post_json(&path, demo.token(), &changes).await;
            let changed = &resp.success()["beneficiary"];
            assert_eq!(defaults(changed), (amount, currency), "after {changes}");
        }
        for (changes, code) in [
            (json!({ "defaultAmount": "1.001" }), "INVALID_AMOUNT"),
            (json!({ "defaultAmount": -1 }), "INVALID_AMOUNT"),
            (json!({ "defaultCurrency": "euro" }), "INVALID_CURRENCY"),
        ] {
            let message = app
                .post_json(&path, demo.token(), &changes)
                .await
                .error(400, code);
            assert!(
                message.contains("defaultAmount") || code == "INVALID_CURRENCY",
                "{message}"
            );
        }
        let list = listed(&app, &demo).await;
        assert_eq!(defaults(&list[0]), (json!(0.0), json!("EUR")));
        // Without a currency the amount is in USD.
        let body =
            json!({ "txnType": "paypal", "paypalId": "h@example.com", "defaultAmount": "12.50" });
        assert_eq!(
            defaults(&app.add_beneficiary(&demo, &body).await),
            (json!(12.5), json!("USD"))
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn modify_changes_only_editable_fields_and_nothing_when_refused() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let added = app.add_beneficiary(&demo, &usa("USA")).await;
        let id = beneficiary_id(&added);
        let path = format!("/beneficiary/{id}");
        app.clock.advance(Duration::seconds(5));

        let changes = json!({ "name": "  New landlord ", "isFavourite": false, "txnType": "paypal",
                              "AFiUserId": app.demo2.user_id, "dtsCreated": "2000-01-01T00:00:00.000Z" });
        let changed = app.post_json(&path, demo.token(), &changes).await;
        let changed = changed.success()["beneficiary"].clone();
        let mut expected = added.clone();
        expected["name"] = json!("New landlord");
        expected["isFavourite"] = json!(false);
        expected["dtsModified"] = json!("2025-01-15T12:00:05.000Z");
        assert_eq!(changed, expected);

        // The US spelling works here too; a new routing number is checked and kept.
        let changes = json!({ "isFavorite": "true", "routingNumber": "021000021" });
        let changed = app.post_json(&path, demo.token(), &changes).await;
        let changed = changed.success()["beneficiary"].clone();
        expected["isFavourite"] = json!(true);
        expected["routingNumber"] = json!("021000021");
        assert_eq!(changed, expected);

        // A bad routing number refuses the whole change.
        let refused = json!({ "name": "Should not stick", "routingNumber": "021000022" });
        let message = app
            .post_json(&path, demo.token(), &refused)
            .await
            .error(400, "INVALID_BENEFICIARY");
        assert!(message.contains("routingNumber"), "{message}");
        let short = json!({ "routingNumber": "12345" });
        app.post_json(&path, demo.token(), &short)
            .await
            .error(400, "INVALID_BENEFICIARY");
        assert_eq!(listed(&app, &demo).await, vec![expected.clone()]);

        // A card's holder name changes without its number; the number stays masked.
        let card = app.add_beneficiary(&demo, &tocard()).await;
        let card_path = format!("/beneficiary/{}", beneficiary_id(&card));
        let renamed = app
            .post_json(
                &card_path,
                demo.token(),
                &json!({ "destinationLastName": "Murray" }),
            )
            .await;
        assert_no_full_pan(&renamed.text);
        let renamed = renamed.success()["beneficiary"].clone();
        assert_eq!(renamed["destinationLastName"], "Murray");
        assert_eq!(renamed["destinationPAN"], "4111********1111");
        app.stop().await;
    }
}

#[tokio::test]
async fn another_users_beneficiary_is_not_found() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (demo, demo2) = (app.demo.clone(), app.demo2.clone());
        let theirs = app.add_beneficiary(&demo, &usa("USA")).await;
        let path = format!("/beneficiary/{}", beneficiary_id(&theirs));
        let other = app.demo_objects(&demo2).await;

        for resp in [
            app.post_json(&path, demo2.token(), &json!({})).await,
            app.post_json(&path, demo2.token(), &json!({ "name": "Mine now" }))
                .await,
            app.delete(&path, demo2.token()).await,
            app.pay_now(&demo2, &other.checking, &beneficiary_id(&theirs), "1.00")
                .await,
            app.post_json(
                "/beneficiary/bgnosuchthing",
                demo.token(),
                &json!({ "name": "x" }),
            )
            .await,
            app.delete("/beneficiary/bgnosuchthing", demo.token()).await,
        ] {
            resp.error(404, "BENEFICIARY_NOT_FOUND");
        }
        let remittance = json!({ "sourceAccountId": other.checking, "AFiBeneficiaryId": beneficiary_id(&theirs),
                                 "amount": "1.00", "currency": "USD" });
        app.post_json("/remittance/theft-1", demo2.token(), &remittance)
            .await
            .error(404, "BENEFICIARY_NOT_FOUND");
        // Nothing changed for the owner, nothing was queued, nothing was paid.
        assert_eq!(listed(&app, &demo).await, vec![theirs]);
        assert!(app.get("/undo", demo2.token()).await.success()["undos"]
            .as_array()
            .unwrap()
            .is_empty());
        assert_eq!(
            app.balance(&demo2, &other.checking).await,
            ("1000.00".to_owned(), "1000.00".to_owned())
        );
        app.stop().await;
    }
}
