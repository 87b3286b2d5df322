//! The `bankgate` command: `serve`, `migrate`, `openapi`, and `backoffice serve` / `backoffice openapi`
//! (a sandbox back office as its own HTTP server).

/// mimalloc keeps a heap per thread: glibc's allocator made the runtime's threads wait on each other's
/// arena locks (memory allocated on one thread and freed on another, as tasks move between threads).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use bankgate::config::Config;
use bankgate_backoffice_http::{BackOfficeServer, SandboxServerSettings};
use bankgate_domain::ids::BackOfficeId;
use bankgate_domain::SystemClock;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "bankgate",
    version,
    about = "One REST API for banking front ends, in front of several back offices"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct Common {
    /// TOML configuration file; BANKGATE_* variables and flags override it.
    #[arg(long, env = "BANKGATE_CONFIG")]
    config: Option<PathBuf>,
    /// sqlite://FILE or postgres://... (default sqlite://bankgate.db).
    #[arg(long)]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API and operations listeners.
    Serve {
        #[command(flatten)]
        common: Common,
        /// Public API address (default 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Metrics, readiness and admin address (default 127.0.0.1:8081).
        #[arg(long)]
        admin_listen: Option<SocketAddr>,
        /// Create the demo users on an empty database.
        #[arg(long)]
        demo: bool,
        /// Use the back office ID served at URL (by `bankgate backoffice serve`) instead of an
        /// in-process sandbox of that id. Repeatable.
        #[arg(long = "backoffice", value_name = "ID=URL")]
        back_offices: Vec<String>,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        common: Common,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// A sandbox back office as its own HTTP server.
    Backoffice {
        #[command(subcommand)]
        command: BackofficeCommand,
    },
}

#[derive(Subcommand)]
enum BackofficeCommand {
    /// Serve one sandbox back office over HTTP, on its own store, until Ctrl-C or SIGTERM.
    Serve {
        /// The back office's id, such as sandbox-a.
        #[arg(long)]
        id: String,
        /// Address to listen on, such as 127.0.0.1:9001.
        #[arg(long)]
        listen: SocketAddr,
        /// sqlite://FILE or postgres://... (default sqlite://ID.db in the working directory).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Print the back-office API's OpenAPI document.
    Openapi,
}

fn load(common: &Common) -> anyhow::Result<Config> {
    let mut config = Config::load(common.config.as_deref(), std::env::vars())?;
    if let Some(url) = &common.database_url {
        config.database_url = url.clone();
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Serve {
            common,
            listen,
            admin_listen,
            demo,
            back_offices,
        } => {
            let mut config = load(&common)?;
            config.listen = listen.unwrap_or(config.listen);
            config.admin_listen = admin_listen.unwrap_or(config.admin_listen);
            config.demo |= demo;
            for spec in &back_offices {
                config.add_back_office(spec)?;
            }
            let running = bankgate::app::start(&config, Arc::new(SystemClock)).await?;
            let shutdown = running.shutdown_handle();
            tokio::spawn(async move {
                shutdown_signal().await;
                tracing::info!("shutting down");
                let _ = shutdown.send(true);
            });
            running.wait().await
        }
        Command::Backoffice {
            command:
                BackofficeCommand::Serve {
                    id,
                    listen,
                    database_url,
                },
        } => {
            let id = BackOfficeId::parse(&id)
                .with_context(|| format!("invalid back-office id {id:?}"))?;
            let settings = SandboxServerSettings {
                database_url: database_url
                    .unwrap_or_else(|| SandboxServerSettings::default_database_url(&id)),
                id,
                listen,
            };
            let server = BackOfficeServer::open_sandbox(&settings, Arc::new(SystemClock)).await?;
            let shutdown = server.shutdown_handle();
            tokio::spawn(async move {
                shutdown_signal().await;
                tracing::info!("shutting down");
                shutdown.send_replace(true);
            });
            server.wait().await
        }
        Command::Backoffice {
            command: BackofficeCommand::Openapi,
        } => {
            println!("{}", bankgate_backoffice_http::openapi().to_pretty_json()?);
            Ok(())
        }
        Command::Migrate { common } => {
            let config = load(&common)?;
            let db = bankgate_db::Db::connect(&config.database_url, &Default::default()).await?;
            bankgate_store::Store::open(db).await.context("migrating")?;
            println!("migrations applied");
            Ok(())
        }
        Command::Openapi => {
            println!("{}", bankgate::http::openapi().to_pretty_json()?);
            Ok(())
        }
    }
}

/// Ctrl-C, or SIGTERM where there is one.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
