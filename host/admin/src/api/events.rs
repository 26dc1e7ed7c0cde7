//! Events (searched by store, order, topic, status and time) with each
//! plugin's outcome and the actions it returned; the action journal.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use shopcase_store::{EventQuery, JournalEntry, JournalQuery};

use crate::api::{limit, parse_opt, time_opt};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AdminState;
use crate::views::{EventDetail, EventSummary};

/// `GET /events` filters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventFilter {
    shop: Option<String>,
    order: Option<u64>,
    topic: Option<String>,
    status: Option<String>,
    /// Shopify's `X-Shopify-Event-Id`: every topic one merchant action
    /// touched.
    shopify_event: Option<String>,
    /// Received at or after (RFC 3339).
    from: Option<String>,
    /// Received before (RFC 3339).
    until: Option<String>,
    /// The previous page's `next_before`.
    before: Option<i64>,
    limit: Option<usize>,
}

/// `GET /events`: newest first; `next_before` pages on.
pub(crate) async fn search(
    p: Principal,
    State(s): State<AdminState>,
    ApiQuery(q): ApiQuery<EventFilter>,
) -> Result<Json<Value>, ApiError> {
    let shops = p.scope(&s, q.shop.as_deref()).await?;
    let limit = limit(q.limit, 50, 200);
    let found = s
        .admin
        .storage()
        .search_events(EventQuery {
            shops,
            topic: q.topic,
            status: parse_opt("status", q.status.as_deref())?,
            order_id: q.order,
            shopify_event_id: q.shopify_event,
            received_from: time_opt("from", q.from.as_deref())?,
            received_until: time_opt("until", q.until.as_deref())?,
            before_seq: q.before,
            limit,
        })
        .await?;
    let next = (found.len() == limit)
        .then(|| found.last().map(|e| e.seq))
        .flatten();
    let events: Vec<EventSummary> = found.iter().map(EventSummary::from).collect();
    Ok(Json(json!({ "events": events, "next_before": next })))
}

/// `GET /events/{id}`: the event, its payload, each plugin's outcome and
/// actions.
pub(crate) async fn get(
    p: Principal,
    State(s): State<AdminState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<EventDetail>, ApiError> {
    let storage = s.admin.storage();
    let what = format!("event `{id}`");
    let event = storage
        .event(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(&what))?;
    p.require_store(&s, &event.event.shop, None, &what).await?;
    let rows = storage.dispatch_rows(&id).await?;
    let journal = storage.journal_for_event(&id).await?;
    Ok(Json(EventDetail::new(&event, rows, journal)))
}

/// `GET /journal` filters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct JournalFilter {
    shop: Option<String>,
    plugin: Option<String>,
    status: Option<String>,
    family: Option<String>,
    order: Option<u64>,
    limit: Option<usize>,
}

/// `GET /journal`: journalled actions, newest first.
pub(crate) async fn journal(
    p: Principal,
    State(s): State<AdminState>,
    ApiQuery(q): ApiQuery<JournalFilter>,
) -> Result<Json<Value>, ApiError> {
    let shops = p.scope(&s, q.shop.as_deref()).await?;
    let entries = s
        .admin
        .storage()
        .search_journal(JournalQuery {
            shops,
            plugin_id: q.plugin,
            status: parse_opt("status", q.status.as_deref())?,
            family: parse_opt("family", q.family.as_deref())?,
            order_id: q.order,
            limit: limit(q.limit, 50, 200),
        })
        .await?;
    Ok(Json(json!({ "entries": entries })))
}

/// `GET /journal/{key}`.
pub(crate) async fn journal_entry(
    p: Principal,
    State(s): State<AdminState>,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<JournalEntry>, ApiError> {
    let what = format!("journal entry `{key}`");
    let entry = s
        .admin
        .storage()
        .journal_entry(&key)
        .await?
        .ok_or_else(|| ApiError::not_found(&what))?;
    p.require_store(&s, &entry.shop, Some(&entry.plugin_id), &what)
        .await?;
    Ok(Json(entry))
}
