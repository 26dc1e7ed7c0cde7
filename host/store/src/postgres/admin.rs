//! Stores, installations (with quarantine), the audit log and dead
//! letters, on PostgreSQL (see `sqlite/admin.rs`).

#![allow(unused_variables, reason = "partly a stub until this area is written")]

use async_trait::async_trait;

use super::{PostgresStorage, Tx, pg, write_tx};
use crate::convert::{ms, ts};
use crate::error::{Result, StoreError};
use crate::values::*;

// ---- Leaves other areas call (inbox, journal, timers). ----

/// Record that a store uninstalled the app (creating its row if a shop
/// redaction deleted it meanwhile).
pub(super) async fn record_uninstall(
    tx: &Tx<'_>,
    shop: &str,
    api_version: &str,
    by: &str,
    at: Timestamp,
) -> Result<()> {
    let op = "record-uninstall";
    let stmt = tx
        .prepare_cached(
            "INSERT INTO stores (domain, api_version, configured, added_at, updated_at, uninstalled_at, uninstalled_by)
             VALUES ($1, $2, true, $3, $3, $3, $4)
             ON CONFLICT (domain) DO UPDATE SET uninstalled_at = excluded.uninstalled_at,
                uninstalled_by = excluded.uninstalled_by, updated_at = excluded.updated_at",
        )
        .await
        .map_err(pg(op))?;
    tx.execute(&stmt, &[&shop, &api_version, &ms(at), &by])
        .await
        .map_err(pg(op))?;
    Ok(())
}

/// Count a dead-lettered run against the installation; quarantine it when
/// the streak reaches `threshold`. Returns the quarantine reason if this
/// failure started one. The host's own conditions (an outage outlasting
/// its window) are not counted.
pub(super) async fn count_failure(
    tx: &Tx<'_>,
    shop: &str,
    plugin: &str,
    failure: &FailureRecord,
    threshold: u32,
    now: i64,
) -> Result<Option<String>> {
    let op = "finish-event";
    if !failure.counts_toward_quarantine() {
        // An outage, or a plugin that could not be used, says nothing
        // about the plugin's runs: the streak stands.
        return Ok(None);
    }
    let stmt = tx
        .prepare_cached(
            "UPDATE installations SET consecutive_failures = consecutive_failures + 1
             WHERE shop = $1 AND plugin_id = $2 RETURNING consecutive_failures, quarantined_at",
        )
        .await
        .map_err(pg(op))?;
    let row = tx
        .query_opt(&stmt, &[&shop, &plugin])
        .await
        .map_err(pg(op))?;
    let Some(row) = row else {
        return Ok(None);
    };
    let (streak, quarantined_at): (i64, Option<i64>) = (row.get(0), row.get(1));
    if threshold == 0 || quarantined_at.is_some() || streak < i64::from(threshold) {
        return Ok(None);
    }
    let reason = format!("{streak} dead-lettered runs in a row; the last: {failure}");
    tx.execute(
        "UPDATE installations SET quarantined_at = $3, quarantine_reason = $4 WHERE shop = $1 AND plugin_id = $2",
        &[&shop, &plugin, &now, &reason],
    )
    .await
    .map_err(pg(op))?;
    insert_audit(
        tx,
        &NewAudit {
            actor: "host".into(),
            action: "installation.quarantine".into(),
            shop: Some(shop.to_owned()),
            plugin_id: Some(plugin.to_owned()),
            details: serde_json::json!({"reason": reason}),
            at: ts(now),
        },
    )
    .await?;
    Ok(Some(reason))
}

/// Open a dead letter; returns its id.
#[allow(clippy::too_many_arguments, reason = "one row's columns")]
pub(super) async fn insert_dead_letter(
    tx: &Tx<'_>,
    what: DeadLetterKind,
    shop: &str,
    event_id: &str,
    plugin_id: Option<&str>,
    key: Option<&str>,
    failure: &FailureRecord,
    attempts: i64,
    now: i64,
) -> Result<i64> {
    let op = "dead-letter";
    let stmt = tx
        .prepare_cached(
            "INSERT INTO dead_letters (what, shop, event_id, plugin_id, idempotency_key, kind, reason, attempts,
                created_at, state)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open') RETURNING id",
        )
        .await
        .map_err(pg(op))?;
    let row = tx
        .query_one(
            &stmt,
            &[
                &what.as_str(),
                &shop,
                &event_id,
                &plugin_id,
                &key,
                &failure.kind,
                &failure.message,
                &attempts,
                &now,
            ],
        )
        .await
        .map_err(pg(op))?;
    Ok(row.get(0))
}

// ---- end of the leaves. ----

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
