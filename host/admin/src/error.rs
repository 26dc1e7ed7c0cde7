//! The HTTP edge's error: a status, a stable machine-readable code and a
//! message for people, as `{"error": <code>, "message": <text>}`. Storage
//! and other internal failures are logged here and answered with a bare
//! code: nothing internal (paths, SQL, stack) reaches the caller.

use crate::stores::AdminError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use shopcase_store::StoreError;

/// Why a request was refused. `code()` values are part of the API
/// (documented in the OpenAPI document and docs/admin-guide.md).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// No token, a malformed one, an unknown or a revoked one (401).
    #[error("a valid API token is required: send `Authorization: Bearer <token>`")]
    Unauthenticated,
    /// The token's role may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// Not there, or not visible to this token (404): the two are answered
    /// alike so a token cannot learn what other stores hold.
    #[error("{0}")]
    NotFound(String),
    /// A 404 with its own code (`unknown-store`, `unknown-plugin`, ...).
    #[error("{message}")]
    Missing {
        /// Stable code.
        code: &'static str,
        /// For people.
        message: String,
    },
    /// The request is malformed (400).
    #[error("{message}")]
    BadRequest {
        /// Stable code: `invalid-request` or `invalid-json`.
        code: &'static str,
        /// For people.
        message: String,
    },
    /// A setting is unknown or its value does not fit the manifest (422);
    /// the message names the setting.
    #[error("{0}")]
    InvalidSetting(String),
    /// The request contradicts the current state (409).
    #[error("{message}")]
    Conflict {
        /// Stable code: `conflict`, `already-resolved`, `not-quarantined`,
        /// `already-approved`, `hash-mismatch`, `duplicate-plugin`.
        code: &'static str,
        /// For people.
        message: String,
    },
    /// The body is over the cap (413).
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    /// The body is not JSON (415).
    #[error("send the body as `Content-Type: application/json`")]
    UnsupportedMediaType,
    /// The storage is unavailable right now (503); try again.
    #[error("the storage is unavailable; try again")]
    Unavailable,
    /// A bug or corrupt data (500); details are in the log.
    #[error("internal error; the host's log has the details")]
    Internal,
}

impl ApiError {
    /// The stable code.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not-found",
            ApiError::Missing { code, .. }
            | ApiError::BadRequest { code, .. }
            | ApiError::Conflict { code, .. } => code,
            ApiError::InvalidSetting(_) => "invalid-setting",
            ApiError::TooLarge(_) => "body-too-large",
            ApiError::UnsupportedMediaType => "unsupported-media-type",
            ApiError::Unavailable => "storage-unavailable",
            ApiError::Internal => "internal",
        }
    }

    /// The HTTP status.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) | ApiError::Missing { .. } => StatusCode::NOT_FOUND,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::InvalidSetting(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// `invalid-request` with a message.
    pub(crate) fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            code: "invalid-request",
            message: message.into(),
        }
    }

    /// `not-found` for `what` (`event `x``...).
    pub(crate) fn not_found(what: impl std::fmt::Display) -> ApiError {
        ApiError::NotFound(format!("{what} was not found"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (
            self.status(),
            Json(json!({"error": self.code(), "message": self.to_string()})),
        )
            .into_response();
        if matches!(self, ApiError::Unauthenticated) {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"shopcase-admin\""),
            );
        }
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            e if e.is_unavailable() => {
                tracing::warn!(error = %e, "admin API: storage unavailable");
                ApiError::Unavailable
            }
            StoreError::NotFound { what, key } => ApiError::not_found(format!("{what} `{key}`")),
            StoreError::Conflict(message) => ApiError::Conflict {
                code: "conflict",
                message,
            },
            e => {
                tracing::error!(error = %e, code = e.code(), "admin API: storage error");
                ApiError::Internal
            }
        }
    }
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> ApiError {
        match e {
            // The configured stores and the plugins directory are not
            // named: the caller may only see some stores, and the path is
            // the host's business.
            AdminError::UnknownShop { shop, .. } => ApiError::Missing {
                code: "unknown-store",
                message: format!("store `{shop}` is not configured"),
            },
            AdminError::UnknownPlugin { plugin, .. } => ApiError::Missing {
                code: "unknown-plugin",
                message: format!("plugin `{plugin}` is not packaged on this host"),
            },
            AdminError::UnknownVersion {
                plugin,
                version,
                available,
                ..
            } => ApiError::Missing {
                code: "unknown-version",
                message: format!(
                    "plugin `{plugin}` has no packaged version {version} (available: {available})"
                ),
            },
            AdminError::NotInstalled { .. } => ApiError::Missing {
                code: "not-installed",
                message: e.to_string(),
            },
            AdminError::NoDeadLetter { id } => ApiError::not_found(format!("dead letter {id}")),
            AdminError::Setting(message) => ApiError::InvalidSetting(message),
            AdminError::NotQuarantined { .. } => ApiError::Conflict {
                code: "not-quarantined",
                message: e.to_string(),
            },
            AdminError::DeadLetterResolved { .. } => ApiError::Conflict {
                code: "already-resolved",
                message: e.to_string(),
            },
            AdminError::Duplicate(message) => ApiError::Conflict {
                code: "duplicate-plugin",
                message,
            },
            AdminError::AlreadyApproved { .. } => ApiError::Conflict {
                code: "already-approved",
                message: e.to_string(),
            },
            AdminError::HashMismatch { .. } => ApiError::Conflict {
                code: "hash-mismatch",
                message: e.to_string(),
            },
            AdminError::Conflict(message) => ApiError::Conflict {
                code: "conflict",
                message,
            },
            AdminError::Invalid(message) => ApiError::invalid(message),
            AdminError::Storage(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_do_not_leak_details() {
        let e: ApiError = StoreError::Database {
            op: "x",
            message: "SELECT secret FROM table".into(),
        }
        .into();
        assert_eq!(e.code(), "internal");
        assert!(!e.to_string().contains("SELECT"));
        let e: ApiError = AdminError::UnknownPlugin {
            plugin: "p".into(),
            dir: "/srv/secret/plugins".into(),
            available: "a, b".into(),
        }
        .into();
        assert_eq!(
            (e.code(), e.status()),
            ("unknown-plugin", StatusCode::NOT_FOUND)
        );
        assert!(!e.to_string().contains("/srv"), "{e}");
        let e: ApiError = AdminError::UnknownShop {
            shop: "x.myshopify.com".into(),
            known: "other.myshopify.com".into(),
        }
        .into();
        assert!(!e.to_string().contains("other"), "{e}");
    }
}
