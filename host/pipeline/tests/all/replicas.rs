//! Several replicas on one PostgreSQL schema (from
//! `SHOPCASE_TEST_DATABASE_URL`, as the storage suite): an event received
//! by one is dispatched by another, woken by `NOTIFY` long before its poll;
//! each singleton runs on one replica, the other takes it over when the
//! first stops; `/readyz` and `/metrics` say which replica holds what. And
//! on SQLite, the one process holds every role.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;
use shopcase_pipeline::{BackgroundTask, EventProducer, RunningPipeline};
use shopcase_store::{PostgresConfig, PostgresStorage, Storage};
use tokio::sync::watch;

use crate::support::*;

/// A schema of its own in the test database, dropped at the end (or by the
/// storage suite's sweep, if the process dies first: same name pattern).
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    async fn create() -> Schema {
        static N: AtomicU64 = AtomicU64::new(0);
        let url = std::env::var("SHOPCASE_TEST_DATABASE_URL").unwrap_or_else(|_| {
            panic!(
                "the replica tests need PostgreSQL: set SHOPCASE_TEST_DATABASE_URL \
                 (postgres://user@host:port/database, where the tests may create schemas), \
                 or run `cargo xtask postgres start` (or `cargo xtask test`)"
            )
        });
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "t_{}_replicas{}_{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        admin(&url)
            .await
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .await
            .unwrap();
        Schema { url, name }
    }

    /// A storage of its own on the schema, as a replica has.
    async fn storage(&self) -> PostgresStorage {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        PostgresStorage::connect(&PostgresConfig {
            pool_size: 4,
            ..PostgresConfig::new(format!(
                "{}{sep}options=-c%20search_path%3D{}",
                self.url, self.name
            ))
        })
        .await
        .unwrap()
    }
}

async fn admin(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
}

impl Drop for Schema {
    fn drop(&mut self) {
        // From a thread of its own: the test's runtime may be going.
        let (url, name) = (self.url.clone(), self.name.clone());
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async move {
                    let _ = admin(&url)
                        .await
                        .batch_execute(&format!(
                            "SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS {name} CASCADE"
                        ))
                        .await;
                })
        });
    }
}

/// The dispatcher polls every minute: within a test, only a wake-up can
/// explain a prompt dispatch.
fn slow_poll(workers: usize) -> String {
    config_text(&format!("workers = {workers}")).replacen(
        "poll-interval = \"50ms\"",
        "poll-interval = \"60s\"",
        1,
    )
}

async fn get_json(client: &reqwest::Client, running: &RunningPipeline, path: &str) -> Value {
    client
        .get(format!("http://{}{path}", running.addr()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn roles(client: &reqwest::Client, running: &RunningPipeline) -> BTreeSet<String> {
    let ready = get_json(client, running, "/readyz").await;
    ready["roles"]
        .as_array()
        .unwrap_or_else(|| panic!("no roles in {ready}"))
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect()
}

async fn metrics(client: &reqwest::Client, running: &RunningPipeline) -> String {
    client
        .get(format!("http://{}/metrics", running.addr()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_received_by_one_replica_is_dispatched_by_another_woken_at_once() {
    let schema = Schema::create().await;
    // A receives but does not dispatch; B dispatches; both poll every
    // minute.
    let host_a = Host::with_config(&slow_poll(0));
    let host_b = Host::with_config(&slow_poll(1));
    for h in [&host_a, &host_b] {
        h.add_plugin(&PluginSpec::new("tagger"));
    }
    let (storage_a, storage_b) = (schema.storage().await, schema.storage().await);
    let running_a = host_a
        .start_with(|b| b.storage(Arc::new(storage_a.clone())))
        .await;
    let running_b = host_b
        .start_with(|b| b.storage(Arc::new(storage_b.clone())))
        .await;
    let s = running_b.storage().clone();
    host_b.enable(&s, SHOP_A, "tagger", &[]).await;
    eventually("B listens for wake-ups", || async {
        storage_b.listener_pid().is_some()
    })
    .await;

    let client = reqwest::Client::new();
    // A first event through B itself, so that the plugin is compiled (a
    // cold compile is slow on a busy machine) before the timing counts.
    let (status, body) = post(
        &client,
        &running_b.webhook_url(),
        &Delivery::order(SHOP_A, SECRET_A, "w-0", order(0, "ok")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let first = body["event_id"].as_str().unwrap().to_owned();
    eventually("B dispatched its own event", || is_done(&s, &first)).await;

    let started = std::time::Instant::now();
    let (status, body) = post(
        &client,
        &running_a.webhook_url(),
        &Delivery::order(SHOP_A, SECRET_A, "w-1", order(1, "ok")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let id = body["event_id"].as_str().unwrap().to_owned();
    eventually("B dispatched A's event", || is_done(&s, &id)).await;
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "dispatched after {:?}: the poll, not the wake-up",
        started.elapsed()
    );
    // B ran both (A has no dispatcher worker).
    assert!(
        metrics(&client, &running_b)
            .await
            .lines()
            .any(|l| l == "shopcase_plugin_runs_total{plugin=\"tagger\",outcome=\"ok\"} 2")
    );
    running_a.shutdown().await.unwrap();
    running_b.shutdown().await.unwrap();
}

/// A singleton that counts its passes.
#[derive(Debug, Default)]
struct Counting {
    passes: AtomicU64,
}

#[async_trait::async_trait]
impl BackgroundTask for Counting {
    fn name(&self) -> &'static str {
        "counting"
    }

    fn singleton(&self) -> bool {
        true
    }

    async fn run(self: Arc<Self>, _producer: EventProducer, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            self.passes.fetch_add(1, Ordering::SeqCst);
            shopcase_host_api::idle(&mut shutdown, Duration::from_millis(10), None).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_singleton_runs_on_one_replica_and_moves_when_it_stops() {
    let schema = Schema::create().await;
    let all = BTreeSet::from(["counting", "retention", "timers"].map(String::from));
    let host_a = Host::new(1);
    let host_b = Host::new(1);
    let (count_a, count_b) = (Arc::new(Counting::default()), Arc::new(Counting::default()));
    let storage_a: Arc<dyn Storage> = Arc::new(schema.storage().await);
    let running_a = host_a
        .start_with(|b| b.storage(storage_a).background(count_a.clone()))
        .await;
    let client = reqwest::Client::new();
    // A alone takes every role.
    eventually("A holds every role", || async {
        roles(&client, &running_a).await == all
    })
    .await;
    let storage_b: Arc<dyn Storage> = Arc::new(schema.storage().await);
    let running_b = host_b
        .start_with(|b| b.storage(storage_b).background(count_b.clone()))
        .await;
    // B contends for each and holds none while A runs.
    eventually("B's roles are in its metrics", || async {
        let text = metrics(&client, &running_b).await;
        all.iter()
            .all(|r| text.contains(&format!("shopcase_role_leader{{role=\"{r}\"}} 0")))
    })
    .await;
    let text = metrics(&client, &running_a).await;
    for r in &all {
        assert!(
            text.contains(&format!("shopcase_role_leader{{role=\"{r}\"}} 1")),
            "{text}"
        );
    }
    assert!(roles(&client, &running_b).await.is_empty());
    // A runs the singleton; B never started it.
    let seen = count_a.passes.load(Ordering::SeqCst);
    eventually("A's singleton goes on", || async {
        count_a.passes.load(Ordering::SeqCst) > seen + 3
    })
    .await;
    assert_eq!(count_b.passes.load(Ordering::SeqCst), 0);

    // A stops (resigning its roles): B takes every one within seconds.
    running_a.shutdown().await.unwrap();
    let stopped = std::time::Instant::now();
    eventually("B holds every role", || async {
        roles(&client, &running_b).await == all
    })
    .await;
    assert!(
        stopped.elapsed() < Duration::from_secs(10),
        "{:?}",
        stopped.elapsed()
    );
    eventually("B's singleton runs", || async {
        count_b.passes.load(Ordering::SeqCst) > 0
    })
    .await;
    running_b.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_the_one_process_holds_every_role() {
    let host = Host::new(1);
    let running = host.start().await;
    let client = reqwest::Client::new();
    eventually("every role held", || async {
        roles(&client, &running).await == BTreeSet::from(["retention", "timers"].map(String::from))
    })
    .await;
    let text = metrics(&client, &running).await;
    assert!(
        text.contains("shopcase_role_leader{role=\"timers\"} 1"),
        "{text}"
    );
    running.shutdown().await.unwrap();
}
