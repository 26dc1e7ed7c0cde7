//! Stores, installations (with quarantine), the audit log and dead
//! letters, on PostgreSQL (see `sqlite/admin.rs`; the column lists and the
//! dead-letter parsing are shared with it).

use std::collections::BTreeMap;

use async_trait::async_trait;
use shopcase_contract::SettingValue;
use tokio_postgres::Row;

use super::{PostgresStorage, Tx, pg, read_tx, write_tx};
use crate::convert::{corrupt, ms, to_json, ts, ts_opt};
use crate::error::{Result, StoreError};
use crate::sqlite::admin::{DEAD_COLS, INSTALLATION_COLS, finish_dead};
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

pub(super) async fn sync_stores(
    tx: &Tx<'_>,
    stores: &[(String, String)],
    now: Timestamp,
) -> Result<()> {
    let op = "sync-stores";
    let now = ms(now);
    tx.execute(
        "UPDATE stores SET configured = false, updated_at = $1 WHERE configured",
        &[&now],
    )
    .await
    .map_err(pg(op))?;
    let up = tx
        .prepare_cached(
            "INSERT INTO stores (domain, api_version, configured, added_at, updated_at) VALUES ($1, $2, true, $3, $3)
             ON CONFLICT (domain) DO UPDATE SET api_version = excluded.api_version, configured = true,
                updated_at = excluded.updated_at",
        )
        .await
        .map_err(pg(op))?;
    for (domain, api_version) in stores {
        tx.execute(&up, &[domain, api_version, &now])
            .await
            .map_err(pg(op))?;
    }
    Ok(())
}

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

pub(super) async fn stores(tx: &Tx<'_>) -> Result<Vec<StoreRecord>> {
    let op = "stores";
    let stmt = tx
        .prepare_cached(
            "SELECT domain, api_version, configured, added_at, updated_at FROM stores ORDER BY domain",
        )
        .await
        .map_err(pg(op))?;
    let rows = tx.query(&stmt, &[]).await.map_err(pg(op))?;
    Ok(rows
        .iter()
        .map(|r| StoreRecord {
            domain: r.get(0),
            api_version: r.get(1),
            configured: r.get(2),
            added_at: ts(r.get(3)),
            updated_at: ts(r.get(4)),
        })
        .collect())
}

/// An installation row (columns [`INSTALLATION_COLS`]), its settings and
/// approved grants parsed (a failure names the column).
fn installation(r: &Row) -> Result<Installation> {
    let settings: String = r.get(3);
    let quarantined_at: Option<i64> = r.get(10);
    let approved = match (
        r.get::<_, Option<String>>(12),
        r.get::<_, Option<String>>(13),
        r.get::<_, Option<String>>(14),
    ) {
        (Some(sha256), Some(grants_digest), Some(grants)) => Some(Approval {
            grants: serde_json::from_str(&grants)
                .map_err(|e| corrupt("installations.approved_grants")(e.to_string()))?,
            sha256,
            grants_digest,
            by: r.get::<_, Option<String>>(15).unwrap_or_default(),
            at: ts(r.get::<_, Option<i64>>(16).unwrap_or_default()),
        }),
        _ => None,
    };
    Ok(Installation {
        shop: r.get(0),
        plugin_id: r.get(1),
        version: r.get(2),
        settings: serde_json::from_str::<BTreeMap<String, SettingValue>>(&settings)
            .map_err(|e| corrupt("installations.settings")(e.to_string()))?,
        enabled: r.get(4),
        enabled_by: r.get(5),
        enabled_at: ts_opt(r.get(6)),
        updated_by: r.get(7),
        updated_at: ts(r.get(8)),
        consecutive_failures: u32::try_from(r.get::<_, i64>(9)).unwrap_or(u32::MAX),
        quarantine: quarantined_at.map(|since| Quarantine {
            since: ts(since),
            reason: r.get::<_, Option<String>>(11).unwrap_or_default(),
        }),
        approved,
    })
}

pub(super) async fn installations(
    tx: &Tx<'_>,
    shop: Option<&str>,
    plugin: Option<&str>,
) -> Result<Vec<Installation>> {
    let op = "installations";
    let sql = format!(
        "SELECT {INSTALLATION_COLS} FROM installations
         WHERE ($1::text IS NULL OR shop = $1) AND ($2::text IS NULL OR plugin_id = $2)
         ORDER BY shop, plugin_id"
    );
    let stmt = tx.prepare_cached(&sql).await.map_err(pg(op))?;
    let rows = tx.query(&stmt, &[&shop, &plugin]).await.map_err(pg(op))?;
    rows.iter().map(installation).collect()
}

/// Create or replace an installation. Its approval is written when the
/// row is new, when the version changes, or when the row has none yet;
/// otherwise the stored approval stands (changing settings or enabling
/// again does not approve new content: only [`approve_installation`]
/// does, so a stale read of the row cannot undo an approval).
pub(super) async fn put_installation(
    tx: &Tx<'_>,
    i: &Installation,
    audit: &NewAudit,
) -> Result<()> {
    let op = "put-installation";
    let a = i.approved.as_ref();
    let grants = a
        .map(|a| to_json("installations.approved_grants", &a.grants))
        .transpose()?;
    let settings = to_json("installations.settings", &i.settings)?;
    let stmt = tx
        .prepare_cached(
            "INSERT INTO installations (shop, plugin_id, version, settings, enabled, enabled_by, enabled_at,
                updated_by, updated_at, approved_sha256, approved_grants_digest, approved_grants, approved_by,
                approved_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (shop, plugin_id) DO UPDATE SET version = excluded.version, settings = excluded.settings,
                enabled = excluded.enabled, enabled_by = excluded.enabled_by, enabled_at = excluded.enabled_at,
                updated_by = excluded.updated_by, updated_at = excluded.updated_at,
                approved_sha256 = CASE WHEN installations.version <> excluded.version OR installations.approved_sha256 IS NULL
                    THEN excluded.approved_sha256 ELSE installations.approved_sha256 END,
                approved_grants_digest = CASE WHEN installations.version <> excluded.version OR installations.approved_sha256 IS NULL
                    THEN excluded.approved_grants_digest ELSE installations.approved_grants_digest END,
                approved_grants = CASE WHEN installations.version <> excluded.version OR installations.approved_sha256 IS NULL
                    THEN excluded.approved_grants ELSE installations.approved_grants END,
                approved_by = CASE WHEN installations.version <> excluded.version OR installations.approved_sha256 IS NULL
                    THEN excluded.approved_by ELSE installations.approved_by END,
                approved_at = CASE WHEN installations.version <> excluded.version OR installations.approved_sha256 IS NULL
                    THEN excluded.approved_at ELSE installations.approved_at END",
        )
        .await
        .map_err(pg(op))?;
    tx.execute(
        &stmt,
        &[
            &i.shop,
            &i.plugin_id,
            &i.version,
            &settings,
            &i.enabled,
            &i.enabled_by,
            &i.enabled_at.map(ms),
            &i.updated_by,
            &ms(i.updated_at),
            &a.map(|a| &a.sha256),
            &a.map(|a| &a.grants_digest),
            &grants,
            &a.map(|a| &a.by),
            &a.map(|a| ms(a.at)),
        ],
    )
    .await
    .map_err(pg(op))?;
    insert_audit(tx, audit).await
}

/// Record `approval` for the installation `(shop, plugin, version)` if it
/// still pins that version and
/// its recorded approval is still `before` (by content: sha256 and grants
/// digest; `None`: none recorded), with the audit record. Returns whether
/// it was recorded.
pub(super) async fn approve_installation(
    tx: &Tx<'_>,
    key: (&str, &str, &str),
    before: Option<&Approval>,
    approval: &Approval,
    audit: &NewAudit,
) -> Result<bool> {
    let op = "approve-installation";
    let (shop, plugin, version) = key;
    let grants = to_json("installations.approved_grants", &approval.grants)?;
    let stmt = tx
        .prepare_cached(
            "UPDATE installations SET approved_sha256 = $4, approved_grants_digest = $5, approved_grants = $6,
                approved_by = $7, approved_at = $8
             WHERE shop = $1 AND plugin_id = $2 AND version = $3
               AND approved_sha256 IS NOT DISTINCT FROM $9 AND approved_grants_digest IS NOT DISTINCT FROM $10",
        )
        .await
        .map_err(pg(op))?;
    let n = tx
        .execute(
            &stmt,
            &[
                &shop,
                &plugin,
                &version,
                &approval.sha256,
                &approval.grants_digest,
                &grants,
                &approval.by,
                &ms(approval.at),
                &before.map(|b| &b.sha256),
                &before.map(|b| &b.grants_digest),
            ],
        )
        .await
        .map_err(pg(op))?;
    if n == 0 {
        return Ok(false);
    }
    insert_audit(tx, audit).await?;
    Ok(true)
}

pub(super) async fn unquarantine(
    tx: &Tx<'_>,
    shop: &str,
    plugin: &str,
    audit: &NewAudit,
) -> Result<bool> {
    let op = "unquarantine";
    let now = ms(audit.at);
    let n = tx
        .execute(
            "UPDATE installations SET consecutive_failures = 0, quarantined_at = NULL, quarantine_reason = NULL,
                updated_by = $3, updated_at = $4
             WHERE shop = $1 AND plugin_id = $2 AND quarantined_at IS NOT NULL",
            &[&shop, &plugin, &audit.actor, &now],
        )
        .await
        .map_err(pg(op))?;
    if n == 0 {
        return Ok(false);
    }
    let events: Vec<String> = tx
        .query(
            "UPDATE dispatch SET status = 'pending', next_attempt_at = $3, updated_at = $3
             WHERE shop = $1 AND plugin_id = $2 AND status = 'held' RETURNING event_id",
            &[&shop, &plugin, &now],
        )
        .await
        .map_err(pg(op))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let wake = tx
        .prepare_cached(
            "UPDATE inbox SET status = 'pending', done_at = NULL,
                next_attempt_at = least(next_attempt_at, $2)
             WHERE event_id = $1 AND status IN ('pending', 'done')",
        )
        .await
        .map_err(pg(op))?;
    for e in &events {
        tx.execute(&wake, &[e, &now]).await.map_err(pg(op))?;
    }
    let mut audit = audit.clone();
    if let Some(obj) = audit.details.as_object_mut() {
        obj.insert("released_events".into(), events.len().into());
    }
    insert_audit(tx, &audit).await?;
    Ok(true)
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

pub(super) async fn audit_log(
    tx: &Tx<'_>,
    shop: Option<&str>,
    limit: usize,
) -> Result<Vec<AuditEntry>> {
    let op = "audit-log";
    let stmt = tx
        .prepare_cached(
            "SELECT id, at, actor, action, shop, plugin_id, details FROM audit
             WHERE ($1::text IS NULL OR shop = $1) ORDER BY id DESC LIMIT $2",
        )
        .await
        .map_err(pg(op))?;
    let rows = tx
        .query(&stmt, &[&shop, &i64::try_from(limit).unwrap_or(i64::MAX)])
        .await
        .map_err(pg(op))?;
    Ok(rows
        .iter()
        .map(|r| {
            let details: String = r.get(6);
            AuditEntry {
                id: r.get(0),
                entry: NewAudit {
                    actor: r.get(2),
                    action: r.get(3),
                    shop: r.get(4),
                    plugin_id: r.get(5),
                    details: serde_json::from_str(&details)
                        .unwrap_or(serde_json::Value::String(details)),
                    at: ts(r.get(1)),
                },
            }
        })
        .collect())
}

/// A dead-letter row (columns [`DEAD_COLS`]) with its kind and state
/// still as stored, for [`finish_dead`].
fn dead_row(r: &Row) -> (DeadLetter, String, String) {
    (
        DeadLetter {
            id: r.get(0),
            what: DeadLetterKind::Dispatch,
            shop: r.get(2),
            event_id: r.get(3),
            plugin_id: r.get(4),
            idempotency_key: r.get(5),
            failure: FailureRecord::new(r.get::<_, String>(6), r.get::<_, String>(7)),
            attempts: u32::try_from(r.get::<_, i64>(8)).unwrap_or(u32::MAX),
            created_at: ts(r.get(9)),
            state: DeadLetterState::Open,
            resolved_by: r.get(11),
            resolved_at: ts_opt(r.get(12)),
        },
        r.get(1),
        r.get(10),
    )
}

pub(super) async fn dead_letters(
    tx: &Tx<'_>,
    shop: Option<&str>,
    open_only: bool,
    limit: usize,
) -> Result<Vec<DeadLetter>> {
    let op = "dead-letters";
    let sql = format!(
        "SELECT {DEAD_COLS} FROM dead_letters
         WHERE ($1::text IS NULL OR shop = $1) AND (NOT $2 OR state = 'open') ORDER BY id DESC LIMIT $3"
    );
    let stmt = tx.prepare_cached(&sql).await.map_err(pg(op))?;
    let rows = tx
        .query(
            &stmt,
            &[&shop, &open_only, &i64::try_from(limit).unwrap_or(i64::MAX)],
        )
        .await
        .map_err(pg(op))?;
    rows.iter().map(|r| finish_dead(dead_row(r))).collect()
}

/// One dead letter, whatever its state.
pub(super) async fn dead_letter(
    tx: &Tx<'_>,
    id: i64,
    op: &'static str,
) -> Result<Option<DeadLetter>> {
    let sql = format!("SELECT {DEAD_COLS} FROM dead_letters WHERE id = $1");
    let stmt = tx.prepare_cached(&sql).await.map_err(pg(op))?;
    let row = tx.query_opt(&stmt, &[&id]).await.map_err(pg(op))?;
    row.map(|r| finish_dead(dead_row(&r))).transpose()
}

async fn open_dead_letter(tx: &Tx<'_>, id: i64, op: &'static str) -> Result<DeadLetter> {
    let d = dead_letter(tx, id, op)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: "dead letter",
            key: id.to_string(),
        })?;
    if d.state != DeadLetterState::Open {
        return Err(StoreError::Conflict(format!(
            "dead letter {id} is already {}",
            d.state.as_str()
        )));
    }
    Ok(d)
}

/// Put an event back to run (a fresh lease, no abandoned claims).
/// Returns the rows changed (0: the event is gone or stale).
async fn wake_event(tx: &Tx<'_>, event_id: &str, now: i64, op: &'static str) -> Result<u64> {
    tx.execute(
        "UPDATE inbox SET status = 'pending', done_at = NULL, next_attempt_at = $2, claimed_by = NULL,
            lease_until = NULL, abandoned = 0
         WHERE event_id = $1 AND status IN ('pending', 'done')",
        &[&event_id, &now],
    )
    .await
    .map_err(pg(op))
}

pub(super) async fn retry_dead_letter(
    tx: &Tx<'_>,
    id: i64,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let op = "retry-dead-letter";
    let d = open_dead_letter(tx, id, op).await?;
    let now_ms = ms(now);
    match d.what {
        DeadLetterKind::Dispatch => {
            let plugin = d.plugin_id.clone().unwrap_or_default();
            let n = tx
                .execute(
                    "UPDATE dispatch SET status = 'pending', attempts = 0, next_attempt_at = $3, updated_at = $3
                     WHERE event_id = $1 AND plugin_id = $2 AND status = 'dead'",
                    &[&d.event_id, &plugin, &now_ms],
                )
                .await
                .map_err(pg(op))?;
            if n == 0 {
                return Err(StoreError::Conflict(format!(
                    "the run of `{plugin}` on event {} is no longer dead-lettered",
                    d.event_id
                )));
            }
            wake_event(tx, &d.event_id, now_ms, op).await?;
        }
        DeadLetterKind::Action => {
            let key = d.idempotency_key.clone().unwrap_or_default();
            let n = tx
                .execute(
                    "UPDATE journal SET status = 'pending', attempts = 0, abandoned = 0, next_attempt_at = $2,
                        updated_at = $2
                     WHERE idempotency_key = $1 AND status = 'dead'",
                    &[&key, &now_ms],
                )
                .await
                .map_err(pg(op))?;
            if n == 0 {
                return Err(StoreError::Conflict(format!(
                    "journal entry {key} is no longer dead-lettered"
                )));
            }
        }
        // A timer that could not be read when it fell due (its key names it).
        DeadLetterKind::Event
            if let Some(timer) = d
                .idempotency_key
                .as_deref()
                .and_then(super::timers::parse_key) =>
        {
            if !super::timers::reschedule_unreadable(tx, timer, now_ms).await? {
                return Err(StoreError::Conflict(format!(
                    "timer {timer} is no longer set aside"
                )));
            }
        }
        DeadLetterKind::Event => {
            if d.failure.kind == SHOP_REDACT_UNCONFIRMED {
                // The operator confirms the store did uninstall the app:
                // recorded, so the request acts when it runs again.
                let api_version: String = tx
                    .query_opt(
                        "SELECT api_version FROM inbox WHERE event_id = $1",
                        &[&d.event_id],
                    )
                    .await
                    .map_err(pg(op))?
                    .map(|r| r.get(0))
                    .unwrap_or_default();
                super::admin::record_uninstall(
                    tx,
                    &d.shop,
                    &api_version,
                    &format!("operator {actor}"),
                    now,
                )
                .await?;
            }
            if d.failure.kind == POISON {
                // The runs set aside with the event run again.
                tx.execute(
                    "UPDATE dispatch SET status = 'pending', next_attempt_at = $2, updated_at = $2
                     WHERE event_id = $1 AND status = 'dead' AND failure_kind = $3",
                    &[&d.event_id, &now_ms, &POISON],
                )
                .await
                .map_err(pg(op))?;
            }
            // A fresh round of attempts (the host counts an event's claims;
            // waking it resets its abandoned claims).
            tx.execute(
                "UPDATE inbox SET claims = 0 WHERE event_id = $1",
                &[&d.event_id],
            )
            .await
            .map_err(pg(op))?;
            if wake_event(tx, &d.event_id, now_ms, op).await? == 0 {
                return Err(StoreError::Conflict(format!(
                    "event {} is gone",
                    d.event_id
                )));
            }
        }
    }
    resolve(tx, &d, DeadLetterState::Retried, actor, now).await
}

pub(super) async fn discard_dead_letter(
    tx: &Tx<'_>,
    id: i64,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let d = open_dead_letter(tx, id, "discard-dead-letter").await?;
    resolve(tx, &d, DeadLetterState::Discarded, actor, now).await
}

async fn resolve(
    tx: &Tx<'_>,
    d: &DeadLetter,
    state: DeadLetterState,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    tx.execute(
        "UPDATE dead_letters SET state = $2, resolved_by = $3, resolved_at = $4 WHERE id = $1",
        &[&d.id, &state.as_str(), &actor, &ms(now)],
    )
    .await
    .map_err(pg("resolve-dead-letter"))?;
    insert_audit(
        tx,
        &crate::sqlite::admin::resolution_audit(d, state, actor, now),
    )
    .await
}

/// Prove that a write commits now: a write transaction that changes a row
/// (the latest migration record, rewritten as it is) and commits. On
/// SQLite the check takes the write lock and commits; on PostgreSQL a
/// transaction that writes nothing commits without touching the WAL, so it
/// would not notice a server that cannot write it (a full disk, a
/// synchronous standby gone), and one rolled back would not reach the
/// commit at all. A standby (after a failover) refuses the write.
pub(super) async fn check_writable(tx: &Tx<'_>) -> Result<()> {
    let op = "check-writable";
    let n = tx
        .execute(
            "UPDATE schema_migrations SET applied_at = applied_at
             WHERE version = (SELECT max(version) FROM schema_migrations)",
            &[],
        )
        .await
        .map_err(pg(op))?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Database {
            op,
            message: "no migration record to write (is this a shopcase database?)".into(),
        })
    }
}

#[async_trait]
impl AdminStore for PostgresStorage {
    async fn dead_letters(
        &self,
        shop: Option<&str>,
        open_only: bool,
        limit: usize,
    ) -> Result<Vec<DeadLetter>> {
        read_tx!(self, "dead-letters", |tx| dead_letters(
            tx, shop, open_only, limit
        )
        .await)
    }

    async fn retry_dead_letter(&self, id: i64, actor: &str, now: Timestamp) -> Result<()> {
        write_tx!(self, "retry-dead-letter", |tx| retry_dead_letter(
            tx, id, actor, now
        )
        .await)
    }

    async fn discard_dead_letter(&self, id: i64, actor: &str, now: Timestamp) -> Result<()> {
        write_tx!(self, "discard-dead-letter", |tx| discard_dead_letter(
            tx, id, actor, now
        )
        .await)
    }

    async fn sync_stores(&self, stores: Vec<(String, String)>, now: Timestamp) -> Result<()> {
        write_tx!(self, "sync-stores", |tx| sync_stores(tx, &stores, now)
            .await)
    }

    async fn stores(&self) -> Result<Vec<StoreRecord>> {
        read_tx!(self, "stores", |tx| stores(tx).await)
    }

    async fn installations(&self, shop: Option<&str>) -> Result<Vec<Installation>> {
        read_tx!(self, "installations", |tx| installations(tx, shop, None)
            .await)
    }

    async fn installation(&self, shop: &str, plugin_id: &str) -> Result<Option<Installation>> {
        read_tx!(self, "installation", |tx| Ok::<_, StoreError>(
            installations(tx, Some(shop), Some(plugin_id)).await?.pop()
        ))
    }

    async fn put_installation(&self, installation: Installation, audit: NewAudit) -> Result<()> {
        write_tx!(self, "put-installation", |tx| put_installation(
            tx,
            &installation,
            &audit
        )
        .await)
    }

    async fn approve_installation(
        &self,
        key: InstallationKey,
        before: Option<Approval>,
        approval: Approval,
        audit: NewAudit,
    ) -> Result<bool> {
        write_tx!(self, "approve-installation", |tx| approve_installation(
            tx,
            (&key.shop, &key.plugin_id, &key.version),
            before.as_ref(),
            &approval,
            &audit,
        )
        .await)
    }

    async fn unquarantine(&self, shop: &str, plugin_id: &str, audit: NewAudit) -> Result<bool> {
        write_tx!(self, "unquarantine", |tx| unquarantine(
            tx, shop, plugin_id, &audit
        )
        .await)
    }

    async fn record_audit(&self, audit: NewAudit) -> Result<()> {
        write_tx!(self, "record-audit", |tx| insert_audit(tx, &audit).await)
    }

    async fn audit_log(&self, shop: Option<&str>, limit: usize) -> Result<Vec<AuditEntry>> {
        read_tx!(self, "audit-log", |tx| audit_log(tx, shop, limit).await)
    }

    async fn prune(&self, prune: Prune) -> Result<PruneReport> {
        write_tx!(self, "prune", |tx| super::retention::prune(tx, &prune)
            .await)
    }

    async fn check_writable(&self) -> Result<()> {
        write_tx!(self, "check-writable", |tx| check_writable(tx).await)
    }

    async fn create_api_token(&self, token: NewApiToken, audit: NewAudit) -> Result<()> {
        write_tx!(self, "create-api-token", |tx| {
            super::admin_api::create_token(tx, &token, &audit).await
        })
    }

    async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        read_tx!(self, "api-tokens", |tx| super::admin_api::tokens(tx).await)
    }

    async fn api_token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>> {
        read_tx!(self, "api-token", |tx| super::admin_api::token_by_hash(
            tx, hash
        )
        .await)
    }

    async fn touch_api_token(&self, id: &str, now: Timestamp) -> Result<()> {
        write_tx!(self, "touch-api-token", |tx| super::admin_api::touch_token(
            tx, id, now
        )
        .await)
    }

    async fn revoke_api_token(&self, id: &str, audit: NewAudit) -> Result<bool> {
        write_tx!(self, "revoke-api-token", |tx| {
            super::admin_api::revoke_token(tx, id, &audit).await
        })
    }

    async fn search_events(&self, query: EventQuery) -> Result<Vec<StoredEvent>> {
        read_tx!(self, "search-events", |tx| super::admin_api::search_events(
            tx, &query
        )
        .await)
    }

    async fn search_journal(&self, query: JournalQuery) -> Result<Vec<JournalEntry>> {
        read_tx!(self, "search-journal", |tx| {
            super::admin_api::search_journal(tx, &query).await
        })
    }

    async fn dead_letter(&self, id: i64) -> Result<Option<DeadLetter>> {
        read_tx!(self, "dead-letter", |tx| dead_letter(tx, id, "dead-letter")
            .await)
    }

    async fn search_case_links(&self, query: CaseLinkQuery) -> Result<Vec<CaseLink>> {
        read_tx!(self, "search-case-links", |tx| {
            super::admin_api::search_case_links(tx, &query).await
        })
    }
}
