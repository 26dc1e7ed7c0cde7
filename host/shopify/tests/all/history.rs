//! Customer history: mapped from Shopify, cached per store, re-read after
//! the TTL, one query for concurrent misses.

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use serde_json::json;
use shopcase_contract::ShopifyOperation;
use shopcase_contract::action::{TagsChange, Target};
use shopcase_net::Secret;
use shopcase_shopify::{HistoryCache, HistoryConfig, ManualClock, ShopConfig, ShopifyClient};
use shopcase_shopify_emulator::Seed;

use crate::support::{SHOP, env, fast_client_config};

fn queries(env: &crate::support::Env) -> u64 {
    env.running
        .emulator
        .stats()
        .by_operation
        .get("customer")
        .copied()
        .unwrap_or(0)
}

#[tokio::test]
async fn history_is_cached_and_read_again_after_the_ttl() {
    let env = env().await;
    let clock = Arc::new(ManualClock::default());
    let config = HistoryConfig {
        ttl: Duration::from_secs(60),
        ..HistoryConfig::default()
    };
    let cache = HistoryCache::with_clock(env.client.clone(), config, clock.clone());

    let h = cache.customer_history(SHOP, 7001).await.unwrap();
    assert_eq!(h.customer_id, 7001);
    assert_eq!(h.number_of_orders, 14);
    assert_eq!(
        (h.amount_spent.as_str(), h.currency.as_str()),
        ("2310.40", "EUR")
    );
    assert_eq!(h.tags, vec!["VIP"]);
    assert_eq!(h.created_at, "2022-03-14T09:30:00Z");
    let names: Vec<&str> = h.recent_orders.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, vec!["#1004", "#1001", "#1003"], "newest first");
    let o = &h.recent_orders[1];
    assert_eq!(
        (o.id, o.total_price.as_str(), o.financial_status.as_str()),
        (5001, "129.90", "PAID")
    );
    assert_eq!(o.fulfillment_status, "UNFULFILLED");
    assert_eq!(o.shipping_country.as_deref(), Some("DE"));
    assert_eq!(queries(&env), 1);

    // The store changes; the cache does not see it until the TTL passes.
    let op = ShopifyOperation::TagsAdd(TagsChange {
        target: Target::Customer(7001),
        tags: vec!["gold".into()],
    });
    env.client.apply(SHOP, &op, "k").await.unwrap();
    clock.advance(Duration::from_secs(59));
    assert_eq!(
        cache.customer_history(SHOP, 7001).await.unwrap().tags,
        vec!["VIP"]
    );
    assert_eq!(queries(&env), 1);

    clock.advance(Duration::from_secs(2));
    assert_eq!(
        cache.customer_history(SHOP, 7001).await.unwrap().tags,
        vec!["VIP", "gold"]
    );
    assert_eq!(queries(&env), 2);

    // Explicit invalidation reads again at once.
    cache.invalidate(SHOP, 7001);
    cache.customer_history(SHOP, 7001).await.unwrap();
    assert_eq!(queries(&env), 3);
    cache.invalidate_shop(SHOP);
    cache.customer_history(SHOP, 7001).await.unwrap();
    assert_eq!(queries(&env), 4);
}

#[tokio::test]
async fn concurrent_misses_share_one_query() {
    let env = env().await;
    // Slow the query down so every caller arrives while it runs.
    env.fault(json!({"kind": "slow", "operation": "customer", "delay_ms": 200}))
        .await;
    let cache = Arc::new(HistoryCache::new(
        env.client.clone(),
        HistoryConfig::default(),
    ));
    let all = join_all((0..10).map(|_| {
        let cache = cache.clone();
        async move { cache.customer_history(SHOP, 7002).await }
    }))
    .await;
    assert!(
        all.iter()
            .all(|h| h.as_ref().is_ok_and(|h| h.number_of_orders == 1)),
        "{all:?}"
    );
    assert_eq!(queries(&env), 1);
}

#[tokio::test]
async fn at_most_twenty_orders_newest_first_and_unknown_customers_fail() {
    let env = env().await;
    let orders: Vec<_> = (1..=25)
        .map(|i| json!({"id": i, "customer_id": 1, "total_price": "10.00", "created_at": format!("2026-01-{i:02}T00:00:00Z")}))
        .collect();
    let seed: Seed = serde_json::from_value(
        json!({"shops": [{"domain": "many.myshopify.com", "tokens": ["shpat_many"],
        "customers": [{"id": 1}], "orders": orders}]}),
    )
    .unwrap();
    env.running.emulator.seed(seed).unwrap();
    let client = ShopifyClient::new(fast_client_config()).unwrap();
    client
        .add_shop(
            ShopConfig::new("many.myshopify.com", "2026-07", Secret::new("shpat_many"))
                .with_base_url(env.running.base_url()),
        )
        .unwrap();
    let cache = HistoryCache::new(Arc::new(client), HistoryConfig::default());
    let h = cache
        .customer_history("many.myshopify.com", 1)
        .await
        .unwrap();
    assert_eq!(h.recent_orders.len(), 20);
    assert_eq!(h.recent_orders[0].id, 25);
    assert_eq!(h.recent_orders[19].id, 6);
    assert_eq!(h.number_of_orders, 25);
    assert_eq!(h.amount_spent, "250.00");

    // A customer Shopify does not know (deleted or redacted; Shopify
    // answers `customer: null`) has no history: an answer, not an error.
    let unknown = cache
        .customer_history("many.myshopify.com", 2)
        .await
        .expect("an unknown customer is an empty history");
    assert_eq!(unknown.customer_id, 2);
    assert_eq!(unknown.number_of_orders, 0);
    assert_eq!(unknown.amount_spent, "0.00");
    assert!(unknown.tags.is_empty());
    assert!(unknown.recent_orders.is_empty());
    assert_eq!(unknown.created_at, "", "not a new customer: an unknown one");
}
