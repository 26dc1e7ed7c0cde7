//! The admin web page: one HTML file, one script, one stylesheet, embedded
//! in the binary (no front-end build step), served under `/admin/`.
//!
//! The page holds no data: it asks for an API token, keeps it in the tab's
//! `sessionStorage` (never a cookie, so the browser never sends it by
//! itself and cross-site requests carry no credentials), and calls the
//! same JSON API as any client, with `Authorization: Bearer`.
//!
//! Every admin answer carries strict security headers ([`security_headers`]):
//! a Content Security Policy that allows only the page's own script and
//! stylesheet (no inline script or style, no other origin, no framing),
//! `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`,
//! `X-Frame-Options: DENY` and `Cache-Control: no-store`. The script writes
//! text with `textContent` only, never HTML, so data cannot become markup.

use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::state::AdminState;

const INDEX_HTML: &str = include_str!("page/index.html");
const APP_JS: &str = include_str!("page/app.js");
const APP_CSS: &str = include_str!("page/app.css");

/// The page's policy: its own script, style and API; nothing else.
pub(crate) const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/// The API's policy: JSON is never a document to render or frame.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// The page's routes (no token needed: they hold no data).
pub(crate) fn routes() -> Router<AdminState> {
    Router::new()
        .route("/admin", get(|| async { Redirect::permanent("/admin/") }))
        .route("/admin/", get(index))
        .route("/admin/app.js", get(app_js))
        .route("/admin/app.css", get(app_css))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, PAGE_CSP),
        ],
        body,
    )
        .into_response()
}

async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

async fn app_css() -> Response {
    asset("text/css; charset=utf-8", APP_CSS)
}

/// A known path with another method: 405 as JSON.
pub(crate) async fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(serde_json::json!({
            "error": "method-not-allowed",
            "message": "this path does not take that method (see the OpenAPI document)",
        })),
    )
        .into_response()
}

/// Add the security headers to every admin answer (a handler's own CSP,
/// the page's, is kept).
pub(crate) async fn security_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(API_CSP));
    let fixed: [(HeaderName, &'static str); 6] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-store"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in fixed {
        h.insert(name, HeaderValue::from_static(value));
    }
    resp
}
