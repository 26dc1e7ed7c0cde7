//! `shopcase plugin new | build | test`: a partner's path from an empty
//! directory to a packaged plugin proven against conformance fixtures.
//!
//! ```text
//! shopcase plugin new --lang js big-orders          # scaffold (manifest, source, fixtures)
//! shopcase plugin build --dir big-orders            # component + packaged manifest in big-orders/dist/
//! shopcase plugin test --plugin big-orders/dist/big-orders --fixtures big-orders/fixtures
//! ```
//!
//! # Layout
//! - this file: the command-line arguments;
//! - [`scaffold`]: `plugin new`, the project templates of each language;
//! - [`build`]: `plugin build`, language detection, the toolchains
//!   (cargo, componentize-js, componentize-py) and packaging;
//! - [`conformance`]: `plugin test`, the fixture format, running fixtures
//!   in the server's sandbox and the report;
//! - [`diff`]: the line diff the report prints on a mismatch.
//!
//! Exit codes (the runner's table, as `plugin run`): 0 success, 1 a plugin
//! failed (a build that does not compile, a fixture that does not match),
//! 2 bad input (bad manifest or fixture, missing toolchain, unloadable
//! plugin).

use std::path::PathBuf;

use crate::runner::{CliError, Exit};

mod build;
mod conformance;
mod diff;
mod scaffold;

/// Bad input: exit 2.
fn bad(msg: impl Into<String>) -> CliError {
    CliError::bad_input(msg.into())
}

/// A plugin language `plugin new` and `plugin build` know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Lang {
    /// Rust with the shopcase-sdk crate (`cargo`, target wasm32-wasip2).
    Rust,
    /// JavaScript with @shopcase/sdk (componentize-js).
    Js,
    /// Python with shopcase_sdk (componentize-py).
    Python,
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Lang::Rust => "Rust",
            Lang::Js => "JavaScript",
            Lang::Python => "Python",
        })
    }
}

/// `shopcase plugin new`.
#[derive(Debug, clap::Args)]
pub(crate) struct NewArgs {
    /// The plugin's language.
    #[arg(long, value_enum)]
    lang: Lang,
    /// The plugin id: lowercase letters, digits and `-`, e.g. `big-orders`.
    name: String,
    /// Where to create it (default: ./NAME). Must not exist or be empty.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Rust only: the shopcase-sdk crate to depend on by path (the
    /// repository's sdk/rust). Default: found from this binary's location.
    #[arg(long, env = "SHOPCASE_RUST_SDK", value_name = "DIR")]
    rust_sdk: Option<PathBuf>,
}

/// `shopcase plugin build`.
#[derive(Debug, clap::Args)]
pub(crate) struct BuildArgs {
    /// The plugin project (with plugin.toml).
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// Where to package it: OUT/<id>/{plugin.toml,<id>.wasm} (default: DIR/dist).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The guest toolchains: a directory with node/node_modules (JavaScript)
    /// and venv/bin/componentize-py (Python), as `cargo xtask` installs
    /// them in target/guest-tools.
    #[arg(long, env = "SHOPCASE_GUEST_TOOLS", value_name = "DIR")]
    tools: Option<PathBuf>,
}

/// `shopcase plugin test`.
#[derive(Debug, clap::Args)]
pub(crate) struct TestArgs {
    /// The packaged plugin: its directory or its plugin.toml.
    #[arg(long)]
    plugin: PathBuf,
    /// The fixtures: a directory with events/<name>.json and expected/<name>.json.
    #[arg(long)]
    fixtures: PathBuf,
    /// Print one JSON report instead of text.
    #[arg(long)]
    pub(crate) json: bool,
    /// Run only the fixtures whose name contains this.
    #[arg(long)]
    filter: Option<String>,
    /// Where precompiled components are cached.
    #[arg(long, env = "SHOPCASE_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
}

/// `shopcase plugin new`.
pub(crate) fn new(args: NewArgs) -> Result<Exit, CliError> {
    scaffold::run(&args)?;
    Ok(Exit::Done)
}

/// `shopcase plugin build`.
pub(crate) fn build(args: BuildArgs) -> Result<Exit, CliError> {
    build::run(&args)?;
    Ok(Exit::Done)
}

/// `shopcase plugin test`.
pub(crate) fn test(args: TestArgs) -> Result<Exit, CliError> {
    conformance::run(&args)
}
