//! An in-process bankgate for load runs: a fresh database (temp SQLite, or a fresh PostgreSQL database
//! when `BANKGATE_TEST_POSTGRES_URL` is set and PostgreSQL is asked for), the two sandbox back offices in
//! a temp directory, and `customers` users each holding the demo products (USD checking at sandbox-a,
//! USD savings and EUR at sandbox-b), logged in over HTTP.

use crate::bank::Clients;
use crate::gateway::Gateway;
use anyhow::{anyhow, Context};
use bankgate::app::{start, Running};
use bankgate::config::Config;
use bankgate::demo::{seed_customer, DemoCustomer};
use bankgate::services::Services;
use bankgate_db::testing::TestDatabase;
use bankgate_db::{Db, DbOptions, Engine};
use bankgate_domain::ids::BackOfficeId;
use bankgate_domain::SystemClock;
use bankgate_sandbox::{LedgerReport, Sandbox};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// How long one call keeps trying a node that does not answer.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// How to build the world.
#[derive(Debug, Clone)]
pub struct WorldOptions {
    pub engine: Engine,
    pub customers: usize,
    pub undo_window_ms: u64,
    pub job_workers: usize,
}

/// One of the user's accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInfo {
    pub id: String,
    pub currency: String,
    pub back_office: String,
}

/// A logged-in customer.
#[derive(Debug, Clone)]
pub struct Customer {
    pub user_name: String,
    pub token: String,
    pub accounts: Vec<AccountInfo>,
}

impl Customer {
    /// Logs in at `base` and lists the customer's accounts.
    pub async fn log_in(
        client: &reqwest::Client,
        base: &str,
        user_name: String,
        password: &str,
    ) -> anyhow::Result<Customer> {
        let token = login(client, base, &user_name, password).await?;
        let accounts = accounts(client, base, &token).await?;
        Ok(Customer {
            user_name,
            token,
            accounts,
        })
    }
}

pub struct World {
    pub base: String,
    pub client: reqwest::Client,
    pub customers: Vec<Customer>,
    pub running: Option<Running>,
    config: Config,
    _db: TestDatabase,
    _dir: tempfile::TempDir,
}

impl World {
    pub async fn start(options: &WorldOptions) -> anyhow::Result<World> {
        let db = TestDatabase::create(options.engine).await;
        let dir = tempfile::tempdir()?;
        let config = Config {
            listen: "127.0.0.1:0".parse()?,
            admin_listen: "127.0.0.1:0".parse()?,
            database_url: db.url.clone(),
            sandbox_dir: Some(dir.path().to_path_buf()),
            undo_window_movement_ms: options.undo_window_ms,
            job_workers: options.job_workers,
            ..Config::default()
        };
        let running = start(&config, Arc::new(SystemClock))
            .await
            .map_err(|e| anyhow!("starting bankgate: {e:#}"))?;
        let base = format!("http://{}", running.public_addr);
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()?;
        let mut customers = Vec::with_capacity(options.customers);
        for i in 0..options.customers {
            let (user_name, password) = seed_load_customer(&running.services, i).await?;
            customers.push(Customer::log_in(&client, &base, user_name, &password).await?);
        }
        Ok(World {
            base,
            client,
            customers,
            running: Some(running),
            config,
            _db: db,
            _dir: dir,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The customers, reaching this one node.
    pub fn clients(&self) -> Clients {
        Clients {
            gateway: Gateway::new(self.client.clone(), vec![self.base.clone()], PATIENCE),
            customers: self.customers.clone(),
        }
    }

    /// The ledger report of each sandbox back office, read from its own database.
    pub async fn ledger_reports(&self) -> anyhow::Result<Vec<(String, LedgerReport)>> {
        let mut reports = Vec::new();
        for id in &self.config.sandboxes {
            let db =
                Db::connect(&self.config.sandbox_database_url(id), &DbOptions::default()).await?;
            let back_office = BackOfficeId::parse(id).context("sandbox id")?;
            let sandbox = Sandbox::open(back_office, db.clone(), Arc::new(SystemClock)).await?;
            reports.push((id.clone(), sandbox.ledger_report().await?));
            db.close().await;
        }
        Ok(reports)
    }

    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
    }
}

/// Load customer `i`'s user name and password.
pub fn load_credentials(i: usize) -> (String, String) {
    (format!("customer{i}"), format!("password-{i}"))
}

/// Creates load customer `i` (`customer{i}`, password `password-{i}`) with the demo products, through
/// the services of a running node; its user name and password.
pub async fn seed_load_customer(services: &Services, i: usize) -> anyhow::Result<(String, String)> {
    let (user_name, password) = load_credentials(i);
    let ssn = format!("{:09}", 100_000_000 + i);
    let customer = DemoCustomer {
        user_name: &user_name,
        password: &password,
        first_name: "Load",
        last_name: "Tester",
        ssn: &ssn,
    };
    seed_customer(services, &customer)
        .await
        .map_err(|e| anyhow!("seeding {user_name}: {e}"))?;
    Ok((user_name, password))
}

pub async fn login(
    client: &reqwest::Client,
    base: &str,
    user: &str,
    password: &str,
) -> anyhow::Result<String> {
    let body = json!({ "channel": "internet", "userName": user, "password": password });
    let response: Value = client
        .put(format!("{base}/token"))
        .json(&body)
        .send()
        .await?
        .json()
        .await?;
    response["token"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("login of {user} failed: {response}"))
}

async fn accounts(
    client: &reqwest::Client,
    base: &str,
    token: &str,
) -> anyhow::Result<Vec<AccountInfo>> {
    let response: Value = client
        .get(format!("{base}/accounts"))
        .header("token", token)
        .send()
        .await?
        .json()
        .await?;
    let list = response["accounts"].as_array().context("accounts")?;
    Ok(list
        .iter()
        .map(|a| AccountInfo {
            id: a["AFiAccountId"].as_str().unwrap_or_default().to_owned(),
            currency: a["balance"]["currency"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            back_office: a["backOfficeId"].as_str().unwrap_or_default().to_owned(),
        })
        .collect())
}
