//! InboxStore on PostgreSQL: not written yet (each method fails).

#![allow(unused_variables, reason = "a stub until this area is written")]

use async_trait::async_trait;

use super::PostgresStorage;
use crate::error::{Result, StoreError};
use crate::values::*;

#[async_trait]
impl InboxStore for PostgresStorage {
    async fn insert_event(&self, event: NewEvent) -> Result<Inserted> {
        Err(StoreError::Database {
            op: "insert_event",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn claim_events(&self, claim: Claim) -> Result<Vec<ClaimedEvent>> {
        Err(StoreError::Database {
            op: "claim_events",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn finish_event(&self, finish: EventFinish) -> Result<FinishReport> {
        Err(StoreError::Database {
            op: "finish_event",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn release_event(&self, event_id: &str, worker: &str, at: Timestamp) -> Result<bool> {
        Err(StoreError::Database {
            op: "release_event",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn defer_event(&self, event_id: &str, worker: &str, at: Timestamp) -> Result<bool> {
        Err(StoreError::Database {
            op: "defer_event",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn renew_claims(&self, worker: &str, until: Timestamp, now: Timestamp) -> Result<u64> {
        Err(StoreError::Database {
            op: "renew_claims",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn complete_host_event(
        &self,
        event_id: &str,
        worker: &str,
        now: Timestamp,
    ) -> Result<bool> {
        Err(StoreError::Database {
            op: "complete_host_event",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn fail_host_event(
        &self,
        event_id: &str,
        worker: &str,
        failure: FailureRecord,
        now: Timestamp,
    ) -> Result<Option<i64>> {
        Err(StoreError::Database {
            op: "fail_host_event",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn event(&self, event_id: &str) -> Result<Option<StoredEvent>> {
        Err(StoreError::Database {
            op: "event",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn dispatch_rows(&self, event_id: &str) -> Result<Vec<DispatchRow>> {
        Err(StoreError::Database {
            op: "dispatch_rows",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn stats(&self, now: Timestamp) -> Result<InboxStats> {
        Err(StoreError::Database {
            op: "stats",
            message: "not written for PostgreSQL yet".into(),
        })
    }
}
