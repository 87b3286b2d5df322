//! The shared harness of the HTTP suites: [`TestApp`] starts the real server (both listeners on port 0)
//! over a fresh database and a temp directory for the sandbox back offices, with the demo data seeded
//! and both demo users logged in. Requests go over real HTTP with `reqwest`; [`Resp`] keeps the status,
//! headers, raw text and parsed JSON of each answer, and knows how to check the contract's error body.
//!
//! The clock is a [`ManualClock`] fixed at [`START`], so session and throttle windows are tested by
//! moving it, never by sleeping. Every suite loops over [`test_engines`] (SQLite always, PostgreSQL when
//! `BANKGATE_TEST_POSTGRES_URL` is set).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use bankgate::app::{start, Running};
use bankgate::config::Config;
use bankgate_db::testing::{test_engines, TestDatabase};
use bankgate_db::Engine;
use bankgate_domain::ManualClock;
use serde_json::Value;
use std::sync::Arc;
use time::macros::datetime;
use time::OffsetDateTime;

pub use serde_json::json;

pub mod money;
pub mod outage;
pub mod push;

/// The server's "now" when a test starts: a Wednesday, at noon UTC.
pub const START: OffsetDateTime = datetime!(2025-01-15 12:00 UTC);

/// The admin bearer token a demo-mode server accepts.
pub const ADMIN_TOKEN: &str = "demo-admin-token";

/// The engines to run every test on.
pub fn engines() -> Vec<Engine> {
    test_engines()
}

/// A logged-in user.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub user_id: String,
}

impl Session {
    pub fn token(&self) -> Option<&str> {
        Some(&self.token)
    }
}

/// One HTTP answer.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    /// The body parsed as JSON; `Value::Null` when it is not JSON.
    pub json: Value,
}

impl Resp {
    /// Asserts the status and returns the JSON body.
    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert_eq!(
            self.status, 200,
            "expected 200, got {}: {}",
            self.status, self.text
        );
        &self.json
    }

    /// Asserts a successful answer with `"success": true` and returns its JSON.
    #[track_caller]
    pub fn success(&self) -> &Value {
        let body = self.ok();
        assert_eq!(
            body["success"],
            json!(true),
            "no success flag: {}",
            self.text
        );
        body
    }

    /// Asserts a failure with `status` and the contract's error body `{ success: false, code, message }`
    /// with `code`; returns the message.
    #[track_caller]
    pub fn error(&self, status: u16, code: &str) -> String {
        assert_eq!(
            self.status, status,
            "expected {status} {code}, got {}: {}",
            self.status, self.text
        );
        let message = assert_error_body(self);
        assert_eq!(self.json["code"], json!(code), "wrong code: {}", self.text);
        message
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Asserts `resp` is a failure carrying the contract's error body, whatever its code; returns the message.
#[track_caller]
pub fn assert_error_body(resp: &Resp) -> String {
    assert!(
        resp.status >= 300,
        "not a failure: {} {}",
        resp.status,
        resp.text
    );
    let content_type = resp.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "error without a JSON content type ({content_type:?}): {}",
        resp.text
    );
    let body = resp.json.as_object().unwrap_or_else(|| {
        panic!(
            "error body is not a JSON object (status {}): {:?}",
            resp.status, resp.text
        )
    });
    assert_eq!(body.get("success"), Some(&json!(false)), "{}", resp.text);
    let code = body.get("code").and_then(Value::as_str).unwrap_or_default();
    assert!(
        !code.is_empty()
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
        "code must be UPPER_SNAKE_CASE: {}",
        resp.text
    );
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default();
    assert!(!message.is_empty(), "empty message: {}", resp.text);
    assert_eq!(body.len(), 3, "error body has extra fields: {}", resp.text);
    message.to_owned()
}

/// Asserts that no run of 12 or more digits (a card number) appears anywhere in `text`.
#[track_caller]
pub fn assert_no_full_pan(text: &str) {
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        assert!(run < 12, "a full card number leaked: {text}");
    }
}

/// Asserts a card number is masked to its first 4 and last 4 digits.
#[track_caller]
pub fn assert_masked_pan(num: &Value) {
    let num = num
        .as_str()
        .unwrap_or_else(|| panic!("num is not a string: {num}"));
    let chars: Vec<char> = num.chars().collect();
    assert_eq!(chars.len(), 16, "num {num:?}");
    assert!(chars[..4].iter().all(char::is_ascii_digit), "num {num:?}");
    assert!(chars[4..12].iter().all(|c| *c == '*'), "num {num:?}");
    assert!(chars[12..].iter().all(char::is_ascii_digit), "num {num:?}");
}

/// A running server with its own database, sandbox directory and clock.
pub struct TestApp {
    pub engine: Engine,
    pub base: String,
    pub admin_base: String,
    pub client: reqwest::Client,
    pub clock: ManualClock,
    pub demo: Session,
    pub demo2: Session,
    running: Option<Running>,
    config: Config,
    _db: TestDatabase,
    _sandbox_dir: tempfile::TempDir,
}

impl TestApp {
    /// Starts a demo-mode server on `engine` with the default settings.
    pub async fn start(engine: Engine) -> TestApp {
        Self::start_with(engine, |_| {}).await
    }

    /// Starts a demo-mode server on `engine`, letting `adjust` change the configuration first.
    pub async fn start_with(engine: Engine, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let db = TestDatabase::create(engine).await;
        let sandbox_dir = tempfile::tempdir().expect("sandbox temp dir");
        let mut config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            admin_listen: "127.0.0.1:0".parse().unwrap(),
            database_url: db.url.clone(),
            demo: true,
            sandbox_dir: Some(sandbox_dir.path().to_path_buf()),
            ..Config::default()
        };
        adjust(&mut config);
        let clock = ManualClock::new(START);
        let running = start(&config.clone(), Arc::new(clock.clone()))
            .await
            .unwrap_or_else(|e| panic!("starting the server on {engine:?}: {e:#}"));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut app = TestApp {
            engine,
            base: format!("http://{}", running.public_addr),
            admin_base: format!("http://{}", running.admin_addr),
            client,
            clock,
            demo: Session {
                token: String::new(),
                user_id: String::new(),
            },
            demo2: Session {
                token: String::new(),
                user_id: String::new(),
            },
            running: Some(running),
            config,
            _db: db,
            _sandbox_dir: sandbox_dir,
        };
        app.demo = app.login_ok("demo", "demo-password").await;
        app.demo2 = app.login_ok("demo2", "demo2-password").await;
        app
    }

    /// Stops both listeners; the database and directories go when the app is dropped.
    pub async fn stop(mut self) {
        // Close our keep-alive connections first so graceful shutdown has nothing to wait for.
        self.client = reqwest::Client::new();
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
    }

    /// Stops the server and starts a new one on the same database, sandboxes and clock, as after a
    /// crash or a deploy. Sessions live in the database, so the same tokens keep working.
    pub async fn restart(&mut self) {
        self.client = reqwest::Client::new();
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
        let mut config = self.config.clone();
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.admin_listen = "127.0.0.1:0".parse().unwrap();
        let running = start(&config, Arc::new(self.clock.clone()))
            .await
            .unwrap_or_else(|e| panic!("restarting the server: {e:#}"));
        self.base = format!("http://{}", running.public_addr);
        self.admin_base = format!("http://{}", running.admin_addr);
        self.running = Some(running);
    }

    /// Another node on the same database and clock (its own listeners; no demo seeding), as a second
    /// server behind a load balancer would be.
    pub async fn second_node(&self) -> Running {
        let mut config = self.config.clone();
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.admin_listen = "127.0.0.1:0".parse().unwrap();
        config.demo = false;
        start(&config, Arc::new(self.clock.clone()))
            .await
            .unwrap_or_else(|e| panic!("starting a second node: {e:#}"))
    }

    /// The running server's services, for checks that look behind the API.
    pub fn services(&self) -> &bankgate::services::Services {
        &self.running.as_ref().expect("running").services
    }

    /// The database URL of an in-process sandbox back office.
    pub fn sandbox_database_url(&self, id: &str) -> String {
        self.config.sandbox_database_url(id)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn admin_url(&self, path: &str) -> String {
        format!("{}{path}", self.admin_base)
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Resp {
        let response = request.send().await.expect("request failed");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("reading the body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            text,
            json,
        }
    }

    fn with_token(
        request: reqwest::RequestBuilder,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        match token {
            Some(token) => request.header("token", token),
            None => request,
        }
    }

    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Resp {
        let mut request = Self::with_token(self.client.request(method, self.url(path)), token);
        if let Some(body) = body {
            request = request.json(body);
        }
        self.send(request).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.request(reqwest::Method::GET, path, token, None).await
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.request(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    /// A POST without a body.
    pub async fn post_empty(&self, path: &str, token: Option<&str>) -> Resp {
        self.request(reqwest::Method::POST, path, token, None).await
    }

    /// A POST with a raw body, sent as `application/json`.
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Resp {
        let request = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body);
        self.send(Self::with_token(request, token)).await
    }

    pub async fn put_json(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.request(reqwest::Method::PUT, path, token, Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Resp {
        self.request(reqwest::Method::DELETE, path, token, None)
            .await
    }

    /// A POST to the admin listener, with `Authorization: Bearer <bearer>` when given.
    pub async fn admin_post(&self, path: &str, bearer: Option<&str>, body: &Value) -> Resp {
        let mut request = self.client.post(self.admin_url(path)).json(body);
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        self.send(request).await
    }

    pub async fn admin_get(&self, path: &str) -> Resp {
        self.send(self.client.get(self.admin_url(path))).await
    }

    /// `PUT /token` on the internet channel.
    pub async fn login(&self, user_name: &str, password: &str) -> Resp {
        let body = json!({ "channel": "internet", "userName": user_name, "password": password });
        self.put_json("/token", None, &body).await
    }

    /// Logs in from a named device.
    pub async fn login_device(&self, user_name: &str, password: &str, device_tag: &str) -> Resp {
        let body = json!({
            "channel": "internet", "userName": user_name, "password": password,
            "deviceTag": device_tag, "deviceData": { "platform": "test-platform" }
        });
        self.put_json("/token", None, &body).await
    }

    #[track_caller]
    pub fn session(resp: &Resp) -> Session {
        let body = resp.success();
        Session {
            token: body["token"].as_str().expect("token").to_owned(),
            user_id: body["AFiUserId"].as_str().expect("AFiUserId").to_owned(),
        }
    }

    pub async fn login_ok(&self, user_name: &str, password: &str) -> Session {
        Self::session(&self.login(user_name, password).await)
    }

    /// The user's accounts, as `GET /accounts` lists them.
    pub async fn accounts(&self, who: &Session) -> Vec<Value> {
        let resp = self.get("/accounts", who.token()).await;
        resp.success()["accounts"]
            .as_array()
            .expect("accounts")
            .clone()
    }

    /// The user's cards, as `GET /cards` lists them.
    pub async fn cards(&self, who: &Session) -> Vec<Value> {
        let resp = self.get("/cards", who.token()).await;
        resp.success()["cards"].as_array().expect("cards").clone()
    }

    /// The user's demo objects, found by what the demo seed gives them.
    pub async fn demo_objects(&self, who: &Session) -> DemoObjects {
        let accounts = self.accounts(who).await;
        let find = |pred: &dyn Fn(&Value) -> bool, what: &str| -> String {
            let found: Vec<&Value> = accounts.iter().filter(|a| pred(a)).collect();
            assert_eq!(
                found.len(),
                1,
                "expected one {what} account in {accounts:?}"
            );
            found[0]["AFiAccountId"].as_str().unwrap().to_owned()
        };
        let checking = find(
            &|a| a["backOfficeId"] == "sandbox-a" && a["balance"]["currency"] == "USD",
            "checking",
        );
        let savings = find(
            &|a| a["backOfficeId"] == "sandbox-b" && a["balance"]["currency"] == "USD",
            "savings",
        );
        let euro = find(&|a| a["balance"]["currency"] == "EUR", "euro");
        let cards = self.cards(who).await;
        let card_of = |account: &str| -> String {
            let found: Vec<&Value> = cards
                .iter()
                .filter(|c| c["AFiAccountId"] == account)
                .collect();
            assert_eq!(
                found.len(),
                1,
                "expected one card on {account} in {cards:?}"
            );
            found[0]["AFiCardId"].as_str().unwrap().to_owned()
        };
        DemoObjects {
            checking_card: card_of(&checking),
            savings_card: card_of(&savings),
            checking,
            savings,
            euro,
        }
    }

    /// `GET /accounts/{id}/transactions/latest` as a list.
    pub async fn latest(&self, who: &Session, account: &str) -> Vec<Value> {
        let resp = self
            .get(
                &format!("/accounts/{account}/transactions/latest"),
                who.token(),
            )
            .await;
        resp.ok().as_array().expect("a bare array").clone()
    }

    /// Simulates a purchase through the admin listener.
    pub async fn authorize(&self, card: &str, amount: &str, mcc: &str, extra: Value) -> Resp {
        let mut body =
            json!({ "AFiCardId": card, "amount": amount, "currency": "USD", "mcc": mcc });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        self.admin_post("/admin/sandbox/authorize", Some(ADMIN_TOKEN), &body)
            .await
    }
}

/// The ids of one demo user's products.
#[derive(Debug, Clone)]
pub struct DemoObjects {
    /// USD checking at sandbox-a, with an active card.
    pub checking: String,
    /// USD savings at sandbox-b, with a card not yet activated.
    pub savings: String,
    /// EUR account at sandbox-b.
    pub euro: String,
    pub checking_card: String,
    pub savings_card: String,
}
