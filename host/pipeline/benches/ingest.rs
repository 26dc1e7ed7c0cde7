//! Ingest benchmark: signed webhooks over loopback, each verified (HMAC),
//! durably committed (SQLite WAL, `synchronous = FULL`, group commit; or
//! PostgreSQL, committed before the answer) and acknowledged with 200,
//! driven by the project's own load generator: many concurrent keep-alive
//! HTTP/1.1 connections sending pre-signed ~4 KB orders with unique webhook
//! ids, spread round-robin over the replicas.
//!
//! Run: `cargo bench -p shopcase-pipeline --bench ingest`
//! Knobs (environment): `SHOPCASE_BENCH_SECONDS` (measured, default 10),
//! `SHOPCASE_BENCH_WARMUP` (seconds, default 2), `SHOPCASE_BENCH_CONNECTIONS`
//! (default 64), `SHOPCASE_BENCH_SYNC` (SQLite: `full` or `normal`),
//! `SHOPCASE_BENCH_BACKEND` / `_REPLICAS` / `_POOL` / `_DATABASE_URL` /
//! `_REPORT` (see `common::Backend` and `common::report`).
//!
//! Prints sustained webhooks/s and ack latency percentiles as measured by
//! the client (request sent → response received).

// The realistic order in `common` is one large `json!` literal.
#![recursion_limit = "256"]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use shopcase_pipeline::ingress::{headers, hmac};
use shopcase_pipeline::{Config, PipelineBuilder};

const SHOP: &str = "bench.myshopify.com";
const SECRET: &str = "bench-secret";

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks; nothing to list.
    }
    let seconds = common::setting("SECONDS", 10, 1);
    let warmup = common::setting("WARMUP", 2, 0);
    let connections = common::setting("CONNECTIONS", 64, 4) as usize;
    let sync = std::env::var("SHOPCASE_BENCH_SYNC").unwrap_or_else(|_| "full".into());

    let backend = common::Backend::from_env();
    let replicas = backend.replicas;

    // Each replica is a host on its own runtime (2 worker threads, as
    // `shopcase serve` runs it) and its own directory; with PostgreSQL they
    // share one schema, as replicas behind a load balancer do.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut hosts = Vec::new();
    for r in 0..replicas {
        let home = dir.path().join(format!("replica-{r}"));
        std::fs::create_dir_all(&home).expect("replica dir");
        let storage = backend.storage_toml(&home, &format!("synchronous = \"{sync}\""));
        let config_text = format!(
            r#"
data-dir = "data"
[server]
max-body-bytes = 1048576
{storage}
[dispatcher]
workers = 0
[[stores]]
domain = "{SHOP}"
webhook-secret = "{SECRET}"
"#
        );
        let path = home.join("shopcase.toml");
        std::fs::write(&path, config_text).expect("config");
        let config = Config::load(&path).expect("config");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let running = rt.block_on(async {
            let p = PipelineBuilder::new(config)
                .build()
                .await
                .expect("pipeline");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            p.spawn(listener)
        });
        hosts.push((rt, running));
    }
    let addrs: Vec<std::net::SocketAddr> = hosts.iter().map(|(_, r)| r.addr()).collect();

    // Pre-signed bodies (the signature covers the body only; webhook ids
    // are unique per request).
    let bodies: Arc<Vec<(Bytes, String)>> = Arc::new(
        (0..512u64)
            .map(|i| {
                let body = serde_json::to_vec(&common::order_payload(i, "ok")).expect("json");
                let sig = hmac::sign(SECRET.as_bytes(), &body);
                (Bytes::from(body), sig)
            })
            .collect(),
    );
    let avg = bodies.iter().map(|b| b.0.len()).sum::<usize>() / bodies.len();

    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let (latencies, errors, elapsed) =
        client_rt.block_on(load(&addrs, bodies, connections, warmup, seconds));

    let mut lat = latencies;
    lat.sort_unstable();
    let n = lat.len() as f64;
    let rate = n / elapsed.as_secs_f64();
    let ms = |us: u64| us as f64 / 1000.0;
    let storage_label = if backend.name() == "sqlite" {
        format!("sqlite, synchronous={sync}")
    } else {
        format!("postgres, {replicas} replica(s)")
    };
    println!(
        "ingest: {storage_label}, {connections} connections, {avg} B orders, {seconds} s measured after {warmup} s warm-up"
    );
    println!(
        "  sustained: {rate:.0} webhooks/s ({} acknowledged, {errors} errors)",
        lat.len()
    );
    let p = |q: f64| ms(common::percentile(&lat, q));
    println!(
        "  ack latency: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
        p(50.0),
        p(90.0),
        p(99.0),
        p(99.9),
        ms(lat.last().copied().unwrap_or(0))
    );
    let (rt0, running0) = &hosts[0];
    let stored = rt0.block_on(async {
        running0
            .storage()
            .stats(shopcase_contract::time::Timestamp::now())
            .await
            .map(|s| s.pending)
            .unwrap_or(0)
    });
    println!("  events in the inbox: {stored}");
    common::report(serde_json::json!({
        "bench": "ingest", "backend": backend.name(), "replicas": replicas,
        "connections": connections, "seconds": seconds, "rate": rate,
        "acknowledged": lat.len(), "errors": errors, "stored": stored,
        "p50_ms": p(50.0), "p90_ms": p(90.0), "p99_ms": p(99.0), "p999_ms": p(99.9),
    }));
    for (rt, running) in hosts {
        rt.block_on(async { running.shutdown().await })
            .expect("shutdown");
    }
}

/// Drive `connections` keep-alive connections (spread over `addrs`); returns the latencies (µs)
/// of requests completed in the measured window, the error count, and the
/// window's length.
async fn load(
    addrs: &[std::net::SocketAddr],
    bodies: Arc<Vec<(Bytes, String)>>,
    connections: usize,
    warmup: u64,
    seconds: u64,
) -> (Vec<u64>, u64, Duration) {
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(warmup);
    let stop_at = measure_from + Duration::from_secs(seconds);
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (bodies, stop) = (bodies.clone(), stop.clone());
        // Round-robin over the replicas, as a load balancer spreads
        // connections.
        let addr = addrs[c % addrs.len()];
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
            stream.set_nodelay(true).ok();
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .expect("handshake");
            tokio::spawn(conn);
            let mut lat = Vec::with_capacity(1 << 16);
            let mut errors = 0u64;
            let mut i = c as u64;
            while !stop.load(Ordering::Relaxed) {
                let (body, sig) = &bodies[(i % bodies.len() as u64) as usize];
                let req = http::Request::post("/webhooks/shopify")
                    .header("host", "bench")
                    .header("content-type", "application/json")
                    .header(headers::TOPIC, "orders/create")
                    .header(headers::SHOP_DOMAIN, SHOP)
                    .header(headers::API_VERSION, "2026-07")
                    .header(headers::WEBHOOK_ID, format!("bench-{c}-{i}"))
                    .header(headers::EVENT_ID, format!("ev-{c}-{i}"))
                    .header(headers::HMAC, sig.as_str())
                    .body(Full::new(body.clone()))
                    .expect("request");
                let sent = Instant::now();
                match sender.send_request(req).await {
                    Ok(resp) => {
                        let ok = resp.status() == 200;
                        let _ = resp.into_body().collect().await;
                        let done = Instant::now();
                        if !ok {
                            errors += 1;
                        } else if sent >= measure_from && done <= stop_at {
                            lat.push(done.duration_since(sent).as_micros() as u64);
                        }
                    }
                    Err(_) => {
                        errors += 1;
                        break;
                    }
                }
                i += connections as u64;
            }
            (lat, errors)
        }));
    }
    tokio::time::sleep_until(stop_at.into()).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            all.extend(l);
            errors += e;
        }
    }
    (all, errors, Duration::from_secs(seconds))
}
