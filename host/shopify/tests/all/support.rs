//! Shared set-up: an emulator on a loopback port and a client pointed at it.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use shopcase_net::{Backoff, Secret};
use shopcase_shopify::{ClientConfig, ShopConfig, ShopifyClient};
use shopcase_shopify_emulator::{self as emulator, EmulatorConfig, RunningEmulator};

/// The demo store of the built-in seed.
pub(crate) const SHOP: &str = "demo.myshopify.com";
pub(crate) const TOKEN: &str = "shpat_emulator_demo";
pub(crate) const VERSION: &str = "2026-07";

/// Short waits so tests stay fast; the logic is the production logic.
pub(crate) fn fast_client_config() -> ClientConfig {
    ClientConfig {
        backoff: Backoff {
            base: Duration::from_millis(5),
            max: Duration::from_millis(40),
            max_attempts: 5,
            max_retry_after: Duration::from_millis(100),
        },
        request_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        max_throttle_waits: 100,
        ..ClientConfig::default()
    }
}

pub(crate) struct Env {
    pub(crate) running: RunningEmulator,
    pub(crate) client: Arc<ShopifyClient>,
    pub(crate) http: reqwest::Client,
}

impl Env {
    pub(crate) fn url(&self, path: &str) -> String {
        format!(
            "{}{}",
            self.running.base_url(),
            path.trim_start_matches('/')
        )
    }

    /// The applied mutations of one operation, read over HTTP the way the
    /// demo counts them.
    pub(crate) async fn applied(&self, operation: &str) -> Vec<Value> {
        let v: Value = self
            .http
            .get(self.url(&format!(
                "/_emulator/mutations?shop={SHOP}&operation={operation}"
            )))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["mutations"].as_array().cloned().unwrap()
    }

    /// An order's current state, over HTTP.
    pub(crate) async fn order(&self, id: u64) -> Value {
        self.http
            .get(self.url(&format!("/_emulator/shops/{SHOP}/orders/{id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub(crate) async fn fault(&self, fault: Value) {
        let r = self
            .http
            .post(self.url("/_emulator/faults"))
            .json(&fault)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }

    /// Another client on the same emulator.
    pub(crate) fn client_with(&self, config: ClientConfig, token: &str) -> Arc<ShopifyClient> {
        let client = ShopifyClient::new(config).unwrap();
        client
            .add_shop(
                ShopConfig::new(SHOP, VERSION, Secret::new(token))
                    .with_base_url(self.running.base_url()),
            )
            .unwrap();
        Arc::new(client)
    }
}

pub(crate) async fn env() -> Env {
    env_with(EmulatorConfig::default(), fast_client_config()).await
}

pub(crate) async fn env_with(config: EmulatorConfig, client_config: ClientConfig) -> Env {
    let running = emulator::spawn(config).await.unwrap();
    let client = ShopifyClient::new(client_config).unwrap();
    client
        .add_shop(
            ShopConfig::new(SHOP, VERSION, Secret::new(TOKEN)).with_base_url(running.base_url()),
        )
        .unwrap();
    Env {
        running,
        client: Arc::new(client),
        http: reqwest::Client::new(),
    }
}
