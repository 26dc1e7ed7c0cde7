//! A world: both emulators as `shopcase emulate` processes, a proxy in
//! front of each, and `shopcase serve` on a configuration written as an
//! admin would, with canary secrets, stores, packaged plugins and an admin
//! token. Cases act on it only through HTTP: webhooks in, the admin API,
//! `/metrics`, and the emulators' own records.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::procs::Proc;
use crate::proxy::Proxy;

/// Where the battery finds what it runs.
#[derive(Debug, Clone)]
pub(crate) struct Paths {
    /// The `shopcase` binary under test.
    pub(crate) shopcase: PathBuf,
    /// The packaged first-party plugins (`target/plugins`).
    pub(crate) plugins: PathBuf,
    /// The built test components (`target/wasm32-wasip2/plugin`).
    pub(crate) wasm: PathBuf,
    /// `examples/events/scenarios`: the order template.
    pub(crate) scenarios: PathBuf,
}

/// One store of a world.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    pub(crate) domain: String,
    pub(crate) webhook_secret: String,
    pub(crate) admin_token: String,
}

/// A plugin to package into the world's plugins directory.
#[derive(Debug, Clone)]
pub(crate) enum PluginSource {
    /// A packaged first-party plugin, by id.
    FirstParty(&'static str),
    /// The hostile test component under this id, its `do` setting
    /// defaulting to `behaviour`, with every grant.
    Hostile { id: String, behaviour: String },
}

/// What a world is made of.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    pub(crate) stores: usize,
    /// Orders seeded per store in the Shopify emulator (ids `1..=orders`
    /// offset per store, see [`World::order_id`]).
    pub(crate) orders: u64,
    pub(crate) plugins: Vec<PluginSource>,
    /// Configuration values, `(table, key, TOML value)`, over the battery's
    /// defaults.
    pub(crate) tuning: Vec<(&'static str, &'static str, String)>,
    /// PostgreSQL instead of SQLite: the database (its URL) the world makes
    /// a schema of its own in, and how many `shopcase serve` replicas share
    /// it (see [`World::start_replica`]).
    pub(crate) postgres: Option<(String, usize)>,
}

impl Spec {
    pub(crate) fn new(stores: usize, orders: u64) -> Spec {
        Spec {
            stores,
            orders,
            plugins: vec![PluginSource::FirstParty("fraud")],
            tuning: vec![],
            postgres: None,
        }
    }

    /// `replicas` hosts on one PostgreSQL database: a schema of its own
    /// (`battery_<pid>`) in the database at `url`, dropped with the world.
    pub(crate) fn on_postgres(mut self, url: &str, replicas: usize) -> Spec {
        self.postgres = Some((url.to_owned(), replicas.max(1)));
        self
    }

    pub(crate) fn tune(mut self, table: &'static str, key: &'static str, value: &str) -> Spec {
        self.tuning.push((table, key, value.to_owned()));
        self
    }

    pub(crate) fn plugins(mut self, plugins: Vec<PluginSource>) -> Spec {
        self.plugins = plugins;
        self
    }
}

/// A running world.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) dir: tempfile::TempDir,
    paths: Paths,
    pub(crate) corecase: Proc,
    pub(crate) shopify: Proc,
    pub(crate) corecase_proxy: Proxy,
    pub(crate) shopify_proxy: Proxy,
    /// The host of a SQLite world (none in a PostgreSQL world).
    pub(crate) host: Option<Proc>,
    /// The hosts of a PostgreSQL world, each on its own configuration
    /// (data directory) and fixed port; started and killed through `&self`
    /// so that a case can kill one while it posts to the others.
    replicas: Vec<Replica>,
    pub(crate) stores: Vec<Store>,
    /// The operator token of the admin API.
    pub(crate) admin_token: String,
    /// Every secret of the world: none may reach a plugin or a log.
    pub(crate) canaries: Vec<String>,
    pub(crate) http: reqwest::Client,
    template: Value,
    orders: u64,
    host_starts: u32,
    /// The PostgreSQL schema, dropped after the hosts (fields drop in
    /// order: keep it after `host` and `replicas`).
    pg: Option<PgSchema>,
}

/// One `shopcase serve` replica of a PostgreSQL world.
#[derive(Debug)]
struct Replica {
    /// The port it listens on, the same at every start (as a load
    /// balancer's backend).
    port: u16,
    config: PathBuf,
    log: PathBuf,
    proc: Mutex<Option<Proc>>,
}

/// A schema of its own in a PostgreSQL database, dropped when dropped.
#[derive(Debug)]
pub(crate) struct PgSchema {
    /// The database as given (the schema is not on its search path).
    base: String,
    pub(crate) name: String,
}

impl PgSchema {
    /// `battery_<pid>`, made afresh (one left by a killed run dropped).
    async fn create(base: &str) -> Result<PgSchema> {
        let schema = PgSchema {
            base: base.to_owned(),
            name: format!("battery_{}", std::process::id()),
        };
        let c = pg_connect(base).await?;
        c.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {0} CASCADE; CREATE SCHEMA {0}",
            schema.name
        ))
        .await
        .with_context(|| format!("cannot create the schema {}", schema.name))?;
        Ok(schema)
    }

    /// The URL the hosts get: the schema first on the search path.
    pub(crate) fn url(&self) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!("{}{sep}options=-c%20search_path%3D{}", self.base, self.name)
    }

    /// A connection whose search path is the schema.
    pub(crate) async fn client(&self) -> Result<tokio_postgres::Client> {
        pg_connect(&self.url()).await
    }

    /// One number, from a thread of its own (callable from synchronous
    /// code inside the battery's runtime).
    fn count_blocking(&self, sql: &str) -> Result<i64> {
        let (url, sql) = (self.url(), sql.to_owned());
        std::thread::spawn(move || -> Result<i64> {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(async move {
                    let c = pg_connect(&url).await?;
                    Ok(c.query_one(&sql, &[]).await?.get(0))
                })
        })
        .join()
        .map_err(|_| anyhow::anyhow!("the database thread panicked"))?
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        // The hosts are gone (they drop first); a lock a killed host's
        // session still held is let go when the server notices it died.
        let sql = format!(
            "SET lock_timeout = '30s'; DROP SCHEMA IF EXISTS {} CASCADE",
            self.name
        );
        let base = self.base.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || -> Result<()> {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(async move {
                    let c = pg_connect(&base).await?;
                    c.batch_execute(&sql).await?;
                    Ok(())
                })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("battery: could not drop the schema {name}: {dropped:?}");
        }
    }
}

/// Connect to PostgreSQL (no TLS: a local test database).
async fn pg_connect(url: &str) -> Result<tokio_postgres::Client> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .context("cannot connect to PostgreSQL")?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

/// A port free on 127.0.0.1 now.
fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind(("127.0.0.1", 0)).context("no free port")?;
    Ok(l.local_addr()?.port())
}

/// Distinct enough to find anywhere, never a substring of anything else.
fn canary(what: &str) -> String {
    format!("CANARY-{what}-{}", uuid::Uuid::new_v4().simple())
}

const STARTUP: Duration = Duration::from_secs(120);

impl World {
    pub(crate) async fn start(paths: &Paths, spec: Spec) -> Result<World> {
        let dir = tempfile::Builder::new()
            .prefix("shopcase-battery-")
            .tempdir()?;
        let d = dir.path();
        let stores: Vec<Store> = (0..spec.stores)
            .map(|i| Store {
                domain: format!("battery-{i}.myshopify.com"),
                webhook_secret: canary("webhook-secret"),
                admin_token: canary("shopify-token"),
            })
            .collect();
        let corecase_secret = canary("corecase-secret");

        // Core Case emulator, with the test plugins' case type.
        let mut definitions: Vec<String> = [
            "order-exception",
            "fraud-investigation",
            "return-request",
            "refund-dispute",
            "complaint",
            "refund-approval",
            "vip-escalation",
            "delivery-investigation",
            "high-value-order",
            "hostile",
        ]
        .iter()
        .map(|s| format!("{s:?}"))
        .collect();
        definitions.dedup();
        std::fs::write(
            d.join("corecase-emulator.toml"),
            format!(
                "tenant-id = \"battery\"\nclient-id = \"battery\"\nclient-secret = \"{corecase_secret}\"\ncase-definitions = [{}]\n",
                definitions.join(", ")
            ),
        )?;
        let mut cmd = Command::new(&paths.shopcase);
        cmd.args(["emulate", "corecase", "--listen", "127.0.0.1:0", "--config"])
            .arg(d.join("corecase-emulator.toml"))
            .env("RUST_LOG", "warn");
        let corecase = Proc::start(
            "the Core Case emulator",
            cmd,
            &d.join("corecase.log"),
            "Core Case emulator on",
            STARTUP,
        )?;

        // Shopify emulator, seeded with every order the cases will use.
        let template = order_template(&paths.scenarios)?;
        let seed = json!({
            "shops": stores.iter().enumerate().map(|(i, s)| json!({
                "domain": s.domain,
                "tokens": [s.admin_token],
                "currency": "USD",
                "orders": (1..=spec.orders).map(|n| json!({
                    "id": order_id(i, n),
                    "name": format!("#B{n}"),
                    "total_price": "1636.90",
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
        std::fs::write(d.join("shopify-seed.json"), serde_json::to_vec(&seed)?)?;
        let mut cmd = Command::new(&paths.shopcase);
        cmd.args(["emulate", "shopify", "--listen", "127.0.0.1:0", "--seed"])
            .arg(d.join("shopify-seed.json"))
            .env("RUST_LOG", "warn");
        let shopify = Proc::start(
            "the Shopify emulator",
            cmd,
            &d.join("shopify.log"),
            "Shopify Admin API emulator on",
            STARTUP,
        )?;
        let corecase_proxy = Proxy::start(&corecase.addr).await?;
        let shopify_proxy = Proxy::start(&shopify.addr).await?;

        // Plugins.
        let plugins_dir = d.join("plugins");
        for p in &spec.plugins {
            package(paths, p, &plugins_dir)?;
        }

        // Secrets in files, as the admin guide asks.
        let secrets = d.join("secrets");
        std::fs::create_dir_all(&secrets)?;
        std::fs::write(secrets.join("corecase"), &corecase_secret)?;
        for (i, s) in stores.iter().enumerate() {
            std::fs::write(secrets.join(format!("webhook-{i}")), &s.webhook_secret)?;
            std::fs::write(secrets.join(format!("token-{i}")), &s.admin_token)?;
        }
        // PostgreSQL: a schema of its own, its URL in a file as the admin
        // guide asks (`url-file`).
        let mut tuning = spec.tuning.clone();
        let pg = match &spec.postgres {
            Some((base, _)) => {
                let schema = PgSchema::create(base).await?;
                std::fs::write(secrets.join("database-url"), schema.url())?;
                tuning.push(("storage", "backend", "\"postgres\"".into()));
                tuning.push((
                    "storage",
                    "url-file",
                    format!("\"{}/database-url\"", secrets.display()),
                ));
                Some(schema)
            }
            None => None,
        };
        let config = config_text(
            d,
            &plugins_dir,
            &stores,
            &shopify_proxy.url(),
            &corecase_proxy.url(),
            &tuning,
        );
        std::fs::write(d.join("shopcase.toml"), &config)?;
        // Each replica its own data directory (privacy exports, component
        // cache) and port; the first one's configuration is `shopcase.toml`.
        let mut replicas = vec![];
        for i in 0..spec.postgres.as_ref().map_or(0, |(_, n)| *n) {
            let path = if i == 0 {
                d.join("shopcase.toml")
            } else {
                let path = d.join(format!("shopcase-{i}.toml"));
                let text = config.replacen(
                    &format!("data-dir = \"{}/data\"", d.display()),
                    &format!("data-dir = \"{}/data-{i}\"", d.display()),
                    1,
                );
                std::fs::write(&path, text)?;
                path
            };
            replicas.push(Replica {
                port: free_port()?,
                config: path,
                log: d.join(format!("host-{i}.log")),
                proc: Mutex::new(None),
            });
        }

        // The operator's admin token, minted on the host's shell.
        let admin_token = create_token(
            &paths.shopcase,
            &d.join("shopcase.toml"),
            "battery",
            "operator",
            None,
        )?;

        let mut canaries: Vec<String> = vec![corecase_secret, admin_token.clone()];
        for s in &stores {
            canaries.push(s.webhook_secret.clone());
            canaries.push(s.admin_token.clone());
        }
        let mut world = World {
            dir,
            paths: paths.clone(),
            corecase,
            shopify,
            corecase_proxy,
            shopify_proxy,
            host: None,
            replicas,
            stores,
            admin_token,
            canaries,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()?,
            template,
            orders: spec.orders,
            host_starts: 0,
            pg,
        };
        if world.replicas.is_empty() {
            world.start_host(None)?;
        } else {
            for i in 0..world.replicas.len() {
                world.start_replica(i)?;
            }
        }
        // Enable every plugin for every store, through the admin API.
        for s in world.stores.clone() {
            for p in &spec.plugins {
                let id = match p {
                    PluginSource::FirstParty(id) => (*id).to_owned(),
                    PluginSource::Hostile { id, .. } => id.clone(),
                };
                let settings = match id.as_str() {
                    // Every battery order is a fraud case: a known outcome
                    // per event (the template order scores 70 on its own).
                    "fraud" => json!({"score-threshold": 50}),
                    _ => json!({}),
                };
                let (status, body) = world
                    .admin(
                        reqwest::Method::POST,
                        &format!("/stores/{}/installations/{id}/enable", s.domain),
                        Some(json!({ "settings": settings })),
                    )
                    .await?;
                if status != 200 {
                    bail!("enabling {id} for {}: HTTP {status}: {body}", s.domain);
                }
            }
        }
        Ok(world)
    }

    /// The `shopcase` binary under test.
    pub(crate) fn shopcase(&self) -> &Path {
        &self.paths.shopcase
    }

    /// One number from the host's database, read beside the running host
    /// (SQLite in WAL mode takes readers from other processes): for the
    /// checks no API reports, such as how many audit rows a flood wrote.
    /// On PostgreSQL, from the world's schema (`sql` must give a `bigint`).
    pub(crate) fn db_count(&self, sql: &str) -> Result<i64> {
        if let Some(pg) = &self.pg {
            return pg.count_blocking(sql);
        }
        let path = self.dir.path().join("data").join("shopcase.db");
        let db = rusqlite::Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .with_context(|| format!("cannot open {}", path.display()))?;
        db.busy_timeout(Duration::from_secs(5))?;
        Ok(db.query_row(sql, [], |r| r.get(0))?)
    }

    /// The configuration file.
    pub(crate) fn config_path(&self) -> PathBuf {
        self.dir.path().join("shopcase.toml")
    }

    /// Start `shopcase serve` (with a test fault point armed, if given).
    pub(crate) fn start_host(&mut self, fault: Option<&str>) -> Result<()> {
        if self.host.is_some() {
            bail!("the host is already running");
        }
        self.host_starts += 1;
        let mut cmd = Command::new(&self.paths.shopcase);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(self.config_path())
            .env("RUST_LOG", "info")
            .env_remove("SHOPCASE_TEST_FAULT");
        if let Some(f) = fault {
            cmd.env("SHOPCASE_TEST_FAULT", f);
        }
        let host = Proc::start(
            "shopcase serve",
            cmd,
            &self.dir.path().join("host.log"),
            "shopcase: serving on",
            STARTUP,
        )?;
        self.host = Some(host);
        Ok(())
    }

    /// SIGKILL the host.
    pub(crate) fn kill_host(&mut self) {
        if let Some(h) = self.host.take() {
            h.kill();
        }
    }

    /// Wait for the host to exit by itself (a fault point aborted it).
    pub(crate) async fn host_exits(&mut self, within: Duration) -> Result<bool> {
        let deadline = Instant::now() + within;
        loop {
            let alive = self.host.as_mut().is_some_and(Proc::alive);
            if !alive {
                self.host = None;
                return Ok(true);
            }
            if Instant::now() > deadline {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub(crate) fn host_alive(&mut self) -> bool {
        self.host.as_mut().is_some_and(Proc::alive)
    }

    /// The host, or in a PostgreSQL world the first replica running.
    fn host_url(&self) -> Result<String> {
        if let Some(h) = &self.host {
            return Ok(h.url());
        }
        (0..self.replicas.len())
            .find(|i| self.replica_running(*i))
            .map(|i| self.replica_url(i))
            .context("the host is not running")
    }

    // ------------------------------------------------------------ replicas

    /// The PostgreSQL schema of a PostgreSQL world.
    pub(crate) fn pg(&self) -> Option<&PgSchema> {
        self.pg.as_ref()
    }

    /// How many replicas a PostgreSQL world has (0 in a SQLite world).
    pub(crate) fn replica_count(&self) -> usize {
        self.replicas.len()
    }

    /// Replica `i`'s address (the same whether it runs or not).
    pub(crate) fn replica_url(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.replicas[i].port)
    }

    fn replica_proc(&self, i: usize) -> std::sync::MutexGuard<'_, Option<Proc>> {
        self.replicas[i]
            .proc
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Start replica `i` on its port and configuration; returns once it
    /// serves. Blocks the calling thread for the start.
    pub(crate) fn start_replica(&self, i: usize) -> Result<()> {
        let r = &self.replicas[i];
        let mut slot = self.replica_proc(i);
        if slot.as_mut().is_some_and(Proc::alive) {
            bail!("replica {i} is already running");
        }
        let mut cmd = Command::new(&self.paths.shopcase);
        cmd.args(["serve", "--listen", &format!("127.0.0.1:{}", r.port)])
            .arg("--config")
            .arg(&r.config)
            .env("RUST_LOG", "info")
            .env_remove("SHOPCASE_TEST_FAULT");
        *slot = Some(Proc::start(
            &format!("shopcase serve (replica {i})"),
            cmd,
            &r.log,
            "shopcase: serving on",
            STARTUP,
        )?);
        Ok(())
    }

    /// SIGKILL replica `i`; whether it was running.
    pub(crate) fn kill_replica(&self, i: usize) -> bool {
        match self.replica_proc(i).take() {
            Some(p) => {
                p.kill();
                true
            }
            None => false,
        }
    }

    /// Whether replica `i` runs.
    pub(crate) fn replica_running(&self, i: usize) -> bool {
        self.replica_proc(i).as_mut().is_some_and(Proc::alive)
    }

    /// Post `d` as a load balancer would: to replica `first`, and on no
    /// answer or a 5xx to the next one, round and round (a short pause
    /// after each round), until one acknowledges it (200) or `within`
    /// passed. Returns the answer and how many posts it took.
    pub(crate) async fn post_balanced(
        &self,
        first: usize,
        d: &Delivery,
        within: Duration,
    ) -> Result<(Value, u32)> {
        let n = self.replicas.len();
        anyhow::ensure!(n > 0, "not a PostgreSQL world");
        let deadline = Instant::now() + within;
        let mut tries = 0u32;
        loop {
            let i = (first + tries as usize) % n;
            tries += 1;
            match self.post_to(&self.replica_url(i), d).await {
                Ok((200, body)) => return Ok((body, tries)),
                Ok((status, body)) if status < 500 => {
                    bail!("delivery {} refused: HTTP {status} {body}", d.webhook_id)
                }
                other if Instant::now() > deadline => {
                    bail!("delivery {} never acknowledged: {other:?}", d.webhook_id)
                }
                _ if (tries as usize).is_multiple_of(n) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                _ => {}
            }
        }
    }

    /// The host's log so far.
    pub(crate) fn host_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("host.log")).unwrap_or_default()
    }

    // ------------------------------------------------------------ orders

    /// The id of store `store`'s `n`th seeded order.
    pub(crate) fn order_id(&self, store: usize, n: u64) -> u64 {
        assert!(n >= 1 && n <= self.orders, "order {n} is not seeded");
        order_id(store, n)
    }

    /// How many orders each store has in the Shopify emulator.
    pub(crate) fn seeded_orders(&self) -> u64 {
        self.orders
    }

    /// `orders/create` for store `store`'s `n`th order: the fraud template
    /// (a forwarder address, billing and shipping countries apart), with a
    /// customer Shopify does not know.
    pub(crate) fn order_created(&self, store: usize, n: u64) -> Delivery {
        let id = self.order_id(store, n);
        let mut p = self.template.clone();
        p["id"] = json!(id);
        p["admin_graphql_api_id"] = json!(format!("gid://shopify/Order/{id}"));
        p["name"] = json!(format!("#B{n}"));
        p["order_number"] = json!(n);
        p["number"] = json!(n);
        p["created_at"] = json!(now());
        p["updated_at"] = json!(now());
        p["processed_at"] = json!(now());
        if let Some(c) = p.get_mut("customer") {
            c["id"] = json!(9_000_000_000 + id);
        }
        self.delivery(store, "orders/create", p)
    }

    /// A signed delivery of `payload` for store `store`, fresh ids, now.
    pub(crate) fn delivery(&self, store: usize, topic: &str, payload: Value) -> Delivery {
        let s = &self.stores[store];
        let body = serde_json::to_vec(&payload).unwrap_or_default();
        Delivery {
            topic: topic.to_owned(),
            shop: s.domain.clone(),
            webhook_id: uuid::Uuid::new_v4().to_string(),
            event_id: uuid::Uuid::new_v4().to_string(),
            triggered_at: now(),
            hmac: sign(&s.webhook_secret, &body),
            body,
        }
    }

    /// Post a delivery to the host: status and JSON answer.
    pub(crate) async fn post(&self, d: &Delivery) -> Result<(u16, Value)> {
        self.post_to(&self.host_url()?, d).await
    }

    /// Post a delivery to the host at `base` (`http://ADDR`).
    pub(crate) async fn post_to(&self, base: &str, d: &Delivery) -> Result<(u16, Value)> {
        let resp = self
            .http
            .post(format!("{base}/webhooks/shopify"))
            .header("content-type", "application/json")
            .header("X-Shopify-Topic", &d.topic)
            .header("X-Shopify-Shop-Domain", &d.shop)
            .header("X-Shopify-API-Version", "2026-07")
            .header("X-Shopify-Webhook-Id", &d.webhook_id)
            .header("X-Shopify-Event-Id", &d.event_id)
            .header("X-Shopify-Triggered-At", &d.triggered_at)
            .header("X-Shopify-Hmac-Sha256", &d.hmac)
            .body(d.body.clone())
            .send()
            .await?;
        let status = resp.status().as_u16();
        let body = resp.json().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    /// Post until the host answers 200 (it may be starting, or the answer
    /// lost to a kill): Shopify's own redelivery, same ids.
    pub(crate) async fn post_until_acknowledged(&self, d: &Delivery) -> Result<Value> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            match self.post(d).await {
                Ok((200, body)) => return Ok(body),
                Ok((status, body)) if status < 500 => {
                    bail!("delivery {} refused: HTTP {status} {body}", d.webhook_id)
                }
                _ if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                other => bail!("delivery {} never acknowledged: {other:?}", d.webhook_id),
            }
        }
    }

    // ------------------------------------------------------------ reading

    /// The admin API: status and JSON answer.
    pub(crate) async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value)> {
        self.admin_as(&self.admin_token.clone(), method, path, body)
            .await
    }

    /// A new store-admin token of the admin API for store `i` (made with
    /// `shopcase admin token create`, as an operator would).
    pub(crate) fn store_admin_token(&self, i: usize, name: &str) -> Result<String> {
        create_token(
            self.shopcase(),
            &self.config_path(),
            name,
            "store-admin",
            Some(&self.stores[i].domain),
        )
    }

    /// The admin API with another token.
    pub(crate) async fn admin_as(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value)> {
        let mut req = self
            .http
            .request(method, format!("{}/admin/api{path}", self.host_url()?))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(Value::Null)))
    }

    /// `/metrics`, as `name{labels}` → value.
    pub(crate) async fn metrics(&self) -> Result<Metrics> {
        let text = self
            .http
            .get(format!("{}/metrics", self.host_url()?))
            .send()
            .await?
            .text()
            .await?;
        let mut m = BTreeMap::new();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            if let Some((k, v)) = line.rsplit_once(' ')
                && let Ok(v) = v.parse::<f64>()
            {
                m.insert(k.to_owned(), v);
            }
        }
        Ok(Metrics(m))
    }

    /// Wait until nothing is waiting (inbox and journal empty, no due
    /// timer event) for `quiet` in a row, or `within` passed.
    pub(crate) async fn settle(&self, quiet: Duration, within: Duration) -> Result<()> {
        let deadline = Instant::now() + within;
        let mut since: Option<Instant> = None;
        loop {
            let m = self.metrics().await?;
            let busy = m.get("shopcase_inbox_depth") + m.get("shopcase_journal_open");
            if busy == 0.0 {
                let s = *since.get_or_insert_with(Instant::now);
                if s.elapsed() >= quiet {
                    return Ok(());
                }
            } else {
                since = None;
            }
            if Instant::now() > deadline {
                bail!(
                    "the host did not settle within {within:?}: inbox {} journal {}",
                    m.get("shopcase_inbox_depth"),
                    m.get("shopcase_journal_open")
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every case in the Core Case emulator, with comments and documents.
    pub(crate) async fn cases(&self) -> Result<Vec<Value>> {
        let v: Value = self
            .http
            .get(format!("{}/_emulator/cases", self.corecase.url()))
            .send()
            .await?
            .json()
            .await?;
        Ok(v["cases"].as_array().cloned().unwrap_or_default())
    }

    /// Fraud cases per order id (from the external reference): how many each.
    pub(crate) async fn cases_per_order(&self) -> Result<BTreeMap<u64, usize>> {
        let mut per = BTreeMap::new();
        for c in self.cases().await? {
            if let Some(id) = order_of_case(&c) {
                *per.entry(id).or_default() += 1;
            }
        }
        Ok(per)
    }

    /// Every mutation the Shopify emulator applied.
    pub(crate) async fn mutations(&self) -> Result<Vec<Value>> {
        let v: Value = self
            .http
            .get(format!("{}/_emulator/mutations", self.shopify.url()))
            .send()
            .await?
            .json()
            .await?;
        Ok(match v {
            Value::Array(a) => a,
            other => other["mutations"].as_array().cloned().unwrap_or_default(),
        })
    }

    /// An order of store `store` as the Shopify emulator holds it now.
    pub(crate) async fn shopify_order(&self, store: usize, n: u64) -> Result<Value> {
        let url = format!(
            "{}/_emulator/shops/{}/orders/{}",
            self.shopify.url(),
            self.stores[store].domain,
            self.order_id(store, n)
        );
        Ok(self
            .http
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    /// Open dead letters, with their reasons.
    pub(crate) async fn dead_letters(&self) -> Result<Vec<Value>> {
        let (_, v) = self
            .admin(reqwest::Method::GET, "/dead-letters?limit=200", None)
            .await?;
        Ok(v["dead_letters"].as_array().cloned().unwrap_or_default())
    }
}

/// An admin API token made with `shopcase admin token create` on the
/// host's configuration, as an operator would.
fn create_token(
    shopcase: &Path,
    config: &Path,
    name: &str,
    role: &str,
    store: Option<&str>,
) -> Result<String> {
    let mut cmd = Command::new(shopcase);
    cmd.args(["admin", "token", "create", "--config"])
        .arg(config)
        .args(["--name", name, "--role", role, "--by", "battery"]);
    if let Some(store) = store {
        cmd.args(["--store", store]);
    }
    let out = cmd.output().context("shopcase admin token create")?;
    if !out.status.success() {
        bail!(
            "shopcase admin token create failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Parsed `/metrics`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Metrics(BTreeMap<String, f64>);

impl Metrics {
    /// A series by its exact `name{labels}` key; 0 when absent.
    pub(crate) fn get(&self, key: &str) -> f64 {
        self.0.get(key).copied().unwrap_or(0.0)
    }

    /// Every series of `name`: `(name{labels}, value)`.
    pub(crate) fn series(&self, name: &str) -> Vec<(String, f64)> {
        self.0
            .iter()
            .filter(|(k, _)| k.as_str() == name || k.starts_with(&format!("{name}{{")))
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    /// The sum of every series of `name` whose labels contain each of `has`.
    pub(crate) fn sum(&self, name: &str, has: &[&str]) -> f64 {
        self.0
            .iter()
            .filter(|(k, _)| {
                (k.as_str() == name || k.starts_with(&format!("{name}{{")))
                    && has.iter().all(|h| k.contains(h))
            })
            .map(|(_, v)| v)
            // An empty f64 sum is -0.0.
            .sum::<f64>()
            + 0.0
    }
}

/// A signed webhook delivery.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    pub(crate) topic: String,
    pub(crate) shop: String,
    pub(crate) webhook_id: String,
    pub(crate) event_id: String,
    pub(crate) triggered_at: String,
    pub(crate) body: Vec<u8>,
    pub(crate) hmac: String,
}

impl Delivery {
    /// The same body with fresh delivery ids: what a replayer sends.
    pub(crate) fn with_fresh_ids(&self) -> Delivery {
        Delivery {
            webhook_id: uuid::Uuid::new_v4().to_string(),
            event_id: uuid::Uuid::new_v4().to_string(),
            ..self.clone()
        }
    }
}

/// Shopify's signature: base64 of HMAC-SHA256 over the raw body.
pub(crate) fn sign(secret: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Now, RFC 3339 (UTC).
pub(crate) fn now() -> String {
    shopcase_contract::time::format(shopcase_contract::time::Timestamp::now())
}

/// Distinct order ids per store.
fn order_id(store: usize, n: u64) -> u64 {
    8_000_000_000 + (store as u64) * 100_000_000 + n
}

/// The order a fraud case is about, from its external reference
/// (`<shop>:order:<id>:fraud-investigation`, as the host writes it).
pub(crate) fn order_of_case(case: &Value) -> Option<u64> {
    let reference = case
        .pointer("/caseProperties/defaultAttributes/externalReference")?
        .as_str()?;
    let mut parts = reference.split(':');
    let (_shop, kind, id, case_type) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    (kind == "order" && case_type == "fraud-investigation")
        .then(|| id.parse().ok())
        .flatten()
}

fn order_template(scenarios: &Path) -> Result<Value> {
    let path = scenarios.join("fraud/01-orders-create-high-risk.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let v: Value = serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?;
    Ok(v["payload"].clone())
}

/// Put a plugin package into `dir/<id>/`.
fn package(paths: &Paths, p: &PluginSource, dir: &Path) -> Result<()> {
    match p {
        PluginSource::FirstParty(id) => {
            let from = paths.plugins.join(id);
            let to = dir.join(id);
            std::fs::create_dir_all(&to)?;
            for entry in std::fs::read_dir(&from).with_context(|| {
                format!("cannot read {}: build the plugins first", from.display())
            })? {
                let entry = entry?;
                std::fs::copy(entry.path(), to.join(entry.file_name()))?;
            }
        }
        PluginSource::Hostile { id, behaviour } => {
            let src = dir.join(format!("{id}.source.toml"));
            std::fs::create_dir_all(dir)?;
            std::fs::write(&src, hostile_manifest(id, behaviour))?;
            let wasm = paths.wasm.join("hostile.wasm");
            shopcase_contract::manifest::package(&src, &wasm, &dir.join(id))
                .map_err(|e| anyhow::anyhow!("packaging {id}: {e}"))?;
            std::fs::remove_file(&src)?;
        }
    }
    Ok(())
}

/// A hostile plugin's manifest: every grant a plugin can have, so that what
/// it cannot reach is the sandbox's doing, not a missing grant's.
fn hostile_manifest(id: &str, behaviour: &str) -> String {
    format!(
        r#"[plugin]
id = "{id}"
version = "0.1.0"
api = "0.1.0"
topics = ["orders/create"]

[grants]
actions = ["open-case", "tags-add", "set-metafield"]
host = ["log", "settings", "kv", "customer-history", "case-lookup"]
data = ["customer-contact", "address", "address-region", "client-details", "payment-details", "customer-notes"]
case-types = ["hostile"]

[settings.do]
type = "text"
default = "{behaviour}"
description = "What the hostile component does when no `do:<what>` order tag says."
"#
    )
}

fn config_text(
    d: &Path,
    plugins: &Path,
    stores: &[Store],
    shopify_url: &str,
    corecase_url: &str,
    tuning: &[(&'static str, &'static str, String)],
) -> String {
    // Defaults for a battery: fast loops and short backoffs so a case runs
    // in seconds; every other value is the product's default.
    let mut tables: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("server", vec![("max-clock-skew", "\"5m\"".into())]),
        ("storage", vec![("retention", "\"off\"".into())]),
        (
            "dispatcher",
            vec![
                ("workers", "2".into()),
                ("poll-interval", "\"20ms\"".into()),
                ("backoff-base", "\"100ms\"".into()),
                ("backoff-max", "\"2s\"".into()),
            ],
        ),
        (
            "executor",
            vec![
                ("poll-interval", "\"20ms\"".into()),
                ("backoff-base", "\"100ms\"".into()),
                ("backoff-max", "\"2s\"".into()),
                ("breaker-cool-down", "\"1s\"".into()),
                ("breaker-max-cool-down", "\"2s\"".into()),
            ],
        ),
        ("timers", vec![("poll-interval", "\"200ms\"".into())]),
        ("shopify", vec![("backoff-max", "\"1s\"".into())]),
        ("sandbox", vec![]),
        ("sandbox.caps", vec![]),
        (
            "corecase",
            vec![
                ("api-base", format!("\"{corecase_url}\"")),
                ("auth-base", format!("\"{corecase_url}\"")),
                ("tenant-id", "\"battery\"".into()),
                ("client-id", "\"battery\"".into()),
                (
                    "client-secret-file",
                    format!("\"{}/secrets/corecase\"", d.display()),
                ),
                ("poll-interval", "\"1s\"".into()),
            ],
        ),
    ];
    for (table, key, value) in tuning {
        let t = match tables.iter_mut().find(|(t, _)| t == table) {
            Some(t) => t,
            None => {
                tables.push((table, vec![]));
                tables.last_mut().expect("just pushed")
            }
        };
        t.1.retain(|(k, _)| k != key);
        t.1.push((key, value.clone()));
    }
    let dd = d.display();
    let mut out = format!(
        "# Written by the battery.\ndata-dir = \"{dd}/data\"\nplugins-dir = \"{}\"\n\n",
        plugins.display()
    );
    for (table, keys) in &tables {
        out.push_str(&format!("[{table}]\n"));
        if *table == "server" {
            out.push_str("listen = \"127.0.0.1:0\"\n");
        }
        for (k, v) in keys {
            out.push_str(&format!("{k} = {v}\n"));
        }
        out.push('\n');
    }
    for (i, s) in stores.iter().enumerate() {
        out.push_str(&format!(
            "[[stores]]\ndomain = \"{}\"\napi-version = \"2026-07\"\nwebhook-secret-file = \"{dd}/secrets/webhook-{i}\"\nadmin-token-file = \"{dd}/secrets/token-{i}\"\nadmin-base-url = \"{shopify_url}\"\n\n",
            s.domain
        ));
    }
    out
}
