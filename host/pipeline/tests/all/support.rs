//! A real host for each test: SQLite in a temporary directory, packaged
//! copies of the hostile test component as plugins, an axum server on
//! 127.0.0.1:0, and signed deliveries over real HTTP (or `oneshot`).

use shopcase_testkit::config::TestConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use http::Request;
use serde_json::{Value, json};
use shopcase_admin::{Admin, EnableRequest, SettingInput};
use shopcase_pipeline::ingress::{headers, hmac};
use shopcase_pipeline::{Config, PipelineBuilder, RunningPipeline};
use shopcase_store::Storage;
use tower::ServiceExt as _;

pub(crate) use shopcase_testkit::{eventually, runtime, wasm};

pub(crate) const SHOP_A: &str = "a.myshopify.com";
pub(crate) const SHOP_B: &str = "b.myshopify.com";
pub(crate) const SECRET_A: &str = "secret-a";
pub(crate) const SECRET_B: &str = "secret-b";

/// A plugin manifest for the hostile component.
pub(crate) struct PluginSpec<'a> {
    pub(crate) id: &'a str,
    pub(crate) version: &'a str,
    pub(crate) topics: &'a [&'a str],
    pub(crate) data: &'a [&'a str],
    pub(crate) settings: &'a str,
    /// `grants.case-types`; with `"*"` (read-only) no case action is granted.
    pub(crate) case_types: &'a [&'a str],
}

impl<'a> PluginSpec<'a> {
    pub(crate) fn new(id: &'a str) -> Self {
        PluginSpec {
            id,
            version: "1.0.0",
            topics: &["orders/create", "timer/fired"],
            data: &[],
            settings: "",
            case_types: &["hostile"],
        }
    }

    fn manifest(&self) -> String {
        let list = |v: &[&str]| {
            v.iter()
                .map(|s| format!("\"{s}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            r#"
[plugin]
id = "{}"
version = "{}"
api = "0.1.0"
topics = [{}]

[grants]
actions = [{}]
host = ["log", "kv", "customer-history", "settings"]
data = [{}]
case-types = [{}]
{}
"#,
            self.id,
            self.version,
            list(self.topics),
            if self.case_types.contains(&"*") {
                list(&["tags-add", "set-metafield"])
            } else {
                list(&["tags-add", "open-case", "set-metafield"])
            },
            list(self.data),
            list(self.case_types),
            self.settings
        )
    }
}

/// Package the hostile component as `spec` under `plugins_dir/<id>/`
/// (or `<id>/<version>/` when `versioned`).
pub(crate) fn package(plugins_dir: &Path, spec: &PluginSpec<'_>, versioned: bool) {
    let src_dir = tempfile::tempdir().unwrap();
    let src = src_dir.path().join("plugin.toml");
    std::fs::write(&src, spec.manifest()).unwrap();
    let out = if versioned {
        plugins_dir.join(spec.id).join(spec.version)
    } else {
        plugins_dir.join(spec.id)
    };
    shopcase_contract::manifest::package(&src, &wasm("hostile"), &out).unwrap();
}

/// Package `spec` with a rebuilt hostile component: the same code with a
/// custom section naming `build` appended, so its sha256 differs (a
/// partner's new build of the same version).
pub(crate) fn package_rebuilt(plugins_dir: &Path, spec: &PluginSpec<'_>, build: &str) {
    let mut bytes = std::fs::read(wasm("hostile")).unwrap();
    let name = b"shopcase-test-build";
    let payload = build.as_bytes();
    let size = 1 + name.len() + payload.len();
    assert!(size < 128 && name.len() < 128, "one-byte LEB128 sizes");
    bytes.push(0); // a custom section: valid anywhere in a component
    bytes.push(size as u8);
    bytes.push(name.len() as u8);
    bytes.extend_from_slice(name);
    bytes.extend_from_slice(payload);
    let src_dir = tempfile::tempdir().unwrap();
    let src = src_dir.path().join("plugin.toml");
    std::fs::write(&src, spec.manifest()).unwrap();
    let component = src_dir.path().join("rebuilt.wasm");
    std::fs::write(&component, bytes).unwrap();
    shopcase_contract::manifest::package(&src, &component, &plugins_dir.join(spec.id)).unwrap();
}

/// Test configuration: fast retries, short leases, two stores.
pub(crate) fn config_text(extra_dispatcher: &str) -> String {
    TestConfig {
        server: vec![
            "max-body-bytes = 65536".into(),
            "max-age = \"24h\"".into(),
            "ack-timeout = \"2s\"".into(),
        ],
        busy_timeout: "\"100ms\"",
        dispatcher_head: vec!["batch = 16".into()],
        dispatcher_tail: vec!["quarantine-after = 2".into(), extra_dispatcher.to_owned()],
        stores: vec![
            TestConfig::store(SHOP_A, SECRET_A, &[]),
            TestConfig::store(SHOP_B, SECRET_B, &[]),
        ],
        ..TestConfig::default()
    }
    .render()
}

/// A host directory: configuration, data and plugins.
pub(crate) struct Host {
    pub(crate) dir: tempfile::TempDir,
}

impl Host {
    /// With `workers` dispatcher workers and the given extra config.
    pub(crate) fn new(workers: usize) -> Host {
        Host::with_config(&config_text(&format!("workers = {workers}")))
    }

    pub(crate) fn with_config(text: &str) -> Host {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("plugins")).unwrap();
        std::fs::write(dir.path().join("shopcase.toml"), text).unwrap();
        Host { dir }
    }

    pub(crate) fn config_path(&self) -> PathBuf {
        self.dir.path().join("shopcase.toml")
    }

    pub(crate) fn config(&self) -> Config {
        Config::load(&self.config_path()).unwrap()
    }

    pub(crate) fn plugins_dir(&self) -> PathBuf {
        self.dir.path().join("plugins")
    }

    pub(crate) fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub(crate) fn add_plugin(&self, spec: &PluginSpec<'_>) {
        package(&self.plugins_dir(), spec, false);
    }

    /// Build the pipeline (not serving yet).
    pub(crate) async fn pipeline(&self) -> shopcase_pipeline::Pipeline {
        PipelineBuilder::new(self.config())
            .runtime(runtime())
            .build()
            .await
            .unwrap()
    }

    /// Serve on 127.0.0.1:0.
    pub(crate) async fn start(&self) -> RunningPipeline {
        self.start_with(|b| b).await
    }

    pub(crate) async fn start_with(
        &self,
        f: impl FnOnce(PipelineBuilder) -> PipelineBuilder,
    ) -> RunningPipeline {
        let p = f(PipelineBuilder::new(self.config()).runtime(runtime()))
            .build()
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        p.spawn(listener)
    }

    /// Enable a plugin for a store through the admin code path.
    pub(crate) async fn enable(
        &self,
        storage: &Arc<dyn Storage>,
        shop: &str,
        plugin: &str,
        settings: &[(&str, &str)],
    ) {
        Admin::new(storage.clone(), &self.config())
            .enable(EnableRequest {
                shop: shop.into(),
                plugin: plugin.into(),
                version: None,
                settings: settings
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), SettingInput::Text((*v).to_owned())))
                    .collect(),
                actor: "test@example.com".into(),
            })
            .await
            .unwrap();
    }
}

/// A delivery as Shopify sends it.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    pub(crate) body: Vec<u8>,
    pub(crate) headers: Vec<(String, String)>,
}

impl Delivery {
    /// An `orders/create` delivery for `order` in `shop`, signed with `secret`.
    pub(crate) fn order(shop: &str, secret: &str, webhook_id: &str, payload: Value) -> Delivery {
        Delivery::new(shop, secret, "orders/create", webhook_id, payload)
    }

    pub(crate) fn new(
        shop: &str,
        secret: &str,
        topic: &str,
        webhook_id: &str,
        payload: Value,
    ) -> Delivery {
        let body = serde_json::to_vec(&payload).unwrap();
        let mut d = Delivery {
            headers: vec![
                (headers::TOPIC.into(), topic.into()),
                (headers::SHOP_DOMAIN.into(), shop.into()),
                (headers::API_VERSION.into(), "2026-07".into()),
                (headers::WEBHOOK_ID.into(), webhook_id.into()),
                (headers::EVENT_ID.into(), format!("ev-{webhook_id}")),
                (
                    headers::TRIGGERED_AT.into(),
                    shopcase_contract::time::format(shopcase_contract::time::Timestamp::now()),
                ),
            ],
            body,
        };
        d.sign(secret);
        d
    }

    /// (Re-)sign the current body.
    pub(crate) fn sign(&mut self, secret: &str) {
        let sig = hmac::sign(secret.as_bytes(), &self.body);
        self.set(headers::HMAC, &sig);
    }

    pub(crate) fn set(&mut self, name: &str, value: &str) {
        self.remove(name);
        self.headers.push((name.to_owned(), value.to_owned()));
    }

    pub(crate) fn remove(&mut self, name: &str) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    }

    pub(crate) fn request(&self) -> Request<Body> {
        let mut b = Request::post("/webhooks/shopify").header("content-type", "application/json");
        for (k, v) in &self.headers {
            b = b.header(k, v);
        }
        b.body(Body::from(self.body.clone())).unwrap()
    }
}

/// An order payload.
pub(crate) fn order(id: u64, what: &str) -> Value {
    json!({"id": id, "name": format!("#{id}"), "tags": format!("do:{what}"), "total_price": "120.00",
           "customer": {"id": 7001}, "line_items": [{"id": 1, "title": "Shirt", "quantity": 1, "price": "120.00"}]})
}

/// Send through the router without a socket.
pub(crate) async fn oneshot(router: &axum::Router, d: &Delivery) -> (u16, Value) {
    let resp = router.clone().oneshot(d.request()).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Send over HTTP.
pub(crate) async fn post(client: &reqwest::Client, url: &str, d: &Delivery) -> (u16, Value) {
    let mut req = client.post(url).body(d.body.clone());
    for (k, v) in &d.headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Whether the event is done (every plugin settled).
pub(crate) async fn is_done(storage: &Arc<dyn Storage>, event_id: &str) -> bool {
    storage
        .event(event_id)
        .await
        .unwrap()
        .is_some_and(|e| e.status == shopcase_store::EventStatus::Done)
}

/// A write transaction held on the database from another connection (as
/// another process would), until dropped.
pub(crate) struct LockGuard(rusqlite::Connection);

impl LockGuard {
    pub(crate) fn new(db: &Path) -> LockGuard {
        let c = rusqlite::Connection::open(db).unwrap();
        c.execute_batch("BEGIN IMMEDIATE").unwrap();
        LockGuard(c)
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = self.0.execute_batch("ROLLBACK");
    }
}
