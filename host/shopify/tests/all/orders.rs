//! The order and order-risk look-ups (plugin API 0.2.0's `order` and
//! `order-risk`): mapped from the emulator's model over the real client,
//! cached per store, unknown orders and outages reported as such.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use shopcase_contract::host_api::{RiskLevel, RiskRecommendation, RiskSentiment};
use shopcase_shopify::{Error, HistoryConfig, ManualClock, OrderCache, Request};

use crate::support::{SHOP, env, fast_client_config};

fn queries(env: &crate::support::Env) -> u64 {
    env.running
        .emulator
        .stats()
        .by_operation
        .get("order")
        .copied()
        .unwrap_or(0)
}

fn cache(env: &crate::support::Env) -> (OrderCache, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::default());
    let config = HistoryConfig {
        ttl: Duration::from_secs(60),
        ..HistoryConfig::default()
    };
    (
        OrderCache::with_clock(env.client.clone(), config, clock.clone()),
        clock,
    )
}

#[tokio::test]
async fn an_order_is_read_whole_and_cached() {
    let env = env().await;
    let (cache, clock) = cache(&env);
    let o = cache.order(SHOP, 5002).await.unwrap();
    assert_eq!((o.id, o.name.as_str()), (5002, "#1002"));
    assert_eq!(o.currency, "EUR");
    assert_eq!(o.created_at, "2026-11-25T23:10:00Z");
    assert_eq!(o.total.amount, "1899.00");
    assert_eq!(o.subtotal.as_ref().unwrap().amount, "1899.00");
    assert_eq!(o.current_total.amount, "1899.00");
    assert_eq!(o.outstanding.amount, "0.00");
    assert_eq!(o.total_refunded.amount, "0.00");
    assert_eq!(
        (o.financial_status.as_str(), o.fulfillment_status.as_str()),
        ("PAID", "UNFULFILLED")
    );
    assert!(!o.cancelled);
    assert_eq!(o.customer_id, Some(7002));
    let l = &o.line_items[0];
    assert_eq!(
        (l.id, l.title.as_str(), l.sku.as_deref(), l.quantity),
        (5201, "Espresso machine", Some("EM-900"), 1)
    );
    assert_eq!(l.unit_price.amount, "1899.00");
    assert_eq!((l.variant_id, l.product_id), (Some(5211), Some(5221)));
    // The whole addresses: the sandbox minimises them per plugin.
    let ship = o.shipping_address.as_ref().unwrap();
    assert_eq!(ship.address1.as_deref(), Some("Keizersgracht 1"));
    assert_eq!(ship.country_code.as_deref(), Some("NL"));
    assert_eq!(ship.name.as_deref(), Some("Sam Visser"));
    assert_eq!(ship.latitude, Some(52.37));
    let bill = o.billing_address.as_ref().unwrap();
    assert_eq!(bill.country_code.as_deref(), Some("DE"));
    let t = &o.transactions[0];
    assert_eq!(
        (t.kind.as_str(), t.status.as_str(), t.gateway.as_deref()),
        ("SALE", "SUCCESS", Some("shopify_payments"))
    );
    assert_eq!(t.amount.amount, "1899.00");
    assert!(o.fulfillments.is_empty());
    assert_eq!(queries(&env), 1);

    // Fresh for the TTL, read again after it.
    cache.order(SHOP, 5002).await.unwrap();
    assert_eq!(queries(&env), 1);
    clock.advance(Duration::from_secs(61));
    cache.order(SHOP, 5002).await.unwrap();
    assert_eq!(queries(&env), 2);

    // A fulfilled order's shipment, and an order with only a country.
    let o = cache.order(SHOP, 5003).await.unwrap();
    let f = &o.fulfillments[0];
    assert_eq!(
        (f.id, f.status.as_str(), f.created_at.as_str()),
        (6103, "SUCCESS", "2026-10-11T09:00:00Z")
    );
    assert_eq!(
        (f.tracking_company.as_deref(), f.tracking_number.as_deref()),
        (Some("DHL"), Some("JD014600006281230000"))
    );
    let ship = o.shipping_address.as_ref().unwrap();
    assert_eq!(ship.country_code.as_deref(), Some("DE"));
    assert_eq!(ship.address1, None);
    assert_eq!(o.billing_address, None);
}

#[tokio::test]
async fn shopifys_risk_and_an_apps_assessment_are_read() {
    let env = env().await;
    let (cache, clock) = cache(&env);
    let r = cache.order_risk(SHOP, 5002).await.unwrap();
    assert_eq!(r.recommendation, RiskRecommendation::Investigate);
    assert_eq!(r.assessments.len(), 1);
    let a = &r.assessments[0];
    assert_eq!((a.level, a.provider.as_deref()), (RiskLevel::Medium, None));
    assert_eq!(a.facts.len(), 3);
    assert_eq!(a.facts[0].sentiment, RiskSentiment::Negative);
    assert!(a.facts[0].description.contains("billing address"));

    // An app adds its assessment (Shopify's mutation, as the emulator has it).
    let created = env
        .client
        .execute(
            SHOP,
            &Request {
                operation: "orderRiskAssessmentCreate",
                document: "mutation Assess($input: OrderRiskAssessmentCreateInput!) { orderRiskAssessmentCreate(orderRiskAssessmentInput: $input) { orderRiskAssessment { riskLevel provider { title } facts { description sentiment } } userErrors { field message code } } }",
                variables: json!({"input": {"orderId": "gid://shopify/Order/5002", "riskLevel": "HIGH",
                    "facts": [{"description": "Card used on five stores today", "sentiment": "NEGATIVE"}]}}),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        created["orderRiskAssessmentCreate"]["userErrors"],
        json!([])
    );
    // Cached until the TTL passes.
    assert_eq!(
        cache
            .order_risk(SHOP, 5002)
            .await
            .unwrap()
            .assessments
            .len(),
        1
    );
    clock.advance(Duration::from_secs(61));
    let r = cache.order_risk(SHOP, 5002).await.unwrap();
    assert_eq!(r.recommendation, RiskRecommendation::Cancel);
    assert_eq!(r.assessments[1].level, RiskLevel::High);
    assert_eq!(r.assessments[1].provider.as_deref(), Some("shopcase"));

    // No assessment at all.
    let r = cache.order_risk(SHOP, 5001).await.unwrap();
    assert_eq!(r.recommendation, RiskRecommendation::None);
    assert!(r.assessments.is_empty());
}

#[tokio::test]
async fn unknown_orders_and_outages_are_errors_that_are_not_cached() {
    let env = env().await;
    let (cache, _clock) = cache(&env);
    let e = cache.order(SHOP, 9999).await.unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    let e = cache.order_risk(SHOP, 9999).await.unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");

    // Down for every one of the client's attempts: a transient error...
    let attempts = fast_client_config().backoff.max_attempts;
    env.fault(json!({"kind": "error-500", "operation": "order", "count": 2 * attempts}))
        .await;
    let e = cache.order(SHOP, 5001).await.unwrap_err();
    assert!(matches!(e, Error::Unavailable { .. }), "{e}");
    let e = cache.order_risk(SHOP, 5001).await.unwrap_err();
    assert!(matches!(e, Error::Unavailable { .. }), "{e}");
    // ...that is not remembered: once Shopify answers, so does the cache.
    assert_eq!(cache.order(SHOP, 5001).await.unwrap().name, "#1001");
    assert_eq!(
        cache.order_risk(SHOP, 5001).await.unwrap().recommendation,
        RiskRecommendation::None
    );
}
