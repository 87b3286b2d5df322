//! Changes made on a back office's own side (money arriving from outside, a card purchase the network
//! decided) flow into bankgate through the back office's change feed: the store records them, the user's
//! apps get them pushed, and alerts fire. Applying the feed again changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bankgate::services::back_office_changes::GapWatch;
use bankgate_backoffice::{AuthorizationOutcome, AuthorizationRequest, Deposit, IdempotencyKey};
use bankgate_domain::ids::{BackOfficeId, BoRef, UserId};
use bankgate_domain::{Clock, Currency, Money};
use common::{engines, json, TestApp};
use time::PrimitiveDateTime;

#[tokio::test]
async fn a_credit_and_a_purchase_made_at_the_back_office_are_recorded_and_pushed_once() {
    for engine in engines() {
        let app = TestApp::start_with(engine, |c| c.change_feed_poll_ms = 20).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        app.post_json("/alert/alert1", demo.token(), &json!({ "isEnabled": true }))
            .await
            .success();
        let checking = app.account(&demo, &ids.checking).await;
        let account_ref = BoRef(checking["accountIdBO"].as_str().unwrap().to_owned());
        let card = app
            .get(&format!("/cards/{}", ids.checking_card), demo.token())
            .await;
        let card_ref = BoRef(
            card.success()["card"]["cardIdBO"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        let mut stream = app.events(&demo.token, None).await;

        let sandbox_a = BackOfficeId::parse("sandbox-a").unwrap();
        let office = app.services().back_offices.get(&sandbox_a).unwrap().clone();
        let usd = Currency::parse("USD").unwrap();
        let now = app.clock.now();
        office
            .accounts()
            .unwrap()
            .deposit(
                &account_ref,
                &Deposit {
                    amount: Money::new(25_000, usd),
                    narrative: "Salary from Acme".to_owned(),
                    value_at: now,
                },
                &IdempotencyKey("test-salary".to_owned()),
            )
            .await
            .unwrap();

        // The account first (its balance), then the line, then the alert it fired.
        let account = stream
            .expect_where("accounts", |d| {
                d["accounts"][0]["balance"]["native"] == 1_250.0
            })
            .await;
        assert_eq!(
            account.data["accounts"][0]["AFiAccountId"],
            ids.checking.as_str()
        );
        let line = stream
            .expect_where("transactions", |d| {
                d["transactions"][0]["narrative"] == "Salary from Acme"
            })
            .await;
        assert_eq!(line.data["transactions"][0]["amount"], 250.0);
        let alert = stream.expect_one_of(&["messages"]).await;
        assert_eq!(alert.data["messages"][0]["title"], "Money received");

        let outcome = office
            .card_authorization()
            .unwrap()
            .authorize(&AuthorizationRequest {
                card_id_bo: card_ref,
                amount: Money::new(1_999, usd),
                mcc: "5411".to_owned(),
                merchant: Some("Grocer".to_owned()),
                local_time: PrimitiveDateTime::new(now.date(), now.time()),
                at: now,
            })
            .await
            .unwrap();
        assert!(matches!(outcome, AuthorizationOutcome::Approved { .. }));
        let purchase = stream
            .expect_where("transactions", |d| d["transactions"][0]["amount"] == -19.99)
            .await;
        assert_eq!(
            purchase.data["transactions"][0]["AFiCardId"],
            ids.checking_card.as_str()
        );
        let latest = app.latest(&demo, &ids.checking).await;
        assert!(latest.iter().any(|t| t["amount"] == -19.99), "{latest:?}");

        // Applying the feed again (as after a crash before its position was saved) adds no event.
        let user = UserId::parse(&demo.user_id).unwrap();
        let services = app.services();
        let before = services.store.last_event(&user).await.unwrap();
        sqlx::query("UPDATE back_office_feeds SET last_seq = 0")
            .execute(services.store.db().write())
            .await
            .unwrap();
        let mut gaps = GapWatch::default();
        for _ in 0..3 {
            services
                .follow_back_office(&sandbox_a, &mut gaps)
                .await
                .unwrap();
        }
        assert_eq!(services.store.last_event(&user).await.unwrap(), before);
        app.stop().await;
    }
}
