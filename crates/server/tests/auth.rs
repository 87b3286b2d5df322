//! Heartbeat, logging in and out, tokens, session expiry and login throttling.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{engines, json, TestApp};
use time::Duration;

#[tokio::test]
async fn heartbeat_needs_no_token() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let resp = app.get("/ping/heartbeat", None).await;
        let body = resp.success();
        assert_eq!(body["dts"], json!("2025-01-15T12:00:00.000Z"));
        assert_eq!(body.as_object().unwrap().len(), 2, "{}", resp.text);
        // A garbage token does not matter here either.
        app.get("/ping/heartbeat", Some("garbage")).await.success();
        app.stop().await;
    }
}

#[tokio::test]
async fn login_answers_token_user_and_expiry() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let resp = app.login("demo", "demo-password").await;
        let body = resp.success();
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            ["AFiUserId", "dtsExpiry", "success", "token", "userId"],
            "{}",
            resp.text
        );
        let token = body["token"].as_str().unwrap();
        // At least 128 bits: 32 hex digits or more.
        assert!(token.len() >= 32, "token too short: {token}");
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric()), "{token}");
        assert_eq!(body["AFiUserId"], body["userId"]);
        assert_eq!(body["AFiUserId"], json!(app.demo.user_id));
        // Sessions last 12 hours by default.
        assert_eq!(body["dtsExpiry"], json!("2025-01-16T00:00:00.000Z"));
        // Every login gets its own token, and each works.
        assert_ne!(token, app.demo.token);
        app.get("/user", Some(token)).await.success();
        app.get("/user", app.demo.token()).await.success();
        // The user name is the login, not the display name; demo2 is someone else.
        assert_ne!(app.demo.user_id, app.demo2.user_id);
        app.stop().await;
    }
}

#[tokio::test]
async fn bad_credentials_get_the_same_401() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let wrong_password = app.login("demo", "not-the-password").await;
        let unknown_user = app.login("nobody-at-all", "demo-password").await;
        let m1 = wrong_password.error(401, "BAD_CREDENTIALS");
        let m2 = unknown_user.error(401, "BAD_CREDENTIALS");
        assert_eq!(m1, m2);
        assert_eq!(wrong_password.text, unknown_user.text);
        app.stop().await;
    }
}

#[tokio::test]
async fn login_input_errors_are_400() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        // Only the internet channel is accepted.
        let android =
            json!({ "channel": "android", "userName": "demo", "password": "demo-password" });
        app.put_json("/token", None, &android)
            .await
            .error(400, "UNSUPPORTED_CHANNEL");
        // The reference's demo example, which has no credentials.
        let test_channel = json!({ "channel": "test", "deviceTag": "my_deviceTag", "deviceData": { "platform": "test" } });
        app.put_json("/token", None, &test_channel)
            .await
            .error(400, "MISSING_CREDENTIALS");
        let no_password = json!({ "channel": "internet", "userName": "demo" });
        app.put_json("/token", None, &no_password)
            .await
            .error(400, "MISSING_CREDENTIALS");
        let no_channel = json!({ "userName": "demo", "password": "demo-password" });
        app.put_json("/token", None, &no_channel)
            .await
            .error(400, "INVALID_JSON");
        app.post_raw("/user", None, "{")
            .await
            .error(401, "UNAUTHORIZED");
        let resp = app
            .send(
                app.client
                    .put(app.url("/token"))
                    .header("content-type", "application/json")
                    .body("{\"channel\": \"internet\", "),
            )
            .await;
        resp.error(400, "INVALID_JSON");
        app.stop().await;
    }
}

#[tokio::test]
async fn logout_ends_only_that_token() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let other = app.login_ok("demo", "demo-password").await;
        let resp = app.delete("/token", app.demo.token()).await;
        assert_eq!(
            resp.ok(),
            &json!({ "success": true, "text": "Logged out successfully" })
        );
        app.get("/user", app.demo.token())
            .await
            .error(401, "UNAUTHORIZED");
        app.delete("/token", app.demo.token())
            .await
            .error(401, "UNAUTHORIZED");
        // The same user's other session is untouched.
        app.get("/user", other.token()).await.success();
        app.stop().await;
    }
}

#[tokio::test]
async fn missing_or_garbage_tokens_are_401() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let long = "a".repeat(300);
        for token in [None, Some(""), Some("garbage"), Some(long.as_str())] {
            for path in ["/user", "/accounts", "/cards", "/devices"] {
                app.get(path, token).await.error(401, "UNAUTHORIZED");
            }
            app.delete("/token", token).await.error(401, "UNAUTHORIZED");
        }
        // The token goes in the `token` header; `Authorization` is not it.
        let bearer = app
            .send(
                app.client
                    .get(app.url("/user"))
                    .bearer_auth(&app.demo.token),
            )
            .await;
        bearer.error(401, "UNAUTHORIZED");
        app.stop().await;
    }
}

#[tokio::test]
async fn sessions_expire_when_idle_and_after_their_lifetime() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let idle = app.login_ok("demo", "demo-password").await;
        // Used every 20 minutes, a session stays alive past the 30-minute idle limit...
        for _ in 0..3 {
            app.clock.advance(Duration::minutes(20));
            app.get("/user", app.demo.token()).await.success();
        }
        // ...while one left alone for that long has ended.
        app.get("/user", idle.token())
            .await
            .error(401, "UNAUTHORIZED");
        // And no session outlives its 12 hours, however busy: it ends at exactly 12 hours.
        let mut minutes = 60;
        loop {
            app.clock.advance(Duration::minutes(20));
            minutes += 20;
            let resp = app.get("/user", app.demo.token()).await;
            if resp.status != 200 {
                resp.error(401, "UNAUTHORIZED");
                break;
            }
            assert!(minutes < 12 * 60, "still alive after {minutes} minutes");
        }
        assert_eq!(minutes, 12 * 60);
        app.stop().await;
    }
}

#[tokio::test]
async fn repeated_failures_for_a_user_are_throttled() {
    for engine in engines() {
        let app = TestApp::start_with(engine, |c| {
            c.login_max_failures_per_user = 3;
            c.login_max_failures_per_address = 100;
        })
        .await;
        for _ in 0..3 {
            app.login("demo", "wrong")
                .await
                .error(401, "BAD_CREDENTIALS");
        }
        // The next attempt is refused before the password is even looked at, right or wrong.
        for password in ["wrong", "demo-password"] {
            let resp = app.login("demo", password).await;
            resp.error(429, "TOO_MANY_ATTEMPTS");
            // The window is 15 minutes and the clock has not moved.
            assert_eq!(
                resp.header("retry-after"),
                Some("900"),
                "{:?}",
                resp.headers
            );
        }
        // User names are throttled case-insensitively.
        app.login("DEMO", "demo-password")
            .await
            .error(429, "TOO_MANY_ATTEMPTS");
        // Another user from the same address is not affected.
        app.login("demo2", "demo2-password").await.success();
        // Sessions already open keep working.
        app.get("/user", app.demo.token()).await.success();
        // Once the window has passed, the user can log in again.
        app.clock.advance(Duration::minutes(10));
        let resp = app.login("demo", "demo-password").await;
        resp.error(429, "TOO_MANY_ATTEMPTS");
        assert_eq!(resp.header("retry-after"), Some("300"));
        app.clock.advance(Duration::minutes(5));
        app.login("demo", "demo-password").await.success();
        app.stop().await;
    }
}

#[tokio::test]
async fn repeated_failures_from_an_address_are_throttled() {
    for engine in engines() {
        let app = TestApp::start_with(engine, |c| {
            c.login_max_failures_per_user = 100;
            c.login_max_failures_per_address = 3;
        })
        .await;
        for user in ["nobody1", "nobody2", "demo"] {
            app.login(user, "wrong").await.error(401, "BAD_CREDENTIALS");
        }
        // Every user name from this address is now refused, even with the right password.
        for (user, password) in [("demo2", "demo2-password"), ("someone-new", "x")] {
            let resp = app.login(user, password).await;
            resp.error(429, "TOO_MANY_ATTEMPTS");
            let retry: u64 = resp.header("retry-after").unwrap().parse().unwrap();
            assert_eq!(retry, 900);
        }
        app.clock.advance(Duration::minutes(15));
        app.login("demo2", "demo2-password").await.success();
        app.stop().await;
    }
}
