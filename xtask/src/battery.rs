//! `cargo xtask battery [--ci] [--only GROUP]`: the field battery
//! (`host/battery`) against the `shopcase` binary of this workspace.
//!
//! Full size by default (its figures are in docs/battery.md); `--ci` is the
//! reduced size `cargo xtask test` runs.

use std::process::Command;

use anyhow::Result;

use crate::{cargo, done, plugins_out, root, run, step, target_dir, wasm_dir};

/// Build the host and the battery, then run it with `args`.
pub(crate) fn run_battery(args: &[String]) -> Result<()> {
    let t = step("building the host and the battery");
    // `--workspace --bins`: the same feature resolution as the test build,
    // so nothing is compiled twice.
    run(cargo().args(["build", "--workspace", "--bins"]))?;
    done(t);
    let size = if args.iter().any(|a| a == "--ci") {
        "reduced"
    } else {
        "full"
    };
    let t = step(&format!(
        "the field battery ({size} size): attacks and faults against served processes"
    ));
    let bin = target_dir().join("debug");
    run(Command::new(bin.join("shopcase-battery"))
        .current_dir(root())
        .arg("--shopcase")
        .arg(bin.join("shopcase"))
        .arg("--plugins")
        .arg(plugins_out())
        .arg("--wasm")
        .arg(wasm_dir())
        .arg("--scenarios")
        .arg(root().join("examples/events/scenarios"))
        .args(args))?;
    done(t);
    Ok(())
}
