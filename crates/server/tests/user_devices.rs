//! The user record (`GET/POST /user`), the devices list and the linklinks (`POST /authenticateddevices`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{engines, json, TestApp};
use serde_json::Value;

/// Every object key anywhere in `value`.
fn keys(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                keys(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn get_user_returns_the_record_without_the_ssn() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let resp = app.get("/user", app.demo.token()).await;
        let body = resp.success();
        assert_eq!(
            body.as_object().unwrap().len(),
            2,
            "{{success, user}}: {}",
            resp.text
        );
        let user = &body["user"];
        assert_eq!(user["AFiUserId"], json!(app.demo.user_id));
        assert_eq!(user["id"], json!(app.demo.user_id));
        assert_eq!(user["firstName"], "Dana");
        assert_eq!(user["lastName"], "Demo");
        assert_eq!(
            user["name"],
            json!({ "firstName": "Dana", "middleName": null, "lastName": "Demo" })
        );
        assert_eq!(user["languageCode"], "en");
        assert_eq!(user["segment"], "demo");
        assert_eq!(user["private"], true);
        assert_eq!(user["isFullyRegistered"], true);
        assert_eq!(user["isIdleUser"], false);
        assert_eq!(user["email"], "demo@example.com");
        assert_eq!(user["dosDob"], "1990-04-01");
        assert_eq!(user["ssnMasked"], "*****6789");
        assert_eq!(user["dtsCreated"], "2025-01-15T12:00:00.000Z");
        assert_eq!(user["addresses"][0]["city"], "Springfield");
        let referral = user["referralCode"].as_str().unwrap();
        assert_eq!(referral.len(), 9);
        assert!(referral
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
        let mut all = Vec::new();
        keys(body, &mut all);
        assert!(
            !all.iter().any(|k| k == "ssn"),
            "ssn returned: {}",
            resp.text
        );
        assert!(!resp.text.contains("123456789"), "{}", resp.text);
        assert!(!all.iter().any(|k| k.to_lowercase().contains("password")));

        // Each user sees their own record.
        let other = app.get("/user", app.demo2.token()).await;
        let other = &other.success()["user"];
        assert_eq!(other["AFiUserId"], json!(app.demo2.user_id));
        assert_eq!(other["firstName"], "Sam");
        assert_eq!(other["ssnMasked"], "*****4321");
        app.stop().await;
    }
}

#[tokio::test]
async fn post_user_changes_only_editable_fields() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let before = app.get("/user", app.demo.token()).await.success()["user"].clone();
        let address = json!({
            "addressLine1": "2 New Road", "city": "Shelbyville", "state": "IL",
            "postalCode": "62565", "country": "USA"
        });
        let changes = json!({
            "firstName": "Danielle",
            "languageCode": "de",
            "isMetric": "true",
            "phoneNumbers": ["+15555550111"],
            "newAddresses": [address],
            // Not editable: silently ignored.
            "ssn": "000000000",
            "AFiUserId": "qweauhacker",
            "segment": "vip",
            "dtsCreated": "2000-01-01T00:00:00.000Z",
        });
        let resp = app.post_json("/user", app.demo.token(), &changes).await;
        let body = resp.success();
        assert_eq!(body.as_object().unwrap().len(), 2, "{}", resp.text);
        let user = &body["user"];
        assert_eq!(user["firstName"], "Danielle");
        assert_eq!(user["name"]["firstName"], "Danielle");
        assert_eq!(user["lastName"], "Demo");
        assert_eq!(
            user["names"],
            json!([{ "firstName": "Dana", "middleName": null, "lastName": "Demo" }])
        );
        assert_eq!(user["languageCode"], "de");
        assert_eq!(user["isMetric"], true);
        assert_eq!(user["phoneNumbers"], json!(["+15555550111"]));
        assert_eq!(user["addresses"].as_array().unwrap().len(), 2);
        assert_eq!(user["addresses"][1]["countryCode"], "USA");
        assert_eq!(user["AFiUserId"], before["AFiUserId"]);
        assert_eq!(user["ssnMasked"], "*****6789");
        assert_eq!(user["segment"], "demo");
        assert_eq!(user["dtsCreated"], before["dtsCreated"]);
        assert!(!resp.text.contains("000000000"));

        // The change is kept, and null clears optional fields.
        let clear = json!({ "email": null, "mobile": null, "deletedAddresses": [{
            "addressLine1": "1 Demo Street", "city": "Springfield", "state": "IL",
            "postalCode": "62701", "countryCode": "USA"
        }] });
        app.post_json("/user", app.demo.token(), &clear)
            .await
            .success();
        let after = app.get("/user", app.demo.token()).await;
        let user = &after.success()["user"];
        assert_eq!(user["email"], Value::Null);
        assert_eq!(user["mobile"], Value::Null);
        assert_eq!(user["firstName"], "Danielle");
        assert_eq!(user["languageCode"], "de");
        assert_eq!(user["addresses"].as_array().unwrap().len(), 1);
        assert_eq!(user["addresses"][0]["city"], "Shelbyville");
        // An empty body changes nothing.
        let same = app.post_json("/user", app.demo.token(), &json!({})).await;
        assert_eq!(same.success()["user"]["firstName"], "Danielle");
        // demo2 is untouched.
        let other = app.get("/user", app.demo2.token()).await;
        assert_eq!(other.success()["user"]["firstName"], "Sam");
        assert_eq!(other.json["user"]["email"], "demo2@example.com");
        app.stop().await;
    }
}

#[tokio::test]
async fn post_user_rejects_invalid_input() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        for code in ["deu", "EN", "e", "1a"] {
            app.post_json("/user", app.demo.token(), &json!({ "languageCode": code }))
                .await
                .error(400, "INVALID_LANGUAGE_CODE");
        }
        app.post_json("/user", app.demo.token(), &json!({ "firstName": "   " }))
            .await
            .error(400, "INVALID_NAME");
        app.post_json("/user", app.demo.token(), &json!({ "firstName": 5 }))
            .await
            .error(400, "INVALID_JSON");
        app.post_json("/user", app.demo.token(), &json!({ "isMetric": "perhaps" }))
            .await
            .error(400, "INVALID_JSON");
        app.post_json("/user", None, &json!({ "firstName": "X" }))
            .await
            .error(401, "UNAUTHORIZED");
        // Nothing was changed by the refused calls.
        let user = app.get("/user", app.demo.token()).await;
        assert_eq!(user.success()["user"]["languageCode"], "en");
        assert_eq!(user.json["user"]["firstName"], "Dana");
        app.stop().await;
    }
}

#[tokio::test]
async fn devices_list_every_login_device() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let resp = app.get("/devices", app.demo.token()).await;
        let devices = resp.success()["devices"].as_array().unwrap().clone();
        assert_eq!(devices.len(), 1, "{}", resp.text);
        let web = &devices[0];
        assert_eq!(web["channel"], "internet");
        assert_eq!(web["isActive"], true);
        assert_eq!(web["dtsCreated"], "2025-01-15T12:00:00.000Z");
        assert!(web["dtsLastSeen"].is_string());
        assert!(web["AFiDeviceId"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(web.as_object().unwrap().contains_key("platform"));

        // A login with a device tag is a second device; the same tag again is the same device.
        app.login_device("demo", "demo-password", "phone-1")
            .await
            .success();
        app.login_device("demo", "demo-password", "phone-1")
            .await
            .success();
        app.login("demo", "demo-password").await.success();
        let resp = app.get("/devices", app.demo.token()).await;
        let devices = resp.success()["devices"].as_array().unwrap().clone();
        assert_eq!(devices.len(), 2, "{}", resp.text);
        // Both were created at the same instant, so find them by platform rather than position.
        let phone: Vec<&Value> = devices
            .iter()
            .filter(|d| d["platform"] == "test-platform")
            .collect();
        assert_eq!(phone.len(), 1, "{}", resp.text);
        assert_ne!(phone[0]["AFiDeviceId"], web["AFiDeviceId"]);
        assert!(devices
            .iter()
            .any(|d| d["AFiDeviceId"] == web["AFiDeviceId"]));
        // demo2's devices are its own.
        let other = app.get("/devices", app.demo2.token()).await;
        let other = other.success()["devices"].as_array().unwrap().clone();
        assert_eq!(other.len(), 1);
        assert!(devices
            .iter()
            .all(|d| d["AFiDeviceId"] != other[0]["AFiDeviceId"]));
        app.stop().await;
    }
}

#[tokio::test]
async fn authenticated_devices_must_be_an_array() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        for body in [
            json!({}),
            json!({ "AFiLinkLinkId": "x" }),
            json!("[]"),
            json!(null),
        ] {
            app.post_json("/authenticateddevices", app.demo.token(), &body)
                .await
                .error(400, "BODY_MUST_BE_ARRAY");
        }
        // Items need their id.
        app.post_json(
            "/authenticateddevices",
            app.demo.token(),
            &json!([{ "isActive": false }]),
        )
        .await
        .error(400, "INVALID_JSON");
        app.post_raw("/authenticateddevices", app.demo.token(), "[")
            .await
            .error(400, "INVALID_JSON");
        app.post_json("/authenticateddevices", None, &json!([]))
            .await
            .error(401, "UNAUTHORIZED");

        let resp = app
            .post_json("/authenticateddevices", app.demo.token(), &json!([]))
            .await;
        let body = resp.success();
        let linklinks = body["linklinks"].as_array().unwrap();
        assert_eq!(linklinks.len(), 1, "{}", resp.text);
        let link = &linklinks[0];
        assert_eq!(link["AFiUserId"], json!(app.demo.user_id));
        assert_eq!(link["isActive"], true);
        assert_eq!(link["dtsCreated"], "2025-01-15T12:00:00.000Z");
        // The device's live session ends after the 12-hour lifetime.
        assert_eq!(link["dtsExpiry"], "2025-01-16T00:00:00.000Z");
        let devices = app.get("/devices", app.demo.token()).await;
        assert_eq!(
            link["AFiLinkLinkId"],
            devices.success()["devices"][0]["AFiDeviceId"]
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn deactivating_a_device_revokes_its_tokens_and_bars_its_logins() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let phone = TestApp::session(&app.login_device("demo", "demo-password", "phone-1").await);
        let phone_again =
            TestApp::session(&app.login_device("demo", "demo-password", "phone-1").await);
        let linklinks = app
            .post_json("/authenticateddevices", app.demo.token(), &json!([]))
            .await;
        let linklinks = linklinks.success()["linklinks"].as_array().unwrap().clone();
        assert_eq!(linklinks.len(), 2);
        let phone_id = linklinks
            .iter()
            .find(|l| l["platform"] == "test-platform")
            .unwrap()["AFiLinkLinkId"]
            .as_str()
            .unwrap()
            .to_owned();

        let resp = app
            .post_json(
                "/authenticateddevices",
                app.demo.token(),
                &json!([{ "AFiLinkLinkId": phone_id, "isActive": false }]),
            )
            .await;
        let linklinks = resp.success()["linklinks"].as_array().unwrap().clone();
        let phone_link = linklinks
            .iter()
            .find(|l| l["AFiLinkLinkId"] == phone_id.as_str())
            .unwrap();
        assert_eq!(phone_link["isActive"], false);
        assert!(linklinks.iter().any(|l| l["isActive"] == true));

        // Both sessions of that device end at once; the web session is untouched.
        for session in [&phone, &phone_again] {
            app.get("/user", session.token())
                .await
                .error(401, "UNAUTHORIZED");
        }
        app.get("/user", app.demo.token()).await.success();
        // The device may no longer log in, even with the right password.
        app.login_device("demo", "demo-password", "phone-1")
            .await
            .error(401, "DEVICE_NOT_AUTHORISED");
        // Other devices still may.
        app.login_device("demo", "demo-password", "tablet")
            .await
            .success();
        let devices = app.get("/devices", app.demo.token()).await;
        let devices = devices.success()["devices"].as_array().unwrap().clone();
        let phone_device = devices
            .iter()
            .find(|d| d["AFiDeviceId"] == phone_id.as_str())
            .unwrap();
        assert_eq!(phone_device["isActive"], false);

        // Reactivated (with the lenient string flag), it may log in again; its old tokens stay dead.
        app.post_json(
            "/authenticateddevices",
            app.demo.token(),
            &json!([{ "AFiLinkLinkId": phone_id, "isActive": "true" }]),
        )
        .await
        .success();
        app.login_device("demo", "demo-password", "phone-1")
            .await
            .success();
        app.get("/user", phone.token())
            .await
            .error(401, "UNAUTHORIZED");

        // An item without isActive changes nothing.
        let resp = app
            .post_json(
                "/authenticateddevices",
                app.demo.token(),
                &json!([{ "AFiLinkLinkId": phone_id }]),
            )
            .await;
        let listed = resp.success()["linklinks"].as_array().unwrap().clone();
        assert!(
            listed.iter().all(|l| l["isActive"] == true),
            "{}",
            resp.text
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn unknown_or_foreign_devices_are_404_and_change_nothing() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo2_devices = app.get("/devices", app.demo2.token()).await;
        let foreign = demo2_devices.success()["devices"][0]["AFiDeviceId"]
            .as_str()
            .unwrap()
            .to_owned();
        let own = app.get("/devices", app.demo.token()).await.success()["devices"][0]
            ["AFiDeviceId"]
            .as_str()
            .unwrap()
            .to_owned();
        for id in [foreign.as_str(), "qwedvunknown0000", "not an id!", ""] {
            // A known id in the same request is not changed either: all or nothing.
            let body = json!([
                { "AFiLinkLinkId": own, "isActive": false },
                { "AFiLinkLinkId": id, "isActive": false },
            ]);
            app.post_json("/authenticateddevices", app.demo.token(), &body)
                .await
                .error(404, "DEVICE_NOT_FOUND");
        }
        app.get("/user", app.demo.token()).await.success();
        app.get("/user", app.demo2.token()).await.success();
        let still = app.get("/devices", app.demo2.token()).await;
        assert_eq!(still.success()["devices"][0]["isActive"], true);
        app.stop().await;
    }
}
