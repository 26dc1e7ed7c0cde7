//! A real host per test: SQLite in a temporary directory, the hostile test
//! component packaged as plugins, the pipeline with the admin router on
//! 127.0.0.1:0, reqwest as the admin's client and as Shopify.

use shopcase_testkit::config::TestConfig;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use serde_json::{Value, json};
use shopcase_admin::{AdminState, NewToken};
use shopcase_pipeline::breaker::Breakers;
use shopcase_pipeline::ingress::{headers, hmac};
use shopcase_pipeline::{Config, ExecError, Executor, PipelineBuilder, RunningPipeline};
use shopcase_store::{ActionFamily, ApiRole, JournalEntry, Storage};

pub(crate) use shopcase_testkit::{eventually, runtime, wasm};

pub(crate) const SHOP_A: &str = "a.myshopify.com";
pub(crate) const SHOP_B: &str = "b.myshopify.com";
pub(crate) const SECRET_A: &str = "whsec-a-5f1d0c3e";
pub(crate) const SECRET_B: &str = "whsec-b-9a7b2e44";
/// Admin API tokens of the stores (inline, as in development): the admin
/// API must never return them.
pub(crate) const ADMIN_TOKEN_A: &str = "shpat_a_0d9f8e7c6b5a";
pub(crate) const ADMIN_TOKEN_B: &str = "shpat_b_1e2d3c4b5a69";

/// Settings every test plugin declares.
pub(crate) const SETTINGS: &str = r#"
[settings.threshold]
type = "integer"
default = 60
min = 0
max = 100
description = "Score above which to act."

[settings.tags]
type = "text-list"
default = ["VIP"]

[settings.mode]
type = "text"
default = "tag"
choices = ["tag", "case"]
"#;

/// Package the hostile component as plugin `id` at `version` under
/// `<plugins>/<id>/<version>/`.
pub(crate) fn package(plugins_dir: &Path, id: &str, version: &str) {
    let src_dir = tempfile::tempdir().unwrap();
    let src = src_dir.path().join("plugin.toml");
    std::fs::write(
        &src,
        format!(
            r#"
[plugin]
id = "{id}"
version = "{version}"
name = "{id} (test)"
description = "The hostile test component as `{id}`."
api = "0.1.0"
# The inbound topics come from a helpdesk or carrier service, never from a
# Shopify subscription: `connect` must not ask Shopify for them.
topics = ["orders/create", "helpdesk/complaint", "carrier/exception"]

[grants]
actions = ["tags-add", "open-case", "set-metafield"]
host = ["log", "kv"]
case-types = ["hostile"]
{SETTINGS}
"#
        ),
    )
    .unwrap();
    let out = plugins_dir.join(id).join(version);
    shopcase_contract::manifest::package(&src, &wasm("hostile"), &out).unwrap();
}

fn config_text() -> String {
    config_text_with(&[])
}

/// The test configuration with extra `[server]` lines.
pub(crate) fn config_text_with(server: &[&str]) -> String {
    let mut lines = vec![
        "max-age = \"24h\"".to_owned(),
        "ack-timeout = \"2s\"".to_owned(),
    ];
    lines.extend(server.iter().map(|l| (*l).to_owned()));
    TestConfig {
        server: lines,
        deadline: "\"1s\"",
        dispatcher_head: vec!["workers = 2".into(), "batch = 16".into()],
        dispatcher_lease: "\"3s\"",
        dispatcher_attempts: 2,
        dispatcher_tail: vec!["quarantine-after = 2".into()],
        executor_concurrency: 2,
        executor_lease: "\"3s\"",
        executor_attempts: 2,
        stores: vec![
            TestConfig::store(
                SHOP_A,
                SECRET_A,
                &[format!("admin-token = \"{ADMIN_TOKEN_A}\"")],
            ),
            TestConfig::store(
                SHOP_B,
                SECRET_B,
                &[format!("admin-token = \"{ADMIN_TOKEN_B}\"")],
            ),
        ],
        ..TestConfig::default()
    }
    .render()
}

/// Executes Shopify-family actions for tests: fails permanently while
/// broken (so the action is dead-lettered), counts every call.
#[derive(Debug, Default)]
pub(crate) struct SwitchExecutor {
    pub(crate) broken: AtomicBool,
    pub(crate) calls: AtomicU32,
}

#[async_trait::async_trait]
impl Executor for SwitchExecutor {
    fn family(&self) -> ActionFamily {
        ActionFamily::Shopify
    }

    async fn execute(&self, entry: &JournalEntry) -> Result<Value, ExecError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.broken.load(Ordering::SeqCst) {
            return Err(ExecError::permanent(
                "test-broken",
                format!("the test executor is broken for {}", entry.key),
            ));
        }
        Ok(json!({"executed": entry.key}))
    }
}

/// A host directory: configuration, data and plugins.
pub(crate) struct Host {
    pub(crate) dir: tempfile::TempDir,
}

impl Host {
    pub(crate) fn new() -> Host {
        Host::with_config(config_text())
    }

    /// A host directory with this configuration text.
    pub(crate) fn with_config(text: String) -> Host {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("plugins")).unwrap();
        std::fs::write(dir.path().join("shopcase.toml"), text).unwrap();
        Host { dir }
    }

    pub(crate) fn config(&self) -> Config {
        Config::load(&self.dir.path().join("shopcase.toml")).unwrap()
    }

    pub(crate) fn add_plugin(&self, id: &str, version: &str) {
        package(&self.dir.path().join("plugins"), id, version);
    }

    /// Serve the pipeline with the admin router and the test executor.
    pub(crate) async fn start(&self, executor: Arc<SwitchExecutor>) -> Running {
        self.start_with(executor, None).await
    }

    /// As [`Host::start`], with the admin API connecting stores through
    /// `shopify` (as `serve` wires its write-back client).
    pub(crate) async fn start_with(
        &self,
        executor: Arc<SwitchExecutor>,
        shopify: Option<Arc<shopcase_shopify::ShopifyClient>>,
    ) -> Running {
        let config = self.config();
        let storage = shopcase_pipeline::open_storage(&config).await.unwrap();
        // Wired as `shopcase serve` does: one set of breakers for the
        // pipeline and the admin API.
        let breakers = Arc::new(Breakers::new(config.executor.breaker));
        let mut state = AdminState::new(storage.clone(), &config).with_breakers(breakers.clone());
        if let Some(client) = shopify {
            state = state.with_shopify(client);
        }
        let pipeline = PipelineBuilder::new(config)
            .breakers(breakers.clone())
            .storage(storage.clone())
            .runtime(runtime())
            .executor(executor.clone())
            .routes(shopcase_admin::router(state.clone()))
            .build()
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let running = pipeline.spawn(listener);
        Running {
            base: format!("http://{}", running.addr()),
            pipeline: running,
            state,
            storage,
            breakers,
            client: reqwest::Client::new(),
        }
    }
}

/// A running host.
pub(crate) struct Running {
    pub(crate) pipeline: RunningPipeline,
    pub(crate) state: AdminState,
    pub(crate) storage: Arc<dyn Storage>,
    /// The pipeline's circuit breakers (shared with the admin API).
    pub(crate) breakers: Arc<Breakers>,
    pub(crate) base: String,
    pub(crate) client: reqwest::Client,
}

/// An answer: status, JSON body (`Null` if not JSON), raw text.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) json: Value,
    pub(crate) text: String,
    pub(crate) headers: reqwest::header::HeaderMap,
}

impl Running {
    /// Shut the host down gracefully.
    pub(crate) async fn shutdown(self) {
        self.pipeline.shutdown().await.unwrap();
    }

    /// Issue a token; returns the bearer token.
    pub(crate) async fn token(&self, name: &str, role: ApiRole, stores: &[&str]) -> String {
        self.state
            .tokens()
            .create(NewToken {
                name: name.into(),
                role,
                stores: stores.iter().map(|s| (*s).to_owned()).collect(),
                created_by: "test-setup".into(),
            })
            .await
            .unwrap()
            .secret
            .expose()
            .to_owned()
    }

    /// Call the admin API (`path` under `/admin/api`, or absolute).
    pub(crate) async fn call(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let url = if path.starts_with("/admin") {
            format!("{}{path}", self.base)
        } else {
            format!("{}/admin/api{path}", self.base)
        };
        let mut req = self.client.request(method.parse().unwrap(), url.as_str());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        Answer {
            status,
            json: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
            headers,
        }
    }

    pub(crate) async fn get(&self, token: &str, path: &str) -> Answer {
        self.call(Some(token), "GET", path, None).await
    }

    /// Deliver a signed `orders/create` webhook; returns the event id.
    pub(crate) async fn order(&self, shop: &str, webhook: &str, order: u64, what: &str) -> String {
        let secret = if shop == SHOP_A { SECRET_A } else { SECRET_B };
        let body = serde_json::to_vec(&json!({
            "id": order, "name": format!("#{order}"), "tags": format!("do:{what}"), "total_price": "120.00",
            "customer": {"id": 7001, "email": "pat@example.com"},
        }))
        .unwrap();
        let resp = self
            .client
            .post(self.pipeline.webhook_url())
            .header(headers::TOPIC, "orders/create")
            .header(headers::SHOP_DOMAIN, shop)
            .header(headers::API_VERSION, "2026-07")
            .header(headers::WEBHOOK_ID, webhook)
            .header(headers::EVENT_ID, format!("ev-{webhook}"))
            .header(
                headers::TRIGGERED_AT,
                shopcase_contract::time::format(shopcase_contract::time::Timestamp::now()),
            )
            .header(headers::HMAC, hmac::sign(secret.as_bytes(), &body))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.unwrap();
        v["event_id"].as_str().unwrap().to_owned()
    }

    /// Wait until the event is done (every plugin settled).
    pub(crate) async fn done(&self, event_id: &str) {
        let s = self.storage.clone();
        let id = event_id.to_owned();
        eventually(&format!("event {event_id} done"), || {
            let (s, id) = (s.clone(), id.clone());
            async move {
                s.event(&id)
                    .await
                    .unwrap()
                    .is_some_and(|e| e.status == shopcase_store::EventStatus::Done)
            }
        })
        .await;
    }

    /// `access.denied` audit records, newest first.
    pub(crate) async fn denials(&self) -> Vec<shopcase_store::AuditEntry> {
        self.storage
            .audit_log(None, 10_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.entry.action == "access.denied")
            .collect()
    }
}
