//! A store's webhook subscriptions and the access scopes its token holds,
//! through the Admin API: what `shopcase store connect` reads and changes.
//!
//! - [`ShopifyClient::webhook_subscriptions`]: every subscription this app
//!   made on the store through the API (`webhookSubscriptions`, paged by
//!   100). Subscriptions declared in an app's configuration file
//!   (`shopify.app.toml`) are not listed by Shopify here, and another app's
//!   subscriptions are never visible.
//! - [`ShopifyClient::create_webhook_subscription`],
//!   [`ShopifyClient::update_webhook_subscription`],
//!   [`ShopifyClient::delete_webhook_subscription`]:
//!   `webhookSubscriptionCreate`, `webhookSubscriptionUpdate`,
//!   `webhookSubscriptionDelete`. A non-empty `userErrors` is
//!   [`Error::UserErrors`].
//! - [`ShopifyClient::access_scopes`]: `currentAppInstallation {
//!   accessScopes { handle } }`.
//!
//! Every call goes through [`ShopifyClient::execute`]: the same pacing,
//! throttle handling, retries and error classification as write-back, and
//! the token only in the request header.
//!
//! # Checked against Shopify's Admin schema
//! Versions 2025-10, 2026-01, 2026-04, 2026-07, 2026-10 and `unstable`
//! (the introspection JSON of `@shopify/dev-mcp` 1.16.0): the endpoint is
//! set with `uri` (in `WebhookSubscriptionInput` and on
//! `WebhookSubscription`; `callbackUrl` is deprecated on both), the topic is
//! the `WebhookSubscriptionTopic` enum (`ORDERS_CREATE` for
//! `orders/create`: [`topic_enum`]), the delete payload names
//! `deletedWebhookSubscriptionId`, and `AccessScope` has `handle`. The
//! compliance topics (`customers/data_request`, `customers/redact`,
//! `shop/redact`) are not in that enum in any of these versions: they are
//! set in the app's configuration in Shopify (the Partner Dashboard or
//! `shopify.app.toml`), never through the API. An API version older than
//! 2025-10 is not checked; one without `uri` answers a GraphQL error naming
//! the field ([`Error::Request`]).

use serde_json::{Value, json};

use crate::client::{Request, ShopifyClient};
use crate::error::{Error, Result, UserError};

/// The GraphQL documents (all inputs are variables).
pub(crate) mod docs {
    /// One page of the app's subscriptions, oldest first.
    pub(crate) const LIST: &str = "query WebhookSubscriptions($first: Int!, $after: String) { webhookSubscriptions(first: $first, after: $after) { nodes { id topic uri } pageInfo { hasNextPage endCursor } } }";
    /// Create one subscription.
    pub(crate) const CREATE: &str = "mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) { webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) { webhookSubscription { id topic uri } userErrors { field message } } }";
    /// Point a subscription elsewhere.
    pub(crate) const UPDATE: &str = "mutation WebhookSubscriptionUpdate($id: ID!, $webhookSubscription: WebhookSubscriptionInput!) { webhookSubscriptionUpdate(id: $id, webhookSubscription: $webhookSubscription) { webhookSubscription { id topic uri } userErrors { field message } } }";
    /// Delete one subscription.
    pub(crate) const DELETE: &str = "mutation WebhookSubscriptionDelete($id: ID!) { webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { field message } } }";
    /// The scopes granted to the token's app installation.
    pub(crate) const SCOPES: &str =
        "query AccessScopes { currentAppInstallation { accessScopes { handle } } }";
}

/// Subscriptions read per page.
const PAGE: u64 = 100;
/// Pages read at most (10 000 subscriptions): a store never has that many
/// for one app; a cursor that never ends is an error, not a loop.
const MAX_PAGES: usize = 100;

/// One webhook subscription as Shopify lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WebhookSubscription {
    /// `gid://shopify/WebhookSubscription/N`.
    pub id: String,
    /// The topic enum, e.g. `ORDERS_CREATE` ([`topic_enum`]).
    pub topic: String,
    /// Where deliveries go: an HTTPS URL (or a Pub/Sub or EventBridge
    /// address).
    pub uri: String,
}

/// The `WebhookSubscriptionTopic` enum value of a topic: `orders/create`
/// is `ORDERS_CREATE`, `order_transactions/create` is
/// `ORDER_TRANSACTIONS_CREATE`.
pub fn topic_enum(topic: &str) -> String {
    topic.replace('/', "_").to_ascii_uppercase()
}

impl ShopifyClient {
    /// Every webhook subscription this app made on `shop` through the API,
    /// oldest first.
    pub async fn webhook_subscriptions(&self, shop: &str) -> Result<Vec<WebhookSubscription>> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let data = self
                .execute(
                    shop,
                    &Request {
                        operation: "webhookSubscriptions",
                        document: docs::LIST,
                        variables: json!({"first": PAGE, "after": after}),
                    },
                )
                .await?;
            let conn = data
                .get("webhookSubscriptions")
                .ok_or_else(|| decode(shop, "webhookSubscriptions", "no connection"))?;
            for node in conn
                .get("nodes")
                .and_then(Value::as_array)
                .ok_or_else(|| decode(shop, "webhookSubscriptions", "no `nodes`"))?
            {
                out.push(subscription(shop, "webhookSubscriptions", node)?);
            }
            let more = conn
                .pointer("/pageInfo/hasNextPage")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if !more {
                return Ok(out);
            }
            let cursor = conn
                .pointer("/pageInfo/endCursor")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    decode(shop, "webhookSubscriptions", "a next page without a cursor")
                })?;
            after = Some(cursor.to_owned());
        }
        Err(decode(
            shop,
            "webhookSubscriptions",
            "more than 100 pages of subscriptions",
        ))
    }

    /// Subscribe `topic` (the enum value, [`topic_enum`]) to `uri`.
    pub async fn create_webhook_subscription(
        &self,
        shop: &str,
        topic: &str,
        uri: &str,
    ) -> Result<WebhookSubscription> {
        const OP: &str = "webhookSubscriptionCreate";
        let data = self
            .execute(
                shop,
                &Request {
                    operation: OP,
                    document: docs::CREATE,
                    variables: json!({"topic": topic, "webhookSubscription": {"uri": uri, "format": "JSON"}}),
                },
            )
            .await?;
        let payload = payload(shop, OP, &data)?;
        subscription(
            shop,
            OP,
            payload.get("webhookSubscription").unwrap_or(&Value::Null),
        )
    }

    /// Point subscription `id` at `uri`.
    pub async fn update_webhook_subscription(
        &self,
        shop: &str,
        id: &str,
        uri: &str,
    ) -> Result<WebhookSubscription> {
        const OP: &str = "webhookSubscriptionUpdate";
        let data = self
            .execute(
                shop,
                &Request {
                    operation: OP,
                    document: docs::UPDATE,
                    variables: json!({"id": id, "webhookSubscription": {"uri": uri}}),
                },
            )
            .await?;
        let payload = payload(shop, OP, &data)?;
        subscription(
            shop,
            OP,
            payload.get("webhookSubscription").unwrap_or(&Value::Null),
        )
    }

    /// Delete subscription `id`.
    pub async fn delete_webhook_subscription(&self, shop: &str, id: &str) -> Result<()> {
        const OP: &str = "webhookSubscriptionDelete";
        let data = self
            .execute(
                shop,
                &Request {
                    operation: OP,
                    document: docs::DELETE,
                    variables: json!({"id": id}),
                },
            )
            .await?;
        let payload = payload(shop, OP, &data)?;
        match payload
            .get("deletedWebhookSubscriptionId")
            .and_then(Value::as_str)
        {
            Some(_) => Ok(()),
            None => Err(decode(shop, OP, "no `deletedWebhookSubscriptionId`")),
        }
    }

    /// The access scopes granted to the app on `shop` (handles such as
    /// `read_orders`), sorted.
    pub async fn access_scopes(&self, shop: &str) -> Result<Vec<String>> {
        const OP: &str = "currentAppInstallation";
        let data = self
            .execute(
                shop,
                &Request {
                    operation: OP,
                    document: docs::SCOPES,
                    variables: json!({}),
                },
            )
            .await?;
        let list = data
            .pointer("/currentAppInstallation/accessScopes")
            .and_then(Value::as_array)
            .ok_or_else(|| decode(shop, OP, "no `accessScopes`"))?;
        let mut out: Vec<String> = list
            .iter()
            .filter_map(|s| s.get("handle").and_then(Value::as_str))
            .map(str::to_owned)
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }
}

/// A mutation's payload, or its `userErrors` as [`Error::UserErrors`].
fn payload<'v>(shop: &str, operation: &'static str, data: &'v Value) -> Result<&'v Value> {
    let p = data
        .get(operation)
        .filter(|p| p.is_object())
        .ok_or_else(|| decode(shop, operation, "no payload"))?;
    let errors: Vec<UserError> = p
        .get("userErrors")
        .and_then(Value::as_array)
        .map(|errs| {
            errs.iter()
                .map(|e| {
                    serde_json::from_value(e.clone()).unwrap_or_else(|_| UserError {
                        field: None,
                        message: e
                            .get("message")
                            .and_then(Value::as_str)
                            .unwrap_or("unknown error")
                            .to_owned(),
                        code: None,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    if errors.is_empty() {
        Ok(p)
    } else {
        Err(Error::UserErrors {
            shop: shop.to_owned(),
            operation,
            errors,
        })
    }
}

fn subscription(shop: &str, operation: &'static str, v: &Value) -> Result<WebhookSubscription> {
    let field = |name: &str| {
        v.get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| decode(shop, operation, &format!("a subscription without `{name}`")))
    };
    Ok(WebhookSubscription {
        id: field("id")?,
        topic: field("topic")?,
        uri: field("uri")?,
    })
}

fn decode(shop: &str, operation: &'static str, detail: &str) -> Error {
    Error::Decode {
        shop: shop.to_owned(),
        operation,
        detail: detail.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_map_to_their_enum() {
        assert_eq!(topic_enum("orders/create"), "ORDERS_CREATE");
        assert_eq!(
            topic_enum("order_transactions/create"),
            "ORDER_TRANSACTIONS_CREATE"
        );
        assert_eq!(topic_enum("app/uninstalled"), "APP_UNINSTALLED");
        assert_eq!(
            topic_enum("orders/risk_assessment_changed"),
            "ORDERS_RISK_ASSESSMENT_CHANGED"
        );
    }

    #[test]
    fn documents_parse_and_name_their_root_field() {
        for (doc, root) in [
            (docs::LIST, "webhookSubscriptions"),
            (docs::CREATE, "webhookSubscriptionCreate"),
            (docs::UPDATE, "webhookSubscriptionUpdate"),
            (docs::DELETE, "webhookSubscriptionDelete"),
            (docs::SCOPES, "currentAppInstallation"),
        ] {
            assert_eq!(crate::graphql::parse(doc).unwrap().root_field, root);
        }
    }

    #[test]
    fn user_errors_are_an_error_and_a_payload_is_read() {
        let data = json!({"webhookSubscriptionCreate": {"webhookSubscription": null, "userErrors": [{"field": ["webhookSubscription", "uri"], "message": "Address protocol http:// is not supported"}]}});
        let e = payload("s", "webhookSubscriptionCreate", &data).unwrap_err();
        assert!(
            e.to_string()
                .contains("Address protocol http:// is not supported"),
            "{e}"
        );
        let ok = json!({"webhookSubscriptionCreate": {"webhookSubscription": {"id": "gid://shopify/WebhookSubscription/1", "topic": "ORDERS_CREATE", "uri": "https://h/webhooks/shopify"}, "userErrors": []}});
        let p = payload("s", "webhookSubscriptionCreate", &ok).unwrap();
        let sub = subscription("s", "x", &p["webhookSubscription"]).unwrap();
        assert_eq!(sub.topic, "ORDERS_CREATE");
        assert!(subscription("s", "x", &json!({"id": "1"})).is_err());
    }
}
