//! Several bankgate nodes on one database, in front of two sandbox back offices reached over HTTP (see
//! `bankgate_bench::cluster`): a session started on one node is honoured, and ended, on every node; jobs
//! queued through both nodes run once, shared between the nodes' runners; a job left claimed by a node
//! that died passes to a live node when its lease runs out; a back office that does the work and loses
//! the reply does not move money twice. Several nodes share a PostgreSQL database only (SQLite is one
//! node's store), so the tests about several nodes run when `BANKGATE_TEST_POSTGRES_URL` is set; the
//! others run on both engines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use bankgate_backoffice_http::FaultSettings;
use bankgate_bench::bank::{run_bank, BankOptions, Clients};
use bankgate_bench::cluster::{Cluster, ClusterOptions};
use bankgate_db::testing::test_engines;
use bankgate_db::{Db, DbOptions, Engine};
use bankgate_domain::ids::OperationId;
use bankgate_store::Store;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The engines that can hold several nodes.
fn multi_node_engines() -> Vec<Engine> {
    let engines: Vec<Engine> = test_engines()
        .into_iter()
        .filter(|e| *e == Engine::Postgres)
        .collect();
    if engines.is_empty() {
        eprintln!("several nodes need PostgreSQL: set BANKGATE_TEST_POSTGRES_URL to run this test");
    }
    engines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_from_one_node_works_on_every_node_and_ends_everywhere() {
    for engine in multi_node_engines() {
        let cluster = Cluster::start(&ClusterOptions::for_engine(engine, 1))
            .await
            .unwrap();
        let token = &cluster.customers[0].token;
        for node in &cluster.nodes {
            let (status, body) =
                call(&cluster, &node.base(), Method::GET, "/accounts", token).await;
            assert_eq!(status, 200, "{}: {body}", node.name);
            assert_eq!(body["accounts"].as_array().unwrap().len(), 3, "{body}");
        }
        let second = cluster.nodes[1].base();
        let (status, _) = call(&cluster, &second, Method::DELETE, "/token", token).await;
        assert_eq!(status, 200);
        let (status, _) = call(&cluster, &second, Method::GET, "/accounts", token).await;
        assert_eq!(
            status, 401,
            "the node that ended the session still honours it"
        );
        // Other nodes remember a session for at most two seconds (their memo) before asking the store.
        let deadline = Instant::now() + Duration::from_secs(5);
        for node in &cluster.nodes {
            loop {
                let (status, _) =
                    call(&cluster, &node.base(), Method::GET, "/accounts", token).await;
                if status == 401 {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{} still honours the ended session",
                    node.name
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        cluster.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_queued_through_both_nodes_run_once_and_both_nodes_run_them() {
    for engine in multi_node_engines() {
        let cluster = Cluster::start(&ClusterOptions::for_engine(engine, 4))
            .await
            .unwrap();
        let options = BankOptions {
            operations: 160,
            concurrency: 8,
            cancel_percent: 20,
            do_now_percent: 20,
            max_amount_cents: 20_000,
            pace: Duration::ZERO,
        };
        let mut report = run_bank(&cluster.clients(), &options).await.unwrap();
        report.check_ledgers(&cluster.ledger_reports().await.unwrap());
        report.print();
        assert!(report.is_clean(), "{engine:?}: {:?}", report.problems);
        assert_eq!(report.accepted, report.executed + report.cancelled);
        assert!(report.executed > 40, "{report:?}");
        for node in &cluster.nodes {
            let steps = money_steps_made(&cluster, &node.admin_base()).await;
            assert!(steps > 0, "{} ran no job", node.name);
        }
        cluster.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_claimed_by_a_node_that_died_passes_to_a_live_node() {
    for engine in test_engines() {
        let mut options = ClusterOptions::for_engine(engine, 1);
        options.undo_window_ms = 60_000;
        let cluster = Cluster::start(&options).await.unwrap();
        let clients = cluster.clients();
        let (checking, savings) = usd_pair(&clients);
        let queued = transfer(&clients, &checking, &savings, "10.00").await;
        // A node claims the job and dies before doing anything: only its lease says it is taken.
        let store = Store::open(
            Db::connect(&cluster.database.url, &DbOptions::default())
                .await
                .unwrap(),
        )
        .await
        .unwrap();
        let job = OperationId::parse(queued["reference"].as_str().unwrap()).unwrap();
        let now = time::OffsetDateTime::now_utc();
        let lease = Duration::from_millis(4 * options.back_office_deadline_ms);
        let claimed = store
            .claim_job(&job, "node-that-died", now, now + lease)
            .await
            .unwrap();
        assert!(claimed.is_some(), "the job was free to claim");
        let claimed_at = Instant::now();
        let undo = format!("/undo/{}", queued["undo"]["id"].as_str().unwrap());
        let state = wait_for_end(&clients, &undo).await;
        assert_eq!(state, "done");
        assert!(
            claimed_at.elapsed() >= lease - Duration::from_millis(200),
            "taken over before the lease ran out"
        );
        assert_balances(&clients, &checking, 990.00).await;
        assert_balances(&clients, &savings, 510.00).await;
        cluster.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_lost_after_the_work_was_done_moves_money_once() {
    for engine in test_engines() {
        let mut options = ClusterOptions::for_engine(engine, 1);
        options.nodes = 1;
        options.undo_window_ms = 0;
        let mut cluster = Cluster::start(&options).await.unwrap();
        let clients = cluster.clients();
        let (checking, savings) = usd_pair(&clients);
        // The credit at sandbox-b is made, and its answer never arrives.
        let drop_all = FaultSettings {
            drop_reply_rate: 1.0,
            ..FaultSettings::default()
        };
        cluster
            .back_office("sandbox-b")
            .set_faults(drop_all)
            .unwrap();
        let queued = transfer(&clients, &checking, &savings, "25.00").await;
        let path = format!("/undo/{}", queued["undo"]["id"].as_str().unwrap());
        tokio::time::sleep(Duration::from_millis(3 * options.back_office_deadline_ms)).await;
        let token = &clients.customers[0].token;
        let pending = clients.gateway.get(&path, token).await;
        assert_ne!(pending.body["undo"]["state"], "done", "{}", pending.body);
        cluster
            .back_office("sandbox-b")
            .set_faults(FaultSettings::default())
            .unwrap();
        assert_eq!(wait_for_end(&clients, &path).await, "done");
        assert_balances(&clients, &checking, 975.00).await;
        assert_balances(&clients, &savings, 525.00).await;
        for account in [&checking, &savings] {
            let lines = movement_lines(&clients, account).await;
            assert_eq!(lines, 1, "one statement line on {account}");
        }
        for (id, ledger) in cluster.ledger_reports().await.unwrap() {
            assert!(ledger.is_clean(), "{id}: {ledger:?}");
        }
        cluster.stop().await;
    }
}

/// One call to one node: status and body.
async fn call(
    cluster: &Cluster,
    base: &str,
    method: Method,
    path: &str,
    token: &str,
) -> (u16, Value) {
    let response = cluster
        .client
        .request(method, format!("{base}{path}"))
        .header("token", token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Back-office money steps (debit and credit legs, book transfers) that a node made and that succeeded,
/// from its metrics.
async fn money_steps_made(cluster: &Cluster, admin_base: &str) -> u64 {
    let text = cluster
        .client
        .get(format!("{admin_base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|line| line.starts_with("bankgate_backoffice_calls_total{"))
        .filter(|line| {
            ["transfers.debit", "transfers.credit", "transfers.book"]
                .iter()
                .any(|op| line.contains(&format!("operation=\"{op}\"")))
        })
        .filter(|line| line.contains("outcome=\"ok\""))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// The first customer's USD checking (sandbox-a) and USD savings (sandbox-b).
fn usd_pair(clients: &Clients) -> (String, String) {
    let accounts = &clients.customers[0].accounts;
    let find = |office: &str| {
        accounts
            .iter()
            .find(|a| a.back_office == office && a.currency == "USD")
            .unwrap()
            .id
            .clone()
    };
    (find("sandbox-a"), find("sandbox-b"))
}

/// Queues a USD transfer for the first customer; the answer (`reference` names the job, `undo` its
/// queue entry).
async fn transfer(clients: &Clients, from: &str, to: &str, amount: &str) -> Value {
    let body = json!({ "srcAcc": from, "dstAcc": to, "amount": amount, "currency": "USD" });
    let token = &clients.customers[0].token;
    let answer = clients
        .gateway
        .send(Method::POST, "/transfer/acc2acc", token, Some(&body))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

/// Waits (30 s at most) until the queued action at `path` ended; its final state.
async fn wait_for_end(clients: &Clients, path: &str) -> String {
    let token = &clients.customers[0].token;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = clients.gateway.get(path, token).await;
        let state = answer.body["undo"]["state"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        if matches!(state.as_str(), "done" | "failed" | "cancelled") {
            return state;
        }
        assert!(Instant::now() < deadline, "never ended: {}", answer.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Both balances of the account are `expected`.
async fn assert_balances(clients: &Clients, account: &str, expected: f64) {
    let token = &clients.customers[0].token;
    let answer = clients
        .gateway
        .get(&format!("/accounts/{account}"), token)
        .await;
    let balance = &answer.body["account"]["balance"];
    for side in ["native", "available"] {
        let found = balance[side].as_f64().unwrap_or(f64::NAN);
        assert!((found - expected).abs() < 0.001, "{side}: {}", answer.body);
    }
}

/// Statement lines bankgate's movements made on the account today.
async fn movement_lines(clients: &Clients, account: &str) -> usize {
    let token = &clients.customers[0].token;
    let today = time::OffsetDateTime::now_utc().date();
    let (from, to) = (today.previous_day().unwrap(), today.next_day().unwrap());
    let path = format!("/accounts/{account}/transactions/{from}/{to}");
    let answer = clients.gateway.get(&path, token).await;
    answer
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|line| {
            line["reference"]
                .as_str()
                .is_some_and(|r| r.starts_with("bgopr"))
        })
        .count()
}
