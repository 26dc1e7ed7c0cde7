//! Connecting a store through the admin API: on enable and disable, and
//! `POST /stores/{shop}/connect`, against the Shopify emulator.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use shopcase_net::{Backoff, Secret};
use shopcase_shopify::{ClientConfig, ShopConfig, ShopifyClient};
use shopcase_shopify_emulator::{self as emulator, EmulatorConfig, Seed};
use shopcase_store::ApiRole;

use crate::support::{ADMIN_TOKEN_A, Host, SHOP_A, SwitchExecutor, config_text_with};

const ADDRESS: &str = "https://shopcase.example.com/webhooks/shopify";

/// An emulator holding store A (opened by its admin token), and a client
/// for it with short retries.
async fn shopify() -> (emulator::RunningEmulator, Arc<ShopifyClient>) {
    let seed: Seed =
        serde_json::from_value(json!({"shops": [{"domain": SHOP_A, "tokens": [ADMIN_TOKEN_A]}]}))
            .unwrap();
    let running = emulator::spawn(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let client = ShopifyClient::new(ClientConfig {
        backoff: Backoff {
            base: Duration::from_millis(5),
            max: Duration::from_millis(20),
            max_attempts: 2,
            max_retry_after: Duration::from_millis(50),
        },
        request_timeout: Duration::from_secs(5),
        ..ClientConfig::default()
    })
    .unwrap();
    client
        .add_shop(
            ShopConfig::new(SHOP_A, "2026-07", Secret::new(ADMIN_TOKEN_A))
                .with_base_url(running.base_url()),
        )
        .unwrap();
    (running, Arc::new(client))
}

fn topics(emu: &emulator::Emulator) -> Vec<(String, String)> {
    let mut t: Vec<_> = emu
        .webhook_subscriptions(SHOP_A)
        .into_iter()
        .map(|s| (s.topic, s.uri))
        .collect();
    t.sort();
    t
}

fn actions(outcome: &Value) -> Vec<(String, String, String)> {
    outcome["report"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["action"].as_str().unwrap().to_owned(),
                c["topic"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enable_connects_the_store_and_the_route_is_idempotent() {
    let (shop, client) = shopify().await;
    let host = Host::with_config(config_text_with(&[
        "public-url = \"https://shopcase.example.com\"",
    ]));
    host.add_plugin("tagger", "1.0.0");
    let r = host
        .start_with(Arc::new(SwitchExecutor::default()), Some(client))
        .await;
    let op = r.token("ops", ApiRole::Operator, &[]).await;

    let a = r
        .call(
            Some(&op),
            "POST",
            &format!("/stores/{SHOP_A}/installations/tagger/enable"),
            Some(json!({})),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["enabled"], true, "the installation is answered");
    assert_eq!(a.json["connect"]["status"], "connected", "{}", a.text);
    // The plugin also subscribes to `helpdesk/complaint` and
    // `carrier/exception`: no subscription is made for them.
    let mut made = actions(&a.json["connect"]);
    made.sort();
    assert_eq!(
        made,
        [
            ("create".into(), "APP_UNINSTALLED".into(), "done".into()),
            ("create".into(), "ORDERS_CREATE".into(), "done".into()),
        ]
    );
    assert_eq!(
        topics(&shop.emulator),
        [
            ("APP_UNINSTALLED".into(), ADDRESS.into()),
            ("ORDERS_CREATE".into(), ADDRESS.into())
        ]
    );
    // The secret never reaches the answer.
    assert!(!a.text.contains(ADMIN_TOKEN_A));

    // Again: nothing to do.
    let again = r
        .call(
            Some(&op),
            "POST",
            &format!("/stores/{SHOP_A}/connect"),
            None,
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.json["status"], "connected");
    assert!(actions(&again.json).is_empty(), "{}", again.text);
    assert_eq!(
        shop.emulator
            .mutations(Some(SHOP_A), None)
            .iter()
            .filter(|m| m.operation.starts_with("webhookSubscription"))
            .count(),
        2,
        "no write the second time"
    );

    // A missing scope: reported, the answer is still 200.
    shop.emulator.set_access_scopes(SHOP_A, Some(vec![]));
    let lacking = r
        .call(
            Some(&op),
            "POST",
            &format!("/stores/{SHOP_A}/connect?dry_run=true"),
            None,
        )
        .await;
    assert_eq!(lacking.json["status"], "incomplete", "{}", lacking.text);
    assert_eq!(
        lacking.json["report"]["scopes"]["missing"][0]["scope"],
        "read_orders"
    );
    assert_eq!(lacking.json["report"]["dry_run"], true);

    // Disable: the plugin's topic goes, the host's stays.
    shop.emulator.set_access_scopes(SHOP_A, None);
    let d = r
        .call(
            Some(&op),
            "POST",
            &format!("/stores/{SHOP_A}/installations/tagger/disable"),
            None,
        )
        .await;
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(d.json["enabled"], false);
    assert_eq!(
        actions(&d.json["connect"]),
        [("delete".into(), "ORDERS_CREATE".into(), "done".into())]
    );
    assert_eq!(
        topics(&shop.emulator),
        [("APP_UNINSTALLED".into(), ADDRESS.into())]
    );
    r.shutdown().await;
    shop.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shopify_down_does_not_undo_the_enable_and_says_why() {
    let (shop, client) = shopify().await;
    let host = Host::with_config(config_text_with(&[
        "public-url = \"https://shopcase.example.com\"",
    ]));
    host.add_plugin("tagger", "1.0.0");
    let r = host
        .start_with(Arc::new(SwitchExecutor::default()), Some(client))
        .await;
    let op = r.token("ops", ApiRole::Operator, &[]).await;
    shop.shutdown().await.unwrap();

    let a = r
        .call(
            Some(&op),
            "POST",
            &format!("/stores/{SHOP_A}/installations/tagger/enable"),
            Some(json!({})),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["enabled"], true, "the enable stands");
    assert_eq!(a.json["connect"]["status"], "failed");
    assert_eq!(a.json["connect"]["error"]["code"], "shopify-unavailable");
    assert!(
        a.json["connect"]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing was changed"),
        "{}",
        a.text
    );
    // An auditor may not connect.
    let audit = r.token("audit", ApiRole::Auditor, &[]).await;
    let denied = r
        .call(
            Some(&audit),
            "POST",
            &format!("/stores/{SHOP_A}/connect"),
            None,
        )
        .await;
    assert_eq!(denied.status, 403);
    r.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_public_url_connect_is_not_configured() {
    let host = Host::new();
    host.add_plugin("tagger", "1.0.0");
    let r = host.start(Arc::new(SwitchExecutor::default())).await;
    let op = r.token("ops", ApiRole::Operator, &[]).await;
    let a = r
        .call(
            Some(&op),
            "POST",
            &format!("/stores/{SHOP_A}/connect"),
            None,
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["status"], "not-configured");
    assert!(
        a.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("server.public-url"),
        "{}",
        a.text
    );
    let unknown = r
        .call(
            Some(&op),
            "POST",
            "/stores/nope.myshopify.com/connect",
            None,
        )
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.text);
    r.shutdown().await;
}
