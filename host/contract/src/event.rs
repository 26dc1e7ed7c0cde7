//! The event a plugin receives, and the event file format used by
//! `shopcase plugin run`, `shopcase replay` and the conformance kit.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Host-generated topic: a linked Core Case case changed.
pub const TOPIC_CASE_UPDATED: &str = "corecase/case-updated";
/// Host-generated topic: a plugin's follow-up timer is due.
pub const TOPIC_TIMER_FIRED: &str = "timer/fired";
/// The payload version of host-generated topics.
pub const HOST_PAYLOAD_VERSION: &str = "shopcase-1";
/// The Admin API version assumed when an event file names none.
pub const DEFAULT_API_VERSION: &str = "2026-07";

/// The Admin API versions whose published schema every GraphQL document
/// the host sends is checked against (`cargo xtask test`, with Shopify's
/// schemas from `@shopify/dev-mcp`): the versions a store may use without
/// a warning.
pub const CHECKED_API_VERSIONS: &[&str] = &["2026-01", "2026-04", "2026-07", "2026-10"];

/// Admin API versions whose schema rejects a document the host sends, and
/// why: a store configured with one is refused (the same check keeps this
/// list true: a version listed here must still fail it).
pub const REFUSED_API_VERSIONS: &[(&str, &str)] = &[(
    "2025-10",
    "its schema does not know the `@idempotent` directive the host's `RefundCreate` uses (Shopify added it in 2026-01)",
)];

/// Why the host cannot talk to Shopify in `version`, if it cannot.
pub fn api_version_refusal(version: &str) -> Option<String> {
    if let Some((_, why)) = REFUSED_API_VERSIONS.iter().find(|(v, _)| *v == version) {
        return Some(format!(
            "the Admin API version {version} cannot be used: {why}; use one of {}",
            CHECKED_API_VERSIONS.join(", ")
        ));
    }
    // Versions are `YYYY-MM`: older than the oldest checked ones means
    // older than every version known to work.
    let oldest = CHECKED_API_VERSIONS
        .first()
        .copied()
        .unwrap_or(DEFAULT_API_VERSION);
    if version != "unstable" && version < oldest {
        return Some(format!(
            "the Admin API version {version} is older than the versions the host's documents are checked against ({}); use one of those",
            CHECKED_API_VERSIONS.join(", ")
        ));
    }
    None
}

/// The Shopify (or host) objects an event is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Resources {
    pub order_id: Option<u64>,
    pub customer_id: Option<u64>,
    pub return_id: Option<u64>,
    pub dispute_id: Option<u64>,
    pub fulfillment_id: Option<u64>,
    pub case_id: Option<String>,
}

impl Resources {
    /// The ids a Shopify payload of `topic` is about.
    ///
    /// Order topics carry the order as the payload itself; the other
    /// resources carry `order_id` (or `order.id` for returns).
    pub fn from_shopify(topic: &str, payload: &serde_json::Value) -> Resources {
        // The object form only: a derived struct would also read an array.
        if !payload.is_object() {
            return Resources::default();
        }
        ResourceFields::deserialize(payload)
            .unwrap_or_default()
            .resources(topic)
    }
}

/// The payload fields resource ids are read from, and nothing else: the
/// ingress deserialises a webhook body into this, so the rest of the body
/// is checked for syntax and skipped without building a tree.
#[derive(Debug, Default, Deserialize)]
pub struct ResourceFields {
    id: Option<serde_json::Value>,
    order_id: Option<serde_json::Value>,
    admin_graphql_api_order_id: Option<serde_json::Value>,
    customer_id: Option<serde_json::Value>,
    fulfillment_id: Option<serde_json::Value>,
    customer: Option<serde_json::Value>,
    order: Option<serde_json::Value>,
}

impl ResourceFields {
    /// The ids, read as a payload of `topic` carries them.
    pub fn resources(&self, topic: &str) -> Resources {
        let resource = topic.split('/').next().unwrap_or("");
        let nested_id = |v: &Option<serde_json::Value>| id_of(v.as_ref().and_then(|o| o.get("id")));
        let own_id = id_of(self.id.as_ref());
        let order_id = id_of(self.order_id.as_ref()).or_else(|| nested_id(&self.order));
        let customer_id = nested_id(&self.customer).or_else(|| id_of(self.customer_id.as_ref()));
        let mut r = Resources {
            customer_id,
            ..Resources::default()
        };
        match resource {
            // Most order topics carry the order itself; a few (e.g.
            // `orders/risk_assessment_changed`) carry `order_id` and no `id`.
            "orders" => {
                r.order_id = order_id
                    .or_else(|| id_of(self.admin_graphql_api_order_id.as_ref()))
                    .or(own_id)
            }
            "returns" => {
                r.return_id = own_id;
                r.order_id = order_id;
            }
            "disputes" => {
                r.dispute_id = own_id;
                r.order_id = order_id;
            }
            "fulfillments" => {
                r.fulfillment_id = own_id;
                r.order_id = order_id;
            }
            "fulfillment_events" => {
                r.fulfillment_id = id_of(self.fulfillment_id.as_ref());
                r.order_id = order_id;
            }
            "customers" => r.customer_id = own_id.or(customer_id),
            // order_transactions, refunds, fulfillment_orders, ...
            _ => r.order_id = order_id,
        }
        r
    }
}

/// A Shopify id from a JSON number, a decimal string or a GraphQL gid
/// (`gid://shopify/Order/123`).
pub fn id_of(v: Option<&serde_json::Value>) -> Option<u64> {
    match v? {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.rsplit('/').next()?.parse().ok(),
        _ => None,
    }
}

/// One event, as the host hands it to a plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Stable host id: see [`event_id`].
    pub id: String,
    /// Shopify's `X-Shopify-Event-Id`, if any.
    pub shopify_event_id: Option<String>,
    pub shop: String,
    pub topic: String,
    pub api_version: String,
    /// RFC 3339.
    pub triggered_at: String,
    pub resources: Resources,
    /// JSON text (already minimised for the plugin it is given to).
    pub payload: String,
}

/// The host's event id for a delivery: a hash of the store and Shopify's
/// webhook id, so the same delivery always gets the same id (and the same
/// idempotency keys) however often it arrives.
pub fn event_id(shop: &str, delivery_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(shop.as_bytes());
    h.update([0]);
    h.update(delivery_id.as_bytes());
    format!("evt_{}", &hex::encode(h.finalize())[..24])
}

/// An event on disk: `{"topic", "shop", "webhook_id"?, "event_id"?,
/// "triggered_at"?, "api_version"?, "payload"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventFile {
    pub topic: String,
    pub shop: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triggered_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    pub payload: serde_json::Value,
}

/// A malformed event file.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct EventFileError(pub String);

impl EventFile {
    /// Parse and check an event file's text.
    pub fn parse(text: &str) -> Result<EventFile, EventFileError> {
        let f: EventFile = serde_json::from_str(text)
            .map_err(|e| EventFileError(format!("not an event file: {e}")))?;
        if !crate::manifest::is_topic(&f.topic) {
            return Err(EventFileError(format!(
                "`topic`: `{}` is not a topic like `orders/create`",
                f.topic
            )));
        }
        if !is_shop_domain(&f.shop) {
            return Err(EventFileError(format!(
                "`shop`: `{}` is not a store domain like `example.myshopify.com`",
                f.shop
            )));
        }
        if let Some(t) = &f.triggered_at {
            crate::time::parse(t).map_err(|e| EventFileError(format!("`triggered_at`: {e}")))?;
        }
        if !f.payload.is_object() {
            return Err(EventFileError("`payload` must be a JSON object".into()));
        }
        Ok(f)
    }

    /// The same event moved in time by `by`: its `triggered_at` and every
    /// RFC 3339 timestamp in its payload (see [`crate::time::shift_json`]).
    /// Recorded events are replayed this way as if they had just happened,
    /// so nothing about them depends on the date they run.
    pub fn shifted(mut self, by: crate::time::SignedDuration) -> EventFile {
        if let Some(t) = &self.triggered_at
            && let Some(moved) = crate::time::shift(t, by)
        {
            self.triggered_at = Some(moved);
        }
        crate::time::shift_json(&mut self.payload, by);
        self
    }

    /// The delivery id: the webhook id, or a hash of the file's content when
    /// it has none (so running the same file twice gives the same event id).
    pub fn delivery_id(&self) -> String {
        match &self.webhook_id {
            Some(w) => w.clone(),
            None => {
                let canonical = serde_json::to_string(self).unwrap_or_default();
                format!(
                    "file-{}",
                    &hex::encode(Sha256::digest(canonical.as_bytes()))[..24]
                )
            }
        }
    }

    /// The event this file describes (payload not yet minimised).
    pub fn to_event(&self) -> Event {
        let resources = if self.topic == TOPIC_CASE_UPDATED || self.topic == TOPIC_TIMER_FIRED {
            // Host topics carry their resources in the payload.
            self.payload
                .get("resources")
                .and_then(|r| serde_json::from_value(r.clone()).ok())
                .unwrap_or_default()
        } else {
            Resources::from_shopify(&self.topic, &self.payload)
        };
        Event {
            id: event_id(&self.shop, &self.delivery_id()),
            shopify_event_id: self.event_id.clone(),
            shop: self.shop.clone(),
            topic: self.topic.clone(),
            api_version: self
                .api_version
                .clone()
                .unwrap_or_else(|| DEFAULT_API_VERSION.to_owned()),
            triggered_at: self
                .triggered_at
                .clone()
                .unwrap_or_else(|| "2026-01-01T00:00:00Z".to_owned()),
            resources,
            payload: self.payload.to_string(),
        }
    }
}

/// `name.myshopify.com`, lowercase.
pub fn is_shop_domain(s: &str) -> bool {
    s.strip_suffix(".myshopify.com").is_some_and(|name| {
        !name.is_empty()
            && name.len() <= 60
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resources_come_from_the_topic_shape() {
        let order = json!({"id": 5834211000321u64, "customer": {"id": 7001}});
        let r = Resources::from_shopify("orders/create", &order);
        assert_eq!(r.order_id, Some(5834211000321));
        assert_eq!(r.customer_id, Some(7001));

        let dispute = json!({"id": 9, "order_id": 5834211000321u64});
        let r = Resources::from_shopify("disputes/create", &dispute);
        assert_eq!((r.dispute_id, r.order_id), (Some(9), Some(5834211000321)));

        let ret = json!({"id": 44, "order": {"id": "gid://shopify/Order/12"}});
        let r = Resources::from_shopify("returns/request", &ret);
        assert_eq!((r.return_id, r.order_id), (Some(44), Some(12)));

        let ev = json!({"id": 1, "fulfillment_id": 55, "order_id": 12});
        let r = Resources::from_shopify("fulfillment_events/create", &ev);
        assert_eq!((r.fulfillment_id, r.order_id), (Some(55), Some(12)));

        let risk = json!({"risk_level": "HIGH", "order_id": 12, "admin_graphql_api_order_id": "gid://shopify/Order/12"});
        let r = Resources::from_shopify("orders/risk_assessment_changed", &risk);
        assert_eq!(r.order_id, Some(12));
        let risk =
            json!({"risk_level": "HIGH", "admin_graphql_api_order_id": "gid://shopify/Order/13"});
        let r = Resources::from_shopify("orders/risk_assessment_changed", &risk);
        assert_eq!(r.order_id, Some(13));

        // Not an object: no ids, even with as many elements as fields.
        let array = json!([1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(
            Resources::from_shopify("orders/create", &array),
            Resources::default()
        );

        // A body read straight from text gives the same ids.
        let text =
            r#"{"id": 44, "order": {"id": 12, "line_items": [{"id": 1}]}, "customer": null}"#;
        let fields: ResourceFields = serde_json::from_str(text).unwrap();
        assert_eq!(
            fields.resources("returns/request"),
            Resources::from_shopify("returns/request", &serde_json::from_str(text).unwrap())
        );
        assert_eq!(
            (
                fields.resources("returns/request").return_id,
                fields.resources("returns/request").order_id
            ),
            (Some(44), Some(12))
        );

        let tx = json!({"id": 1, "order_id": 12, "kind": "sale"});
        let r = Resources::from_shopify("order_transactions/create", &tx);
        assert_eq!(r.order_id, Some(12));
    }

    #[test]
    fn event_ids_are_stable_and_scoped_by_shop() {
        assert_eq!(
            event_id("a.myshopify.com", "w1"),
            event_id("a.myshopify.com", "w1")
        );
        assert_ne!(
            event_id("a.myshopify.com", "w1"),
            event_id("b.myshopify.com", "w1")
        );
    }

    #[test]
    fn event_files_are_checked() {
        let ok = r#"{"topic":"orders/create","shop":"demo.myshopify.com","payload":{"id":1}}"#;
        let f = EventFile::parse(ok).unwrap();
        let e = f.to_event();
        assert_eq!(e.resources.order_id, Some(1));
        assert_eq!(e.id, f.to_event().id);
        for (bad, want) in [
            (
                r#"{"topic":"orders","shop":"demo.myshopify.com","payload":{}}"#,
                "`topic`",
            ),
            (
                r#"{"topic":"orders/create","shop":"evil.com","payload":{}}"#,
                "`shop`",
            ),
            (
                r#"{"topic":"orders/create","shop":"demo.myshopify.com","payload":[]}"#,
                "`payload`",
            ),
            (
                r#"{"topic":"orders/create","shop":"demo.myshopify.com","payload":{},"extra":1}"#,
                "unknown field `extra`",
            ),
            (
                r#"{"topic":"orders/create","shop":"demo.myshopify.com","payload":{},"triggered_at":"yesterday"}"#,
                "`triggered_at`",
            ),
        ] {
            let err = EventFile::parse(bad).unwrap_err().to_string();
            assert!(err.contains(want), "want {want} in {err}");
        }
    }
}
