//! The `bankgate` command: `serve`, `migrate` and `openapi`.

use anyhow::Context;
use bankgate::config::Config;
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
    },
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        common: Common,
    },
    /// Print the OpenAPI document.
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
        } => {
            let mut config = load(&common)?;
            config.listen = listen.unwrap_or(config.listen);
            config.admin_listen = admin_listen.unwrap_or(config.admin_listen);
            config.demo |= demo;
            let running = bankgate::app::start(&config, Arc::new(SystemClock)).await?;
            let shutdown = running.shutdown_handle();
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                tracing::info!("shutting down");
                let _ = shutdown.send(true);
            });
            running.wait().await
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
