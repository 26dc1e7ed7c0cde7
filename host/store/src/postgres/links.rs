//! CaseLinkStore on PostgreSQL: not written yet (each method fails).

#![allow(unused_variables, reason = "a stub until this area is written")]

use async_trait::async_trait;

use super::PostgresStorage;
use crate::error::{Result, StoreError};
use crate::values::*;
use shopcase_contract::CaseKey;

#[async_trait]
impl CaseLinkStore for PostgresStorage {
    async fn case_link(&self, shop: &str, key: &CaseKey) -> Result<Option<CaseLink>> {
        Err(StoreError::Database {
            op: "case_link",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn put_case_link(&self, link: CaseLink) -> Result<()> {
        Err(StoreError::Database {
            op: "put_case_link",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn record_case_link(&self, link: CaseLink, details: CaseLinkDetails) -> Result<()> {
        Err(StoreError::Database {
            op: "record_case_link",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn case_record(&self, case_id: &str) -> Result<Option<CaseRecord>> {
        Err(StoreError::Database {
            op: "case_record",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn case_record_by_key(&self, shop: &str, key: &CaseKey) -> Result<Option<CaseRecord>> {
        Err(StoreError::Database {
            op: "case_record_by_key",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn record_case_observation(&self, observation: CaseObservation) -> Result<Observed> {
        Err(StoreError::Database {
            op: "record_case_observation",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn poll_marks(&self) -> Result<Vec<PollMark>> {
        Err(StoreError::Database {
            op: "poll_marks",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn advance_poll_mark(
        &self,
        definition_id: &str,
        mark: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        Err(StoreError::Database {
            op: "advance_poll_mark",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn hold_operation(&self, held: NewHeldOperation) -> Result<HeldOperation> {
        Err(StoreError::Database {
            op: "hold_operation",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn held_operation(&self, task_id: &str) -> Result<Option<HeldOperation>> {
        Err(StoreError::Database {
            op: "held_operation",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn held_operation_for_request(&self, source_key: &str) -> Result<Option<HeldOperation>> {
        Err(StoreError::Database {
            op: "held_operation_for_request",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn held_operations(&self, case_id: &str) -> Result<Vec<HeldOperation>> {
        Err(StoreError::Database {
            op: "held_operations",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn decide_held_operation(&self, decision: HeldDecision) -> Result<DecisionOutcome> {
        Err(StoreError::Database {
            op: "decide_held_operation",
            message: "not written for PostgreSQL yet".into(),
        })
    }
}
