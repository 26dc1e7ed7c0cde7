//! The inbox and the per-(event, plugin) dispatch rows.

use rusqlite::{Connection, OptionalExtension, Row, params};
use shopcase_contract::manifest::HOST_ONLY_TOPICS;
use shopcase_contract::{Event, Resources};

use async_trait::async_trait;

use super::SqliteStorage;
use super::{corrupt, db, dur_ms, ms, to_json, ts, ts_opt};
use crate::error::{Result, StoreError};
use crate::values::*;

pub(crate) const EVENT_COLS: &str = "seq, event_id, shop, topic, source, dedupe_key, shopify_event_id, api_version, \
     triggered_at, received_at, resources, payload, target_plugin, status, claims, redacted_at, body_sha256, abandoned";

/// The columns of [`EVENT_COLS`], before their JSON and enums are checked.
pub(crate) struct RawEvent {
    pub(crate) seq: i64,
    pub(crate) event_id: String,
    pub(crate) shop: String,
    pub(crate) topic: String,
    pub(crate) source: String,
    pub(crate) dedupe_key: String,
    pub(crate) shopify_event_id: Option<String>,
    pub(crate) api_version: String,
    pub(crate) triggered_at: i64,
    pub(crate) received_at: i64,
    pub(crate) resources: String,
    pub(crate) payload: String,
    pub(crate) target_plugin: Option<String>,
    pub(crate) status: String,
    pub(crate) claims: i64,
    pub(crate) redacted_at: Option<i64>,
    pub(crate) body_sha256: Option<Vec<u8>>,
    pub(crate) abandoned: i64,
}

fn raw_event(r: &Row<'_>) -> rusqlite::Result<RawEvent> {
    Ok(RawEvent {
        seq: r.get(0)?,
        event_id: r.get(1)?,
        shop: r.get(2)?,
        topic: r.get(3)?,
        source: r.get(4)?,
        dedupe_key: r.get(5)?,
        shopify_event_id: r.get(6)?,
        api_version: r.get(7)?,
        triggered_at: r.get(8)?,
        received_at: r.get(9)?,
        resources: r.get(10)?,
        payload: r.get(11)?,
        target_plugin: r.get(12)?,
        status: r.get(13)?,
        claims: r.get(14)?,
        redacted_at: r.get(15)?,
        body_sha256: r.get(16)?,
        abandoned: r.get(17)?,
    })
}

impl RawEvent {
    pub(crate) fn into_event(self) -> Result<StoredEvent> {
        let resources: Resources = serde_json::from_str(&self.resources)
            .map_err(|e| corrupt("inbox.resources")(e.to_string()))?;
        let source = EventSource::parse(&self.source)
            .ok_or_else(|| corrupt("inbox.source")(format!("unknown source `{}`", self.source)))?;
        let status = EventStatus::parse(&self.status)
            .ok_or_else(|| corrupt("inbox.status")(format!("unknown status `{}`", self.status)))?;
        Ok(StoredEvent {
            seq: self.seq,
            event: Event {
                id: self.event_id,
                shopify_event_id: self.shopify_event_id,
                shop: self.shop,
                topic: self.topic,
                api_version: self.api_version,
                triggered_at: shopcase_contract::time::format(ts(self.triggered_at)),
                resources,
                payload: self.payload,
            },
            source,
            dedupe_key: self.dedupe_key,
            received_at: ts(self.received_at),
            status,
            claims: u32::try_from(self.claims).unwrap_or(u32::MAX),
            abandoned: u32::try_from(self.abandoned).unwrap_or(u32::MAX),
            target_plugin: self.target_plugin,
            redacted_at: ts_opt(self.redacted_at),
            body_sha256: self
                .body_sha256
                .map(|d| {
                    <[u8; 32]>::try_from(d.as_slice()).map_err(|_| {
                        corrupt("inbox.body_sha256")(format!("{} bytes, not 32", d.len()))
                    })
                })
                .transpose()?,
        })
    }
}

fn as_i64(id: Option<u64>) -> Option<i64> {
    id.and_then(|i| i64::try_from(i).ok())
}

/// Insert an event unless one of the duplicate rules ([`DuplicateRule`])
/// finds it already there.
pub(super) fn insert(c: &Connection, ev: &NewEvent) -> Result<Inserted> {
    let op = "insert-event";
    let event_id = ev.event_id();
    let digest = ev.body_sha256.as_ref().map(|d| d.as_slice());
    // A privacy request's record outlives its event (retention, a store's
    // redaction): its body stays a duplicate for as long as the record.
    if digest.is_some() && HOST_ONLY_TOPICS.contains(&ev.topic.as_str()) {
        let recorded: Option<String> = c
            .prepare_cached(
                "SELECT event_id FROM privacy_requests
                 WHERE shop = ?1 AND topic = ?2 AND body_sha256 = ?3 LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(params![ev.shop, ev.topic, digest], |r| r.get(0))
                    .optional()
            })
            .map_err(db(op))?;
        if let Some(event_id) = recorded {
            return Ok(Inserted::Duplicate {
                event_id,
                rule: DuplicateRule::Body,
            });
        }
    }
    let resources = to_json("inbox.resources", &ev.resources)?;
    let changed = c
        .prepare_cached(
            "INSERT INTO inbox (event_id, shop, topic, source, dedupe_key, shopify_event_id, api_version,
                triggered_at, received_at, order_id, customer_id, resources, payload, target_plugin, status,
                next_attempt_at, done_at, body_sha256)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?9, ?16, ?17)
             ON CONFLICT DO NOTHING",
        )
        .and_then(|mut s| {
            s.execute(params![
                event_id,
                ev.shop,
                ev.topic,
                ev.source.as_str(),
                ev.dedupe_key,
                ev.shopify_event_id,
                ev.api_version,
                ms(ev.triggered_at),
                ms(ev.received_at),
                as_i64(ev.resources.order_id),
                as_i64(ev.resources.customer_id),
                resources,
                ev.payload,
                ev.target_plugin,
                ev.status.as_str(),
                (ev.status != EventStatus::Pending).then(|| ms(ev.received_at)),
                digest,
            ])
        })
        .map_err(db(op))?;
    if changed == 1 {
        if ev.topic == APP_UNINSTALLED && ev.source == EventSource::Shopify {
            // In the same transaction (the caller's savepoint): the
            // uninstall is recorded exactly when its event is.
            super::admin::record_uninstall(
                c,
                &ev.shop,
                &ev.api_version,
                &format!("{APP_UNINSTALLED} {event_id}"),
                ev.received_at,
            )?;
        }
        return Ok(Inserted::New { event_id });
    }
    // One of the unique keys holds it: which, in the rules' order.
    let existing: Option<(String, i64)> = c
        .prepare_cached(
            "SELECT event_id, 0 FROM inbox WHERE event_id = ?1
             UNION ALL
             SELECT event_id, 1 FROM inbox WHERE shop = ?2 AND topic = ?3 AND shopify_event_id = ?4
             UNION ALL
             SELECT event_id, 2 FROM inbox WHERE shop = ?2 AND topic = ?3 AND body_sha256 = ?5
             LIMIT 1",
        )
        .and_then(|mut s| {
            s.query_row(
                params![event_id, ev.shop, ev.topic, ev.shopify_event_id, digest],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })
        .map_err(db(op))?;
    let (event_id, rule) = match existing {
        Some((id, 1)) => (id, DuplicateRule::MerchantAction),
        Some((id, 2)) => (id, DuplicateRule::Body),
        Some((id, _)) => (id, DuplicateRule::Delivery),
        None => (event_id, DuplicateRule::Delivery),
    };
    Ok(Inserted::Duplicate { event_id, rule })
}

/// The claim query. Fair across stores: the oldest claimable event of every
/// store first (oldest first among them), then every store's second, and so
/// on, so one store's backlog (or a storm of its timers) does not hold up
/// the others; within a store, oldest first.
///
/// `shops` walks the stores with pending events one index seek each
/// (`inbox_pending_shop`); `turns` is a queue ordered by (turn, seq): it
/// starts with each store's first claimable event and, as each row is
/// taken, adds that store's next one, until `limit` rows are taken. So a
/// claim costs one seek per store with pending events plus one per event
/// claimed, whatever the backlog, plus the entries skipped within a
/// store's range because they are not due or still leased (as the
/// oldest-first claim skipped them before).
///
/// A claim that takes an event over from a holder whose lease expired
/// (`claimed_by` still set: a finish, a release or a host completion clears
/// it) counts an abandoned claim and remembers that holder; the count adds
/// up only over deaths in a row (schema migration 9, `charge_death`).
///
/// PostgreSQL (`postgres/inbox.rs`) chooses the same events without
/// locks, then locks exactly those `FOR UPDATE SKIP LOCKED` and takes a
/// store's only up to the first one another claimer holds, so that no
/// claimer runs a store's younger event past an older one.
const CLAIM_SQL: &str = "
    WITH RECURSIVE
      shops(shop) AS (
        SELECT (SELECT shop FROM inbox WHERE status = 'pending' ORDER BY shop LIMIT 1)
        UNION ALL
        SELECT (SELECT i.shop FROM inbox i WHERE i.status = 'pending' AND i.shop > s.shop
                ORDER BY i.shop LIMIT 1)
        FROM shops s WHERE s.shop IS NOT NULL
      ),
      turns(shop, seq, turn) AS (
        SELECT s.shop, e.seq, 1 FROM shops s
        JOIN inbox e ON e.seq = (
            SELECT j.seq FROM inbox j
            WHERE j.status = 'pending' AND j.shop = s.shop AND j.next_attempt_at <= ?3
              AND (j.lease_until IS NULL OR j.lease_until <= ?3)
            ORDER BY j.seq LIMIT 1)
        WHERE s.shop IS NOT NULL
        UNION ALL
        SELECT t.shop, e.seq, t.turn + 1 FROM turns t
        JOIN inbox e ON e.seq = (
            SELECT j.seq FROM inbox j
            WHERE j.status = 'pending' AND j.shop = t.shop AND j.seq > t.seq
              AND j.next_attempt_at <= ?3 AND (j.lease_until IS NULL OR j.lease_until <= ?3)
            ORDER BY j.seq LIMIT 1)
        ORDER BY 3, 2
        LIMIT ?4
      )
    UPDATE inbox SET claimed_by = ?1, lease_until = ?2, claims = claims + 1,
        abandoned = abandoned + (claimed_by IS NOT NULL),
        abandoned_by = coalesce(claimed_by, abandoned_by),
        taken_from = claimed_by
    WHERE seq IN (SELECT seq FROM turns)
    RETURNING ";

pub(super) fn claim(c: &Connection, claim: &Claim) -> Result<Vec<ClaimedEvent>> {
    let op = "claim-events";
    let now = ms(claim.now);
    let lease_until = now.saturating_add(dur_ms(claim.lease));
    let limit = i64::try_from(claim.limit).unwrap_or(i64::MAX);
    let sql =
        format!("{CLAIM_SQL}{EVENT_COLS}, abandoned_by, taken_from, abandoned_death, started_by");
    let mut raws = c
        .prepare_cached(&sql)
        .and_then(|mut s| {
            s.query_map(params![claim.worker, lease_until, now, limit], |r| {
                Ok((
                    raw_event(r)?,
                    r.get::<_, Option<String>>(18)?,
                    r.get::<_, Option<String>>(19)?,
                    r.get::<_, Option<i64>>(20)?,
                    r.get::<_, Option<String>>(21)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(db(op))?;
    // In seq order, so deaths found in one claim are numbered the same
    // way each time.
    raws.sort_by_key(|(raw, ..)| raw.seq);
    let mut out = Vec::with_capacity(raws.len());
    for (mut raw, abandoned_by, taken_from, last_death, started_by) in raws {
        if let Some(from) = &taken_from {
            let (abandoned, death) =
                super::charge_death(c, from, raw.abandoned, last_death, started_by.as_deref())?;
            c.prepare_cached(
                "UPDATE inbox SET abandoned = ?2, abandoned_death = ?3 WHERE seq = ?1",
            )
            .and_then(|mut st| st.execute(params![raw.seq, abandoned, death]))
            .map_err(db(op))?;
            raw.abandoned = abandoned;
        }
        let abandoned = raw.abandoned;
        let (seq, event_id, shop, claims) =
            (raw.seq, raw.event_id.clone(), raw.shop.clone(), raw.claims);
        if claim.poison_after > 0 && abandoned >= i64::from(claim.poison_after) {
            set_aside_poison(
                c,
                seq,
                &raw,
                abandoned,
                abandoned_by.as_deref().unwrap_or("?"),
                now,
            )?;
            continue;
        }
        // Its dispatch rows are read with it: a damaged one would fail
        // every claim of the batch just the same.
        let read = raw.into_event().and_then(|event| {
            let dispatch = dispatch_rows(c, &event.event.id)?;
            Ok((event, dispatch))
        });
        let (event, dispatch) = match read {
            Ok(read) => read,
            Err(e @ StoreError::Corrupt { .. }) => {
                // A row this build cannot read (damaged, or written by
                // hand) must not hold up the batch it came in, claim after
                // claim: it is set aside as a dead letter an operator sees.
                tracing::error!(event = %event_id, %shop, error = %e, "an inbox row cannot be read; dead-lettered");
                c.execute(
                    "UPDATE inbox SET status = 'done', done_at = ?2, claimed_by = NULL, lease_until = NULL
                     WHERE seq = ?1",
                    params![seq, now],
                )
                .map_err(db(op))?;
                super::admin::insert_dead_letter(
                    c,
                    DeadLetterKind::Event,
                    &shop,
                    &event_id,
                    None,
                    None,
                    &FailureRecord::new("unreadable-event", e.to_string()),
                    claims,
                    now,
                )?;
                continue;
            }
            Err(e) => return Err(e),
        };
        out.push(ClaimedEvent { event, dispatch });
    }
    // In seq order already (sorted above).
    Ok(out)
}

/// The dead letter of an event set aside as poison: how often it was
/// abandoned, by whom last, and how far its plugin runs got (whether any
/// run was `planned`, and the plugins still `pending`). Both engines.
pub(crate) fn poison_failure(
    raw: &RawEvent,
    planned: bool,
    pending: &[String],
    abandoned: i64,
    last_worker: &str,
) -> FailureRecord {
    let stage = if HOST_ONLY_TOPICS.contains(&raw.topic.as_str()) {
        "handled by the host (a privacy request)".to_owned()
    } else if !planned {
        match &raw.target_plugin {
            Some(p) => format!("no run of `{p}` recorded yet"),
            None => "no plugin run recorded yet".to_owned(),
        }
    } else if pending.is_empty() {
        "no plugin run pending".to_owned()
    } else {
        format!("still pending: {}", pending.join(", "))
    };
    FailureRecord::new(
        POISON,
        format!(
            "`{}` was claimed {abandoned} times in a row by a worker that never finished it (the process \
             aborted or ran out of memory, or its task panicked, and the lease expired); last held \
             by `{last_worker}`; {stage}",
            raw.topic
        ),
    )
}

/// An event whose claims kept being abandoned (the worker running it died,
/// run after run): it is not handed out again but set aside, in the claim's
/// transaction, as a [`POISON`] event dead letter naming its last known
/// stage. The event is done and its still-pending runs dead (failure
/// `poison`), so the store's other events and retention go on; retrying the
/// letter puts those runs back to pending and the count to zero.
fn set_aside_poison(
    c: &Connection,
    seq: i64,
    raw: &RawEvent,
    abandoned: i64,
    last_worker: &str,
    now: i64,
) -> Result<()> {
    let op = "claim-events";
    let pending: Vec<String> = c
        .prepare_cached(
            "SELECT plugin_id FROM dispatch WHERE event_id = ?1 AND status = 'pending' ORDER BY plugin_id",
        )
        .and_then(|mut s| {
            s.query_map([&raw.event_id], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(db(op))?;
    let planned: i64 = c
        .prepare_cached("SELECT count(*) FROM dispatch WHERE event_id = ?1")
        .and_then(|mut s| s.query_row([&raw.event_id], |r| r.get(0)))
        .map_err(db(op))?;
    let failure = poison_failure(raw, planned > 0, &pending, abandoned, last_worker);
    tracing::error!(event = %raw.event_id, shop = %raw.shop, abandoned, last_worker, "an event keeps killing its worker; set aside as a poison dead letter");
    c.prepare_cached(
        "UPDATE dispatch SET status = 'dead', failure_kind = ?2, failure_message = ?3, updated_at = ?4
         WHERE event_id = ?1 AND status = 'pending'",
    )
    .and_then(|mut s| s.execute(params![raw.event_id, failure.kind, failure.message, now]))
    .map_err(db(op))?;
    c.prepare_cached(
        "UPDATE inbox SET status = 'done', done_at = ?2, claimed_by = NULL, lease_until = NULL
         WHERE seq = ?1",
    )
    .and_then(|mut s| s.execute(params![seq, now]))
    .map_err(db(op))?;
    super::admin::insert_dead_letter(
        c,
        DeadLetterKind::Event,
        &raw.shop,
        &raw.event_id,
        raw.target_plugin.as_deref(),
        None,
        &failure,
        abandoned,
        now,
    )?;
    Ok(())
}

pub(crate) const DISPATCH_COLS: &str = "event_id, plugin_id, plugin_version, shop, status, attempts, next_attempt_at, \
     failure_kind, failure_message, actions, budget, updated_at";

fn dispatch_row(r: &Row<'_>) -> rusqlite::Result<(DispatchRow, String, Option<String>)> {
    let kind: Option<String> = r.get(7)?;
    let message: Option<String> = r.get(8)?;
    let status: String = r.get(4)?;
    let budget: Option<String> = r.get(10)?;
    Ok((
        DispatchRow {
            event_id: r.get(0)?,
            plugin_id: r.get(1)?,
            plugin_version: r.get(2)?,
            shop: r.get(3)?,
            status: DispatchStatus::Pending,
            attempts: u32::try_from(r.get::<_, i64>(5)?).unwrap_or(u32::MAX),
            next_attempt_at: ts_opt(r.get(6)?),
            last_failure: kind.map(|k| FailureRecord::new(k, message.unwrap_or_default())),
            actions: u32::try_from(r.get::<_, i64>(9)?).unwrap_or(u32::MAX),
            budget: None,
            updated_at: ts(r.get(11)?),
        },
        status,
        budget,
    ))
}

pub(super) fn dispatch_rows(c: &Connection, event_id: &str) -> Result<Vec<DispatchRow>> {
    let sql =
        format!("SELECT {DISPATCH_COLS} FROM dispatch WHERE event_id = ?1 ORDER BY plugin_id");
    let rows = c
        .prepare_cached(&sql)
        .and_then(|mut s| {
            s.query_map([event_id], dispatch_row)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(db("dispatch-rows"))?;
    rows.into_iter()
        .map(|(mut row, status, budget)| {
            row.status = DispatchStatus::parse(&status)
                .ok_or_else(|| corrupt("dispatch.status")(format!("unknown status `{status}`")))?;
            row.budget = budget.and_then(|b| serde_json::from_str(&b).ok());
            Ok(row)
        })
        .collect()
}

/// Upsert a dispatch row, changing an existing row only while it is
/// pending. Returns whether a row was written.
#[allow(
    clippy::too_many_arguments,
    reason = "one row's columns, named at the call sites"
)]
fn upsert_row(
    c: &Connection,
    f: &EventFinish,
    shop: &str,
    o: &PluginOutcome,
    status: DispatchStatus,
    count_attempt: bool,
    next_attempt_at: Option<i64>,
    failure: Option<&FailureRecord>,
    actions: u32,
    budget: Option<&str>,
) -> Result<bool> {
    let changed = c
        .prepare_cached(
            "INSERT INTO dispatch (event_id, plugin_id, plugin_version, shop, status, attempts, next_attempt_at,
                failure_kind, failure_message, actions, budget, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (event_id, plugin_id) DO UPDATE SET
                status = excluded.status,
                attempts = dispatch.attempts + ?6,
                next_attempt_at = excluded.next_attempt_at,
                failure_kind = coalesce(excluded.failure_kind, dispatch.failure_kind),
                failure_message = coalesce(excluded.failure_message, dispatch.failure_message),
                actions = excluded.actions,
                budget = coalesce(excluded.budget, dispatch.budget),
                updated_at = excluded.updated_at
             WHERE dispatch.status = 'pending'",
        )
        .and_then(|mut s| {
            s.execute(params![
                f.event_id,
                o.plugin_id,
                o.plugin_version,
                shop,
                status.as_str(),
                i64::from(count_attempt),
                next_attempt_at,
                failure.map(|x| x.kind.as_str()),
                failure.map(|x| x.message.as_str()),
                actions,
                budget,
                ms(f.now),
            ])
        })
        .map_err(db("finish-event"))?;
    Ok(changed == 1)
}

/// Run `f` in a named savepoint; roll it back if `f` fails or asks to.
fn savepoint<T>(c: &Connection, f: impl FnOnce() -> Result<(T, bool)>) -> Result<T> {
    c.execute_batch("SAVEPOINT plugin")
        .map_err(db("finish-event"))?;
    match f() {
        Ok((v, keep)) => {
            let end = if keep {
                "RELEASE plugin"
            } else {
                "ROLLBACK TO plugin; RELEASE plugin"
            };
            c.execute_batch(end).map_err(db("finish-event"))?;
            Ok(v)
        }
        Err(e) => {
            let _ = c.execute_batch("ROLLBACK TO plugin; RELEASE plugin");
            Err(e)
        }
    }
}

pub(super) fn finish(c: &Connection, f: &EventFinish) -> Result<FinishReport> {
    let op = "finish-event";
    type Head = (String, Option<String>, EventResources, Option<i64>);
    let head: Option<Head> = c
        .prepare_cached(
            "SELECT shop, claimed_by, resources, order_id, customer_id, redacted_at, triggered_at
             FROM inbox WHERE event_id = ?1",
        )
        .and_then(|mut s| {
            s.query_row([&f.event_id], |r| {
                let resources = EventResources {
                    json: r.get(2)?,
                    order_id: r.get(3)?,
                    customer_id: r.get(4)?,
                    triggered_at: r.get(6)?,
                };
                Ok((r.get(0)?, r.get(1)?, resources, r.get(5)?))
            })
            .optional()
        })
        .map_err(db(op))?;
    let Some((shop, claimed_by, resources, redacted_at)) = head else {
        return Err(StoreError::NotFound {
            what: "event",
            key: f.event_id.clone(),
        });
    };
    let owned = claimed_by.as_deref() == Some(f.worker.as_str());
    let now = ms(f.now);

    // Redacted since the plugins read it: what they returned (actions,
    // key-value data, error messages) may carry the erased data. Nothing of
    // it is kept; they run again, at once, on the redacted payload.
    let redacted_since = redacted_at != f.read_redacted_at.map(ms);
    let rerun = PluginResult::Deferred { at: f.now };

    let mut plugins = Vec::with_capacity(f.outcomes.len());
    for o in &f.outcomes {
        let outcome = match &o.result {
            PluginResult::Succeeded(_) | PluginResult::Retry { .. } | PluginResult::Dead { .. }
                if redacted_since =>
            {
                &rerun
            }
            other => other,
        };
        let result = match outcome {
            PluginResult::Succeeded(run) => succeed(c, f, &shop, &resources, o, run)?,
            PluginResult::Retry { failure, at } => {
                if upsert_row(
                    c,
                    f,
                    &shop,
                    o,
                    DispatchStatus::Pending,
                    true,
                    Some(ms(*at)),
                    Some(failure),
                    0,
                    None,
                )? {
                    PluginFinish::Retrying
                } else {
                    PluginFinish::AlreadySettled
                }
            }
            PluginResult::Waiting { failure, at } => {
                if upsert_row(
                    c,
                    f,
                    &shop,
                    o,
                    DispatchStatus::Pending,
                    false,
                    Some(ms(*at)),
                    Some(failure),
                    0,
                    None,
                )? {
                    PluginFinish::Waiting
                } else {
                    PluginFinish::AlreadySettled
                }
            }
            PluginResult::Deferred { at } => {
                if upsert_row(
                    c,
                    f,
                    &shop,
                    o,
                    DispatchStatus::Pending,
                    false,
                    Some(ms(*at)),
                    None,
                    0,
                    None,
                )? {
                    PluginFinish::Deferred
                } else {
                    PluginFinish::AlreadySettled
                }
            }
            PluginResult::Dead { failure } => savepoint(c, || {
                if !upsert_row(
                    c,
                    f,
                    &shop,
                    o,
                    DispatchStatus::Dead,
                    true,
                    None,
                    Some(failure),
                    0,
                    None,
                )? {
                    return Ok((PluginFinish::AlreadySettled, false));
                }
                let attempts: i64 = c
                    .query_row(
                        "SELECT attempts FROM dispatch WHERE event_id = ?1 AND plugin_id = ?2",
                        params![f.event_id, o.plugin_id],
                        |r| r.get(0),
                    )
                    .map_err(db(op))?;
                let id = super::admin::insert_dead_letter(
                    c,
                    DeadLetterKind::Dispatch,
                    &shop,
                    &f.event_id,
                    Some(&o.plugin_id),
                    None,
                    failure,
                    attempts,
                    now,
                )?;
                let quarantined = super::admin::count_failure(
                    c,
                    &shop,
                    &o.plugin_id,
                    failure,
                    f.quarantine_after,
                    now,
                )?;
                Ok((
                    PluginFinish::DeadLettered {
                        dead_letter: id,
                        quarantined,
                    },
                    true,
                ))
            })?,
            PluginResult::Held { reason } => {
                let why = FailureRecord::new("quarantined", reason.clone());
                if upsert_row(
                    c,
                    f,
                    &shop,
                    o,
                    DispatchStatus::Held,
                    false,
                    None,
                    Some(&why),
                    0,
                    None,
                )? {
                    PluginFinish::Held
                } else {
                    PluginFinish::AlreadySettled
                }
            }
            PluginResult::Skipped { reason } => {
                let why = FailureRecord::new("skipped", reason.clone());
                if upsert_row(
                    c,
                    f,
                    &shop,
                    o,
                    DispatchStatus::Skipped,
                    false,
                    None,
                    Some(&why),
                    0,
                    None,
                )? {
                    PluginFinish::Skipped
                } else {
                    PluginFinish::AlreadySettled
                }
            }
        };
        plugins.push((o.plugin_id.clone(), result));
    }

    let conflicted = plugins.iter().any(|(_, r)| *r == PluginFinish::KvConflict);
    let event = if !owned {
        EventProgress::NotOwned
    } else if conflicted {
        EventProgress::Retained
    } else {
        settle_event(c, &f.event_id, now)?
    };
    Ok(FinishReport { event, plugins })
}

/// An event's resource ids as the inbox row holds them; its journal
/// entries are written with the same values, copied as stored. With its
/// time: key-value expiry is judged in event time.
struct EventResources {
    json: String,
    order_id: Option<i64>,
    customer_id: Option<i64>,
    triggered_at: i64,
}

/// Journal a successful run: row done, key-value reads checked and writes
/// applied, actions inserted, failure streak reset; all or nothing.
fn succeed(
    c: &Connection,
    f: &EventFinish,
    shop: &str,
    resources: &EventResources,
    o: &PluginOutcome,
    run: &RunSuccess,
) -> Result<PluginFinish> {
    let op = "finish-event";
    let now = ms(f.now);
    let budget = run.budget.as_ref().map(|b| b.to_string());
    let actions = u32::try_from(run.actions.len()).unwrap_or(u32::MAX);
    let outcome = savepoint(c, || {
        if !upsert_row(
            c,
            f,
            shop,
            o,
            DispatchStatus::Done,
            false,
            None,
            None,
            actions,
            budget.as_deref(),
        )? {
            return Ok((PluginFinish::AlreadySettled, false));
        }
        // Expired as the plugin saw it: at the event's time.
        if !super::kv::reads_unchanged(
            c,
            shop,
            &o.plugin_id,
            &run.kv_reads,
            resources.triggered_at,
        )? {
            return Ok((PluginFinish::KvConflict, false));
        }
        let mut insert = c
            .prepare_cached(
                "INSERT INTO journal (idempotency_key, event_id, shop, plugin_id, idx, kind, family, action,
                    resources, order_id, customer_id, status, attempts, next_attempt_at, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'pending', 0, ?12, ?12, ?12)",
            )
            .map_err(db(op))?;
        for (i, action) in run.actions.iter().enumerate() {
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            let kind = action.kind();
            insert
                .execute(params![
                    idempotency_key(&f.event_id, &o.plugin_id, index),
                    f.event_id,
                    shop,
                    o.plugin_id,
                    index,
                    kind.name(),
                    ActionFamily::of(kind).as_str(),
                    to_json("journal.action", action)?,
                    resources.json,
                    resources.order_id,
                    resources.customer_id,
                    now,
                ])
                .map_err(db(op))?;
        }
        super::kv::apply_writes(c, shop, &o.plugin_id, &run.kv_writes, now)?;
        c.prepare_cached(
            "UPDATE installations SET consecutive_failures = 0
             WHERE shop = ?1 AND plugin_id = ?2 AND consecutive_failures <> 0",
        )
        .and_then(|mut s| s.execute(params![shop, o.plugin_id]))
        .map_err(db(op))?;
        Ok((PluginFinish::Journalled { actions }, true))
    })?;
    if outcome == PluginFinish::KvConflict {
        // Keep (or create) the row pending so the event is not settled
        // without this plugin; the dispatcher runs it again.
        let keep = PluginOutcome {
            result: PluginResult::Deferred { at: f.now },
            ..o.clone()
        };
        let why = FailureRecord::new(
            "kv-conflict",
            "a key the run read was changed by another run before commit",
        );
        upsert_row(
            c,
            f,
            shop,
            &keep,
            DispatchStatus::Pending,
            false,
            Some(now),
            Some(&why),
            0,
            None,
        )?;
    }
    Ok(outcome)
}

/// Done if every row settled, else pending until the earliest retry; the
/// claim is released either way.
fn settle_event(c: &Connection, event_id: &str, now: i64) -> Result<EventProgress> {
    let op = "finish-event";
    let next: Option<i64> = c
        .prepare_cached("SELECT min(coalesce(next_attempt_at, 0)) FROM dispatch WHERE event_id = ?1 AND status = 'pending'")
        .and_then(|mut s| s.query_row([event_id], |r| r.get(0)))
        .map_err(db(op))?;
    match next {
        Some(at) => {
            c.prepare_cached(
                // The run ended (with retries to come): the process did
                // not die of it, so it is no longer a suspect.
                "UPDATE inbox SET next_attempt_at = ?2, claimed_by = NULL, lease_until = NULL, abandoned = 0
                 WHERE event_id = ?1",
            )
            .and_then(|mut s| s.execute(params![event_id, at]))
            .map_err(db(op))?;
            Ok(EventProgress::Pending {
                next_attempt_at: ts(at),
            })
        }
        None => {
            c.prepare_cached(
                "UPDATE inbox SET status = 'done', done_at = ?2, claimed_by = NULL, lease_until = NULL
                 WHERE event_id = ?1",
            )
            .and_then(|mut s| s.execute(params![event_id, now]))
            .map_err(db(op))?;
            Ok(EventProgress::Done)
        }
    }
}

pub(super) fn release(c: &Connection, event_id: &str, worker: &str, at: Timestamp) -> Result<bool> {
    let n = c
        .prepare_cached(
            "UPDATE inbox SET claimed_by = NULL, lease_until = NULL, next_attempt_at = ?3
             WHERE event_id = ?1 AND claimed_by = ?2 AND status = 'pending'",
        )
        .and_then(|mut s| s.execute(params![event_id, worker, ms(at)]))
        .map_err(db("release-event"))?;
    Ok(n == 1)
}

/// [`release`], and this claim uncounted (the event waited, it did not fail).
pub(super) fn defer(c: &Connection, event_id: &str, worker: &str, at: Timestamp) -> Result<bool> {
    let n = c
        .prepare_cached(
            "UPDATE inbox SET claimed_by = NULL, lease_until = NULL, next_attempt_at = ?3,
                claims = max(claims - 1, 0)
             WHERE event_id = ?1 AND claimed_by = ?2 AND status = 'pending'",
        )
        .and_then(|mut s| s.execute(params![event_id, worker, ms(at)]))
        .map_err(db("defer-event"))?;
    Ok(n == 1)
}

pub(super) fn renew(c: &Connection, worker: &str, until: Timestamp, now: Timestamp) -> Result<u64> {
    // Pending rows only (a partial index); a lease that expired may have
    // been claimed by another worker already, and `claimed_by` says so.
    let n = c
        .prepare_cached(
            "UPDATE inbox SET lease_until = ?2
             WHERE status = 'pending' AND claimed_by = ?1 AND lease_until > ?3",
        )
        .and_then(|mut s| s.execute(params![worker, ms(until), ms(now)]))
        .map_err(db("renew-claims"))?;
    Ok(u64::try_from(n).unwrap_or(u64::MAX))
}

pub(super) fn complete_host(
    c: &Connection,
    event_id: &str,
    worker: &str,
    now: Timestamp,
) -> Result<bool> {
    let n = c
        .prepare_cached(
            "UPDATE inbox SET status = 'done', done_at = ?3, claimed_by = NULL, lease_until = NULL
             WHERE event_id = ?1 AND claimed_by = ?2 AND status = 'pending'",
        )
        .and_then(|mut s| s.execute(params![event_id, worker, ms(now)]))
        .map_err(db("complete-host-event"))?;
    Ok(n == 1)
}

pub(super) fn fail_host(
    c: &Connection,
    event_id: &str,
    worker: &str,
    failure: &FailureRecord,
    now: Timestamp,
) -> Result<Option<i64>> {
    let op = "fail-host-event";
    let row: Option<(String, i64)> = c
        .query_row(
            "SELECT shop, claims FROM inbox WHERE event_id = ?1 AND claimed_by = ?2 AND status = 'pending'",
            params![event_id, worker],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db(op))?;
    let Some((shop, claims)) = row else {
        return Ok(None);
    };
    let id = super::admin::insert_dead_letter(
        c,
        DeadLetterKind::Event,
        &shop,
        event_id,
        None,
        None,
        failure,
        claims,
        ms(now),
    )?;
    complete_host(c, event_id, worker, now)?;
    Ok(Some(id))
}

pub(super) fn get(c: &Connection, event_id: &str) -> Result<Option<StoredEvent>> {
    let sql = format!("SELECT {EVENT_COLS} FROM inbox WHERE event_id = ?1");
    let raw = c
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row([event_id], raw_event).optional())
        .map_err(db("get-event"))?;
    raw.map(RawEvent::into_event).transpose()
}

pub(super) fn stats(c: &Connection, now: Timestamp) -> Result<InboxStats> {
    let now = ms(now);
    let op = "stats";
    // Both answered from the partial index alone (no table rows read), so
    // a scrape stays cheap with a large backlog.
    let (pending, ready): (i64, i64) = c
        .prepare_cached(
            "SELECT count(*), coalesce(sum(next_attempt_at <= ?1), 0) FROM inbox INDEXED BY inbox_pending
             WHERE status = 'pending'",
        )
        .and_then(|mut s| s.query_row([now], |r| Ok((r.get(0)?, r.get(1)?))))
        .map_err(db(op))?;
    let journal_pending: i64 = c
        .prepare_cached("SELECT count(*) FROM journal WHERE status IN ('pending', 'in-flight')")
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .map_err(db(op))?;
    let dead_letters_open: i64 = c
        .prepare_cached("SELECT count(*) FROM dead_letters WHERE state = 'open'")
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .map_err(db(op))?;
    let quarantined: i64 = c
        .prepare_cached("SELECT count(*) FROM installations WHERE quarantined_at IS NOT NULL")
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .map_err(db(op))?;
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(InboxStats {
        pending: n(pending),
        ready: n(ready),
        journal_pending: n(journal_pending),
        dead_letters_open: n(dead_letters_open),
        quarantined: n(quarantined),
    })
}

#[async_trait]
impl InboxStore for SqliteStorage {
    async fn insert_event(&self, event: NewEvent) -> Result<Inserted> {
        if event.topic == APP_UNINSTALLED {
            // Two statements (the event, the store's uninstall): a savepoint.
            return self
                .write("insert-event", move |c| super::inbox::insert(c, &event))
                .await;
        }
        self.write_one("insert-event", move |c| super::inbox::insert(c, &event))
            .await
    }

    async fn claim_events(&self, claim: Claim) -> Result<Vec<ClaimedEvent>> {
        // A savepoint: a claim that also sets an unreadable row aside
        // writes more than one statement, and must not half-commit.
        self.write("claim-events", move |c| super::inbox::claim(c, &claim))
            .await
    }

    async fn finish_event(&self, finish: EventFinish) -> Result<FinishReport> {
        self.write("finish-event", move |c| super::inbox::finish(c, &finish))
            .await
    }

    async fn release_event(&self, event_id: &str, worker: &str, at: Timestamp) -> Result<bool> {
        let (e, w) = (event_id.to_owned(), worker.to_owned());
        self.write("release-event", move |c| {
            super::inbox::release(c, &e, &w, at)
        })
        .await
    }

    async fn start_suspect(&self, event_id: &str, worker: &str) -> Result<bool> {
        let (e, w) = (event_id.to_owned(), worker.to_owned());
        self.write("start-suspect", move |c| {
            c.prepare_cached(
                "UPDATE inbox SET started_by = ?2
                 WHERE event_id = ?1 AND claimed_by = ?2 AND status = 'pending'",
            )
            .and_then(|mut s| s.execute(params![e, w]))
            .map(|n| n == 1)
            .map_err(db("start-suspect"))
        })
        .await
    }

    async fn defer_event(&self, event_id: &str, worker: &str, at: Timestamp) -> Result<bool> {
        let (e, w) = (event_id.to_owned(), worker.to_owned());
        self.write("defer-event", move |c| super::inbox::defer(c, &e, &w, at))
            .await
    }

    async fn renew_claims(&self, worker: &str, until: Timestamp, now: Timestamp) -> Result<u64> {
        let w = worker.to_owned();
        self.write_one("renew-claims", move |c| {
            super::inbox::renew(c, &w, until, now)
        })
        .await
    }

    async fn complete_host_event(
        &self,
        event_id: &str,
        worker: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let (e, w) = (event_id.to_owned(), worker.to_owned());
        self.write("complete-host-event", move |c| {
            super::inbox::complete_host(c, &e, &w, now)
        })
        .await
    }

    async fn fail_host_event(
        &self,
        event_id: &str,
        worker: &str,
        failure: FailureRecord,
        now: Timestamp,
    ) -> Result<Option<i64>> {
        let (e, w) = (event_id.to_owned(), worker.to_owned());
        self.write("fail-host-event", move |c| {
            super::inbox::fail_host(c, &e, &w, &failure, now)
        })
        .await
    }

    async fn event(&self, event_id: &str) -> Result<Option<StoredEvent>> {
        let e = event_id.to_owned();
        self.read(move |c| super::inbox::get(c, &e)).await
    }

    async fn dispatch_rows(&self, event_id: &str) -> Result<Vec<DispatchRow>> {
        let e = event_id.to_owned();
        self.read(move |c| super::inbox::dispatch_rows(c, &e)).await
    }

    async fn stats(&self, now: Timestamp) -> Result<InboxStats> {
        self.read(move |c| super::inbox::stats(c, now)).await
    }
}
