//! Shopify in the shopcase host: executing journalled Shopify operations
//! exactly once, and backing the `customer-history`, `order` and
//! `order-risk` host functions. The
//! Admin API itself (client, idempotent write-back, cache) is
//! `shopcase-shopify` (the emulator `shopcase-shopify-emulator`); this
//! crate reads `[shopify]` and the stores' Admin API tokens and implements
//! the host API's traits (`shopcase-host-api`), so it knows nothing of the
//! pipeline that runs them: [`Shopify::register`] takes any `HostBuilder`.
//!
//! ```no_run
//! # async fn demo(config: shopcase_pipeline::Config) -> Result<(), Box<dyn std::error::Error>> {
//! use shopcase_pipeline::PipelineBuilder;
//! use shopcase_shopify_integration::Shopify;
//! // Every [[stores]] table with an admin token, and [shopify].
//! let shopify = Shopify::from_config(&config)?;
//! let pipeline = shopify.register(PipelineBuilder::new(config)).build().await?;
//! # let _ = pipeline;
//! # Ok(()) }
//! ```
//!
//! One [`ShopifyClient`] serves every store, so all requests to a store
//! (write-backs and history reads) share its pacing estimate of Shopify's
//! rate limit.
//!
//! # Layout
//! - [`settings`]: `[shopify]`, [`ShopifySettings`].
//! - [`executor`]: [`ShopifyExecutor`], the executor of
//!   `ActionFamily::Shopify` entries, and how failures are journalled.
//! - [`history`]: [`ShopifyHistory`], the `CustomerHistorySource` over the
//!   cache, and what plugins are told when it fails.
//! - [`orders`]: [`ShopifyOrders`], the `OrderSource` over the order
//!   cache, likewise.

use std::sync::Arc;

use shopcase_net::Secret;
use shopcase_shopify::{Clock, HistoryCache, OrderCache, ShopConfig, ShopifyClient};

use shopcase_config::{self as config, Config, ConfigError};
use shopcase_host_api::HostBuilder;

pub mod executor;
pub mod history;
pub mod orders;
pub mod settings;

pub use executor::ShopifyExecutor;
pub use history::ShopifyHistory;
pub use orders::ShopifyOrders;
pub use settings::ShopifySettings;

/// The Shopify side of one host: the client with every configured store,
/// the history cache, and the settings.
#[derive(Debug)]
pub struct Shopify {
    settings: ShopifySettings,
    client: Arc<ShopifyClient>,
    cache: Arc<HistoryCache>,
    orders: Arc<OrderCache>,
}

impl Shopify {
    /// Read `[shopify]` and register every `[[stores]]` table that has an
    /// Admin API token (`admin-token-*`), with its API version and
    /// `admin-base-url`. Stores without a token get no write-back: their
    /// Shopify actions are dead-lettered as `no-admin-token` and their
    /// customer history is unavailable (a warning is logged).
    pub fn from_config(config: &Config) -> Result<Shopify, config::Error> {
        let settings = ShopifySettings::from_config(config).map_err(|e| config.locate(e))?;
        let at = |key: String, message: String| {
            config.locate(ConfigError {
                file: config.path.clone(),
                key: Some(key),
                message,
            })
        };
        let client = ShopifyClient::new(settings.client.clone())
            .map_err(|e| at("shopify".to_owned(), e.to_string()))?;
        for (i, store) in config.stores.iter().enumerate() {
            let Some(token) = &store.admin_token else {
                tracing::warn!(shop = %store.domain, "no admin token configured: Shopify actions of this store will be dead-lettered and customer history is unavailable");
                continue;
            };
            let mut shop = ShopConfig::new(
                store.domain.clone(),
                store.api_version.clone(),
                Secret::clone(token),
            );
            if let Some(base) = &store.admin_base_url {
                let url = reqwest::Url::parse(base)
                    .ok()
                    .filter(|u| u.query().is_none() && u.fragment().is_none())
                    .ok_or_else(|| {
                        at(
                            format!("stores[{i}].admin-base-url"),
                            format!("`{base}` must be an http(s) URL without query or fragment"),
                        )
                    })?;
                shop = shop.with_base_url(url);
            }
            client
                .add_shop(shop)
                .map_err(|e| at(format!("stores[{i}]"), e.to_string()))?;
        }
        let client = Arc::new(client);
        let cache = Arc::new(HistoryCache::new(client.clone(), settings.history));
        let orders = Arc::new(OrderCache::new(client.clone(), settings.history));
        Ok(Shopify {
            settings,
            client,
            cache,
            orders,
        })
    }

    /// The same, with the history cache on `clock` (tests move time
    /// instead of sleeping). Replaces the cache, so call it first.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Shopify {
        self.cache = Arc::new(HistoryCache::with_clock(
            self.client.clone(),
            self.settings.history,
            clock.clone(),
        ));
        self.orders = Arc::new(OrderCache::with_clock(
            self.client.clone(),
            self.settings.history,
            clock,
        ));
        self
    }

    /// The checked `[shopify]` settings.
    pub fn settings(&self) -> &ShopifySettings {
        &self.settings
    }

    /// The Admin API client (every configured store).
    pub fn client(&self) -> &Arc<ShopifyClient> {
        &self.client
    }

    /// The order and order-risk cache.
    pub fn order_cache(&self) -> &Arc<OrderCache> {
        &self.orders
    }

    /// The customer-history cache.
    pub fn history_cache(&self) -> &Arc<HistoryCache> {
        &self.cache
    }

    /// The executor of journalled Shopify operations.
    pub fn executor(&self) -> Arc<ShopifyExecutor> {
        Arc::new(ShopifyExecutor::new(
            self.client.clone(),
            self.settings.execute_timeout,
        ))
    }

    /// The `customer-history` source.
    pub fn history_source(&self) -> Arc<ShopifyHistory> {
        Arc::new(ShopifyHistory::new(self.cache.clone()))
    }

    /// The `order` and `order-risk` source.
    pub fn order_source(&self) -> Arc<ShopifyOrders> {
        Arc::new(ShopifyOrders::new(self.orders.clone()))
    }

    /// Register the executor and the host functions' sources with a pipeline.
    pub fn register<B: HostBuilder>(&self, builder: B) -> B {
        builder
            .executor(self.executor())
            .customer_history(self.history_source())
            .orders(self.order_source())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn config(stores: &str) -> Config {
        let text = format!("data-dir = \"d\"\n{stores}");
        Config::parse(&text, Path::new("/etc/shopcase/shopcase.toml")).unwrap()
    }

    #[test]
    fn registers_stores_with_a_token_and_hides_it() {
        let c = config(
            r#"
[[stores]]
domain = "a.myshopify.com"
webhook-secret = "w"
admin-token = "shpat_secret_a"
admin-base-url = "http://127.0.0.1:9/"

[[stores]]
domain = "b.myshopify.com"
webhook-secret = "w"
"#,
        );
        let s = Shopify::from_config(&c).unwrap();
        let debug = format!("{s:?}");
        assert!(!debug.contains("shpat_secret_a"), "{debug}");
        assert_eq!(s.settings().execute_timeout, c.executor.lease.mul_f64(0.75));
        // Only the store with a token is known to the client.
        let shops = format!("{:?}", s.client());
        assert!(shops.contains("a.myshopify.com") && !shops.contains("b.myshopify.com"));
    }

    #[test]
    fn a_section_error_is_placed_by_its_key() {
        let text = "data-dir = \"d\"\n\n[shopify]\nmax-attempts = 0\n";
        let c = Config::parse(text, Path::new("/etc/shopcase/shopcase.toml")).unwrap();
        let e = Shopify::from_config(&c).err().unwrap();
        assert_eq!(
            e.to_string(),
            "/etc/shopcase/shopcase.toml:4: `shopify.max-attempts`: must be at least 1"
        );
    }

    #[test]
    fn a_bad_base_url_names_the_store_key() {
        let c = config(
            r#"
[[stores]]
domain = "a.myshopify.com"
webhook-secret = "w"
admin-token = "t"
admin-base-url = "http://127.0.0.1:9/?x=1"
"#,
        );
        let e = Shopify::from_config(&c).unwrap_err().to_string();
        assert!(
            e.starts_with("/etc/shopcase/shopcase.toml:7: `stores[0].admin-base-url`: "),
            "{e}"
        );
    }
}
