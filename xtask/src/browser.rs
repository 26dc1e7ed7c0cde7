//! Headless Chromium for the admin page's end-to-end test
//! (`host/admin/tests/all/browser.rs`, which drives it over the DevTools
//! protocol on a pipe: no Node, no Playwright download).
//!
//! `test` calls [`ensure_chromium`] before `cargo test` and passes
//! [`test_env`] to it, so the browser test runs (and fails loudly rather
//! than skipping) on a fresh clone.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Where Debian's `chromium` package puts the browser.
const DEBIAN_CHROMIUM: &str = "/usr/bin/chromium";

/// The Chromium to test with: `SHOPCASE_CHROMIUM` if set, else
/// `/usr/bin/chromium` (or another usual path); when missing, Debian's
/// `chromium` package is installed with apt-get if running as root, and
/// otherwise the error says what to install.
pub(crate) fn ensure_chromium() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("SHOPCASE_CHROMIUM") {
        let p = PathBuf::from(p);
        if p.exists() {
            return Ok(p);
        }
        bail!(
            "SHOPCASE_CHROMIUM={} does not exist; unset it to use {DEBIAN_CHROMIUM}",
            p.display()
        );
    }
    if let Some(p) = find() {
        return Ok(p);
    }
    let apt = Path::new("/usr/bin/apt-get").exists();
    if !apt {
        bail!(
            "Chromium is needed for the admin page's browser test and was not found. \
             Install Chromium (Debian/Ubuntu: `apt-get install chromium`) or point \
             SHOPCASE_CHROMIUM at a Chromium or Chrome binary."
        );
    }
    if !is_root() {
        bail!(
            "Chromium is needed for the admin page's browser test and was not found. \
             Install it with `sudo apt-get install chromium` (or point SHOPCASE_CHROMIUM at \
             a Chromium or Chrome binary), then run `cargo xtask test` again."
        );
    }
    eprintln!("    installing Chromium (Debian package `chromium`) with apt-get");
    let apt = |args: &[&str]| -> Result<()> {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .context("cannot run apt-get")?;
        if !status.success() {
            bail!("`apt-get {}` failed ({status})", args.join(" "));
        }
        Ok(())
    };
    apt(&["update", "-q"])?;
    apt(&["install", "-y", "-q", "--no-install-recommends", "chromium"])
        .context("installing Debian's `chromium` failed (is the Debian mirror reachable?)")?;
    find().with_context(|| {
        format!("apt-get installed `chromium` but {DEBIAN_CHROMIUM} is still missing")
    })
}

/// The environment for `cargo test` so the browser test uses `chromium`
/// and fails (instead of skipping) if it cannot.
pub(crate) fn test_env(chromium: &Path) -> Vec<(&'static str, OsString)> {
    vec![
        ("SHOPCASE_CHROMIUM", chromium.as_os_str().to_owned()),
        ("SHOPCASE_REQUIRE_BROWSER", OsString::from("1")),
    ]
}

fn find() -> Option<PathBuf> {
    [
        DEBIAN_CHROMIUM,
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
        "/usr/bin/google-chrome-stable",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == "0")
}
