//! The transfer benchmark: with a zero undo window, clients submit transfers as fast as they are
//! answered for a fixed time, then the run waits until every accepted transfer has executed. It
//! reports accepted and executed transfers per second end to end, and the acceptance latency.
//!
//! Each client works for one customer and moves small amounts back and forth between two of that
//! customer's accounts, so balances never run out: across back offices (checking at sandbox-a, savings
//! at sandbox-b, the two-step saga) or within one (savings to the EUR account, converted).

use crate::stats::{millis, percentile};
use crate::world::World;
use anyhow::Context;
use bankgate_store::JobState;
use serde_json::json;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// USD checking (sandbox-a) and USD savings (sandbox-b).
    AcrossBackOffices,
    /// USD savings and EUR at sandbox-b, converted.
    WithinOneBackOffice,
}

#[derive(Debug, Clone)]
pub struct TransferOptions {
    pub clients: usize,
    pub duration: Duration,
    pub route: Route,
}

#[derive(Debug)]
pub struct TransferFigures {
    pub accepted: usize,
    pub refused: usize,
    pub executed: i64,
    pub failed: i64,
    pub submit_time: Duration,
    /// From the first submission until the last accepted transfer had executed.
    pub end_to_end: Duration,
    pub p50: Duration,
    pub p99: Duration,
}

impl TransferFigures {
    pub fn print(&self) {
        println!(
            "accepted {} ({:.0}/s over {:.1} s), refused {}",
            self.accepted,
            self.accepted as f64 / self.submit_time.as_secs_f64(),
            self.submit_time.as_secs_f64(),
            self.refused
        );
        println!(
            "executed {} ({:.0}/s end to end over {:.1} s), failed {}",
            self.executed,
            self.executed as f64 / self.end_to_end.as_secs_f64(),
            self.end_to_end.as_secs_f64(),
            self.failed
        );
        println!(
            "acceptance latency p50 {:.2} ms, p99 {:.2} ms",
            millis(self.p50),
            millis(self.p99)
        );
    }
}

pub async fn run_transfers(
    world: &World,
    options: &TransferOptions,
) -> anyhow::Result<TransferFigures> {
    let started = Instant::now();
    // Jobs record when they end by the wall clock, which the end to end time is measured against.
    let started_at = time::OffsetDateTime::now_utc();
    let stop_at = started + options.duration;
    let mut clients = Vec::new();
    for i in 0..options.clients.max(1) {
        let customer = world.customers[i % world.customers.len()].clone();
        let pick = |back_office: &str, currency: &str| {
            customer
                .accounts
                .iter()
                .find(|a| a.back_office == back_office && a.currency == currency)
                .map(|a| a.id.clone())
        };
        let pair = match options.route {
            Route::AcrossBackOffices => (pick("sandbox-a", "USD"), pick("sandbox-b", "USD")),
            Route::WithinOneBackOffice => (pick("sandbox-b", "USD"), pick("sandbox-b", "EUR")),
        };
        let (Some(a), Some(b)) = pair else {
            anyhow::bail!(
                "customer {} lacks the accounts of this route",
                customer.user_name
            );
        };
        let (client, url, token) = (
            world.client.clone(),
            world.url("/transfer/acc2acc"),
            customer.token,
        );
        clients.push(tokio::spawn(async move {
            let (mut latencies, mut refused, mut forward) = (Vec::new(), 0usize, true);
            while Instant::now() < stop_at {
                let (from, to, currency) = if forward {
                    (&a, &b, "USD")
                } else {
                    (&b, &a, "USD")
                };
                // Back from EUR, the amount is given in USD, the destination's currency.
                let body =
                    json!({ "srcAcc": from, "dstAcc": to, "amount": "0.01", "currency": currency });
                let sent = Instant::now();
                let ok = match client
                    .post(&url)
                    .header("token", &token)
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if ok {
                    latencies.push(sent.elapsed());
                } else {
                    refused += 1;
                }
                forward = !forward;
            }
            (latencies, refused)
        }));
    }
    let (mut latencies, mut refused) = (Vec::new(), 0);
    for client in clients {
        let (l, r) = client.await?;
        latencies.extend(l);
        refused += r;
    }
    let submit_time = started.elapsed();
    let services = &world
        .running
        .as_ref()
        .context("the world is not running")?
        .services;
    let open = [JobState::Waiting, JobState::Running, JobState::Retrying];
    let deadline = Instant::now() + Duration::from_secs(300);
    while services.store.count_jobs_in_states(&open).await? > 0 {
        anyhow::ensure!(
            Instant::now() < deadline,
            "transfers did not finish within 5 minutes"
        );
        // Checked seldom, to load the store little; the end is read from the jobs themselves.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let last_finish = services
        .store
        .last_job_finish()
        .await?
        .context("no transfer ended")?;
    anyhow::ensure!(
        last_finish >= started_at,
        "the last transfer ended before the run began (the wall clock stepped back?)"
    );
    let end_to_end = (last_finish - started_at).unsigned_abs();
    let executed = services
        .store
        .count_jobs_in_states(&[JobState::Done])
        .await?;
    let failed = services
        .store
        .count_jobs_in_states(&[JobState::Failed])
        .await?;
    latencies.sort_unstable();
    Ok(TransferFigures {
        accepted: latencies.len(),
        refused,
        executed,
        failed,
        submit_time,
        end_to_end,
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
    })
}
