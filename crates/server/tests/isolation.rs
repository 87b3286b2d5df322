//! One user can never reach another's objects: every route that takes an object id answers demo2 with
//! 404 for demo's ids (never 403, so their existence is not revealed), and demo's objects are unchanged
//! afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{engines, json, Resp, TestApp};
use serde_json::Value;

/// What demo's objects look like, for comparing before and after.
async fn snapshot(app: &TestApp) -> Value {
    let ids = app.demo_objects(&app.demo).await;
    let mut accounts = app.accounts(&app.demo).await;
    let mut cards = app.cards(&app.demo).await;
    let by_id =
        |key: &'static str| move |a: &Value, b: &Value| a[key].as_str().cmp(&b[key].as_str());
    accounts.sort_by(by_id("AFiAccountId"));
    cards.sort_by(by_id("AFiCardId"));
    let latest = app.latest(&app.demo, &ids.checking).await;
    let devices = app.get("/devices", app.demo.token()).await.success()["devices"].clone();
    json!({ "accounts": accounts, "cards": cards, "latest": latest, "devices": devices })
}

#[track_caller]
fn not_found(resp: &Resp, code: &str, what: &str) {
    assert_eq!(
        resp.status, 404,
        "{what}: expected 404, got {}: {}",
        resp.status, resp.text
    );
    assert_eq!(resp.json["code"], code, "{what}: {}", resp.text);
    common::assert_error_body(resp);
}

#[tokio::test]
async fn another_users_objects_are_404_on_every_route() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let ids = app.demo_objects(&app.demo).await;
        let tx = app.latest(&app.demo, &ids.checking).await[0]["transactionId"]
            .as_str()
            .unwrap()
            .to_owned();
        let device = app.get("/devices", app.demo.token()).await.success()["devices"][0]
            ["AFiDeviceId"]
            .as_str()
            .unwrap()
            .to_owned();
        // demo2's own ids, to mix with demo's.
        let own = app.demo_objects(&app.demo2).await;
        let before = snapshot(&app).await;
        let token = app.demo2.token();

        // Accounts and transactions.
        for account in [&ids.checking, &ids.savings, &ids.euro] {
            for prefix in ["/accounts", "/account"] {
                let path = format!("{prefix}/{account}");
                not_found(&app.get(&path, token).await, "ACCOUNT_NOT_FOUND", &path);
                let changes = json!({ "name": "Mine now", "isMain": true, "isHidden": true });
                not_found(
                    &app.post_json(&path, token, &changes).await,
                    "ACCOUNT_NOT_FOUND",
                    &path,
                );
                let path = format!("{prefix}/{account}/transactions/latest");
                not_found(&app.get(&path, token).await, "ACCOUNT_NOT_FOUND", &path);
                let path = format!("{prefix}/{account}/transactions/2024-01-01/2025-12-31");
                not_found(&app.get(&path, token).await, "ACCOUNT_NOT_FOUND", &path);
            }
        }
        let changes = json!({ "changes": { "comment": "mine", "labels": ["stolen"] } });
        for account in [&ids.checking, &own.checking] {
            for (a, t) in [
                ("accounts", "transactions"),
                ("account", "transaction"),
                ("accounts", "transaction"),
                ("account", "transactions"),
            ] {
                let path = format!("/{a}/{account}/{t}/{tx}");
                not_found(
                    &app.post_json(&path, token, &changes).await,
                    "TRANSACTION_NOT_FOUND",
                    &path,
                );
            }
        }

        // Cards, under both spellings.
        for card in [&ids.checking_card, &ids.savings_card] {
            for prefix in ["/cards", "/card"] {
                let path = format!("{prefix}/{card}");
                not_found(&app.get(&path, token).await, "CARD_NOT_FOUND", &path);
                let changes = json!({ "name": "Mine", "isMain": "true" });
                not_found(
                    &app.post_json(&path, token, &changes).await,
                    "CARD_NOT_FOUND",
                    &path,
                );
                let path = format!("{prefix}/{card}/activate");
                not_found(&app.post_empty(&path, token).await, "CARD_NOT_FOUND", &path);
                for onoff in ["on", "off"] {
                    let path = format!("{prefix}/{card}/{onoff}");
                    let resp = app.post_empty(&path, token).await;
                    not_found(&resp, "CARD_NOT_FOUND", &path);
                    assert_eq!(resp.json["message"], "Card not found");
                }
                let path = format!("{prefix}/{card}/pin");
                let pin = json!({ "pin": "12345678" });
                not_found(
                    &app.post_json(&path, token, &pin).await,
                    "CARD_NOT_FOUND",
                    &path,
                );
                let path = format!("{prefix}/{card}/reissue");
                for reason in ["lost", "stolen"] {
                    let body = json!({ "reason": reason });
                    not_found(
                        &app.post_json(&path, token, &body).await,
                        "CARD_NOT_FOUND",
                        &path,
                    );
                }
                let path = format!("{prefix}/{card}/restriction");
                let restriction = json!({ "AFiCardId": card, "dayOfWeek": { "0": false }, "restrictedMCCs": { "5411": true } });
                not_found(
                    &app.post_json(&path, token, &restriction).await,
                    "CARD_NOT_FOUND",
                    &path,
                );
            }
        }

        // Devices.
        for body in [
            json!([{ "AFiLinkLinkId": device, "isActive": false }]),
            json!([{ "AFiLinkLinkId": device }]),
        ] {
            let resp = app.post_json("/authenticateddevices", token, &body).await;
            not_found(&resp, "DEVICE_NOT_FOUND", "/authenticateddevices");
        }

        // Nothing of demo's changed, and demo's session still works.
        let after = snapshot(&app).await;
        assert_eq!(before, after);
        app.get("/user", app.demo.token()).await.success();

        // The other way round too, for a sample of routes.
        let own_path = format!("/cards/{}/off", own.checking_card);
        not_found(
            &app.post_empty(&own_path, app.demo.token()).await,
            "CARD_NOT_FOUND",
            &own_path,
        );
        let own_path = format!("/accounts/{}", own.checking);
        not_found(
            &app.get(&own_path, app.demo.token()).await,
            "ACCOUNT_NOT_FOUND",
            &own_path,
        );
        // demo2 still reaches its own objects.
        app.get(&format!("/cards/{}", own.checking_card), token)
            .await
            .success();
        app.get(&format!("/accounts/{}", own.checking), token)
            .await
            .success();
        let card = app
            .get(&format!("/cards/{}", own.checking_card), token)
            .await;
        assert_eq!(card.success()["card"]["status"], "active");
        app.stop().await;
    }
}

#[tokio::test]
async fn another_users_money_routes_are_404_and_move_nothing() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let ids = app.demo_objects(&app.demo).await;
        let own = app.demo_objects(&app.demo2).await;
        let beneficiary = json!({ "txnType": "USA", "name": "Landlord", "bankName": "First Bank",
            "destinationName": "Lee Landlord", "type": "CHECKING", "routingNumber": "021000021",
            "accountNumber": "123456789" });
        let added = app
            .put_json("/beneficiaries", app.demo.token(), &beneficiary)
            .await;
        let beneficiary_id = added.success()["beneficiary"]["AFiBeneficiaryId"]
            .as_str()
            .unwrap()
            .to_owned();
        let transfer = json!({ "srcAcc": ids.checking, "dstAcc": ids.savings, "amount": 5, "currency": "USD" });
        let queued = app
            .post_json("/transfer/acc2acc", app.demo.token(), &transfer)
            .await;
        let undo_id = queued.success()["undo"]["id"].as_str().unwrap().to_owned();
        let balances_before = (
            app.balance(&app.demo, &ids.checking).await,
            app.balance(&app.demo, &ids.savings).await,
        );
        let token = app.demo2.token();

        for (from, to) in [
            (&ids.checking, &ids.savings),
            (&ids.checking, &own.savings),
            (&own.checking, &ids.savings),
        ] {
            let body = json!({ "srcAcc": from, "dstAcc": to, "amount": 1, "currency": "USD" });
            for path in ["/transfer/acc2acc", "/remittance/creditCardPayment"] {
                not_found(
                    &app.post_json(path, token, &body).await,
                    "ACCOUNT_NOT_FOUND",
                    path,
                );
            }
        }
        let payment = json!({ "sourceAccountId": own.checking, "AFiBeneficiaryId": beneficiary_id,
            "amount": 1, "currency": "USD" });
        let path = "/remittance/rent-1";
        not_found(
            &app.post_json(path, token, &payment).await,
            "BENEFICIARY_NOT_FOUND",
            path,
        );
        let path = format!("/transfer/acc2ben/{beneficiary_id}");
        not_found(
            &app.post_json(&path, token, &payment).await,
            "BENEFICIARY_NOT_FOUND",
            &path,
        );
        let path = format!("/beneficiary/{beneficiary_id}");
        let rename = json!({ "name": "Mine" });
        not_found(
            &app.post_json(&path, token, &rename).await,
            "BENEFICIARY_NOT_FOUND",
            &path,
        );
        not_found(
            &app.delete(&path, token).await,
            "BENEFICIARY_NOT_FOUND",
            &path,
        );
        let path = format!("/undo/{undo_id}");
        not_found(&app.get(&path, token).await, "UNDO_NOT_FOUND", &path);
        not_found(&app.delete(&path, token).await, "UNDO_NOT_FOUND", &path);
        let path = format!("/undo/now/{undo_id}");
        not_found(&app.post_empty(&path, token).await, "UNDO_NOT_FOUND", &path);
        // demo2's own lists show nothing of demo's.
        let theirs = app.get("/beneficiaries", token).await;
        assert!(theirs.success()["beneficiaries"]
            .as_array()
            .unwrap()
            .is_empty());
        let theirs = app.get("/undo", token).await;
        assert!(theirs.success()["undos"].as_array().unwrap().is_empty());
        let all_now = app.post_empty("/undo/now", token).await;
        assert!(all_now.success()["undos"].as_array().unwrap().is_empty());

        // demo's transfer still waits, its hold unchanged, its beneficiary intact.
        let undo = app.get(&format!("/undo/{undo_id}"), app.demo.token()).await;
        assert_eq!(undo.success()["undo"]["state"], "waiting");
        let balances_after = (
            app.balance(&app.demo, &ids.checking).await,
            app.balance(&app.demo, &ids.savings).await,
        );
        assert_eq!(balances_before, balances_after);
        let mine = app.get("/beneficiaries", app.demo.token()).await;
        assert_eq!(mine.success()["beneficiaries"][0]["name"], "Landlord");
        app.stop().await;
    }
}

#[tokio::test]
async fn admin_purchases_land_only_on_the_card_owners_account() {
    // A purchase on demo's card lands on demo's account and never shows in demo2's lists.
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let ids = app.demo_objects(&app.demo).await;
        let own = app.demo_objects(&app.demo2).await;
        let resp = app
            .authorize(&ids.checking_card, "10.00", "5411", json!({}))
            .await;
        assert_eq!(resp.success()["approved"], true);
        let theirs = app.latest(&app.demo2, &own.checking).await;
        assert_eq!(theirs.len(), 4);
        assert!(theirs
            .iter()
            .all(|t| t["AFiUserId"] == app.demo2.user_id.as_str()));
        let mine = app.latest(&app.demo, &ids.checking).await;
        assert_eq!(mine.len(), 5);
        let account = app
            .get(&format!("/accounts/{}", own.checking), app.demo2.token())
            .await;
        assert!(
            account.text.contains("\"available\":1000.00"),
            "{}",
            account.text
        );
        app.stop().await;
    }
}
