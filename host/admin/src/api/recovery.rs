//! Dead letters: inspect, retry (once), discard.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use shopcase_store::DeadLetter;

use crate::api::limit;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AdminState;
use crate::views::{DeadLetterDetail, EventSummary};

/// `GET /dead-letters` filters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeadLetterFilter {
    shop: Option<String>,
    /// `open` (default: waiting for an admin) or `all`.
    state: Option<String>,
    limit: Option<usize>,
}

/// `GET /dead-letters`: newest first.
pub(crate) async fn list(
    p: Principal,
    State(s): State<AdminState>,
    ApiQuery(q): ApiQuery<DeadLetterFilter>,
) -> Result<Json<Value>, ApiError> {
    let open_only = match q.state.as_deref() {
        None | Some("open") => true,
        Some("all") => false,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "`state`: `{other}` is not `open` or `all`"
            )));
        }
    };
    let limit = limit(q.limit, 50, 200);
    let storage = s.admin.storage();
    let mut letters: Vec<DeadLetter> = match p.scope(&s, q.shop.as_deref()).await? {
        None => storage.dead_letters(None, open_only, limit).await?,
        Some(shops) => {
            let mut all = Vec::new();
            for shop in &shops {
                all.extend(storage.dead_letters(Some(shop), open_only, limit).await?);
            }
            all
        }
    };
    letters.sort_by_key(|d| std::cmp::Reverse(d.id));
    letters.truncate(limit);
    Ok(Json(json!({ "dead_letters": letters })))
}

/// The dead letter, if the token may see it (404 alike otherwise).
async fn visible(p: &Principal, s: &AdminState, id: i64) -> Result<DeadLetter, ApiError> {
    let what = format!("dead letter {id}");
    let d = s
        .admin
        .storage()
        .dead_letter(id)
        .await?
        .ok_or_else(|| ApiError::not_found(&what))?;
    p.require_store(s, &d.shop, d.plugin_id.as_deref(), &what)
        .await?;
    Ok(d)
}

/// `GET /dead-letters/{id}`: the letter, its event and its action.
pub(crate) async fn get(
    p: Principal,
    State(s): State<AdminState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<DeadLetterDetail>, ApiError> {
    let d = visible(&p, &s, id).await?;
    let storage = s.admin.storage();
    let event = storage.event(&d.event_id).await?;
    let action = match &d.idempotency_key {
        Some(k) => storage.journal_entry(k).await?,
        None => None,
    };
    Ok(Json(DeadLetterDetail {
        event: event.as_ref().map(EventSummary::from),
        action,
        dead_letter: d,
    }))
}

/// `POST /dead-letters/{id}/retry`: run its work once more. A letter is
/// resolved once; a second retry is 409 `already-resolved`.
pub(crate) async fn retry(
    p: Principal,
    State(s): State<AdminState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<DeadLetter>, ApiError> {
    p.require_write(&s).await?;
    visible(&p, &s, id).await?;
    Ok(Json(s.admin.retry_dead_letter(id, &p.actor()).await?))
}

/// `POST /dead-letters/{id}/discard`: give up on it.
pub(crate) async fn discard(
    p: Principal,
    State(s): State<AdminState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<DeadLetter>, ApiError> {
    p.require_write(&s).await?;
    visible(&p, &s, id).await?;
    Ok(Json(s.admin.discard_dead_letter(id, &p.actor()).await?))
}
