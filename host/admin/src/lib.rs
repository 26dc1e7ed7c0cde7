//! The admin HTTP API and the admin web page of the shopcase host.
//!
//! Admins enable plugins per store and set their settings; operators fix
//! what failed (dead letters, quarantine); security teams audit. All of it
//! over one JSON API under `/admin/api` (described by the OpenAPI document
//! at [`OPENAPI_PATH`]) and a page at `/admin/` that uses the same API:
//!
//! ```no_run
//! # async fn demo(config: shopcase_pipeline::Config) -> Result<(), Box<dyn std::error::Error>> {
//! let storage = shopcase_pipeline::open_storage(&config).await?;
//! let admin = shopcase_admin::router(shopcase_admin::AdminState::new(storage.clone(), &config));
//! let pipeline = shopcase_pipeline::PipelineBuilder::new(config)
//!     .storage(storage)
//!     .routes(admin)
//!     .build()
//!     .await?;
//! # let _ = pipeline; Ok(()) }
//! ```
//!
//! Every change goes through [`Admin`], the code path of
//! `shopcase store ...`, so the command line and the API enforce the same
//! rules and write the same audit records. Authentication and
//! authorisation are in `auth` (roles, 403 and 404, denial
//! audit records); tokens are issued with `shopcase admin token create`
//! ([`Tokens`]).
//!
//! # Layout
//! - `auth`: the `Principal` extractor, roles and store
//!   scopes, denial audit records;
//! - [`connect`]: a store's webhook subscriptions and missing access
//!   scopes (`store connect`, and on enable);
//! - [`tokens`]: issuing, hashing, revoking and checking API tokens;
//! - `api`: the route table and the handlers, one module per area;
//! - `views`: response types beyond the storage's own values;
//! - `extract`: size-capped JSON bodies, query and path parameters with
//!   JSON errors;
//! - `error`: the JSON error type and its stable codes;
//! - `openapi`: the OpenAPI document (`openapi.json`, hand-written);
//! - `page`: the web page (`page/index.html`, `app.js`, `app.css`,
//!   embedded; no build step) and the security headers.

#![forbid(unsafe_code)]

use axum::Router;
use axum::routing::get;

mod api;
mod auth;
pub mod connect;
mod error;
mod extract;
mod openapi;
mod page;
mod state;
pub mod stores;
pub mod tokens;
mod views;

pub use api::API_PREFIX;
pub use connect::{ConnectError, ConnectReport};
pub use extract::MAX_BODY_BYTES;
pub use openapi::{OPENAPI_PATH, openapi_document};
pub use state::AdminState;
pub use stores::{Admin, AdminError, ApproveRequest, EnableRequest, SetRequest, SettingInput};
pub use tokens::{IssuedToken, NewToken, TokenError, Tokens};

/// The admin API (`/admin/api/...`), its OpenAPI document and the admin
/// page (`/admin/`), with security headers on every answer. It sets no
/// fallback, so it can be merged into the pipeline's router
/// (`PipelineBuilder::routes`); testable with `oneshot`.
pub fn router(state: AdminState) -> Router {
    let (api, _) = api::routes();
    api.route(OPENAPI_PATH, get(openapi::serve))
        .merge(page::routes())
        .method_not_allowed_fallback(page::method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(page::security_headers))
        .with_state(state)
}

/// Every `(METHOD, path)` the admin API serves, for checking documents
/// against the router (the OpenAPI test).
pub fn api_routes() -> Vec<(&'static str, String)> {
    let (_, list) = api::routes();
    let mut all = list;
    all.push(("GET", OPENAPI_PATH.to_owned()));
    all
}
