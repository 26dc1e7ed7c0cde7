//! The admin API's SQL: API tokens (hashed) and the searches behind its
//! listings. Searches select keys newest first (bounded by the limit) and
//! read each row with its concern's own reader, in one read transaction so
//! a page is one consistent snapshot.

use rusqlite::{Connection, OptionalExtension, Row, params};
use shopcase_contract::{CaseKey, Subject};

use super::{corrupt, db, ms, to_json, ts, ts_opt};
use crate::error::{Result, StoreError};
use crate::values::*;

/// A token's `last_used_at` is written at most this often, so a busy
/// admin page does not turn every read into a write.
pub(crate) const TOUCH_EVERY_MS: i64 = 60_000;

pub(crate) fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `None` (every store) or the JSON array `json_each` expands in SQL.
fn shops_param(shops: &Option<Vec<String>>) -> Result<Option<String>> {
    shops
        .as_ref()
        .map(|s| to_json("query.shops", s))
        .transpose()
}

pub(crate) fn as_i64(id: Option<u64>) -> Option<i64> {
    // An id beyond i64 matches nothing (-1 is never stored).
    id.map(|i| i64::try_from(i).unwrap_or(-1))
}

// ---- tokens ---------------------------------------------------------------------

pub(crate) const TOKEN_COLS: &str =
    "id, name, role, stores, created_by, created_at, last_used_at, revoked_at, revoked_by";

pub(crate) type RawToken = (
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

fn raw_token(r: &Row<'_>) -> rusqlite::Result<RawToken> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

pub(crate) fn into_token(raw: RawToken) -> Result<ApiToken> {
    let (id, name, role, stores, created_by, created_at, last_used_at, revoked_at, revoked_by) =
        raw;
    Ok(ApiToken {
        role: role.parse().map_err(corrupt("api_tokens.role"))?,
        stores: serde_json::from_str(&stores)
            .map_err(|e| corrupt("api_tokens.stores")(e.to_string()))?,
        id,
        name,
        created_by,
        created_at: ts(created_at),
        last_used_at: ts_opt(last_used_at),
        revoked_at: ts_opt(revoked_at),
        revoked_by,
    })
}

pub(super) fn create_token(c: &Connection, t: &NewApiToken, audit: &NewAudit) -> Result<()> {
    let op = "create-api-token";
    let stores = to_json("api_tokens.stores", &t.stores)?;
    let n = c
        .execute(
            "INSERT INTO api_tokens (id, name, role, stores, hash, created_by, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
            params![
                t.id,
                t.name,
                t.role.as_str(),
                stores,
                t.hash,
                t.created_by,
                ms(t.created_at)
            ],
        )
        .map_err(db(op))?;
    if n == 0 {
        return Err(StoreError::Conflict(format!(
            "an API token with id `{}` (or the same hash) already exists",
            t.id
        )));
    }
    super::admin::insert_audit(c, audit)
}

pub(super) fn tokens(c: &Connection) -> Result<Vec<ApiToken>> {
    let sql = format!("SELECT {TOKEN_COLS} FROM api_tokens ORDER BY created_at, id");
    let raws = c
        .prepare_cached(&sql)
        .and_then(|mut s| {
            s.query_map([], raw_token)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(db("api-tokens"))?;
    raws.into_iter().map(into_token).collect()
}

pub(super) fn token_by_hash(c: &Connection, hash: &str) -> Result<Option<ApiToken>> {
    let sql = format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE hash = ?1");
    let raw = c
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row([hash], raw_token).optional())
        .map_err(db("api-token"))?;
    raw.map(into_token).transpose()
}

pub(super) fn touch_token(c: &Connection, id: &str, now: Timestamp) -> Result<()> {
    let now = ms(now);
    c.execute(
        "UPDATE api_tokens SET last_used_at = ?2
         WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at <= ?2 - ?3)",
        params![id, now, TOUCH_EVERY_MS],
    )
    .map_err(db("touch-api-token"))?;
    Ok(())
}

pub(super) fn revoke_token(c: &Connection, id: &str, audit: &NewAudit) -> Result<bool> {
    let op = "revoke-api-token";
    let exists: Option<Option<i64>> = c
        .query_row(
            "SELECT revoked_at FROM api_tokens WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()
        .map_err(db(op))?;
    match exists {
        None => Err(StoreError::NotFound {
            what: "API token",
            key: id.to_owned(),
        }),
        Some(Some(_)) => Ok(false),
        Some(None) => {
            c.execute(
                "UPDATE api_tokens SET revoked_at = ?2, revoked_by = ?3 WHERE id = ?1",
                params![id, ms(audit.at), audit.actor],
            )
            .map_err(db(op))?;
            super::admin::insert_audit(c, audit)?;
            Ok(true)
        }
    }
}

// ---- searches ---------------------------------------------------------------------

pub(super) fn search_events(c: &Connection, q: &EventQuery) -> Result<Vec<StoredEvent>> {
    let op = "search-events";
    let shops = shops_param(&q.shops)?;
    let tx = c.unchecked_transaction().map_err(db(op))?;
    // `seq < coalesce(...)` keeps the walk on the rowid range (newest first).
    let ids: Vec<String> = tx
        .prepare_cached(
            "SELECT event_id FROM inbox
             WHERE seq < coalesce(?7, 9223372036854775807)
               AND (?1 IS NULL OR shop IN (SELECT value FROM json_each(?1)))
               AND (?2 IS NULL OR topic = ?2)
               AND (?3 IS NULL OR status = ?3)
               AND (?4 IS NULL OR order_id = ?4)
               AND (?5 IS NULL OR received_at >= ?5)
               AND (?6 IS NULL OR received_at < ?6)
               AND (?9 IS NULL OR shopify_event_id = ?9)
             ORDER BY seq DESC LIMIT ?8",
        )
        .and_then(|mut s| {
            s.query_map(
                params![
                    shops,
                    q.topic,
                    q.status.map(EventStatus::as_str),
                    as_i64(q.order_id),
                    q.received_from.map(ms),
                    q.received_until.map(ms),
                    q.before_seq,
                    limit(q.limit),
                    q.shopify_event_id,
                ],
                |r| r.get(0),
            )?
            .collect()
        })
        .map_err(db(op))?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        // Deleted between the two reads cannot happen inside the snapshot;
        // skip rather than fail if it somehow does.
        if let Some(e) = super::inbox::get(&tx, &id)? {
            out.push(e);
        }
    }
    tx.commit().map_err(db(op))?;
    Ok(out)
}

pub(super) fn search_journal(c: &Connection, q: &JournalQuery) -> Result<Vec<JournalEntry>> {
    let op = "search-journal";
    let shops = shops_param(&q.shops)?;
    let tx = c.unchecked_transaction().map_err(db(op))?;
    let keys: Vec<String> = tx
        .prepare_cached(
            "SELECT idempotency_key FROM journal
             WHERE (?1 IS NULL OR shop IN (SELECT value FROM json_each(?1)))
               AND (?2 IS NULL OR plugin_id = ?2)
               AND (?3 IS NULL OR status = ?3)
               AND (?4 IS NULL OR family = ?4)
               AND (?5 IS NULL OR order_id = ?5)
             ORDER BY seq DESC LIMIT ?6",
        )
        .and_then(|mut s| {
            s.query_map(
                params![
                    shops,
                    q.plugin_id,
                    q.status.map(JournalStatus::as_str),
                    q.family.map(ActionFamily::as_str),
                    as_i64(q.order_id),
                    limit(q.limit),
                ],
                |r| r.get(0),
            )?
            .collect()
        })
        .map_err(db(op))?;
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        if let Some(e) = super::journal::get(&tx, &key)? {
            out.push(e);
        }
    }
    tx.commit().map_err(db(op))?;
    Ok(out)
}

pub(super) fn search_case_links(c: &Connection, q: &CaseLinkQuery) -> Result<Vec<CaseLink>> {
    let op = "search-case-links";
    let shops = shops_param(&q.shops)?;
    let tx = c.unchecked_transaction().map_err(db(op))?;
    let keys: Vec<(String, String, i64, String)> = tx
        .prepare_cached(
            "SELECT shop, subject_kind, subject_id, case_type FROM case_links
             WHERE (?1 IS NULL OR shop IN (SELECT value FROM json_each(?1)))
               AND (?2 IS NULL OR (subject_kind = 'order' AND subject_id = ?2))
               AND (?3 IS NULL OR case_id = ?3)
             ORDER BY updated_at DESC, shop, subject_id LIMIT ?4",
        )
        .and_then(|mut s| {
            s.query_map(
                params![shops, as_i64(q.order_id), q.case_id, limit(q.limit),],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?
            .collect()
        })
        .map_err(db(op))?;
    let mut out = Vec::with_capacity(keys.len());
    for (shop, kind, id, case_type) in keys {
        let id = u64::try_from(id).unwrap_or(0);
        let subject = match kind.as_str() {
            "order" => Subject::Order(id),
            "return" => Subject::Return(id),
            "dispute" => Subject::Dispute(id),
            "customer" => Subject::Customer(id),
            other => {
                return Err(corrupt("case_links.subject_kind")(format!(
                    "unknown subject kind `{other}`"
                )));
            }
        };
        if let Some(l) = super::links::get(&tx, &shop, &CaseKey { case_type, subject })? {
            out.push(l);
        }
    }
    tx.commit().map_err(db(op))?;
    Ok(out)
}

pub(super) fn dead_letter(c: &Connection, id: i64) -> Result<Option<DeadLetter>> {
    let raw = c
        .prepare_cached(
            "SELECT id, what, shop, event_id, plugin_id, idempotency_key, kind, reason, attempts,
                created_at, state, resolved_by, resolved_at
             FROM dead_letters WHERE id = ?1",
        )
        .and_then(|mut s| {
            s.query_row([id], |r| {
                Ok((
                    DeadLetter {
                        id: r.get(0)?,
                        what: DeadLetterKind::Dispatch,
                        shop: r.get(2)?,
                        event_id: r.get(3)?,
                        plugin_id: r.get(4)?,
                        idempotency_key: r.get(5)?,
                        failure: FailureRecord::new(r.get::<_, String>(6)?, r.get::<_, String>(7)?),
                        attempts: u32::try_from(r.get::<_, i64>(8)?).unwrap_or(u32::MAX),
                        created_at: ts(r.get(9)?),
                        state: DeadLetterState::Open,
                        resolved_by: r.get(11)?,
                        resolved_at: ts_opt(r.get(12)?),
                    },
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(10)?,
                ))
            })
            .optional()
        })
        .map_err(db("dead-letter"))?;
    let Some((mut d, what, state)) = raw else {
        return Ok(None);
    };
    d.what = DeadLetterKind::parse(&what)
        .ok_or_else(|| corrupt("dead_letters.what")(format!("unknown kind `{what}`")))?;
    d.state = DeadLetterState::parse(&state)
        .ok_or_else(|| corrupt("dead_letters.state")(format!("unknown state `{state}`")))?;
    Ok(Some(d))
}
