//! The OpenAPI 3.1 document of the admin API, hand-written in
//! `openapi.json` and embedded. The test `openapi::document_matches_router`
//! (in `tests/all/openapi.rs`) fails if a route is missing from it or it
//! describes a route the router does not have.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// Where the document is served (no token needed: it holds no data).
pub const OPENAPI_PATH: &str = "/admin/api/openapi.json";

const DOCUMENT: &str = include_str!("openapi.json");

/// The OpenAPI document (JSON text).
pub fn openapi_document() -> &'static str {
    DOCUMENT
}

pub(crate) async fn serve() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT).into_response()
}
