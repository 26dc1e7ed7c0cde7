//! `shopcase emulate corecase|shopify --listen ADDR`: the emulators as
//! standalone servers, for partners developing against them and for demos.
//!
//! Both serve `/_emulator/` control endpoints without authentication, so
//! they listen on loopback unless told otherwise.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

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

pub(crate) fn main(which: Which) -> ExitCode {
    crate::init_tracing();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(which)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn shutdown_signal() {
    // If the signal handler cannot be installed, run until killed.
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn run(which: Which) -> Result<()> {
    match which {
        Which::Corecase { listen, config } => {
            let config = match config {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    toml::from_str(&text).with_context(|| format!("{}", path.display()))?
                }
                None => shopcase_corecase_emulator::EmulatorConfig::default(),
            };
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            eprintln!(
                "Core Case emulator on http://{} (tenant `{}`, client `{}`); Ctrl-C stops it",
                listener.local_addr()?,
                config.tenant_id,
                config.client_id
            );
            shopcase_corecase_emulator::serve(listener, config, shutdown_signal()).await?;
        }
        Which::Shopify { listen, seed } => {
            let mut config = shopcase_shopify_emulator::EmulatorConfig::default();
            if let Some(path) = seed {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                config.seed =
                    serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?;
            }
            let emulator =
                shopcase_shopify_emulator::Emulator::new(config).map_err(anyhow::Error::msg)?;
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            eprintln!(
                "Shopify Admin API emulator on http://{}; Ctrl-C stops it",
                listener.local_addr()?
            );
            shopcase_shopify_emulator::serve(listener, emulator, shutdown_signal()).await?;
        }
    }
    Ok(())
}
