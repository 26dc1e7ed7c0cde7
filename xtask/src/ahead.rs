//! The calendar guard: the demo, the end-to-end tests built on the
//! scenario events and every first-party plugin's scenario tests, run
//! again with the process clock moved
//! [`DAYS_AHEAD`] days ahead by libfaketime (Debian's `faketime`, installed
//! with apt-get like the C toolchain). Recorded events are rebased to "now"
//! when they are replayed, so these tests pass on any date; this proves it
//! on every run instead of on the day the fixtures age.
//!
//! By hand: `cargo xtask ahead [DAYS]`, or for the demo alone
//! `faketime -f +400d target/debug/shopcase demo`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{cargo, run};

/// How far ahead `cargo xtask test` moves the clock.
pub(crate) const DAYS_AHEAD: u32 = 400;

/// The test binaries and the tests in them that read the scenario events.
const SUITES: &[(&str, &str, &str)] = &[
    // (package, source directory of its `all` test binary, test filter);
    // the directory names the binary (`host/pipeline/tests/` also holds
    // the `crash` one).
    ("shopcase", "host/cli/tests/all/", "demo::"),
    (
        "shopcase-pipeline",
        "host/pipeline/tests/all/",
        "corecase::scenarios",
    ),
];

/// `faketime`, installed if missing (and possible).
fn ensure_faketime() -> Result<PathBuf> {
    let found = || {
        ["/usr/bin/faketime", "/usr/local/bin/faketime"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
    };
    if let Some(p) = found() {
        return Ok(p);
    }
    crate::guests::apt_install(&["faketime"])
        .context("libfaketime is needed to run the tests with the clock moved ahead")?;
    found().context("the `faketime` package installed no /usr/bin/faketime")
}

/// The clock as `faketime -f +{days}d` shows it, in seconds since the epoch.
fn faked_now(faketime: &Path, days: u32) -> Result<i64> {
    let out = Command::new(faketime)
        .args(["-f", &format!("+{days}d"), "date", "+%s"])
        .output()
        .context("cannot run faketime")?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .parse()
        .with_context(|| format!("faketime printed `{}`", text.trim()))
}

/// Run the scenario suites with the clock `days` ahead; `env` as for the
/// ordinary test run.
pub(crate) fn run_ahead(days: u32, env: &[(&'static str, OsString)]) -> Result<()> {
    let faketime = ensure_faketime()?;
    // The guard is worth nothing if the clock did not move.
    let real = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let faked = faked_now(&faketime, days)?;
    let moved_days = (faked - real) / 86_400;
    if moved_days + 1 < i64::from(days) {
        bail!("faketime moved the clock {moved_days} days instead of {days}");
    }
    let binaries = test_binaries()?;
    let mut suites: Vec<(String, &Path, &str)> = Vec::new();
    for (package, dir, filter) in SUITES {
        let exe = binaries
            .iter()
            .find(|(src, _)| src.contains(dir))
            .map(|(_, exe)| exe.as_path())
            .with_context(|| format!("no test binary of {package} under {dir}"))?;
        suites.push(((*package).to_owned(), exe, filter));
    }
    // Every first-party plugin's own tests replay its scenario folder.
    for (src, exe) in &binaries {
        if let Some(plugin) = src
            .split("/plugins/")
            .nth(1)
            .and_then(|rest| rest.strip_suffix("/tests/all/main.rs"))
        {
            suites.push((format!("plugin {plugin}"), exe.as_path(), ""));
        }
    }
    for (package, exe, filter) in suites {
        eprintln!("    {package}: `{filter}` with the clock {days} days ahead");
        let mut cmd = Command::new(&faketime);
        cmd.arg("-f")
            .arg(format!("+{days}d"))
            .arg(exe)
            .arg(filter)
            .current_dir(crate::root());
        for (k, v) in env {
            cmd.env(k, v);
        }
        run(&mut cmd).with_context(|| {
            format!(
                "`{filter}` fails with the clock {days} days ahead: something depends on the date"
            )
        })?;
    }
    Ok(())
}

/// The `all` integration test binaries of the workspace, by the directory
/// of their sources. Built as `cargo test --workspace` builds them, so
/// nothing is rebuilt with other features after the test run.
fn test_binaries() -> Result<Vec<(String, PathBuf)>> {
    let out = cargo()
        .args(["test", "--workspace", "--no-run", "--message-format=json"])
        .output()
        .context("cannot run cargo test --no-run")?;
    if !out.status.success() {
        bail!(
            "building the tests failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .filter_map(|m| {
            let src = m["target"]["src_path"].as_str()?.to_owned();
            let exe = m["executable"].as_str()?;
            Some((src, PathBuf::from(exe)))
        })
        .collect())
}
