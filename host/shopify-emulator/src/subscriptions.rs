//! Emulated webhook subscriptions and access scopes: the query
//! `webhookSubscriptions` (a connection: `first`, `after`, `topics`, `uri`),
//! the mutations `webhookSubscriptionCreate`, `webhookSubscriptionUpdate`,
//! `webhookSubscriptionDelete`, and `currentAppInstallation { accessScopes
//! }`, with the control endpoints that let a test see and set them.
//!
//! # Behaviour
//! - A topic must be one of [`TOPICS`] (the `WebhookSubscriptionTopic` values
//!   shopcase can use); another is refused as Shopify refuses an invalid
//!   enum value, with a top-level `INVALID_VARIABLE` error.
//! - The address (`uri`) is checked as Shopify checks it, with its
//!   `userErrors` messages: blank ("Address can't be blank"), not a URL
//!   ("Address is invalid"), not HTTPS ("Address protocol http:// is not
//!   supported"), the same topic and address twice ("Address for this
//!   topic has already been taken"). One concession for local work: plain
//!   `http://` is accepted for loopback hosts (`127.0.0.1`, `localhost`,
//!   `[::1]`), so a host on this machine can be connected to the emulator.
//! - A topic whose access scope the store has not granted (the scope table
//!   of `shopcase_shopify::scopes`) is refused with a `userErrors` entry on
//!   `topic` (the message is the emulator's own).
//! - Granted scopes: every scope of that table unless set per store.
//!
//! # Control endpoints
//! - `GET /_emulator/shops/{shop}/webhook-subscriptions`: the store's
//!   subscriptions; `POST` with `{"topic": "ORDERS_CREATE", "uri": "..."}`
//!   adds one directly (no checks: e.g. another deployment's subscription).
//! - `GET /_emulator/shops/{shop}/access-scopes`: the granted scopes; `PUT`
//!   with `{"scopes": ["read_orders", ...]}` sets them; `DELETE` goes back to
//!   the default.

use std::collections::{BTreeSet, HashMap};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State as AxumState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::graphql_api::{Ctx, Handled, Outcome, ue};
use super::{Emulator, State};
use shopcase_shopify::gid;
use shopcase_shopify::scopes::{SCOPES, scope_of_topic};
use shopcase_shopify::subscriptions::topic_enum;

/// The webhook topics the emulator knows, as Shopify spells the
/// `WebhookSubscriptionTopic` values: those of the scope table and
/// `app/uninstalled`.
pub static TOPICS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
    let mut t: BTreeSet<String> = SCOPES
        .iter()
        .flat_map(|r| r.topics.iter().map(|t| topic_enum(t)))
        .collect();
    t.insert(topic_enum("app/uninstalled"));
    t.into_iter().collect()
});

/// One subscription, as the control endpoint lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionRecord {
    /// The numeric id (`gid://shopify/WebhookSubscription/<id>`).
    pub id: u64,
    /// The topic enum value, e.g. `ORDERS_CREATE`.
    pub topic: String,
    /// Where deliveries would go.
    pub uri: String,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
}

/// Per store: its subscriptions, and the scopes granted when set.
#[derive(Debug, Default)]
pub(crate) struct Webhooks {
    subs: HashMap<String, Vec<SubscriptionRecord>>,
    scopes: HashMap<String, BTreeSet<String>>,
}

impl Webhooks {
    fn granted(&self, shop: &str) -> BTreeSet<String> {
        self.scopes
            .get(shop)
            .cloned()
            .unwrap_or_else(|| SCOPES.iter().map(|r| r.scope.to_owned()).collect())
    }

    fn holds(&self, shop: &str, scope: &str) -> bool {
        let granted = self.granted(shop);
        granted.contains(scope)
            || scope
                .strip_prefix("read_")
                .is_some_and(|rest| granted.contains(&format!("write_{rest}")))
    }
}

fn sub_json(s: &SubscriptionRecord) -> Value {
    json!({
        "id": gid::format("WebhookSubscription", s.id),
        "topic": s.topic,
        "uri": s.uri,
        "callbackUrl": s.uri,
        "format": "JSON",
        "createdAt": s.created_at,
        "updatedAt": s.updated_at,
    })
}

/// `webhookSubscriptions(first:, after:, topics:, uri:)`, oldest first;
/// the cursor is the subscription's id.
pub(super) fn list(st: &mut State, ctx: &Ctx<'_>) -> Outcome {
    let first = match ctx.arg("first").as_u64() {
        Some(n) if (1..=250).contains(&n) => n as usize,
        Some(_) => {
            return Err(vec![
                json!({"message": "The page size must be between 1 and 250", "extensions": {"code": "BAD_REQUEST"}}),
            ]);
        }
        None => {
            return Err(vec![
                json!({"message": "you must provide one of first or last", "extensions": {"code": "BAD_REQUEST"}}),
            ]);
        }
    };
    let after: Option<u64> = ctx.arg("after").as_str().and_then(|s| s.parse().ok());
    let topics: Option<Vec<String>> = ctx.arg("topics").as_array().map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    });
    let uri = ctx.arg("uri").as_str().map(str::to_owned);
    let all = st.webhooks.subs.get(&ctx.shop).cloned().unwrap_or_default();
    let matching: Vec<&SubscriptionRecord> = all
        .iter()
        .filter(|s| after.is_none_or(|a| s.id > a))
        .filter(|s| topics.as_ref().is_none_or(|t| t.contains(&s.topic)))
        .filter(|s| uri.as_ref().is_none_or(|u| *u == s.uri))
        .collect();
    let page: Vec<&SubscriptionRecord> = matching.iter().take(first).copied().collect();
    let has_next = matching.len() > page.len();
    Ok(Handled {
        payload: json!({
            "nodes": page.iter().map(|s| sub_json(s)).collect::<Vec<_>>(),
            "pageInfo": {
                "hasNextPage": has_next,
                "hasPreviousPage": after.is_some(),
                "endCursor": page.last().map(|s| s.id.to_string()),
                "startCursor": page.first().map(|s| s.id.to_string()),
            },
        }),
        applied: None,
    })
}

/// `currentAppInstallation { accessScopes { handle description } }`.
pub(super) fn app_installation(st: &mut State, ctx: &Ctx<'_>) -> Outcome {
    let scopes: Vec<Value> = st
        .webhooks
        .granted(&ctx.shop)
        .into_iter()
        .map(|h| json!({"handle": h, "description": format!("{h} (emulated)")}))
        .collect();
    Ok(Handled {
        payload: json!({"id": "gid://shopify/AppInstallation/1", "accessScopes": scopes}),
        applied: None,
    })
}

/// The address checks Shopify makes, as `userErrors`.
fn check_uri(uri: Option<&str>) -> Result<String, Value> {
    let field = ["webhookSubscription", "uri"];
    let Some(uri) = uri.map(str::trim).filter(|u| !u.is_empty()) else {
        return Err(ue(&field, "Address can't be blank", None));
    };
    let Ok(url) = url::Url::parse(uri) else {
        return Err(ue(&field, "Address is invalid", None));
    };
    let loopback = matches!(
        url.host(),
        Some(url::Host::Ipv4(a)) if a.is_loopback()
    ) || matches!(url.host(), Some(url::Host::Ipv6(a)) if a.is_loopback())
        || url.host_str() == Some("localhost");
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        other => {
            return Err(ue(
                &field,
                format!("Address protocol {other}:// is not supported"),
                None,
            ));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ue(&field, "Address is invalid", None));
    }
    Ok(uri.to_owned())
}

fn input_uri(ctx: &Ctx<'_>) -> Result<Option<String>, Vec<Value>> {
    let input = ctx.input(
        "webhookSubscription",
        "WebhookSubscriptionInput",
        &[
            "uri",
            "callbackUrl",
            "format",
            "filter",
            "includeFields",
            "metafieldNamespaces",
            "metafields",
            "name",
        ],
        &[],
    )?;
    if let Some(f) = input.get("format").and_then(Value::as_str)
        && f != "JSON"
    {
        return Err(ctx.invalid(
            "webhookSubscription",
            &["format"],
            "the emulator only delivers JSON",
        ));
    }
    Ok(input
        .get("uri")
        .or_else(|| input.get("callbackUrl"))
        .and_then(Value::as_str)
        .map(str::to_owned))
}

fn failed(field: &str, errors: Vec<Value>) -> Outcome {
    Ok(Handled {
        payload: json!({field: null, "userErrors": errors}),
        applied: None,
    })
}

/// `webhookSubscriptionCreate(topic:, webhookSubscription:)`.
pub(super) fn create(st: &mut State, ctx: &Ctx<'_>) -> Outcome {
    let topic = ctx
        .enum_value("topic", &[], "WebhookSubscriptionTopic", &TOPICS_STR)?
        .ok_or_else(|| ctx.invalid("topic", &[], "Expected value to not be null"))?;
    let uri = input_uri(ctx)?;
    let uri = match check_uri(uri.as_deref()) {
        Ok(u) => u,
        Err(e) => return failed("webhookSubscription", vec![e]),
    };
    if let Some(scope) = topic_scope(&topic)
        && !st.webhooks.holds(&ctx.shop, scope)
    {
        return failed(
            "webhookSubscription",
            vec![ue(
                &["topic"],
                format!(
                    "Access denied for topic {topic}: the app has not been granted the {scope} access scope"
                ),
                None,
            )],
        );
    }
    let id = st.next_id();
    let subs = st.webhooks.subs.entry(ctx.shop.clone()).or_default();
    if subs.iter().any(|s| s.topic == topic && s.uri == uri) {
        return failed(
            "webhookSubscription",
            vec![ue(
                &["webhookSubscription", "uri"],
                "Address for this topic has already been taken",
                None,
            )],
        );
    }
    let rec = SubscriptionRecord {
        id,
        topic,
        uri,
        created_at: ctx.now.clone(),
        updated_at: ctx.now.clone(),
    };
    let out = sub_json(&rec);
    subs.push(rec);
    Ok(Handled {
        payload: json!({"webhookSubscription": out, "userErrors": []}),
        applied: Some(gid::format("WebhookSubscription", id)),
    })
}

/// `webhookSubscriptionUpdate(id:, webhookSubscription:)`.
pub(super) fn update(st: &mut State, ctx: &Ctx<'_>) -> Outcome {
    let (_, id) = ctx.gid("id", &[], &["WebhookSubscription"])?;
    let uri = input_uri(ctx)?;
    let uri = match check_uri(uri.as_deref()) {
        Ok(u) => u,
        Err(e) => return failed("webhookSubscription", vec![e]),
    };
    let subs = st.webhooks.subs.entry(ctx.shop.clone()).or_default();
    let Some(pos) = subs.iter().position(|s| s.id == id) else {
        return failed(
            "webhookSubscription",
            vec![ue(&["id"], "Webhook subscription does not exist", None)],
        );
    };
    let topic = subs[pos].topic.clone();
    if subs
        .iter()
        .any(|s| s.id != id && s.topic == topic && s.uri == uri)
    {
        return failed(
            "webhookSubscription",
            vec![ue(
                &["webhookSubscription", "uri"],
                "Address for this topic has already been taken",
                None,
            )],
        );
    }
    subs[pos].uri = uri;
    subs[pos].updated_at = ctx.now.clone();
    Ok(Handled {
        payload: json!({"webhookSubscription": sub_json(&subs[pos]), "userErrors": []}),
        applied: Some(gid::format("WebhookSubscription", id)),
    })
}

/// `webhookSubscriptionDelete(id:)`.
pub(super) fn delete(st: &mut State, ctx: &Ctx<'_>) -> Outcome {
    let (_, id) = ctx.gid("id", &[], &["WebhookSubscription"])?;
    let subs = st.webhooks.subs.entry(ctx.shop.clone()).or_default();
    let Some(pos) = subs.iter().position(|s| s.id == id) else {
        return failed(
            "deletedWebhookSubscriptionId",
            vec![ue(&["id"], "Webhook subscription does not exist", None)],
        );
    };
    subs.remove(pos);
    let g = gid::format("WebhookSubscription", id);
    Ok(Handled {
        payload: json!({"deletedWebhookSubscriptionId": g, "userErrors": []}),
        applied: Some(g),
    })
}

static TOPICS_STR: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| TOPICS.iter().map(String::as_str).collect());

fn topic_scope(topic_enum_value: &str) -> Option<&'static str> {
    SCOPES
        .iter()
        .flat_map(|r| r.topics.iter())
        .find(|t| topic_enum(t) == topic_enum_value)
        .and_then(|t| scope_of_topic(t))
}

impl Emulator {
    /// A store's webhook subscriptions, oldest first.
    pub fn webhook_subscriptions(&self, shop: &str) -> Vec<SubscriptionRecord> {
        self.state()
            .webhooks
            .subs
            .get(shop)
            .cloned()
            .unwrap_or_default()
    }

    /// Add a subscription without checks (one made by another deployment,
    /// say); returns its numeric id.
    pub fn add_webhook_subscription(&self, shop: &str, topic: &str, uri: &str) -> u64 {
        let mut st = self.state();
        let id = st.next_id();
        let now = super::now();
        st.webhooks
            .subs
            .entry(shop.to_owned())
            .or_default()
            .push(SubscriptionRecord {
                id,
                topic: topic.to_owned(),
                uri: uri.to_owned(),
                created_at: now.clone(),
                updated_at: now,
            });
        id
    }

    /// The scopes a store has granted.
    pub fn access_scopes(&self, shop: &str) -> Vec<String> {
        self.state().webhooks.granted(shop).into_iter().collect()
    }

    /// Set the scopes a store has granted (`None`: every scope of the
    /// table, the default).
    pub fn set_access_scopes(&self, shop: &str, scopes: Option<Vec<String>>) {
        let mut st = self.state();
        match scopes {
            Some(s) => {
                st.webhooks
                    .scopes
                    .insert(shop.to_owned(), s.into_iter().collect());
            }
            None => {
                st.webhooks.scopes.remove(shop);
            }
        }
    }
}

// ---- control endpoints ------------------------------------------------------

fn bad(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": {"code": "bad-request", "message": message}})),
    )
        .into_response()
}

pub(super) async fn get_subscriptions(
    AxumState(emu): AxumState<Emulator>,
    Path(shop): Path<String>,
) -> Json<Value> {
    Json(json!({"webhook_subscriptions": emu.webhook_subscriptions(&shop)}))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSubscription {
    topic: String,
    uri: String,
}

pub(super) async fn add_subscription(
    AxumState(emu): AxumState<Emulator>,
    Path(shop): Path<String>,
    body: Bytes,
) -> Response {
    match serde_json::from_slice::<NewSubscription>(&body) {
        Ok(n) => {
            let id = emu.add_webhook_subscription(&shop, &n.topic, &n.uri);
            Json(json!({"id": gid::format("WebhookSubscription", id)})).into_response()
        }
        Err(e) => bad(format!("expected {{\"topic\", \"uri\"}}: {e}")),
    }
}

pub(super) async fn get_scopes(
    AxumState(emu): AxumState<Emulator>,
    Path(shop): Path<String>,
) -> Json<Value> {
    Json(json!({"scopes": emu.access_scopes(&shop)}))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Scopes {
    scopes: Vec<String>,
}

pub(super) async fn put_scopes(
    AxumState(emu): AxumState<Emulator>,
    Path(shop): Path<String>,
    body: Bytes,
) -> Response {
    match serde_json::from_slice::<Scopes>(&body) {
        Ok(s) => {
            emu.set_access_scopes(&shop, Some(s.scopes));
            Json(json!({"scopes": emu.access_scopes(&shop)})).into_response()
        }
        Err(e) => bad(format!("expected {{\"scopes\": [...]}}: {e}")),
    }
}

pub(super) async fn reset_scopes(
    AxumState(emu): AxumState<Emulator>,
    Path(shop): Path<String>,
) -> Json<Value> {
    emu.set_access_scopes(&shop, None);
    Json(json!({"scopes": emu.access_scopes(&shop)}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_as_shopify_does() {
        assert!(check_uri(Some("https://host.example/webhooks/shopify")).is_ok());
        assert!(check_uri(Some("http://127.0.0.1:8080/webhooks/shopify")).is_ok());
        let msg = |u: Option<&str>| check_uri(u).unwrap_err()["message"].clone();
        assert_eq!(
            msg(Some("http://host.example/w")),
            "Address protocol http:// is not supported"
        );
        assert_eq!(msg(Some("")), "Address can't be blank");
        assert_eq!(msg(None), "Address can't be blank");
        assert_eq!(msg(Some("not a url")), "Address is invalid");
    }

    #[test]
    fn topics_include_the_host_s_and_the_disputes() {
        assert!(TOPICS.contains(&"APP_UNINSTALLED".to_owned()));
        assert!(TOPICS.contains(&"DISPUTES_CREATE".to_owned()));
        assert!(!TOPICS.contains(&"CUSTOMERS_REDACT".to_owned()));
        assert_eq!(
            topic_scope("DISPUTES_UPDATE"),
            Some("read_shopify_payments_disputes")
        );
    }
}
