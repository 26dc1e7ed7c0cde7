//! The admin API's routes, under [`API_PREFIX`] (`/admin/api`).
//!
//! The route table is built in one place, [`routes`], which also returns
//! the `(method, path)` list the OpenAPI test compares with
//! `openapi.json`, so the document cannot drift from the router.
//!
//! # Layout
//! - `stores`: stores, installations (enable, disable, settings, version,
//!   approving new content), quarantine;
//! - `plugins`: the packaged plugins and their manifests;
//! - `events`: event search and detail (each plugin's outcome and actions),
//!   the action journal;
//! - `recovery`: dead letters (inspect, retry, discard);
//! - `records`: case links, privacy requests, the audit log, the caller's
//!   token.

use std::str::FromStr;

use axum::Router;
use axum::routing::{MethodRouter, get, patch, post};
use shopcase_store::Timestamp;

use crate::error::ApiError;
use crate::state::AdminState;

mod events;
mod plugins;
mod records;
mod recovery;
mod stores;

/// Where the API lives.
pub const API_PREFIX: &str = "/admin/api";

/// The routes that need a token, and their `(METHOD, path)` list (paths in
/// OpenAPI's `{param}` spelling, which is also axum's).
pub(crate) fn routes() -> (Router<AdminState>, Vec<(&'static str, String)>) {
    let table: Vec<(&'static str, &'static str, MethodRouter<AdminState>)> = vec![
        ("GET", "/me", get(records::me)),
        ("GET", "/stores", get(stores::list)),
        ("GET", "/stores/{shop}", get(stores::get)),
        (
            "GET",
            "/stores/{shop}/installations/{plugin}",
            get(stores::get_installation),
        ),
        (
            "PATCH",
            "/stores/{shop}/installations/{plugin}",
            patch(stores::update),
        ),
        (
            "POST",
            "/stores/{shop}/installations/{plugin}/enable",
            post(stores::enable),
        ),
        (
            "POST",
            "/stores/{shop}/installations/{plugin}/disable",
            post(stores::disable),
        ),
        (
            "POST",
            "/stores/{shop}/installations/{plugin}/unquarantine",
            post(stores::unquarantine),
        ),
        (
            "POST",
            "/stores/{shop}/installations/{plugin}/approve",
            post(stores::approve),
        ),
        ("POST", "/stores/{shop}/connect", post(stores::connect)),
        ("GET", "/quarantine", get(stores::quarantined)),
        ("GET", "/plugins", get(plugins::list)),
        ("GET", "/plugins/{plugin}", get(plugins::get)),
        ("GET", "/events", get(events::search)),
        ("GET", "/events/{event_id}", get(events::get)),
        ("GET", "/journal", get(events::journal)),
        ("GET", "/journal/{key}", get(events::journal_entry)),
        ("GET", "/dead-letters", get(recovery::list)),
        ("GET", "/dead-letters/{id}", get(recovery::get)),
        ("POST", "/dead-letters/{id}/retry", post(recovery::retry)),
        (
            "POST",
            "/dead-letters/{id}/discard",
            post(recovery::discard),
        ),
        ("GET", "/case-links", get(records::case_links)),
        ("GET", "/privacy-requests", get(records::privacy_requests)),
        ("GET", "/audit", get(records::audit)),
    ];
    let mut router = Router::new();
    let mut list = Vec::with_capacity(table.len());
    for (method, path, handler) in table {
        let full = format!("{API_PREFIX}{path}");
        // Same path, several methods: axum merges the method routers.
        router = router.route(&full, handler);
        list.push((method, full));
    }
    (router, list)
}

/// A page size: `default` when absent, at least 1, at most `max`.
pub(crate) fn limit(asked: Option<usize>, default: usize, max: usize) -> usize {
    asked.unwrap_or(default).clamp(1, max)
}

/// An optional query value parsed with `FromStr`; the error names it.
pub(crate) fn parse_opt<T: FromStr<Err = String>>(
    name: &str,
    value: Option<&str>,
) -> Result<Option<T>, ApiError> {
    value
        .map(|v| {
            v.parse()
                .map_err(|e| ApiError::invalid(format!("`{name}`: {e}")))
        })
        .transpose()
}

/// An optional RFC 3339 query value.
pub(crate) fn time_opt(name: &str, value: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    value
        .map(|v| {
            shopcase_contract::time::parse(v)
                .map_err(|e| ApiError::invalid(format!("`{name}`: {e}")))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use shopcase_store::{DeadLetterState, EventStatus};

    #[test]
    fn query_values_parse_with_their_names_in_errors() {
        assert_eq!(limit(None, 50, 200), 50);
        assert_eq!(limit(Some(0), 50, 200), 1);
        assert_eq!(limit(Some(10_000), 50, 200), 200);
        assert_eq!(
            parse_opt::<EventStatus>("status", Some("done")).unwrap(),
            Some(EventStatus::Done)
        );
        assert_eq!(
            parse_opt::<DeadLetterState>("state", Some("retried")).unwrap(),
            Some(DeadLetterState::Retried)
        );
        let e = parse_opt::<EventStatus>("status", Some("nope")).unwrap_err();
        assert!(
            e.to_string().starts_with("`status`: unknown event status"),
            "{e}"
        );
        assert!(
            time_opt("from", Some("2026-11-26T10:00:00Z"))
                .unwrap()
                .is_some()
        );
        let e = time_opt("until", Some("yesterday")).unwrap_err();
        assert!(e.to_string().starts_with("`until`:"), "{e}");
    }
}
