//! Every write path pushes what it changed, as it now stands, in the contract's shapes: a card switched
//! off, an account's flags, a transaction's comment, the user's profile, a new beneficiary, an alert
//! setting, and a queued transfer (its undo entry and the source account's lower available balance).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::money::ach_beneficiary;
use common::{engines, json, TestApp};

#[tokio::test]
async fn each_change_is_pushed_with_its_object_as_it_now_stands() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let ids = app.demo_objects(&demo).await;
        let mut stream = app.events(&demo.token, None).await;

        app.post_empty(&format!("/cards/{}/off", ids.checking_card), demo.token())
            .await
            .success();
        let card = ids.checking_card.clone();
        let event = stream
            .expect_where("card", |d| d["card"]["AFiCardId"] == card.as_str())
            .await;
        assert_eq!(event.data["card"]["isActive"], false);
        assert_eq!(event.data["card"]["backOfficeName"], "sandbox-a");
        assert!(
            event.data.get("cards").is_none(),
            "one card changed: `card`"
        );

        app.post_json(
            &format!("/accounts/{}", ids.savings),
            demo.token(),
            &json!({ "isHidden": true }),
        )
        .await
        .success();
        let savings = ids.savings.clone();
        let event = stream
            .expect_where("accounts", |d| {
                d["accounts"][0]["AFiAccountId"] == savings.as_str()
            })
            .await;
        assert_eq!(event.data["accounts"][0]["isHidden"], true);

        let line = app.latest(&demo, &ids.checking).await[0]["transactionId"]
            .as_str()
            .unwrap()
            .to_owned();
        app.post_json(
            &format!("/accounts/{}/transactions/{line}", ids.checking),
            demo.token(),
            &json!({ "changes": { "comment": "team lunch" } }),
        )
        .await
        .success();
        let event = stream
            .expect_where("transactions", |d| {
                d["transactions"][0]["comment"] == "team lunch"
            })
            .await;
        assert_eq!(
            event.data["transactions"][0]["transactionId"],
            line.as_str()
        );

        app.post_json("/user", demo.token(), &json!({ "firstName": "Dana" }))
            .await
            .success();
        let event = stream.expect_one_of(&["user"]).await;
        assert_eq!(event.data["user"]["firstName"], "Dana");
        assert!(event.data["user"].get("ssn").is_none());

        let added = app.add_beneficiary(&demo, &ach_beneficiary()).await;
        let event = stream.expect_one_of(&["beneficiaries"]).await;
        assert_eq!(
            event.data["beneficiaries"][0]["AFiBeneficiaryId"],
            added["AFiBeneficiaryId"]
        );

        app.post_json("/alert/alert1", demo.token(), &json!({ "isEnabled": true }))
            .await
            .success();
        let event = stream.expect_one_of(&["alerts"]).await;
        assert_eq!(event.data["alerts"][0]["alertTypeId"], "alert1");
        assert_eq!(event.data["alerts"][0]["isEnabled"], true);

        let body = json!({ "srcAcc": ids.checking, "dstAcc": ids.savings, "amount": "10.00", "currency": "USD" });
        let queued = app
            .post_json("/transfer/acc2acc", demo.token(), &body)
            .await;
        let undo_id = queued.success()["undo"]["id"].as_str().unwrap().to_owned();
        let undo = stream.expect_one_of(&["undo"]).await;
        assert_eq!(undo.data["undo"]["id"], undo_id.as_str());
        let checking = ids.checking.clone();
        let held = stream
            .expect_where("accounts", |d| {
                d["accounts"][0]["AFiAccountId"] == checking.as_str()
            })
            .await;
        assert_eq!(held.data["accounts"][0]["balance"]["available"], 990.0);
        assert!(held.id > undo.id, "the hold is pushed after the undo entry");

        app.stop().await;
    }
}
