//! Messages between the user and support (section 13): sending, listing (all, and since a time),
//! marking read, `dedupCode`, support's replies through the operations listener, and the errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{engines, json, TestApp};
use time::Duration;

#[tokio::test]
async fn a_conversation_with_support() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let demo = app.demo.clone();
        let sent = app
            .put_json(
                "/messages",
                demo.token(),
                &json!({ "text": "  My card is lost  " }),
            )
            .await;
        let message = sent.success()["message"].clone();
        assert_eq!(message["toAFiUserId"], "AmpliFi Support");
        assert_eq!(message["fromAFiUserId"], demo.user_id.as_str());
        assert_eq!(message["text"], "My card is lost");
        assert_eq!(message["isRead"], false);
        assert_eq!(message["isDelivered"], true);
        for null in ["title", "href", "category", "messagePriorityCode"] {
            assert!(message[null].is_null(), "{null}: {message}");
        }
        assert!(message["AFiMessageId"]
            .as_str()
            .unwrap()
            .starts_with("bgmsg"));
        assert!(!message["dedupCode"].as_str().unwrap().is_empty());
        assert_eq!(message["dtsCreated"], "2025-01-15T12:00:00.000Z");

        // A repeat with the same dedupCode is the same message.
        let body = json!({ "text": "Please call me", "dedupCode": "call-1" });
        let first = app.put_json("/messages", demo.token(), &body).await;
        let again = app.put_json("/messages", demo.token(), &body).await;
        assert_eq!(
            first.success()["message"]["AFiMessageId"],
            again.success()["message"]["AFiMessageId"]
        );

        // The same code from support is support's own message, not the user's.
        let from_support = app
            .support_message(
                &demo.user_id,
                &json!({ "text": "Noted", "dedupCode": "call-1" }),
            )
            .await;
        let from_support = from_support.success()["message"].clone();
        assert_eq!(from_support["fromAFiUserId"], "AmpliFi Support");
        assert_ne!(
            from_support["AFiMessageId"],
            first.json["message"]["AFiMessageId"]
        );

        app.clock.advance(Duration::minutes(5));
        let reply = app
            .support_message(
                &demo.user_id,
                &json!({ "text": "A new card is on its way.", "title": "Lost card", "category": "cards" }),
            )
            .await;
        let reply = reply.success()["message"].clone();
        assert_eq!(reply["fromAFiUserId"], "AmpliFi Support");
        assert_eq!(reply["toAFiUserId"], demo.user_id.as_str());
        assert_eq!(reply["title"], "Lost card");

        let all = app.get("/messages", demo.token()).await;
        let texts: Vec<&str> = all.success()["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap())
            .collect();
        assert_eq!(
            texts,
            [
                "My card is lost",
                "Please call me",
                "Noted",
                "A new card is on its way."
            ]
        );
        let since = app
            .get("/messages/2025-01-15T12:01:00Z", demo.token())
            .await;
        let since = since.success()["messages"].as_array().unwrap().clone();
        assert_eq!(since.len(), 1);
        assert_eq!(since[0]["AFiMessageId"], reply["AFiMessageId"]);

        let read = format!("/message/read/{}", reply["AFiMessageId"].as_str().unwrap());
        app.post_empty(&read, demo.token()).await.success();
        app.post_empty(&read, demo.token()).await.success();
        let all = app.get("/messages", demo.token()).await;
        assert_eq!(all.success()["messages"][3]["isRead"], true);

        // Another user sees none of it, and cannot read it.
        let other = app.get("/messages", app.demo2.token()).await;
        assert!(other.success()["messages"].as_array().unwrap().is_empty());
        app.post_empty(&read, app.demo2.token())
            .await
            .error(404, "MESSAGE_NOT_FOUND");
        app.stop().await;
    }
}

#[tokio::test]
async fn bad_messages_are_refused_and_change_nothing() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let token = app.demo.token();
        app.put_json("/messages", token, &json!({ "text": "   " }))
            .await
            .error(400, "INVALID_MESSAGE");
        app.put_json("/messages", token, &json!({ "text": "x".repeat(4001) }))
            .await
            .error(400, "INVALID_MESSAGE");
        app.put_json("/messages", token, &json!({ "body": "hello" }))
            .await
            .error(400, "INVALID_JSON");
        app.get("/messages/yesterday", token)
            .await
            .error(400, "INVALID_DATE");
        app.post_empty("/message/read/bgmsgunknown", token)
            .await
            .error(404, "MESSAGE_NOT_FOUND");
        let all = app.get("/messages", token).await;
        assert!(all.success()["messages"].as_array().unwrap().is_empty());
        // Support writes only to users who exist, and only with the admin token.
        app.support_message("bgusrnobody", &json!({ "text": "hi" }))
            .await
            .error(404, "USER_NOT_FOUND");
        let unauthorized = app
            .client
            .put(app.admin_url(&format!("/admin/users/{}/messages", app.demo.user_id)))
            .json(&json!({ "text": "hi" }))
            .send()
            .await
            .unwrap();
        assert_eq!(unauthorized.status(), 401);
        app.stop().await;
    }
}

#[tokio::test]
async fn a_long_conversation_is_listed_latest_first_and_paged_forward_by_time() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let token = app.demo.token();
        for i in 1..=205 {
            app.clock.advance(Duration::milliseconds(1));
            app.put_json("/messages", token, &json!({ "text": format!("note {i}") }))
                .await
                .success();
        }
        let texts = |resp: &common::Resp| -> Vec<String> {
            resp.json["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["text"].as_str().unwrap().to_owned())
                .collect()
        };
        let latest = texts(&app.get("/messages", token).await);
        assert_eq!(latest.len(), 200);
        assert_eq!(
            (latest[0].as_str(), latest[199].as_str()),
            ("note 6", "note 205")
        );

        let first = app.get("/messages/2025-01-15T12:00:00Z", token).await;
        let first_page = texts(&first);
        assert_eq!(first_page.len(), 200);
        assert_eq!(
            (first_page[0].as_str(), first_page[199].as_str()),
            ("note 1", "note 200")
        );
        let last_seen = first.json["messages"][199]["dtsCreated"]
            .as_str()
            .unwrap()
            .to_owned();
        let rest = texts(&app.get(&format!("/messages/{last_seen}"), token).await);
        assert_eq!(
            rest,
            ["note 201", "note 202", "note 203", "note 204", "note 205"]
        );
        app.stop().await;
    }
}
