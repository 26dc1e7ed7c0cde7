//! Case links on PostgreSQL: which Core Case case belongs to a (store,
//! subject, case type). The row parsing is `sqlite/links.rs`'s, over plain
//! values ([`RawLink`]); only the SQL is this engine's.

use async_trait::async_trait;
use shopcase_contract::CaseKey;
use tokio_postgres::Row;

use super::{PostgresStorage, Tx, corecase, pg, read_tx, write_tx};
use crate::convert::ms;
use crate::error::Result;
use crate::sqlite::links::{COLS, RawLink, into_link, priority_name, status_name};
use crate::values::*;

/// The first 13 columns of a row (in [`COLS`]'s order) as plain values.
pub(super) fn raw(r: &Row) -> RawLink {
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
        r.get(9),
        r.get(10),
        r.get(11),
        r.get(12),
    )
}

/// A subject id as stored (`bigint`; ids past `i64::MAX` match nothing).
pub(super) fn subject_id(key: &CaseKey) -> i64 {
    i64::try_from(key.subject.id()).unwrap_or(-1)
}

/// The row of a key in a store, as `cols`; `op` names the operation in
/// errors.
pub(super) async fn row_by_key(
    tx: &Tx<'_>,
    op: &'static str,
    cols: &str,
    shop: &str,
    key: &CaseKey,
) -> Result<Option<Row>> {
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {cols} FROM case_links
             WHERE shop = $1 AND subject_kind = $2 AND subject_id = $3 AND case_type = $4"
        ))
        .await
        .map_err(pg(op))?;
    tx.query_opt(
        &stmt,
        &[&shop, &key.subject.kind(), &subject_id(key), &key.case_type],
    )
    .await
    .map_err(pg(op))
}

pub(super) async fn get(tx: &Tx<'_>, shop: &str, key: &CaseKey) -> Result<Option<CaseLink>> {
    let row = row_by_key(tx, "case-link", COLS, shop, key).await?;
    row.map(|r| into_link(raw(&r))).transpose()
}

pub(super) async fn put(tx: &Tx<'_>, l: &CaseLink) -> Result<()> {
    let op = "put-case-link";
    let stmt = tx
        .prepare_cached(
            "INSERT INTO case_links (shop, subject_kind, subject_id, case_type, case_id, case_number, status, priority,
                escalation_level, opened_at, plugin_id, last_updated_on, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (shop, subject_kind, subject_id, case_type) DO UPDATE SET
                case_id = excluded.case_id, case_number = excluded.case_number, status = excluded.status,
                priority = excluded.priority, escalation_level = excluded.escalation_level,
                opened_at = excluded.opened_at, plugin_id = coalesce(excluded.plugin_id, case_links.plugin_id),
                last_updated_on = coalesce(excluded.last_updated_on, case_links.last_updated_on),
                updated_at = excluded.updated_at",
        )
        .await
        .map_err(pg(op))?;
    tx.execute(
        &stmt,
        &[
            &l.shop,
            &l.key.subject.kind(),
            &subject_id(&l.key),
            &l.key.case_type,
            &l.case_id,
            &l.case_number,
            &status_name(l.status),
            &priority_name(l.priority),
            &i64::from(l.escalation_level),
            &l.opened_at,
            &l.plugin_id,
            &l.last_updated_on,
            &ms(l.updated_at),
        ],
    )
    .await
    .map_err(pg(op))?;
    Ok(())
}

/// Links whose subject is the customer or one of the orders (data requests),
/// by case id. (SQLite reads the store's links and picks them in Rust; the
/// same choice is made here in the query.)
pub(super) async fn for_customer(
    tx: &Tx<'_>,
    shop: &str,
    customer: u64,
    orders: &[u64],
) -> Result<Vec<CaseLink>> {
    let op = "case-links";
    let customer = i64::try_from(customer).unwrap_or(-1);
    // An order id past i64::MAX cannot be stored, so it matches nothing.
    let orders: Vec<i64> = orders
        .iter()
        .filter_map(|o| i64::try_from(*o).ok())
        .collect();
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {COLS} FROM case_links
             WHERE shop = $1 AND ((subject_kind = 'customer' AND subject_id = $2)
                OR (subject_kind = 'order' AND subject_id = ANY($3)))
             ORDER BY case_id"
        ))
        .await
        .map_err(pg(op))?;
    tx.query(&stmt, &[&shop, &customer, &orders])
        .await
        .map_err(pg(op))?
        .iter()
        .map(|r| into_link(raw(r)))
        .collect()
}

#[async_trait]
impl CaseLinkStore for PostgresStorage {
    async fn case_link(&self, shop: &str, key: &CaseKey) -> Result<Option<CaseLink>> {
        read_tx!(self, "case-link", |tx| get(tx, shop, key).await)
    }

    async fn put_case_link(&self, link: CaseLink) -> Result<()> {
        write_tx!(self, "put-case-link", |tx| put(tx, &link).await)
    }

    async fn record_case_link(&self, link: CaseLink, details: CaseLinkDetails) -> Result<()> {
        write_tx!(self, "record-case-link", |tx| {
            corecase::record_link(tx, &link, &details).await
        })
    }

    async fn case_record(&self, case_id: &str) -> Result<Option<CaseRecord>> {
        read_tx!(self, "case-record", |tx| corecase::record_by_case_id(
            tx, case_id
        )
        .await)
    }

    async fn case_record_by_key(&self, shop: &str, key: &CaseKey) -> Result<Option<CaseRecord>> {
        read_tx!(self, "case-record", |tx| corecase::record_by_key(
            tx, shop, key
        )
        .await)
    }

    async fn record_case_observation(&self, observation: CaseObservation) -> Result<Observed> {
        write_tx!(self, "record-case-observation", |tx| corecase::observe(
            tx,
            &observation
        )
        .await)
    }

    async fn poll_marks(&self) -> Result<Vec<PollMark>> {
        read_tx!(self, "poll-marks", |tx| corecase::poll_marks(tx).await)
    }

    async fn advance_poll_mark(
        &self,
        definition_id: &str,
        mark: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        write_tx!(self, "advance-poll-mark", |tx| corecase::advance_mark(
            tx,
            definition_id,
            mark,
            now
        )
        .await)
    }

    async fn hold_operation(&self, held: NewHeldOperation) -> Result<HeldOperation> {
        write_tx!(self, "hold-operation", |tx| corecase::hold(tx, &held).await)
    }

    async fn held_operation(&self, task_id: &str) -> Result<Option<HeldOperation>> {
        read_tx!(self, "held-operations", |tx| corecase::held_by_task(
            tx, task_id
        )
        .await)
    }

    async fn held_operation_for_request(&self, source_key: &str) -> Result<Option<HeldOperation>> {
        read_tx!(self, "held-operations", |tx| corecase::held_by_source(
            tx, source_key
        )
        .await)
    }

    async fn held_operations(&self, case_id: &str) -> Result<Vec<HeldOperation>> {
        read_tx!(self, "held-operations", |tx| corecase::held_for_case(
            tx, case_id
        )
        .await)
    }

    async fn decide_held_operation(&self, decision: HeldDecision) -> Result<DecisionOutcome> {
        write_tx!(self, "decide-held-operation", |tx| corecase::decide(
            tx, &decision
        )
        .await)
    }
}
