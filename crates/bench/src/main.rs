//! `bankgate-bench`: load generators that print figures.
//!
//! * `reads` (against a running bankgate) compares authenticated `GET /accounts` with
//!   `GET /ping/heartbeat` in one run, the two taking turns: requests per second, p50/p99 latency, and
//!   the ratio of the two.
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

/// mimalloc keeps a heap per thread: glibc's allocator made the runtime's threads wait on each other's
/// arena locks (memory allocated on one thread and freed on another, as tasks move between threads).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::bail;
use bankgate_bench::bank::{run_bank, BankOptions};
use bankgate_bench::chaos::{run_chaos, ChaosOptions};
use bankgate_bench::cluster::{Cluster, ClusterOptions};
use bankgate_bench::push::{run_push, PushOptions};
use bankgate_bench::reads::{run_reads, ReadOptions};
use bankgate_bench::transfers::{run_transfers, Route, TransferOptions};
use bankgate_bench::world::{World, WorldOptions};
use bankgate_db::Engine;
use clap::{Parser, Subcommand, ValueEnum};
use std::time::Duration;

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
        /// Measured seconds per endpoint, split over the rounds.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Turns each endpoint takes, alternating, so a drift in the machine's speed touches both alike.
        #[arg(long, default_value_t = 10)]
        rounds: u32,
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
        #[arg(long, default_value_t = bankgate::services::DEFAULT_JOB_WORKERS)]
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

impl EngineArg {
    /// The engine asked for, once it can be had: PostgreSQL needs a server to create databases on.
    fn engine(self) -> anyhow::Result<Engine> {
        match self {
            EngineArg::Sqlite => Ok(Engine::Sqlite),
            EngineArg::Postgres => {
                anyhow::ensure!(
                    std::env::var_os("BANKGATE_TEST_POSTGRES_URL").is_some(),
                    "--engine postgres needs BANKGATE_TEST_POSTGRES_URL: a PostgreSQL server where the \
                     benchmark may create (and drop) databases, e.g. postgres://postgres@127.0.0.1:5432/test"
                );
                Ok(Engine::Postgres)
            }
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum RouteArg {
    Across,
    Within,
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
            rounds,
        } => {
            let options = ReadOptions {
                url,
                user,
                password,
                connections,
                measured: Duration::from_secs(seconds),
                rounds,
            };
            run_reads(&options).await?.print(&options);
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
                engine: engine.engine()?,
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
                engine: engine.engine()?,
                customers,
                undo_window_ms: window_ms,
                job_workers: bankgate::services::DEFAULT_JOB_WORKERS,
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
                Cluster::start(&ClusterOptions::for_engine(engine.engine()?, customers)).await?;
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
