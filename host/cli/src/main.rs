//! `shopcase`: the host binary.
//!
//! # Layout
//! Each subcommand lives in its own module as a plain function of its
//! arguments returning `Result<Exit, CliError>`; this file parses the
//! command line and hands each command to the [`runner`], which builds the
//! runtime, sets up the logs, prints the error and maps it to the exit code
//! (one table for every command: the runner's docs).
//! - `plugin run` ([`plugin_run`]): one event through one plugin, in the
//!   server's sandbox.
//! - `plugin new | build | test` ([`plugin_dev`]): scaffold, build and
//!   package a plugin, and run conformance fixtures through it.
//! - `emulate corecase | shopify` ([`emulate`]): the emulators as servers.
//! - `demo` ([`demo`]): every scenario end to end, in one process.
//! - `serve` ([`serve`]): the host: webhooks in, plugins, journal, executors.
//! - `replay` ([`replay`]): post event files signed as Shopify would.
//! - `inbound sign` ([`inbound_cmd`]): sign (and post) a report as an
//!   `[[inbound]]` source (helpdesk, carrier service) would.
//! - `store list | enable | disable | set | approve | connect` ([`store_cmd`]):
//!   plugins per store, approving their content, and the store's webhook
//!   subscriptions and access scopes.
//! - `admin token create | list | revoke` ([`admin_cmd`]): admin API tokens.
//! - `storage migrate` ([`storage_cmd`]): copy a stopped host's SQLite
//!   database into an empty PostgreSQL database, verified.
//! - `corecase check` ([`corecase_check`]): the Core Case contract against
//!   the configured tenant, point by point.
//! - `config check` ([`config_check`]): a configuration as `serve` checks
//!   it, with warnings for risky choices.
//! - [`runner`]: runs a command; exit codes, error printing (`--json`).

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use runner::{Logs, Runner};

mod admin_cmd;
mod config_check;
mod corecase_check;
#[cfg(feature = "emulators")]
mod demo;
#[cfg(feature = "emulators")]
mod emulate;
mod inbound_cmd;
mod plugin_dev;
mod plugin_run;
mod replay;
mod runner;
mod serve;
mod storage_cmd;
mod store_cmd;

/// The exit codes of every command (`runner`).
const EXIT_CODES: &str = "Exit codes: 0 done; 1 the command ran and something failed or did not hold (a refusal, a plugin failure, a check that differs, a rejected webhook); 2 the command could not start (bad arguments, configuration or input). With --json, an error is one JSON object on stdout: {\"error\": {\"kind\", \"message\"}}.";

/// Shopify events in, Core Case cases out, business logic in sandboxed Wasm plugins.
#[derive(Debug, Parser)]
#[command(name = "shopcase", version, about, long_about = None, after_help = EXIT_CODES)]
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
    /// Reports from a helpdesk or carrier service ([[inbound]] sources).
    #[command(subcommand)]
    Inbound(inbound_cmd::InboundCommand),
    /// Manage which plugins run for which store, with which settings.
    #[command(subcommand)]
    Store(store_cmd::StoreCommand),
    /// Administer the admin API (tokens).
    #[command(subcommand)]
    Admin(admin_cmd::AdminCommand),
    /// Move the host's data between storage engines (SQLite to PostgreSQL).
    #[command(subcommand)]
    Storage(storage_cmd::StorageCommand),
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
    let runner = Runner::new();
    match cli.command {
        Command::Plugin(PluginCommand::Run(args)) => runner
            .json_with(args.json, plugin_run::json_fields())
            .run_sync(|| plugin_run::run(args)),
        Command::Plugin(PluginCommand::New(args)) => runner.run_sync(|| plugin_dev::new(args)),
        Command::Plugin(PluginCommand::Build(args)) => runner.run_sync(|| plugin_dev::build(args)),
        Command::Plugin(PluginCommand::Test(args)) => {
            runner.json(args.json).run_sync(|| plugin_dev::test(args))
        }
        #[cfg(feature = "emulators")]
        Command::Demo(args) => runner
            .multi_thread()
            .json(args.json)
            .logs(if args.verbose {
                Logs::Info(runner::LogFormat::Text)
            } else {
                Logs::ErrorsOnly
            })
            .run(demo::run(args)),
        #[cfg(feature = "emulators")]
        Command::Emulate(which) => runner
            .multi_thread()
            .logs(Logs::Info(runner::LogFormat::Text))
            .run(emulate::run(which)),
        Command::Serve(args) => runner
            .multi_thread()
            .logs(Logs::Info(args.log_format))
            .run(serve::run(args)),
        Command::Replay(args) => runner.json(args.json).run(replay::run(args)),
        Command::Inbound(cmd) => runner.json(cmd.json()).run(inbound_cmd::run(cmd)),
        Command::Store(cmd) => runner.json(cmd.json()).run(store_cmd::run(cmd)),
        Command::Admin(cmd) => runner.json(cmd.json()).run(admin_cmd::run(cmd)),
        Command::Storage(cmd) => runner.json(cmd.json()).run(storage_cmd::run(cmd)),
        Command::Corecase(cmd) => runner.json(cmd.json()).run(corecase_check::run(cmd)),
        Command::Config(cmd) => runner.json(cmd.json()).run_sync(|| config_check::run(cmd)),
    }
}
