//! Follow-up timers and their delivery into the inbox, on PostgreSQL (see
//! `sqlite/timers.rs`; the row parsing and the dead-letter keys are
//! shared with it).

use async_trait::async_trait;
use shopcase_contract::event::{HOST_PAYLOAD_VERSION, TOPIC_TIMER_FIRED};
use tokio_postgres::Row;

use super::{PostgresStorage, Tx, pg, read_tx, write_tx};
use crate::convert::{dur_ms, ms, to_json, ts};
use crate::error::Result;
use crate::sqlite::timers::{COLS, RawTimer, into_timer, timer_key};
use crate::values::*;

/// The timer a dead-letter key names, if it names one.
pub(super) use crate::sqlite::timers::parse_key;

fn raw(r: &Row) -> RawTimer {
    (
        r.get(0),
        r.get(1),
        r.get(2),
        r.get(3),
        r.get(4),
        r.get(5),
        r.get(6),
        r.get(7),
        r.get(8),
        r.get(9),
        r.get(10),
    )
}

pub(super) async fn schedule(tx: &Tx<'_>, t: &NewTimer, now: Timestamp) -> Result<TimerScheduled> {
    let op = "schedule-timer";
    let subject = to_json("timers.subject", &t.resources)?;
    let stmt = tx
        .prepare_cached(
            "SELECT id, source_key, state, updated_at FROM timers
             WHERE shop = $1 AND plugin_id = $2 AND name = $3 AND subject = $4",
        )
        .await
        .map_err(pg(op))?;
    let existing: Option<(i64, String, String, i64)> = tx
        .query_opt(&stmt, &[&t.shop, &t.plugin_id, &t.name, &subject])
        .await
        .map_err(pg(op))?
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)));
    let now = ms(now);
    // A timer that would start waiting (new, or fired and armed again)
    // counts against the plugin's cap; moving a waiting one does not.
    let over_cap = async || -> Result<bool> {
        let stmt = tx
            .prepare_cached(
                "SELECT count(*) FROM timers WHERE shop = $1 AND plugin_id = $2 AND state = 'scheduled'",
            )
            .await
            .map_err(pg(op))?;
        let waiting: i64 = tx
            .query_one(&stmt, &[&t.shop, &t.plugin_id])
            .await
            .map_err(pg(op))?
            .get(0);
        Ok(waiting >= MAX_SCHEDULED_TIMERS)
    };
    match existing {
        Some((id, source, ..)) if source == t.source_key => Ok(TimerScheduled::Unchanged { id }),
        Some((_, _, state, _)) if state != "scheduled" && over_cap().await? => {
            Ok(TimerScheduled::Refused)
        }
        Some((id, _, state, updated_at)) => {
            // Armed again after it fired (`updated_at` is then its firing):
            // not sooner than TIMER_REARM_MIN after that.
            let due = if state == "fired" {
                ms(t.due).max(updated_at.saturating_add(dur_ms(TIMER_REARM_MIN)))
            } else {
                ms(t.due)
            };
            tx.execute(
                "UPDATE timers SET due = $2, data = $3, scheduled_by = $4, source_key = $5, state = 'scheduled',
                    generation = generation + 1, fired_event_id = NULL, updated_at = $6
                 WHERE id = $1",
                &[&id, &due, &t.data, &t.scheduled_by, &t.source_key, &now],
            )
            .await
            .map_err(pg(op))?;
            Ok(TimerScheduled::Scheduled { id, due: ts(due) })
        }
        None if over_cap().await? => Ok(TimerScheduled::Refused),
        None => {
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO timers (shop, plugin_id, name, subject, order_id, customer_id, due, data,
                        scheduled_by, source_key, state, generation, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'scheduled', 1, $11, $11) RETURNING id",
                )
                .await
                .map_err(pg(op))?;
            let id: i64 = tx
                .query_one(
                    &stmt,
                    &[
                        &t.shop,
                        &t.plugin_id,
                        &t.name,
                        &subject,
                        &t.resources.order_id.and_then(|i| i64::try_from(i).ok()),
                        &t.resources.customer_id.and_then(|i| i64::try_from(i).ok()),
                        &ms(t.due),
                        &t.data,
                        &t.scheduled_by,
                        &t.source_key,
                        &now,
                    ],
                )
                .await
                .map_err(pg(op))?
                .get(0);
            Ok(TimerScheduled::Scheduled { id, due: t.due })
        }
    }
}

/// Deliver the timers due by `due_by`, oldest due first. The due rows are
/// locked `FOR UPDATE SKIP LOCKED`: replicas firing together take
/// different timers instead of waiting on each other's.
pub(super) async fn fire_due(
    tx: &Tx<'_>,
    due_by: Timestamp,
    now: Timestamp,
    limit: usize,
) -> Result<Vec<String>> {
    let op = "fire-timers";
    let sql = format!(
        "SELECT {COLS} FROM timers WHERE state = 'scheduled' AND due <= $1 ORDER BY due LIMIT $2
         FOR UPDATE SKIP LOCKED"
    );
    let stmt = tx.prepare_cached(&sql).await.map_err(pg(op))?;
    let due: Vec<RawTimer> = tx
        .query(
            &stmt,
            &[&ms(due_by), &i64::try_from(limit).unwrap_or(i64::MAX)],
        )
        .await
        .map_err(pg(op))?
        .iter()
        .map(raw)
        .collect();
    let mark = tx
        .prepare_cached(
            "UPDATE timers SET state = 'fired', fired_event_id = $2, updated_at = $3 WHERE id = $1",
        )
        .await
        .map_err(pg(op))?;
    let mut fired = Vec::with_capacity(due.len());
    for r in due {
        let (id, shop, plugin_id, scheduled_by) = (r.0, r.1.clone(), r.2.clone(), r.7.clone());
        let t = match into_timer(r) {
            Ok(t) => t,
            Err(e) => {
                set_aside(
                    tx,
                    id,
                    &shop,
                    &plugin_id,
                    &scheduled_by,
                    &e.to_string(),
                    now,
                )
                .await?;
                continue;
            }
        };
        let event = NewEvent {
            shop: t.shop.clone(),
            topic: TOPIC_TIMER_FIRED.to_owned(),
            source: EventSource::Timer,
            dedupe_key: format!("timer:{}:{}", t.id, t.generation),
            shopify_event_id: None,
            api_version: HOST_PAYLOAD_VERSION.to_owned(),
            triggered_at: t.due,
            received_at: now,
            resources: t.resources.clone(),
            payload: t.fired_payload().to_string(),
            target_plugin: Some(t.plugin_id.clone()),
            status: EventStatus::Pending,
            body_sha256: None,
        };
        let event_id = match super::inbox::insert(tx, &event).await? {
            Inserted::New { event_id } | Inserted::Duplicate { event_id, .. } => event_id,
        };
        tx.execute(&mark, &[&t.id, &event_id, &ms(now)])
            .await
            .map_err(pg(op))?;
        fired.push(event_id);
    }
    Ok(fired)
}

/// A timer row this build cannot read (damaged, or written by hand) must
/// not stop every later timer from firing, pass after pass: it leaves the
/// `scheduled` state and becomes a dead letter an operator sees, naming the
/// event that set it. Retrying the dead letter schedules it again.
async fn set_aside(
    tx: &Tx<'_>,
    id: i64,
    shop: &str,
    plugin_id: &str,
    scheduled_by: &str,
    error: &str,
    now: Timestamp,
) -> Result<()> {
    let op = "fire-timers";
    tracing::error!(timer = id, %shop, plugin = %plugin_id, %error, "a timer row cannot be read; dead-lettered");
    tx.execute(
        "UPDATE timers SET state = 'unreadable', updated_at = $2 WHERE id = $1",
        &[&id, &ms(now)],
    )
    .await
    .map_err(pg(op))?;
    super::admin::insert_dead_letter(
        tx,
        DeadLetterKind::Event,
        shop,
        scheduled_by,
        Some(plugin_id),
        Some(&timer_key(id)),
        &FailureRecord::new("unreadable-timer", error),
        0,
        ms(now),
    )
    .await?;
    Ok(())
}

/// Put a set-aside timer back in the schedule (retrying its dead letter).
/// Returns whether it was still set aside.
pub(super) async fn reschedule_unreadable(tx: &Tx<'_>, id: i64, now: i64) -> Result<bool> {
    let n = tx
        .execute(
            "UPDATE timers SET state = 'scheduled', updated_at = $2 WHERE id = $1 AND state = 'unreadable'",
            &[&id, &now],
        )
        .await
        .map_err(pg("retry-dead-letter"))?;
    Ok(n == 1)
}

pub(super) async fn list(tx: &Tx<'_>, shop: &str) -> Result<Vec<Timer>> {
    let op = "timers";
    let sql = format!("SELECT {COLS} FROM timers WHERE shop = $1 ORDER BY due, id");
    let stmt = tx.prepare_cached(&sql).await.map_err(pg(op))?;
    let rows = tx.query(&stmt, &[&shop]).await.map_err(pg(op))?;
    rows.iter().map(|r| into_timer(raw(r))).collect()
}

#[async_trait]
impl TimerStore for PostgresStorage {
    async fn schedule_timer(&self, timer: NewTimer, now: Timestamp) -> Result<TimerScheduled> {
        write_tx!(self, "schedule-timer", |tx| schedule(tx, &timer, now).await)
    }

    async fn fire_timers_due_by(
        &self,
        due_by: Timestamp,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<String>> {
        write_tx!(self, "fire-timers", |tx| fire_due(tx, due_by, now, limit)
            .await)
    }

    async fn timers(&self, shop: &str) -> Result<Vec<Timer>> {
        read_tx!(self, "timers", |tx| list(tx, shop).await)
    }
}
