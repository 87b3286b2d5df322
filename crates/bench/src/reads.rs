//! The read benchmark: authenticated `GET /accounts` against `GET /ping/heartbeat` on a running
//! bankgate. The two endpoints take turns in short rounds on the same keep-alive connections, so a
//! machine whose speed drifts during the run (a busy neighbour, a CPU clocking down) slows both alike
//! and their ratio stays a property of bankgate.

use crate::stats::percentile;
use crate::world::login;
use anyhow::bail;
use std::time::{Duration, Instant};

/// How a read benchmark runs.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The server's public base URL.
    pub url: String,
    pub user: String,
    pub password: String,
    /// Concurrent keep-alive connections.
    pub connections: usize,
    /// Measured time per endpoint, split over the rounds.
    pub measured: Duration,
    /// Turns each endpoint takes.
    pub rounds: u32,
}

/// Requests not counted at the start of each turn, while the previous endpoint's requests finish.
const SETTLE: Duration = Duration::from_millis(100);

/// What one endpoint's turns measured, together.
#[derive(Debug, Clone)]
pub struct Figures {
    pub requests: usize,
    pub errors: usize,
    pub measured: Duration,
    pub p50: Duration,
    pub p99: Duration,
}

impl Figures {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.measured.as_secs_f64()
    }
}

/// The run's result: each endpoint's figures, and the accounts/heartbeat ratio of each round.
#[derive(Debug, Clone)]
pub struct ReadReport {
    pub heartbeat: Figures,
    pub accounts: Figures,
    pub round_ratios: Vec<f64>,
}

impl ReadReport {
    /// The median of the rounds' ratios: one disturbed round does not move it.
    pub fn median_ratio(&self) -> f64 {
        let mut ratios = self.round_ratios.clone();
        ratios.sort_by(f64::total_cmp);
        ratios.get(ratios.len() / 2).copied().unwrap_or(0.0)
    }

    pub fn print(&self, options: &ReadOptions) {
        println!(
            "{} connections, {} s per endpoint in {} alternating rounds",
            options.connections,
            options.measured.as_secs_f64(),
            options.rounds
        );
        println!(
            "{:<22} {:>10} {:>10} {:>10} {:>8}",
            "endpoint", "req/s", "p50 ms", "p99 ms", "errors"
        );
        for (name, f) in [
            ("GET /ping/heartbeat", &self.heartbeat),
            ("GET /accounts", &self.accounts),
        ] {
            println!(
                "{name:<22} {:>10.0} {:>10.2} {:>10.2} {:>8}",
                f.per_second(),
                f.p50.as_secs_f64() * 1e3,
                f.p99.as_secs_f64() * 1e3,
                f.errors
            );
        }
        let rounds: Vec<String> = self
            .round_ratios
            .iter()
            .map(|r| format!("{:.0}%", 100.0 * r))
            .collect();
        println!(
            "accounts / heartbeat throughput: {:.0}% (median of rounds: {})",
            100.0 * self.median_ratio(),
            rounds.join(" ")
        );
    }
}

/// Which endpoint a turn measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Heartbeat,
    Accounts,
}

/// One endpoint's turn: requests sent between `measure_from` and `until` are counted.
#[derive(Debug, Clone, Copy)]
struct Turn {
    endpoint: Endpoint,
    starts: Instant,
    measure_from: Instant,
    until: Instant,
}

/// What one connection saw in each turn.
type TurnResults = Vec<(Vec<Duration>, usize)>;

pub async fn run_reads(options: &ReadOptions) -> anyhow::Result<ReadReport> {
    if options.rounds == 0 || options.connections == 0 {
        bail!("rounds and connections must be at least 1");
    }
    let token = login(
        &reqwest::Client::new(),
        &options.url,
        &options.user,
        &options.password,
    )
    .await?;
    let turns = schedule(options, Instant::now() + Duration::from_secs(1));
    let mut clients = Vec::with_capacity(options.connections);
    for _ in 0..options.connections {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()?;
        let (turns, url, token) = (turns.clone(), options.url.clone(), token.clone());
        clients.push(tokio::spawn(async move {
            client_loop(client, &url, &token, &turns).await
        }));
    }
    let mut per_turn: TurnResults = vec![(Vec::new(), 0); turns.len()];
    for client in clients {
        for (turn, (latencies, errors)) in client.await?.into_iter().enumerate() {
            per_turn[turn].0.extend(latencies);
            per_turn[turn].1 += errors;
        }
    }
    Ok(report(&turns, per_turn))
}

/// A warm-up turn of each endpoint, then `rounds` of heartbeat and accounts turns from `start`.
fn schedule(options: &ReadOptions, start: Instant) -> Vec<Turn> {
    let turn_length = options.measured / options.rounds;
    let mut turns = Vec::new();
    let mut at = start;
    let warm_up = Duration::from_millis(500);
    for endpoint in [Endpoint::Heartbeat, Endpoint::Accounts] {
        // A warm-up turn counts nothing: its measuring starts when it ends.
        turns.push(Turn {
            endpoint,
            starts: at,
            measure_from: at + warm_up,
            until: at + warm_up,
        });
        at += warm_up;
    }
    for _ in 0..options.rounds {
        for endpoint in [Endpoint::Heartbeat, Endpoint::Accounts] {
            turns.push(Turn {
                endpoint,
                starts: at,
                measure_from: at + SETTLE,
                until: at + SETTLE + turn_length,
            });
            at += SETTLE + turn_length;
        }
    }
    turns
}

async fn client_loop(
    client: reqwest::Client,
    url: &str,
    token: &str,
    turns: &[Turn],
) -> TurnResults {
    let heartbeat = format!("{url}/ping/heartbeat");
    let accounts = format!("{url}/accounts");
    let mut results: TurnResults = vec![(Vec::new(), 0); turns.len()];
    let mut turn = 0;
    tokio::time::sleep_until(turns[0].starts.into()).await;
    loop {
        let sent = Instant::now();
        while turn < turns.len() && sent >= turns[turn].until {
            turn += 1;
        }
        let Some(current) = turns.get(turn) else {
            break;
        };
        let request = match current.endpoint {
            Endpoint::Heartbeat => client.get(&heartbeat),
            Endpoint::Accounts => client.get(&accounts).header("token", token),
        };
        let ok = match request.send().await {
            Ok(response) => response.status().is_success() && response.bytes().await.is_ok(),
            Err(_) => false,
        };
        if sent >= current.measure_from {
            if ok {
                results[turn].0.push(sent.elapsed());
            } else {
                results[turn].1 += 1;
            }
        }
    }
    results
}

fn report(turns: &[Turn], per_turn: TurnResults) -> ReadReport {
    let mut gathered = [
        (Vec::new(), 0, Duration::ZERO),
        (Vec::new(), 0, Duration::ZERO),
    ];
    let mut rates: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for (turn, (latencies, errors)) in turns.iter().zip(per_turn) {
        let measured = turn.until - turn.measure_from;
        if measured.is_zero() {
            continue;
        }
        let which = turn.endpoint as usize;
        rates[which].push(latencies.len() as f64 / measured.as_secs_f64());
        let (all, all_errors, all_measured) = &mut gathered[which];
        all.extend(latencies);
        *all_errors += errors;
        *all_measured += measured;
    }
    let round_ratios = rates[0]
        .iter()
        .zip(&rates[1])
        .filter(|(heartbeat, _)| **heartbeat > 0.0)
        .map(|(heartbeat, accounts)| accounts / heartbeat)
        .collect();
    let [heartbeat, accounts] = gathered.map(|(mut latencies, errors, measured)| {
        latencies.sort_unstable();
        Figures {
            requests: latencies.len(),
            errors,
            measured,
            p50: percentile(&latencies, 0.50),
            p99: percentile(&latencies, 0.99),
        }
    });
    ReadReport {
        heartbeat,
        accounts,
        round_ratios,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(rounds: u32) -> ReadOptions {
        ReadOptions {
            url: String::new(),
            user: String::new(),
            password: String::new(),
            connections: 1,
            measured: Duration::from_secs(2),
            rounds,
        }
    }

    #[test]
    fn the_endpoints_take_turns_after_a_warm_up_of_each() {
        let start = Instant::now();
        let turns = schedule(&options(2), start);
        let endpoints: Vec<Endpoint> = turns.iter().map(|t| t.endpoint).collect();
        use Endpoint::*;
        assert_eq!(
            endpoints,
            [Heartbeat, Accounts, Heartbeat, Accounts, Heartbeat, Accounts]
        );
        assert!(turns[..2].iter().all(|t| t.measure_from == t.until));
        for pair in turns.windows(2) {
            assert_eq!(pair[0].until, pair[1].starts);
        }
        let measured: Duration = turns.iter().map(|t| t.until - t.measure_from).sum();
        assert_eq!(measured, Duration::from_secs(4));
    }

    #[test]
    fn the_ratio_is_the_median_of_the_rounds() {
        let turns = schedule(&options(3), Instant::now());
        let counts = [0, 0, 1000, 300, 1000, 100, 2000, 1000];
        let per_turn = counts
            .iter()
            .map(|n| (vec![Duration::from_millis(1); *n], 0))
            .collect();
        let report = report(&turns, per_turn);
        assert_eq!(report.round_ratios.len(), 3);
        assert!((report.median_ratio() - 0.3).abs() < 1e-9);
        assert_eq!(report.heartbeat.requests, 4000);
        assert_eq!(report.accounts.requests, 1400);
    }
}
