//! `shopcase config check --config C [--json]`: everything `serve` checks
//! before it starts — the file, every section, every secret source,
//! `[shopify]` and `[corecase]` — without starting anything, plus
//! warnings for choices that work but are risky.
//!
//! An error names the file, the line (where the key can be found), the
//! key and what is wrong; `examples/shopcase.toml` shows every key with
//! its default. Exit codes (the runner's table): 0 the configuration is
//! valid (warnings allowed), 1 it has an error, 2 the file cannot be read.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use shopcase_corecase_integration::CoreCase;
use shopcase_pipeline::{Config, config};
use shopcase_shopify_integration::Shopify;

use crate::runner::{CliError, Exit};

#[derive(Debug, clap::Subcommand)]
pub(crate) enum ConfigCommand {
    /// Check a configuration file as `serve` would, without serving.
    Check(CheckArgs),
}

impl ConfigCommand {
    /// `--json` was given.
    pub(crate) fn json(&self) -> bool {
        let ConfigCommand::Check(args) = self;
        args.json
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// The configuration file.
    #[arg(long)]
    config: PathBuf,
    /// Print the result as one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Problem {
    key: Option<String>,
    line: Option<usize>,
    message: String,
}

#[derive(Debug, Serialize)]
struct Outcome {
    file: String,
    valid: bool,
    errors: Vec<Problem>,
    warnings: Vec<String>,
}

/// Outage windows shorter than this dead-letter work during ordinary
/// outages of Shopify or Core Case.
const SHORT_OUTAGE_WINDOW: Duration = Duration::from_secs(3600);

pub(crate) fn run(cmd: ConfigCommand) -> Result<Exit, CliError> {
    let ConfigCommand::Check(args) = cmd;
    // An unreadable file is exit code 2, not a configuration error.
    std::fs::read_to_string(&args.config)
        .map_err(|e| CliError::bad_config(format!("cannot read {}: {e}", args.config.display())))?;
    let outcome = check(&args.config);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        for e in &outcome.errors {
            let at = match e.line {
                Some(l) => format!("{}:{l}", outcome.file),
                None => outcome.file.clone(),
            };
            match &e.key {
                Some(k) => eprintln!("error: {at}: `{k}`: {}", e.message),
                None => eprintln!("error: {at}: {}", e.message),
            }
        }
        for w in &outcome.warnings {
            eprintln!("warning: {w}");
        }
        if outcome.valid {
            println!(
                "{}: valid ({} warning(s))",
                outcome.file,
                outcome.warnings.len()
            );
        } else {
            eprintln!(
                "(every key, with its default: examples/shopcase.toml; the admin guide explains each section)"
            );
        }
    }
    Ok(Exit::done_if(outcome.valid))
}

fn check(path: &Path) -> Outcome {
    let mut out = Outcome {
        file: path.display().to_string(),
        valid: true,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let mut fail = |e: config::Error| {
        out.errors.push(Problem {
            key: e.key,
            line: e.line,
            message: e.message,
        });
    };
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(e) => {
            fail(e);
            out.valid = false;
            return out;
        }
    };
    if let Err(e) = Shopify::from_config(&config) {
        fail(e);
    }
    if let Err(e) = CoreCase::from_config(&config) {
        fail(e);
    }
    out.valid = out.errors.is_empty();
    out.warnings = warnings(&config);
    out
}

/// Choices that work but are risky.
fn warnings(c: &Config) -> Vec<String> {
    let mut w = c.warnings.clone();
    if !c.plugins_dir.is_dir() {
        w.push(format!(
            "`plugins-dir`: {} does not exist: no plugin can be enabled",
            c.plugins_dir.display()
        ));
    }
    if c.stores.is_empty() {
        w.push("no [[stores]]: every webhook will be refused as from an unknown store".into());
    }
    for (i, s) in c.stores.iter().enumerate() {
        if let Some(u) = &s.admin_base_url
            && plain_http_off_machine(u)
        {
            w.push(format!(
                "`stores[{i}].admin-base-url`: plain HTTP to {u}: the store's Admin API token would cross the network in clear"
            ));
        }
    }
    if c.retention.keep.is_none() {
        w.push("`storage.retention = \"off\"`: finished work is kept forever and the database grows without bound".into());
    }
    for (key, window) in [
        ("dispatcher.outage-window", c.dispatcher.outage_window),
        ("executor.outage-window", c.executor.outage_window),
    ] {
        if window < SHORT_OUTAGE_WINDOW {
            w.push(format!(
                "`{key}` is {} s: an outage of Shopify or Core Case longer than that dead-letters work that would have gone through",
                window.as_secs()
            ));
        }
    }
    if !c.server.listen.ip().is_loopback() {
        w.push(format!(
            "`server.listen` = {}: the host speaks plain HTTP; serve it behind a TLS-terminating proxy",
            c.server.listen
        ));
    }
    w
}

/// Whether `u` is a plain-HTTP address of another machine.
fn plain_http_off_machine(u: &str) -> bool {
    let Some(rest) = u.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    !(host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_flagged_only_off_this_machine() {
        assert!(plain_http_off_machine("http://shop.example.com/admin"));
        assert!(plain_http_off_machine("http://10.0.0.5:8080"));
        assert!(!plain_http_off_machine("http://127.0.0.1:8482"));
        assert!(!plain_http_off_machine("http://localhost:8482/x"));
        assert!(!plain_http_off_machine("http://[::1]:8482"));
        assert!(!plain_http_off_machine("https://shop.example.com"));
    }
}
