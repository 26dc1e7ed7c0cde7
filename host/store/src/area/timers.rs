//! Follow-up timers: scheduled by `follow-up` actions, delivered as
//! `timer/fired` inbox events.
//!
//! SQL: `sqlite/timers.rs`.

use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use shopcase_contract::Resources;

use crate::error::Result;
use crate::model::*;

/// Follow-up timers. Every method is one transaction.
#[async_trait]
pub trait TimerStore: Send + Sync {
    /// Schedule (or move) a follow-up timer.
    async fn schedule_timer(&self, timer: NewTimer, now: Timestamp) -> Result<TimerScheduled>;

    /// Deliver due timers: each becomes a `timer/fired` inbox event for its
    /// plugin and is marked fired, in one transaction. Returns the new
    /// event ids.
    async fn fire_due_timers(&self, now: Timestamp, limit: usize) -> Result<Vec<String>> {
        self.fire_timers_due_by(now, now, limit).await
    }

    /// Deliver the timers due by `due_by`, received (and dispatchable) at
    /// `now`; each event's triggered-at is still its timer's due time. With
    /// `due_by` later than `now` this fires follow-ups early: the demo
    /// skipping ahead, or an operator who does not want to wait.
    async fn fire_timers_due_by(
        &self,
        due_by: Timestamp,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<String>>;

    /// Timers of a store.
    async fn timers(&self, shop: &str) -> Result<Vec<Timer>>;
}

/// A follow-up to schedule (from a `follow-up` action).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTimer {
    /// The store.
    pub shop: String,
    /// The plugin that asked.
    pub plugin_id: String,
    /// The follow-up's name.
    pub name: String,
    /// The resources of the event that scheduled it (the timer's subject).
    pub resources: Resources,
    /// When it is due.
    pub due: Timestamp,
    /// The plugin's JSON data.
    pub data: String,
    /// The event that scheduled it.
    pub scheduled_by: String,
    /// The journal entry that scheduled it: scheduling the same entry twice
    /// (an executor re-run after a crash) changes nothing.
    pub source_key: String,
}

/// A timer's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimerState {
    /// Waiting for its due time.
    Scheduled,
    /// Delivered as a `timer/fired` event.
    Fired,
    /// Its row could not be read when it fell due; set aside with a dead
    /// letter (`unreadable-timer`) until an operator retries it.
    Unreadable,
}

/// A stored timer. One per (store, plugin, name, subject): scheduling again
/// moves it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timer {
    /// Its id.
    pub id: i64,
    /// The store.
    pub shop: String,
    /// The plugin it goes back to.
    pub plugin_id: String,
    /// Its name.
    pub name: String,
    /// Its subject.
    pub resources: Resources,
    /// When it is due.
    pub due: Timestamp,
    /// The plugin's data (JSON text).
    pub data: String,
    /// The event that (last) scheduled it.
    pub scheduled_by: String,
    /// Its state.
    pub state: TimerState,
    /// Incremented on every (re)schedule; part of the fired event's dedupe key.
    pub generation: u32,
    /// The `timer/fired` event, once fired.
    pub fired_event_id: Option<String>,
}

impl Timer {
    /// The `timer/fired` payload (docs/events.md): name, data (parsed),
    /// scheduled_by, due and resources.
    pub fn fired_payload(&self) -> serde_json::Value {
        let data = serde_json::from_str::<serde_json::Value>(&self.data)
            .unwrap_or_else(|_| serde_json::Value::String(self.data.clone()));
        serde_json::json!({
            "name": self.name,
            "data": data,
            "scheduled_by": self.scheduled_by,
            "due": shopcase_contract::time::format(self.due),
            "resources": self.resources,
        })
    }
}

/// Timers one plugin may have waiting in one store. Each `timer/fired`
/// run may schedule more, so without a cap a plugin could multiply them
/// without end.
pub const MAX_SCHEDULED_TIMERS: i64 = 10_000;

/// The least time between a timer's firing and its next firing when it is
/// armed again (a follow-up with the same name and subject after the timer
/// fired): a later due time is kept, an earlier one is moved to this long
/// after the firing. Without it a plugin answering each `timer/fired` with
/// a follow-up for "now" fires each of its timers every second.
pub const TIMER_REARM_MIN: Duration = Duration::from_secs(60);

/// What scheduling did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerScheduled {
    /// Scheduled (new, or moved to the new due time).
    Scheduled {
        /// The timer.
        id: i64,
        /// When it is due: as asked, or later for a timer armed again
        /// within [`TIMER_REARM_MIN`] of its firing.
        due: Timestamp,
    },
    /// This journal entry had already scheduled it: nothing changed.
    Unchanged {
        /// The timer.
        id: i64,
    },
    /// A new timer, refused: the plugin already has
    /// [`MAX_SCHEDULED_TIMERS`] timers waiting in the store.
    Refused,
}
