//! Fault injection through `/admin/faults`, and what the adapter makes of each fault.

use crate::common::{assert_unavailable, key, Remote};
use bankgate_backoffice::{AccountsApi, BackOffice, RatesApi};
use bankgate_db::testing::test_engines;
use bankgate_db::Engine;
use bankgate_domain::Currency;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[tokio::test]
async fn the_admin_route_sets_shows_and_clears_faults() {
    let r = Remote::start(Engine::Sqlite).await;
    let get = || async {
        let response = r.http.get(r.url("/admin/faults")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.json::<Value>().await.unwrap()
    };
    let off = json!({ "latencyMs": 0, "hang": false, "errorRate": 0.0, "dropReplyRate": 0.0 });
    assert_eq!(get().await, off);

    r.set_faults(json!({ "latencyMs": 5, "errorRate": 0.25 }))
        .await;
    assert_eq!(
        get().await,
        json!({ "latencyMs": 5, "hang": false, "errorRate": 0.25, "dropReplyRate": 0.0 })
    );
    let server_view = r.server.as_ref().unwrap().faults().get();
    assert_eq!((server_view.latency_ms, server_view.error_rate), (5, 0.25));

    for bad in [
        json!({ "errorRate": 2.0 }),
        json!({ "dropReplyRate": -1 }),
        json!({ "latency": 5 }),
    ] {
        let response = r
            .http
            .put(r.url("/admin/faults"))
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{bad}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "bad_request");
    }
    r.clear_faults().await;
    assert_eq!(get().await, off);
}

#[tokio::test]
async fn an_error_rate_of_one_answers_unavailable_and_does_nothing() {
    for engine in test_engines() {
        let r = Remote::start(engine).await;
        let account = r.funded(Currency::USD, 1_000).await;
        let lines_before = r.count("SELECT COUNT(*) FROM sbx_transactions").await;

        r.set_faults(json!({ "errorRate": 1.0 })).await;
        let once = key();
        assert_unavailable(r.deposit_with(&r.client, &account, 500, &once).await);
        assert_unavailable(r.client.get_account(&account.id_bo).await);
        assert_unavailable(r.client.rate_board().await);
        // Health is not subject to the error rate (it reflects only latency and hangs).
        r.client.health().await.unwrap();

        r.clear_faults().await;
        assert_eq!(r.balance(&account).await, 1_000);
        assert_eq!(
            r.count("SELECT COUNT(*) FROM sbx_transactions").await,
            lines_before
        );
        // The key was never used: the retry applies it now, once.
        r.deposit_with(&r.client, &account, 500, &once)
            .await
            .unwrap();
        assert_eq!(r.balance(&account).await, 1_500);
    }
}

#[tokio::test]
async fn a_dropped_reply_leaves_the_work_done_and_a_retry_finds_it() {
    for engine in test_engines() {
        let r = Remote::start(engine).await;
        let account = r.funded(Currency::USD, 1_000).await;
        // Long enough for the work to finish even on a busy machine; the reply never comes anyway.
        let impatient = r.impatient_client(Duration::from_secs(2));

        r.set_faults(json!({ "dropReplyRate": 1.0 })).await;
        let once = key();
        assert_unavailable(r.deposit_with(&impatient, &account, 700, &once).await);
        // The caller heard nothing, but the back office committed it.
        assert_eq!(r.balance(&account).await, 1_700);
        let committed = r.lines(&account).await[0].clone();
        assert_eq!(committed.amount.minor, 700);

        r.clear_faults().await;
        let retried = r
            .deposit_with(&r.client, &account, 700, &once)
            .await
            .unwrap();
        assert_eq!(retried, committed, "the first call's transaction");
        assert_eq!(r.balance(&account).await, 1_700, "applied once");
        assert_eq!(
            r.lines(&account).await.len(),
            2,
            "opening deposit and this one"
        );
    }
}

#[tokio::test]
async fn a_hang_times_out_without_blocking_the_server() {
    let r = Remote::start(Engine::Sqlite).await;
    let account = r.funded(Currency::USD, 1_000).await;
    let impatient = r.impatient_client(Duration::from_millis(300));

    r.set_faults(json!({ "hang": true })).await;
    let started = Instant::now();
    let once = key();
    let (deposit, health) = tokio::join!(
        r.deposit_with(&impatient, &account, 100, &once),
        impatient.health()
    );
    assert_unavailable(deposit);
    assert_unavailable(health);
    assert!(started.elapsed() >= Duration::from_millis(300));

    // Held requests block nothing else: the admin routes answer at once.
    let started = Instant::now();
    let response = r.http.get(r.url("/admin/faults")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(2));

    r.clear_faults().await;
    assert_eq!(r.balance(&account).await, 1_000, "a hung call did nothing");
    r.deposit_with(&r.client, &account, 100, &once)
        .await
        .unwrap();
    assert_eq!(r.balance(&account).await, 1_100);
}

#[tokio::test]
async fn stopping_the_server_lets_held_requests_go() {
    let mut r = Remote::start(Engine::Sqlite).await;
    let account = r.funded(Currency::USD, 1_000).await;
    r.set_faults(json!({ "hang": true })).await;
    let client = r.client.clone();
    let held = tokio::spawn(async move { client.get_account(&account.id_bo).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!held.is_finished());

    // Stopping does not wait on the hung request forever; the request ends unanswered.
    tokio::time::timeout(Duration::from_secs(10), r.server.take().unwrap().stop())
        .await
        .expect("the server stops")
        .unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(10), held)
        .await
        .unwrap()
        .unwrap();
    assert_unavailable(answer);
}

#[tokio::test]
async fn latency_delays_every_answer() {
    let r = Remote::start(Engine::Sqlite).await;
    let account = r.funded(Currency::USD, 1_000).await;
    r.set_faults(json!({ "latencyMs": 300 })).await;
    for call in 0..2 {
        let started = Instant::now();
        let got = r.client.get_account(&account.id_bo).await.unwrap();
        assert_eq!(got.available.minor, 1_000);
        assert!(
            started.elapsed() >= Duration::from_millis(300),
            "call {call} took {:?}",
            started.elapsed()
        );
    }
    let started = Instant::now();
    r.client.health().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
}
