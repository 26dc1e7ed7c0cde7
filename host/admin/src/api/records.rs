//! Read-only records: case links, privacy requests, the audit log, and the
//! caller's token.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use shopcase_store::{AuditEntry, CaseLinkQuery};

use crate::api::limit;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::AdminState;
use crate::views::MeView;

/// `GET /me`: who the token is and what it may do (the page uses it).
pub(crate) async fn me(p: Principal) -> Json<MeView> {
    let all = p.sees_everything();
    Json(MeView {
        id: p.token.id.clone(),
        name: p.token.name.clone(),
        role: p.token.role,
        stores: if all { vec![] } else { p.token.stores.clone() },
        all_stores: all,
        can_change: p.may_change(),
    })
}

/// `GET /case-links` filters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CaseLinkFilter {
    shop: Option<String>,
    order: Option<u64>,
    case_id: Option<String>,
    limit: Option<usize>,
}

/// `GET /case-links`: which Core Case case belongs to which order, return,
/// dispute or customer; most recently changed first.
pub(crate) async fn case_links(
    p: Principal,
    State(s): State<AdminState>,
    ApiQuery(q): ApiQuery<CaseLinkFilter>,
) -> Result<Json<Value>, ApiError> {
    let shops = p.scope(&s, q.shop.as_deref()).await?;
    let links = s
        .admin
        .storage()
        .search_case_links(CaseLinkQuery {
            shops,
            order_id: q.order,
            case_id: q.case_id,
            limit: limit(q.limit, 50, 200),
        })
        .await?;
    Ok(Json(json!({ "case_links": links })))
}

/// `GET /privacy-requests` filters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PrivacyFilter {
    shop: Option<String>,
    limit: Option<usize>,
}

/// `GET /privacy-requests`: the privacy webhooks handled (data requests,
/// customer and shop redactions) with what was done, newest first. The
/// records hold counts and the export file's path, never the customer's
/// data.
pub(crate) async fn privacy_requests(
    p: Principal,
    State(s): State<AdminState>,
    ApiQuery(q): ApiQuery<PrivacyFilter>,
) -> Result<Json<Value>, ApiError> {
    let shops = p.scope(&s, q.shop.as_deref()).await?;
    let records = s
        .admin
        .storage()
        .privacy_records(shops, limit(q.limit, 50, 200))
        .await?;
    Ok(Json(json!({ "privacy_requests": records })))
}

/// `GET /audit` filters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditFilter {
    shop: Option<String>,
    limit: Option<usize>,
}

/// `GET /audit`: the newest audit records. A token limited to some stores
/// sees those stores' records only (records tied to no store, such as token
/// changes, need a token that sees every store).
pub(crate) async fn audit(
    p: Principal,
    State(s): State<AdminState>,
    ApiQuery(q): ApiQuery<AuditFilter>,
) -> Result<Json<Value>, ApiError> {
    let limit = limit(q.limit, 100, 500);
    let storage = s.admin.storage();
    let entries: Vec<AuditEntry> = match p.scope(&s, q.shop.as_deref()).await? {
        None => storage.audit_log(None, limit).await?,
        Some(shops) => {
            let mut all = Vec::new();
            for shop in &shops {
                all.extend(storage.audit_log(Some(shop), limit).await?);
            }
            all.sort_by_key(|e| std::cmp::Reverse(e.id));
            all.truncate(limit);
            all
        }
    };
    Ok(Json(json!({ "audit": entries })))
}
