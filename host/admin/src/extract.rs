//! Request extractors whose refusals are the API's JSON errors (axum's own
//! answer in plain text): a size-capped JSON body, the query string and
//! path parameters.

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The largest request body accepted (413 `body-too-large` above): settings
/// are small, nothing else takes a body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON body of at most [`MAX_BODY_BYTES`], `Content-Type:
/// application/json`, unknown fields refused by `T`'s serde attributes.
#[derive(Debug)]
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(ApiError::TooLarge(MAX_BODY_BYTES));
        }
        let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|e| {
                let too_large = std::error::Error::source(&e)
                    .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
                    || e.to_string().contains("length limit");
                if too_large {
                    ApiError::TooLarge(MAX_BODY_BYTES)
                } else {
                    ApiError::invalid("the request body could not be read")
                }
            })?;
        let value = serde_json::from_slice(&bytes).map_err(|e| ApiError::BadRequest {
            code: "invalid-json",
            message: format!("the body is not the expected JSON: {e}"),
        })?;
        Ok(JsonBody(value))
    }
}

/// The query string as `T`; a bad one is 400 `invalid-request`.
#[derive(Debug)]
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|q| ApiQuery(q.0))
            .map_err(|e| ApiError::invalid(e.body_text()))
    }
}

/// Path parameters as `T`; a bad one is 400 `invalid-request`.
#[derive(Debug)]
pub(crate) struct ApiPath<T>(pub(crate) T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e| ApiError::invalid(e.body_text()))
    }
}
