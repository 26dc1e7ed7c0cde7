//! `POST /inbound/{source}`: signed reports from a helpdesk or a
//! carrier-tracking service (`[[inbound]]` in `shopcase.toml`) into the
//! same durable inbox as Shopify's webhooks, as `helpdesk/complaint`,
//! `helpdesk/not-received` and `carrier/exception` events
//! (`shopcase_contract::inbound`).
//!
//! The order of checks, and why (each refusal has a stable code, also the
//! `outcome` label of `shopcase_inbound_requests_total`):
//! 1. `Content-Length` over `server.max-body-bytes` → **413**
//!    `body-too-large`, before reading anything.
//! 2. A source not configured → **404** `unknown-source` (it has no secret
//!    to check a signature with).
//! 3. No `X-Shopcase-Signature`, or not base64 of a SHA-256 MAC → **401**
//!    `missing-signature` / `invalid-signature`.
//! 4. The body, read up to the cap (**413**; **400** `empty-body`).
//! 5. HMAC-SHA256 of the raw bytes under the source's secret, compared in
//!    constant time → **401** `invalid-signature`. Nothing in the request
//!    is trusted before this point.
//! 6. The body against the schema → **400** `malformed-body` (the message
//!    names the field); a `kind` that does not exist → **400**
//!    `unknown-kind`; a kind the source may not send → **403**
//!    `kind-not-allowed`; a store it may not speak for → **403**
//!    `shop-not-allowed`.
//! 7. Time, as for Shopify's deliveries, from the signed `occurred_at`:
//!    more than `server.max-clock-skew` ahead → **400**
//!    `triggered-in-future`; older than `server.max-age` → **200**
//!    `stale` (kept, never dispatched).
//! 8. The durable commit → **200** `accepted`, or **200** `duplicate` when
//!    the store already has the same report (same source and `id`) or the
//!    same signed body under the same topic; **503** if the storage cannot
//!    commit within `server.ack-timeout`, so the sender retries. Nothing is
//!    acknowledged before it is on disk.
//!
//! The signature covers the body only, and everything the host relies on
//! is in the body (the report's `id`, its store, its time), so a captured
//! body replayed is the same report: a duplicate, or stale once older
//! than `server.max-age` (kept beyond that by `storage.retention`).

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use shopcase_contract::event::{HOST_PAYLOAD_VERSION, Resources};
use shopcase_contract::inbound::{BodyError, InboundBody, SIGNATURE_HEADER};
use shopcase_contract::time::Timestamp;
use shopcase_store::{EventSource, EventStatus, Inserted, NewEvent};

use super::hmac;
use crate::server::Core;

/// The longest a request body may take to arrive.
const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Why a report was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundError {
    /// No `[[inbound]]` source of this name.
    UnknownSource,
    /// No `X-Shopcase-Signature` header.
    MissingSignature,
    /// The signature does not match the body under the source's secret.
    InvalidSignature,
    /// The body is over `server.max-body-bytes`.
    BodyTooLarge,
    /// The body is empty.
    EmptyBody,
    /// The body could not be read.
    UnreadableBody,
    /// The body is not the schema: what is wrong.
    MalformedBody(String),
    /// `kind` is not a kind of report.
    UnknownKind,
    /// The source may not send this kind (`kinds`).
    KindNotAllowed,
    /// The source may not report about this store (`shops`).
    ShopNotAllowed,
    /// `occurred_at` is further ahead than `server.max-clock-skew`.
    TriggeredInFuture,
    /// The report could not be committed; the sender should retry.
    StorageUnavailable,
}

impl InboundError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            InboundError::UnknownSource => StatusCode::NOT_FOUND,
            InboundError::MissingSignature | InboundError::InvalidSignature => {
                StatusCode::UNAUTHORIZED
            }
            InboundError::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            InboundError::EmptyBody
            | InboundError::UnreadableBody
            | InboundError::MalformedBody(_)
            | InboundError::UnknownKind
            | InboundError::TriggeredInFuture => StatusCode::BAD_REQUEST,
            InboundError::KindNotAllowed | InboundError::ShopNotAllowed => StatusCode::FORBIDDEN,
            InboundError::StorageUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            InboundError::UnknownSource => "unknown-source",
            InboundError::MissingSignature => "missing-signature",
            InboundError::InvalidSignature => "invalid-signature",
            InboundError::BodyTooLarge => "body-too-large",
            InboundError::EmptyBody => "empty-body",
            InboundError::UnreadableBody => "unreadable-body",
            InboundError::MalformedBody(_) => "malformed-body",
            InboundError::UnknownKind => "unknown-kind",
            InboundError::KindNotAllowed => "kind-not-allowed",
            InboundError::ShopNotAllowed => "shop-not-allowed",
            InboundError::TriggeredInFuture => "triggered-in-future",
            InboundError::StorageUnavailable => "storage-unavailable",
        }
    }

    /// What to tell the sender.
    pub fn message(&self) -> String {
        match self {
            InboundError::UnknownSource => "no inbound source of this name is configured".into(),
            InboundError::MissingSignature => "the X-Shopcase-Signature header is missing".into(),
            InboundError::InvalidSignature => "the signature does not match the body".into(),
            InboundError::BodyTooLarge => "the body is larger than this host accepts".into(),
            InboundError::EmptyBody => "the body is empty".into(),
            InboundError::UnreadableBody => "the body could not be read".into(),
            InboundError::MalformedBody(m) => format!("the body is not a valid report: {m}"),
            InboundError::UnknownKind => {
                "`kind` is not one of complaint, not-received, carrier-exception".into()
            }
            InboundError::KindNotAllowed => "this source may not send this kind of report".into(),
            InboundError::ShopNotAllowed => "this source may not report about this store".into(),
            InboundError::TriggeredInFuture => {
                "`occurred_at` is later than this host's clock allows (server.max-clock-skew)"
                    .into()
            }
            InboundError::StorageUnavailable => {
                "the report could not be stored; retry later".into()
            }
        }
    }
}

impl IntoResponse for InboundError {
    fn into_response(self) -> Response {
        super::error::refusal(self.status(), self.code(), self.message(), true)
    }
}

/// The handler.
pub(crate) async fn receive(
    State(core): State<Arc<Core>>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    // The label is a configured name or `unknown`: bounded series.
    let label = core
        .config
        .inbound_source(&source)
        .map_or("unknown", |s| s.name.as_str())
        .to_owned();
    let mut body_read = false;
    let response = match accept(&core, &source, &headers, body, &mut body_read).await {
        Ok((status, event_id)) => {
            core.metrics.inbound(&label, status);
            Json(json!({"status": status, "event_id": event_id})).into_response()
        }
        Err(e) => {
            core.metrics.inbound(&label, e.code());
            tracing::debug!(
                source = %label,
                code = e.code(),
                status = e.status().as_u16(),
                "inbound report rejected"
            );
            super::error::refusal(e.status(), e.code(), e.message(), body_read)
        }
    };
    core.metrics.ack.observe(started.elapsed());
    response
}

async fn accept(
    core: &Core,
    source: &str,
    h: &HeaderMap,
    body: Body,
    body_read: &mut bool,
) -> Result<(&'static str, String), InboundError> {
    use InboundError as E;
    let max = core.config.server.max_body_bytes;
    if let Some(len) = h
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > max as u64
    {
        return Err(E::BodyTooLarge);
    }
    let src = core.config.inbound_source(source).ok_or(E::UnknownSource)?;
    let signature = h
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(E::MissingSignature)?;
    let mac = hmac::decode(signature).ok_or(E::InvalidSignature)?;
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
    if !hmac::verify(src.secret.expose().as_bytes(), &body, &mac) {
        return Err(E::InvalidSignature);
    }

    // Authenticated from here on.
    let report = InboundBody::parse(&body).map_err(|e| E::MalformedBody(e.to_string()))?;
    let kind = report.kind().map_err(|_| E::UnknownKind)?;
    if !src.kinds.contains(&kind) {
        return Err(E::KindNotAllowed);
    }
    if !src.shops.contains(&report.shop) {
        return Err(E::ShopNotAllowed);
    }
    let (payload, occurred) = report.check(&src.name).map_err(|e| match e {
        BodyError::UnknownKind(_) => E::UnknownKind,
        BodyError::Malformed(m) => E::MalformedBody(m),
    })?;

    let now = Timestamp::now();
    let age = now.duration_since(occurred);
    let skew = jiff::SignedDuration::try_from(core.config.server.max_clock_skew)
        .unwrap_or(jiff::SignedDuration::MAX);
    if -age > skew {
        return Err(E::TriggeredInFuture);
    }
    let stale = age
        > jiff::SignedDuration::try_from(core.config.server.max_age)
            .unwrap_or(jiff::SignedDuration::MAX);
    let topic = kind.topic();
    let shop = report.shop.clone();
    let text = serde_json::to_string(&payload)
        .map_err(|e| E::MalformedBody(format!("cannot normalise: {e}")))?;
    let event = NewEvent {
        shop: shop.clone(),
        topic: topic.to_owned(),
        source: EventSource::Inbound,
        // A `:` keeps it apart from Shopify's webhook ids (which have none)
        // and from the host's own keys (`timer:…`, `corecase:…`).
        dedupe_key: format!("inbound:{}:{}", src.name, payload.id),
        shopify_event_id: None,
        api_version: HOST_PAYLOAD_VERSION.to_owned(),
        triggered_at: occurred,
        received_at: now,
        resources: Resources {
            order_id: Some(payload.order_id),
            customer_id: payload.customer_id,
            ..Resources::default()
        },
        payload: text,
        target_plugin: None,
        status: if stale {
            EventStatus::Stale
        } else {
            EventStatus::Pending
        },
        // What the source signed: the same body again is the same report.
        body_sha256: Some(Sha256::digest(&body).into()),
    };
    let inserted = match tokio::time::timeout(
        core.config.server.ack_timeout,
        core.storage.insert_event(event),
    )
    .await
    {
        Ok(Ok(i)) => i,
        Ok(Err(e)) => {
            tracing::warn!(source = %src.name, %shop, topic, error = %e, "cannot commit an inbound report; answering 503");
            return Err(E::StorageUnavailable);
        }
        Err(_) => {
            tracing::warn!(source = %src.name, %shop, topic, "the commit took longer than server.ack-timeout; answering 503");
            return Err(E::StorageUnavailable);
        }
    };
    Ok(match inserted {
        Inserted::New { event_id } if stale => ("stale", event_id),
        Inserted::New { event_id } => {
            core.events_added();
            tracing::info!(source = %src.name, %shop, topic, %event_id, "inbound report accepted");
            ("accepted", event_id)
        }
        Inserted::Duplicate { event_id, .. } => ("duplicate", event_id),
    })
}

/// The signature header value of `body` under `secret` (what a source
/// sends in `X-Shopcase-Signature`).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    hmac::sign(secret, body)
}
