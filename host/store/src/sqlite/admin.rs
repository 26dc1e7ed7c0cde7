//! Stores, installations (with quarantine), the audit log and dead letters.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, Row, params};
use shopcase_contract::SettingValue;

use async_trait::async_trait;

use super::SqliteStorage;
use super::{corrupt, db, ms, to_json, ts, ts_opt};
use crate::error::{Result, StoreError};
use crate::values::*;

pub(super) fn sync_stores(
    c: &Connection,
    stores: &[(String, String)],
    now: Timestamp,
) -> Result<()> {
    let op = "sync-stores";
    let now = ms(now);
    c.execute(
        "UPDATE stores SET configured = 0, updated_at = ?1 WHERE configured = 1",
        [now],
    )
    .map_err(db(op))?;
    let mut up = c
        .prepare_cached(
            "INSERT INTO stores (domain, api_version, configured, added_at, updated_at) VALUES (?1, ?2, 1, ?3, ?3)
             ON CONFLICT (domain) DO UPDATE SET api_version = excluded.api_version, configured = 1,
                updated_at = excluded.updated_at",
        )
        .map_err(db(op))?;
    for (domain, api_version) in stores {
        up.execute(params![domain, api_version, now])
            .map_err(db(op))?;
    }
    Ok(())
}

/// Record that a store uninstalled the app (creating its row if a shop
/// redaction deleted it meanwhile).
pub(super) fn record_uninstall(
    c: &Connection,
    shop: &str,
    api_version: &str,
    by: &str,
    at: Timestamp,
) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO stores (domain, api_version, configured, added_at, updated_at, uninstalled_at, uninstalled_by)
         VALUES (?1, ?2, 1, ?3, ?3, ?3, ?4)
         ON CONFLICT (domain) DO UPDATE SET uninstalled_at = excluded.uninstalled_at,
            uninstalled_by = excluded.uninstalled_by, updated_at = excluded.updated_at",
    )
    .and_then(|mut s| s.execute(params![shop, api_version, ms(at), by]))
    .map_err(db("record-uninstall"))?;
    Ok(())
}

pub(super) fn uninstalled(c: &Connection, shop: &str) -> Result<Option<Uninstall>> {
    let row: Option<(Option<i64>, Option<String>)> = c
        .prepare_cached("SELECT uninstalled_at, uninstalled_by FROM stores WHERE domain = ?1")
        .and_then(|mut s| {
            s.query_row([shop], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .map_err(db("uninstalled"))?;
    Ok(match row {
        Some((Some(at), by)) => Some(Uninstall {
            at: ts(at),
            by: by.unwrap_or_default(),
        }),
        _ => None,
    })
}

pub(super) fn stores(c: &Connection) -> Result<Vec<StoreRecord>> {
    c.prepare_cached(
        "SELECT domain, api_version, configured, added_at, updated_at FROM stores ORDER BY domain",
    )
    .and_then(|mut s| {
        s.query_map([], |r| {
            Ok(StoreRecord {
                domain: r.get(0)?,
                api_version: r.get(1)?,
                configured: r.get::<_, i64>(2)? != 0,
                added_at: ts(r.get(3)?),
                updated_at: ts(r.get(4)?),
            })
        })?
        .collect()
    })
    .map_err(db("stores"))
}

pub(crate) const INSTALLATION_COLS: &str = "shop, plugin_id, version, settings, enabled, enabled_by, enabled_at, updated_by, \
     updated_at, consecutive_failures, quarantined_at, quarantine_reason, approved_sha256, \
     approved_grants_digest, approved_grants, approved_by, approved_at";

/// An installation row, with its settings and approved grants still as
/// JSON text (parsed by the caller, which names the column if they fail).
type InstallationRow = (Installation, String, Option<RawApproval>);

/// The approval columns, when the row has an approval.
struct RawApproval {
    sha256: String,
    grants_digest: String,
    grants: String,
    by: String,
    at: i64,
}

fn installation_row(r: &Row<'_>) -> rusqlite::Result<InstallationRow> {
    let quarantined_at: Option<i64> = r.get(10)?;
    let reason: Option<String> = r.get(11)?;
    let approval = match (r.get(12)?, r.get(13)?, r.get(14)?) {
        (Some(sha256), Some(grants_digest), Some(grants)) => Some(RawApproval {
            sha256,
            grants_digest,
            grants,
            by: r.get::<_, Option<String>>(15)?.unwrap_or_default(),
            at: r.get::<_, Option<i64>>(16)?.unwrap_or_default(),
        }),
        _ => None,
    };
    Ok((
        Installation {
            shop: r.get(0)?,
            plugin_id: r.get(1)?,
            version: r.get(2)?,
            settings: BTreeMap::new(),
            enabled: r.get::<_, i64>(4)? != 0,
            enabled_by: r.get(5)?,
            enabled_at: ts_opt(r.get(6)?),
            updated_by: r.get(7)?,
            updated_at: ts(r.get(8)?),
            consecutive_failures: u32::try_from(r.get::<_, i64>(9)?).unwrap_or(u32::MAX),
            quarantine: quarantined_at.map(|since| Quarantine {
                since: ts(since),
                reason: reason.unwrap_or_default(),
            }),
            approved: None,
        },
        r.get(3)?,
        approval,
    ))
}

pub(super) fn installations(
    c: &Connection,
    shop: Option<&str>,
    plugin: Option<&str>,
) -> Result<Vec<Installation>> {
    let sql = format!(
        "SELECT {INSTALLATION_COLS} FROM installations
         WHERE (?1 IS NULL OR shop = ?1) AND (?2 IS NULL OR plugin_id = ?2) ORDER BY shop, plugin_id"
    );
    let rows = c
        .prepare_cached(&sql)
        .and_then(|mut s| {
            s.query_map(params![shop, plugin], installation_row)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(db("installations"))?;
    rows.into_iter()
        .map(|(mut i, settings, approval)| {
            i.settings = serde_json::from_str::<BTreeMap<String, SettingValue>>(&settings)
                .map_err(|e| corrupt("installations.settings")(e.to_string()))?;
            i.approved = approval
                .map(|a| {
                    Ok::<_, StoreError>(Approval {
                        grants: serde_json::from_str(&a.grants)
                            .map_err(|e| corrupt("installations.approved_grants")(e.to_string()))?,
                        sha256: a.sha256,
                        grants_digest: a.grants_digest,
                        by: a.by,
                        at: ts(a.at),
                    })
                })
                .transpose()?;
            Ok(i)
        })
        .collect()
}

/// Create or replace an installation. Its approval is written when the
/// row is new, when the version changes, or when the row has none yet;
/// otherwise the stored approval stands (changing settings or enabling
/// again does not approve new content: only [`approve_installation`]
/// does, so a stale read of the row cannot undo an approval).
pub(super) fn put_installation(c: &Connection, i: &Installation, audit: &NewAudit) -> Result<()> {
    let op = "put-installation";
    let a = i.approved.as_ref();
    let grants = a
        .map(|a| to_json("installations.approved_grants", &a.grants))
        .transpose()?;
    c.prepare_cached(
        "INSERT INTO installations (shop, plugin_id, version, settings, enabled, enabled_by, enabled_at,
            updated_by, updated_at, approved_sha256, approved_grants_digest, approved_grants, approved_by,
            approved_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
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
    .and_then(|mut s| {
        s.execute(params![
            i.shop,
            i.plugin_id,
            i.version,
            to_json("installations.settings", &i.settings).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
            i64::from(i.enabled),
            i.enabled_by,
            i.enabled_at.map(ms),
            i.updated_by,
            ms(i.updated_at),
            a.map(|a| &a.sha256),
            a.map(|a| &a.grants_digest),
            grants,
            a.map(|a| &a.by),
            a.map(|a| ms(a.at)),
        ])
    })
    .map_err(db(op))?;
    insert_audit(c, audit)
}

/// Record `approval` for the installation `(shop, plugin, version)` if it
/// still pins that version and
/// its recorded approval is still `before` (by content: sha256 and grants
/// digest; `None`: none recorded), with the audit record. Returns whether
/// it was recorded.
pub(super) fn approve_installation(
    c: &Connection,
    key: (&str, &str, &str),
    before: Option<&Approval>,
    approval: &Approval,
    audit: &NewAudit,
) -> Result<bool> {
    let op = "approve-installation";
    let (shop, plugin, version) = key;
    let n = c
        .prepare_cached(
            "UPDATE installations SET approved_sha256 = ?4, approved_grants_digest = ?5, approved_grants = ?6,
                approved_by = ?7, approved_at = ?8
             WHERE shop = ?1 AND plugin_id = ?2 AND version = ?3
               AND approved_sha256 IS ?9 AND approved_grants_digest IS ?10",
        )
        .and_then(|mut s| {
            s.execute(params![
                shop,
                plugin,
                version,
                approval.sha256,
                approval.grants_digest,
                to_json("installations.approved_grants", &approval.grants)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
                approval.by,
                ms(approval.at),
                before.map(|b| &b.sha256),
                before.map(|b| &b.grants_digest),
            ])
        })
        .map_err(db(op))?;
    if n == 0 {
        return Ok(false);
    }
    insert_audit(c, audit)?;
    Ok(true)
}

pub(super) fn unquarantine(
    c: &Connection,
    shop: &str,
    plugin: &str,
    audit: &NewAudit,
) -> Result<bool> {
    let op = "unquarantine";
    let now = ms(audit.at);
    let n = c
        .execute(
            "UPDATE installations SET consecutive_failures = 0, quarantined_at = NULL, quarantine_reason = NULL,
                updated_by = ?3, updated_at = ?4
             WHERE shop = ?1 AND plugin_id = ?2 AND quarantined_at IS NOT NULL",
            params![shop, plugin, audit.actor, now],
        )
        .map_err(db(op))?;
    if n == 0 {
        return Ok(false);
    }
    let events: Vec<String> = c
        .prepare(
            "UPDATE dispatch SET status = 'pending', next_attempt_at = ?3, updated_at = ?3
             WHERE shop = ?1 AND plugin_id = ?2 AND status = 'held' RETURNING event_id",
        )
        .and_then(|mut s| {
            s.query_map(params![shop, plugin, now], |r| r.get(0))?
                .collect()
        })
        .map_err(db(op))?;
    let mut wake = c
        .prepare_cached(
            "UPDATE inbox SET status = 'pending', done_at = NULL,
                next_attempt_at = min(next_attempt_at, ?2)
             WHERE event_id = ?1 AND status IN ('pending', 'done')",
        )
        .map_err(db(op))?;
    for e in &events {
        wake.execute(params![e, now]).map_err(db(op))?;
    }
    let mut audit = audit.clone();
    if let Some(obj) = audit.details.as_object_mut() {
        obj.insert("released_events".into(), events.len().into());
    }
    insert_audit(c, &audit)?;
    Ok(true)
}

/// Count a dead-lettered run against the installation; quarantine it when
/// the streak reaches `threshold`. Returns the quarantine reason if this
/// failure started one. The host's own conditions (an outage outlasting
/// its window) are not counted.
pub(super) fn count_failure(
    c: &Connection,
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
    let row: Option<(i64, Option<i64>)> = c
        .prepare_cached(
            "UPDATE installations SET consecutive_failures = consecutive_failures + 1
             WHERE shop = ?1 AND plugin_id = ?2 RETURNING consecutive_failures, quarantined_at",
        )
        .and_then(|mut s| {
            s.query_row(params![shop, plugin], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .map_err(db(op))?;
    let Some((streak, quarantined_at)) = row else {
        return Ok(None);
    };
    if threshold == 0 || quarantined_at.is_some() || streak < i64::from(threshold) {
        return Ok(None);
    }
    let reason = format!("{streak} dead-lettered runs in a row; the last: {failure}");
    c.execute(
        "UPDATE installations SET quarantined_at = ?3, quarantine_reason = ?4 WHERE shop = ?1 AND plugin_id = ?2",
        params![shop, plugin, now, reason],
    )
    .map_err(db(op))?;
    insert_audit(
        c,
        &NewAudit {
            actor: "host".into(),
            action: "installation.quarantine".into(),
            shop: Some(shop.to_owned()),
            plugin_id: Some(plugin.to_owned()),
            details: serde_json::json!({"reason": reason}),
            at: ts(now),
        },
    )?;
    Ok(Some(reason))
}

pub(super) fn insert_audit(c: &Connection, a: &NewAudit) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO audit (at, actor, action, shop, plugin_id, details) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut s| {
        s.execute(params![
            ms(a.at),
            a.actor,
            a.action,
            a.shop,
            a.plugin_id,
            a.details.to_string()
        ])
    })
    .map_err(db("audit"))?;
    Ok(())
}

pub(super) fn audit_log(
    c: &Connection,
    shop: Option<&str>,
    limit: usize,
) -> Result<Vec<AuditEntry>> {
    let rows = c
        .prepare_cached(
            "SELECT id, at, actor, action, shop, plugin_id, details FROM audit
             WHERE (?1 IS NULL OR shop = ?1) ORDER BY id DESC LIMIT ?2",
        )
        .and_then(|mut s| {
            s.query_map(
                params![shop, i64::try_from(limit).unwrap_or(i64::MAX)],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, String>(6)?,
                    ))
                },
            )?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(db("audit-log"))?;
    Ok(rows
        .into_iter()
        .map(
            |(id, at, actor, action, shop, plugin_id, details)| AuditEntry {
                id,
                entry: NewAudit {
                    actor,
                    action,
                    shop,
                    plugin_id,
                    details: serde_json::from_str(&details)
                        .unwrap_or(serde_json::Value::String(details)),
                    at: ts(at),
                },
            },
        )
        .collect())
}

#[allow(clippy::too_many_arguments, reason = "one row's columns")]
pub(super) fn insert_dead_letter(
    c: &Connection,
    what: DeadLetterKind,
    shop: &str,
    event_id: &str,
    plugin_id: Option<&str>,
    key: Option<&str>,
    failure: &FailureRecord,
    attempts: i64,
    now: i64,
) -> Result<i64> {
    c.prepare_cached(
        "INSERT INTO dead_letters (what, shop, event_id, plugin_id, idempotency_key, kind, reason, attempts,
            created_at, state)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'open') RETURNING id",
    )
    .and_then(|mut s| {
        s.query_row(
            params![what.as_str(), shop, event_id, plugin_id, key, failure.kind, failure.message, attempts, now],
            |r| r.get(0),
        )
    })
    .map_err(db("dead-letter"))
}

pub(crate) const DEAD_COLS: &str = "id, what, shop, event_id, plugin_id, idempotency_key, kind, reason, attempts, created_at, \
     state, resolved_by, resolved_at";

fn dead_row(r: &Row<'_>) -> rusqlite::Result<(DeadLetter, String, String)> {
    Ok((
        DeadLetter {
            id: r.get(0)?,
            what: DeadLetterKind::Dispatch,
            shop: r.get(2)?,
            event_id: r.get(3)?,
            plugin_id: r.get(4)?,
            idempotency_key: r.get(5)?,
            failure: FailureRecord::new(r.get::<_, String>(6)?, r.get::<_, String>(7)?),
            attempts: u32::try_from(r.get::<_, i64>(8)?).unwrap_or(u32::MAX),
            created_at: ts(r.get(9)?),
            state: DeadLetterState::Open,
            resolved_by: r.get(11)?,
            resolved_at: ts_opt(r.get(12)?),
        },
        r.get(1)?,
        r.get(10)?,
    ))
}

pub(crate) fn finish_dead(raw: (DeadLetter, String, String)) -> Result<DeadLetter> {
    let (mut d, what, state) = raw;
    d.what =
        DeadLetterKind::parse(&what).ok_or_else(|| corrupt("dead_letters.what")(what.clone()))?;
    d.state = DeadLetterState::parse(&state)
        .ok_or_else(|| corrupt("dead_letters.state")(state.clone()))?;
    Ok(d)
}

pub(super) fn dead_letters(
    c: &Connection,
    shop: Option<&str>,
    open_only: bool,
    limit: usize,
) -> Result<Vec<DeadLetter>> {
    let sql = format!(
        "SELECT {DEAD_COLS} FROM dead_letters
         WHERE (?1 IS NULL OR shop = ?1) AND (?2 = 0 OR state = 'open') ORDER BY id DESC LIMIT ?3"
    );
    let rows = c
        .prepare_cached(&sql)
        .and_then(|mut s| {
            s.query_map(
                params![
                    shop,
                    i64::from(open_only),
                    i64::try_from(limit).unwrap_or(i64::MAX)
                ],
                dead_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(db("dead-letters"))?;
    rows.into_iter().map(finish_dead).collect()
}

fn open_dead_letter(c: &Connection, id: i64, op: &'static str) -> Result<DeadLetter> {
    let sql = format!("SELECT {DEAD_COLS} FROM dead_letters WHERE id = ?1");
    let raw = c
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row([id], dead_row).optional())
        .map_err(db(op))?
        .ok_or_else(|| StoreError::NotFound {
            what: "dead letter",
            key: id.to_string(),
        })?;
    let d = finish_dead(raw)?;
    if d.state != DeadLetterState::Open {
        return Err(StoreError::Conflict(format!(
            "dead letter {id} is already {}",
            d.state.as_str()
        )));
    }
    Ok(d)
}

pub(super) fn retry_dead_letter(
    c: &Connection,
    id: i64,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let op = "retry-dead-letter";
    let d = open_dead_letter(c, id, op)?;
    let now_ms = ms(now);
    let wake_event = |event_id: &str| {
        c.execute(
            "UPDATE inbox SET status = 'pending', done_at = NULL, next_attempt_at = ?2, claimed_by = NULL,
                lease_until = NULL, abandoned = 0
             WHERE event_id = ?1 AND status IN ('pending', 'done')",
            params![event_id, now_ms],
        )
        .map_err(db(op))
    };
    match d.what {
        DeadLetterKind::Dispatch => {
            let plugin = d.plugin_id.clone().unwrap_or_default();
            let n = c
                .execute(
                    "UPDATE dispatch SET status = 'pending', attempts = 0, next_attempt_at = ?3, updated_at = ?3
                     WHERE event_id = ?1 AND plugin_id = ?2 AND status = 'dead'",
                    params![d.event_id, plugin, now_ms],
                )
                .map_err(db(op))?;
            if n == 0 {
                return Err(StoreError::Conflict(format!(
                    "the run of `{plugin}` on event {} is no longer dead-lettered",
                    d.event_id
                )));
            }
            wake_event(&d.event_id)?;
        }
        DeadLetterKind::Action => {
            let key = d.idempotency_key.clone().unwrap_or_default();
            let n = c
                .execute(
                    "UPDATE journal SET status = 'pending', attempts = 0, abandoned = 0, next_attempt_at = ?2,
                        updated_at = ?2
                     WHERE idempotency_key = ?1 AND status = 'dead'",
                    params![key, now_ms],
                )
                .map_err(db(op))?;
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
            if !super::timers::reschedule_unreadable(c, timer, now_ms)? {
                return Err(StoreError::Conflict(format!(
                    "timer {timer} is no longer set aside"
                )));
            }
        }
        DeadLetterKind::Event => {
            if d.failure.kind == SHOP_REDACT_UNCONFIRMED {
                // The operator confirms the store did uninstall the app:
                // recorded, so the request acts when it runs again.
                let api_version: String = c
                    .query_row(
                        "SELECT api_version FROM inbox WHERE event_id = ?1",
                        [&d.event_id],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(db(op))?
                    .unwrap_or_default();
                record_uninstall(c, &d.shop, &api_version, &format!("operator {actor}"), now)?;
            }
            if d.failure.kind == POISON {
                // The runs set aside with the event run again.
                c.execute(
                    "UPDATE dispatch SET status = 'pending', next_attempt_at = ?2, updated_at = ?2
                     WHERE event_id = ?1 AND status = 'dead' AND failure_kind = ?3",
                    params![d.event_id, now_ms, POISON],
                )
                .map_err(db(op))?;
            }
            // A fresh round of attempts (the host counts an event's claims;
            // waking it resets its abandoned claims).
            c.execute(
                "UPDATE inbox SET claims = 0 WHERE event_id = ?1",
                [&d.event_id],
            )
            .map_err(db(op))?;
            if wake_event(&d.event_id)? == 0 {
                return Err(StoreError::Conflict(format!(
                    "event {} is gone",
                    d.event_id
                )));
            }
        }
    }
    resolve(c, &d, DeadLetterState::Retried, actor, now)
}

/// The audit record of a dead letter's resolution (retried or
/// discarded). Both engines.
pub(crate) fn resolution_audit(
    d: &DeadLetter,
    state: DeadLetterState,
    actor: &str,
    now: Timestamp,
) -> NewAudit {
    NewAudit {
        actor: actor.to_owned(),
        action: format!(
            "dead-letter.{}",
            if state == DeadLetterState::Retried {
                "retry"
            } else {
                "discard"
            }
        ),
        shop: Some(d.shop.clone()),
        plugin_id: d.plugin_id.clone(),
        details: serde_json::json!({"dead_letter": d.id, "what": d.what, "event_id": d.event_id,
            "idempotency_key": d.idempotency_key}),
        at: now,
    }
}

pub(super) fn discard_dead_letter(
    c: &Connection,
    id: i64,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let d = open_dead_letter(c, id, "discard-dead-letter")?;
    resolve(c, &d, DeadLetterState::Discarded, actor, now)
}

fn resolve(
    c: &Connection,
    d: &DeadLetter,
    state: DeadLetterState,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    c.execute(
        "UPDATE dead_letters SET state = ?2, resolved_by = ?3, resolved_at = ?4 WHERE id = ?1",
        params![d.id, state.as_str(), actor, ms(now)],
    )
    .map_err(db("resolve-dead-letter"))?;
    insert_audit(c, &resolution_audit(d, state, actor, now))
}

#[async_trait]
impl AdminStore for SqliteStorage {
    async fn dead_letters(
        &self,
        shop: Option<&str>,
        open_only: bool,
        limit: usize,
    ) -> Result<Vec<DeadLetter>> {
        let s = shop.map(str::to_owned);
        self.read(move |c| super::admin::dead_letters(c, s.as_deref(), open_only, limit))
            .await
    }

    async fn retry_dead_letter(&self, id: i64, actor: &str, now: Timestamp) -> Result<()> {
        let a = actor.to_owned();
        self.write("retry-dead-letter", move |c| {
            super::admin::retry_dead_letter(c, id, &a, now)
        })
        .await
    }

    async fn discard_dead_letter(&self, id: i64, actor: &str, now: Timestamp) -> Result<()> {
        let a = actor.to_owned();
        self.write("discard-dead-letter", move |c| {
            super::admin::discard_dead_letter(c, id, &a, now)
        })
        .await
    }

    async fn sync_stores(&self, stores: Vec<(String, String)>, now: Timestamp) -> Result<()> {
        self.write("sync-stores", move |c| {
            super::admin::sync_stores(c, &stores, now)
        })
        .await
    }

    async fn stores(&self) -> Result<Vec<StoreRecord>> {
        self.read(super::admin::stores).await
    }

    async fn installations(&self, shop: Option<&str>) -> Result<Vec<Installation>> {
        let s = shop.map(str::to_owned);
        self.read(move |c| super::admin::installations(c, s.as_deref(), None))
            .await
    }

    async fn installation(&self, shop: &str, plugin_id: &str) -> Result<Option<Installation>> {
        let (s, p) = (shop.to_owned(), plugin_id.to_owned());
        self.read(move |c| Ok(super::admin::installations(c, Some(&s), Some(&p))?.pop()))
            .await
    }

    async fn put_installation(&self, installation: Installation, audit: NewAudit) -> Result<()> {
        self.write("put-installation", move |c| {
            super::admin::put_installation(c, &installation, &audit)
        })
        .await
    }

    async fn approve_installation(
        &self,
        key: InstallationKey,
        before: Option<Approval>,
        approval: Approval,
        audit: NewAudit,
    ) -> Result<bool> {
        self.write("approve-installation", move |c| {
            super::admin::approve_installation(
                c,
                (&key.shop, &key.plugin_id, &key.version),
                before.as_ref(),
                &approval,
                &audit,
            )
        })
        .await
    }

    async fn unquarantine(&self, shop: &str, plugin_id: &str, audit: NewAudit) -> Result<bool> {
        let (s, p) = (shop.to_owned(), plugin_id.to_owned());
        self.write("unquarantine", move |c| {
            super::admin::unquarantine(c, &s, &p, &audit)
        })
        .await
    }

    async fn record_audit(&self, audit: NewAudit) -> Result<()> {
        self.write("record-audit", move |c| {
            super::admin::insert_audit(c, &audit)
        })
        .await
    }

    async fn audit_log(&self, shop: Option<&str>, limit: usize) -> Result<Vec<AuditEntry>> {
        let s = shop.map(str::to_owned);
        self.read(move |c| super::admin::audit_log(c, s.as_deref(), limit))
            .await
    }

    async fn prune(&self, prune: Prune) -> Result<PruneReport> {
        self.write("prune", move |c| super::retention::prune(c, &prune))
            .await
    }

    async fn check_writable(&self) -> Result<()> {
        self.write_one("check-writable", |c| {
            c.query_row("SELECT 1", [], |_| Ok(()))
                .map_err(db("check-writable"))
        })
        .await
    }

    async fn create_api_token(&self, token: NewApiToken, audit: NewAudit) -> Result<()> {
        self.write("create-api-token", move |c| {
            super::admin_api::create_token(c, &token, &audit)
        })
        .await
    }

    async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        self.read(super::admin_api::tokens).await
    }

    async fn api_token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>> {
        let h = hash.to_owned();
        self.read(move |c| super::admin_api::token_by_hash(c, &h))
            .await
    }

    async fn touch_api_token(&self, id: &str, now: Timestamp) -> Result<()> {
        let id = id.to_owned();
        self.write_one("touch-api-token", move |c| {
            super::admin_api::touch_token(c, &id, now)
        })
        .await
    }

    async fn revoke_api_token(&self, id: &str, audit: NewAudit) -> Result<bool> {
        let id = id.to_owned();
        self.write("revoke-api-token", move |c| {
            super::admin_api::revoke_token(c, &id, &audit)
        })
        .await
    }

    async fn search_events(&self, query: EventQuery) -> Result<Vec<StoredEvent>> {
        self.read(move |c| super::admin_api::search_events(c, &query))
            .await
    }

    async fn search_journal(&self, query: JournalQuery) -> Result<Vec<JournalEntry>> {
        self.read(move |c| super::admin_api::search_journal(c, &query))
            .await
    }

    async fn dead_letter(&self, id: i64) -> Result<Option<DeadLetter>> {
        self.read(move |c| super::admin_api::dead_letter(c, id))
            .await
    }

    async fn search_case_links(&self, query: CaseLinkQuery) -> Result<Vec<CaseLink>> {
        self.read(move |c| super::admin_api::search_case_links(c, &query))
            .await
    }
}
