//! Stores, installations (with quarantine), the audit log and dead
//! letters, on PostgreSQL (see `sqlite/admin.rs`).

#![allow(unused_variables, reason = "partly a stub until this area is written")]

use async_trait::async_trait;

use super::{PostgresStorage, Tx, pg, write_tx};
use crate::convert::{ms, ts};
use crate::error::{Result, StoreError};
use crate::values::*;

// ---- The admin area. ----

pub(super) async fn uninstalled(tx: &Tx<'_>, shop: &str) -> Result<Option<Uninstall>> {
    let op = "uninstalled";
    let stmt = tx
        .prepare_cached("SELECT uninstalled_at, uninstalled_by FROM stores WHERE domain = $1")
        .await
        .map_err(pg(op))?;
    let row = tx.query_opt(&stmt, &[&shop]).await.map_err(pg(op))?;
    Ok(row.and_then(|r| {
        let at: Option<i64> = r.get(0);
        at.map(|at| Uninstall {
            at: ts(at),
            by: r.get::<_, Option<String>>(1).unwrap_or_default(),
        })
    }))
}

pub(super) async fn insert_audit(tx: &Tx<'_>, a: &NewAudit) -> Result<()> {
    let op = "audit";
    let stmt = tx
        .prepare_cached(
            "INSERT INTO audit (at, actor, action, shop, plugin_id, details) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .await
        .map_err(pg(op))?;
    tx.execute(
        &stmt,
        &[
            &ms(a.at),
            &a.actor,
            &a.action,
            &a.shop,
            &a.plugin_id,
            &a.details.to_string(),
        ],
    )
    .await
    .map_err(pg(op))?;
    Ok(())
}

#[async_trait]
impl AdminStore for PostgresStorage {
    async fn dead_letters(
        &self,
        shop: Option<&str>,
        open_only: bool,
        limit: usize,
    ) -> Result<Vec<DeadLetter>> {
        Err(StoreError::Database {
            op: "dead_letters",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn retry_dead_letter(&self, id: i64, actor: &str, now: Timestamp) -> Result<()> {
        Err(StoreError::Database {
            op: "retry_dead_letter",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn discard_dead_letter(&self, id: i64, actor: &str, now: Timestamp) -> Result<()> {
        Err(StoreError::Database {
            op: "discard_dead_letter",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn sync_stores(&self, stores: Vec<(String, String)>, now: Timestamp) -> Result<()> {
        Err(StoreError::Database {
            op: "sync_stores",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn stores(&self) -> Result<Vec<StoreRecord>> {
        Err(StoreError::Database {
            op: "stores",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn installations(&self, shop: Option<&str>) -> Result<Vec<Installation>> {
        Err(StoreError::Database {
            op: "installations",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn installation(&self, shop: &str, plugin_id: &str) -> Result<Option<Installation>> {
        Err(StoreError::Database {
            op: "installation",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn put_installation(&self, installation: Installation, audit: NewAudit) -> Result<()> {
        Err(StoreError::Database {
            op: "put_installation",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn approve_installation(
        &self,
        key: InstallationKey,
        before: Option<Approval>,
        approval: Approval,
        audit: NewAudit,
    ) -> Result<bool> {
        Err(StoreError::Database {
            op: "approve_installation",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn unquarantine(&self, shop: &str, plugin_id: &str, audit: NewAudit) -> Result<bool> {
        Err(StoreError::Database {
            op: "unquarantine",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn record_audit(&self, audit: NewAudit) -> Result<()> {
        write_tx!(self, "record-audit", |tx| insert_audit(tx, &audit).await)
    }
    async fn audit_log(&self, shop: Option<&str>, limit: usize) -> Result<Vec<AuditEntry>> {
        Err(StoreError::Database {
            op: "audit_log",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn prune(&self, prune: Prune) -> Result<PruneReport> {
        Err(StoreError::Database {
            op: "prune",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn check_writable(&self) -> Result<()> {
        Err(StoreError::Database {
            op: "check_writable",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn create_api_token(&self, token: NewApiToken, audit: NewAudit) -> Result<()> {
        Err(StoreError::Database {
            op: "create_api_token",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        Err(StoreError::Database {
            op: "api_tokens",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn api_token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>> {
        Err(StoreError::Database {
            op: "api_token_by_hash",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn touch_api_token(&self, id: &str, now: Timestamp) -> Result<()> {
        Err(StoreError::Database {
            op: "touch_api_token",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn revoke_api_token(&self, id: &str, audit: NewAudit) -> Result<bool> {
        Err(StoreError::Database {
            op: "revoke_api_token",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn search_events(&self, query: EventQuery) -> Result<Vec<StoredEvent>> {
        Err(StoreError::Database {
            op: "search_events",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn search_journal(&self, query: JournalQuery) -> Result<Vec<JournalEntry>> {
        Err(StoreError::Database {
            op: "search_journal",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn dead_letter(&self, id: i64) -> Result<Option<DeadLetter>> {
        Err(StoreError::Database {
            op: "dead_letter",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn search_case_links(&self, query: CaseLinkQuery) -> Result<Vec<CaseLink>> {
        Err(StoreError::Database {
            op: "search_case_links",
            message: "not written for PostgreSQL yet".into(),
        })
    }
}
