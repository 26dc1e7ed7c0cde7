//! How the webhook endpoint says no: a status and a stable code, never
//! internals (those go to the log).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Why a delivery was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngressError {
    /// No `X-Shopify-Hmac-Sha256` header.
    MissingSignature,
    /// The signature does not match the body under the store's secret(s).
    InvalidSignature,
    /// A header Shopify always sends is missing.
    MissingHeader(&'static str),
    /// A header's value is malformed.
    InvalidHeader(&'static str),
    /// The topic is one only the host itself produces.
    ReservedTopic,
    /// The store is not configured here.
    UnknownShop,
    /// The body is over the configured cap.
    BodyTooLarge,
    /// The body is empty.
    EmptyBody,
    /// The body could not be read.
    UnreadableBody,
    /// The body is not a JSON object.
    InvalidJson,
    /// `X-Shopify-Triggered-At` is further ahead of this host's clock than
    /// `server.max-clock-skew`.
    TriggeredInFuture,
    /// The event could not be committed; Shopify should retry.
    StorageUnavailable,
}

impl IngressError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            IngressError::MissingSignature | IngressError::InvalidSignature => {
                StatusCode::UNAUTHORIZED
            }
            IngressError::MissingHeader(_)
            | IngressError::InvalidHeader(_)
            | IngressError::ReservedTopic
            | IngressError::EmptyBody
            | IngressError::UnreadableBody
            | IngressError::InvalidJson
            | IngressError::TriggeredInFuture => StatusCode::BAD_REQUEST,
            IngressError::UnknownShop => StatusCode::NOT_FOUND,
            IngressError::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            IngressError::StorageUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The stable, machine-readable code (also the metrics `reason`).
    pub fn code(&self) -> &'static str {
        match self {
            IngressError::MissingSignature => "missing-signature",
            IngressError::InvalidSignature => "invalid-signature",
            IngressError::MissingHeader(_) => "missing-header",
            IngressError::InvalidHeader(_) => "invalid-header",
            IngressError::ReservedTopic => "reserved-topic",
            IngressError::UnknownShop => "unknown-shop",
            IngressError::BodyTooLarge => "body-too-large",
            IngressError::EmptyBody => "empty-body",
            IngressError::UnreadableBody => "unreadable-body",
            IngressError::InvalidJson => "invalid-json",
            IngressError::TriggeredInFuture => "triggered-in-future",
            IngressError::StorageUnavailable => "storage-unavailable",
        }
    }

    /// What to tell the caller.
    pub fn message(&self) -> String {
        match self {
            IngressError::MissingSignature => "the X-Shopify-Hmac-Sha256 header is missing".into(),
            IngressError::InvalidSignature => "the signature does not match the body".into(),
            IngressError::MissingHeader(h) => format!("the {h} header is missing"),
            IngressError::InvalidHeader(h) => format!("the {h} header is malformed"),
            IngressError::ReservedTopic => "this topic is produced by the host itself".into(),
            IngressError::UnknownShop => "this store is not configured on this host".into(),
            IngressError::BodyTooLarge => "the body is larger than this host accepts".into(),
            IngressError::EmptyBody => "the body is empty".into(),
            IngressError::UnreadableBody => "the body could not be read".into(),
            IngressError::InvalidJson => "the body is not a JSON object".into(),
            IngressError::TriggeredInFuture => {
                "X-Shopify-Triggered-At is later than this host's clock allows (server.max-clock-skew)"
                    .into()
            }
            IngressError::StorageUnavailable => "the event could not be stored; retry later".into(),
        }
    }
}

/// A refusal as the ingress answers it (Shopify webhooks and inbound
/// reports alike): `{"error": code, "message": ...}`, `Retry-After: 5` on
/// 503, and `Connection: close` when the body was never read — the rest of
/// it may still be on its way, so the connection cannot carry another
/// request, and saying so keeps a keep-alive client from sending its next
/// request down a connection the server is closing.
pub(crate) fn refusal(
    status: StatusCode,
    code: &str,
    message: String,
    body_read: bool,
) -> Response {
    let mut r = (status, Json(json!({"error": code, "message": message}))).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    if !body_read {
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    r
}

impl IntoResponse for IngressError {
    fn into_response(self) -> Response {
        refusal(self.status(), self.code(), self.message(), true)
    }
}
