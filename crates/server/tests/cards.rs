//! Cards: listing and reading (both path spellings), modify, activate, PIN, reissue, restrictions and
//! on/off, with the reference's status codes and messages.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{assert_masked_pan, assert_no_full_pan, engines, json, TestApp};
use serde_json::Value;

#[tokio::test]
async fn list_and_get_cards_with_masked_numbers() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let ids = app.demo_objects(&app.demo).await;
        let resp = app.get("/cards", app.demo.token()).await;
        assert_no_full_pan(&resp.text);
        let body = resp.success();
        let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["cards", "success", "userId"]);
        assert_eq!(body["userId"], json!(app.demo.user_id));
        let cards = body["cards"].as_array().unwrap();
        assert_eq!(cards.len(), 2);
        for card in cards {
            assert_masked_pan(&card["num"]);
            assert_eq!(card["AFiUserId"], json!(app.demo.user_id));
            assert_eq!(card["id"], card["AFiCardId"]);
            assert_eq!(card["name_on_card"], "DANA DEMO");
            assert_eq!(card["currency"], "USD");
            assert!(card.get("pin").is_none() && card.get("cvv").is_none());
        }
        let checking = cards
            .iter()
            .find(|c| c["AFiCardId"] == ids.checking_card.as_str())
            .unwrap();
        assert_eq!(checking["AFiAccountId"], json!(ids.checking));
        assert_eq!(checking["backOfficeId"], "sandbox-a");
        assert_eq!(checking["isActivated"], true);
        assert_eq!(checking["status"], "active");
        assert_eq!(checking["isActive"], true);
        let savings = cards
            .iter()
            .find(|c| c["AFiCardId"] == ids.savings_card.as_str())
            .unwrap();
        assert_eq!(savings["AFiAccountId"], json!(ids.savings));
        assert_eq!(savings["backOfficeId"], "sandbox-b");
        assert_eq!(savings["isActivated"], false);
        assert_eq!(savings["dtsActivated"], Value::Null);

        for prefix in ["/cards", "/card"] {
            let resp = app
                .get(&format!("{prefix}/{}", ids.checking_card), app.demo.token())
                .await;
            assert_no_full_pan(&resp.text);
            let body = resp.success();
            let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
            keys.sort();
            assert_eq!(keys, ["card", "success", "userId"]);
            assert_eq!(body["userId"], json!(app.demo.user_id));
            assert_eq!(&body["card"]["num"], &checking["num"]);
            assert_eq!(body["card"]["AFiCardId"], json!(ids.checking_card));
        }
        for bad in ["qwecdunknown0000", "x"] {
            app.get(&format!("/cards/{bad}"), app.demo.token())
                .await
                .error(404, "CARD_NOT_FOUND");
        }
        app.get("/cards", None).await.error(401, "UNAUTHORIZED");
        // demo2's cards are its own.
        let other = app.cards(&app.demo2).await;
        assert_eq!(other.len(), 2);
        assert!(other
            .iter()
            .all(|c| c["AFiUserId"] == app.demo2.user_id.as_str()));
        assert!(other.iter().all(|c| c["name_on_card"] == "SAM SAMPLE"));
        app.stop().await;
    }
}

#[tokio::test]
async fn modify_card_sets_name_and_main() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let ids = app.demo_objects(&app.demo).await;
        let path = format!("/cards/{}", ids.checking_card);
        let before = app.get(&path, app.demo.token()).await.success()["card"].clone();
        let resp = app
            .post_json(
                &path,
                app.demo.token(),
                &json!({ "name": "Groceries", "isMain": "true", "num": "4111111111111111", "status": "blocked" }),
            )
            .await;
        assert_no_full_pan(&resp.text);
        let body = resp.success();
        assert_eq!(body["userId"], json!(app.demo.user_id));
        assert_eq!(body["card"]["name"], "Groceries");
        assert_eq!(body["card"]["isMain"], true);
        assert_eq!(body["card"]["num"], before["num"]);
        assert_eq!(body["card"]["status"], "active");
        // Through the other spelling, with a real boolean; null clears the name.
        let resp = app
            .post_json(
                &format!("/card/{}", ids.checking_card),
                app.demo.token(),
                &json!({ "name": null, "isMain": false }),
            )
            .await;
        assert_eq!(resp.success()["card"]["name"], Value::Null);
        assert_eq!(resp.json["card"]["isMain"], false);
        // Kept: reading it back shows the same.
        app.post_json(&path, app.demo.token(), &json!({ "name": "Daily" }))
            .await
            .success();
        let after = app.get(&path, app.demo.token()).await;
        assert_eq!(after.success()["card"]["name"], "Daily");
        assert_eq!(after.json["card"]["isMain"], false);

        app.post_json(&path, app.demo.token(), &json!({ "name": " " }))
            .await
            .error(400, "INVALID_NAME");
        app.post_json(&path, app.demo.token(), &json!({ "isMain": "maybe" }))
            .await
            .error(400, "INVALID_JSON");
        app.post_json(
            "/cards/qwecdunknown0000",
            app.demo.token(),
            &json!({ "name": "X" }),
        )
        .await
        .error(404, "CARD_NOT_FOUND");
        app.stop().await;
    }
}

#[tokio::test]
async fn activate_is_a_no_op_on_an_active_card_and_activates_the_savings_card() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let ids = app.demo_objects(&app.demo).await;
        let before = app
            .get(&format!("/cards/{}", ids.checking_card), app.demo.token())
            .await
            .success()["card"]
            .clone();
        app.clock.advance(time::Duration::minutes(5));
        let resp = app
            .post_empty(
                &format!("/cards/{}/activate", ids.checking_card),
                app.demo.token(),
            )
            .await;
        let body = resp.success();
        assert_eq!(body["userId"], json!(app.demo.user_id));
        let card = &body["card"];
        assert_eq!(card["status"], "active");
        assert_eq!(card["isActive"], true);
        assert_eq!(card["isActivated"], true);
        // Nothing changed: the first activation time stays.
        assert_eq!(card["dtsActivated"], before["dtsActivated"]);
        assert_eq!(card["num"], before["num"]);

        let resp = app
            .post_empty(
                &format!("/card/{}/activate", ids.savings_card),
                app.demo.token(),
            )
            .await;
        let card = &resp.success()["card"];
        assert_eq!(card["isActivated"], true);
        assert_eq!(card["status"], "active");
        assert_eq!(card["isActive"], true);
        assert_eq!(card["dtsActivated"], "2025-01-15T12:05:00.000Z");
        let listed = app.cards(&app.demo).await;
        let savings = listed
            .iter()
            .find(|c| c["AFiCardId"] == ids.savings_card.as_str())
            .unwrap();
        assert_eq!(savings["isActivated"], true);

        app.post_empty("/cards/qwecdunknown0000/activate", app.demo.token())
            .await
            .error(404, "CARD_NOT_FOUND");
        app.stop().await;
    }
}

#[tokio::test]
async fn pin_rules() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let ids = app.demo_objects(&app.demo).await;
        let path = format!("/card/{}/pin", ids.checking_card);
        let resp = app
            .post_json(&path, app.demo.token(), &json!({ "pin": "12345678" }))
            .await;
        assert_eq!(resp.ok(), &json!({ "success": true }));
        // The dummy characters are not validated.
        let resp = app
            .post_json(&path, app.demo.token(), &json!({ "pin": "f23456t8" }))
            .await;
        assert_eq!(resp.ok(), &json!({ "success": true }));
        // Also under /cards, and as a JSON number.
        let resp = app
            .post_json(
                &format!("/cards/{}/pin", ids.checking_card),
                app.demo.token(),
                &json!({ "pin": 12345678 }),
            )
            .await;
        assert_eq!(resp.ok(), &json!({ "success": true }));

        for wrong_length in [json!("1234567"), json!("123456789"), json!(""), json!(null)] {
            app.post_json(&path, app.demo.token(), &json!({ "pin": wrong_length }))
                .await
                .error(401, "PIN_WRONG_LENGTH");
        }
        app.post_json(&path, app.demo.token(), &json!({}))
            .await
            .error(401, "PIN_WRONG_LENGTH");
        for not_digits in ["123f5678", "12 45678", "12-45678", "12٣45678"] {
            let message = app
                .post_json(&path, app.demo.token(), &json!({ "pin": not_digits }))
                .await
                .error(404, "INVALID_PIN");
            assert_eq!(message, "Invalid PIN");
        }
        app.post_json(&path, app.demo.token(), &json!({ "pin": ["12345678"] }))
            .await
            .error(400, "INVALID_JSON");
        app.post_json(
            "/card/qwecdunknown0000/pin",
            app.demo.token(),
            &json!({ "pin": "12345678" }),
        )
        .await
        .error(404, "CARD_NOT_FOUND");
        // The PIN never comes back.
        let card = app
            .get(&format!("/cards/{}", ids.checking_card), app.demo.token())
            .await;
        // Field names only: a random id may spell "pin".
        let fields = card.ok()["card"].as_object().expect("a card object");
        assert!(
            fields.keys().all(|key| !key.to_lowercase().contains("pin")),
            "{}",
            card.text
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn reissue_lost_keeps_the_number_and_stolen_replaces_it() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let ids = app.demo_objects(&app.demo).await;
        let card_path = format!("/cards/{}", ids.checking_card);
        let before = app.get(&card_path, app.demo.token()).await.success()["card"].clone();
        let path = format!("/card/{}/reissue", ids.checking_card);

        let resp = app
            .post_json(&path, app.demo.token(), &json!({ "reason": "lost" }))
            .await;
        assert_no_full_pan(&resp.text);
        let lost = resp.success()["card"].clone();
        assert_eq!(lost["AFiCardId"], json!(ids.checking_card));
        assert_eq!(lost["num"], before["num"]);
        assert_masked_pan(&lost["num"]);
        // The reissued card needs activating.
        assert_eq!(lost["isActivated"], false);
        let activated = app
            .post_empty(
                &format!("/cards/{}/activate", ids.checking_card),
                app.demo.token(),
            )
            .await;
        assert_eq!(activated.success()["card"]["isActivated"], true);

        let resp = app
            .post_json(
                &format!("/cards/{}/reissue", ids.checking_card),
                app.demo.token(),
                &json!({ "reason": "stolen" }),
            )
            .await;
        assert_no_full_pan(&resp.text);
        let stolen = resp.success()["card"].clone();
        assert_eq!(stolen["AFiCardId"], json!(ids.checking_card));
        assert_masked_pan(&stolen["num"]);
        assert_ne!(stolen["num"], before["num"]);
        assert_eq!(stolen["isActivated"], false);
        let listed = app.get(&card_path, app.demo.token()).await;
        assert_eq!(listed.success()["card"]["num"], stolen["num"]);

        for reason in [json!("broken"), json!("LOST "), json!(""), json!(1)] {
            let resp = app
                .post_json(&path, app.demo.token(), &json!({ "reason": reason }))
                .await;
            assert_eq!(resp.status, 400, "{}", resp.text);
            common::assert_error_body(&resp);
        }
        app.post_json(&path, app.demo.token(), &json!({ "reason": "broken" }))
            .await
            .error(400, "INVALID_REASON");
        app.post_json(&path, app.demo.token(), &json!({}))
            .await
            .error(400, "INVALID_JSON");
        app.post_json(
            "/card/qwecdunknown0000/reissue",
            app.demo.token(),
            &json!({ "reason": "lost" }),
        )
        .await
        .error(404, "CARD_NOT_FOUND");
        // The refused calls changed nothing.
        let after = app.get(&card_path, app.demo.token()).await;
        assert_eq!(after.success()["card"]["num"], stolen["num"]);
        app.stop().await;
    }
}

#[tokio::test]
async fn restriction_rules() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let ids = app.demo_objects(&app.demo).await;
        let path = format!("/card/{}/restriction", ids.checking_card);

        // restrictedMCCs values are forced to false; the other list is null.
        let resp = app
            .post_json(&path, app.demo.token(), &json!({ "AFiCardId": ids.checking_card, "restrictedMCCs": { "5812": true, "7995": false } }))
            .await;
        let body = resp.success();
        let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["restriction", "success"]);
        let restriction = &body["restriction"];
        assert_eq!(restriction["AFiCardId"], json!(ids.checking_card));
        assert_eq!(
            restriction["restrictedMCCs"],
            json!({ "5812": false, "7995": false })
        );
        assert_eq!(restriction["allowedMCCs"], Value::Null);
        assert_eq!(restriction["dayOfWeek"], Value::Null);
        assert_eq!(restriction["timesOfDay"], Value::Null);

        // Both lists at once: refused.
        let both = json!({ "allowedMCCs": { "5411": true }, "restrictedMCCs": { "5812": true } });
        let message = app
            .post_json(&path, app.demo.token(), &both)
            .await
            .error(404, "RESTRICTION_REFUSED");
        assert!(
            message.starts_with("Failed modifying card restrictions"),
            "{message}"
        );
        // The other list while the card has one: refused.
        let message = app
            .post_json(
                &path,
                app.demo.token(),
                &json!({ "allowedMCCs": { "5411": true } }),
            )
            .await
            .error(404, "RESTRICTION_REFUSED");
        assert!(
            message.starts_with("Failed modifying card restrictions"),
            "{message}"
        );
        // Bad keys: refused.
        for bad in [
            json!({ "dayOfWeek": { "7": false } }),
            json!({ "timesOfDay": { "am13pm5": true } }),
            json!({ "restrictedMCCs": { "58": true } }),
        ] {
            app.post_json(&path, app.demo.token(), &bad)
                .await
                .error(404, "RESTRICTION_REFUSED");
        }
        app.post_json(
            &path,
            app.demo.token(),
            &json!({ "dayOfWeek": { "1": "sometimes" } }),
        )
        .await
        .error(400, "INVALID_JSON");
        // Nothing was changed by the refusals.
        let card = app
            .get(&format!("/cards/{}", ids.checking_card), app.demo.token())
            .await;
        assert_eq!(
            card.success()["card"]["restrictions"]["restrictedMCCs"],
            json!({ "5812": false, "7995": false })
        );
        assert_eq!(
            card.json["card"]["restrictions"]["allowedMCCs"],
            Value::Null
        );

        // Switching lists means clearing the other with null in the same call.
        let resp = app
            .post_json(
                &path,
                app.demo.token(),
                &json!({ "allowedMCCs": { "5411": true, "5942": false }, "restrictedMCCs": null,
                         "dayOfWeek": { "0": false, "6": true }, "timesOfDay": { "am9pm5": true } }),
            )
            .await;
        let restriction = &resp.success()["restriction"];
        assert_eq!(
            restriction["allowedMCCs"],
            json!({ "5411": true, "5942": false })
        );
        assert_eq!(restriction["restrictedMCCs"], Value::Null);
        assert_eq!(restriction["dayOfWeek"], json!({ "0": false, "6": true }));
        assert_eq!(restriction["timesOfDay"], json!({ "am9pm5": true }));

        // Kinds left out stay; null clears a kind.
        let resp = app
            .post_json(
                &path,
                app.demo.token(),
                &json!({ "dayOfWeek": null, "allowedMCCs": null }),
            )
            .await;
        let restriction = &resp.success()["restriction"];
        assert_eq!(restriction["dayOfWeek"], Value::Null);
        assert_eq!(restriction["allowedMCCs"], Value::Null);
        assert_eq!(restriction["timesOfDay"], json!({ "am9pm5": true }));
        // With no list left, either may be set again.
        let resp = app
            .post_json(
                &path,
                app.demo.token(),
                &json!({ "restrictedMCCs": { "7995": true } }),
            )
            .await;
        assert_eq!(
            resp.success()["restriction"]["restrictedMCCs"],
            json!({ "7995": false })
        );
        let card = app
            .get(&format!("/card/{}", ids.checking_card), app.demo.token())
            .await;
        assert_eq!(
            card.success()["card"]["restrictions"],
            json!({ "dayOfWeek": null, "timesOfDay": { "am9pm5": true }, "allowedMCCs": null, "restrictedMCCs": { "7995": false } })
        );
        // Also reachable as /cards/...; an unknown card is not found.
        app.post_json(
            &format!("/cards/{}/restriction", ids.checking_card),
            app.demo.token(),
            &json!({}),
        )
        .await
        .success();
        app.post_json(
            "/card/qwecdunknown0000/restriction",
            app.demo.token(),
            &json!({ "dayOfWeek": { "0": false } }),
        )
        .await
        .error(404, "CARD_NOT_FOUND");
        app.stop().await;
    }
}

#[tokio::test]
async fn on_and_off() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let ids = app.demo_objects(&app.demo).await;
        let resp = app
            .post_empty(
                &format!("/cards/{}/off", ids.checking_card),
                app.demo.token(),
            )
            .await;
        let body = resp.success();
        assert_eq!(body["status"], "blocked");
        assert_eq!(body["isActive"], false);
        assert_eq!(body["card"]["status"], "blocked");
        assert_eq!(body["card"]["isActive"], false);
        assert_eq!(body["card"]["AFiCardId"], json!(ids.checking_card));
        let card = app
            .get(&format!("/cards/{}", ids.checking_card), app.demo.token())
            .await;
        assert_eq!(card.success()["card"]["status"], "blocked");
        // Off twice is still off.
        let again = app
            .post_empty(
                &format!("/card/{}/off", ids.checking_card),
                app.demo.token(),
            )
            .await;
        assert_eq!(again.success()["status"], "blocked");

        let resp = app
            .post_empty(&format!("/card/{}/on", ids.checking_card), app.demo.token())
            .await;
        let body = resp.success();
        assert_eq!(body["status"], "active");
        assert_eq!(body["isActive"], true);
        assert_eq!(body["card"]["status"], "active");
        assert_eq!(body["card"]["isActive"], true);

        for bad in ["sideways", "ON", "of", "enable"] {
            let message = app
                .post_empty(
                    &format!("/cards/{}/{bad}", ids.checking_card),
                    app.demo.token(),
                )
                .await
                .error(404, "WRONG_ONOFF");
            assert_eq!(message, "Wrong input to ampliFi.cards.cardOnOff");
        }
        let message = app
            .post_empty("/cards/qwecdunknown0000/off", app.demo.token())
            .await
            .error(404, "CARD_NOT_FOUND");
        assert_eq!(message, "Card not found");
        app.post_empty(&format!("/cards/{}/off", ids.checking_card), None)
            .await
            .error(401, "UNAUTHORIZED");
        // The bad calls changed nothing.
        let card = app
            .get(&format!("/cards/{}", ids.checking_card), app.demo.token())
            .await;
        assert_eq!(card.success()["card"]["status"], "active");
        app.stop().await;
    }
}
