//! Finding the test components and packaging them with a manifest.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use shopcase_contract::{Event, EventFile};
use shopcase_sandbox::{HostServices, Invocation, MemoryServices, Plugin, Runtime, RuntimeConfig};

/// A test component: from `SHOPCASE_WASM_DIR` (where `cargo xtask
/// build-plugins` puts them), else built on demand.
pub(crate) fn wasm(name: &str) -> PathBuf {
    shopcase_testkit::wasm(name)
}

/// One runtime for the whole test binary, as in the server.
pub(crate) fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| Runtime::new(RuntimeConfig::default()).expect("runtime"))
}

pub(crate) const BASE_MANIFEST: &str = r#"
[plugin]
id = "hostile"
version = "0.1.0"
api = "0.1.0"
topics = ["orders/create"]

[grants]
actions = ["open-case", "tags-add", "set-metafield"]
host = ["log", "customer-history"]
case-types = ["hostile"]
"#;

/// Package `component` with `manifest` text in a fresh directory.
pub(crate) fn package(component: &str, manifest: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("source.toml");
    std::fs::write(&src, manifest).unwrap();
    let out = shopcase_contract::manifest::package(&src, &wasm(component), &dir.path().join("pkg"))
        .unwrap();
    (dir, out)
}

/// Load `component` with `manifest`.
pub(crate) fn load(component: &str, manifest: &str) -> Plugin {
    let (dir, path) = package(component, manifest);
    let plugin = runtime()
        .load(&path)
        .unwrap_or_else(|e| panic!("load: {e}"));
    drop(dir);
    plugin
}

/// An `orders/create` event for order 1001 / customer 7 with this payload.
pub(crate) fn event(payload: serde_json::Value) -> Event {
    let mut p = payload;
    p["id"] = 1001.into();
    p["customer"] = serde_json::json!({"id": 7});
    EventFile {
        topic: "orders/create".into(),
        shop: "demo.myshopify.com".into(),
        webhook_id: Some(format!("w-{}", p["tags"])),
        event_id: None,
        triggered_at: Some("2026-11-26T10:00:00Z".into()),
        api_version: None,
        payload: p,
    }
    .to_event()
}

pub(crate) fn run(plugin: &Plugin, payload: serde_json::Value) -> Invocation {
    run_with(plugin, payload, Arc::new(MemoryServices::new()))
}

pub(crate) fn run_with(
    plugin: &Plugin,
    payload: serde_json::Value,
    services: Arc<dyn HostServices>,
) -> Invocation {
    plugin.invoke(&event(payload), Arc::new(Default::default()), services)
}
