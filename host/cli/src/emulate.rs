//! `shopcase emulate corecase|shopify --listen ADDR`: the emulators as
//! standalone servers, for partners developing against them and for demos.
//!
//! Both serve `/_emulator/` control endpoints without authentication, so
//! they listen on loopback unless told otherwise.
//!
//! Exit codes (the runner's table): 0 after Ctrl-C, 1 if serving failed
//! (the address cannot be bound), 2 for an unusable `--config` or `--seed`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::runner::{CliError, Exit};

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Which {
    /// OpenText Core Case REST API (spec/corecase-api.md), with /_emulator/ controls.
    Corecase {
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:8481")]
        listen: SocketAddr,
        /// Emulator settings (TOML): tenant-id, client-id, client-secret, other-clients, token-ttl-secs,
        /// case-definitions, rate-limit, ...
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Shopify Admin GraphQL API (the operations shopcase uses), with /_emulator/ controls.
    Shopify {
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:8482")]
        listen: SocketAddr,
        /// Shops, customers, orders and returns to start with (JSON); the built-in
        /// demo seed when absent.
        #[arg(long)]
        seed: Option<PathBuf>,
    },
}

async fn shutdown_signal() {
    // If the signal handler cannot be installed, run until killed.
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

pub(crate) async fn run(which: Which) -> Result<Exit, CliError> {
    match which {
        Which::Corecase { listen, config } => {
            let config = match config {
                Some(path) => toml::from_str(&read(&path)?)
                    .map_err(|e| CliError::bad_input(format!("{}: {e}", path.display())))?,
                None => shopcase_corecase_emulator::EmulatorConfig::default(),
            };
            let (tenant, client) = (config.tenant_id.clone(), config.client_id.clone());
            let emulator =
                shopcase_corecase_emulator::Emulator::new(config).map_err(CliError::bad_input)?;
            let listener = bind(listen).await?;
            eprintln!(
                "Core Case emulator on http://{} (tenant `{tenant}`, client `{client}`); Ctrl-C stops it",
                listener.local_addr()?,
            );
            shopcase_corecase_emulator::serve_emulator(listener, emulator, shutdown_signal())
                .await?;
        }
        Which::Shopify { listen, seed } => {
            let mut config = shopcase_shopify_emulator::EmulatorConfig::default();
            if let Some(path) = seed {
                config.seed = serde_json::from_str(&read(&path)?)
                    .map_err(|e| CliError::bad_input(format!("{}: {e}", path.display())))?;
            }
            let emulator =
                shopcase_shopify_emulator::Emulator::new(config).map_err(CliError::bad_input)?;
            let listener = bind(listen).await?;
            eprintln!(
                "Shopify Admin API emulator on http://{}; Ctrl-C stops it",
                listener.local_addr()?
            );
            shopcase_shopify_emulator::serve(listener, emulator, shutdown_signal()).await?;
        }
    }
    Ok(Exit::Done)
}

/// A `--config` or `--seed` file: exit 2 if it cannot be read.
fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path)
        .map_err(|e| CliError::bad_input(format!("cannot read {}: {e}", path.display())))
}

/// Exit 1 if the address cannot be listened on.
async fn bind(listen: SocketAddr) -> Result<tokio::net::TcpListener, CliError> {
    tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| CliError::failed(format!("cannot listen on {listen}: {e}")))
}
