//! The bank test's audit of the end state, from what the API shows: each accepted transfer's statement
//! lines (found by its reference), every account's balances, and the transfer's recorded rate.

use super::{Accepted, BankReport, Clients};
use anyhow::Context;
use bankgate_domain::{Currency, Money, Rate};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// Each account's (native, available) in minor units.
pub(super) async fn balances(clients: &Clients) -> anyhow::Result<HashMap<String, (Money, Money)>> {
    let mut all = HashMap::new();
    for customer in &clients.customers {
        let answer = clients.gateway.get("/accounts", &customer.token).await;
        let answer = read_answer(answer)?;
        for account in answer["accounts"].as_array().context("accounts")? {
            let balance = &account["balance"];
            let currency = Currency::parse(balance["currency"].as_str().unwrap_or_default())?;
            let native = decimal(&balance["native"], currency)?;
            let available = decimal(&balance["available"], currency)?;
            let id = account["AFiAccountId"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            all.insert(id, (native, available));
        }
    }
    Ok(all)
}

/// The body of a successful read, or why there is none.
fn read_answer(answer: crate::gateway::Answer) -> anyhow::Result<Value> {
    anyhow::ensure!(
        answer.status == 200,
        "a read failed: {} {}",
        answer.status,
        answer.body
    );
    Ok(answer.body)
}

fn decimal(value: &Value, currency: Currency) -> anyhow::Result<Money> {
    Ok(Money::parse_decimal(&value.to_string(), currency)?)
}

/// A statement line bankgate made: (account, signed amount, rate).
type Line = (String, Money, Option<Rate>);

/// Every line with a bankgate operation reference, per reference.
async fn bankgate_lines(clients: &Clients) -> anyhow::Result<HashMap<String, Vec<Line>>> {
    let today = time::OffsetDateTime::now_utc().date();
    let (from, to) = (
        today.previous_day().unwrap_or(today),
        today.next_day().unwrap_or(today),
    );
    let mut lines: HashMap<String, Vec<Line>> = HashMap::new();
    for customer in &clients.customers {
        for account in &customer.accounts {
            let path = format!("/accounts/{}/transactions/{from}/{to}", account.id);
            let answer = read_answer(clients.gateway.get(&path, &customer.token).await)?;
            for line in answer.as_array().context("transactions")? {
                let reference = line["reference"].as_str().unwrap_or_default();
                if !reference.starts_with("bgopr") {
                    continue;
                }
                let currency = Currency::parse(line["currency"].as_str().unwrap_or_default())?;
                let amount = decimal(&line["amount"], currency)?;
                let rate = line["exchangeRate"]
                    .as_f64()
                    .map(|r| Rate::parse(&r.to_string()))
                    .transpose()?;
                lines.entry(reference.to_owned()).or_default().push((
                    account.id.clone(),
                    amount,
                    rate,
                ));
            }
        }
    }
    Ok(lines)
}

pub(super) async fn audit(
    clients: &Clients,
    accepted: &[Accepted],
    before: &HashMap<String, (Money, Money)>,
    report: &mut BankReport,
) -> anyhow::Result<()> {
    let lines = bankgate_lines(clients).await?;
    let mut known = std::collections::HashSet::new();
    for op in accepted {
        known.insert(op.reference.clone());
        let customer = &clients.customers[op.customer];
        let path = format!("/undo/{}", op.undo_id);
        let undo = read_answer(clients.gateway.get(&path, &customer.token).await)?;
        let state = undo["undo"]["state"]
            .as_str()
            .unwrap_or("missing")
            .to_owned();
        let mine = lines.get(&op.reference).cloned().unwrap_or_default();
        match state.as_str() {
            "done" => {
                report.executed += 1;
                check_executed(op, &mine, report);
            }
            "cancelled" => {
                report.cancelled += 1;
                if !mine.is_empty() {
                    report
                        .problems
                        .push(format!("cancelled {} moved money: {mine:?}", op.reference));
                }
            }
            "failed" => {
                report.failed += 1;
                let reason = undo["undo"]["reason"].as_str().unwrap_or("none given");
                *report.failures.entry(reason.to_owned()).or_default() += 1;
                check_nothing_moved(op, &mine, report);
            }
            other => {
                report.lost += 1;
                report
                    .problems
                    .push(format!("transfer {} never ended ({other})", op.reference));
            }
        }
        if op.cancel_confirmed && state != "cancelled" {
            report.problems.push(format!(
                "{} was cancelled for the client but ended {state}",
                op.reference
            ));
        }
    }
    for reference in lines.keys().filter(|r| !known.contains(*r)) {
        report
            .problems
            .push(format!("movement {reference} was never accepted"));
    }
    let after = balances(clients).await?;
    let mut movement: BTreeMap<String, i64> = BTreeMap::new();
    for line in lines.values().flatten() {
        *movement.entry(line.1.currency.to_string()).or_default() += line.1.minor;
    }
    for (id, (native, available)) in &after {
        if available.minor < 0 {
            report.problems.push(format!(
                "account {id} has a negative available balance {available}"
            ));
        }
        if available != native {
            report.problems.push(format!(
                "account {id} still holds {native} vs available {available}"
            ));
        }
        let start = before.get(id).map_or(0, |b| b.0.minor);
        let totals = report
            .totals
            .entry(native.currency.to_string())
            .or_default();
        totals.0 += start;
        totals.1 += native.minor;
    }
    for (currency, (start, end)) in &report.totals {
        let moved = movement.get(currency).copied().unwrap_or(0);
        if end - start != moved {
            report.problems.push(format!(
                "{currency}: balances moved {} but statement lines say {moved}",
                end - start
            ));
        }
    }
    Ok(())
}

/// A failed transfer left no line, or a debit and its reversal: nothing moved on any account.
fn check_nothing_moved(op: &Accepted, lines: &[Line], report: &mut BankReport) {
    let mut net: HashMap<&str, i64> = HashMap::new();
    for (account, amount, _) in lines {
        *net.entry(account.as_str()).or_default() += amount.minor;
    }
    if net.values().any(|sum| *sum != 0) {
        report.problems.push(format!(
            "failed transfer {} moved money: {lines:?}",
            op.reference
        ));
    }
}

fn check_executed(op: &Accepted, lines: &[Line], report: &mut BankReport) {
    let debits: Vec<&Line> = lines.iter().filter(|l| l.0 == op.source.id).collect();
    let credits: Vec<&Line> = lines.iter().filter(|l| l.0 == op.destination.id).collect();
    if debits.len() > 1 || credits.len() > 1 {
        report.duplicates += 1;
        report.problems.push(format!(
            "{} applied more than once: {lines:?}",
            op.reference
        ));
        return;
    }
    let (Some(debit), Some(credit)) = (debits.first(), credits.first()) else {
        report.lost += 1;
        report.problems.push(format!(
            "{} is done but its lines are missing: {lines:?}",
            op.reference
        ));
        return;
    };
    let (debit, credit) = (Money::new(-debit.1.minor, debit.1.currency), credit);
    let requested_side = if op.amount.currency == debit.currency {
        debit
    } else {
        credit.1
    };
    let expected_credit = match credit.2 {
        Some(rate) => rate.convert(debit, credit.1.currency).ok(),
        None => Some(debit),
    };
    let off_by_rounding = (requested_side.minor - op.amount.minor).abs();
    // Given in the destination's currency, the credit may differ from the request by one minor unit
    // (the debit is rounded first, then converted).
    let tolerance = i64::from(op.amount.currency != debit.currency);
    if expected_credit != Some(credit.1) || off_by_rounding > tolerance || debit.minor <= 0 {
        report.problems.push(format!(
            "{}: asked {}, debited {debit}, credited {} at {:?}",
            op.reference, op.amount, credit.1, credit.2
        ));
    }
}
