//! JournalStore on PostgreSQL: not written yet (each method fails).

#![allow(unused_variables, reason = "a stub until this area is written")]

use async_trait::async_trait;

use super::PostgresStorage;
use crate::error::{Result, StoreError};
use crate::values::*;

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
        Err(StoreError::Database {
            op: "journal_entry",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn journal_stats(&self) -> Result<JournalStats> {
        Err(StoreError::Database {
            op: "journal_stats",
            message: "not written for PostgreSQL yet".into(),
        })
    }
}
