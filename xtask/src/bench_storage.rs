//! `cargo xtask bench-storage [--quick]`: the ingest and pipeline
//! benchmarks (`host/pipeline/benches`) on SQLite and on PostgreSQL with 1,
//! 2 and 3 replicas, in one run, printed as the table `docs/benchmarks.md`
//! keeps.
//!
//! PostgreSQL is a durable cluster of its own in `target/postgres-bench/`
//! (fsync and synchronous commit on, as a production server has them),
//! started here and stopped at the end; `SHOPCASE_BENCH_DATABASE_URL`
//! names another server instead (a real one, on other machines).
//!
//! Each benchmark runs as its own `cargo bench` process (the `bench`
//! profile, optimised) and appends its figures as a JSON line to a report
//! file, read back here. `--quick` runs each for a few seconds (a check
//! that the command works, not figures to keep).

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::{cargo, done, postgres, run, step, target_dir, wasm_dir};

/// Storage setups measured: backend and replicas.
const SETUPS: &[(&str, u32)] = &[
    ("sqlite", 1),
    ("postgres", 1),
    ("postgres", 2),
    ("postgres", 3),
];

pub(crate) fn run_all(args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    if let Some(other) = args.iter().find(|a| *a != "--quick") {
        anyhow::bail!("unknown option `{other}` (bench-storage takes only --quick)");
    }
    crate::build_plugins()?;
    let given = std::env::var("SHOPCASE_BENCH_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let t = step("PostgreSQL for the benchmarks (durable)");
    let server = match &given {
        Some(_) => {
            eprintln!("    SHOPCASE_BENCH_DATABASE_URL is set: using that database");
            None
        }
        None => Some(postgres::bench_server()?),
    };
    let url = given.unwrap_or_else(|| server.as_ref().map(|s| s.url()).unwrap_or_default());
    done(t);

    let report = target_dir().join("bench-storage.jsonl");
    let _ = std::fs::remove_file(&report);
    let (seconds, events) = if quick {
        ("3", "2000")
    } else {
        ("20", "20000")
    };
    for (backend, replicas) in SETUPS {
        let t = step(&format!("ingest: {backend}, {replicas} replica(s)"));
        run(cargo()
            .args(["bench", "-p", "shopcase-pipeline", "--bench", "ingest"])
            .env("SHOPCASE_BENCH_BACKEND", backend)
            .env("SHOPCASE_BENCH_REPLICAS", replicas.to_string())
            .env("SHOPCASE_BENCH_DATABASE_URL", &url)
            .env("SHOPCASE_BENCH_SECONDS", seconds)
            .env("SHOPCASE_BENCH_CONNECTIONS", "32")
            .env("SHOPCASE_BENCH_REPORT", &report))?;
        done(t);
    }
    for (backend, replicas) in SETUPS {
        let t = step(&format!("pipeline: {backend}, {replicas} replica(s)"));
        run(cargo()
            .args(["bench", "-p", "shopcase-pipeline", "--bench", "pipeline"])
            .env("SHOPCASE_BENCH_BACKEND", backend)
            .env("SHOPCASE_BENCH_REPLICAS", replicas.to_string())
            .env("SHOPCASE_BENCH_DATABASE_URL", &url)
            .env("SHOPCASE_BENCH_EVENTS", events)
            .env("SHOPCASE_BENCH_WORKERS", "2")
            .env("SHOPCASE_BENCH_REPORT", &report)
            .env("SHOPCASE_WASM_DIR", wasm_dir()))?;
        done(t);
    }
    drop(server);
    println!("\n{}", table(&report)?);
    Ok(())
}

/// The figures as a Markdown table.
fn table(report: &Path) -> Result<String> {
    let text = std::fs::read_to_string(report)
        .with_context(|| format!("cannot read {}", report.display()))?;
    let runs: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .with_context(|| format!("{} is not JSON lines", report.display()))?;
    let mut out = String::from(
        "| storage | replicas | ingest (webhooks/s) | ack p50 | ack p99 | ack p99.9 | errors | pipeline (events/s) |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for (backend, replicas) in SETUPS {
        let find = |bench: &str| {
            runs.iter().find(|r| {
                r["bench"] == bench && r["backend"] == *backend && r["replicas"] == *replicas
            })
        };
        let (ingest, pipeline) = (find("ingest"), find("pipeline"));
        let num = |v: Option<&Value>, key: &str, digits: usize| {
            v.and_then(|v| v[key].as_f64())
                .map_or("—".to_owned(), |x| format!("{x:.digits$}"))
        };
        out.push_str(&format!(
            "| {backend} | {replicas} | {} | {} ms | {} ms | {} ms | {} | {} |\n",
            num(ingest, "rate", 0),
            num(ingest, "p50_ms", 2),
            num(ingest, "p99_ms", 2),
            num(ingest, "p999_ms", 2),
            num(ingest, "errors", 0),
            num(pipeline, "rate", 0),
        ));
    }
    Ok(out)
}
