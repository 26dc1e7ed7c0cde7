//! `shopcase`: the host binary.
//!
//! # Layout
//! Each subcommand lives in its own module; this file only parses the
//! command line and dispatches.
//! - `plugin run` ([`plugin_run`]): one event through one plugin, in the
//!   server's sandbox.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod plugin_run;

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
}

#[derive(Debug, Subcommand)]
enum PluginCommand {
    /// Run one event through one plugin in exactly the sandbox the server uses.
    Run(plugin_run::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Plugin(PluginCommand::Run(args)) => plugin_run::main(args),
    }
}
