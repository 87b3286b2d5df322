//! `bankgate-bench`: load generators that print figures.
//!
//! * `reads` (against a running bankgate) compares authenticated `GET /accounts` with
//!   `GET /ping/heartbeat` in one run: requests per second, p50/p99 latency, and the ratio of the two.
//! * `transfers` and `bank` start their own bankgate in-process on a fresh database (SQLite, or
//!   PostgreSQL from `BANKGATE_TEST_POSTGRES_URL` with `--engine postgres`) with many customers:
//!   `transfers` measures transfers per second end to end with a zero undo window, `bank` runs the
//!   audited bank test and exits non-zero if the audit finds a problem.
//! * `push` connects many WebSocket clients to an in-process bankgate and measures the delay from a
//!   change's commit to its arrival at every client of its user, and memory per connection.
//! * `chaos` runs the bank test over a cluster (two nodes on one database, two back-office servers)
//!   while back offices and nodes are killed, slowed and made to fail or drop replies; it prints what
//!   it did and the audit, and exits non-zero if the audit finds a problem.
#![forbid(unsafe_code)]

use anyhow::{bail, Context};
use bankgate_bench::bank::{run_bank, BankOptions};
use bankgate_bench::chaos::{run_chaos, ChaosOptions};
use bankgate_bench::cluster::{Cluster, ClusterOptions};
use bankgate_bench::push::{run_push, PushOptions};
use bankgate_bench::stats::percentile;
use bankgate_bench::transfers::{run_transfers, Route, TransferOptions};
use bankgate_bench::world::{World, WorldOptions};
use bankgate_db::Engine;
use clap::{Parser, Subcommand, ValueEnum};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(
    name = "bankgate-bench",
    about = "Load generators that print bankgate's figures"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Authenticated GET /accounts against GET /ping/heartbeat.
    Reads {
        /// The server's public base URL.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        #[arg(long, default_value = "demo")]
        user: String,
        #[arg(long, default_value = "demo-password")]
        password: String,
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// Measured seconds per endpoint (after a one-second warm-up).
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Transfers per second end to end, with a zero undo window, on an in-process bankgate.
    Transfers {
        #[arg(long, value_enum, default_value_t = EngineArg::Sqlite)]
        engine: EngineArg,
        #[arg(long, default_value_t = 32)]
        clients: usize,
        #[arg(long, default_value_t = 32)]
        customers: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// `across`: checking at sandbox-a to savings at sandbox-b (the two-step saga); `within`:
        /// savings to EUR at sandbox-b (one converted book transfer).
        #[arg(long, value_enum, default_value_t = RouteArg::Across)]
        route: RouteArg,
        /// Jobs each node runs at once.
        #[arg(long, default_value_t = 32)]
        workers: usize,
    },
    /// The audited bank test: concurrent transfers with cancels and do-nows, then the audit.
    Bank {
        #[arg(long, value_enum, default_value_t = EngineArg::Sqlite)]
        engine: EngineArg,
        #[arg(long, default_value_t = 20)]
        customers: usize,
        #[arg(long, default_value_t = 5000)]
        operations: usize,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        #[arg(long, default_value_t = 20)]
        cancel_percent: u32,
        #[arg(long, default_value_t = 20)]
        do_now_percent: u32,
        /// Undo window in milliseconds.
        #[arg(long, default_value_t = 300)]
        window_ms: u64,
    },
    /// Push: many WebSocket clients, then changes; delay from commit to arrival, and memory.
    Push {
        #[arg(long, default_value_t = 1000)]
        clients: usize,
        /// Customers the clients are spread over (each has clients / customers apps connected).
        #[arg(long, default_value_t = 100)]
        customers: usize,
        #[arg(long, default_value_t = 300)]
        changes: usize,
        /// Pause between changes, in milliseconds.
        #[arg(long, default_value_t = 10)]
        pace_ms: u64,
    },
    /// The bank test over two nodes and two back-office servers while things go wrong.
    Chaos {
        #[arg(long, value_enum, default_value_t = EngineArg::Sqlite)]
        engine: EngineArg,
        #[arg(long, default_value_t = 8)]
        customers: usize,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Times through the list of disruptions.
        #[arg(long, default_value_t = 2)]
        rounds: usize,
        /// How long each disruption lasts, in milliseconds.
        #[arg(long, default_value_t = 2000)]
        outage_ms: u64,
        /// Each submitter's pause between transfers, in milliseconds.
        #[arg(long, default_value_t = 20)]
        pace_ms: u64,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum EngineArg {
    Sqlite,
    Postgres,
}

impl From<EngineArg> for Engine {
    fn from(e: EngineArg) -> Engine {
        match e {
            EngineArg::Sqlite => Engine::Sqlite,
            EngineArg::Postgres => Engine::Postgres,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum RouteArg {
    Across,
    Within,
}

/// What one endpoint's run measured.
struct Figures {
    requests: usize,
    errors: usize,
    elapsed: Duration,
    p50: Duration,
    p99: Duration,
}

impl Figures {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // The in-process nodes log here: warnings and errors unless RUST_LOG says otherwise.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Reads {
            url,
            user,
            password,
            connections,
            seconds,
        } => {
            let token = login(&url, &user, &password).await?;
            let duration = Duration::from_secs(seconds);
            let heartbeat = run(
                &format!("{url}/ping/heartbeat"),
                None,
                connections,
                duration,
            )
            .await?;
            let accounts = run(
                &format!("{url}/accounts"),
                Some(&token),
                connections,
                duration,
            )
            .await?;
            println!("{connections} connections, {seconds} s per endpoint");
            println!(
                "{:<22} {:>10} {:>10} {:>10} {:>8}",
                "endpoint", "req/s", "p50 ms", "p99 ms", "errors"
            );
            for (name, f) in [
                ("GET /ping/heartbeat", &heartbeat),
                ("GET /accounts", &accounts),
            ] {
                println!(
                    "{name:<22} {:>10.0} {:>10.2} {:>10.2} {:>8}",
                    f.per_second(),
                    f.p50.as_secs_f64() * 1e3,
                    f.p99.as_secs_f64() * 1e3,
                    f.errors
                );
            }
            println!(
                "accounts / heartbeat throughput: {:.0}%",
                100.0 * accounts.per_second() / heartbeat.per_second()
            );
            Ok(())
        }
        Command::Transfers {
            engine,
            clients,
            customers,
            seconds,
            route,
            workers,
        } => {
            let world = World::start(&WorldOptions {
                engine: engine.into(),
                customers,
                undo_window_ms: 0,
                job_workers: workers,
            })
            .await?;
            let route = match route {
                RouteArg::Across => Route::AcrossBackOffices,
                RouteArg::Within => Route::WithinOneBackOffice,
            };
            let options = TransferOptions {
                clients,
                duration: Duration::from_secs(seconds),
                route,
            };
            println!(
                "{} clients, {customers} customers, {seconds} s, zero undo window",
                clients
            );
            let figures = run_transfers(&world, &options).await?;
            figures.print();
            world.stop().await;
            Ok(())
        }
        Command::Bank {
            engine,
            customers,
            operations,
            concurrency,
            cancel_percent,
            do_now_percent,
            window_ms,
        } => {
            let world = World::start(&WorldOptions {
                engine: engine.into(),
                customers,
                undo_window_ms: window_ms,
                job_workers: 32,
            })
            .await?;
            let options = BankOptions {
                operations,
                concurrency,
                cancel_percent,
                do_now_percent,
                max_amount_cents: 20_000,
                pace: Duration::ZERO,
            };
            let mut report = run_bank(&world.clients(), &options).await?;
            report.check_ledgers(&world.ledger_reports().await?);
            report.print();
            world.stop().await;
            if !report.is_clean() {
                bail!("the bank audit found problems");
            }
            Ok(())
        }
        Command::Push {
            clients,
            customers,
            changes,
            pace_ms,
        } => {
            let world = World::start(&WorldOptions {
                engine: Engine::Sqlite,
                customers,
                undo_window_ms: 10_000,
                job_workers: 8,
            })
            .await?;
            let options = PushOptions {
                clients,
                changes,
                pace: Duration::from_millis(pace_ms),
            };
            let figures = run_push(&world, &options).await?;
            figures.print();
            world.stop().await;
            Ok(())
        }
        Command::Chaos {
            engine,
            customers,
            concurrency,
            rounds,
            outage_ms,
            pace_ms,
        } => {
            let mut cluster =
                Cluster::start(&ClusterOptions::for_engine(engine.into(), customers)).await?;
            let options = ChaosOptions {
                bank: BankOptions {
                    operations: usize::MAX,
                    concurrency,
                    cancel_percent: 20,
                    do_now_percent: 20,
                    max_amount_cents: 20_000,
                    pace: Duration::from_millis(pace_ms),
                },
                outage: Duration::from_millis(outage_ms),
                calm: Duration::from_millis(outage_ms / 2),
                rounds,
            };
            let report = run_chaos(&mut cluster, &options).await?;
            report.print();
            cluster.stop().await;
            if !report.bank.is_clean() {
                bail!("the chaos audit found problems");
            }
            Ok(())
        }
    }
}

async fn login(url: &str, user: &str, password: &str) -> anyhow::Result<String> {
    let body = serde_json::json!({ "channel": "internet", "userName": user, "password": password });
    let response = reqwest::Client::new()
        .put(format!("{url}/token"))
        .json(&body)
        .send()
        .await
        .context("login")?;
    if !response.status().is_success() {
        bail!("login failed: {}", response.status());
    }
    let json: serde_json::Value = response.json().await?;
    json["token"]
        .as_str()
        .map(str::to_owned)
        .context("no token in the login answer")
}

/// Runs `connections` clients against `target`: a warm-up second, then `duration` measured.
async fn run(
    target: &str,
    token: Option<&str>,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<Figures> {
    let warm_up = Duration::from_secs(1);
    let start = Instant::now();
    let measure_from = start + warm_up;
    let stop_at = measure_from + duration;
    let mut clients = Vec::with_capacity(connections);
    for _ in 0..connections {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()?;
        let (target, token) = (target.to_owned(), token.map(str::to_owned));
        clients.push(tokio::spawn(async move {
            client_loop(client, target, token, measure_from, stop_at).await
        }));
    }
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for client in clients {
        let (l, e) = client.await?;
        latencies.extend(l);
        errors += e;
    }
    latencies.sort_unstable();
    Ok(Figures {
        requests: latencies.len(),
        errors,
        elapsed: duration,
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
    })
}

async fn client_loop(
    client: reqwest::Client,
    target: String,
    token: Option<String>,
    measure_from: Instant,
    stop_at: Instant,
) -> (Vec<Duration>, usize) {
    let (mut latencies, mut errors) = (Vec::new(), 0);
    loop {
        let sent = Instant::now();
        if sent >= stop_at {
            break;
        }
        let mut request = client.get(&target);
        if let Some(token) = &token {
            request = request.header("token", token);
        }
        let ok = match request.send().await {
            Ok(response) => response.status().is_success() && response.bytes().await.is_ok(),
            Err(_) => false,
        };
        if sent >= measure_from {
            if ok {
                latencies.push(sent.elapsed());
            } else {
                errors += 1;
            }
        }
    }
    (latencies, errors)
}
