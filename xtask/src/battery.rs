//! `cargo xtask battery [--ci] [--only GROUP]`: the field battery
//! (`host/battery`) against the `shopcase` binary of this workspace.
//!
//! Full size by default (its figures are in docs/battery.md); `--ci` is the
//! reduced size `cargo xtask test` runs.
//!
//! The `replicas` group runs several hosts on one PostgreSQL database: the
//! battery gets `SHOPCASE_TEST_DATABASE_URL`, the one `cargo xtask test`
//! gives the database tests, or, run alone, the one set in the environment,
//! else the throwaway cluster of [`crate::postgres`], started for the run
//! and stopped after it.

use std::process::Command;

use anyhow::{Context, Result};

use crate::postgres::{self, TestDatabase};
use crate::{cargo, done, plugins_out, root, run, step, target_dir, wasm_dir};

/// The battery's groups that need PostgreSQL.
const NEEDS_DATABASE: &[&str] = &["replicas"];

/// Build the host and the battery, then run it with `args`, on `database`
/// if given (else one is found or started if a group needs it).
pub(crate) fn run_battery(args: &[String], database: Option<&TestDatabase>) -> Result<()> {
    let t = step("building the host and the battery");
    // `--workspace --bins`: the same feature resolution as the test build,
    // so nothing is compiled twice.
    run(cargo().args(["build", "--workspace", "--bins"]))?;
    done(t);
    let started;
    let database = match database {
        Some(d) => Some(d),
        None if needs_database(args) => {
            let t = step("PostgreSQL for the replicas group");
            started = postgres::ensure_postgres().context(
                "the battery's replicas group needs PostgreSQL (set SHOPCASE_TEST_DATABASE_URL, \
                 or leave it unset to use the cluster in target/postgres; \
                 `--only GROUP` runs other groups without it)",
            )?;
            done(t);
            Some(&started)
        }
        None => None,
    };
    let size = if args.iter().any(|a| a == "--ci") {
        "reduced"
    } else {
        "full"
    };
    let t = step(&format!(
        "the field battery ({size} size): attacks and faults against served processes"
    ));
    let bin = target_dir().join("debug");
    let mut cmd = Command::new(bin.join("shopcase-battery"));
    cmd.current_dir(root())
        .arg("--shopcase")
        .arg(bin.join("shopcase"))
        .arg("--plugins")
        .arg(plugins_out())
        .arg("--wasm")
        .arg(wasm_dir())
        .arg("--scenarios")
        .arg(root().join("examples/events/scenarios"))
        .args(args);
    if let Some(d) = database {
        cmd.envs(d.test_env());
    }
    run(&mut cmd)?;
    done(t);
    Ok(())
}

/// Whether `args` select a group that needs PostgreSQL: no `--only`
/// (every group), or an `--only` text one of them contains (the battery
/// selects groups by substring).
fn needs_database(args: &[String]) -> bool {
    let only: Vec<&str> = args
        .windows(2)
        .filter(|w| w[0] == "--only")
        .map(|w| w[1].as_str())
        .collect();
    only.is_empty()
        || only
            .iter()
            .any(|o| NEEDS_DATABASE.iter().any(|g| g.contains(o)))
}
