//! Customer history for the `customer-history` host function, read from the
//! Admin API and cached per store.
//!
//! One query per customer:
//! `customer(id) { numberOfOrders amountSpent { amount currencyCode } tags
//! createdAt orders(first: 20, sortKey: CREATED_AT, reverse: true) { ... } }`,
//! mapped to [`CustomerHistory`]. A customer Shopify does not know (`customer:
//! null`: deleted, or redacted) is an answer too: an empty history
//! (`empty_history`: no orders, `0.00` spent, no tags), not an error, so
//! a plugin treats them as a customer without history instead of failing.
//! Answers are cached per (shop, customer) for
//! a configurable TTL; concurrent misses for the same customer share one
//! query. Failures are not cached. Time comes from a [`Clock`] so tests (and
//! the executor's) can move it without sleeping.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use shopcase_contract::host_api::{CustomerHistory, HISTORY_MAX_ORDERS, OrderSummary};
use tokio::sync::OnceCell;

use crate::client::{Request, ShopifyClient};
use crate::error::{Error, Result};
use crate::gid;

pub(crate) const HISTORY: &str = "query CustomerHistory($id: ID!) { customer(id: $id) { id numberOfOrders amountSpent { amount currencyCode } tags createdAt orders(first: 20, sortKey: CREATED_AT, reverse: true) { nodes { id name createdAt totalPriceSet { shopMoney { amount currencyCode } } displayFinancialStatus displayFulfillmentStatus cancelledAt shippingAddress { countryCodeV2 } } } } }";

/// A source of `Instant`s.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now.
    fn now(&self) -> Instant;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that only moves when told to (tests).
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    offset: Mutex<Duration>,
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock {
            start: Instant::now(),
            offset: Mutex::new(Duration::ZERO),
        }
    }
}

impl ManualClock {
    /// Move time forward.
    pub fn advance(&self, by: Duration) {
        *self
            .offset
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start
            + *self
                .offset
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Cache settings.
#[derive(Debug, Clone, Copy)]
pub struct HistoryConfig {
    /// How long an answer is reused.
    pub ttl: Duration,
    /// Most cached customers (all stores); the oldest go first.
    pub max_entries: usize,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        HistoryConfig {
            ttl: Duration::from_secs(300),
            max_entries: 10_000,
        }
    }
}

type Slot = Arc<OnceCell<(Arc<CustomerHistory>, Instant)>>;

/// The per-store customer-history cache in front of a [`ShopifyClient`].
#[derive(Debug)]
pub struct HistoryCache {
    client: Arc<ShopifyClient>,
    config: HistoryConfig,
    clock: Arc<dyn Clock>,
    slots: Mutex<HashMap<(String, u64), Slot>>,
}

impl HistoryCache {
    /// A cache on the real clock.
    pub fn new(client: Arc<ShopifyClient>, config: HistoryConfig) -> HistoryCache {
        HistoryCache::with_clock(client, config, Arc::new(SystemClock))
    }

    /// A cache on the given clock.
    pub fn with_clock(
        client: Arc<ShopifyClient>,
        config: HistoryConfig,
        clock: Arc<dyn Clock>,
    ) -> HistoryCache {
        HistoryCache {
            client,
            config,
            clock,
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<(String, u64), Slot>> {
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The customer's history: from the cache while fresh, else from Shopify.
    pub async fn customer_history(
        &self,
        shop: &str,
        customer_id: u64,
    ) -> Result<Arc<CustomerHistory>> {
        let slot = {
            let mut slots = self.slots();
            let now = self.clock.now();
            let key = (shop.to_string(), customer_id);
            let fresh = slots.get(&key).filter(|s| match s.get() {
                Some((_, at)) => now.saturating_duration_since(*at) < self.config.ttl,
                None => true, // being fetched: wait for it
            });
            match fresh {
                Some(s) => s.clone(),
                None => {
                    if slots.len() >= self.config.max_entries {
                        self.evict(&mut slots, now);
                    }
                    let s = Slot::default();
                    slots.insert(key, s.clone());
                    s
                }
            }
        };
        let (history, _) = slot
            .get_or_try_init(|| async {
                let h = self.fetch(shop, customer_id).await?;
                Ok::<_, Error>((Arc::new(h), self.clock.now()))
            })
            .await?;
        Ok(history.clone())
    }

    fn evict(&self, slots: &mut HashMap<(String, u64), Slot>, now: Instant) {
        slots.retain(|_, s| {
            s.get()
                .is_none_or(|(_, at)| now.saturating_duration_since(*at) < self.config.ttl)
        });
        while slots.len() >= self.config.max_entries {
            let oldest = slots
                .iter()
                .filter_map(|(k, s)| s.get().map(|(_, at)| (k.clone(), *at)))
                .min_by_key(|(_, at)| *at);
            match oldest {
                Some((k, _)) => {
                    slots.remove(&k);
                }
                None => break,
            }
        }
    }

    /// Forget one customer (e.g. after a `customers/update` webhook).
    pub fn invalidate(&self, shop: &str, customer_id: u64) {
        self.slots().remove(&(shop.to_string(), customer_id));
    }

    /// Forget a whole store (`shop/redact`, uninstall).
    pub fn invalidate_shop(&self, shop: &str) {
        self.slots().retain(|(s, _), _| s != shop);
    }

    async fn fetch(&self, shop: &str, customer_id: u64) -> Result<CustomerHistory> {
        let id = gid::format("Customer", customer_id);
        let request = Request {
            operation: "customer",
            document: HISTORY,
            variables: json!({"id": id}),
        };
        let data = self.client.execute(shop, &request).await?;
        match data.get("customer") {
            Some(Value::Null) => {
                // Shopify no longer knows the customer (deleted, redacted):
                // that is an answer, the same as a customer with no orders.
                tracing::debug!(
                    shop,
                    customer_id,
                    "customer unknown to Shopify; empty history"
                );
                Ok(empty_history(customer_id))
            }
            Some(customer) => Ok(to_history(customer_id, customer)),
            None => Err(Error::Decode {
                shop: shop.to_string(),
                operation: "customer",
                detail: "the answer has no `customer` field".into(),
            }),
        }
    }
}

/// The history of a customer Shopify does not know: no orders, nothing
/// spent, no tags, no creation time (which is how a plugin can tell it
/// from a new customer, if it cares).
fn empty_history(customer_id: u64) -> CustomerHistory {
    CustomerHistory {
        customer_id,
        number_of_orders: 0,
        amount_spent: "0.00".into(),
        currency: String::new(),
        tags: Vec::new(),
        created_at: String::new(),
        recent_orders: Vec::new(),
    }
}

fn s(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// Map Shopify's customer to ours. `numberOfOrders` is an `UnsignedInt64`,
/// which Shopify sends as a string.
fn to_history(customer_id: u64, c: &Value) -> CustomerHistory {
    let number_of_orders = match c.get("numberOfOrders") {
        Some(Value::String(n)) => n.parse().unwrap_or(0),
        Some(v) => v.as_u64().unwrap_or(0),
        None => 0,
    };
    let tags = c
        .get("tags")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let recent_orders = c
        .pointer("/orders/nodes")
        .and_then(Value::as_array)
        .map(|orders| {
            orders
                .iter()
                .filter_map(|o| {
                    let id = gid::id_of(o.get("id")?.as_str()?, "Order")?;
                    Some(OrderSummary {
                        id,
                        name: s(o, "/name"),
                        created_at: s(o, "/createdAt"),
                        total_price: s(o, "/totalPriceSet/shopMoney/amount"),
                        currency: s(o, "/totalPriceSet/shopMoney/currencyCode"),
                        financial_status: s(o, "/displayFinancialStatus"),
                        fulfillment_status: s(o, "/displayFulfillmentStatus"),
                        cancelled: o.get("cancelledAt").is_some_and(|v| !v.is_null()),
                        shipping_country: o
                            .pointer("/shippingAddress/countryCodeV2")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                    })
                })
                .take(HISTORY_MAX_ORDERS)
                .collect()
        })
        .unwrap_or_default();
    CustomerHistory {
        customer_id,
        number_of_orders,
        amount_spent: s(c, "/amountSpent/amount"),
        currency: s(c, "/amountSpent/currencyCode"),
        tags,
        created_at: s(c, "/createdAt"),
        recent_orders,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_shopify_customer_to_history() {
        let c = json!({
            "id": "gid://shopify/Customer/7", "numberOfOrders": "12",
            "amountSpent": {"amount": "1530.50", "currencyCode": "EUR"},
            "tags": ["VIP"], "createdAt": "2024-01-02T03:04:05Z",
            "orders": {"nodes": [
                {"id": "gid://shopify/Order/9", "name": "#1009", "createdAt": "2026-11-01T00:00:00Z",
                 "totalPriceSet": {"shopMoney": {"amount": "99.00", "currencyCode": "EUR"}},
                 "displayFinancialStatus": "PAID", "displayFulfillmentStatus": "FULFILLED",
                 "cancelledAt": null, "shippingAddress": {"countryCodeV2": "DE"}},
                {"id": "not-a-gid"}
            ]}
        });
        let h = to_history(7, &c);
        assert_eq!(h.number_of_orders, 12);
        assert_eq!(h.amount_spent, "1530.50");
        assert_eq!(h.tags, vec!["VIP"]);
        assert_eq!(h.recent_orders.len(), 1);
        assert_eq!(h.recent_orders[0].id, 9);
        assert_eq!(h.recent_orders[0].shipping_country.as_deref(), Some("DE"));
        assert!(!h.recent_orders[0].cancelled);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::default();
        let a = c.now();
        assert_eq!(c.now(), a);
        c.advance(Duration::from_secs(5));
        assert_eq!(c.now() - a, Duration::from_secs(5));
    }
}
