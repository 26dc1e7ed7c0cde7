//! Follow-up timers and their delivery into the inbox.

use rusqlite::{Connection, OptionalExtension, Row, params};
use shopcase_contract::Resources;
use shopcase_contract::event::{HOST_PAYLOAD_VERSION, TOPIC_TIMER_FIRED};

use async_trait::async_trait;

use super::SqliteStorage;
use super::{corrupt, db, dur_ms, ms, to_json, ts};
use crate::error::Result;
use crate::values::*;

pub(crate) const COLS: &str = "id, shop, plugin_id, name, subject, due, data, scheduled_by, state, generation, fired_event_id";

pub(crate) type RawTimer = (
    i64,
    String,
    String,
    String,
    String,
    i64,
    String,
    String,
    String,
    i64,
    Option<String>,
);

fn raw(r: &Row<'_>) -> rusqlite::Result<RawTimer> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
    ))
}

pub(crate) fn into_timer(r: RawTimer) -> Result<Timer> {
    let (
        id,
        shop,
        plugin_id,
        name,
        subject,
        due,
        data,
        scheduled_by,
        state,
        generation,
        fired_event_id,
    ) = r;
    let resources: Resources =
        serde_json::from_str(&subject).map_err(|e| corrupt("timers.subject")(e.to_string()))?;
    let state = match state.as_str() {
        "scheduled" => TimerState::Scheduled,
        "fired" => TimerState::Fired,
        "unreadable" => TimerState::Unreadable,
        other => return Err(corrupt("timers.state")(other.to_owned())),
    };
    Ok(Timer {
        id,
        shop,
        plugin_id,
        name,
        resources,
        due: ts(due),
        data,
        scheduled_by,
        state,
        generation: u32::try_from(generation).unwrap_or(u32::MAX),
        fired_event_id,
    })
}

pub(super) fn schedule(c: &Connection, t: &NewTimer, now: Timestamp) -> Result<TimerScheduled> {
    let op = "schedule-timer";
    let subject = to_json("timers.subject", &t.resources)?;
    let existing: Option<(i64, String, String, i64)> = c
        .prepare_cached(
            "SELECT id, source_key, state, updated_at FROM timers
             WHERE shop = ?1 AND plugin_id = ?2 AND name = ?3 AND subject = ?4",
        )
        .and_then(|mut s| {
            s.query_row(params![t.shop, t.plugin_id, t.name, subject], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()
        })
        .map_err(db(op))?;
    let now = ms(now);
    // A timer that would start waiting (new, or fired and armed again)
    // counts against the plugin's cap; moving a waiting one does not.
    let over_cap = || -> Result<bool> {
        let waiting: i64 = c
            .prepare_cached(
                "SELECT count(*) FROM timers WHERE shop = ?1 AND plugin_id = ?2 AND state = 'scheduled'",
            )
            .and_then(|mut s| s.query_row(params![t.shop, t.plugin_id], |r| r.get(0)))
            .map_err(db(op))?;
        Ok(waiting >= MAX_SCHEDULED_TIMERS)
    };
    match existing {
        Some((id, source, ..)) if source == t.source_key => Ok(TimerScheduled::Unchanged { id }),
        Some((_, _, state, _)) if state != "scheduled" && over_cap()? => {
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
            c.execute(
                "UPDATE timers SET due = ?2, data = ?3, scheduled_by = ?4, source_key = ?5, state = 'scheduled',
                    generation = generation + 1, fired_event_id = NULL, updated_at = ?6
                 WHERE id = ?1",
                params![id, due, t.data, t.scheduled_by, t.source_key, now],
            )
            .map_err(db(op))?;
            Ok(TimerScheduled::Scheduled { id, due: ts(due) })
        }
        None if over_cap()? => Ok(TimerScheduled::Refused),
        None => {
            let id: i64 = c
                .query_row(
                    "INSERT INTO timers (shop, plugin_id, name, subject, order_id, customer_id, due, data,
                        scheduled_by, source_key, state, generation, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'scheduled', 1, ?11, ?11) RETURNING id",
                    params![
                        t.shop,
                        t.plugin_id,
                        t.name,
                        subject,
                        t.resources.order_id.and_then(|i| i64::try_from(i).ok()),
                        t.resources.customer_id.and_then(|i| i64::try_from(i).ok()),
                        ms(t.due),
                        t.data,
                        t.scheduled_by,
                        t.source_key,
                        now
                    ],
                    |r| r.get(0),
                )
                .map_err(db(op))?;
            Ok(TimerScheduled::Scheduled { id, due: t.due })
        }
    }
}

pub(super) fn fire_due(
    c: &Connection,
    due_by: Timestamp,
    now: Timestamp,
    limit: usize,
) -> Result<Vec<String>> {
    let op = "fire-timers";
    let sql = format!(
        "SELECT {COLS} FROM timers WHERE state = 'scheduled' AND due <= ?1 ORDER BY due LIMIT ?2"
    );
    let due = c
        .prepare_cached(&sql)
        .and_then(|mut s| {
            s.query_map(
                params![ms(due_by), i64::try_from(limit).unwrap_or(i64::MAX)],
                raw,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(db(op))?;
    let mut fired = Vec::with_capacity(due.len());
    for r in due {
        let (id, shop, plugin_id, scheduled_by) = (r.0, r.1.clone(), r.2.clone(), r.7.clone());
        let t = match into_timer(r) {
            Ok(t) => t,
            Err(e) => {
                set_aside(c, id, &shop, &plugin_id, &scheduled_by, &e.to_string(), now)?;
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
        let event_id = match super::inbox::insert(c, &event)? {
            Inserted::New { event_id } | Inserted::Duplicate { event_id, .. } => event_id,
        };
        c.execute(
            "UPDATE timers SET state = 'fired', fired_event_id = ?2, updated_at = ?3 WHERE id = ?1",
            params![t.id, event_id, ms(now)],
        )
        .map_err(db(op))?;
        fired.push(event_id);
    }
    Ok(fired)
}

/// A timer row this build cannot read (damaged, or written by hand) must
/// not stop every later timer from firing, pass after pass: it leaves the
/// `scheduled` state and becomes a dead letter an operator sees, naming the
/// event that set it. Retrying the dead letter schedules it again.
fn set_aside(
    c: &Connection,
    id: i64,
    shop: &str,
    plugin_id: &str,
    scheduled_by: &str,
    error: &str,
    now: Timestamp,
) -> Result<()> {
    let op = "fire-timers";
    tracing::error!(timer = id, %shop, plugin = %plugin_id, %error, "a timer row cannot be read; dead-lettered");
    c.execute(
        "UPDATE timers SET state = 'unreadable', updated_at = ?2 WHERE id = ?1",
        params![id, ms(now)],
    )
    .map_err(db(op))?;
    super::admin::insert_dead_letter(
        c,
        DeadLetterKind::Event,
        shop,
        scheduled_by,
        Some(plugin_id),
        Some(&timer_key(id)),
        &FailureRecord::new("unreadable-timer", error),
        0,
        ms(now),
    )?;
    Ok(())
}

/// The dead-letter key of timer `id`.
pub(crate) fn timer_key(id: i64) -> String {
    format!("timer:{id}")
}

/// The timer a dead-letter key names, if it names one.
pub(crate) fn parse_key(key: &str) -> Option<i64> {
    key.strip_prefix("timer:")?.parse().ok()
}

/// Put a set-aside timer back in the schedule (retrying its dead letter).
/// Returns whether it was still set aside.
pub(super) fn reschedule_unreadable(c: &Connection, id: i64, now: i64) -> Result<bool> {
    let n = c
        .execute(
            "UPDATE timers SET state = 'scheduled', updated_at = ?2 WHERE id = ?1 AND state = 'unreadable'",
            params![id, now],
        )
        .map_err(db("retry-dead-letter"))?;
    Ok(n == 1)
}

pub(super) fn list(c: &Connection, shop: &str) -> Result<Vec<Timer>> {
    let sql = format!("SELECT {COLS} FROM timers WHERE shop = ?1 ORDER BY due, id");
    let rows = c
        .prepare_cached(&sql)
        .and_then(|mut s| {
            s.query_map([shop], raw)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(db("timers"))?;
    rows.into_iter().map(into_timer).collect()
}

#[async_trait]
impl TimerStore for SqliteStorage {
    async fn schedule_timer(&self, timer: NewTimer, now: Timestamp) -> Result<TimerScheduled> {
        self.write("schedule-timer", move |c| {
            super::timers::schedule(c, &timer, now)
        })
        .await
    }

    async fn fire_timers_due_by(
        &self,
        due_by: Timestamp,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<String>> {
        self.write("fire-timers", move |c| {
            super::timers::fire_due(c, due_by, now, limit)
        })
        .await
    }

    async fn timers(&self, shop: &str) -> Result<Vec<Timer>> {
        let s = shop.to_owned();
        self.read(move |c| super::timers::list(c, &s)).await
    }
}
