//! Alerts (section 17): every user sees the whole catalogue with their own settings; `POST /alerts` takes
//! an array and ignores unknown types; bad parameters change nothing; `POST /alert/:id` toggles one. An
//! enabled alert whose condition happens sends the user a message (pushed), once per transaction, and
//! only for lines at or above its `minAmount`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bankgate::services::back_office_changes::Following;
use bankgate_domain::ids::BackOfficeId;
use common::{engines, json, Session, TestApp};
use serde_json::Value;

async fn alerts(app: &TestApp, who: &Session) -> Vec<Value> {
    let resp = app.get("/alerts", who.token()).await;
    resp.success()["alerts"].as_array().unwrap().clone()
}

fn setting<'a>(alerts: &'a [Value], id: &str) -> &'a Value {
    alerts
        .iter()
        .find(|a| a["alertTypeId"] == id)
        .unwrap_or_else(|| panic!("{id} not in {alerts:?}"))
}

#[tokio::test]
async fn the_catalogue_is_listed_synced_and_toggled() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (demo, demo2) = (app.demo.clone(), app.demo2.clone());
        let listed = alerts(&app, &demo).await;
        let ids: Vec<&str> = listed
            .iter()
            .map(|a| a["alertTypeId"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            [
                "alert1",
                "alert2",
                "alert21",
                "alert4",
                "summaryReportsMonthly",
                "summaryReportsQuarterly",
                "summaryReportsAnnually"
            ]
        );
        assert!(listed.iter().all(|a| a["isEnabled"] == false));
        assert_eq!(setting(&listed, "alert1")["name"], "Credit");
        assert_eq!(
            setting(&listed, "summaryReportsMonthly")["category"],
            "summaryReports"
        );
        assert!(
            setting(&listed, "alert2")["descriptionOn"]
                .as_str()
                .unwrap()
                .len()
                > 10
        );

        let synced = app
            .post_json(
                "/alerts",
                demo.token(),
                &json!([
                    { "alertTypeId": "alert2", "isEnabled": true, "parameters": { "minAmount": "5" } },
                    { "alertTypeId": "alert99", "isEnabled": true, "name": "Made up" }
                ]),
            )
            .await;
        let synced = synced.success()["alerts"].as_array().unwrap().clone();
        assert_eq!(synced.len(), 7, "unknown types are ignored, not added");
        assert_eq!(setting(&synced, "alert2")["isEnabled"], true);
        assert_eq!(setting(&synced, "alert2")["parameters"]["minAmount"], "5");
        assert!(setting(&synced, "alert2")["dtsUpdated"].is_string());

        // Not an array, bad parameters, a bad toggle body: refused, nothing saved.
        app.post_json("/alerts", demo.token(), &json!({ "alertTypeId": "alert1" }))
            .await
            .error(400, "BODY_MUST_BE_ARRAY");
        app.post_json(
            "/alerts",
            demo.token(),
            &json!([
                { "alertTypeId": "alert1", "isEnabled": true },
                { "alertTypeId": "alert21", "parameters": { "minAmount": "ten" } }
            ]),
        )
        .await
        .error(400, "INVALID_PARAMETERS");
        app.post_json(
            "/alerts",
            demo.token(),
            &json!([{ "alertTypeId": "alert21", "parameters": [1, 2] }]),
        )
        .await
        .error(400, "INVALID_PARAMETERS");
        app.post_json(
            "/alert/alert21",
            demo.token(),
            &json!({ "isEnabled": "yes" }),
        )
        .await
        .error(400, "INVALID_JSON");
        let after = alerts(&app, &demo).await;
        assert_eq!(setting(&after, "alert1")["isEnabled"], false);

        app.post_json(
            "/alert/alert21",
            demo.token(),
            &json!({ "isEnabled": true }),
        )
        .await
        .success();
        app.post_json(
            "/alert/alert99",
            demo.token(),
            &json!({ "isEnabled": true }),
        )
        .await
        .error(404, "ALERT_NOT_FOUND");
        app.post_json("/alert/alert21", None, &json!({ "isEnabled": true }))
            .await
            .error(401, "UNAUTHORIZED");
        let after = alerts(&app, &demo).await;
        assert_eq!(setting(&after, "alert21")["isEnabled"], true);
        assert_eq!(setting(&after, "alert2")["isEnabled"], true);

        // Settings are per user.
        assert!(alerts(&app, &demo2)
            .await
            .iter()
            .all(|a| a["isEnabled"] == false));
        app.stop().await;
    }
}

#[tokio::test]
async fn an_enabled_alert_sends_one_message_per_transaction_it_fires_for() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        app.post_json(
            "/alerts",
            demo.token(),
            &json!([{ "alertTypeId": "alert2", "isEnabled": true, "parameters": { "minAmount": 5 } }]),
        )
        .await
        .success();
        let mut stream = app.events(&demo.token, None).await;

        // Below the minimum: no alert. At or above: one.
        app.authorize(&ids.checking_card, "4.00", "5812", json!({}))
            .await
            .success();
        let approved = app
            .authorize(
                &ids.checking_card,
                "12.50",
                "5812",
                json!({ "merchant": "Diner" }),
            )
            .await;
        let line = approved.success()["transactionId"]
            .as_str()
            .unwrap()
            .to_owned();
        let event = stream.expect_one_of(&["messages"]).await;
        let message = &event.data["messages"][0];
        assert_eq!(message["fromAFiUserId"], "AmpliFi Alerts");
        assert_eq!(message["toAFiUserId"], demo.user_id.as_str());
        assert_eq!(message["dedupCode"], format!("alert2:{line}"));
        assert_eq!(message["title"], "Card purchase");
        assert!(
            message["text"].as_str().unwrap().starts_with("12.50 USD"),
            "{message}"
        );

        // Following the back office sees the same purchase again: still one message. demo2's purchase
        // sends demo nothing, and nothing to demo2 either (its alerts are off).
        let services = app.services();
        let mut following = Following::default();
        for id in ["sandbox-a", "sandbox-b"] {
            let id = BackOfficeId::parse(id).unwrap();
            services
                .follow_back_office(&id, &mut following)
                .await
                .unwrap();
        }
        let other = app.demo_objects(&app.demo2).await;
        app.authorize(&other.checking_card, "30.00", "5812", json!({}))
            .await
            .success();
        let from_alerts = |who: &Session| {
            let app = &app;
            let who = who.clone();
            async move {
                let listed = app.get("/messages", who.token()).await;
                listed.success()["messages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|m| m["fromAFiUserId"] == "AmpliFi Alerts")
                    .count()
            }
        };
        assert_eq!(from_alerts(&demo).await, 1);
        assert_eq!(from_alerts(&app.demo2).await, 0);
        app.stop().await;
    }
}

#[tokio::test]
async fn a_summary_report_is_sent_once_for_each_period_that_ended_while_it_was_on() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        app.latest(&demo, &ids.checking).await;
        app.authorize(&ids.checking_card, "12.50", "5812", json!({}))
            .await
            .success();
        app.post_json(
            "/alert/summaryReportsMonthly",
            demo.token(),
            &json!({ "isEnabled": true }),
        )
        .await
        .success();
        let services = app.services();
        // Turned on in January: December's summary is not sent.
        assert_eq!(services.send_due_summaries().await.unwrap(), 0);

        app.clock.advance(time::Duration::days(20));
        assert_eq!(services.send_due_summaries().await.unwrap(), 1);
        assert_eq!(services.send_due_summaries().await.unwrap(), 0, "sent once");
        // Twenty days on, the sessions have idled out.
        let demo = app.login_ok("demo", "demo-password").await;
        let listed = app.get("/messages", demo.token()).await;
        let summaries: Vec<&Value> = listed.success()["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["dedupCode"] == "summaryReportsMonthly:2025-01")
            .collect();
        assert_eq!(summaries.len(), 1);
        assert_eq!(summaries[0]["title"], "Monthly summary 2025-01");
        // The checking account's line, as its January statement has it.
        let january = app
            .get(
                &format!(
                    "/accounts/{}/transactions/2025-01-01/2025-01-31",
                    ids.checking
                ),
                demo.token(),
            )
            .await;
        let amounts: Vec<f64> = january
            .ok()
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["amount"].as_f64().unwrap())
            .collect();
        assert!(amounts.contains(&-12.5));
        let (ins, outs): (Vec<f64>, Vec<f64>) = amounts.iter().partition(|a| **a > 0.0);
        let expected = format!(
            "Everyday checking: {} in ({:.2} USD), {} out ({:.2} USD)",
            ins.len(),
            ins.iter().fold(0.0, |total, a| total + a),
            outs.len(),
            outs.iter().fold(0.0, |total, a| total - a)
        );
        let text = summaries[0]["text"].as_str().unwrap();
        assert!(text.starts_with("Your accounts in 2025-01. "), "{text}");
        assert!(text.contains(&expected), "{text} lacks {expected}");
        // demo2 never turned it on.
        let demo2 = app.login_ok("demo2", "demo2-password").await;
        let other = app.get("/messages", demo2.token()).await;
        assert!(other.success()["messages"].as_array().unwrap().is_empty());
        app.stop().await;
    }
}
