//! A cluster for multi-node and chaos runs: bankgate nodes sharing one database, in front of sandbox
//! back offices served over HTTP on databases of their own. Each node and each back office runs as a
//! process of its own ([`Process`]): a thread with its own tokio runtime, so that killing it drops
//! everything it was doing at once (requests, job attempts, connections, open transactions) with no
//! shutdown at all, as `kill -9` would. Restarting starts a fresh one on the same address and database.

use crate::bank::Clients;
use crate::gateway::Gateway;
use crate::world::{load_credentials, seed_load_customer, Customer, PATIENCE};
use anyhow::{anyhow, Context};
use bankgate::app::start;
use bankgate::config::Config;
use bankgate_backoffice_http::{
    BackOfficeServer, FaultSettings, Faults, HttpBackOffice, SandboxServerSettings,
};
use bankgate_db::testing::TestDatabase;
use bankgate_db::Engine;
use bankgate_domain::ids::BackOfficeId;
use bankgate_domain::SystemClock;
use bankgate_sandbox::LedgerReport;
use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::Arc;

/// How to build the cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// The engine of bankgate's shared store (back offices keep theirs in SQLite files).
    pub engine: Engine,
    pub nodes: usize,
    pub customers: usize,
    pub undo_window_ms: u64,
    pub job_workers: usize,
    /// The deadline of one back-office call. Jobs are leased for four of them, so a dead node's jobs
    /// pass to another node soon after.
    pub back_office_deadline_ms: u64,
    pub circuit_cool_down_ms: u64,
    /// How long a key claimed by a request that died with its node blocks retries.
    pub idempotency_abandon_ms: u64,
}

impl ClusterOptions {
    /// Short timings for tests and the chaos run, and as many nodes as the engine allows: two on
    /// PostgreSQL; one on SQLite, which is a single node's store (see docs/decisions.md, "Several
    /// nodes").
    pub fn for_engine(engine: Engine, customers: usize) -> ClusterOptions {
        ClusterOptions {
            engine,
            nodes: match engine {
                Engine::Postgres => 2,
                Engine::Sqlite => 1,
            },
            customers,
            undo_window_ms: 300,
            job_workers: 16,
            back_office_deadline_ms: 1_000,
            circuit_cool_down_ms: 500,
            idempotency_abandon_ms: 2_000,
        }
    }
}

/// Stops a running service cleanly.
type Stopper = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()>>>>;

enum Exit {
    Stop,
    Kill,
}

/// A service on a thread and runtime of its own.
struct Process {
    exit: mpsc::Sender<Exit>,
    thread: std::thread::JoinHandle<()>,
}

impl Process {
    /// Starts a thread with its own runtime and runs `start` there; `start` answers with what the
    /// caller needs to know (addresses) and how to stop the service cleanly.
    async fn spawn<T, F, Fut>(name: String, start: F) -> anyhow::Result<(Process, T)>
    where
        T: Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<(T, Stopper)>> + 'static,
    {
        let (started, on_start) = tokio::sync::oneshot::channel();
        let (exit, exits) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(name.clone())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name(name)
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = started.send(Err(e.into()));
                        return;
                    }
                };
                match runtime.block_on(start()) {
                    Ok((info, stopper)) => {
                        let _ = started.send(Ok(info));
                        if let Ok(Exit::Stop) = exits.recv() {
                            runtime.block_on(stopper());
                        }
                    }
                    Err(e) => {
                        let _ = started.send(Err(e));
                    }
                }
                // On a kill, every task stops where it is: nothing is finished or flushed.
                runtime.shutdown_background();
            })?;
        let info = on_start
            .await
            .map_err(|_| anyhow!("the process thread ended before starting"))??;
        Ok((Process { exit, thread }, info))
    }

    async fn end(self, how: Exit) {
        let _ = self.exit.send(how);
        let thread = self.thread;
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    }
}

/// One sandbox back office served over HTTP.
pub struct BackOfficeHost {
    pub id: String,
    settings: SandboxServerSettings,
    running: Option<(Process, Faults)>,
}

impl BackOfficeHost {
    pub fn url(&self) -> String {
        format!("http://{}", self.settings.listen)
    }

    /// Starts it (again) on its address and database.
    pub async fn start(&mut self) -> anyhow::Result<()> {
        if self.running.is_some() {
            return Ok(());
        }
        let settings = self.settings.clone();
        let (process, (addr, faults)) =
            Process::spawn(format!("bo-{}", self.id), move || async move {
                let server =
                    BackOfficeServer::open_sandbox(&settings, Arc::new(SystemClock)).await?;
                let info = (server.addr(), server.faults().clone());
                let stopper: Stopper = Box::new(move || {
                    Box::pin(async move {
                        let _ = server.stop().await;
                    })
                });
                Ok((info, stopper))
            })
            .await
            .with_context(|| format!("starting back office {}", self.id))?;
        self.settings.listen = addr;
        self.running = Some((process, faults));
        Ok(())
    }

    /// Kills it: requests in flight get no answer, connections drop.
    pub async fn kill(&mut self) {
        if let Some((process, _)) = self.running.take() {
            process.end(Exit::Kill).await;
        }
    }

    /// Injects faults (see `bankgate_backoffice_http::faults`); the default clears them.
    pub fn set_faults(&self, settings: FaultSettings) -> anyhow::Result<()> {
        match &self.running {
            Some((_, faults)) => faults.set(settings).map_err(anyhow::Error::msg),
            None => Ok(()),
        }
    }

    /// Its ledger, asked over HTTP as an auditor would.
    pub async fn ledger_report(&self) -> anyhow::Result<LedgerReport> {
        let id = BackOfficeId::parse(&self.id).context("back-office id")?;
        let remote = HttpBackOffice::new(id, &self.url()).map_err(anyhow::Error::msg)?;
        remote
            .ledger_report()
            .await
            .map_err(|e| anyhow!("ledger of {}: {e}", self.id))
    }
}

/// One bankgate node.
pub struct NodeHost {
    pub name: String,
    config: Config,
    running: Option<Process>,
}

impl NodeHost {
    /// Its public base URL.
    pub fn base(&self) -> String {
        format!("http://{}", self.config.listen)
    }

    /// Its admin base URL.
    pub fn admin_base(&self) -> String {
        format!("http://{}", self.config.admin_listen)
    }

    /// Starts it (again) on its addresses; `seed` load customers are set up through it first.
    async fn start_seeding(&mut self, seed: usize) -> anyhow::Result<()> {
        if self.running.is_some() {
            return Ok(());
        }
        let config = self.config.clone();
        let (process, (public, admin)) = Process::spawn(self.name.clone(), move || async move {
            let running = start(&config, Arc::new(SystemClock)).await?;
            for i in 0..seed {
                seed_load_customer(&running.services, i).await?;
            }
            let info = (running.public_addr, running.admin_addr);
            let stopper: Stopper = Box::new(move || Box::pin(running.stop()));
            Ok((info, stopper))
        })
        .await
        .with_context(|| format!("starting {}", self.name))?;
        self.config.listen = public;
        self.config.admin_listen = admin;
        self.running = Some(process);
        Ok(())
    }

    /// Starts it (again) on its addresses.
    pub async fn start(&mut self) -> anyhow::Result<()> {
        self.start_seeding(0).await
    }

    /// Kills it: no shutdown, its claims on jobs and keys are left for others to take over.
    pub async fn kill(&mut self) {
        if let Some(process) = self.running.take() {
            process.end(Exit::Kill).await;
        }
    }

    /// Stops it cleanly.
    pub async fn stop(&mut self) {
        if let Some(process) = self.running.take() {
            process.end(Exit::Stop).await;
        }
    }
}

pub struct Cluster {
    pub back_offices: Vec<BackOfficeHost>,
    pub nodes: Vec<NodeHost>,
    pub customers: Vec<Customer>,
    pub client: reqwest::Client,
    /// bankgate's shared store.
    pub database: TestDatabase,
    _dir: tempfile::TempDir,
}

impl Cluster {
    /// Starts back offices `sandbox-a` and `sandbox-b`, then the nodes (the first sets up the customers
    /// through the back-office adapters), and logs every customer in.
    pub async fn start(options: &ClusterOptions) -> anyhow::Result<Cluster> {
        let dir = tempfile::tempdir()?;
        let database = TestDatabase::create(options.engine).await;
        let mut back_offices = Vec::new();
        for id in ["sandbox-a", "sandbox-b"] {
            let back_office = BackOfficeId::parse(id).context("back-office id")?;
            let file = dir.path().join(format!("{id}.db"));
            let mut host = BackOfficeHost {
                id: id.to_owned(),
                settings: SandboxServerSettings {
                    id: back_office,
                    listen: "127.0.0.1:0".parse()?,
                    database_url: format!("sqlite://{}", file.display()),
                },
                running: None,
            };
            host.start().await?;
            back_offices.push(host);
        }
        let config = Config {
            listen: "127.0.0.1:0".parse()?,
            admin_listen: "127.0.0.1:0".parse()?,
            database_url: database.url.clone(),
            admin_token: Some(bankgate_domain::ids::random_base36(24)),
            sandboxes: back_offices.iter().map(|b| b.id.clone()).collect(),
            back_offices: back_offices
                .iter()
                .map(|b| (b.id.clone(), b.url()))
                .collect(),
            undo_window_movement_ms: options.undo_window_ms,
            job_workers: options.job_workers,
            back_office_deadline_ms: options.back_office_deadline_ms,
            job_lease_ms: 4 * options.back_office_deadline_ms,
            circuit_cool_down_ms: options.circuit_cool_down_ms,
            idempotency_abandon_ms: options.idempotency_abandon_ms,
            ..Config::default()
        };
        let mut nodes = Vec::new();
        for i in 0..options.nodes.max(1) {
            let mut node = NodeHost {
                name: format!("node-{i}"),
                config: config.clone(),
                running: None,
            };
            node.start_seeding(if i == 0 { options.customers } else { 0 })
                .await?;
            nodes.push(node);
        }
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .timeout(std::time::Duration::from_secs(15))
            .build()?;
        let base = nodes[0].base();
        let mut customers = Vec::new();
        for i in 0..options.customers {
            let (user_name, password) = load_credentials(i);
            customers.push(Customer::log_in(&client, &base, user_name, &password).await?);
        }
        Ok(Cluster {
            back_offices,
            nodes,
            customers,
            client,
            database,
            _dir: dir,
        })
    }

    /// The customers, reaching every node through one balancer.
    pub fn clients(&self) -> Clients {
        let nodes = self.nodes.iter().map(NodeHost::base).collect();
        Clients {
            gateway: Gateway::new(self.client.clone(), nodes, PATIENCE),
            customers: self.customers.clone(),
        }
    }

    pub fn back_office(&mut self, id: &str) -> &mut BackOfficeHost {
        self.back_offices
            .iter_mut()
            .find(|b| b.id == id)
            .unwrap_or_else(|| panic!("no back office {id}"))
    }

    /// Every back office's ledger.
    pub async fn ledger_reports(&self) -> anyhow::Result<Vec<(String, LedgerReport)>> {
        let mut reports = Vec::new();
        for back_office in &self.back_offices {
            reports.push((back_office.id.clone(), back_office.ledger_report().await?));
        }
        Ok(reports)
    }

    /// Brings everything back: every back office and node up, no faults.
    pub async fn heal(&mut self) -> anyhow::Result<()> {
        for back_office in &mut self.back_offices {
            back_office.start().await?;
            back_office.set_faults(FaultSettings::default())?;
        }
        for node in &mut self.nodes {
            node.start().await?;
        }
        Ok(())
    }

    /// Stops the nodes, then the back offices.
    pub async fn stop(mut self) {
        for node in &mut self.nodes {
            node.stop().await;
        }
        for back_office in &mut self.back_offices {
            if let Some((process, _)) = back_office.running.take() {
                process.end(Exit::Stop).await;
            }
        }
    }
}
