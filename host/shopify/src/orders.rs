//! The event's order and Shopify's risk assessment of it, for the `order`
//! and `order-risk` host functions (plugin API 0.2.0), read from the Admin
//! API and cached per store.
//!
//! One query each (documents below; every field checked against Shopify's
//! published Admin schema, 2025-10 to 2026-10):
//! - `order(id)`: name, dates, totals (`subtotalPriceSet`, `totalPriceSet`,
//!   `currentTotalPriceSet`, `totalOutstandingSet`, `totalRefundedSet`),
//!   display statuses, `cancelledAt`, `customer { id }`, the first 100
//!   line items, both addresses (every field payload minimisation knows;
//!   the sandbox removes what the plugin may not see), the first 20
//!   fulfilments with their tracking, the first 50 transactions (kind,
//!   status, gateway, amount; no receipts or card data) → [`OrderDetails`];
//! - `order(id) { risk { recommendation assessments { riskLevel provider
//!   { title } facts { description sentiment } } } }` → [`OrderRisk`]
//!   (`provider: null` is Shopify's own assessment).
//!
//! An order Shopify does not know is [`Error::NotFound`]. Answers are kept
//! per (shop, order) for the cache's TTL (the customer history's
//! [`HistoryConfig`]); concurrent misses share one query; failures are not
//! cached.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::{Value, json};
use shopcase_contract::host_api::{
    Address, Money, ORDER_MAX_FULFILLMENTS, ORDER_MAX_LINE_ITEMS, ORDER_MAX_TRANSACTIONS,
    OrderDetails, OrderFulfillment, OrderLineItem, OrderRisk, OrderTransaction, RISK_MAX_FACTS,
    RiskAssessment, RiskFact, RiskLevel, RiskRecommendation, RiskSentiment,
};
use tokio::sync::OnceCell;

use crate::client::{Request, ShopifyClient};
use crate::error::{Error, Result};
use crate::gid;
use crate::history::{Clock, HistoryConfig, SystemClock};

const ADDRESS: &str = "firstName lastName name phone company address1 address2 city province provinceCode country countryCodeV2 zip latitude longitude";

/// The `order` document (`ADDRESS` is spliced in twice: the emulator's
/// reader and the cost estimate do not follow fragments).
pub(crate) fn order_document() -> String {
    format!(
        "query OrderDetails($id: ID!) {{ order(id: $id) {{ id name createdAt currencyCode cancelledAt displayFinancialStatus displayFulfillmentStatus subtotalPriceSet {{ shopMoney {{ amount currencyCode }} }} totalPriceSet {{ shopMoney {{ amount currencyCode }} }} currentTotalPriceSet {{ shopMoney {{ amount currencyCode }} }} totalOutstandingSet {{ shopMoney {{ amount currencyCode }} }} totalRefundedSet {{ shopMoney {{ amount currencyCode }} }} customer {{ id }} lineItems(first: {ORDER_MAX_LINE_ITEMS}) {{ nodes {{ id title sku quantity originalUnitPriceSet {{ shopMoney {{ amount currencyCode }} }} variant {{ id }} product {{ id }} }} }} shippingAddress {{ {ADDRESS} }} billingAddress {{ {ADDRESS} }} fulfillments(first: {ORDER_MAX_FULFILLMENTS}) {{ id status createdAt trackingInfo(first: 1) {{ company number }} }} transactions(first: {ORDER_MAX_TRANSACTIONS}) {{ kind status gateway createdAt amountSet {{ shopMoney {{ amount currencyCode }} }} }} }} }}"
    )
}

/// The `order-risk` document.
pub const RISK: &str = "query OrderRisk($id: ID!) { order(id: $id) { id risk { recommendation assessments { riskLevel provider { title } facts { description sentiment } } } } }";

type Slot<V> = Arc<OnceCell<(Arc<V>, Instant)>>;

/// Fresh answers per (shop, order), and fetches in flight.
#[derive(Debug)]
struct Slots<K, V> {
    map: Mutex<HashMap<K, Slot<V>>>,
}

impl<K: Hash + Eq + Clone, V> Slots<K, V> {
    fn new() -> Self {
        Slots {
            map: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Slot<V>>> {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The slot for `key`: the fresh one, one being fetched, or a new one.
    fn slot(&self, key: K, now: Instant, config: HistoryConfig) -> Slot<V> {
        let mut map = self.lock();
        let fresh = map.get(&key).filter(|s| match s.get() {
            Some((_, at)) => now.saturating_duration_since(*at) < config.ttl,
            None => true,
        });
        if let Some(s) = fresh {
            return s.clone();
        }
        if map.len() >= config.max_entries {
            map.retain(|_, s| {
                s.get()
                    .is_some_and(|(_, at)| now.saturating_duration_since(*at) < config.ttl)
            });
            // Still full of fresh answers: start over rather than grow.
            if map.len() >= config.max_entries {
                map.clear();
            }
        }
        let s = Slot::default();
        map.insert(key, s.clone());
        s
    }
}

/// The per-store order and risk cache in front of a [`ShopifyClient`].
#[derive(Debug)]
pub struct OrderCache {
    client: Arc<ShopifyClient>,
    config: HistoryConfig,
    clock: Arc<dyn Clock>,
    orders: Slots<(String, u64), OrderDetails>,
    risks: Slots<(String, u64), OrderRisk>,
}

impl OrderCache {
    /// A cache on the real clock.
    pub fn new(client: Arc<ShopifyClient>, config: HistoryConfig) -> OrderCache {
        OrderCache::with_clock(client, config, Arc::new(SystemClock))
    }

    /// A cache on the given clock.
    pub fn with_clock(
        client: Arc<ShopifyClient>,
        config: HistoryConfig,
        clock: Arc<dyn Clock>,
    ) -> OrderCache {
        OrderCache {
            client,
            config,
            clock,
            orders: Slots::new(),
            risks: Slots::new(),
        }
    }

    /// The order, whole (the caller minimises it): cached while fresh.
    pub async fn order(&self, shop: &str, order_id: u64) -> Result<Arc<OrderDetails>> {
        let slot = self
            .orders
            .slot((shop.to_owned(), order_id), self.clock.now(), self.config);
        let (v, _) = slot
            .get_or_try_init(|| async {
                let document = order_document();
                let o = self.fetch(shop, order_id, "order", &document).await?;
                Ok::<_, Error>((Arc::new(to_order(order_id, &o)), self.clock.now()))
            })
            .await?;
        Ok(v.clone())
    }

    /// Shopify's risk assessment of the order: cached while fresh.
    pub async fn order_risk(&self, shop: &str, order_id: u64) -> Result<Arc<OrderRisk>> {
        let slot = self
            .risks
            .slot((shop.to_owned(), order_id), self.clock.now(), self.config);
        let (v, _) = slot
            .get_or_try_init(|| async {
                let o = self.fetch(shop, order_id, "order", RISK).await?;
                Ok::<_, Error>((Arc::new(to_risk(&o)), self.clock.now()))
            })
            .await?;
        Ok(v.clone())
    }

    /// Forget a whole store (`shop/redact`, uninstall).
    pub fn invalidate_shop(&self, shop: &str) {
        self.orders.lock().retain(|(s, _), _| s != shop);
        self.risks.lock().retain(|(s, _), _| s != shop);
    }

    /// Forget one order (e.g. after the host changed it).
    pub fn invalidate(&self, shop: &str, order_id: u64) {
        let key = (shop.to_owned(), order_id);
        self.orders.lock().remove(&key);
        self.risks.lock().remove(&key);
    }

    async fn fetch(
        &self,
        shop: &str,
        order_id: u64,
        operation: &'static str,
        document: &str,
    ) -> Result<Value> {
        let id = gid::format("Order", order_id);
        let request = Request {
            operation,
            document,
            variables: json!({"id": id}),
        };
        let mut data = self.client.execute(shop, &request).await?;
        match data.get_mut("order").map(Value::take) {
            Some(Value::Null) => Err(Error::NotFound {
                shop: shop.to_owned(),
                what: format!("order {id}"),
            }),
            Some(order) => Ok(order),
            None => Err(Error::Decode {
                shop: shop.to_owned(),
                operation,
                detail: "the answer has no `order` field".into(),
            }),
        }
    }
}

fn s(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

fn opt(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// A `MoneyBag`'s shop money.
fn money(v: &Value, field: &str) -> Option<Money> {
    let m = v.get(field)?.get("shopMoney")?;
    Some(Money {
        amount: s(m, "/amount"),
        currency: s(m, "/currencyCode"),
    })
}

fn address(v: &Value) -> Option<Address> {
    let a = v.as_object()?;
    let text = |k: &str| a.get(k).and_then(Value::as_str).map(str::to_owned);
    Some(Address {
        first_name: text("firstName"),
        last_name: text("lastName"),
        name: text("name"),
        phone: text("phone"),
        company: text("company"),
        address1: text("address1"),
        address2: text("address2"),
        city: text("city"),
        province: text("province"),
        province_code: text("provinceCode"),
        country: text("country"),
        country_code: text("countryCodeV2"),
        zip: text("zip"),
        latitude: a.get("latitude").and_then(Value::as_f64),
        longitude: a.get("longitude").and_then(Value::as_f64),
    })
}

fn nodes<'v>(v: &'v Value, pointer: &str) -> &'v [Value] {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn gid_of(v: &Value, pointer: &str, kind: &str) -> Option<u64> {
    gid::id_of(v.pointer(pointer)?.as_str()?, kind)
}

/// Map Shopify's order to ours.
fn to_order(order_id: u64, o: &Value) -> OrderDetails {
    let currency = s(o, "/currencyCode");
    let zero = || Money {
        amount: "0.00".into(),
        currency: currency.clone(),
    };
    OrderDetails {
        id: order_id,
        name: s(o, "/name"),
        created_at: s(o, "/createdAt"),
        subtotal: money(o, "subtotalPriceSet"),
        total: money(o, "totalPriceSet").unwrap_or_else(zero),
        current_total: money(o, "currentTotalPriceSet").unwrap_or_else(zero),
        outstanding: money(o, "totalOutstandingSet").unwrap_or_else(zero),
        total_refunded: money(o, "totalRefundedSet").unwrap_or_else(zero),
        financial_status: s(o, "/displayFinancialStatus"),
        fulfillment_status: s(o, "/displayFulfillmentStatus"),
        cancelled: o.get("cancelledAt").is_some_and(|v| !v.is_null()),
        customer_id: gid_of(o, "/customer/id", "Customer"),
        line_items: nodes(o, "/lineItems/nodes")
            .iter()
            .filter_map(|l| {
                Some(OrderLineItem {
                    id: gid_of(l, "/id", "LineItem")?,
                    title: s(l, "/title"),
                    sku: opt(l, "/sku").filter(|s| !s.is_empty()),
                    quantity: l
                        .get("quantity")
                        .and_then(Value::as_u64)
                        .and_then(|q| u32::try_from(q).ok())
                        .unwrap_or(0),
                    unit_price: money(l, "originalUnitPriceSet").unwrap_or_else(zero),
                    variant_id: gid_of(l, "/variant/id", "ProductVariant"),
                    product_id: gid_of(l, "/product/id", "Product"),
                })
            })
            .take(ORDER_MAX_LINE_ITEMS)
            .collect(),
        shipping_address: o.get("shippingAddress").and_then(address),
        billing_address: o.get("billingAddress").and_then(address),
        fulfillments: nodes(o, "/fulfillments")
            .iter()
            .filter_map(|f| {
                Some(OrderFulfillment {
                    id: gid_of(f, "/id", "Fulfillment")?,
                    status: s(f, "/status"),
                    created_at: s(f, "/createdAt"),
                    tracking_company: opt(f, "/trackingInfo/0/company"),
                    tracking_number: opt(f, "/trackingInfo/0/number"),
                })
            })
            .take(ORDER_MAX_FULFILLMENTS)
            .collect(),
        transactions: nodes(o, "/transactions")
            .iter()
            .map(|t| OrderTransaction {
                kind: s(t, "/kind"),
                status: s(t, "/status"),
                gateway: opt(t, "/gateway"),
                amount: money(t, "amountSet").unwrap_or_else(zero),
                created_at: s(t, "/createdAt"),
            })
            .take(ORDER_MAX_TRANSACTIONS)
            .collect(),
        currency,
    }
}

/// Map Shopify's `OrderRiskSummary` to ours. Values this host does not
/// know (a level or sentiment Shopify adds later) read as the neutral
/// `PENDING` / `NEUTRAL` / `NONE` rather than failing the look-up.
fn to_risk(o: &Value) -> OrderRisk {
    let recommendation = match o.pointer("/risk/recommendation").and_then(Value::as_str) {
        Some("ACCEPT") => RiskRecommendation::Accept,
        Some("CANCEL") => RiskRecommendation::Cancel,
        Some("INVESTIGATE") => RiskRecommendation::Investigate,
        _ => RiskRecommendation::None,
    };
    let assessments = nodes(o, "/risk/assessments")
        .iter()
        .map(|a| RiskAssessment {
            level: match a.get("riskLevel").and_then(Value::as_str) {
                Some("HIGH") => RiskLevel::High,
                Some("MEDIUM") => RiskLevel::Medium,
                Some("LOW") => RiskLevel::Low,
                Some("NONE") => RiskLevel::None,
                _ => RiskLevel::Pending,
            },
            provider: opt(a, "/provider/title"),
            facts: nodes(a, "/facts")
                .iter()
                .map(|f| RiskFact {
                    description: s(f, "/description"),
                    sentiment: match f.get("sentiment").and_then(Value::as_str) {
                        Some("POSITIVE") => RiskSentiment::Positive,
                        Some("NEGATIVE") => RiskSentiment::Negative,
                        _ => RiskSentiment::Neutral,
                    },
                })
                .take(RISK_MAX_FACTS)
                .collect(),
        })
        .collect();
    OrderRisk {
        recommendation,
        assessments,
    }
    .bounded()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documents_parse_with_the_reader_the_client_uses() {
        let order = order_document();
        for doc in [order.as_str(), RISK] {
            let d = crate::graphql::parse(doc).unwrap();
            assert_eq!(d.root_field, "order");
        }
        assert!(order.contains("lineItems(first: 100)"));
    }

    #[test]
    fn maps_shopify_risk_with_unknown_values_as_neutral() {
        let o = json!({"risk": {"recommendation": "INVESTIGATE", "assessments": [
            {"riskLevel": "HIGH", "provider": null, "facts": [
                {"description": "Billing and shipping countries differ", "sentiment": "NEGATIVE"},
                {"description": "new", "sentiment": "SOMETHING_NEW"}]},
            {"riskLevel": "LATER", "provider": {"title": "Fraud Filter"}, "facts": []}
        ]}});
        let r = to_risk(&o);
        assert_eq!(r.recommendation, RiskRecommendation::Investigate);
        assert_eq!(r.assessments[0].level, RiskLevel::High);
        assert_eq!(r.assessments[0].provider, None);
        assert_eq!(r.assessments[0].facts[0].sentiment, RiskSentiment::Negative);
        assert_eq!(r.assessments[0].facts[1].sentiment, RiskSentiment::Neutral);
        assert_eq!(r.assessments[1].level, RiskLevel::Pending);
        assert_eq!(r.assessments[1].provider.as_deref(), Some("Fraud Filter"));
    }
}
