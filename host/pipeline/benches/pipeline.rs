//! Pipeline benchmark: events already in the inbox are claimed, run through
//! a real plugin (the hostile test component's "ok" behaviour, which parses
//! the ~4 KB order and returns a tags-add) in a fresh sandbox each, and
//! their actions journalled, until the inbox is empty.
//!
//! Run: `cargo bench -p shopcase-pipeline --bench pipeline`
//! (needs the test component: `cargo xtask build-plugins`).
//! Knobs (environment): `SHOPCASE_BENCH_EVENTS` (default 20000),
//! `SHOPCASE_BENCH_WORKERS` (dispatcher workers, default 2),
//! `SHOPCASE_BENCH_BATCH` (events per claim, default 64),
//! `SHOPCASE_BENCH_PLUGINS` (plugins enabled per event, default 1),
//! `SHOPCASE_BENCH_BACKEND` / `_REPLICAS` / `_POOL` / `_DATABASE_URL` /
//! `_REPORT` (see `common::Backend` and `common::report`). With several
//! replicas the inbox is filled once and every replica's dispatcher drains
//! it; the run ends when no event is pending.

// The realistic order in `common` is one large `json!` literal.
#![recursion_limit = "256"]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::StreamExt;
use shopcase_admin::{Admin, EnableRequest};
use shopcase_contract::Resources;
use shopcase_contract::time::Timestamp;
use shopcase_pipeline::{Config, PipelineBuilder};
use shopcase_store::{ActionFamily, EventSource, EventStatus, JournalStatus, NewEvent};

const SHOP: &str = "bench.myshopify.com";

fn wasm() -> PathBuf {
    let dir = std::env::var_os("SHOPCASE_WASM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/wasm32-wasip2/plugin")
        });
    let p = dir.join("hostile.wasm");
    assert!(
        p.exists(),
        "{} is missing: build the test components first with `cargo xtask build-plugins`",
        p.display()
    );
    p
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let events = common::setting("EVENTS", 20_000, 200);
    let workers = common::env_or("WORKERS", 2);
    let batch = common::env_or("BATCH", 64);
    let plugins = common::env_or("PLUGINS", 1);

    let dir = tempfile::tempdir().expect("tempdir");
    for n in 0..plugins {
        let src = dir.path().join(format!("src-{n}.toml"));
        std::fs::write(
            &src,
            format!(
                "[plugin]\nid = \"tagger-{n}\"\nversion = \"1.0.0\"\napi = \"0.1.0\"\ntopics = [\"orders/create\"]\n\n[grants]\nactions = [\"tags-add\"]\nhost = [\"log\", \"settings\"]\n"
            ),
        )
        .expect("manifest");
        shopcase_contract::manifest::package(
            &src,
            &wasm(),
            &dir.path().join("plugins").join(format!("tagger-{n}")),
        )
        .expect("package");
    }
    let backend = common::Backend::from_env();
    let replicas = backend.replicas;

    // Each replica is a host on its own runtime (2 worker threads, as
    // `shopcase serve` runs it) and its own directory, sharing the plugins;
    // with PostgreSQL they share one schema, as replicas behind a load
    // balancer do.
    let mut hosts = Vec::new();
    for r in 0..replicas {
        let home = dir.path().join(format!("replica-{r}"));
        std::fs::create_dir_all(&home).expect("replica dir");
        let storage = backend.storage_toml(&home, "");
        let path = home.join("shopcase.toml");
        std::fs::write(
            &path,
            format!(
                "data-dir = \"data\"\nplugins-dir = \"../plugins\"\n{storage}\n[sandbox]\nmax-concurrent = 4\n[dispatcher]\nworkers = {workers}\nbatch = {batch}\n\n[[stores]]\ndomain = \"{SHOP}\"\nwebhook-secret = \"s\"\n"
            ),
        )
        .expect("config");
        let config = Config::load(&path).expect("config");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let pipeline = rt.block_on(async {
            PipelineBuilder::new(config.clone())
                .build()
                .await
                .expect("pipeline")
        });
        hosts.push((rt, config, pipeline));
    }

    let (rt0, config0, pipeline0) = &hosts[0];
    let storage = pipeline0.storage();
    rt0.block_on(async {
        let admin = Admin::new(storage.clone(), config0);
        for n in 0..plugins {
            admin
                .enable(EnableRequest {
                    shop: SHOP.into(),
                    plugin: format!("tagger-{n}"),
                    version: None,
                    settings: vec![],
                    actor: "bench".into(),
                })
                .await
                .expect("enable");
        }
        // Fill the inbox (not measured).
        futures::stream::iter(0..events)
            .map(|i| {
                let storage = storage.clone();
                async move {
                    let payload = common::order_payload(i, "ok");
                    storage
                        .insert_event(NewEvent {
                            shop: SHOP.into(),
                            topic: "orders/create".into(),
                            source: EventSource::Shopify,
                            dedupe_key: format!("bench-{i}"),
                            shopify_event_id: None,
                            api_version: "2026-07".into(),
                            triggered_at: Timestamp::now(),
                            received_at: Timestamp::now(),
                            resources: Resources::from_shopify("orders/create", &payload),
                            payload: payload.to_string(),
                            target_plugin: None,
                            status: EventStatus::Pending,
                            body_sha256: None,
                        })
                        .await
                        .expect("insert");
                }
            })
            .buffer_unordered(256)
            .collect::<Vec<()>>()
            .await;
    });
    let payload_bytes = serde_json::to_vec(&common::order_payload(0, "ok"))
        .expect("json")
        .len();

    let started = Instant::now();
    let running: Vec<_> = hosts
        .into_iter()
        .map(|(rt, _, pipeline)| {
            let running = rt.block_on(async {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                pipeline.spawn(listener)
            });
            (rt, running)
        })
        .collect();
    let (rt0, running0) = &running[0];
    let storage = running0.storage().clone();
    let (elapsed, journalled) = rt0.block_on(async {
        loop {
            let s = storage.stats(Timestamp::now()).await.expect("stats");
            if s.pending == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let elapsed = started.elapsed();
        let journal = storage.journal_stats().await.expect("journal");
        (
            elapsed,
            journal.count(ActionFamily::Shopify, JournalStatus::Pending),
        )
    });
    let runs = events * plugins;
    let rate = events as f64 / elapsed.as_secs_f64();
    let storage_label = if backend.name() == "sqlite" {
        "sqlite".to_owned()
    } else {
        format!("postgres, {replicas} replica(s)")
    };
    println!(
        "pipeline: {storage_label}, {events} events × {plugins} plugin(s), {payload_bytes} B orders, {workers} workers per replica, batch {batch}"
    );
    println!(
        "  {rate:.0} events/s ({:.0} plugin runs/s), {:.2} s in all (including the plugin's first load)",
        runs as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    println!("  actions journalled: {journalled} (expected {runs})");
    let m = running0.metrics().render(None);
    if let Some(line) = m
        .lines()
        .find(|l| l.starts_with("shopcase_dispatch_latency_seconds_count"))
    {
        println!("  replica 0: {line}");
    }
    assert_eq!(journalled, runs, "every run journalled exactly once");
    common::report(serde_json::json!({
        "bench": "pipeline", "backend": backend.name(), "replicas": replicas,
        "events": events, "plugins": plugins, "workers": workers, "batch": batch,
        "rate": rate, "seconds": elapsed.as_secs_f64(), "journalled": journalled,
    }));
    for (rt, running) in running {
        rt.block_on(async { running.shutdown().await })
            .expect("shutdown");
    }
}
