//! The action journal on PostgreSQL: claims by family, settlement, reads
//! (see `sqlite/journal.rs` for the rules).

#![allow(unused_variables, reason = "claims and settlement are being written")]

use async_trait::async_trait;
use shopcase_contract::Action;
use tokio_postgres::Row;

use super::{PostgresStorage, Tx, pg, read_tx, write_tx};
use crate::convert::to_json;
use crate::error::{Result, StoreError};
use crate::sqlite::journal::{COLS, Raw};
use crate::values::*;

/// A [`COLS`] row whose columns start at `offset`, before its JSON and
/// enums are checked ([`Raw::into_entry`]).
fn raw_at(r: &Row, offset: usize) -> Raw {
    let g = |i: usize| offset + i;
    Raw {
        key: r.get(g(0)),
        event_id: r.get(g(1)),
        shop: r.get(g(2)),
        plugin_id: r.get(g(3)),
        idx: r.get(g(4)),
        kind: r.get(g(5)),
        family: r.get(g(6)),
        action: r.get(g(7)),
        resources: r.get(g(8)),
        status: r.get(g(9)),
        attempts: r.get(g(10)),
        next_attempt_at: r.get(g(11)),
        error_kind: r.get(g(12)),
        error_message: r.get(g(13)),
        result: r.get(g(14)),
        created_at: r.get(g(15)),
        updated_at: r.get(g(16)),
        abandoned: r.get(g(17)),
    }
}

/// The resource ids of the event an entry comes from, as its inbox row
/// holds them (copied as stored into the entry).
#[derive(Debug, Clone, Copy)]
pub(super) struct EntryResources<'a> {
    /// The `resources` JSON.
    pub json: &'a str,
    /// Its order id column.
    pub order_id: Option<i64>,
    /// Its customer id column.
    pub customer_id: Option<i64>,
}

/// Journal one action: a pending entry under its idempotency key
/// (`<event>:<plugin>:<index>`), due at `now`. Returns `false`, writing
/// nothing, when an entry with that key exists already.
#[allow(
    clippy::too_many_arguments,
    reason = "one row's columns, named at the call sites"
)]
pub(super) async fn insert(
    tx: &Tx<'_>,
    event_id: &str,
    shop: &str,
    plugin_id: &str,
    index: u32,
    action: &Action,
    resources: EntryResources<'_>,
    now: i64,
) -> Result<bool> {
    let op = "journal-insert";
    let stmt = tx
        .prepare_cached(
            "INSERT INTO journal (idempotency_key, event_id, shop, plugin_id, idx, kind, family, action,
                resources, order_id, customer_id, status, attempts, next_attempt_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', 0, $12, $12, $12)
             ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .await
        .map_err(pg(op))?;
    let kind = action.kind();
    let n = tx
        .execute(
            &stmt,
            &[
                &idempotency_key(event_id, plugin_id, index),
                &event_id,
                &shop,
                &plugin_id,
                &i64::from(index),
                &kind.name(),
                &ActionFamily::of(kind).as_str(),
                &to_json("journal.action", action)?,
                &resources.json,
                &resources.order_id,
                &resources.customer_id,
                &now,
            ],
        )
        .await
        .map_err(pg(op))?;
    Ok(n == 1)
}

/// One journal entry.
pub(super) async fn get(tx: &Tx<'_>, key: &str) -> Result<Option<JournalEntry>> {
    let op = "journal-entry";
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {COLS} FROM journal WHERE idempotency_key = $1"
        ))
        .await
        .map_err(pg(op))?;
    let row = tx.query_opt(&stmt, &[&key]).await.map_err(pg(op))?;
    row.map(|r| raw_at(&r, 0).into_entry()).transpose()
}

#[async_trait]
impl JournalStore for PostgresStorage {
    async fn claim_journal(&self, claim: JournalClaim) -> Result<Vec<JournalEntry>> {
        Err(StoreError::Database {
            op: "claim_journal",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn settle_journal(&self, settle: JournalSettle) -> Result<bool> {
        Err(StoreError::Database {
            op: "settle_journal",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn release_journal(&self, key: &str, worker: &str, at: Timestamp) -> Result<bool> {
        Err(StoreError::Database {
            op: "release_journal",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn journal_for_event(&self, event_id: &str) -> Result<Vec<JournalEntry>> {
        Err(StoreError::Database {
            op: "journal_for_event",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn journal_entry(&self, key: &str) -> Result<Option<JournalEntry>> {
        read_tx!(self, "journal-entry", |tx| get(tx, key).await)
    }
    async fn journal_stats(&self) -> Result<JournalStats> {
        Err(StoreError::Database {
            op: "journal_stats",
            message: "not written for PostgreSQL yet".into(),
        })
    }
}
