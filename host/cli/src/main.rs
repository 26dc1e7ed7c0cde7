//! `shopcase`: the host binary.
//!
//! # Layout
//! Each subcommand lives in its own module; this file only parses the
//! command line and dispatches.
//! - `plugin run` ([`plugin_run`]): one event through one plugin, in the
//!   server's sandbox.
//! - `plugin new | build | test` ([`plugin_dev`]): scaffold, build and
//!   package a plugin, and run conformance fixtures through it.
//! - `emulate corecase | shopify` ([`emulate`]): the emulators as servers.
//! - `demo` ([`demo`]): every scenario end to end, in one process.
//! - `serve` ([`serve`]): the host: webhooks in, plugins, journal, executors.
//! - `replay` ([`replay`]): post event files signed as Shopify would.
//! - `store list | enable | disable | set | approve` ([`store_cmd`]): plugins per
//!   store, and approving their content.
//! - `admin token create | list | revoke` ([`admin_cmd`]): admin API tokens.
//! - `corecase check` ([`corecase_check`]): the Core Case contract against
//!   the configured tenant, point by point.
//! - `config check` ([`config_check`]): a configuration as `serve` checks
//!   it, with warnings for risky choices.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod admin_cmd;
mod config_check;
mod corecase_check;
#[cfg(feature = "emulators")]
mod demo;
#[cfg(feature = "emulators")]
mod emulate;
mod plugin_dev;
mod plugin_run;
mod replay;
mod serve;
mod store_cmd;

/// Shopify events in, Core Case cases out, business logic in sandboxed Wasm plugins.
#[derive(Debug, Parser)]
#[command(name = "shopcase", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Develop and check plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
    #[cfg(feature = "emulators")]
    /// Every scenario end to end, in-process: emulators, host, plugins, analyst.
    Demo(demo::Args),
    #[cfg(feature = "emulators")]
    /// Run a Core Case or Shopify emulator (for development and demos).
    #[command(subcommand)]
    Emulate(emulate::Which),
    /// Run the host: receive webhooks, dispatch them to the stores' plugins, execute the actions.
    Serve(serve::Args),
    /// Post event files to a webhook endpoint, signed as Shopify would.
    Replay(replay::Args),
    /// Manage which plugins run for which store, with which settings.
    #[command(subcommand)]
    Store(store_cmd::StoreCommand),
    /// Administer the admin API (tokens).
    #[command(subcommand)]
    Admin(admin_cmd::AdminCommand),
    /// Check the configured Core Case tenant against the contract shopcase relies on.
    #[command(subcommand)]
    Corecase(corecase_check::CorecaseCommand),
    /// Check a configuration file without serving.
    #[command(subcommand)]
    Config(config_check::ConfigCommand),
}

#[derive(Debug, Subcommand)]
enum PluginCommand {
    /// Run one event through one plugin in exactly the sandbox the server uses.
    Run(plugin_run::Args),
    /// Create a plugin project (manifest with least grants, source, fixtures).
    New(plugin_dev::NewArgs),
    /// Build a plugin project into a component and package it with its sha256.
    Build(plugin_dev::BuildArgs),
    /// Run conformance fixtures through a packaged plugin; exit 1 on a mismatch.
    Test(plugin_dev::TestArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Plugin(PluginCommand::Run(args)) => plugin_run::main(args),
        Command::Plugin(PluginCommand::New(args)) => plugin_dev::new(args),
        Command::Plugin(PluginCommand::Build(args)) => plugin_dev::build(args),
        Command::Plugin(PluginCommand::Test(args)) => plugin_dev::test(args),
        #[cfg(feature = "emulators")]
        Command::Demo(args) => demo::main(args),
        #[cfg(feature = "emulators")]
        Command::Emulate(which) => emulate::main(which),
        Command::Serve(args) => serve::main(args),
        Command::Replay(args) => replay::main(args),
        Command::Store(cmd) => store_cmd::main(cmd),
        Command::Admin(cmd) => admin_cmd::main(cmd),
        Command::Corecase(cmd) => corecase_check::main(cmd),
        Command::Config(cmd) => config_check::main(cmd),
    }
}

/// Logs to stderr; `RUST_LOG` sets the filter (default `info`).
#[cfg(feature = "emulators")]
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A second initialisation (tests) is harmless.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
