//! The Core Case integration's tables on PostgreSQL (migration 3): the
//! columns it adds to `case_links`, the poller's high-water marks
//! (`corecase_poll_marks`) and operations held for an approval
//! (`held_operations`). Mirrors `sqlite/corecase.rs` function for function;
//! the row parsing ([`into_record`], [`RawHeld::into_held`]) is shared with
//! it over plain values.

use shopcase_contract::{Action, CaseKey, Resources, ShopifyOperation};
use tokio_postgres::Row;

use super::links::{self, subject_id};
use super::{Tx, pg};
use crate::convert::{corrupt, ms, to_json, ts};
use crate::error::Result;
use crate::sqlite::corecase::{Extra, HELD_COLS, RawHeld, into_record, record_cols};
use crate::sqlite::links::{priority_name, status_name};
use crate::values::*;

// ---- case links --------------------------------------------------------------

/// A row of [`record_cols`] as plain values.
fn raw_record(r: &Row) -> (crate::sqlite::links::RawLink, Extra) {
    (links::raw(r), (r.get(13), r.get(14), r.get(15), r.get(16)))
}

pub(super) async fn record_by_case_id(tx: &Tx<'_>, case_id: &str) -> Result<Option<CaseRecord>> {
    let op = "case-record";
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {} FROM case_links WHERE case_id = $1 LIMIT 1",
            record_cols()
        ))
        .await
        .map_err(pg(op))?;
    let row = tx.query_opt(&stmt, &[&case_id]).await.map_err(pg(op))?;
    row.map(|r| into_record(raw_record(&r))).transpose()
}

pub(super) async fn record_by_key(
    tx: &Tx<'_>,
    shop: &str,
    key: &CaseKey,
) -> Result<Option<CaseRecord>> {
    let row = links::row_by_key(tx, "case-record", &record_cols(), shop, key).await?;
    row.map(|r| into_record(raw_record(&r))).transpose()
}

/// Write the link and the integration's columns; for a new case, make sure
/// the poller's mark of its definition is not past it.
pub(super) async fn record_link(tx: &Tx<'_>, link: &CaseLink, d: &CaseLinkDetails) -> Result<()> {
    let op = "record-case-link";
    links::put(tx, link).await?;
    let resources = to_json("case_links.resources", &d.resources)?;
    // The resources stay those of the event that opened the case.
    let stmt = tx
        .prepare_cached(
            "UPDATE case_links SET definition_id = $5, resources = coalesce(resources, $6)
             WHERE shop = $1 AND subject_kind = $2 AND subject_id = $3 AND case_type = $4",
        )
        .await
        .map_err(pg(op))?;
    tx.execute(
        &stmt,
        &[
            &link.shop,
            &link.key.subject.kind(),
            &subject_id(&link.key),
            &link.key.case_type,
            &d.definition_id,
            &resources,
        ],
    )
    .await
    .map_err(pg(op))?;
    if let Some(from) = d.poll_from {
        let stmt = tx
            .prepare_cached(
                "INSERT INTO corecase_poll_marks (definition_id, mark, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (definition_id) DO UPDATE SET
                    mark = least(corecase_poll_marks.mark, excluded.mark),
                    updated_at = excluded.updated_at",
            )
            .await
            .map_err(pg(op))?;
        tx.execute(&stmt, &[&d.definition_id, &ms(from), &ms(link.updated_at)])
            .await
            .map_err(pg(op))?;
    }
    Ok(())
}

pub(super) async fn observe(tx: &Tx<'_>, o: &CaseObservation) -> Result<Observed> {
    let op = "record-case-observation";
    let status = status_name(o.status);
    // This very state recorded already (by the erasure of a privacy
    // request, which records its own change as seen while a poller pass
    // that read the link before was under way): no event for it.
    let recorded: Option<Option<String>> = tx
        .query_opt(
            "SELECT last_updated_on FROM case_links WHERE case_id = $1 LIMIT 1",
            &[&o.case_id],
        )
        .await
        .map_err(pg(op))?
        .map(|r| r.get(0));
    let already = recorded.flatten().as_deref() == Some(o.last_updated_on.as_str());
    let stmt = tx
        .prepare_cached(
            "UPDATE case_links SET status = $2, priority = $3, escalation_level = $4, last_updated_on = $5,
                polled_status = $2, fingerprint = $6, updated_at = $7
             WHERE case_id = $1",
        )
        .await
        .map_err(pg(op))?;
    let n = tx
        .execute(
            &stmt,
            &[
                &o.case_id,
                &status,
                &priority_name(o.priority),
                &i64::from(o.escalation_level),
                &o.last_updated_on,
                &o.fingerprint,
                &ms(o.now),
            ],
        )
        .await
        .map_err(pg(op))?;
    if n == 0 {
        return Ok(Observed::NoLink);
    }
    let event = match &o.event {
        Some(_) if already => None,
        Some(e) => match super::inbox::insert(tx, e).await? {
            Inserted::New { event_id } => Some(event_id),
            Inserted::Duplicate { .. } => None,
        },
        None => None,
    };
    Ok(Observed::Recorded { event })
}

// ---- poll marks ----------------------------------------------------------------

pub(super) async fn poll_marks(tx: &Tx<'_>) -> Result<Vec<PollMark>> {
    let op = "poll-marks";
    let stmt = tx
        .prepare_cached(
            "SELECT definition_id, mark, updated_at FROM corecase_poll_marks ORDER BY definition_id",
        )
        .await
        .map_err(pg(op))?;
    Ok(tx
        .query(&stmt, &[])
        .await
        .map_err(pg(op))?
        .iter()
        .map(|r| PollMark {
            definition_id: r.get(0),
            mark: ts(r.get(1)),
            updated_at: ts(r.get(2)),
        })
        .collect())
}

pub(super) async fn advance_mark(
    tx: &Tx<'_>,
    definition_id: &str,
    mark: Timestamp,
    now: Timestamp,
) -> Result<()> {
    let op = "advance-poll-mark";
    let stmt = tx
        .prepare_cached(
            "INSERT INTO corecase_poll_marks (definition_id, mark, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (definition_id) DO UPDATE SET
                mark = greatest(corecase_poll_marks.mark, excluded.mark),
                updated_at = excluded.updated_at",
        )
        .await
        .map_err(pg(op))?;
    tx.execute(&stmt, &[&definition_id, &ms(mark), &ms(now)])
        .await
        .map_err(pg(op))?;
    Ok(())
}

// ---- held operations -------------------------------------------------------------

fn raw_held(r: &Row) -> RawHeld {
    RawHeld {
        task_id: r.get(0),
        source_key: r.get(1),
        shop: r.get(2),
        plugin_id: r.get(3),
        event_id: r.get(4),
        case_id: r.get(5),
        case_type: r.get(6),
        subject_kind: r.get(7),
        subject_id: r.get(8),
        operation: r.get(9),
        resources: r.get(10),
        status: r.get(11),
        decided_by: r.get(12),
        comment: r.get(13),
        decided_at: r.get(14),
        release_key: r.get(15),
        release_status: r.get(16),
        created_at: r.get(17),
    }
}

async fn held_where(tx: &Tx<'_>, clause: &str, arg: &str) -> Result<Vec<HeldOperation>> {
    let op = "held-operations";
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {HELD_COLS} FROM held_operations h
             LEFT JOIN journal j ON j.idempotency_key = h.release_key
             WHERE {clause} ORDER BY h.created_at, h.task_id"
        ))
        .await
        .map_err(pg(op))?;
    tx.query(&stmt, &[&arg])
        .await
        .map_err(pg(op))?
        .iter()
        .map(|r| raw_held(r).into_held())
        .collect()
}

pub(super) async fn held_for_case(tx: &Tx<'_>, case_id: &str) -> Result<Vec<HeldOperation>> {
    held_where(tx, "h.case_id = $1", case_id).await
}

pub(super) async fn held_by_task(tx: &Tx<'_>, task_id: &str) -> Result<Option<HeldOperation>> {
    Ok(held_where(tx, "h.task_id = $1", task_id).await?.pop())
}

pub(super) async fn held_by_source(tx: &Tx<'_>, source_key: &str) -> Result<Option<HeldOperation>> {
    Ok(held_where(tx, "h.source_key = $1", source_key).await?.pop())
}

/// Hold an operation, unless this task or this request already holds one;
/// returns what is held for the request.
pub(super) async fn hold(tx: &Tx<'_>, h: &NewHeldOperation) -> Result<HeldOperation> {
    let op = "hold-operation";
    let operation = to_json("held_operations.operation", &h.operation)?;
    let resources = to_json("held_operations.resources", &h.resources)?;
    let stmt = tx
        .prepare_cached(
            "INSERT INTO held_operations (task_id, source_key, shop, plugin_id, event_id, idx, case_id, case_type,
                subject_kind, subject_id, operation, resources, status, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'pending', $13, $13)
             ON CONFLICT DO NOTHING",
        )
        .await
        .map_err(pg(op))?;
    tx.execute(
        &stmt,
        &[
            &h.task_id,
            &h.source_key,
            &h.shop,
            &h.plugin_id,
            &h.event_id,
            &i64::from(h.index),
            &h.case_id,
            &h.key.case_type,
            &h.key.subject.kind(),
            &subject_id(&h.key),
            &operation,
            &resources,
            &ms(h.now),
        ],
    )
    .await
    .map_err(pg(op))?;
    held_by_source(tx, &h.source_key).await?.ok_or_else(|| {
        crate::StoreError::Conflict(format!(
            "task `{}` already holds another request's operation",
            h.task_id
        ))
    })
}

/// Decide a pending held operation; an approval journals the operation
/// for the Shopify executor in the same transaction.
pub(super) async fn decide(tx: &Tx<'_>, d: &HeldDecision) -> Result<DecisionOutcome> {
    let op = "decide-held-operation";
    let status = if d.approved {
        HeldStatus::Approved
    } else {
        HeldStatus::Rejected
    };
    let key = release_key(&d.task_id);
    let stmt = tx
        .prepare_cached(
            "UPDATE held_operations SET status = $2, decided_by = $3, decision_comment = $4, decided_at = $5,
                release_key = $6, updated_at = $5
             WHERE task_id = $1 AND status = 'pending'
             RETURNING shop, plugin_id, event_id, idx, operation, resources",
        )
        .await
        .map_err(pg(op))?;
    let row = tx
        .query_opt(
            &stmt,
            &[
                &d.task_id,
                &status.as_str(),
                &d.decided_by,
                &d.comment,
                &ms(d.now),
                &d.approved.then_some(key.as_str()),
            ],
        )
        .await
        .map_err(pg(op))?;
    let Some(row) = row else {
        let existing: Option<String> = tx
            .query_opt(
                "SELECT status FROM held_operations WHERE task_id = $1",
                &[&d.task_id],
            )
            .await
            .map_err(pg(op))?
            .map(|r| r.get(0));
        return Ok(match existing {
            Some(s) => DecisionOutcome::AlreadyDecided {
                status: HeldStatus::parse(&s)
                    .ok_or_else(|| corrupt("held_operations.status")(s.clone()))?,
            },
            None => DecisionOutcome::Unknown,
        });
    };
    if !d.approved {
        return Ok(DecisionOutcome::Declined);
    }
    let (shop, plugin_id, event_id, idx): (String, String, String, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    let (operation, resources_json): (String, String) = (row.get(4), row.get(5));
    let operation: ShopifyOperation = serde_json::from_str(&operation)
        .map_err(|e| corrupt("held_operations.operation")(e.to_string()))?;
    let resources: Resources = serde_json::from_str(&resources_json)
        .map_err(|e| corrupt("held_operations.resources")(e.to_string()))?;
    let kind = operation.kind();
    let action = to_json("journal.action", &Action::Shopify(operation))?;
    let now = ms(d.now);
    let stmt = tx
        .prepare_cached(
            "INSERT INTO journal (idempotency_key, event_id, shop, plugin_id, idx, kind, family, action,
                resources, order_id, customer_id, status, attempts, next_attempt_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', 0, $12, $12, $12)
             ON CONFLICT DO NOTHING",
        )
        .await
        .map_err(pg(op))?;
    tx.execute(
        &stmt,
        &[
            &key,
            &event_id,
            &shop,
            &plugin_id,
            &idx,
            &kind.name(),
            &ActionFamily::Shopify.as_str(),
            &action,
            &resources_json,
            &resources.order_id.and_then(|i| i64::try_from(i).ok()),
            &resources.customer_id.and_then(|i| i64::try_from(i).ok()),
            &now,
        ],
    )
    .await
    .map_err(pg(op))?;
    Ok(DecisionOutcome::Released { journal_key: key })
}
