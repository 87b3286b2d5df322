//! Stand-in: while a back office is unavailable, reads of its objects come from bankgate's store, marked
//! stale, and the rest of the answer stays fresh. The back office is taken out of service through the
//! operations listener's maintenance switch, which makes every call to it fail at once, as an open
//! circuit does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{engines, TestApp, ADMIN_TOKEN};
use serde_json::Value;

fn by_id<'a>(list: &'a [Value], key: &str, id: &str) -> &'a Value {
    list.iter()
        .find(|o| o[key] == id)
        .unwrap_or_else(|| panic!("{id} not in {list:?}"))
}

#[tokio::test]
async fn reads_of_an_unavailable_back_office_come_from_the_store_marked_stale() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        let before = app.get("/accounts", demo.token()).await;
        assert!(before.success().get("standIn").is_none(), "{}", before.text);
        let savings_lines = app.latest(&demo, &ids.savings).await;
        assert!(!savings_lines.is_empty());

        app.maintenance("sandbox-b", true).await;

        // The list: sandbox-a's checking is fresh, sandbox-b's two accounts are the stored copies.
        let resp = app.get("/accounts", demo.token()).await;
        let body = resp.success();
        assert_eq!(body["standIn"], true, "{body}");
        let accounts = body["accounts"].as_array().unwrap();
        assert_eq!(accounts.len(), 3, "{body}");
        let checking = by_id(accounts, "AFiAccountId", &ids.checking);
        assert_eq!(checking["isStale"], false);
        for id in [&ids.savings, &ids.euro] {
            let account = by_id(accounts, "AFiAccountId", id);
            assert_eq!(account["isStale"], true, "{account}");
            assert_eq!(account["dtsRefreshed"], "2025-01-15T12:00:00.000Z");
            let was = by_id(
                before.success()["accounts"].as_array().unwrap(),
                "AFiAccountId",
                id,
            );
            assert_eq!(account["balance"], was["balance"], "the last known balance");
        }

        // One account, its transactions and its card.
        let resp = app
            .get(&format!("/accounts/{}", ids.savings), demo.token())
            .await;
        assert_eq!(resp.success()["standIn"], true);
        assert_eq!(resp.success()["account"]["isStale"], true);
        let resp = app
            .get(
                &format!("/accounts/{}/transactions/latest", ids.savings),
                demo.token(),
            )
            .await;
        assert_eq!(resp.header("stand-in"), Some("true"));
        let stale_lines = resp.ok().as_array().unwrap().clone();
        assert_eq!(stale_lines.len(), savings_lines.len());
        for (stale, fresh) in stale_lines.iter().zip(&savings_lines) {
            assert_eq!(stale["transactionId"], fresh["transactionId"]);
            assert_eq!(stale["amount"], fresh["amount"]);
            assert_eq!(stale["isStale"], true);
        }
        let resp = app
            .get(
                &format!(
                    "/accounts/{}/transactions/2024-01-01/2025-12-31",
                    ids.savings
                ),
                demo.token(),
            )
            .await;
        assert_eq!(resp.header("stand-in"), Some("true"));
        assert_eq!(resp.ok().as_array().unwrap().len(), savings_lines.len());
        let resp = app
            .get(
                &format!("/accounts/{}/transactions/latest", ids.checking),
                demo.token(),
            )
            .await;
        assert_eq!(
            resp.header("stand-in"),
            None,
            "a healthy back office answers itself"
        );

        let resp = app.get("/cards", demo.token()).await;
        let body = resp.success();
        assert_eq!(body["standIn"], true);
        let cards = body["cards"].as_array().unwrap();
        assert_eq!(
            by_id(cards, "AFiCardId", &ids.savings_card)["isStale"],
            true
        );
        assert_eq!(
            by_id(cards, "AFiCardId", &ids.checking_card)["isStale"],
            false
        );
        let resp = app
            .get(&format!("/cards/{}", ids.savings_card), demo.token())
            .await;
        assert_eq!(resp.success()["standIn"], true);
        assert_eq!(resp.success()["card"]["isStale"], true);

        // Readiness and metrics say which back office is out.
        let ready = app.admin_get("/ready").await;
        let offices = ready.json["backOffices"].as_array().unwrap();
        assert_eq!(by_id(offices, "id", "sandbox-b")["circuit"], "maintenance");
        let metrics = app.admin_get("/metrics").await.text;
        assert!(
            metrics.contains(
                r#"bankgate_backoffice_circuit{back_office="sandbox-b",state="maintenance"} 1"#
            ),
            "{metrics}"
        );

        // Back in service: fresh again.
        app.maintenance("sandbox-b", false).await;
        let resp = app.get("/accounts", demo.token()).await;
        assert!(resp.success().get("standIn").is_none(), "{}", resp.text);
        assert!(resp.success()["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["isStale"] == false));
        app.stop().await;
    }
}

#[tokio::test]
async fn the_maintenance_switch_needs_the_admin_token_and_a_known_back_office() {
    let app = TestApp::start(engines()[0]).await;
    let resp = app.set_maintenance("sandbox-a", true, None).await;
    resp.error(401, "UNAUTHORIZED");
    let resp = app
        .set_maintenance("sandbox-zz", true, Some(ADMIN_TOKEN))
        .await;
    resp.error(404, "NO_SUCH_BACK_OFFICE");
    let accounts = app.get("/accounts", app.demo.token()).await;
    assert!(accounts.success().get("standIn").is_none());
    app.stop().await;
}

/// A transfer body from `from` to `to`.
fn transfer(from: &str, to: &str, amount: &str) -> Value {
    common::json!({ "srcAcc": from, "dstAcc": to, "amount": amount, "currency": "USD" })
}

#[tokio::test]
async fn transfers_are_queued_within_the_stand_in_limits_and_run_once_when_the_bank_returns() {
    for engine in engines() {
        let app = TestApp::start_with(engine, |c| {
            c.stand_in_max_per_operation = 150;
            c.stand_in_max_per_user = 250;
        })
        .await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        app.maintenance("sandbox-b", true).await;

        // From the savings account at the unavailable sandbox-b: accepted in stand-in, 202.
        let first = app
            .post_json(
                "/transfer/acc2acc",
                demo.token(),
                &transfer(&ids.savings, &ids.checking, "100.00"),
            )
            .await;
        assert_eq!(first.status, 202, "{}", first.text);
        assert_eq!(first.json["queued"], true);
        let first_undo = first.json["undo"]["id"].as_str().unwrap().to_owned();

        // Over the per-operation limit, then over the per-user limit: refused, nothing held.
        let big = app
            .post_json(
                "/transfer/acc2acc",
                demo.token(),
                &transfer(&ids.savings, &ids.checking, "150.01"),
            )
            .await;
        let message = big.error(409, "STAND_IN_LIMIT");
        assert!(message.contains("150.00 USD"), "{message}");
        let second = app
            .post_json(
                "/transfer/acc2acc",
                demo.token(),
                &transfer(&ids.savings, &ids.checking, "150.00"),
            )
            .await;
        assert_eq!(second.status, 202, "{}", second.text);
        let third = app
            .post_json(
                "/transfer/acc2acc",
                demo.token(),
                &transfer(&ids.savings, &ids.checking, "0.01"),
            )
            .await;
        let message = third.error(409, "STAND_IN_LIMIT");
        assert!(message.contains("250.00 USD"), "{message}");

        // The stored balance less both holds.
        let savings = app.account(&demo, &ids.savings).await;
        assert_eq!(savings["isStale"], true);
        assert_eq!(
            app.balance(&demo, &ids.savings).await,
            common::money::pair("500.00", "250.00")
        );

        // A conversion needs the bank's rate now; a transfer *to* the unavailable bank is a normal one.
        let fx = app
            .post_json(
                "/transfer/acc2acc",
                demo.token(),
                &common::json!({ "srcAcc": ids.euro, "dstAcc": ids.checking, "amount": "10.00", "currency": "EUR" }),
            )
            .await;
        fx.error(503, "BACK_OFFICE_UNAVAILABLE");
        assert!(fx.header("retry-after").is_some());
        let inbound = app
            .post_json(
                "/transfer/acc2acc",
                demo.token(),
                &transfer(&ids.checking, &ids.savings, "1.00"),
            )
            .await;
        assert_eq!(inbound.status, 200, "{}", inbound.text);
        let inbound_undo = inbound.json["undo"]["id"].as_str().unwrap().to_owned();

        // The windows end while the bank is still out: the jobs wait for it, retrying.
        app.clock.advance(time::Duration::seconds(11));
        let waiting = app.wait_for_undo(&demo, &first_undo, &["retrying"]).await;
        assert!(
            waiting["reason"]
                .as_str()
                .unwrap()
                .contains("did not answer"),
            "{waiting}"
        );

        // Back: every queued transfer runs, once.
        app.maintenance("sandbox-b", false).await;
        for undo in [&first_undo, &inbound_undo] {
            let done = app.wait_for_undo(&demo, undo, &["done", "failed"]).await;
            assert_eq!(done["state"], "done", "{done}");
        }
        let second_undo = second.json["undo"]["id"].as_str().unwrap();
        app.wait_for_undo(&demo, second_undo, &["done"]).await;
        assert_eq!(
            app.balance(&demo, &ids.savings).await,
            common::money::pair("251.00", "251.00")
        );
        assert_eq!(
            app.balance(&demo, &ids.checking).await,
            common::money::pair("1249.00", "1249.00")
        );

        // The stand-in exposure left with the holds: the limit is whole again.
        app.maintenance("sandbox-b", true).await;
        let again = app
            .post_json(
                "/transfer/acc2acc",
                demo.token(),
                &transfer(&ids.savings, &ids.checking, "150.00"),
            )
            .await;
        assert_eq!(again.status, 202, "{}", again.text);
        let undo = again.json["undo"]["id"].as_str().unwrap();
        let cancelled = app.delete(&format!("/undo/{undo}"), demo.token()).await;
        assert_eq!(cancelled.status, 200, "{}", cancelled.text);
        assert_eq!(app.balance(&demo, &ids.savings).await.1, "251.00");
        app.stop().await;
    }
}

#[tokio::test]
async fn card_switches_are_queued_and_the_last_one_asked_wins_while_pin_and_activation_wait() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        app.maintenance("sandbox-b", true).await;
        let card = &ids.savings_card;

        let off = app
            .post_empty(&format!("/cards/{card}/off"), demo.token())
            .await;
        assert_eq!(off.status, 202, "{}", off.text);
        assert_eq!(off.json["queued"], true);
        assert_eq!(off.json["card"]["isStale"], true);
        assert_eq!(off.json["undo"]["kind"], "card_switch");
        let off_undo = off.json["undo"]["id"].as_str().unwrap().to_owned();
        let on = app
            .post_empty(&format!("/cards/{card}/on"), demo.token())
            .await;
        assert_eq!(on.status, 202, "{}", on.text);
        let on_undo = on.json["undo"]["id"].as_str().unwrap().to_owned();
        let off_again = app
            .post_empty(&format!("/cards/{card}/off"), demo.token())
            .await;
        let last_undo = off_again.json["undo"]["id"].as_str().unwrap().to_owned();

        // What cannot be queued answers 503 with Retry-After.
        let pin = app
            .post_json(
                &format!("/cards/{card}/pin"),
                demo.token(),
                &common::json!({ "pin": "12345678" }),
            )
            .await;
        pin.error(503, "BACK_OFFICE_UNAVAILABLE");
        assert!(pin.header("retry-after").is_some());
        let activate = app
            .post_empty(&format!("/cards/{card}/activate"), demo.token())
            .await;
        activate.error(503, "BACK_OFFICE_UNAVAILABLE");

        // Coming back makes the retrying switches due at once, even one whose attempt was failing
        // just then: the test clock stands still, so no backoff could end.
        app.maintenance("sandbox-b", false).await;
        for undo in [&off_undo, &on_undo, &last_undo] {
            let done = app.wait_for_undo(&demo, undo, &["done", "failed"]).await;
            assert_eq!(done["state"], "done", "{done}");
        }
        let fresh = app.get(&format!("/cards/{card}"), demo.token()).await;
        let fresh = &fresh.success()["card"];
        assert_eq!(fresh["isStale"], false);
        assert_eq!(
            fresh["status"], "blocked",
            "the last switch asked was off: {fresh}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn a_payment_to_a_beneficiary_is_queued_in_stand_in_and_made_once_when_the_bank_returns() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        let beneficiary = app
            .add_beneficiary(&demo, &common::money::ach_beneficiary())
            .await;
        let beneficiary = common::money::beneficiary_id(&beneficiary);
        app.maintenance("sandbox-b", true).await;

        let resp = app
            .pay_now(&demo, &ids.savings, &beneficiary, "40.00")
            .await;
        assert_eq!(resp.status, 202, "{}", resp.text);
        assert_eq!(resp.json["queued"], true);
        let undo = resp.json["undo"]["id"].as_str().unwrap().to_owned();
        assert_eq!(undo.len(), 5, "cancellable until it runs: {}", resp.text);
        assert_eq!(app.balance(&demo, &ids.savings).await.1, "460.00");

        let remittance = app
            .post_json(
                "/remittance/stand-in-1",
                demo.token(),
                &common::json!({ "sourceAccountId": ids.savings, "AFiBeneficiaryId": beneficiary,
                                 "amount": "10.00", "currency": "USD" }),
            )
            .await;
        assert_eq!(remittance.status, 202, "{}", remittance.text);
        assert_eq!(remittance.json["queued"], true);
        let remittance_undo = remittance.json["undo"]["id"].as_str().unwrap().to_owned();

        app.clock.advance(time::Duration::seconds(11));
        app.maintenance("sandbox-b", false).await;
        for undo in [&undo, &remittance_undo] {
            let done = app.wait_for_undo(&demo, undo, &["done", "failed"]).await;
            assert_eq!(done["state"], "done", "{done}");
        }
        assert_eq!(
            app.balance(&demo, &ids.savings).await,
            common::money::pair("450.00", "450.00")
        );
        let lines = app.latest(&demo, &ids.savings).await;
        let payments = lines
            .iter()
            .filter(|l| l["AFiBeneficiaryId"] == beneficiary.as_str())
            .count();
        assert_eq!(payments, 2, "each payment made once: {lines:?}");
        app.stop().await;
    }
}
