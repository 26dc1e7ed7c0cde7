//! `shopcase serve --config shopcase.toml`: the host. Receives webhooks,
//! dispatches them to the stores' plugins, executes the journalled actions,
//! and drains gracefully on SIGTERM or Ctrl-C.
//!
//! Exit codes (the runner's table): 0 after a clean shutdown, 1 if serving
//! failed, 2 for a bad configuration.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use shopcase_corecase_integration::CoreCase;
use shopcase_pipeline::store::Storage;
use shopcase_pipeline::{Config, PipelineBuilder};
use shopcase_shopify_integration::Shopify;

use crate::runner::{CliError, Exit, LogFormat};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The configuration file.
    #[arg(long, env = "SHOPCASE_CONFIG", default_value = "shopcase.toml")]
    config: PathBuf,
    /// Listen here instead of at `server.listen`.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Log format (the level comes from RUST_LOG, default `info`).
    #[arg(long, value_enum, env = "SHOPCASE_LOG_FORMAT", default_value = "text")]
    pub(crate) log_format: LogFormat,
}

pub(crate) async fn run(args: Args) -> Result<Exit, CliError> {
    let config = Config::load(&args.config).map_err(CliError::bad_config)?;
    // `[shopify]` and the stores' Admin API tokens: checked with the rest of
    // the configuration.
    let shopify = Shopify::from_config(&config).map_err(CliError::bad_config)?;
    // `[corecase]`: the client secret is read now, so a missing one is a
    // configuration error, not a failure at the first case action.
    let corecase = CoreCase::from_config(&config).map_err(CliError::bad_config)?;
    // A database this build cannot use (not shopcase's, a newer schema)
    // is the configuration's problem (exit 2); one that cannot be reached
    // is a failure to wait out (exit 1: a supervisor starts again).
    let storage = config
        .storage
        .open(&config.data_dir)
        .await
        .map_err(|e| match e {
            shopcase_pipeline::store::StoreError::Schema(_) => {
                CliError::bad_config(e).with_kind("storage-schema")
            }
            e => {
                let kind = e.code();
                CliError::failed(e).with_kind(kind)
            }
        })?;
    serve(config, storage, shopify, corecase, args.listen)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "shopcase stopped with an error");
            CliError::failed(e)
        })?;
    Ok(Exit::Done)
}

async fn serve(
    config: Config,
    storage: Arc<dyn Storage>,
    shopify: Shopify,
    corecase: Option<CoreCase>,
    listen: Option<SocketAddr>,
) -> Result<(), Box<dyn std::error::Error>> {
    let addr = listen.unwrap_or(config.server.listen);
    let builder = assemble(
        config,
        storage,
        &shopify,
        corecase.map(CoreCase::faults_from_env),
    );
    let pipeline = builder.build().await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    eprintln!(
        "shopcase: serving on http://{} (webhooks at /webhooks/shopify, admin at /admin/)",
        listener.local_addr().unwrap_or(addr)
    );
    pipeline.run(listener, shutdown_signal()).await?;
    Ok(())
}

/// The host as `serve` runs it: the pipeline with the admin API and page,
/// Shopify write-back, customer history and order look-up, and (when configured) the Core
/// Case executor and poller. `shopcase demo` assembles the same host.
pub(crate) fn assemble(
    config: Config,
    storage: std::sync::Arc<dyn shopcase_pipeline::store::Storage>,
    shopify: &Shopify,
    corecase: Option<CoreCase>,
) -> PipelineBuilder {
    // One set of circuit breakers: the pipeline's calls go through them,
    // and the admin API shows each store's.
    let breakers = std::sync::Arc::new(shopcase_pipeline::breaker::Breakers::new(
        config.executor.breaker,
    ));
    // The admin API and page (`/admin/`), on the same listener; enabling a
    // plugin there connects its store through the write-back client.
    let admin = shopcase_admin::router(
        shopcase_admin::AdminState::new(storage.clone(), &config)
            .with_breakers(breakers.clone())
            .with_shopify(shopify.client().clone()),
    );
    // The follow-up executor is built in.
    let builder = PipelineBuilder::new(config)
        .breakers(breakers)
        .storage(storage.clone())
        .routes(admin)
        .faults_from_env()
        // Shopify write-back and the customer-history, order and
        // order-risk host functions.
        .executor(shopify.executor())
        .customer_history(shopify.history_source())
        .orders(shopify.order_source());
    // Core Case: the case executor and the poller of case changes.
    match corecase {
        Some(corecase) => corecase.register(builder, storage),
        None => {
            tracing::warn!(
                "no [corecase] in the configuration: case actions wait in the journal until it is configured"
            );
            builder
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
