//! Push over real connections (`GET /events`, `GET /socket`): a user's changes arrive in order with
//! increasing ids; a client reconnecting with the last id it saw gets what it missed before anything
//! else; one user never sees another's events; an ended session closes the connection; a WebSocket
//! client may authenticate with a first message; and on PostgreSQL, a change made through one node reaches
//! a client connected to another.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::push::{next_json, next_json_of};
use common::{engines, json, TestApp};
use futures::SinkExt;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn a_users_changes_arrive_in_order_and_a_reconnect_resumes_after_the_last_id() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (demo, demo2) = (app.demo.clone(), app.demo2.clone());
        let ids = app.demo_objects(&demo).await;
        let mut stream = app.events(&demo.token, None).await;
        let mut other = app.events(&demo2.token, None).await;

        let body = json!({ "srcAcc": ids.checking, "dstAcc": ids.savings, "amount": "10.00", "currency": "USD" });
        let queued = app
            .post_json("/transfer/acc2acc", demo.token(), &body)
            .await;
        let undo_id = queued.success()["undo"]["id"].as_str().unwrap().to_owned();
        // Events carry each object as it stands when sent: the first is read before the cancel.
        let ours = ["undo", "messages"];
        let first = stream.expect_one_of(&ours).await;
        assert_eq!(first.name, "undo");
        assert_eq!(first.data["type"], "undo");
        assert_eq!(first.data["undo"]["id"], undo_id.as_str());
        assert_eq!(first.data["undo"]["state"], "waiting");
        let message_id = app.message_support(&demo.token, "Where is my card?").await;
        let second = stream.expect_one_of(&ours).await;
        app.delete(&format!("/undo/{undo_id}"), demo.token())
            .await
            .success();
        assert_eq!(second.name, "messages");
        assert_eq!(
            second.data["messages"][0]["AFiMessageId"],
            message_id.as_str()
        );
        assert_eq!(second.data["messages"][0]["toAFiUserId"], "AmpliFi Support");
        let third = stream.expect_one_of(&ours).await;
        assert_eq!(third.data["undo"]["state"], "cancelled");
        assert_eq!(third.data["undo"]["isCancelled"], true);
        let seen: Vec<i64> = [&first, &second, &third]
            .iter()
            .map(|e| e.id.unwrap())
            .collect();
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
        assert_eq!(first.data["id"], seen[0]);
        drop(stream);

        // Missed while away: support's answer, then the user reads it on another phone.
        let reply = app
            .support_message(
                &demo.user_id,
                &json!({ "text": "It is on its way.", "title": "Your card" }),
            )
            .await;
        let reply_id = reply.success()["message"]["AFiMessageId"]
            .as_str()
            .unwrap()
            .to_owned();
        app.post_empty(&format!("/message/read/{reply_id}"), demo.token())
            .await
            .success();
        let mut resumed = app.events(&demo.token, Some(seen[2])).await;
        let missed = resumed.expect_one_of(&ours).await;
        assert_eq!(
            missed.data["messages"][0]["AFiMessageId"],
            reply_id.as_str()
        );
        assert_eq!(
            missed.data["messages"][0]["fromAFiUserId"],
            "AmpliFi Support"
        );
        assert!(missed.id.unwrap() > seen[2]);
        let read = resumed.expect_one_of(&ours).await;
        assert_eq!(read.data["messages"][0]["isRead"], true);

        // demo2 saw none of it: its first event is its own.
        let own = app.message_support(&demo2.token, "Hello").await;
        let first_of_other = other.expect_one_of(&ours).await;
        assert_eq!(
            first_of_other.data["messages"][0]["AFiMessageId"],
            own.as_str()
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn resuming_from_an_unknown_id_asks_the_client_to_read_everything_again() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        app.message_support(&app.demo.token, "one").await;
        let mut stream = app.events(&app.demo.token, Some(999)).await;
        let resync = stream.expect().await;
        assert_eq!(resync.name, "resync");
        assert_eq!(resync.data["type"], "resync");
        app.stop().await;
    }
}

#[tokio::test]
async fn an_ended_session_closes_its_event_stream() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let session = app.login_ok("demo", "demo-password").await;
        let mut stream = app.events(&session.token, None).await;
        app.delete("/token", session.token()).await.success();
        let closed = stream.expect_one_of(&["closed"]).await;
        assert_eq!(closed.name, "closed", "{closed:?}");
        assert!(stream.next().await.is_none(), "the stream goes on");
        // The other session of the same user is untouched.
        app.get("/user", app.demo.token()).await.success();
        app.stop().await;
    }
}

#[tokio::test]
async fn a_websocket_client_authenticates_with_its_first_message_and_logout_closes_it() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let session = app.login_ok("demo", "demo-password").await;
        let mut socket = app.socket().await;
        let hello = json!({ "token": session.token }).to_string();
        socket.send(Message::Text(hello.into())).await.unwrap();
        let ready = next_json(&mut socket).await;
        assert_eq!(ready["type"], "ready");
        let id = app.message_support(&session.token, "from the socket").await;
        let event = next_json_of(&mut socket, "messages").await;
        assert_eq!(event["messages"][0]["AFiMessageId"], id.as_str());
        assert!(event["id"].as_i64().unwrap() > ready["id"].as_i64().unwrap());

        app.delete("/token", session.token()).await.success();
        let closing = loop {
            use futures::StreamExt;
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => break frame,
                Some(Ok(_)) => continue,
                other => panic!("no close frame: {other:?}"),
            }
        };
        assert_eq!(u16::from(closing.unwrap().code), 4401);

        // A wrong token in the hello is closed at once; a wrong token header is a plain 401.
        let mut stranger = app.socket().await;
        stranger
            .send(Message::Text(json!({ "token": "nope" }).to_string().into()))
            .await
            .unwrap();
        use futures::StreamExt;
        assert!(matches!(
            stranger.next().await,
            Some(Ok(Message::Close(_))) | None
        ));
        let url = format!("{}/socket", app.base.replacen("http://", "ws://", 1));
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("token", "nope".parse().unwrap());
        match tokio_tungstenite::connect_async(request).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(refused)) => {
                assert_eq!(refused.status(), 401);
            }
            other => panic!("a bad token header was let in: {:?}", other.map(|_| ())),
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn a_change_made_through_one_node_reaches_a_client_of_another() {
    for engine in engines()
        .into_iter()
        .filter(|e| *e == bankgate_db::Engine::Postgres)
    {
        let app = TestApp::start(engine).await;
        let second = app.second_node().await;
        let mut stream = app.events(&app.demo.token, None).await;
        let resp = app
            .client
            .put(format!("http://{}/messages", second.public_addr))
            .header("token", &app.demo.token)
            .json(&json!({ "text": "through the other node" }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let event = stream.expect_one_of(&["messages"]).await;
        assert_eq!(event.data["messages"][0]["text"], "through the other node");
        second.stop().await;
        app.stop().await;
    }
}

#[tokio::test]
async fn a_user_has_at_most_sixteen_push_connections_per_node() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let token = app.demo.token.clone();
        let mut open = Vec::new();
        for _ in 0..16 {
            open.push(app.events(&token, None).await);
        }
        app.get("/events", Some(&token))
            .await
            .error(429, "TOO_MANY_CONNECTIONS");
        let url = format!("{}/socket", app.base.replacen("http://", "ws://", 1));
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("token", token.parse().unwrap());
        match tokio_tungstenite::connect_async(request).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(refused)) => {
                assert_eq!(refused.status(), 429);
            }
            other => panic!("a 17th connection was let in: {:?}", other.map(|_| ())),
        }
        // Another user is not affected, and a closed connection frees its place.
        drop(app.events(&app.demo2.token, None).await);
        open.pop();
        let reopened = async {
            loop {
                let attempt = app.client.get(app.url("/events")).header("token", &token);
                // The status comes before the (endless) body.
                if attempt.send().await.unwrap().status() == 200 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(5), reopened)
            .await
            .expect("the place was not freed");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_websocket_client_that_never_answers_is_closed() {
    for engine in engines() {
        let app = TestApp::start_with(engine, |c| c.push_heartbeat_ms = 50).await;
        let url = format!("{}/socket", app.base.replacen("http://", "ws://", 1));
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("token", app.demo.token.parse().unwrap());
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        // Not reading means not answering pings; three heartbeats later the server gives up.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        // Reading now answers pings, too late: the server has closed (its close frame may be lost
        // to the answer's broken pipe). A server that had not would keep pinging until the timeout.
        let ended = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            use futures::StreamExt;
            loop {
                match socket.next().await {
                    Some(Ok(Message::Close(frame))) => break frame,
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => break None,
                }
            }
        })
        .await
        .expect("the server kept a silent client");
        if let Some(frame) = ended {
            assert_eq!(u16::from(frame.code), 1001);
            assert_eq!(frame.reason.as_str(), "no answer to pings");
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn an_address_may_have_only_so_many_websockets_waiting_for_their_hello() {
    for engine in engines() {
        let app = TestApp::start_with(engine, |c| c.push_pending_hellos_per_address = 4).await;
        let mut waiting = Vec::new();
        for _ in 0..4 {
            waiting.push(app.socket().await);
        }
        let url = format!("{}/socket", app.base.replacen("http://", "ws://", 1));
        match tokio_tungstenite::connect_async(url.as_str()).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(refused)) => {
                assert_eq!(refused.status(), 429);
            }
            other => panic!(
                "one more waiting socket was let in: {:?}",
                other.map(|_| ())
            ),
        }
        // A hello frees the place it waited in (the socket lives on as the user's connection).
        let hello = json!({ "token": app.demo.token }).to_string();
        waiting[0].send(Message::Text(hello.into())).await.unwrap();
        assert_eq!(next_json(&mut waiting[0]).await["type"], "ready");
        tokio_tungstenite::connect_async(url.as_str())
            .await
            .expect("the place was not freed");
        app.stop().await;
    }
}
