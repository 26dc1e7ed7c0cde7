//! `cargo xtask <task>`: the project's two documented commands and their parts.
//!
//! - `demo`: install the Wasm target if missing, build the plugins and the
//!   host, run the demo.
//! - `test`: everything CI runs: formatting, clippy, cargo-deny, the Wasm
//!   components, and every test (the database tests against a PostgreSQL
//!   cluster it starts in `target/postgres/` and stops at the end, unless
//!   `SHOPCASE_TEST_DATABASE_URL` names one).
//! - `build-plugins`: build every Wasm component in the workspace and
//!   package the plugins into `target/plugins/<id>/`.
//! - `bench`: the sandbox benchmarks (release build): Rust plugin against
//!   native, and the per-event cost of each guest language;
//! - `bench-storage [--quick]`: the ingest and pipeline benchmarks on
//!   SQLite and on PostgreSQL with 1, 2 and 3 replicas (a durable cluster
//!   in `target/postgres-bench/`), as one table;
//! - `ahead [DAYS]`: the demo and the scenario end-to-end tests with the
//!   clock moved ahead (400 days by default; `test` runs it too);
//! - `battery [--ci] [--only GROUP]`: the field battery against served
//!   processes (full size; `test` runs it at the reduced size);
//! - `schema`: the host's GraphQL documents against Shopify's published
//!   Admin schemas, per API version (`test` runs it);
//! - `postgres start|stop|url`: the throwaway PostgreSQL cluster `test`
//!   runs the database tests against (`target/postgres/`), by hand: start
//!   it and print `export SHOPCASE_TEST_DATABASE_URL=...`, stop it, or
//!   print the URL of the running one.
//!
//! It installs what it needs (the `wasm32-wasip2` target through rustup;
//! Node, npm and pip packages inside `target/guest-tools/` for the
//! JavaScript and Python examples; clang and wasi-libc through apt for C;
//! Chromium and PostgreSQL through apt for the tests) and says exactly what
//! is missing when it cannot.
//!
//! # Layout
//! - this file: the tasks;
//! - `guests`: toolchains and builds of non-Rust (and Rust) guest examples;
//! - `browser`: Chromium for the admin page's end-to-end test;
//! - `postgres`: the PostgreSQL server for the database tests;
//! - `bench_guests`: the per-language per-event benchmark;
//! - `bench_storage`: the storage benchmarks' matrix;
//! - `ahead`: the calendar guard (libfaketime);
//! - `deny`: licenses, bans and sources of the dependency tree (cargo-deny);
//! - `battery`: the field battery (`host/battery`);
//! - `schema`: the host's GraphQL documents against Shopify's published
//!   Admin schemas (`test`).

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

mod ahead;
mod battery;
mod bench_guests;
mod bench_storage;
mod browser;
mod deny;
mod guests;
mod postgres;
mod schema;

use guests::{Guests, Lang};

const WASM_TARGET: &str = "wasm32-wasip2";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("help");
    let result = match task {
        "test" => test(),
        "demo" => demo(&args[1..]),
        "build-plugins" => build_plugins().map(drop),
        "bench" => bench(&args[1..]),
        "bench-guests" => bench_guests_task(),
        "bench-storage" => bench_storage::run_all(&args[1..]),
        "ahead" => ahead_task(&args[1..]),
        "deny" => deny::check(),
        "battery" => build_plugins().and_then(|_| battery::run_battery(&args[1..], None)),
        "postgres" => postgres::task(&args[1..]),
        "schema" => {
            let guests = Guests::new(root());
            guests
                .install(&[Lang::Js])
                .and_then(|()| schema::check(&guests))
        }
        "help" | "--help" | "-h" => {
            help();
            Ok(())
        }
        other => {
            help();
            Err(anyhow::anyhow!("unknown task `{other}`"))
        }
    };
    if let Err(e) = result {
        eprintln!("\nxtask {task} failed: {e:#}");
        std::process::exit(1);
    }
}

fn help() {
    eprintln!(
        "usage: cargo xtask <task>\n\n  demo            build plugins and host, run the demo\n  test            everything CI runs (fmt, clippy, components, tests)\n  build-plugins   build and package every Wasm component\n  bench           sandbox benchmarks (release)\n  bench-storage [--quick]\n                  ingest and pipeline benchmarks on SQLite and on PostgreSQL with 1, 2, 3 replicas (release)\n  ahead [DAYS]    the demo and scenario tests with the clock moved ahead (default 400 days)\n  deny            licenses, bans and sources of the dependency tree (cargo-deny)\n  battery [--ci]  the field battery: attacks, outages and kills against served processes (full size; --ci reduced)\n  schema          the host's GraphQL documents against Shopify's published Admin schemas\n  postgres start|stop|url\n                  the tests' PostgreSQL cluster in target/postgres: start it (prints the export line), stop it, print its URL"
    );
}

/// The workspace root (xtask lives in `<root>/xtask`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_owned)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// Where the packaged plugins go: `target/plugins/<id>/{plugin.toml,<id>.wasm}`.
fn plugins_out() -> PathBuf {
    target_dir().join("plugins")
}

fn wasm_dir() -> PathBuf {
    target_dir().join(WASM_TARGET).join("plugin")
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

fn step(name: &str) -> Instant {
    eprintln!("\n==> {name}");
    Instant::now()
}

fn done(start: Instant) {
    eprintln!("    ({:.1} s)", start.elapsed().as_secs_f64());
}

fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

/// Make sure `rustup target add wasm32-wasip2` has been done.
fn ensure_wasm_target() -> Result<()> {
    let sysroot = Command::new("rustc").args(["--print", "sysroot"]).output();
    if let Ok(out) = &sysroot {
        let lib = Path::new(String::from_utf8_lossy(&out.stdout).trim())
            .join("lib/rustlib")
            .join(WASM_TARGET);
        if lib.exists() {
            return Ok(());
        }
    }
    eprintln!("    installing the {WASM_TARGET} target with rustup");
    let status = Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .status();
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => bail!(
            "`rustup target add {WASM_TARGET}` failed ({s}). Plugins are built for {WASM_TARGET}: install it with rustup, or from your distribution's Rust packages."
        ),
        Err(e) => bail!(
            "rustup is not available ({e}). Plugins are built for {WASM_TARGET}: install rustup (https://rustup.rs) and run `rustup target add {WASM_TARGET}`."
        ),
    }
}

/// Workspace crates that are Wasm guests: plugins, Rust examples, test programs.
fn guest_crates() -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for group in ["plugins", "examples/rust", "tests/programs"] {
        let dir = root().join(group);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut dirs: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        dirs.sort();
        for d in dirs {
            let manifest = d.join("Cargo.toml");
            if !manifest.exists() {
                continue;
            }
            let text = std::fs::read_to_string(&manifest)?;
            let value: toml::Table =
                toml::from_str(&text).with_context(|| manifest.display().to_string())?;
            let name = value
                .get("package")
                .and_then(|p| p.get("name"))
                .and_then(|n| n.as_str())
                .with_context(|| format!("{}: no package name", manifest.display()))?;
            out.push((name.to_owned(), d));
        }
    }
    Ok(out)
}

/// Build every guest component; package those with a `plugin.toml`.
fn build_plugins() -> Result<Vec<PathBuf>> {
    ensure_wasm_target()?;
    let crates = guest_crates()?;
    let t = step(&format!(
        "building {} Wasm components ({WASM_TARGET}, profile `plugin`)",
        crates.len()
    ));
    let mut cmd = cargo();
    cmd.args(["build", "--target", WASM_TARGET, "--profile", "plugin"]);
    for (name, _) in &crates {
        cmd.args(["-p", name]);
    }
    run(&mut cmd)?;
    done(t);

    let t = step(&format!(
        "packaging plugins into {}",
        plugins_out().display()
    ));
    let mut packaged = Vec::new();
    for (name, dir) in &crates {
        let source = dir.join("plugin.toml");
        if !source.exists() {
            continue;
        }
        let wasm = wasm_dir().join(format!("{}.wasm", name.replace('-', "_")));
        let manifest = shopcase_contract::Manifest::load(&source)?;
        let out = plugins_out().join(&manifest.id);
        let path = shopcase_contract::manifest::package(&source, &wasm, &out)?;
        let size = std::fs::metadata(&wasm).map(|m| m.len()).unwrap_or(0);
        eprintln!(
            "    {:<24} {:>8} KB  {}",
            manifest.id,
            size / 1024,
            path.display()
        );
        packaged.push(path);
    }
    done(t);
    Ok(packaged)
}

fn test() -> Result<()> {
    let total = Instant::now();
    let t = step("cargo fmt --check");
    run(cargo().args(["fmt", "--all", "--", "--check"]))
        .context("formatting differs: run `cargo fmt --all`")?;
    done(t);

    let t = step("cargo clippy --all-targets -- -D warnings");
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    done(t);

    let t = step("cargo deny check licenses bans sources");
    deny::check()?;
    done(t);

    build_plugins()?;

    // The example plugin in every language, built with toolchains installed
    // inside the repository, and the JS/Python SDKs' own tests.
    let guests = Guests::new(root());
    let t = step("guest toolchains (JavaScript, Python, C)");
    guests.install(&Lang::ALL)?;
    done(t);
    let t = step("building the example plugin in every language");
    for b in guests.build_examples(&Lang::ALL)? {
        eprintln!(
            "    {:<12} {:>8} KB  {}",
            b.lang.to_string(),
            b.bytes / 1024,
            b.manifest.display()
        );
    }
    done(t);
    let t = step("JavaScript and Python SDK tests");
    guests.test_sdks()?;
    done(t);

    let t = step("GraphQL documents against Shopify's published Admin schemas");
    schema::check(&guests)?;
    done(t);

    let t = step("Chromium for the admin page's browser test");
    let chromium = browser::ensure_chromium()?;
    done(t);

    // Stopped when dropped: after the battery, or on the way out of a
    // failed step.
    let t = step("PostgreSQL for the database tests");
    let database = postgres::ensure_postgres()?;
    done(t);

    let t = step("cargo test --workspace");
    let mut env = test_env();
    env.extend(guests.test_env());
    env.extend(browser::test_env(&chromium));
    env.extend(database.test_env());
    let mut cmd = cargo();
    cmd.args(["test", "--workspace", "--no-fail-fast"])
        .envs(env.iter().map(|(k, v)| (k, v)));
    run(&mut cmd)?;
    done(t);

    let t = step(&format!(
        "the demo and the scenario tests with the clock {} days ahead (libfaketime)",
        ahead::DAYS_AHEAD
    ));
    ahead::run_ahead(ahead::DAYS_AHEAD, &env)?;
    done(t);

    battery::run_battery(&["--ci".to_owned()], Some(&database))?;
    drop(database);

    eprintln!(
        "\nall checks passed in {:.0} s",
        total.elapsed().as_secs_f64()
    );
    Ok(())
}

/// What every test run needs: the built components.
fn test_env() -> Vec<(&'static str, std::ffi::OsString)> {
    vec![
        ("SHOPCASE_WASM_DIR", wasm_dir().into_os_string()),
        ("SHOPCASE_PLUGINS_DIR", plugins_out().into_os_string()),
    ]
}

/// `ahead [DAYS]`: the calendar guard on its own.
fn ahead_task(args: &[String]) -> Result<()> {
    let days = match args.first() {
        Some(d) => d
            .parse()
            .with_context(|| format!("`{d}` is not a number of days"))?,
        None => ahead::DAYS_AHEAD,
    };
    build_plugins()?;
    let t = step(&format!(
        "the demo and the scenario tests with the clock {days} days ahead (libfaketime)"
    ));
    ahead::run_ahead(days, &test_env())?;
    done(t);
    Ok(())
}

fn demo(args: &[String]) -> Result<()> {
    build_plugins()?;
    let t = step("building the host");
    run(cargo().args(["build", "-p", "shopcase"]))?;
    done(t);
    let exe = target_dir().join("debug/shopcase");

    let t = step("shopcase demo: every scenario from webhook to Core Case and back to Shopify");
    run(Command::new(&exe)
        .current_dir(root())
        .arg("demo")
        .arg("--plugins")
        .arg(plugins_out())
        .arg("--scenarios")
        .arg(root().join("examples/events/scenarios"))
        .args(args))?;
    done(t);
    Ok(())
}

fn bench(args: &[String]) -> Result<()> {
    build_plugins()?;
    let t = step("sandbox benchmark: Rust plugin, sandboxed vs native (release)");
    run(cargo()
        .args([
            "bench",
            "-p",
            "shopcase-sandbox",
            "--bench",
            "sandbox",
            "--",
        ])
        .args(args)
        .env("SHOPCASE_WASM_DIR", wasm_dir()))?;
    done(t);

    let guests = Guests::new(root());
    guests.install(&Lang::ALL)?;
    guests.build_examples(&Lang::ALL)?;
    let t = step("per-event cost of each guest language (release)");
    // The measurement itself runs in an optimised build of this tool.
    run(cargo().args([
        "run",
        "--release",
        "--quiet",
        "-p",
        "xtask",
        "--",
        "bench-guests",
    ]))?;
    done(t);
    Ok(())
}

/// `bench-guests`: measure the four built examples (called by `bench` in a
/// release build of the xtask).
fn bench_guests_task() -> Result<()> {
    let guests = Guests::new(root());
    let plugins: Vec<(Lang, PathBuf)> = Lang::ALL
        .iter()
        .map(|&l| (l, guests.example_manifest(l)))
        .collect();
    let config = bench_guests::BenchConfig {
        warmup: 50,
        iterations: 500,
        cache_dir: target_dir().join("shopcase-cache"),
        runtime: shopcase_sandbox::RuntimeConfig::default(),
    };
    let event = root().join("examples/fixtures/high-value-order/events/realistic-order.json");
    let measurements = bench_guests::bench(&plugins, &event, &config)?;
    println!("{}", bench_guests::report(&measurements, &config));
    Ok(())
}
