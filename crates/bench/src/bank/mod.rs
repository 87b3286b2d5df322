//! The bank test: many concurrent transfers among every customer's accounts (two back offices, two
//! currencies) over HTTP, with random cancels and do-nows, then an audit of the end state:
//! * every accepted transfer ended executed exactly once (one debit line, one credit line) or cancelled,
//!   and the client's view of each cancel matches the server's;
//! * per currency, the balances moved by exactly what the statement lines say, and each converted
//!   transfer credited exactly its debit at the recorded rate: no money created or destroyed;
//! * no available balance is negative and no hold is left over;
//! * both back offices' ledgers balance.

mod audit;

use crate::world::{AccountInfo, World};
use audit::{audit, balances};
use bankgate_domain::{Currency, Money};
use rand::Rng;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct BankOptions {
    pub operations: usize,
    pub concurrency: usize,
    /// Percent of accepted transfers the client tries to cancel at once.
    pub cancel_percent: u32,
    /// Percent of accepted transfers the client asks to run now.
    pub do_now_percent: u32,
    /// Largest amount of one transfer, in cents.
    pub max_amount_cents: i64,
}

/// One accepted transfer, as the client saw it.
#[derive(Debug, Clone)]
struct Accepted {
    customer: usize,
    undo_id: String,
    reference: String,
    source: AccountInfo,
    destination: AccountInfo,
    amount: Money,
    cancel_confirmed: bool,
}

#[derive(Debug, Default)]
pub struct BankReport {
    pub attempted: usize,
    pub accepted: usize,
    pub refused: usize,
    pub unexpected_errors: usize,
    pub cancelled: usize,
    pub executed: usize,
    pub failed: usize,
    pub duplicates: usize,
    pub lost: usize,
    pub run_time: Duration,
    pub settle_time: Duration,
    /// Per currency: (total before, total after), in minor units.
    pub totals: BTreeMap<String, (i64, i64)>,
    pub problems: Vec<String>,
}

impl BankReport {
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn print(&self) {
        println!(
            "attempted {}  accepted {}  refused {}  unexpected errors {}",
            self.attempted, self.accepted, self.refused, self.unexpected_errors
        );
        println!(
            "executed {}  cancelled {}  failed {}  duplicates {}  lost {}",
            self.executed, self.cancelled, self.failed, self.duplicates, self.lost
        );
        println!(
            "submitted in {:.2} s ({:.0} transfers/s accepted), all ended {:.2} s later",
            self.run_time.as_secs_f64(),
            self.accepted as f64 / self.run_time.as_secs_f64().max(1e-9),
            self.settle_time.as_secs_f64()
        );
        for (currency, (before, after)) in &self.totals {
            println!("{currency}: {before} -> {after} minor units");
        }
        if self.problems.is_empty() {
            println!("audit: clean");
        }
        for problem in &self.problems {
            println!("PROBLEM: {problem}");
        }
    }
}

pub async fn run_bank(world: &World, options: &BankOptions) -> anyhow::Result<BankReport> {
    let mut report = BankReport::default();
    let before = balances(world).await?;
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let counters = Arc::new(Counters::default());
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..options.concurrency.max(1) {
        let (world_base, client) = (world.base.clone(), world.client.clone());
        let customers = world.customers.clone();
        let (accepted, counters, next, options) = (
            accepted.clone(),
            counters.clone(),
            next.clone(),
            options.clone(),
        );
        workers.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < options.operations {
                let op = one_transfer(&client, &world_base, &customers, &options, &counters).await;
                if let Some(op) = op {
                    accepted.lock().map(|mut a| a.push(op)).ok();
                }
            }
        }));
    }
    for worker in workers {
        worker.await?;
    }
    report.run_time = started.elapsed();
    let settle_started = Instant::now();
    wait_until_all_ended(world).await?;
    report.settle_time = settle_started.elapsed();
    let accepted = accepted.lock().map(|a| a.clone()).unwrap_or_default();
    report.attempted = options.operations;
    report.accepted = accepted.len();
    report.refused = counters.refused.load(Ordering::Relaxed);
    report.unexpected_errors = counters.errors.load(Ordering::Relaxed);
    if report.unexpected_errors > 0 {
        let sample = counters
            .sample
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default();
        report.problems.push(format!(
            "{} unexpected errors, e.g. {sample}",
            report.unexpected_errors
        ));
    }
    audit(world, &accepted, &before, &mut report).await?;
    for (id, ledger) in world.ledger_reports().await? {
        if !ledger.is_clean() {
            report
                .problems
                .push(format!("ledger of {id} does not balance: {ledger:?}"));
        }
    }
    Ok(report)
}

#[derive(Default)]
struct Counters {
    refused: AtomicUsize,
    errors: AtomicUsize,
    sample: Mutex<String>,
}

async fn one_transfer(
    client: &reqwest::Client,
    base: &str,
    customers: &[crate::world::Customer],
    options: &BankOptions,
    counters: &Counters,
) -> Option<Accepted> {
    let (customer, source, destination, amount, roll) = {
        let mut rng = rand::rng();
        let customer = rng.random_range(0..customers.len());
        let accounts = &customers[customer].accounts;
        let from = rng.random_range(0..accounts.len());
        let to = (from + rng.random_range(1..accounts.len())) % accounts.len();
        let (source, destination) = (accounts[from].clone(), accounts[to].clone());
        let in_destination_currency =
            source.currency != destination.currency && rng.random_bool(0.2);
        let currency = if in_destination_currency {
            &destination.currency
        } else {
            &source.currency
        };
        let currency = Currency::parse(currency).ok()?;
        let amount = Money::new(rng.random_range(1..=options.max_amount_cents), currency);
        (
            customer,
            source,
            destination,
            amount,
            rng.random_range(0..100u32),
        )
    };
    let token = &customers[customer].token;
    let body = json!({
        "srcAcc": source.id, "dstAcc": destination.id,
        "amount": amount.to_decimal_string(), "currency": amount.currency.as_str()
    });
    let response = client
        .post(format!("{base}/transfer/acc2acc"))
        .header("token", token)
        .json(&body)
        .send()
        .await;
    let (status, answer) = match response {
        Ok(r) => (
            r.status().as_u16(),
            r.json::<Value>().await.unwrap_or(Value::Null),
        ),
        Err(e) => (0, json!({ "message": e.to_string() })),
    };
    if status != 200 {
        if status == 409
            && matches!(
                answer["code"].as_str(),
                Some("INSUFFICIENT_FUNDS" | "BALANCE_CHANGING")
            )
        {
            counters.refused.fetch_add(1, Ordering::Relaxed);
        } else {
            counters.errors.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut sample) = counters.sample.lock() {
                *sample = format!("{status} {answer}");
            }
        }
        return None;
    }
    let undo_id = answer["undo"]["id"].as_str()?.to_owned();
    let mut accepted = Accepted {
        customer,
        reference: answer["reference"].as_str()?.to_owned(),
        undo_id,
        source,
        destination,
        amount,
        cancel_confirmed: false,
    };
    if roll < options.cancel_percent {
        let cancel = client
            .delete(format!("{base}/undo/{}", accepted.undo_id))
            .header("token", token)
            .send()
            .await;
        accepted.cancel_confirmed = cancel.is_ok_and(|r| r.status().as_u16() == 200);
    } else if roll < options.cancel_percent + options.do_now_percent {
        let _ = client
            .post(format!("{base}/undo/now/{}", accepted.undo_id))
            .header("token", token)
            .send()
            .await;
    }
    Some(accepted)
}

/// Waits (two minutes at most) until no customer has a queued action that has not ended.
async fn wait_until_all_ended(world: &World) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    for customer in &world.customers {
        loop {
            let list: Value = world
                .client
                .get(world.url("/undo"))
                .header("token", &customer.token)
                .send()
                .await?
                .json()
                .await?;
            if list["undos"].as_array().is_some_and(Vec::is_empty) {
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "queued transfers never ended: {list}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}
