//! TimerStore on PostgreSQL: not written yet (each method fails).

#![allow(unused_variables, reason = "a stub until this area is written")]

use async_trait::async_trait;

use super::PostgresStorage;
use crate::error::{Result, StoreError};
use crate::values::*;

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
        Err(StoreError::Database {
            op: "timers",
            message: "not written for PostgreSQL yet".into(),
        })
    }
}
