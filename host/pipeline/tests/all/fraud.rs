//! The first-party `fraud` plugin end to end against the Shopify emulator:
//! a signed `orders/create` through the real pipeline; the plugin reads the
//! customer's history and Shopify's risk assessment (`order-risk`) from the
//! emulator through the real Shopify client, and its score metafield lands
//! on the order in the emulator — below the threshold too.

use std::path::Path;

use serde_json::{Value, json};
use shopcase_contract::time::{SignedDuration, Timestamp, format};
use shopcase_shopify_emulator::{EmulatorConfig, Seed};

use crate::shopify_support::{config_text, *};
use crate::support::*;

/// Order 5002 of the emulator's demo seed as its `orders/create` says:
/// customer 7002 (account created `account_created`, email not verified),
/// 1899.00 EUR, billed in DE, shipped to NL. The emulator holds Shopify's
/// `MEDIUM` assessment of it (recommendation `INVESTIGATE`).
fn order_5002(placed: &str, account_created: &str) -> Value {
    json!({
        "id": 5002, "name": "#1002", "currency": "EUR", "total_price": "1899.00",
        "created_at": placed, "test": false,
        "customer": {"id": 7002, "verified_email": false, "created_at": account_created,
                     "email": "sam@example.com", "first_name": "Sam"},
        "line_items": [{"id": 5201, "title": "Espresso machine", "quantity": 1, "price": "1899.00"}],
        "billing_address": {"address1": "Hauptstrasse 5", "city": "Berlin", "zip": "10115",
                            "province_code": "BE", "country_code": "DE"},
        "shipping_address": {"address1": "Keizersgracht 1", "city": "Amsterdam", "zip": "1015 CJ",
                             "province_code": "NH", "country_code": "NL"}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_below_threshold_order_gets_its_score_with_shopifys_assessment_on_the_order() {
    // The host takes only fresh webhooks: the order happens now, and the
    // emulator's customer 7002 opened the account five days before (the
    // account age is measured at the event, never against today's date).
    let now = Timestamp::from_second(Timestamp::now().as_second()).unwrap();
    let placed = format(now);
    let account_created = format(now - SignedDuration::from_hours(5 * 24));
    let mut seed = Seed::demo();
    for c in &mut seed.shops[0].customers {
        if c.id == 7002 {
            c.created_at = Some(account_created.clone());
        }
    }
    let emu = shopcase_shopify_emulator::spawn(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let host = Host::with_config(&config_text(&emu, TOKEN, ""));
    shopcase_contract::manifest::package(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/fraud/plugin.toml"),
        &wasm("fraud"),
        &host.plugins_dir().join("fraud"),
    )
    .unwrap();
    let running = start(&host, None).await;
    let s = running.storage().clone();
    // Per-store settings: this store weighs first orders at nothing and
    // opens cases only from 90, so the order stays below its threshold.
    host.enable(
        &s,
        SHOP,
        "fraud",
        &[
            ("score-threshold", "90"),
            ("points-first-order-high-value", "0"),
        ],
    )
    .await;

    let mut d = Delivery::new(
        SHOP,
        SECRET,
        "orders/create",
        "wh-fraud-5002",
        order_5002(&placed, &account_created),
    );
    d.set(shopcase_pipeline::ingress::headers::TRIGGERED_AT, &placed);
    d.sign(SECRET);
    let (status, body) = post(&reqwest::Client::new(), &running.webhook_url(), &d).await;
    assert_eq!(status, 200, "{body}");
    let event = body["event_id"].as_str().unwrap().to_owned();

    // One action: the metafield. No case, no hold.
    let entries = settled(&s, &event, 1).await;
    assert_done(&entries);
    assert_eq!(applied(&emu, "metafieldsSet"), 1);
    assert_eq!(applied(&emu, "fulfillmentOrderHold"), 0);

    let order = emu.emulator.order(SHOP, 5002).unwrap();
    let m = order
        .metafields
        .iter()
        .find(|m| m.namespace == "shopcase" && m.key == "fraud-score")
        .expect("the fraud score on the order");
    assert_eq!(m.ty, "json");
    let score: Value = serde_json::from_str(&m.value).unwrap();
    assert_eq!(score["outcome"], "below-threshold", "{score}");
    assert_eq!(score["threshold"], 90);
    assert_eq!(score["scored_at"], placed.as_str(), "the event's time");
    assert_eq!(
        score["shopify_risk"],
        json!({"level": "medium", "recommendation": "investigate"}),
        "fetched from the emulator at orders/create"
    );
    let signals: Vec<(&str, i64)> = score["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["signal"].as_str().unwrap(), s["points"].as_i64().unwrap()))
        .collect();
    // 5 days old: half of 15; unverified; billed DE, shipped NL; Shopify
    // medium. No value signal, so no combination bonus.
    assert_eq!(
        signals,
        [
            ("new-account", 7),
            ("unverified-email", 10),
            ("billing-shipping-mismatch", 20),
            ("shopify-risk", 30)
        ]
    );
    assert_eq!(score["score"], 67);
    let shopify_reason = score["signals"][3]["reason"].as_str().unwrap();
    assert!(
        shopify_reason.contains(
            "Recommendation: investigate. Findings: The billing address is in a different country than the shipping address."
        ),
        "{shopify_reason}"
    );
    // No contact data went into the score.
    assert!(!m.value.contains("sam@example.com") && !m.value.contains("Sam"));
}
