//! `shopcase-battery`: the field battery. Named cases try what operators
//! and attackers do to a served host — forged and replayed webhooks,
//! Shopify and Core Case outages, refused credentials, process kills at
//! every step, hostile plugins, secret hunting, cross-store reaching — each
//! against real processes (`shopcase serve`, `shopcase emulate corecase`,
//! `shopcase emulate shopify`, with TCP proxies to cut the network), and
//! prints what it tried, what happened, and a summary of figures.
//!
//! Run it with `cargo xtask battery` (full size) or `cargo xtask battery
//! --ci` (the reduced size `cargo xtask test` runs). Exit code 0 when every
//! case held, 1 when one did not, 2 when it could not run.
//!
//! # Layout
//! - `procs`: child processes and their logs;
//! - `proxy`: the TCP proxy that takes a service down;
//! - `world`: emulators, proxies and a host on a written configuration;
//! - `cases`: the cases, by group.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

mod cases;
mod procs;
mod proxy;
mod world;

use world::Paths;

/// How big each case is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Size {
    pub(crate) name: &'static str,
    pub(crate) forged: u64,
    pub(crate) replays: u64,
    pub(crate) outage_events: u64,
    pub(crate) outage_secs: u64,
    pub(crate) kills: u64,
    pub(crate) hostile_events: u64,
    pub(crate) backlog: u64,
    pub(crate) anonymous_flood: u64,
    /// Replicas: stores, orders per store, kills, and the mean time
    /// between kills.
    pub(crate) replica_stores: usize,
    pub(crate) replica_orders: u64,
    pub(crate) replica_kills: u64,
    pub(crate) kill_every_ms: u64,
}

impl Size {
    const FULL: Size = Size {
        name: "full",
        forged: 10_000,
        replays: 1_000,
        outage_events: 500,
        outage_secs: 60,
        kills: 200,
        hostile_events: 20,
        backlog: 1_000,
        anonymous_flood: 2_000,
        replica_stores: 50,
        replica_orders: 8,
        replica_kills: 30,
        kill_every_ms: 3_000,
    };
    const CI: Size = Size {
        name: "ci",
        forged: 500,
        replays: 100,
        outage_events: 40,
        outage_secs: 8,
        kills: 12,
        hostile_events: 3,
        backlog: 200,
        anonymous_flood: 700,
        replica_stores: 10,
        replica_orders: 6,
        replica_kills: 6,
        kill_every_ms: 2_500,
    };
}

/// One case's result.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    pub(crate) name: String,
    pub(crate) tried: String,
    pub(crate) happened: String,
    pub(crate) held: bool,
    /// Figures for the summary: `(label, value)`.
    pub(crate) figures: Vec<(String, f64)>,
}

impl Report {
    pub(crate) fn new(name: &str, tried: impl Into<String>) -> Report {
        Report {
            name: name.to_owned(),
            tried: tried.into(),
            happened: String::new(),
            held: true,
            figures: vec![],
        }
    }

    /// Record what happened; the case holds only if every `check` held.
    pub(crate) fn happened(mut self, what: impl Into<String>, held: bool) -> Report {
        self.happened = what.into();
        self.held = self.held && held;
        self
    }

    pub(crate) fn figure(mut self, label: &str, value: f64) -> Report {
        self.figures.push((label.to_owned(), value));
        self
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: shopcase-battery --shopcase BIN --plugins DIR --wasm DIR --scenarios DIR [--ci] [--only TEXT] [--list]"
    );
    std::process::exit(2);
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut shopcase, mut plugins, mut wasm, mut scenarios) = (None, None, None, None);
    let mut size = Size::FULL;
    let mut only: Vec<String> = vec![];
    let mut list = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--shopcase" => shopcase = args.next().map(PathBuf::from),
            "--plugins" => plugins = args.next().map(PathBuf::from),
            "--wasm" => wasm = args.next().map(PathBuf::from),
            "--scenarios" => scenarios = args.next().map(PathBuf::from),
            "--ci" => size = Size::CI,
            "--only" => only.extend(args.next()),
            "--list" => list = true,
            _ => usage(),
        }
    }
    if list {
        for g in cases::GROUPS {
            println!("{}", g.name);
        }
        return ExitCode::SUCCESS;
    }
    let (Some(shopcase), Some(plugins), Some(wasm), Some(scenarios)) =
        (shopcase, plugins, wasm, scenarios)
    else {
        usage()
    };
    let paths = Paths {
        shopcase,
        plugins,
        wasm,
        scenarios,
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("battery: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let mut reports: Vec<Report> = vec![];
    for group in cases::GROUPS {
        if !only.is_empty() && !only.iter().any(|o| group.name.contains(o.as_str())) {
            continue;
        }
        println!("\n== {} ({} size)", group.name, size.name);
        let t = Instant::now();
        match rt.block_on((group.run)(&paths, size)) {
            Ok(rs) => {
                for r in rs {
                    print_report(&r);
                    reports.push(r);
                }
            }
            Err(e) => {
                let r = Report::new(group.name, "the group's setup and cases")
                    .happened(format!("could not run: {e:#}"), false);
                print_report(&r);
                reports.push(r);
            }
        }
        println!("   ({:.1} s)", t.elapsed().as_secs_f64());
    }
    let failed: Vec<&Report> = reports.iter().filter(|r| !r.held).collect();
    println!(
        "\n== summary: {} cases, {} held, {} did not, in {:.0} s ({} size)",
        reports.len(),
        reports.len() - failed.len(),
        failed.len(),
        started.elapsed().as_secs_f64(),
        size.name
    );
    for r in &reports {
        if !r.figures.is_empty() {
            let figures: Vec<String> = r
                .figures
                .iter()
                .map(|(l, v)| format!("{l}: {}", fmt_num(*v)))
                .collect();
            println!("   {:<34} {}", r.name, figures.join(" · "));
        }
    }
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        for r in failed {
            println!("   did not hold: {}", r.name);
        }
        ExitCode::FAILURE
    }
}

fn print_report(r: &Report) {
    println!(
        "[{}] {}\n      tried:    {}\n      happened: {}",
        if r.held { " ok " } else { "FAIL" },
        r.name,
        r.tried,
        r.happened
    );
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        let s = format!("{}", v as i64);
        // Thousands separators, as the docs print them.
        let mut out = String::new();
        for (i, c) in s.chars().rev().enumerate() {
            if i > 0 && i % 3 == 0 && c != '-' {
                out.push(',');
            }
            out.push(c);
        }
        out.chars().rev().collect()
    } else {
        format!("{v:.2}")
    }
}
