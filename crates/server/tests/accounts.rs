//! Accounts and their transactions: listing, reading (with the `/account` alias), modifying, the two
//! transaction lists and the modify-transaction route under all four alias spellings.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{engines, json, TestApp, START};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use time::Duration;

/// `GET /accounts` with each account's raw JSON text, so amounts can be checked exactly as written.
#[derive(Deserialize)]
struct RawAccounts<'a> {
    #[serde(borrow)]
    accounts: Vec<&'a RawValue>,
}

/// An account number masked in the middle: only `*` and digits, the last 4 digits kept.
#[track_caller]
fn assert_masked_account_number(num: &Value) {
    let num = num.as_str().unwrap();
    assert!(num.contains('*'), "not masked: {num}");
    assert!(num.chars().all(|c| c == '*' || c.is_ascii_digit()), "{num}");
    let tail: Vec<char> = num.chars().rev().take(4).collect();
    assert!(tail.iter().all(char::is_ascii_digit), "{num}");
    let visible = num.chars().filter(char::is_ascii_digit).count();
    assert!(visible <= 10, "too much of {num} visible");
}

fn date(days_ago: i64) -> String {
    (START - Duration::days(days_ago)).date().to_string()
}

#[tokio::test]
async fn list_accounts_shows_the_demo_balances() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let resp = app.get("/accounts", app.demo.token()).await;
        let body = resp.success();
        assert_eq!(body.as_object().unwrap().len(), 3, "{}", resp.text);
        // The refresh hint is a dts a minute from now.
        assert_eq!(body["dtsUpdateNext"], "2025-01-15T12:01:00.000Z");
        let mains = body["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["isMain"] == true)
            .count();
        assert!(mains <= 1, "more than one main account: {}", resp.text);
        let raw: RawAccounts = serde_json::from_str(&resp.text).unwrap();
        assert_eq!(raw.accounts.len(), 3);
        let mut seen = Vec::new();
        for raw in raw.accounts {
            let text = raw.get();
            let account: Value = serde_json::from_str(text).unwrap();
            assert_eq!(account["AFiUserId"], json!(app.demo.user_id));
            assert_eq!(account["id"], account["AFiAccountId"]);
            assert_eq!(account["status"], "active");
            assert_eq!(account["isActive"], true);
            assert_eq!(account["isClosed"], false);
            assert_eq!(account["isSync"], true);
            assert_masked_account_number(&account["num"]);
            let office = account["backOfficeId"].as_str().unwrap().to_owned();
            let currency = account["balance"]["currency"].as_str().unwrap().to_owned();
            // Amounts are JSON numbers written with exactly the currency's two decimals.
            let expected = match (office.as_str(), currency.as_str()) {
                ("sandbox-a", "USD") => "1000.00",
                ("sandbox-b", "USD") => "500.00",
                ("sandbox-b", "EUR") => "200.00",
                other => panic!("unexpected account {other:?}: {text}"),
            };
            assert!(text.contains(&format!("\"native\":{expected}")), "{text}");
            assert!(
                text.contains(&format!("\"available\":{expected}")),
                "{text}"
            );
            let native = account["balance"]["native"].as_f64().unwrap();
            assert_eq!(native, expected.parse::<f64>().unwrap());
            seen.push((office, currency));
        }
        seen.sort();
        assert_eq!(
            seen,
            [
                ("sandbox-a".to_owned(), "USD".to_owned()),
                ("sandbox-b".to_owned(), "EUR".to_owned()),
                ("sandbox-b".to_owned(), "USD".to_owned()),
            ]
        );
        // The two USD accounts have their cards linked; the EUR one has none.
        let ids = app.demo_objects(&app.demo).await;
        let accounts = app.accounts(&app.demo).await;
        let by_id = |id: &str| {
            accounts
                .iter()
                .find(|a| a["AFiAccountId"] == id)
                .unwrap()
                .clone()
        };
        assert_eq!(by_id(&ids.checking)["AFiCardId"], json!(ids.checking_card));
        assert_eq!(by_id(&ids.savings)["AFiCardId"], json!(ids.savings_card));
        assert_eq!(by_id(&ids.euro)["AFiCardId"], Value::Null);
        assert_eq!(by_id(&ids.savings)["typeId"], "savings");
        assert_eq!(by_id(&ids.checking)["name"], "Everyday checking");

        // demo2 has accounts of its own, with other ids.
        let other = app.accounts(&app.demo2).await;
        assert_eq!(other.len(), 3);
        for account in &other {
            assert_eq!(account["AFiUserId"], json!(app.demo2.user_id));
            assert!(accounts
                .iter()
                .all(|a| a["AFiAccountId"] != account["AFiAccountId"]));
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn get_account_by_either_path() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let ids = app.demo_objects(&app.demo).await;
        let plural = app
            .get(&format!("/accounts/{}", ids.checking), app.demo.token())
            .await;
        let body = plural.success();
        let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["account", "success", "userId"]);
        assert_eq!(body["userId"], json!(app.demo.user_id));
        assert_eq!(body["account"]["AFiAccountId"], json!(ids.checking));
        assert!(
            plural.text.contains("\"available\":1000.00"),
            "{}",
            plural.text
        );
        let singular = app
            .get(&format!("/account/{}", ids.checking), app.demo.token())
            .await;
        assert_eq!(singular.success(), body);
        // A trailing slash is the same route.
        let slash = app
            .get(&format!("/accounts/{}/", ids.checking), app.demo.token())
            .await;
        assert_eq!(slash.success(), body);

        let euro = app
            .get(&format!("/account/{}", ids.euro), app.demo.token())
            .await;
        assert!(euro.text.contains("\"native\":200.00"), "{}", euro.text);
        assert_eq!(euro.success()["account"]["balance"]["currency"], "EUR");

        for bad in ["qweacunknown0000", "x", "not%20an%20id"] {
            app.get(&format!("/accounts/{bad}"), app.demo.token())
                .await
                .error(404, "ACCOUNT_NOT_FOUND");
        }
        app.get(&format!("/accounts/{}", ids.checking), None)
            .await
            .error(401, "UNAUTHORIZED");
        app.stop().await;
    }
}

#[tokio::test]
async fn modify_account_applies_name_main_and_hidden() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let ids = app.demo_objects(&app.demo).await;
        let path = format!("/accounts/{}", ids.checking);
        let changes = json!({
            "name": "Bills", "isMain": true, "isHidden": false,
            // Not editable: ignored.
            "balance": { "currency": "USD", "native": 1e9, "available": 1e9 },
            "AFiUserId": app.demo2.user_id, "status": "blocked", "num": "1234",
        });
        let resp = app.post_json(&path, app.demo.token(), &changes).await;
        let body = resp.success();
        let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["account", "success"]);
        let account = &body["account"];
        assert_eq!(account["name"], "Bills");
        assert_eq!(account["isMain"], true);
        assert_eq!(account["isHidden"], false);
        assert_eq!(account["status"], "active");
        assert_eq!(account["AFiUserId"], json!(app.demo.user_id));
        assert!(resp.text.contains("\"available\":1000.00"), "{}", resp.text);

        // Only one account is main: making savings main unsets checking.
        let resp = app
            .post_json(
                &format!("/account/{}", ids.savings),
                app.demo.token(),
                &json!({ "isMain": "true", "isHidden": "true" }),
            )
            .await;
        assert_eq!(resp.success()["account"]["isMain"], true);
        assert_eq!(resp.json["account"]["isHidden"], true);
        let accounts = app.accounts(&app.demo).await;
        let main: Vec<&Value> = accounts.iter().filter(|a| a["isMain"] == true).collect();
        assert_eq!(main.len(), 1, "{accounts:?}");
        assert_eq!(main[0]["AFiAccountId"], json!(ids.savings));
        let checking = accounts
            .iter()
            .find(|a| a["AFiAccountId"] == ids.checking.as_str())
            .unwrap();
        assert_eq!(checking["name"], "Bills");
        assert_eq!(checking["isMain"], false);
        // Hidden accounts are still listed, flagged.
        let savings = accounts
            .iter()
            .find(|a| a["AFiAccountId"] == ids.savings.as_str())
            .unwrap();
        assert_eq!(savings["isHidden"], true);
        // demo2's main account is not affected by demo's choice.
        app.post_json(
            &format!("/accounts/{}", app.demo_objects(&app.demo2).await.checking),
            app.demo2.token(),
            &json!({ "isMain": true }),
        )
        .await
        .success();
        let accounts = app.accounts(&app.demo).await;
        assert_eq!(accounts.iter().filter(|a| a["isMain"] == true).count(), 1);

        // An empty body changes nothing.
        let same = app.post_json(&path, app.demo.token(), &json!({})).await;
        assert_eq!(same.success()["account"]["name"], "Bills");
        // Invalid changes are 400.
        for bad in [json!({ "name": "" }), json!({ "name": "x".repeat(65) })] {
            app.post_json(&path, app.demo.token(), &bad)
                .await
                .error(400, "INVALID_NAME");
        }
        app.post_json(&path, app.demo.token(), &json!({ "isMain": "sometimes" }))
            .await
            .error(400, "INVALID_JSON");
        app.post_json(&path, app.demo.token(), &json!({ "isHidden": 3 }))
            .await
            .error(400, "INVALID_JSON");
        app.post_json(
            "/accounts/qweacunknown0000",
            app.demo.token(),
            &json!({ "name": "X" }),
        )
        .await
        .error(404, "ACCOUNT_NOT_FOUND");
        app.stop().await;
    }
}

#[tokio::test]
async fn latest_transactions_are_a_bare_array_newest_first() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let ids = app.demo_objects(&app.demo).await;
        let resp = app
            .get(
                &format!("/accounts/{}/transactions/latest", ids.checking),
                app.demo.token(),
            )
            .await;
        let list = resp.ok().as_array().expect("a bare array");
        let narratives: Vec<&str> = list
            .iter()
            .map(|t| t["narrative"].as_str().unwrap())
            .collect();
        assert_eq!(
            narratives,
            [
                "Book Nook",
                "Green Grocer",
                "Corner Coffee",
                "Opening deposit"
            ]
        );
        // Purchases are negative with `debit` set; the deposit is a credit.
        for (t, amount) in list.iter().zip(["-13.20", "-62.30", "-4.75", "1080.25"]) {
            let raw = serde_json::to_string(t).unwrap();
            let exact: f64 = amount.parse().unwrap();
            assert_eq!(t["amount"].as_f64().unwrap(), exact, "{raw}");
            if exact < 0.0 {
                assert_eq!(t["debit"].as_f64().unwrap(), -exact);
                assert_eq!(t["credit"].as_f64().unwrap(), 0.0);
                assert_eq!(t["AFiCardId"], json!(ids.checking_card));
                assert!(t["mcc"].is_string());
            } else {
                assert_eq!(t["credit"].as_f64().unwrap(), exact);
                assert_eq!(t["debit"].as_f64().unwrap(), 0.0);
            }
            assert_eq!(t["currency"], "USD");
            assert_eq!(t["AFiAccountId"], json!(ids.checking));
            assert_eq!(t["AFiUserId"], json!(app.demo.user_id));
            assert_eq!(t["transactionState"], "confirmed");
            assert_eq!(t["id"], t["transactionId"]);
            assert_eq!(t["labels"], json!([]));
        }
        // The raw text has the amounts exactly as decimals.
        assert!(resp.text.contains("\"amount\":-62.30"), "{}", resp.text);
        assert!(resp.text.contains("\"debit\":62.30"), "{}", resp.text);
        assert!(resp.text.contains("\"amount\":-4.75"), "{}", resp.text);
        assert_eq!(list[0]["dtsValue"], "2025-01-13T12:00:00.000Z");
        assert_eq!(list[0]["mcc"], "5942");

        // The alias and the savings account.
        let savings = app
            .get(
                &format!("/account/{}/transactions/latest", ids.savings),
                app.demo.token(),
            )
            .await;
        let savings: Vec<&str> = savings
            .ok()
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["narrative"].as_str().unwrap())
            .collect();
        assert_eq!(savings, ["Transfer from another bank", "Opening deposit"]);
        app.get(
            "/accounts/qweacunknown0000/transactions/latest",
            app.demo.token(),
        )
        .await
        .error(404, "ACCOUNT_NOT_FOUND");
        app.get(
            &format!("/accounts/{}/transactions/latest", ids.checking),
            None,
        )
        .await
        .error(401, "UNAUTHORIZED");
        app.stop().await;
    }
}

#[tokio::test]
async fn transactions_between_dates_are_inclusive() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let ids = app.demo_objects(&app.demo).await;
        let between = |from: String, to: String| {
            let path = format!("/accounts/{}/transactions/{from}/{to}", ids.checking);
            let app = &app;
            async move {
                let resp = app.get(&path, app.demo.token()).await;
                resp.ok()
                    .as_array()
                    .expect("a bare array")
                    .iter()
                    .map(|t| t["narrative"].as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
            }
        };
        // Purchases were 10, 5 and 2 days ago, the deposit 30 days ago.
        assert_eq!(between(date(5), date(5)).await, ["Green Grocer"]);
        assert_eq!(
            between(date(10), date(5)).await,
            ["Green Grocer", "Corner Coffee"]
        );
        assert_eq!(between(date(9), date(6)).await, Vec::<String>::new());
        assert_eq!(
            between(date(365), date(0)).await,
            [
                "Book Nook",
                "Green Grocer",
                "Corner Coffee",
                "Opening deposit"
            ]
        );
        assert_eq!(between(date(2), date(0)).await, ["Book Nook"]);

        let base = format!("/accounts/{}/transactions", ids.checking);
        for (from, to) in [
            ("2025-13-01", "2025-01-15"),
            ("yesterday", "2025-01-15"),
            ("2025-01-01", "2025-1-15"),
            ("2025-01-01", "2025-02-30"),
        ] {
            app.get(&format!("{base}/{from}/{to}"), app.demo.token())
                .await
                .error(400, "INVALID_DATE");
        }
        app.get(&format!("{base}/2025-01-15/2025-01-14"), app.demo.token())
            .await
            .error(400, "INVALID_DATE_RANGE");
        app.get(
            "/accounts/qweacunknown0000/transactions/2025-01-01/2025-01-15",
            app.demo.token(),
        )
        .await
        .error(404, "ACCOUNT_NOT_FOUND");
        app.stop().await;
    }
}

#[tokio::test]
async fn modify_transaction_under_every_alias() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let ids = app.demo_objects(&app.demo).await;
        let list = app.latest(&app.demo, &ids.checking).await;
        let tx = list[1]["transactionId"].as_str().unwrap().to_owned();
        let account = &ids.checking;
        let spellings = [
            format!("/accounts/{account}/transactions/{tx}"),
            format!("/account/{account}/transaction/{tx}"),
            format!("/accounts/{account}/transaction/{tx}"),
            format!("/account/{account}/transactions/{tx}"),
        ];
        for (i, path) in spellings.iter().enumerate() {
            let comment = format!("comment {i}");
            let labels = json!([format!("label-{i}"), "food"]);
            let resp = app
                .post_json(
                    path,
                    app.demo.token(),
                    &json!({ "changes": { "comment": comment, "labels": labels } }),
                )
                .await;
            let body = resp.success();
            assert_eq!(body["transaction"]["transactionId"], json!(tx), "{path}");
            assert_eq!(body["transaction"]["comment"], json!(comment));
            assert_eq!(body["transaction"]["labels"], labels);
            // The amount is untouched.
            assert!(resp.text.contains("\"amount\":-62.30"), "{}", resp.text);
        }
        // The change shows in the lists.
        let list = app.latest(&app.demo, &ids.checking).await;
        assert_eq!(list[1]["comment"], "comment 3");
        assert_eq!(list[1]["labels"], json!(["label-3", "food"]));
        assert_eq!(list[0]["comment"], Value::Null);

        // Leaving a field out keeps it; null clears the comment; other fields are not changeable.
        let path = &spellings[0];
        let resp = app
            .post_json(
                path,
                app.demo.token(),
                &json!({ "changes": { "labels": [] } }),
            )
            .await;
        assert_eq!(resp.success()["transaction"]["comment"], "comment 3");
        assert_eq!(resp.json["transaction"]["labels"], json!([]));
        let resp = app
            .post_json(
                path,
                app.demo.token(),
                &json!({ "changes": { "comment": null, "amount": 1000, "narrative": "x" } }),
            )
            .await;
        assert_eq!(resp.success()["transaction"]["comment"], Value::Null);
        assert_eq!(resp.json["transaction"]["narrative"], "Green Grocer");
        assert!(resp.text.contains("\"amount\":-62.30"));

        // `changes` is required.
        for body in [
            json!({}),
            json!({ "comment": "x" }),
            json!({ "changes": "x" }),
        ] {
            app.post_json(path, app.demo.token(), &body)
                .await
                .error(400, "INVALID_JSON");
        }
        app.post_json(
            path,
            app.demo.token(),
            &json!({ "changes": { "comment": "x".repeat(1001) } }),
        )
        .await
        .error(400, "INVALID_COMMENT");
        app.post_json(
            path,
            app.demo.token(),
            &json!({ "changes": { "labels": [""] } }),
        )
        .await
        .error(400, "INVALID_LABELS");
        // An unknown transaction, or one of another account of the same user, is not found.
        let body = json!({ "changes": { "comment": "x" } });
        app.post_json(
            &format!("/accounts/{account}/transactions/qwetrunknown0000"),
            app.demo.token(),
            &body,
        )
        .await
        .error(404, "TRANSACTION_NOT_FOUND");
        app.latest(&app.demo, &ids.savings).await;
        app.post_json(
            &format!("/accounts/{}/transactions/{tx}", ids.savings),
            app.demo.token(),
            &body,
        )
        .await
        .error(404, "TRANSACTION_NOT_FOUND");
        app.post_json(path, None, &body)
            .await
            .error(401, "UNAUTHORIZED");
        app.stop().await;
    }
}

#[tokio::test]
async fn accounts_name_their_linked_card_from_the_first_call() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let token = app.demo.token();
        // Before any card call: the cards issued at onboarding are already known.
        let accounts = app.get("/accounts", token).await.ok().clone();
        let cards = app.get("/cards", token).await.ok().clone();
        for card in cards["cards"].as_array().unwrap() {
            let account = accounts["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["AFiAccountId"] == card["AFiAccountId"])
                .expect("the card's account is listed");
            assert_eq!(account["AFiCardId"], card["AFiCardId"], "{engine:?}");
        }
        let euro = accounts["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["balance"]["currency"] == "EUR")
            .unwrap();
        assert!(euro["AFiCardId"].is_null(), "the EUR account has no card");
        app.stop().await;
    }
}
