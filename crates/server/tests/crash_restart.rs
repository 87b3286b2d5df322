//! A node killed with SIGKILL (no shutdown at all) loses nothing: the real `bankgate` binary is started
//! on a database, transfers are queued, the process is killed, and a new process on the same database
//! finds every queued transfer still waiting and cancellable, its hold still in place, and runs the rest.
//! Killed under load, in front of back offices reached over HTTP, it also runs nothing twice: requests
//! cut off by the kill are retried with their Idempotency-Keys, jobs cut off mid-way resume.

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

/// How a node is started: its addresses and what it is told besides `serve --demo`.
struct NodeSetup<'a> {
    database_url: &'a str,
    ports: (u16, u16),
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
}

impl Node {
    async fn start(database_url: &str, sandbox_dir: &std::path::Path) -> Node {
        Node::start_with(&NodeSetup {
            database_url,
            ports: (free_port(), free_port()),
            args: Vec::new(),
            env: vec![
                ("BANKGATE_SANDBOX_DIR", sandbox_dir.display().to_string()),
                ("BANKGATE_UNDO_WINDOW_MOVEMENT_MS", "600000".to_owned()),
            ],
        })
        .await
    }

    async fn start_with(setup: &NodeSetup<'_>) -> Node {
        let (port, admin) = setup.ports;
        let child = Command::new(env!("CARGO_BIN_EXE_bankgate"))
            .args(["serve", "--demo", "--database-url", setup.database_url])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--admin-listen", &format!("127.0.0.1:{admin}")])
            .args(&setup.args)
            .envs(setup.env.iter().map(|(k, v)| (*k, v.as_str())))
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

    fn kill(self) {
        // Dropping the node sends SIGKILL and reaps it.
        drop(self);
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
        let (token, checking, savings) = demo_accounts(&node).await;
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

/// A test that fails half-way leaves no server running behind it.
impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Logs `demo` in; its token and its USD checking (sandbox-a) and savings (sandbox-b) accounts.
async fn demo_accounts(node: &Node) -> (String, String, String) {
    let login = json!({ "channel": "internet", "userName": "demo", "password": "demo-password" });
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
    let find = |office: &str| -> String {
        accounts["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["backOfficeId"] == office && a["balance"]["currency"] == "USD")
            .unwrap()["AFiAccountId"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    (token, find("sandbox-a"), find("sandbox-b"))
}

/// Sends a transfer with `key` until a node answers it (a request cut off by the kill, or one whose key
/// the dead node still holds, is tried again with the same key): its status and body.
async fn transfer_until_answered(base: &str, token: &str, body: &Value, key: &str) -> (u16, Value) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let sent = client
            .post(format!("{base}/transfer/acc2acc"))
            .header("token", token)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await;
        if let Ok(response) = sent {
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            if body["code"] != "IDEMPOTENCY_KEY_IN_USE" {
                return (status, body);
            }
        }
        assert!(Instant::now() < deadline, "never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_under_load_loses_nothing_and_runs_nothing_twice() {
    use bankgate_backoffice_http::{BackOfficeServer, HttpBackOffice, SandboxServerSettings};
    use bankgate_domain::ids::BackOfficeId;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    for engine in test_engines() {
        let database = TestDatabase::create(engine).await;
        let dir = tempfile::tempdir().unwrap();
        let mut back_offices = Vec::new();
        let mut args = Vec::new();
        for id in ["sandbox-a", "sandbox-b"] {
            let settings = SandboxServerSettings {
                id: BackOfficeId::parse(id).unwrap(),
                listen: "127.0.0.1:0".parse().unwrap(),
                database_url: format!("sqlite://{}", dir.path().join(format!("{id}.db")).display()),
            };
            let server =
                BackOfficeServer::open_sandbox(&settings, Arc::new(bankgate_domain::SystemClock))
                    .await
                    .unwrap();
            args.extend(["--backoffice".to_owned(), format!("{id}={}", server.url())]);
            back_offices.push((settings.id, server));
        }
        let setup = NodeSetup {
            database_url: &database.url,
            ports: (free_port(), free_port()),
            args,
            env: vec![
                ("BANKGATE_UNDO_WINDOW_MOVEMENT_MS", "200".to_owned()),
                ("BANKGATE_BACK_OFFICE_DEADLINE_MS", "500".to_owned()),
                ("BANKGATE_JOB_LEASE_MS", "2000".to_owned()),
                ("BANKGATE_IDEMPOTENCY_ABANDON_MS", "1000".to_owned()),
            ],
        };
        let node = Node::start_with(&setup).await;
        let (token, checking, savings) = demo_accounts(&node).await;

        // Four customers' apps move money back and forth until told to stop.
        let stop = Arc::new(AtomicBool::new(false));
        let mut submitters = Vec::new();
        for app in 0..4u32 {
            let (base, token, stop) = (node.base.clone(), token.clone(), stop.clone());
            let (checking, savings) = (checking.clone(), savings.clone());
            submitters.push(tokio::spawn(async move {
                let mut accepted = Vec::new();
                let mut n = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let (from, to) = if (n + app).is_multiple_of(2) {
                        (&checking, &savings)
                    } else {
                        (&savings, &checking)
                    };
                    let amount = format!("{}.{:02}", 1 + n % 7, (n * 13 + app) % 100);
                    let body = json!({ "srcAcc": from, "dstAcc": to, "amount": amount, "currency": "USD" });
                    let key = format!("app{app}-transfer{n}");
                    let (status, answer) = transfer_until_answered(&base, &token, &body, &key).await;
                    match status {
                        200 => accepted.push((
                            answer["reference"].as_str().unwrap().to_owned(),
                            answer["undo"]["id"].as_str().unwrap().to_owned(),
                        )),
                        // Not enough money, or a balance moving under the hold: refused, nothing queued.
                        409 => assert!(
                            matches!(
                                answer["code"].as_str(),
                                Some("INSUFFICIENT_FUNDS" | "BALANCE_CHANGING")
                            ),
                            "{answer}"
                        ),
                        other => panic!("transfer answered {other}: {answer}"),
                    }
                }
                accepted
            }));
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        node.kill();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let node = Node::start_with(&setup).await;
        tokio::time::sleep(Duration::from_millis(1000)).await;
        stop.store(true, Ordering::Relaxed);
        let mut accepted = Vec::new();
        for submitter in submitters {
            accepted.extend(submitter.await.unwrap());
        }
        assert!(accepted.len() > 10, "too little load: {}", accepted.len());

        // Every accepted transfer ran exactly once: done, one line on each side.
        let deadline = Instant::now() + Duration::from_secs(60);
        for (reference, undo) in &accepted {
            loop {
                let (_, state) = node
                    .call(reqwest::Method::GET, &format!("/undo/{undo}"), &token, None)
                    .await;
                if state["undo"]["state"] == "done" {
                    break;
                }
                assert!(Instant::now() < deadline, "{reference} never ran: {state}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        let today = time::OffsetDateTime::now_utc().date();
        let range = format!(
            "{}/{}",
            today.previous_day().unwrap(),
            today.next_day().unwrap()
        );
        let mut lines: std::collections::HashMap<String, usize> = Default::default();
        let mut total = 0.0;
        for account in [&checking, &savings] {
            let (_, statement) = node
                .call(
                    reqwest::Method::GET,
                    &format!("/accounts/{account}/transactions/{range}"),
                    &token,
                    None,
                )
                .await;
            for line in statement.as_array().unwrap() {
                if let Some(reference) = line["reference"]
                    .as_str()
                    .filter(|r| r.starts_with("bgopr"))
                {
                    *lines.entry(reference.to_owned()).or_default() += 1;
                }
            }
            let (_, account) = node
                .call(
                    reqwest::Method::GET,
                    &format!("/accounts/{account}"),
                    &token,
                    None,
                )
                .await;
            let balance = &account["account"]["balance"];
            assert_eq!(
                balance["native"], balance["available"],
                "a hold is left: {account}"
            );
            total += balance["native"].as_f64().unwrap();
        }
        assert_eq!(
            lines.len(),
            accepted.len(),
            "movements that were never accepted"
        );
        for (reference, _) in &accepted {
            assert_eq!(
                lines.get(reference),
                Some(&2),
                "{reference}: a debit and a credit, once"
            );
        }
        assert!(
            (total - 1500.0).abs() < 0.001,
            "money was made or lost: {total}"
        );
        for (id, server) in back_offices {
            let remote = HttpBackOffice::new(id.clone(), &server.url()).unwrap();
            let ledger = remote.ledger_report().await.unwrap();
            assert!(ledger.is_clean(), "{id}: {ledger:?}");
            server.stop().await.unwrap();
        }
        node.kill();
    }
}
