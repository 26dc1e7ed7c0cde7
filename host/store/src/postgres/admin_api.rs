//! The admin API's SQL on PostgreSQL: API tokens (hashed) and the searches
//! behind its listings (see `sqlite/admin_api.rs`; the token parsing is
//! shared with it). Searches select keys newest first (bounded by the
//! limit) and read each row with its concern's own reader, in the caller's
//! one read transaction (`REPEATABLE READ`), so a page is one consistent
//! snapshot.

use shopcase_contract::CaseKey;
use tokio_postgres::Row;

use super::{Tx, pg};
use crate::convert::{corrupt, ms, to_json};
use crate::error::{Result, StoreError};
use crate::sqlite::admin_api::{RawToken, TOKEN_COLS, TOUCH_EVERY_MS, as_i64, into_token, limit};
use crate::values::*;

// ---- tokens ---------------------------------------------------------------------

fn raw_token(r: &Row) -> RawToken {
    (
        r.get(0),
        r.get(1),
        r.get(2),
        r.get(3),
        r.get(4),
        r.get(5),
        r.get(6),
        r.get(7),
        r.get(8),
    )
}

pub(super) async fn create_token(tx: &Tx<'_>, t: &NewApiToken, audit: &NewAudit) -> Result<()> {
    let op = "create-api-token";
    let stores = to_json("api_tokens.stores", &t.stores)?;
    let n = tx
        .execute(
            "INSERT INTO api_tokens (id, name, role, stores, hash, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            &[
                &t.id,
                &t.name,
                &t.role.as_str(),
                &stores,
                &t.hash,
                &t.created_by,
                &ms(t.created_at),
            ],
        )
        .await
        .map_err(pg(op))?;
    if n == 0 {
        return Err(StoreError::Conflict(format!(
            "an API token with id `{}` (or the same hash) already exists",
            t.id
        )));
    }
    super::admin::insert_audit(tx, audit).await
}

pub(super) async fn tokens(tx: &Tx<'_>) -> Result<Vec<ApiToken>> {
    let op = "api-tokens";
    let sql = format!("SELECT {TOKEN_COLS} FROM api_tokens ORDER BY created_at, id");
    let stmt = tx.prepare_cached(&sql).await.map_err(pg(op))?;
    let rows = tx.query(&stmt, &[]).await.map_err(pg(op))?;
    rows.iter().map(|r| into_token(raw_token(r))).collect()
}

/// The token whose hash is `hash`: one lookup in the unique index on
/// `hash`.
pub(super) async fn token_by_hash(tx: &Tx<'_>, hash: &str) -> Result<Option<ApiToken>> {
    let op = "api-token";
    let sql = format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE hash = $1");
    let stmt = tx.prepare_cached(&sql).await.map_err(pg(op))?;
    let row = tx.query_opt(&stmt, &[&hash]).await.map_err(pg(op))?;
    row.map(|r| into_token(raw_token(&r))).transpose()
}

pub(super) async fn touch_token(tx: &Tx<'_>, id: &str, now: Timestamp) -> Result<()> {
    let op = "touch-api-token";
    let stmt = tx
        .prepare_cached(
            "UPDATE api_tokens SET last_used_at = $2
             WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $2::bigint - $3::bigint)",
        )
        .await
        .map_err(pg(op))?;
    tx.execute(&stmt, &[&id, &ms(now), &TOUCH_EVERY_MS])
        .await
        .map_err(pg(op))?;
    Ok(())
}

pub(super) async fn revoke_token(tx: &Tx<'_>, id: &str, audit: &NewAudit) -> Result<bool> {
    let op = "revoke-api-token";
    let exists: Option<Option<i64>> = tx
        .query_opt("SELECT revoked_at FROM api_tokens WHERE id = $1", &[&id])
        .await
        .map_err(pg(op))?
        .map(|r| r.get(0));
    match exists {
        None => Err(StoreError::NotFound {
            what: "API token",
            key: id.to_owned(),
        }),
        Some(Some(_)) => Ok(false),
        Some(None) => {
            tx.execute(
                "UPDATE api_tokens SET revoked_at = $2, revoked_by = $3 WHERE id = $1",
                &[&id, &ms(audit.at), &audit.actor],
            )
            .await
            .map_err(pg(op))?;
            super::admin::insert_audit(tx, audit).await?;
            Ok(true)
        }
    }
}

// ---- searches ---------------------------------------------------------------------

pub(super) async fn search_events(tx: &Tx<'_>, q: &EventQuery) -> Result<Vec<StoredEvent>> {
    let op = "search-events";
    // `seq < coalesce(...)` keeps the walk on the primary key's range
    // (newest first).
    let stmt = tx
        .prepare_cached(
            "SELECT event_id FROM inbox
             WHERE seq < coalesce($7::bigint, 9223372036854775807)
               AND ($1::text[] IS NULL OR shop = ANY($1))
               AND ($2::text IS NULL OR topic = $2)
               AND ($3::text IS NULL OR status = $3)
               AND ($4::bigint IS NULL OR order_id = $4)
               AND ($5::bigint IS NULL OR received_at >= $5)
               AND ($6::bigint IS NULL OR received_at < $6)
               AND ($9::text IS NULL OR shopify_event_id = $9)
             ORDER BY seq DESC LIMIT $8",
        )
        .await
        .map_err(pg(op))?;
    let ids: Vec<String> = tx
        .query(
            &stmt,
            &[
                &q.shops,
                &q.topic,
                &q.status.map(EventStatus::as_str),
                &as_i64(q.order_id),
                &q.received_from.map(ms),
                &q.received_until.map(ms),
                &q.before_seq,
                &limit(q.limit),
                &q.shopify_event_id,
            ],
        )
        .await
        .map_err(pg(op))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        // Deleted between the two reads cannot happen inside the snapshot;
        // skip rather than fail if it somehow does.
        if let Some(e) = super::inbox::get(tx, &id).await? {
            out.push(e);
        }
    }
    Ok(out)
}

pub(super) async fn search_journal(tx: &Tx<'_>, q: &JournalQuery) -> Result<Vec<JournalEntry>> {
    let op = "search-journal";
    let stmt = tx
        .prepare_cached(
            "SELECT idempotency_key FROM journal
             WHERE ($1::text[] IS NULL OR shop = ANY($1))
               AND ($2::text IS NULL OR plugin_id = $2)
               AND ($3::text IS NULL OR status = $3)
               AND ($4::text IS NULL OR family = $4)
               AND ($5::bigint IS NULL OR order_id = $5)
             ORDER BY seq DESC LIMIT $6",
        )
        .await
        .map_err(pg(op))?;
    let keys: Vec<String> = tx
        .query(
            &stmt,
            &[
                &q.shops,
                &q.plugin_id,
                &q.status.map(JournalStatus::as_str),
                &q.family.map(ActionFamily::as_str),
                &as_i64(q.order_id),
                &limit(q.limit),
            ],
        )
        .await
        .map_err(pg(op))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        if let Some(e) = super::journal::get(tx, &key).await? {
            out.push(e);
        }
    }
    Ok(out)
}

pub(super) async fn search_case_links(tx: &Tx<'_>, q: &CaseLinkQuery) -> Result<Vec<CaseLink>> {
    let op = "search-case-links";
    let stmt = tx
        .prepare_cached(
            "SELECT shop, subject_kind, subject_id, case_type FROM case_links
             WHERE ($1::text[] IS NULL OR shop = ANY($1))
               AND ($2::bigint IS NULL OR (subject_kind = 'order' AND subject_id = $2))
               AND ($3::text IS NULL OR case_id = $3)
             ORDER BY updated_at DESC, shop, subject_id LIMIT $4",
        )
        .await
        .map_err(pg(op))?;
    let keys: Vec<(String, String, i64, String)> = tx
        .query(
            &stmt,
            &[&q.shops, &as_i64(q.order_id), &q.case_id, &limit(q.limit)],
        )
        .await
        .map_err(pg(op))?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    let mut out = Vec::with_capacity(keys.len());
    for (shop, kind, id, case_type) in keys {
        let subject = crate::sqlite::links::subject(&kind, u64::try_from(id).unwrap_or(0))
            .ok_or_else(|| {
                corrupt("case_links.subject_kind")(format!("unknown subject kind `{kind}`"))
            })?;
        if let Some(l) = super::links::get(tx, &shop, &CaseKey { case_type, subject }).await? {
            out.push(l);
        }
    }
    Ok(out)
}
