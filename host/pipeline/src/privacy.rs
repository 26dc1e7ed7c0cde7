//! Shopify's mandatory privacy webhooks, handled by the host itself (they
//! never reach plugins). They arrive through the same signed, durable
//! inbox, so a request acknowledged to Shopify is never lost; the work is
//! idempotent, so a re-run after a crash does no harm.
//!
//! - `customers/redact`: the customer's personal data is erased from the
//!   store's inbox payloads, journal, key-value data, timers and records
//!   (exactly what, per table: `shopcase_store::privacy`), earlier
//!   exports of that customer are deleted, and the customer-history cache
//!   forgets them.
//! - `shop/redact`: every row of the store is deleted, its exports, and
//!   its cached customer histories — only for a store whose uninstall is
//!   recorded (an `app/uninstalled` received earlier; Shopify sends
//!   `shop/redact` 48 hours after it). Otherwise the request is early or
//!   a replay (its body is the same for every install of the store, so
//!   the body digest cannot tell): it deletes nothing and is set aside as
//!   a `shop-redact-unconfirmed` dead letter. An operator who confirms the
//!   uninstall retries it, which records the uninstall and acts. The
//!   redaction deletes the store's record, uninstall included, so the
//!   next `shop/redact` needs the next uninstall.
//! - `customers/data_request`: everything held on the customer is written
//!   to `<data-dir>/exports/<shop>/customer-<id>-request-<request id>.json`
//!   (readable by the host's user only) for the store owner.
//!
//! A request acts only when its body's `shop_domain` is the store it was
//! delivered for and the body has its topic's shape (Shopify signs the
//! body, not the headers).
//!
//! Both redactions first scrub, through the Core Case API, what the host
//! wrote into the cases it linked for the customer (or the store), and
//! list what could not be scrubbed (Core Case's rule: `shopcase_corecase_integration::erasure`); the
//! list goes into the request's record for an operator. Core Case
//! unreachable: the request waits (the host-side erasure too, since it
//! removes the names the Core Case pass looks for) and runs again, up to
//! `dispatcher.outage-window` after it arrived; then the host-side erasure
//! is done and the record says Core Case was not reached. No `[corecase]`:
//! the record says so and the host-side erasure is done.
//!
//! Each request is recorded (`privacy_requests`, without personal data) and
//! counted in `shopcase_privacy_requests_total`. A request that cannot be
//! acted on (malformed, or for another store) is dead-lettered as
//! `bad-privacy-request`; one that
//! keeps failing for another reason is retried with backoff up to
//! `dispatcher.max-attempts`, then dead-lettered as `privacy-failed`, so an
//! operator sees it and retries it once the cause is fixed.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Value, json};
use shopcase_contract::event::id_of;
use shopcase_contract::time::Timestamp;
use shopcase_store::{
    APP_UNINSTALLED, CustomerIdentity, FailureRecord, PrivacyRecord, SHOP_REDACT_UNCONFIRMED,
    StoreError, StoredEvent,
};

use shopcase_host_api::{Erased, ErasureScope};

use crate::dispatcher::services::{CustomerHistorySource, OrderSource};
use crate::server::Core;

/// Exports live here, under the data directory.
pub const EXPORTS_DIR: &str = "exports";

enum Failure {
    /// Try again later (storage, disk).
    Transient(String),
    /// The request cannot be acted on (malformed payload).
    Permanent(String),
    /// A `shop/redact` for a store with no recorded uninstall: kept aside
    /// until an operator confirms it (retrying the dead letter acts).
    Unconfirmed(String),
    /// Core Case could not be reached for the erasure: run again later,
    /// within `dispatcher.outage-window` (not counted as an attempt).
    Waiting(String),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Transient(e.to_string())
    }
}

#[derive(Deserialize)]
struct Payload {
    /// The store the request is for. Shopify signs the body only, not the
    /// headers: a request acts only when its body names the store it was
    /// delivered for and has its topic's shape, so a signed body captured
    /// from one store or topic cannot be replayed as a deletion for
    /// another.
    shop_domain: Option<String>,
    customer: Option<CustomerRef>,
    orders_to_redact: Option<Vec<Value>>,
    orders_requested: Option<Vec<Value>>,
    data_request: Option<RequestRef>,
}

#[derive(Deserialize)]
struct CustomerRef {
    id: Option<Value>,
    email: Option<String>,
    phone: Option<String>,
}

#[derive(Deserialize)]
struct RequestRef {
    id: Option<Value>,
}

/// Handle a claimed privacy event and settle it.
pub(crate) async fn handle(
    core: &Core,
    history: &dyn CustomerHistorySource,
    orders: &dyn OrderSource,
    ev: &StoredEvent,
    worker: &str,
) {
    let topic = ev.event.topic.as_str();
    let result = match topic {
        "customers/redact" => redact_customer(core, history, orders, ev).await,
        "shop/redact" => redact_shop(core, history, orders, ev).await,
        "customers/data_request" => data_request(core, ev).await,
        other => Err(Failure::Permanent(format!(
            "`{other}` is not a privacy topic"
        ))),
    };
    let storage = &core.storage;
    let settled = match result {
        Ok(()) => {
            core.metrics.privacy(topic, "done");
            // After a shop redaction the event itself is gone: nothing to mark.
            storage
                .complete_host_event(&ev.event.id, worker, Timestamp::now())
                .await
                .map(|_| ())
        }
        Err(Failure::Transient(message)) if !core.config.dispatcher.retry.allows(ev.claims) => {
            // Still failing after every attempt (a full disk, exports that
            // cannot be written): an operator must look. The dead letter
            // keeps the request; retrying it runs it again from the start.
            core.metrics.privacy(topic, "dead");
            tracing::error!(shop = %ev.event.shop, topic, %message, attempts = ev.claims, "privacy request keeps failing; dead-lettered for an operator to retry");
            storage
                .fail_host_event(
                    &ev.event.id,
                    worker,
                    FailureRecord::new(
                        "privacy-failed",
                        format!("{message} (gave up after {} attempts)", ev.claims),
                    ),
                    Timestamp::now(),
                )
                .await
                .map(|_| ())
        }
        Err(Failure::Transient(message)) => {
            core.metrics.privacy(topic, "retry");
            tracing::warn!(shop = %ev.event.shop, topic, %message, "privacy request failed; will retry");
            let delay = core
                .config
                .dispatcher
                .retry
                .delay(ev.claims.saturating_sub(1), None);
            storage
                .release_event(&ev.event.id, worker, crate::dispatcher::later(delay))
                .await
                .map(|_| ())
        }
        Err(Failure::Waiting(message)) => {
            core.metrics.privacy(topic, "waiting");
            let waited =
                std::time::Duration::try_from(Timestamp::now().duration_since(ev.received_at))
                    .unwrap_or_default();
            tracing::warn!(shop = %ev.event.shop, topic, %message, "Core Case unreachable for a privacy request; it waits and runs again");
            let delay = core.config.dispatcher.retry.outage_delay(waited);
            storage
                .defer_event(&ev.event.id, worker, crate::dispatcher::later(delay))
                .await
                .map(|_| ())
        }
        Err(Failure::Unconfirmed(message)) => {
            core.metrics.privacy(topic, "unconfirmed");
            tracing::warn!(shop = %ev.event.shop, topic, %message, "shop redaction set aside until an operator confirms it");
            storage
                .fail_host_event(
                    &ev.event.id,
                    worker,
                    FailureRecord::new(SHOP_REDACT_UNCONFIRMED, message),
                    Timestamp::now(),
                )
                .await
                .map(|_| ())
        }
        Err(Failure::Permanent(message)) => {
            core.metrics.privacy(topic, "dead");
            tracing::error!(shop = %ev.event.shop, topic, %message, "privacy request cannot be handled; dead-lettered");
            storage
                .fail_host_event(
                    &ev.event.id,
                    worker,
                    FailureRecord::new("bad-privacy-request", message),
                    Timestamp::now(),
                )
                .await
                .map(|_| ())
        }
    };
    if let Err(e) = settled {
        tracing::warn!(event = %ev.event.id, error = %e, "cannot settle a privacy event; it will run again");
    }
}

fn parse(ev: &StoredEvent) -> Result<Payload, Failure> {
    let p: Payload = serde_json::from_str(&ev.event.payload).map_err(|e| {
        Failure::Permanent(format!(
            "the payload is not a {} request: {e}",
            ev.event.topic
        ))
    })?;
    match p.shop_domain.as_deref() {
        Some(named) if named.eq_ignore_ascii_case(&ev.event.shop) => {}
        Some(named) => {
            return Err(Failure::Permanent(format!(
                "the request is for `{named}` but was delivered for `{}`; nothing was done",
                ev.event.shop
            )));
        }
        None => {
            return Err(Failure::Permanent(
                "the request names no shop_domain; nothing was done".into(),
            ));
        }
    }
    // Each topic's own fields, and none of another's.
    let (customer, redact, requested, request) = (
        p.customer.is_some(),
        p.orders_to_redact.is_some(),
        p.orders_requested.is_some(),
        p.data_request.is_some(),
    );
    let shaped = match ev.event.topic.as_str() {
        "shop/redact" => !customer && !redact && !requested && !request,
        "customers/redact" => customer && redact && !requested && !request,
        "customers/data_request" => customer && requested && request && !redact,
        _ => false,
    };
    if !shaped {
        return Err(Failure::Permanent(format!(
            "the body does not have the shape of a {} request; nothing was done",
            ev.event.topic
        )));
    }
    Ok(p)
}

fn identity(ev: &StoredEvent, p: &Payload, orders: &[Value]) -> Result<CustomerIdentity, Failure> {
    let c = p
        .customer
        .as_ref()
        .ok_or_else(|| Failure::Permanent("the request names no customer".into()))?;
    let customer_id = id_of(c.id.as_ref())
        .ok_or_else(|| Failure::Permanent("the request's customer has no id".into()))?;
    Ok(CustomerIdentity {
        shop: ev.event.shop.clone(),
        customer_id,
        emails: c.email.iter().filter(|e| !e.is_empty()).cloned().collect(),
        phones: c.phone.iter().filter(|p| !p.is_empty()).cloned().collect(),
        orders: orders.iter().filter_map(|o| id_of(Some(o))).collect(),
    })
}

fn shop_exports(core: &Core, shop: &str) -> PathBuf {
    core.config.data_dir.join(EXPORTS_DIR).join(shop)
}

async fn redact_customer(
    core: &Core,
    history: &dyn CustomerHistorySource,
    orders: &dyn OrderSource,
    ev: &StoredEvent,
) -> Result<(), Failure> {
    let p = parse(ev)?;
    let who = identity(ev, &p, p.orders_to_redact.as_deref().unwrap_or_default())?;
    // Core Case first: the host's copies of the customer's events hold the
    // names it looks for, and the host-side erasure removes them.
    let corecase = corecase_pass(core, ev, ErasureScope::Customer(&who)).await?;
    // The cached customer history (tags, amounts) goes first, so no plugin
    // run after this point reads it from memory.
    history.forget(&who.shop, Some(who.customer_id));
    // Cached orders hold addresses; the store's are dropped whole (they
    // are minutes old at most, and read again when needed).
    orders.forget(&who.shop);
    let report = core
        .storage
        .redact_customer(who.clone(), Timestamp::now())
        .await?;
    // Earlier exports of this customer are personal data too.
    let prefix = format!("customer-{}-", who.customer_id);
    let mut exports_deleted = 0;
    if let Ok(dir) = std::fs::read_dir(shop_exports(core, &who.shop)) {
        for f in dir.flatten() {
            if f.file_name().to_string_lossy().starts_with(&prefix) {
                std::fs::remove_file(f.path())
                    .map_err(|e| Failure::Transient(format!("cannot delete an export: {e}")))?;
                exports_deleted += 1;
            }
        }
    }
    tracing::info!(shop = %who.shop, customer = who.customer_id, ?report, "customer redacted");
    core.storage
        .record_privacy(PrivacyRecord {
            shop: who.shop,
            topic: ev.event.topic.clone(),
            customer_id: Some(who.customer_id),
            event_id: ev.event.id.clone(),
            file: None,
            summary: json!({"redacted": report, "exports_deleted": exports_deleted, "corecase": corecase}),
            at: Timestamp::now(),
            body_sha256: ev.body_sha256,
        })
        .await?;
    Ok(())
}

async fn redact_shop(
    core: &Core,
    history: &dyn CustomerHistorySource,
    orders: &dyn OrderSource,
    ev: &StoredEvent,
) -> Result<(), Failure> {
    parse(ev)?;
    let shop = &ev.event.shop;
    // Shopify sends shop/redact 48 hours after app/uninstalled. Without a
    // recorded uninstall this is early, or a replay of a captured body
    // (the same for every install of the store): nothing is deleted.
    let Some(uninstall) = core.storage.uninstalled(shop).await? else {
        return Err(Failure::Unconfirmed(format!(
            "no {APP_UNINSTALLED} was received for `{shop}`: nothing was deleted; if the store did uninstall the app, retry this dead letter to delete its data"
        )));
    };
    tracing::info!(%shop, uninstalled_at = %uninstall.at, by = %uninstall.by, "shop redaction confirmed by the store's uninstall");
    // Core Case first: the case links that lead to the cases go with the
    // store's rows.
    let corecase = corecase_pass(core, ev, ErasureScope::Shop).await?;
    history.forget(shop, None);
    orders.forget(shop);
    let report = core.storage.redact_shop(shop, Timestamp::now()).await?;
    let dir = shop_exports(core, shop);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .map_err(|e| Failure::Transient(format!("cannot delete the exports: {e}")))?;
    }
    tracing::info!(%shop, deleted = ?report.deleted, "shop redacted");
    core.storage
        .record_privacy(PrivacyRecord {
            shop: shop.clone(),
            topic: ev.event.topic.clone(),
            customer_id: None,
            event_id: ev.event.id.clone(),
            file: None,
            summary: json!({"deleted": report.deleted, "corecase": corecase}),
            at: Timestamp::now(),
            body_sha256: ev.body_sha256,
        })
        .await?;
    Ok(())
}

/// The case-system part of a redaction, as the record's `corecase` value
/// (see [`shopcase_host_api::Erasure`]; Core Case's rule is in
/// `shopcase_corecase_integration::erasure`). Unreachable: the request waits and runs again,
/// up to `dispatcher.outage-window` after it arrived; then the cases are
/// listed for an operator and the host-side erasure goes ahead.
async fn corecase_pass(
    core: &Core,
    ev: &StoredEvent,
    scope: ErasureScope<'_>,
) -> Result<Value, Failure> {
    let shop = &ev.event.shop;
    let Some(erasure) = core.erasure.as_ref() else {
        return Ok(json!({"status": "not-configured",
            "note": "Core Case not configured: nothing was scrubbed there"}));
    };
    match erasure.erase(shop, scope, &core.breakers).await? {
        Erased::Done(report) => Ok(report),
        Erased::Unreachable { why, cases } => {
            let waited =
                std::time::Duration::try_from(Timestamp::now().duration_since(ev.received_at))
                    .unwrap_or_default();
            if waited < core.config.dispatcher.outage_window {
                return Err(Failure::Waiting(why));
            }
            // Waited long enough: the host-side erasure must not wait for
            // ever. The cases are listed for an operator to erase by hand.
            tracing::error!(%shop, topic = %ev.event.topic, %why, waited_secs = waited.as_secs(), "Core Case unreachable past dispatcher.outage-window: the host-side erasure goes ahead; the cases are listed for an operator");
            Ok(json!({"status": "unreachable",
                "note": format!("Core Case could not be reached for {} s (dispatcher.outage-window): {why}", waited.as_secs()),
                "scrubbed": 0, "not_scrubbed": cases.len(), "cases": cases}))
        }
    }
}

async fn data_request(core: &Core, ev: &StoredEvent) -> Result<(), Failure> {
    let p = parse(ev)?;
    let who = identity(ev, &p, p.orders_requested.as_deref().unwrap_or_default())?;
    let request_id = p
        .data_request
        .as_ref()
        .and_then(|r| r.id.as_ref())
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap_or_else(|| ev.event.id.clone());
    if !request_id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        || request_id.len() > 64
    {
        return Err(Failure::Permanent(
            "the data request id is not a plain id".into(),
        ));
    }
    let data = core.storage.customer_data(who.clone()).await?;
    let now = Timestamp::now();
    let export = json!({
        "shop": who.shop,
        "customer_id": who.customer_id,
        "data_request_id": request_id,
        "orders_requested": who.orders,
        "generated_at": shopcase_contract::time::format(now),
        "data": data,
    });
    let dir = shop_exports(core, &who.shop);
    let file = dir.join(format!(
        "customer-{}-request-{request_id}.json",
        who.customer_id
    ));
    write_private(
        &file,
        &serde_json::to_vec_pretty(&export).unwrap_or_default(),
    )
    .map_err(|e| Failure::Transient(format!("cannot write the export {}: {e}", file.display())))?;
    tracing::info!(shop = %who.shop, customer = who.customer_id, file = %file.display(), "customer data exported");
    core.storage
        .record_privacy(PrivacyRecord {
            shop: who.shop,
            topic: ev.event.topic.clone(),
            customer_id: Some(who.customer_id),
            event_id: ev.event.id.clone(),
            file: Some(file.display().to_string()),
            summary: json!({"events": data.events.len(), "journal": data.journal.len(), "kv": data.kv.len(),
                "case_links": data.case_links.len(), "timers": data.timers.len()}),
            at: now,
            body_sha256: ev.body_sha256,
        })
        .await?;
    Ok(())
}

/// Write a file only the host's user can read, atomically (temp + rename).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}
