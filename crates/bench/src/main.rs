//! `bankgate-bench`: load generators that print figures against a running bankgate.
//!
//! `reads` compares authenticated `GET /accounts` with `GET /ping/heartbeat` in one run: requests per
//! second, p50/p99 latency, and the ratio of the two throughputs.
#![forbid(unsafe_code)]

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
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
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
    };
    Ok(Figures {
        requests: latencies.len(),
        errors,
        elapsed: duration,
        p50: pick(0.50).unwrap_or_default(),
        p99: pick(0.99).unwrap_or_default(),
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
