//! Answers and the service error body `{status, exception, message, path,
//! timestamp}` (plus `existingCaseId` for duplicates).

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use shopcase_corecase::api_time;

/// A JSON answer, as stored for `Idempotency-Key` replays.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
}

impl Reply {
    pub(crate) fn ok(body: Value) -> Reply {
        Reply {
            status: StatusCode::OK,
            body,
            headers: Vec::new(),
        }
    }

    pub(crate) fn created(body: Value) -> Reply {
        Reply {
            status: StatusCode::CREATED,
            body,
            headers: Vec::new(),
        }
    }

    pub(crate) fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Reply {
        self.headers.push((name, value));
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut resp = (self.status, axum::Json(self.body)).into_response();
        for (k, v) in self.headers {
            resp.headers_mut().insert(k, v);
        }
        resp
    }
}

/// A refused request.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) exception: &'static str,
    pub(crate) message: String,
    pub(crate) extra: Map<String, Value>,
}

impl ApiError {
    pub(crate) fn new(
        status: StatusCode,
        exception: &'static str,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            exception,
            message: message.into(),
            extra: Map::new(),
        }
    }

    /// 400 `ValidationError`.
    pub(crate) fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "ValidationError", message)
    }

    /// 404.
    pub(crate) fn not_found(exception: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, exception, message)
    }

    /// 409.
    pub(crate) fn conflict(exception: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, exception, message)
    }

    pub(crate) fn with(mut self, key: &str, value: impl Into<Value>) -> ApiError {
        self.extra.insert(key.into(), value.into());
        self
    }

    /// The answer for a request to `path`.
    pub(crate) fn reply(self, path: &str) -> Reply {
        let mut body = json!({
            "status": self.status.as_u16(),
            "exception": self.exception,
            "message": self.message,
            "path": path,
            "timestamp": api_time::format(jiff::Timestamp::now()),
        });
        if let Value::Object(map) = &mut body {
            map.extend(self.extra);
        }
        Reply {
            status: self.status,
            body,
            headers: Vec::new(),
        }
    }
}

/// The API gateway's 401 body.
pub(crate) fn fault(status: StatusCode, faultstring: &str, errorcode: &str) -> Response {
    let body = json!({"fault": {"faultstring": faultstring, "detail": {"errorcode": errorcode}}});
    (status, axum::Json(body)).into_response()
}
