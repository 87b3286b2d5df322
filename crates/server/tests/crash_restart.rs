//! A node killed with SIGKILL (no shutdown at all) loses nothing: the real `bankgate` binary is started
//! on a database, transfers are queued, the process is killed, and a new process on the same database
//! finds every queued transfer still waiting and cancellable, its hold still in place, and runs the rest.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use bankgate_db::testing::{test_engines, TestDatabase};
use serde_json::{json, Value};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port nobody listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Node {
    child: Child,
    base: String,
}

impl Node {
    async fn start(database_url: &str, sandbox_dir: &std::path::Path) -> Node {
        let (port, admin) = (free_port(), free_port());
        let child = Command::new(env!("CARGO_BIN_EXE_bankgate"))
            .args(["serve", "--demo", "--database-url", database_url])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--admin-listen", &format!("127.0.0.1:{admin}")])
            .env("BANKGATE_SANDBOX_DIR", sandbox_dir)
            .env("BANKGATE_UNDO_WINDOW_MOVEMENT_MS", "600000")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting bankgate");
        let node = Node {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = reqwest::Client::new();
        while client
            .get(format!("{}/ping/heartbeat", node.base))
            .send()
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "bankgate did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        node
    }

    fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaping");
    }

    /// One call to this node with the `token` header: its status and JSON body.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = reqwest::Client::new()
            .request(method, format!("{}{path}", self.base))
            .header("token", token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        (
            response.status().as_u16(),
            response.json().await.unwrap_or(Value::Null),
        )
    }
}

#[tokio::test]
async fn a_killed_node_loses_no_queued_transfer() {
    for engine in test_engines() {
        let database = TestDatabase::create(engine).await;
        let sandbox_dir = tempfile::tempdir().unwrap();
        let node = Node::start(&database.url, sandbox_dir.path()).await;
        let login =
            json!({ "channel": "internet", "userName": "demo", "password": "demo-password" });
        let answer: Value = reqwest::Client::new()
            .put(format!("{}/token", node.base))
            .json(&login)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = answer["token"].as_str().unwrap().to_owned();
        let (_, accounts) = node
            .call(reqwest::Method::GET, "/accounts", &token, None)
            .await;
        let find = |office: &str, currency: &str| -> String {
            accounts["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["backOfficeId"] == office && a["balance"]["currency"] == currency)
                .unwrap()["AFiAccountId"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let (checking, savings) = (find("sandbox-a", "USD"), find("sandbox-b", "USD"));
        let mut undo_ids = Vec::new();
        for amount in ["100.00", "50.00"] {
            let body = json!({ "srcAcc": checking, "dstAcc": savings, "amount": amount, "currency": "USD" });
            let (status, queued) = node
                .call(
                    reqwest::Method::POST,
                    "/transfer/acc2acc",
                    &token,
                    Some(body),
                )
                .await;
            assert_eq!(status, 200, "{queued}");
            undo_ids.push(queued["undo"]["id"].as_str().unwrap().to_owned());
        }
        node.kill();

        let node = Node::start(&database.url, sandbox_dir.path()).await;
        let balance = |body: &Value| body["account"]["balance"]["available"].as_f64().unwrap();
        let (_, account) = node
            .call(
                reqwest::Method::GET,
                &format!("/accounts/{checking}"),
                &token,
                None,
            )
            .await;
        assert_eq!(balance(&account), 850.0, "both holds survive: {account}");
        let (_, pending) = node.call(reqwest::Method::GET, "/undo", &token, None).await;
        assert_eq!(pending["undos"].as_array().unwrap().len(), 2, "{pending}");
        // One is cancelled, the other run now.
        let (status, _) = node
            .call(
                reqwest::Method::DELETE,
                &format!("/undo/{}", undo_ids[0]),
                &token,
                None,
            )
            .await;
        assert_eq!(status, 200);
        let (status, _) = node
            .call(
                reqwest::Method::POST,
                &format!("/undo/now/{}", undo_ids[1]),
                &token,
                None,
            )
            .await;
        assert_eq!(status, 200);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let path = format!("/undo/{}", undo_ids[1]);
            let (_, undo) = node.call(reqwest::Method::GET, &path, &token, None).await;
            if undo["undo"]["state"] == "done" {
                break;
            }
            assert!(Instant::now() < deadline, "{undo}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (_, account) = node
            .call(
                reqwest::Method::GET,
                &format!("/accounts/{checking}"),
                &token,
                None,
            )
            .await;
        assert_eq!(
            account["account"]["balance"]["native"].as_f64().unwrap(),
            950.0,
            "{account}"
        );
        assert_eq!(balance(&account), 950.0, "{account}");
        let (_, account) = node
            .call(
                reqwest::Method::GET,
                &format!("/accounts/{savings}"),
                &token,
                None,
            )
            .await;
        assert_eq!(balance(&account), 550.0, "{account}");
        node.kill();
    }
}
