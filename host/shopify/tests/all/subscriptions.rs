//! Webhook subscriptions and access scopes: the client's query and three
//! mutations against the emulator, with Shopify's `userErrors`.

use serde_json::{Value, json};
use shopcase_shopify::Error;

use crate::support::{SHOP, env};

const HOOK: &str = "https://host.example/webhooks/shopify";

#[tokio::test]
async fn subscriptions_are_created_listed_updated_and_deleted() {
    let env = env().await;
    let c = &env.client;
    assert!(c.webhook_subscriptions(SHOP).await.unwrap().is_empty());

    let made = c
        .create_webhook_subscription(SHOP, "ORDERS_CREATE", HOOK)
        .await
        .unwrap();
    assert_eq!(
        (made.topic.as_str(), made.uri.as_str()),
        ("ORDERS_CREATE", HOOK)
    );
    assert!(made.id.starts_with("gid://shopify/WebhookSubscription/"));
    c.create_webhook_subscription(SHOP, "DISPUTES_CREATE", HOOK)
        .await
        .unwrap();

    let moved = c
        .update_webhook_subscription(SHOP, &made.id, "https://other.example/webhooks/shopify")
        .await
        .unwrap();
    assert_eq!(moved.uri, "https://other.example/webhooks/shopify");
    c.delete_webhook_subscription(SHOP, &made.id).await.unwrap();

    let left = c.webhook_subscriptions(SHOP).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].topic, "DISPUTES_CREATE");
    // The emulator's log has the three changes.
    let ops: Vec<String> = env
        .running
        .emulator
        .mutations(Some(SHOP), None)
        .into_iter()
        .map(|m| m.operation)
        .collect();
    assert_eq!(
        ops,
        [
            "webhookSubscriptionCreate",
            "webhookSubscriptionCreate",
            "webhookSubscriptionUpdate",
            "webhookSubscriptionDelete"
        ]
    );
}

#[tokio::test]
async fn many_subscriptions_are_read_page_by_page() {
    let env = env().await;
    for i in 0..130 {
        env.running.emulator.add_webhook_subscription(
            SHOP,
            "ORDERS_UPDATED",
            &format!("https://h{i}.example/webhooks/shopify"),
        );
    }
    let all = env.client.webhook_subscriptions(SHOP).await.unwrap();
    assert_eq!(all.len(), 130);
    assert_eq!(
        env.running.emulator.stats().by_operation["webhookSubscriptions"],
        2,
        "two pages of 100"
    );
}

#[tokio::test]
async fn bad_addresses_and_duplicates_are_user_errors() {
    let env = env().await;
    let c = &env.client;
    let refused = |e: Error| match e {
        Error::UserErrors { errors, .. } => errors[0].message.clone(),
        other => panic!("expected user errors, got {other}"),
    };
    let e = c
        .create_webhook_subscription(SHOP, "ORDERS_CREATE", "http://host.example/w")
        .await
        .unwrap_err();
    assert_eq!(refused(e), "Address protocol http:// is not supported");
    c.create_webhook_subscription(SHOP, "ORDERS_CREATE", HOOK)
        .await
        .unwrap();
    let e = c
        .create_webhook_subscription(SHOP, "ORDERS_CREATE", HOOK)
        .await
        .unwrap_err();
    assert_eq!(refused(e), "Address for this topic has already been taken");
    let e = c
        .delete_webhook_subscription(SHOP, "gid://shopify/WebhookSubscription/1")
        .await
        .unwrap_err();
    assert_eq!(refused(e), "Webhook subscription does not exist");
    // An unknown topic is an invalid enum value: the request itself is refused.
    let e = c
        .create_webhook_subscription(SHOP, "ORDERS_EXPLODED", HOOK)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Request { .. }), "{e}");
    assert!(e.to_string().contains("WebhookSubscriptionTopic"), "{e}");
}

#[tokio::test]
async fn granted_scopes_are_read_and_a_missing_one_refuses_its_topic() {
    let env = env().await;
    let all = env.client.access_scopes(SHOP).await.unwrap();
    assert!(all.contains(&"read_shopify_payments_disputes".to_owned()));

    // Set over the control endpoint, as a test of the CLI would.
    let r: Value = env
        .http
        .put(env.url(&format!("/_emulator/shops/{SHOP}/access-scopes")))
        .json(&json!({"scopes": ["write_orders"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r, json!({"scopes": ["write_orders"]}));
    assert_eq!(
        env.client.access_scopes(SHOP).await.unwrap(),
        ["write_orders"]
    );
    // write_orders holds read_orders; the disputes scope is missing.
    env.client
        .create_webhook_subscription(SHOP, "ORDERS_CREATE", HOOK)
        .await
        .unwrap();
    let e = env
        .client
        .create_webhook_subscription(SHOP, "DISPUTES_CREATE", HOOK)
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("read_shopify_payments_disputes"),
        "{e}"
    );
}
