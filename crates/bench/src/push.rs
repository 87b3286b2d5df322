//! The push benchmark: many WebSocket clients (several per customer, as a user with several apps) on an
//! in-process bankgate; then changes (a message to support, one customer after another) while every client
//! records how long each of its user's events took from the change's commit (the event's `dtsCreated`) to
//! its arrival. Reports p50/p99 of that delay, how many deliveries arrived of those due, and memory per
//! connection (the process's resident memory before and after connecting, divided by the connections; the
//! clients live in the same process, so this counts both ends).

use crate::stats::{millis, percentile};
use crate::world::World;
use anyhow::{bail, Context};
use futures::StreamExt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Clone)]
pub struct PushOptions {
    pub clients: usize,
    pub changes: usize,
    /// Pause between two changes.
    pub pace: Duration,
}

#[derive(Debug)]
pub struct PushFigures {
    pub clients: usize,
    pub connect_time: Duration,
    pub due: usize,
    pub received: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
    /// Resident memory added per connection, in bytes (both ends).
    pub bytes_per_connection: u64,
}

impl PushFigures {
    pub fn print(&self) {
        println!(
            "{} WebSocket clients connected in {:.2} s; {:.1} KiB resident per connection (server and client in one process)",
            self.clients,
            self.connect_time.as_secs_f64(),
            self.bytes_per_connection as f64 / 1024.0
        );
        println!(
            "deliveries {} of {} due; commit to arrival p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.received,
            self.due,
            millis(self.p50),
            millis(self.p99),
            millis(self.max)
        );
    }
}

pub async fn run_push(world: &World, options: &PushOptions) -> anyhow::Result<PushFigures> {
    if world.customers.is_empty() {
        bail!("no customers");
    }
    let rss_before = resident_bytes()?;
    let delays = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let mut readers = Vec::with_capacity(options.clients);
    let mut clients_of = vec![0usize; world.customers.len()];
    for i in 0..options.clients {
        let customer = i % world.customers.len();
        clients_of[customer] += 1;
        let url = format!("{}/socket", world.base.replacen("http://", "ws://", 1));
        let mut request = url.into_client_request()?;
        request
            .headers_mut()
            .insert("token", world.customers[customer].token.parse()?);
        let config = WebSocketConfig::default()
            .read_buffer_size(4 * 1024)
            .write_buffer_size(4 * 1024);
        let (mut socket, _) =
            tokio_tungstenite::connect_async_with_config(request, Some(config), false)
                .await
                .with_context(|| format!("connecting client {i}"))?;
        // The first frame says the feed is live.
        socket.next().await.context("no ready frame")??;
        let delays = delays.clone();
        readers.push(tokio::spawn(async move {
            while let Some(Ok(frame)) = socket.next().await {
                if let Message::Text(text) = frame {
                    if let Some(delay) = delay_of(text.as_str()) {
                        delays.lock().map(|mut d| d.push(delay)).ok();
                    }
                }
            }
        }));
    }
    let connect_time = started.elapsed();
    let rss_after = resident_bytes()?;
    let mut due = 0;
    for k in 0..options.changes {
        let customer = k % world.customers.len();
        let body = serde_json::json!({ "text": format!("benchmark message {k}") });
        let response = world
            .client
            .put(world.url("/messages"))
            .header("token", &world.customers[customer].token)
            .json(&body)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("a change failed: {}", response.status());
        }
        due += clients_of[customer];
        tokio::time::sleep(options.pace).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while delays.lock().map(|d| d.len()).unwrap_or(0) < due && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for reader in readers {
        reader.abort();
    }
    let mut delays = delays.lock().map(|d| d.clone()).unwrap_or_default();
    delays.sort_unstable();
    Ok(PushFigures {
        clients: options.clients,
        connect_time,
        due,
        received: delays.len(),
        p50: percentile(&delays, 0.5),
        p99: percentile(&delays, 0.99),
        max: delays.last().copied().unwrap_or_default(),
        bytes_per_connection: rss_after.saturating_sub(rss_before) / options.clients.max(1) as u64,
    })
}

/// How long ago an event was created, from its `dtsCreated` (the commit's time, to the millisecond).
fn delay_of(text: &str) -> Option<Duration> {
    let event: serde_json::Value = serde_json::from_str(text).ok()?;
    if event["type"] != "messages" {
        return None;
    }
    let created = OffsetDateTime::parse(event["dtsCreated"].as_str()?, &Rfc3339).ok()?;
    let delay = OffsetDateTime::now_utc() - created;
    Some(Duration::from_micros(
        delay.whole_microseconds().max(0) as u64
    ))
}

/// This process's resident memory, from `/proc/self/status`.
fn resident_bytes() -> anyhow::Result<u64> {
    let status =
        std::fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .context("no VmRSS")?;
    Ok(kib * 1024)
}
