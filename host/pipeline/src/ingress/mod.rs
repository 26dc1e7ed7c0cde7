//! `POST /webhooks/shopify`: signed Shopify deliveries into the inbox.
//!
//! The order of checks, and why:
//! 1. `Content-Length` over the cap → **413** before reading anything.
//! 2. No `X-Shopify-Hmac-Sha256` (or not base64 of a SHA-256 MAC) → **401**.
//! 3. No or malformed `X-Shopify-Shop-Domain` → **400**; a store not
//!    configured here → **404**. An unknown store has no secret, so the
//!    signature cannot be checked and 404 is all there is to say. It tells
//!    a caller only whether a `*.myshopify.com` domain (public anyway) is
//!    served here, and lets an operator tell "store missing from the
//!    configuration" (404) from "wrong secret" (401).
//! 4. The body, read up to the cap (**413** beyond it; **400** if empty).
//! 5. The HMAC over the raw bytes, in constant time, with the current
//!    secret and, inside the rotation window, the previous one → **401**.
//!    Nothing about the request is trusted before this point.
//! 6. The other headers Shopify's own library requires (topic, API
//!    version, webhook id) → **400** if missing or malformed; a topic only
//!    the host produces (`corecase/*`, `timer/*`, and the inbound
//!    reports' `helpdesk/*`, `carrier/*`) → **400**.
//! 7. The body must be a JSON object → **400**. It is parsed only now, and
//!    stored exactly as received (its bytes are what was signed).
//! 8. Time: a delivery triggered more than `server.max-clock-skew` (5 min)
//!    ahead of this host's clock → **400** `triggered-in-future`: no
//!    genuine delivery is, and one dated ahead would dodge the staleness
//!    check below for as long as it is ahead. (Shopify retries a 400: a
//!    genuine delivery from a sender whose clock ran ahead is accepted once
//!    ours catches up.) Staleness: a delivery triggered more than
//!    `server.max-age` ago is
//!    acknowledged **200** and stored as `stale` (never dispatched). A
//!    rejection would make Shopify retry a delivery that can never become
//!    fresh, for 4 hours, and then delete the subscription. Privacy topics
//!    are never stale: they are obligations whatever their age.
//! 9. The durable commit (group commit, fsync) → **200** `accepted`, or
//!    **200** `duplicate` for a delivery already stored (same store and
//!    webhook id; same store, topic and `X-Shopify-Event-Id`; or same
//!    store, topic and SHA-256 of the raw body); **503** if the storage
//!    cannot commit within `server.ack-timeout`, so Shopify retries.
//!    Nothing is acknowledged before it is on disk.
//!
//! The signature covers the body only, not the headers: a captured body
//! posted again under fresh webhook and event ids is caught by the body
//! digest (kept as long as the inbox row, and for a privacy request as
//! long as its record), not by the HMAC. `shop/redact` carries no digest:
//! its body is the same for every install of a store, so the store's
//! recorded uninstall guards it instead (`crate::privacy`).

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use shopcase_contract::event::ResourceFields;
use shopcase_contract::manifest::HOST_ONLY_TOPICS;
use shopcase_contract::time::Timestamp;
use shopcase_store::{DuplicateRule, EventSource, EventStatus, Inserted, NewEvent};

pub mod error;
pub mod hmac;
pub mod inbound;

pub use error::IngressError;

use crate::fault::Fault;
use crate::server::Core;
use crate::shops::Verified;

/// Shopify's webhook headers.
pub mod headers {
    /// The HMAC signature.
    pub const HMAC: &str = "x-shopify-hmac-sha256";
    /// The topic.
    pub const TOPIC: &str = "x-shopify-topic";
    /// The store.
    pub const SHOP_DOMAIN: &str = "x-shopify-shop-domain";
    /// The payload's API version.
    pub const API_VERSION: &str = "x-shopify-api-version";
    /// Unique per delivery.
    pub const WEBHOOK_ID: &str = "x-shopify-webhook-id";
    /// Shared by the deliveries of one merchant action.
    pub const EVENT_ID: &str = "x-shopify-event-id";
    /// When Shopify triggered the delivery.
    pub const TRIGGERED_AT: &str = "x-shopify-triggered-at";
}

/// The longest a request body may take to arrive.
const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Topic prefixes only the host produces (`helpdesk/` and `carrier/`
/// from signed inbound reports, `POST /inbound/{source}`).
const RESERVED_PREFIXES: &[&str] = &["corecase/", "timer/", "helpdesk/", "carrier/"];

/// What an accepted delivery became.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accepted {
    New,
    Duplicate,
    Stale,
}

impl Accepted {
    fn as_str(self) -> &'static str {
        match self {
            Accepted::New => "accepted",
            Accepted::Duplicate => "duplicate",
            Accepted::Stale => "stale",
        }
    }
}

/// The handler.
pub(crate) async fn receive(
    State(core): State<Arc<Core>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    core.metrics.received();
    let mut body_read = false;
    let response = match accept(&core, &headers, body, &mut body_read).await {
        Ok((what, event_id)) => {
            match what {
                Accepted::New => core.metrics.accepted(),
                Accepted::Duplicate => core.metrics.duplicate(),
                Accepted::Stale => core.metrics.stale(),
            }
            Json(json!({"status": what.as_str(), "event_id": event_id})).into_response()
        }
        Err(e) => {
            core.metrics.rejected(e.code());
            tracing::debug!(
                code = e.code(),
                status = e.status().as_u16(),
                "webhook rejected"
            );
            // Refused before its body was read (too large, unsigned, an
            // unknown store): `Connection: close` (see `error::refusal`).
            error::refusal(e.status(), e.code(), e.message(), body_read)
        }
    };
    core.metrics.ack.observe(started.elapsed());
    response
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// 1-255 visible ASCII characters (ids Shopify generates are UUIDs).
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.len() <= 255 && s.bytes().all(|b| b.is_ascii_graphic())
}

fn is_api_version(s: &str) -> bool {
    !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

async fn accept(
    core: &Core,
    h: &HeaderMap,
    body: Body,
    body_read: &mut bool,
) -> Result<(Accepted, String), IngressError> {
    use IngressError as E;
    use headers::*;
    let max = core.config.server.max_body_bytes;
    if let Some(len) = h
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > max as u64
    {
        return Err(E::BodyTooLarge);
    }
    let mac =
        hmac::decode(header(h, HMAC).ok_or(E::MissingSignature)?).ok_or(E::InvalidSignature)?;
    let shop = header(h, SHOP_DOMAIN).ok_or(E::MissingHeader("X-Shopify-Shop-Domain"))?;
    if !shopcase_contract::event::is_shop_domain(shop) {
        return Err(E::InvalidHeader("X-Shopify-Shop-Domain"));
    }
    let secrets = core.shops.get(shop).ok_or(E::UnknownShop)?;

    // A client that trickles its body must not hold a request open forever.
    let body =
        match tokio::time::timeout(BODY_READ_TIMEOUT, Limited::new(body, max).collect()).await {
            Ok(Ok(c)) => {
                *body_read = true;
                c.to_bytes()
            }
            Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
                return Err(E::BodyTooLarge);
            }
            Ok(Err(_)) | Err(_) => return Err(E::UnreadableBody),
        };
    if body.is_empty() {
        return Err(E::EmptyBody);
    }
    let now = Timestamp::now();
    match secrets.verify(&body, &mac, now) {
        Verified::Current => {}
        Verified::Previous => tracing::info!(
            shop,
            "webhook signed with the previous secret (rotation window)"
        ),
        Verified::No => return Err(E::InvalidSignature),
    }

    // Authenticated from here on.
    let topic = header(h, TOPIC).ok_or(E::MissingHeader("X-Shopify-Topic"))?;
    if !shopcase_contract::manifest::is_topic(topic) {
        return Err(E::InvalidHeader("X-Shopify-Topic"));
    }
    if RESERVED_PREFIXES.iter().any(|p| topic.starts_with(p)) {
        return Err(E::ReservedTopic);
    }
    let api_version = header(h, API_VERSION).ok_or(E::MissingHeader("X-Shopify-API-Version"))?;
    if !is_api_version(api_version) {
        return Err(E::InvalidHeader("X-Shopify-API-Version"));
    }
    let webhook_id = header(h, WEBHOOK_ID).ok_or(E::MissingHeader("X-Shopify-Webhook-Id"))?;
    // The host's own events are deduplicated by keys with a `:`
    // (`timer:…`, `corecase:…`); a delivery id never has one (Shopify's
    // are UUIDs), so no delivery can take the place of a host event.
    if !is_token(webhook_id) || webhook_id.contains(':') {
        return Err(E::InvalidHeader("X-Shopify-Webhook-Id"));
    }
    let shopify_event_id = match header(h, EVENT_ID) {
        Some(id) if is_token(id) => Some(id.to_owned()),
        Some(_) => return Err(E::InvalidHeader("X-Shopify-Event-Id")),
        None => None,
    };
    let triggered_at = match header(h, TRIGGERED_AT) {
        Some(t) => shopcase_contract::time::parse(t)
            .map_err(|_| E::InvalidHeader("X-Shopify-Triggered-At"))?,
        None => now,
    };
    let text = std::str::from_utf8(&body).map_err(|_| E::InvalidJson)?;
    // A derived struct also deserialises from an array of its fields:
    // require the object form before parsing.
    if !text.trim_start().starts_with('{') {
        return Err(E::InvalidJson);
    }
    let probe: ResourceFields = serde_json::from_str(text).map_err(|_| E::InvalidJson)?;

    let age = now.duration_since(triggered_at);
    let skew = jiff::SignedDuration::try_from(core.config.server.max_clock_skew)
        .unwrap_or(jiff::SignedDuration::MAX);
    if -age > skew {
        tracing::info!(
            shop,
            topic,
            webhook_id,
            ahead_s = (-age).as_secs(),
            "delivery triggered in the future; refused"
        );
        return Err(E::TriggeredInFuture);
    }
    // Privacy requests are obligations whatever their age: never stale.
    let stale = !HOST_ONLY_TOPICS.contains(&topic)
        && age
            > jiff::SignedDuration::try_from(core.config.server.max_age)
                .unwrap_or(jiff::SignedDuration::MAX);
    let event = NewEvent {
        shop: shop.to_owned(),
        topic: topic.to_owned(),
        source: EventSource::Shopify,
        dedupe_key: webhook_id.to_owned(),
        shopify_event_id,
        api_version: api_version.to_owned(),
        triggered_at,
        received_at: now,
        resources: probe.resources(topic),
        payload: text.to_owned(),
        target_plugin: None,
        status: if stale {
            EventStatus::Stale
        } else {
            EventStatus::Pending
        },
        // What Shopify signed: a replay under fresh headers has the same.
        // Not for shop/redact: its body (`shop_id`, `shop_domain`) is the
        // same for every install of a store, so a digest would refuse the
        // next install's genuine request; the store's recorded uninstall
        // guards it instead (`crate::privacy`).
        body_sha256: (topic != "shop/redact").then(|| Sha256::digest(&body).into()),
    };
    let inserted = match tokio::time::timeout(
        core.config.server.ack_timeout,
        core.storage.insert_event(event),
    )
    .await
    {
        Ok(Ok(i)) => i,
        Ok(Err(e)) => {
            tracing::warn!(shop, topic, error = %e, "cannot commit a webhook; answering 503");
            return Err(E::StorageUnavailable);
        }
        Err(_) => {
            tracing::warn!(
                shop,
                topic,
                "the commit took longer than server.ack-timeout; answering 503"
            );
            return Err(E::StorageUnavailable);
        }
    };
    core.faults.hit(Fault::AbortAfterInboxCommit);
    Ok(match inserted {
        Inserted::New { event_id } if stale => {
            tracing::info!(shop, topic, %event_id, age_s = age.as_secs(), "stale delivery kept, not dispatched");
            (Accepted::Stale, event_id)
        }
        Inserted::New { event_id } => {
            core.events_added();
            (Accepted::New, event_id)
        }
        Inserted::Duplicate { event_id, rule } => {
            if rule == DuplicateRule::Body {
                // Same signed body, new delivery headers: a replay (or a
                // sender that re-posts what it captured).
                tracing::info!(shop, topic, %event_id, webhook_id, "body already received under other delivery headers; duplicate");
            }
            (Accepted::Duplicate, event_id)
        }
    })
}
