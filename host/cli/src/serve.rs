//! `shopcase serve --config shopcase.toml`: the host. Receives webhooks,
//! dispatches them to the stores' plugins, executes the journalled actions,
//! and drains gracefully on SIGTERM or Ctrl-C.
//!
//! Exit codes: 0 after a clean shutdown, 1 if serving failed, 2 for a bad
//! configuration.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use shopcase_pipeline::{Config, CoreCase, PipelineBuilder, Shopify};

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

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
    log_format: LogFormat,
}

pub(crate) fn main(args: Args) -> ExitCode {
    init_tracing(args.log_format);
    let config = match Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // `[shopify]` and the stores' Admin API tokens: checked with the rest of
    // the configuration.
    let shopify = match Shopify::from_config(&config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // `[corecase]`: the client secret is read now, so a missing one is a
    // configuration error, not a failure at the first case action.
    let corecase = match CoreCase::from_config(&config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(serve(config, shopify, corecase, args.listen)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "shopcase stopped with an error");
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

async fn serve(
    config: Config,
    shopify: Shopify,
    corecase: Option<CoreCase>,
    listen: Option<SocketAddr>,
) -> Result<(), Box<dyn std::error::Error>> {
    let addr = listen.unwrap_or(config.server.listen);
    let storage = shopcase_pipeline::open_storage(&config).await?;
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
/// Shopify write-back and customer history, and (when configured) the Core
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
    // The admin API and page (`/admin/`), on the same listener.
    let admin = shopcase_admin::router(
        shopcase_admin::AdminState::new(storage.clone(), &config).with_breakers(breakers.clone()),
    );
    // The follow-up executor is built in.
    let builder = PipelineBuilder::new(config)
        .breakers(breakers)
        .storage(storage.clone())
        .routes(admin)
        .faults_from_env()
        // Shopify write-back and the customer-history host function.
        .executor(shopify.executor())
        .customer_history(shopify.history_source());
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

fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
