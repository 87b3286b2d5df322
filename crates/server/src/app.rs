//! Wiring: connects the store and the back offices (in-process sandboxes, and back offices reached over
//! HTTP through `bankgate-backoffice-http`), builds the services and both routers, and runs the two
//! listeners until shutdown. Tests use [`start`] with port 0 and a fresh database.

use crate::config::Config;
use crate::cross_node::spawn_event_listener;
use crate::http::paths::normalize_request;
use crate::metrics::Metrics;
use crate::services::back_office_changes::spawn_back_office_follower;
use crate::services::jobs::spawn_job_runner;
use crate::services::Services;
use crate::{admin, demo, http};
use anyhow::Context;
use axum::extract::Request;
use axum::ServiceExt;
use bankgate_backoffice::BackOfficeRegistry;
use bankgate_backoffice_http::HttpBackOffice;
use bankgate_db::{Db, DbOptions, Engine};
use bankgate_domain::ids::BackOfficeId;
use bankgate_domain::Clock;
use bankgate_sandbox::Sandbox;
use bankgate_store::Store;
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::Layer;

/// Connects everything the services need.
pub async fn build_services(
    config: &Config,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
) -> anyhow::Result<Services> {
    let db = Db::connect(&config.database_url, &DbOptions::default())
        .await
        .with_context(|| format!("connecting to {}", redact(&config.database_url)))?;
    let store = Store::open(db).await.context("migrating the database")?;
    let mut back_offices = BackOfficeRegistry::new()
        .with_observer(metrics)
        .with_policy(config.resilience());
    for (id, url) in &config.back_offices {
        let back_office_id =
            BackOfficeId::parse(id).with_context(|| format!("invalid back-office id {id:?}"))?;
        let remote = HttpBackOffice::new(back_office_id, url)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("back office {id}"))?;
        tracing::info!(back_office = %id, %url, "back office over HTTP");
        back_offices.register(Arc::new(remote));
    }
    for id in config.in_process_sandboxes() {
        let back_office_id =
            BackOfficeId::parse(id).with_context(|| format!("invalid back-office id {id:?}"))?;
        let url = config.sandbox_database_url(id);
        let db = Db::connect(&url, &DbOptions::default())
            .await
            .with_context(|| format!("opening sandbox {id} at {url}"))?;
        let sandbox = Sandbox::open(back_office_id, db, clock.clone())
            .await
            .with_context(|| format!("opening sandbox {id}"))?;
        back_offices.register(Arc::new(sandbox));
    }
    Ok(Services::new(store, back_offices, clock, config.services()))
}

/// A running server: where it listens, and how to stop it.
pub struct Running {
    pub public_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub services: Services,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<std::io::Result<()>>>,
    job_runner: JoinHandle<()>,
    /// Follows back offices' own changes.
    follower: JoinHandle<()>,
    /// Hears other nodes' events (PostgreSQL only).
    event_listener: Option<JoinHandle<()>>,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish, waits for both listeners and the background
    /// work, then closes bankgate's database, so that this node stops using the file (its idle
    /// connections close, its SQLite checkpoints stop) and a node started next on the same file finds it
    /// free.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        let _ = self.job_runner.await;
        let _ = self.follower.await;
        if let Some(listener) = self.event_listener {
            let _ = listener.await;
        }
        self.services.store.close().await;
    }

    /// Waits until both listeners end (after [`Running::stop`] or a fatal error).
    pub async fn wait(self) -> anyhow::Result<()> {
        for task in self.tasks {
            task.await??;
        }
        self.job_runner.await?;
        self.follower.await?;
        Ok(())
    }

    pub fn shutdown_handle(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }
}

/// Builds everything, seeds demo data when asked, binds both listeners and starts serving.
pub async fn start(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Running> {
    let metrics = Metrics::new();
    let services = build_services(config, clock, metrics.clone()).await?;
    if config.demo {
        demo::seed(&services)
            .await
            .map_err(|e| anyhow::anyhow!("seeding demo data: {e}"))?;
    }
    let admin_token = config.effective_admin_token();
    if admin_token.is_none() {
        tracing::warn!(
            "no BANKGATE_ADMIN_TOKEN set: admin routes other than /metrics and /ready are refused"
        );
    }
    let public = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let admin = TcpListener::bind(config.admin_listen)
        .await
        .with_context(|| format!("binding {}", config.admin_listen))?;
    let (public_addr, admin_addr) = (public.local_addr()?, admin.local_addr()?);
    let (shutdown, stopped) = watch::channel(false);

    let api = tower::util::MapRequestLayer::new(normalize_request)
        .layer(http::router(services.clone(), metrics.clone()));
    let api = ServiceExt::<Request>::into_make_service_with_connect_info::<SocketAddr>(api);
    let ops = admin::router(services.clone(), metrics, admin_token).into_make_service();
    let job_runner = spawn_job_runner(services.clone(), stopped.clone());
    let follower = spawn_back_office_follower(services.clone(), stopped.clone());
    {
        // Push connections never end by themselves; graceful shutdown waits for them.
        let (services, mut stopped) = (services.clone(), stopped.clone());
        tokio::spawn(async move {
            let _ = stopped.wait_for(|stop| *stop).await;
            services.begin_stopping();
        });
    }
    let event_listener = (services.store.db().engine() == Engine::Postgres).then(|| {
        spawn_event_listener(
            config.database_url.clone(),
            services.store.clone(),
            stopped.clone(),
        )
    });
    let tasks = vec![
        tokio::spawn(
            axum::serve(public, api)
                .with_graceful_shutdown(until_stopped(stopped.clone()))
                .into_future(),
        ),
        tokio::spawn(
            axum::serve(admin, ops)
                .with_graceful_shutdown(until_stopped(stopped))
                .into_future(),
        ),
    ];
    tracing::info!(%public_addr, %admin_addr, database = %redact(&config.database_url), "bankgate listening");
    Ok(Running {
        public_addr,
        admin_addr,
        services,
        shutdown,
        tasks,
        job_runner,
        follower,
        event_listener,
    })
}

async fn until_stopped(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|s| *s).await;
}

/// A database URL without its password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(super::redact("sqlite://x.db"), "sqlite://x.db");
    }
}
