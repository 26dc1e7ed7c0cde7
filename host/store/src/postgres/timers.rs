//! Follow-up timers and their delivery into the inbox, on PostgreSQL (see
//! `sqlite/timers.rs`; the row parsing and the dead-letter keys are
//! shared with it).

#![allow(unused_variables, reason = "schedule and fire are not written yet")]

use async_trait::async_trait;
use tokio_postgres::Row;

use super::{PostgresStorage, Tx, pg, read_tx};
use crate::error::{Result, StoreError};
use crate::sqlite::timers::{COLS, RawTimer, into_timer};
use crate::values::*;

/// The timer a dead-letter key names, if it names one.
pub(super) use crate::sqlite::timers::parse_key;

fn raw(r: &Row) -> RawTimer {
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
    )
}

/// Put a set-aside timer back in the schedule (retrying its dead letter).
/// Returns whether it was still set aside.
pub(super) async fn reschedule_unreadable(tx: &Tx<'_>, id: i64, now: i64) -> Result<bool> {
    let n = tx
        .execute(
            "UPDATE timers SET state = 'scheduled', updated_at = $2 WHERE id = $1 AND state = 'unreadable'",
            &[&id, &now],
        )
        .await
        .map_err(pg("retry-dead-letter"))?;
    Ok(n == 1)
}

pub(super) async fn list(tx: &Tx<'_>, shop: &str) -> Result<Vec<Timer>> {
    let op = "timers";
    let sql = format!("SELECT {COLS} FROM timers WHERE shop = $1 ORDER BY due, id");
    let stmt = tx.prepare_cached(&sql).await.map_err(pg(op))?;
    let rows = tx.query(&stmt, &[&shop]).await.map_err(pg(op))?;
    rows.iter().map(|r| into_timer(raw(r))).collect()
}

#[async_trait]
impl TimerStore for PostgresStorage {
    async fn schedule_timer(&self, timer: NewTimer, now: Timestamp) -> Result<TimerScheduled> {
        Err(StoreError::Database {
            op: "schedule_timer",
            message: "not written for PostgreSQL yet".into(),
        })
    }

    async fn fire_timers_due_by(
        &self,
        due_by: Timestamp,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<String>> {
        Err(StoreError::Database {
            op: "fire_timers_due_by",
            message: "not written for PostgreSQL yet".into(),
        })
    }

    async fn timers(&self, shop: &str) -> Result<Vec<Timer>> {
        read_tx!(self, "timers", |tx| list(tx, shop).await)
    }
}
