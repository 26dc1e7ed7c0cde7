//! The inbox and the per-(event, plugin) dispatch rows on PostgreSQL
//! (see `sqlite/inbox.rs` for the rules: the three duplicate rules, fair
//! claims, leases, abandoned claims and poison, finishing an attempt).

#![allow(unused_variables, reason = "claims and finishing are being written")]

use async_trait::async_trait;
use shopcase_contract::manifest::HOST_ONLY_TOPICS;
use tokio_postgres::Row;

use super::{PostgresStorage, Tx, pg, read_tx, write_tx};
use crate::convert::{ms, to_json};
use crate::error::{Result, StoreError};
use crate::sqlite::inbox::{EVENT_COLS, RawEvent};
use crate::values::*;

/// An [`EVENT_COLS`] row, before its JSON and enums are checked
/// ([`RawEvent::into_event`]); `offset`: where the columns start.
fn raw_event(r: &Row, offset: usize) -> RawEvent {
    let g = |i: usize| offset + i;
    RawEvent {
        seq: r.get(g(0)),
        event_id: r.get(g(1)),
        shop: r.get(g(2)),
        topic: r.get(g(3)),
        source: r.get(g(4)),
        dedupe_key: r.get(g(5)),
        shopify_event_id: r.get(g(6)),
        api_version: r.get(g(7)),
        triggered_at: r.get(g(8)),
        received_at: r.get(g(9)),
        resources: r.get(g(10)),
        payload: r.get(g(11)),
        target_plugin: r.get(g(12)),
        status: r.get(g(13)),
        claims: r.get(g(14)),
        redacted_at: r.get(g(15)),
        body_sha256: r.get(g(16)),
        abandoned: r.get(g(17)),
    }
}

fn as_i64(id: Option<u64>) -> Option<i64> {
    id.and_then(|i| i64::try_from(i).ok())
}

/// Insert an event unless one of the duplicate rules ([`DuplicateRule`])
/// finds it already there.
///
/// Across replicas: the insert and the look-ups run in the caller's
/// SERIALIZABLE transaction, and `ON CONFLICT DO NOTHING` on a key a
/// concurrent transaction committed after this one's snapshot fails as a
/// serialization failure (re-run by [`write_tx!`], which then sees the
/// event and names the rule), so two replicas receiving the same delivery
/// store it once and both answer with the one event id.
pub(super) async fn insert(tx: &Tx<'_>, ev: &NewEvent) -> Result<Inserted> {
    let op = "insert-event";
    let event_id = ev.event_id();
    let digest = ev.body_sha256.as_ref().map(|d| d.as_slice());
    // A privacy request's record outlives its event (retention, a store's
    // redaction): its body stays a duplicate for as long as the record.
    if digest.is_some() && HOST_ONLY_TOPICS.contains(&ev.topic.as_str()) {
        let stmt = tx
            .prepare_cached(
                "SELECT event_id FROM privacy_requests
                 WHERE shop = $1 AND topic = $2 AND body_sha256 = $3 LIMIT 1",
            )
            .await
            .map_err(pg(op))?;
        let recorded = tx
            .query_opt(&stmt, &[&ev.shop, &ev.topic, &digest])
            .await
            .map_err(pg(op))?;
        if let Some(r) = recorded {
            return Ok(Inserted::Duplicate {
                event_id: r.get(0),
                rule: DuplicateRule::Body,
            });
        }
    }
    let resources = to_json("inbox.resources", &ev.resources)?;
    let stmt = tx
        .prepare_cached(
            "INSERT INTO inbox (event_id, shop, topic, source, dedupe_key, shopify_event_id, api_version,
                triggered_at, received_at, order_id, customer_id, resources, payload, target_plugin, status,
                next_attempt_at, done_at, body_sha256)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $9, $16, $17)
             ON CONFLICT DO NOTHING",
        )
        .await
        .map_err(pg(op))?;
    let changed = tx
        .execute(
            &stmt,
            &[
                &event_id,
                &ev.shop,
                &ev.topic,
                &ev.source.as_str(),
                &ev.dedupe_key,
                &ev.shopify_event_id,
                &ev.api_version,
                &ms(ev.triggered_at),
                &ms(ev.received_at),
                &as_i64(ev.resources.order_id),
                &as_i64(ev.resources.customer_id),
                &resources,
                &ev.payload,
                &ev.target_plugin,
                &ev.status.as_str(),
                &(ev.status != EventStatus::Pending).then(|| ms(ev.received_at)),
                &digest,
            ],
        )
        .await
        .map_err(pg(op))?;
    if changed == 1 {
        if ev.topic == APP_UNINSTALLED && ev.source == EventSource::Shopify {
            // In the same transaction: the uninstall is recorded exactly
            // when its event is.
            super::admin::record_uninstall(
                tx,
                &ev.shop,
                &ev.api_version,
                &format!("{APP_UNINSTALLED} {event_id}"),
                ev.received_at,
            )
            .await?;
        }
        return Ok(Inserted::New { event_id });
    }
    // One of the unique keys holds it: which, in the rules' order.
    let stmt = tx
        .prepare_cached(
            "SELECT event_id, 0 FROM inbox WHERE event_id = $1
             UNION ALL
             SELECT event_id, 1 FROM inbox WHERE shop = $2 AND topic = $3 AND shopify_event_id = $4
             UNION ALL
             SELECT event_id, 2 FROM inbox WHERE shop = $2 AND topic = $3 AND body_sha256 = $5
             ORDER BY 2 LIMIT 1",
        )
        .await
        .map_err(pg(op))?;
    let existing = tx
        .query_opt(
            &stmt,
            &[
                &event_id,
                &ev.shop,
                &ev.topic,
                &ev.shopify_event_id,
                &digest,
            ],
        )
        .await
        .map_err(pg(op))?
        .map(|r| (r.get::<_, String>(0), r.get::<_, i32>(1)));
    let (event_id, rule) = match existing {
        Some((id, 1)) => (id, DuplicateRule::MerchantAction),
        Some((id, 2)) => (id, DuplicateRule::Body),
        Some((id, _)) => (id, DuplicateRule::Delivery),
        None => (event_id, DuplicateRule::Delivery),
    };
    Ok(Inserted::Duplicate { event_id, rule })
}

/// An event by id.
pub(super) async fn get(tx: &Tx<'_>, event_id: &str) -> Result<Option<StoredEvent>> {
    let op = "get-event";
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {EVENT_COLS} FROM inbox WHERE event_id = $1"
        ))
        .await
        .map_err(pg(op))?;
    let row = tx.query_opt(&stmt, &[&event_id]).await.map_err(pg(op))?;
    row.map(|r| raw_event(&r, 0).into_event()).transpose()
}

#[async_trait]
impl InboxStore for PostgresStorage {
    async fn insert_event(&self, event: NewEvent) -> Result<Inserted> {
        write_tx!(self, "insert-event", |tx| insert(tx, &event).await)
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
        read_tx!(self, "get-event", |tx| get(tx, event_id).await)
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
