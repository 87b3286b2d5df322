//! Running a back-office server: bind, serve until told to stop, stop cleanly. `bankgate backoffice
//! serve` runs [`BackOfficeServer::open_sandbox`]: a sandbox on its own database, which it creates or
//! migrates, so the back office starts empty and keeps its state across restarts. Tests start servers the
//! same way, in-process on port 0.

use crate::faults::Faults;
use crate::server::{router, LedgerAudit};
use anyhow::Context;
use bankgate_backoffice::BackOffice;
use bankgate_db::{Db, DbOptions};
use bankgate_domain::ids::BackOfficeId;
use bankgate_domain::Clock;
use bankgate_sandbox::Sandbox;
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What `bankgate backoffice serve` is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxServerSettings {
    pub id: BackOfficeId,
    pub listen: SocketAddr,
    /// `sqlite://FILE` or `postgres://...`: the sandbox's own store.
    pub database_url: String,
}

impl SandboxServerSettings {
    /// The default store of back office `id`: a SQLite file named after it in the working directory
    /// (`sandbox-a.db`). It differs from the file an in-process sandbox of that id uses there
    /// (`bankgate-sandbox-a.db`), so the two never write to one SQLite file.
    pub fn default_database_url(id: &BackOfficeId) -> String {
        format!("sqlite://{id}.db")
    }
}

/// A back-office server that is running.
pub struct BackOfficeServer {
    addr: SocketAddr,
    faults: Faults,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<std::io::Result<()>>,
}

impl BackOfficeServer {
    /// Serves `back_office` (and `ledger` at `GET /admin/ledger`, when given) on `listen`.
    pub async fn start(
        listen: SocketAddr,
        back_office: Arc<dyn BackOffice>,
        ledger: Option<Arc<dyn LedgerAudit>>,
    ) -> anyhow::Result<BackOfficeServer> {
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("binding {listen}"))?;
        let addr = listener.local_addr()?;
        let faults = Faults::default();
        let app = router(back_office, ledger, faults.clone());
        let (shutdown, mut stopped) = watch::channel(false);
        let release = faults.clone();
        let task = tokio::spawn(
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                    // Requests held by a hang or a dropped reply would keep shutdown waiting forever.
                    release.release_held();
                })
                .into_future(),
        );
        Ok(BackOfficeServer {
            addr,
            faults,
            shutdown,
            task,
        })
    }

    /// Opens (creating or migrating) the sandbox's store and serves it.
    pub async fn open_sandbox(
        settings: &SandboxServerSettings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<BackOfficeServer> {
        let db = Db::connect(&settings.database_url, &DbOptions::default())
            .await
            .with_context(|| format!("opening the store of back office {}", settings.id))?;
        let sandbox = Sandbox::open(settings.id.clone(), db, clock)
            .await
            .with_context(|| format!("opening sandbox {}", settings.id))?;
        let sandbox = Arc::new(sandbox);
        let server = Self::start(settings.listen, sandbox.clone(), Some(sandbox)).await?;
        tracing::info!(back_office = %settings.id, addr = %server.addr, "back office listening");
        Ok(server)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to reach it at.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Its fault settings (the same the admin route changes).
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Sending `true` stops the server.
    pub fn shutdown_handle(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }

    /// Stops accepting, lets requests in flight finish (held ones end with a 503), and waits.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.send_replace(true);
        self.wait().await
    }

    /// Waits until the server ends (after a stop, or a fatal error).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await??;
        Ok(())
    }
}
