//! Who is asking, and what they may do.
//!
//! Every API request (except the OpenAPI document and the page's static
//! files, which hold no data) is authenticated by [`Principal`]'s
//! extractor: `Authorization: Bearer <token>`, looked up by hash. Then each
//! handler states what it needs:
//!
//! | role | reads | changes | stores |
//! |---|---|---|---|
//! | operator | yes | yes | all |
//! | store-admin | yes | yes | its own |
//! | auditor | yes | no | all, or the ones it is limited to |
//!
//! A role that may not do something gets **403** `forbidden`. A store the
//! token may not see, or anything belonging to one (an event, a journal
//! entry, a dead letter), gets **404** `not-found`, exactly as if it did
//! not exist, so a token cannot learn what other stores hold. Every
//! refusal (401, 403 and these 404s) leaves an `access.denied` audit
//! record: who, when, the request, and why.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use serde_json::json;
use shopcase_contract::time::Timestamp;
use shopcase_store::{ApiRole, ApiToken, NewAudit};

use crate::error::ApiError;
use crate::state::AdminState;
use crate::tokens::Refusal;

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub(crate) struct Principal {
    pub(crate) token: ApiToken,
    method: Method,
    path: String,
}

impl Principal {
    /// Who, for audit records and `updated_by`: `<name> (token <id>)`.
    pub(crate) fn actor(&self) -> String {
        format!("{} (token {})", self.token.name, self.token.id)
    }

    /// The stores it may see; `None`: every store.
    pub(crate) fn visible_shops(&self) -> Option<Vec<String>> {
        match self.token.role {
            ApiRole::Operator => None,
            ApiRole::Auditor if self.token.stores.is_empty() => None,
            // A store admin sees its stores only; one with none (never
            // issued so, but a hand-edited row) sees nothing, not everything.
            ApiRole::StoreAdmin | ApiRole::Auditor => Some(self.token.stores.clone()),
        }
    }

    /// Whether it may see this store.
    pub(crate) fn sees(&self, shop: &str) -> bool {
        self.visible_shops()
            .is_none_or(|s| s.iter().any(|v| v == shop))
    }

    /// Whether it sees every store (and so records not tied to one).
    pub(crate) fn sees_everything(&self) -> bool {
        self.visible_shops().is_none()
    }

    /// Whether its role may change things (every role may read).
    pub(crate) fn may_change(&self) -> bool {
        matches!(self.token.role, ApiRole::Operator | ApiRole::StoreAdmin)
    }

    /// Check the role may change things: 403 and an audit record if not.
    pub(crate) async fn require_write(&self, state: &AdminState) -> Result<(), ApiError> {
        if self.may_change() {
            return Ok(());
        }
        self.audit_denial(state, "role", None, None).await;
        Err(ApiError::Forbidden(format!(
            "the {} role may not change anything",
            self.token.role
        )))
    }

    /// Check it may see `shop`; if not, audit and answer 404 `not-found`
    /// with `what` (the same answer as for something that does not exist).
    pub(crate) async fn require_store(
        &self,
        state: &AdminState,
        shop: &str,
        plugin: Option<&str>,
        what: impl std::fmt::Display,
    ) -> Result<(), ApiError> {
        if self.sees(shop) {
            return Ok(());
        }
        self.audit_denial(state, "store", Some(shop), plugin).await;
        Err(ApiError::not_found(what))
    }

    /// The stores a listing covers: the `shop` filter if given (checked),
    /// else every store the token sees (`None`: all).
    pub(crate) async fn scope(
        &self,
        state: &AdminState,
        shop: Option<&str>,
    ) -> Result<Option<Vec<String>>, ApiError> {
        match shop {
            Some(s) => {
                self.require_store(state, s, None, format!("store `{s}`"))
                    .await?;
                Ok(Some(vec![s.to_owned()]))
            }
            None => Ok(self.visible_shops()),
        }
    }

    async fn audit_denial(
        &self,
        state: &AdminState,
        reason: &str,
        shop: Option<&str>,
        plugin: Option<&str>,
    ) {
        let (audit, unaudited) =
            state
                .token_denials
                .admit(&self.token.id, std::time::Instant::now(), Timestamp::now());
        if let Some(unaudited) = unaudited {
            record_denial(
                state,
                NewAudit {
                    actor: self.actor(),
                    action: "access.denied".into(),
                    shop: None,
                    plugin_id: None,
                    details: json!({
                        "reason": "over-audit-budget",
                        "token": self.token.id,
                        "count": unaudited.count,
                        "since": unaudited.since,
                        "note": "this token's refused requests, in the minute from `since`, beyond those audited one by one",
                    }),
                    at: Timestamp::now(),
                },
            )
            .await;
        }
        if !audit {
            tracing::debug!(token = %self.token.id, reason, "admin API: access denied (over the token's audit budget)");
            return;
        }
        record_denial(
            state,
            NewAudit {
                actor: self.actor(),
                action: "access.denied".into(),
                shop: shop.map(str::to_owned),
                plugin_id: plugin.map(str::to_owned),
                details: json!({
                    "reason": reason,
                    "role": self.token.role,
                    "token": self.token.id,
                    "method": self.method.as_str(),
                    "path": self.path,
                }),
                at: Timestamp::now(),
            },
        )
        .await;
    }
}

/// Write a denial's audit record. A failure to write it is logged; the
/// request is refused either way.
async fn record_denial(state: &AdminState, audit: NewAudit) {
    tracing::info!(actor = %audit.actor, details = %audit.details, "admin API: access denied");
    if let Err(e) = state.admin.storage().record_audit(audit).await {
        tracing::warn!(error = %e, "admin API: cannot record an access denial");
    }
}

/// Audit a refusal of a request without a valid token (no store, no
/// plugin: the caller is nobody yet).
async fn record_anonymous_denial(state: &AdminState, details: serde_json::Value) {
    record_denial(
        state,
        NewAudit {
            actor: "anonymous".into(),
            action: "access.denied".into(),
            shop: None,
            plugin_id: None,
            details,
            at: Timestamp::now(),
        },
    )
    .await;
}

/// The request line as audited: method and path with its query (never
/// headers, so never a token).
fn request_path(parts: &Parts) -> String {
    let p = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
    // Bounded: an audit record is not a place for a megabyte of query.
    p.chars().take(512).collect()
}

impl FromRequestParts<AdminState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AdminState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .map(|v| v.to_str().unwrap_or(""));
        let path = request_path(parts);
        match state.tokens.authenticate(header).await? {
            Ok(token) => Ok(Principal {
                token,
                method: parts.method.clone(),
                path,
            }),
            Err(refusal) => {
                let token = match &refusal {
                    Refusal::Revoked { id } => Some(id.clone()),
                    _ => None,
                };
                let (audit, unaudited) = state
                    .anonymous_denials
                    .admit(std::time::Instant::now(), Timestamp::now());
                if let Some(unaudited) = unaudited {
                    record_anonymous_denial(
                        state,
                        json!({
                            "reason": "over-audit-budget",
                            "count": unaudited.count,
                            "since": unaudited.since,
                            "note": "refusals of requests without a valid token, in the minute from `since`, beyond those audited one by one",
                        }),
                    )
                    .await;
                }
                if !audit {
                    tracing::debug!(
                        reason = refusal.reason(),
                        "admin API: access denied (over the audit budget)"
                    );
                    return Err(ApiError::Unauthenticated);
                }
                record_anonymous_denial(
                    state,
                    json!({
                        "reason": refusal.reason(),
                        "token": token,
                        "method": parts.method.as_str(),
                        "path": path,
                    }),
                )
                .await;
                Err(ApiError::Unauthenticated)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: ApiRole, stores: &[&str]) -> Principal {
        Principal {
            token: ApiToken {
                id: "tok_1".into(),
                name: "t".into(),
                role,
                stores: stores.iter().map(|s| (*s).to_owned()).collect(),
                created_by: "x".into(),
                created_at: Timestamp::UNIX_EPOCH,
                last_used_at: None,
                revoked_at: None,
                revoked_by: None,
            },
            method: Method::GET,
            path: "/".into(),
        }
    }

    #[test]
    fn roles_and_store_scopes() {
        let op = principal(ApiRole::Operator, &[]);
        assert!(op.sees("a") && op.sees_everything() && op.may_change());
        let admin = principal(ApiRole::StoreAdmin, &["a"]);
        assert!(admin.sees("a") && !admin.sees("b") && admin.may_change());
        assert!(!admin.sees_everything());
        let auditor = principal(ApiRole::Auditor, &[]);
        assert!(auditor.sees("b") && auditor.sees_everything() && !auditor.may_change());
        let scoped = principal(ApiRole::Auditor, &["b"]);
        assert!(scoped.sees("b") && !scoped.sees("a"));
        // A store admin without stores sees nothing rather than everything.
        let none = principal(ApiRole::StoreAdmin, &[]);
        assert!(!none.sees("a") && !none.sees_everything());
        assert_eq!(none.visible_shops(), Some(vec![]));
    }
}
