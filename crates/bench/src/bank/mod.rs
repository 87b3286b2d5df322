//! The bank test: many concurrent transfers among every customer's accounts (two back offices, two
//! currencies) over HTTP, with random cancels and do-nows, then an audit of the end state:
//! * every accepted transfer ended executed exactly once (one debit line, one credit line), cancelled,
//!   or failed with nothing moved (no line, or a debit and its reversal), and the client's view of each
//!   cancel matches the server's;
//! * per currency, the balances moved by exactly what the statement lines say, and each converted
//!   transfer credited exactly its debit at the recorded rate: no money created or destroyed;
//! * no available balance is negative and no hold is left over;
//! * both back offices' ledgers balance.
//!
//! The run is in phases so that the chaos run can disrupt the cluster while transfers are submitted:
//! [`Bank::open`] notes the balances, [`Bank::submit`] runs the load, [`Bank::settle`] waits for every
//! queued transfer to end and audits.

mod audit;

use crate::gateway::Gateway;
use crate::world::{AccountInfo, Customer};
use audit::{audit, balances};
use bankgate_domain::{Currency, Money};
use bankgate_sandbox::LedgerReport;
use rand::Rng;
use reqwest::Method;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Who the bank test acts as, and how it reaches bankgate.
#[derive(Clone)]
pub struct Clients {
    pub gateway: Gateway,
    pub customers: Vec<Customer>,
}

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
    /// Each submitter waits this long between its transfers (zero: as fast as answered).
    pub pace: Duration,
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
    /// Accepted in stand-in (202).
    stand_in: bool,
    cancel_confirmed: bool,
}

#[derive(Debug, Default)]
pub struct BankReport {
    pub attempted: usize,
    pub accepted: usize,
    /// Accepted in stand-in (202, `queued: true`): the source's bank was unavailable.
    pub accepted_in_stand_in: usize,
    pub refused: usize,
    /// Refusals by the contract's error code.
    pub refusals: BTreeMap<String, usize>,
    pub unexpected_errors: usize,
    pub cancelled: usize,
    pub executed: usize,
    pub failed: usize,
    /// Failed transfers by the reason the user is shown.
    pub failures: BTreeMap<String, usize>,
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

    /// Adds a problem for each back office whose ledger does not balance.
    pub fn check_ledgers(&mut self, ledgers: &[(String, LedgerReport)]) {
        for (id, ledger) in ledgers {
            if !ledger.is_clean() {
                self.problems
                    .push(format!("ledger of {id} does not balance: {ledger:?}"));
            }
        }
    }

    pub fn print(&self) {
        println!(
            "attempted {}  accepted {} ({} in stand-in)  refused {}  unexpected errors {}",
            self.attempted,
            self.accepted,
            self.accepted_in_stand_in,
            self.refused,
            self.unexpected_errors
        );
        if !self.refusals.is_empty() {
            let by_code: Vec<String> = self
                .refusals
                .iter()
                .map(|(code, n)| format!("{code} {n}"))
                .collect();
            println!("refused by code: {}", by_code.join(", "));
        }
        println!(
            "executed {}  cancelled {}  failed {}  duplicates {}  lost {}",
            self.executed, self.cancelled, self.failed, self.duplicates, self.lost
        );
        for (reason, n) in &self.failures {
            println!("failed {n}: {reason}");
        }
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

/// The bank test in one go: open, submit `options.operations` transfers, settle and audit. The caller
/// checks the back offices' ledgers ([`BankReport::check_ledgers`]).
pub async fn run_bank(clients: &Clients, options: &BankOptions) -> anyhow::Result<BankReport> {
    let bank = Bank::open(clients.clone()).await?;
    let submitted = bank.submit(options, None).await?;
    bank.settle(submitted).await
}

/// A bank run under way: the clients, and every balance as it was before.
pub struct Bank {
    clients: Clients,
    before: HashMap<String, (Money, Money)>,
}

/// What the submitters saw.
pub struct Submitted {
    attempted: usize,
    accepted: Vec<Accepted>,
    counters: Arc<Counters>,
    run_time: Duration,
}

impl Bank {
    pub async fn open(clients: Clients) -> anyhow::Result<Bank> {
        let before = balances(&clients).await?;
        Ok(Bank { clients, before })
    }

    /// Submits transfers from `options.concurrency` clients until `options.operations` were tried or,
    /// when given, `stop` turns true.
    pub async fn submit(
        &self,
        options: &BankOptions,
        stop: Option<Arc<AtomicBool>>,
    ) -> anyhow::Result<Submitted> {
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let counters = Arc::new(Counters::default());
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut workers = Vec::new();
        for _ in 0..options.concurrency.max(1) {
            let clients = self.clients.clone();
            let (accepted, counters, next, options, stop) = (
                accepted.clone(),
                counters.clone(),
                next.clone(),
                options.clone(),
                stop.clone(),
            );
            workers.push(tokio::spawn(async move {
                while !stop.as_ref().is_some_and(|s| s.load(Ordering::Relaxed))
                    && next.fetch_add(1, Ordering::Relaxed) < options.operations
                {
                    if let Some(op) = one_transfer(&clients, &options, &counters).await {
                        accepted.lock().map(|mut a| a.push(op)).ok();
                    }
                    if !options.pace.is_zero() {
                        tokio::time::sleep(options.pace).await;
                    }
                }
            }));
        }
        for worker in workers {
            worker.await?;
        }
        let accepted = accepted.lock().map(|a| a.clone()).unwrap_or_default();
        Ok(Submitted {
            attempted: next.load(Ordering::Relaxed).min(options.operations),
            accepted,
            counters,
            run_time: started.elapsed(),
        })
    }

    /// Waits until every queued transfer ended, then audits.
    pub async fn settle(&self, submitted: Submitted) -> anyhow::Result<BankReport> {
        let clients = &self.clients;
        let mut report = BankReport {
            run_time: submitted.run_time,
            ..BankReport::default()
        };
        let settle_started = Instant::now();
        wait_until_all_ended(clients).await?;
        report.settle_time = settle_started.elapsed();
        let counters = &submitted.counters;
        report.attempted = submitted.attempted;
        report.accepted = submitted.accepted.len();
        report.accepted_in_stand_in = submitted.accepted.iter().filter(|a| a.stand_in).count();
        report.refusals = counters
            .refusals
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default();
        report.refused = report.refusals.values().sum();
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
        audit(clients, &submitted.accepted, &self.before, &mut report).await?;
        Ok(report)
    }
}

#[derive(Default)]
struct Counters {
    refusals: Mutex<BTreeMap<String, usize>>,
    errors: AtomicUsize,
    sample: Mutex<String>,
}

/// Answers that refuse a transfer for a reason the user is meant to see: not enough money, a balance in
/// flux, over a stand-in limit, or (in stand-in) a conversion its bank must quote.
fn is_refusal(status: u16, code: Option<&str>) -> bool {
    matches!(
        (status, code),
        (
            409,
            Some("INSUFFICIENT_FUNDS" | "BALANCE_CHANGING" | "STAND_IN_LIMIT")
        ) | (503, Some("BACK_OFFICE_UNAVAILABLE"))
    )
}

async fn one_transfer(
    clients: &Clients,
    options: &BankOptions,
    counters: &Counters,
) -> Option<Accepted> {
    let customers = &clients.customers;
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
    let gateway = &clients.gateway;
    let answer = gateway
        .send(Method::POST, "/transfer/acc2acc", token, Some(&body))
        .await;
    if !matches!(answer.status, 200 | 202) {
        if is_refusal(answer.status, answer.code()) {
            if let Ok(mut refusals) = counters.refusals.lock() {
                *refusals
                    .entry(answer.code().unwrap_or_default().to_owned())
                    .or_default() += 1;
            }
        } else {
            counters.errors.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut sample) = counters.sample.lock() {
                *sample = format!("{} {}", answer.status, answer.body);
            }
        }
        return None;
    }
    let mut accepted = Accepted {
        customer,
        reference: answer.body["reference"].as_str()?.to_owned(),
        undo_id: answer.body["undo"]["id"].as_str()?.to_owned(),
        stand_in: answer.status == 202,
        source,
        destination,
        amount,
        cancel_confirmed: false,
    };
    let undo = format!("/undo/{}", accepted.undo_id);
    if roll < options.cancel_percent {
        let cancel = gateway.send(Method::DELETE, &undo, token, None).await;
        accepted.cancel_confirmed = cancel.status == 200;
    } else if roll < options.cancel_percent + options.do_now_percent {
        let now = format!("/undo/now/{}", accepted.undo_id);
        gateway.send(Method::POST, &now, token, None).await;
    }
    Some(accepted)
}

/// Waits (two minutes at most) until no customer has a queued action that has not ended.
async fn wait_until_all_ended(clients: &Clients) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    for customer in &clients.customers {
        loop {
            let list = clients.gateway.get("/undo", &customer.token).await;
            if list.body["undos"].as_array().is_some_and(Vec::is_empty) {
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "queued transfers never ended: {} {}",
                list.status,
                list.body
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}
