//! Configuration: built-in defaults, then a TOML file (`--config`), then `BANKGATE_*` environment
//! variables (each setting's name in upper case, e.g. `BANKGATE_ADMIN_LISTEN`; `DATABASE_URL` too), then
//! command-line flags. Later sources win.

use anyhow::{bail, Context};
use bankgate_domain::ids::BackOfficeId;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The token the admin routes accept in demo mode when none is configured.
pub const DEMO_ADMIN_TOKEN: &str = "demo-admin-token";

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Public API listener.
    pub listen: SocketAddr,
    /// Operations listener: metrics, readiness, admin routes.
    pub admin_listen: SocketAddr,
    /// `sqlite://FILE` (the embedded default) or `postgres://...`.
    pub database_url: String,
    /// Create the demo users on an empty database.
    pub demo: bool,
    /// Bearer token for admin routes other than /metrics and /ready.
    pub admin_token: Option<String>,
    /// Ids of the built-in sandbox back offices to run in-process (less those in `back_offices`).
    pub sandboxes: Vec<String>,
    /// Back offices reached over HTTP (each served by `bankgate backoffice serve`), by id: a TOML table
    /// such as `[back_offices]` `sandbox-a = "http://127.0.0.1:9001"`, `--backoffice ID=URL`, or
    /// `BANKGATE_BACK_OFFICES=id=url,id=url`. An id listed here replaces the in-process sandbox of that id.
    pub back_offices: BTreeMap<String, String>,
    /// Where in-process sandbox back offices keep their SQLite files; by default beside a SQLite
    /// database, or the working directory.
    pub sandbox_dir: Option<PathBuf>,
    pub session_idle_minutes: u64,
    pub session_absolute_minutes: u64,
    pub login_window_minutes: u64,
    pub login_max_failures_per_user: i64,
    pub login_max_failures_per_address: i64,
    /// Undo window of transfers, remittances and card payments, in milliseconds (0: run at once).
    pub undo_window_movement_ms: u64,
    /// Undo window of beneficiary deletions, in milliseconds.
    pub undo_window_beneficiary_deletion_ms: u64,
    /// Attempts a queued operation gets while failing it is still safe.
    pub job_max_attempts: u32,
    /// Queued operations a node runs at once.
    pub job_workers: usize,
    /// How often a node looks for due operations when nothing wakes it sooner, in milliseconds.
    pub job_poll_interval_ms: u64,
    /// How long a node's claim on a running job lasts; a job whose node died is taken over by another
    /// node once it runs out. At least four back-office deadlines (one attempt's longest run).
    pub job_lease_ms: u64,
    /// How long an Idempotency-Key stays claimed by a request that never answered (its node died)
    /// before a retry with that key may run.
    pub idempotency_abandon_ms: u64,
    /// How often an idle push connection (`/events`, `/socket`) gets a heartbeat and its session is
    /// checked, in milliseconds.
    pub push_heartbeat_ms: u64,
    /// How many WebSockets from one client address may wait for their hello at once on a node. Behind a
    /// load balancer or proxy every client shares its address: raise this to the number of hellos the
    /// node should take at once.
    pub push_pending_hellos_per_address: usize,
    /// How often back offices' change feeds are read for changes made on their side, in milliseconds.
    pub change_feed_poll_ms: u64,
    /// How often the customers of a back office without a change feed are refreshed, in seconds.
    pub back_office_refresh_secs: u64,
    /// The longest one back-office call may take, in milliseconds.
    pub back_office_deadline_ms: u64,
    /// Unanswered back-office calls in a row that open that back office's circuit.
    pub circuit_failures_to_open: u32,
    /// How long an open circuit refuses calls before probing, in milliseconds.
    pub circuit_cool_down_ms: u64,
    /// The most one operation may move while its back office is unavailable (stand-in), in whole
    /// units of the account's currency.
    pub stand_in_max_per_operation: u32,
    /// The most a user may have queued in stand-in and not yet executed, per currency, in whole units.
    pub stand_in_max_per_user: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
            database_url: "sqlite://bankgate.db".to_owned(),
            demo: false,
            admin_token: None,
            sandboxes: vec!["sandbox-a".to_owned(), "sandbox-b".to_owned()],
            back_offices: BTreeMap::new(),
            sandbox_dir: None,
            session_idle_minutes: 30,
            session_absolute_minutes: 12 * 60,
            login_window_minutes: 15,
            login_max_failures_per_user: 5,
            login_max_failures_per_address: 20,
            undo_window_movement_ms: 10_000,
            undo_window_beneficiary_deletion_ms: 120_000,
            job_max_attempts: 5,
            job_workers: crate::services::DEFAULT_JOB_WORKERS,
            job_poll_interval_ms: 50,
            job_lease_ms: 60_000,
            idempotency_abandon_ms: 60_000,
            push_heartbeat_ms: 15_000,
            push_pending_hellos_per_address: 64,
            change_feed_poll_ms: 1_000,
            back_office_refresh_secs: 300,
            back_office_deadline_ms: 3_000,
            circuit_failures_to_open: 5,
            circuit_cool_down_ms: 5_000,
            stand_in_max_per_operation: 500,
            stand_in_max_per_user: 1_000,
        }
    }
}

impl Config {
    /// Defaults, overlaid by the TOML file (if any) and then by environment variables.
    pub fn load(
        file: Option<&Path>,
        env: impl Iterator<Item = (String, String)>,
    ) -> anyhow::Result<Config> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                text.parse::<toml::Table>()
                    .with_context(|| format!("parsing {}", path.display()))?
            }
            None => toml::Table::new(),
        };
        for (name, value) in env {
            let key = match name.as_str() {
                "DATABASE_URL" => "database_url".to_owned(),
                other => match other.strip_prefix("BANKGATE_") {
                    Some(rest) if !rest.starts_with("TEST_") && rest != "CONFIG" => {
                        rest.to_ascii_lowercase()
                    }
                    _ => continue,
                },
            };
            let value = env_value(&key, &value).with_context(|| format!("reading {name}"))?;
            table.insert(key, value);
        }
        let config: Config = toml::Value::Table(table)
            .try_into()
            .context("invalid configuration")?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.session_idle_minutes == 0 || self.session_absolute_minutes == 0 {
            bail!("session lifetimes must be positive");
        }
        if self.back_office_deadline_ms == 0 || self.circuit_failures_to_open == 0 {
            bail!("back_office_deadline_ms and circuit_failures_to_open must be positive");
        }
        if self.job_max_attempts < 1 || self.job_workers < 1 {
            bail!("job_max_attempts and job_workers must be at least 1");
        }
        if !(1..=100).contains(&self.job_poll_interval_ms) {
            bail!("job_poll_interval_ms must be 1 to 100, so due operations start within 100 ms");
        }
        if self.job_lease_ms < 4 * self.back_office_deadline_ms {
            bail!(
                "job_lease_ms must be at least four back_office_deadline_ms, the longest attempt"
            );
        }
        if self.idempotency_abandon_ms == 0 || self.push_heartbeat_ms == 0 {
            bail!("idempotency_abandon_ms and push_heartbeat_ms must be positive");
        }
        if self.push_pending_hellos_per_address == 0 {
            bail!("push_pending_hellos_per_address must be positive");
        }
        if self.change_feed_poll_ms == 0 || self.back_office_refresh_secs == 0 {
            bail!("change_feed_poll_ms and back_office_refresh_secs must be positive");
        }
        if self.login_max_failures_per_user < 1 || self.login_max_failures_per_address < 1 {
            bail!("login failure limits must be at least 1");
        }
        for (id, url) in &self.back_offices {
            check_back_office(id, url)?;
        }
        Ok(())
    }

    /// Adds (or replaces) a back office reached over HTTP, from `ID=URL` as `--backoffice` takes it.
    pub fn add_back_office(&mut self, spec: &str) -> anyhow::Result<()> {
        let (id, url) = spec
            .split_once('=')
            .with_context(|| format!("--backoffice {spec:?}: expected ID=URL"))?;
        let (id, url) = (id.trim(), url.trim());
        check_back_office(id, url).with_context(|| format!("--backoffice {spec:?}"))?;
        self.back_offices.insert(id.to_owned(), url.to_owned());
        Ok(())
    }

    /// The sandboxes to run in-process: those configured, less the ones reached over HTTP.
    pub fn in_process_sandboxes(&self) -> impl Iterator<Item = &String> {
        self.sandboxes
            .iter()
            .filter(|id| !self.back_offices.contains_key(id.as_str()))
    }

    /// The admin token in force: the configured one, or the demo one in demo mode.
    pub fn effective_admin_token(&self) -> Option<String> {
        self.admin_token
            .clone()
            .or_else(|| self.demo.then(|| DEMO_ADMIN_TOKEN.to_owned()))
    }

    /// How every back-office call is bounded.
    pub fn resilience(&self) -> bankgate_backoffice::ResiliencePolicy {
        bankgate_backoffice::ResiliencePolicy {
            deadline: Duration::from_millis(self.back_office_deadline_ms),
            failures_to_open: self.circuit_failures_to_open,
            cool_down: Duration::from_millis(self.circuit_cool_down_ms),
            ..bankgate_backoffice::ResiliencePolicy::default()
        }
    }

    /// The SQLite URL of an in-process sandbox's own store.
    pub fn sandbox_database_url(&self, id: &str) -> String {
        let dir = self.sandbox_dir.clone().unwrap_or_else(|| {
            self.database_url
                .strip_prefix("sqlite://")
                .or_else(|| self.database_url.strip_prefix("sqlite:"))
                .map(|path| path.split('?').next().unwrap_or(path))
                .and_then(|path| Path::new(path).parent().map(Path::to_path_buf))
                .unwrap_or_default()
        });
        let file = dir.join(format!("bankgate-{id}.db"));
        format!("sqlite://{}", file.display())
    }

    pub fn services(&self) -> crate::services::ServiceSettings {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        crate::services::ServiceSettings {
            session_idle: minutes(self.session_idle_minutes),
            session_absolute: minutes(self.session_absolute_minutes),
            login_window: minutes(self.login_window_minutes),
            login_max_failures_per_user: self.login_max_failures_per_user,
            login_max_failures_per_address: self.login_max_failures_per_address,
            undo_window_movement: Duration::from_millis(self.undo_window_movement_ms),
            undo_window_beneficiary_deletion: Duration::from_millis(
                self.undo_window_beneficiary_deletion_ms,
            ),
            job_max_attempts: self.job_max_attempts,
            job_workers: self.job_workers,
            job_poll_interval: Duration::from_millis(self.job_poll_interval_ms),
            job_lease: Duration::from_millis(self.job_lease_ms),
            idempotency_abandon: Duration::from_millis(self.idempotency_abandon_ms),
            push_heartbeat: Duration::from_millis(self.push_heartbeat_ms),
            push_pending_hellos_per_address: self.push_pending_hellos_per_address,
            change_feed_poll: Duration::from_millis(self.change_feed_poll_ms),
            back_office_refresh: Duration::from_secs(self.back_office_refresh_secs),
            stand_in: crate::services::stand_in::StandInLimits {
                per_operation: self.stand_in_max_per_operation,
                per_user: self.stand_in_max_per_user,
            },
        }
    }
}

/// A back office reached over HTTP needs a valid id and an http:// base URL.
fn check_back_office(id: &str, url: &str) -> anyhow::Result<()> {
    if BackOfficeId::parse(id).is_none() {
        bail!("back_offices: {id:?} is not a valid back-office id (letters, digits, '-' and '_')");
    }
    if let Err(problem) = bankgate_backoffice_http::parse_base_url(url) {
        bail!("back_offices: the URL of back office {id} is invalid: {problem}");
    }
    Ok(())
}

/// An environment value as the TOML value its setting expects: lists are comma-separated, tables are
/// comma-separated `key=value` pairs, numbers and booleans are parsed, the rest stay strings.
fn env_value(key: &str, raw: &str) -> anyhow::Result<toml::Value> {
    let items = || raw.split(',').map(str::trim).filter(|s| !s.is_empty());
    if key == "sandboxes" {
        return Ok(toml::Value::Array(
            items().map(|s| toml::Value::String(s.to_owned())).collect(),
        ));
    }
    if key == "back_offices" {
        let mut table = toml::Table::new();
        for item in items() {
            let (id, url) = item
                .split_once('=')
                .with_context(|| format!("{item:?}: expected id=url"))?;
            table.insert(
                id.trim().to_owned(),
                toml::Value::String(url.trim().to_owned()),
            );
        }
        return Ok(toml::Value::Table(table));
    }
    if let Ok(n) = raw.parse::<i64>() {
        return Ok(toml::Value::Integer(n));
    }
    Ok(match raw {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => toml::Value::String(raw.to_owned()),
    })
}

#[cfg(test)]
mod tests;
