//! The built-in executor of `follow-up` actions: it schedules (or moves)
//! the plugin's timer. The timer loop ([`crate::timers`]) later delivers it
//! as a `timer/fired` event.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;
use shopcase_contract::Action;
use shopcase_contract::time::Timestamp;
use shopcase_store::{ActionFamily, JournalEntry, NewTimer, Storage, TimerScheduled};

use super::{ExecError, Executor};

/// Schedules follow-up timers.
#[derive(Debug, Clone)]
pub struct FollowUpExecutor {
    storage: Arc<dyn Storage>,
}

impl FollowUpExecutor {
    /// Over this storage.
    pub fn new(storage: Arc<dyn Storage>) -> FollowUpExecutor {
        FollowUpExecutor { storage }
    }
}

#[async_trait]
impl Executor for FollowUpExecutor {
    fn family(&self) -> ActionFamily {
        ActionFamily::FollowUp
    }

    async fn execute(&self, entry: &JournalEntry) -> Result<serde_json::Value, ExecError> {
        let Action::FollowUp(f) = &entry.action else {
            return Err(ExecError::permanent(
                "wrong-family",
                format!("{} is not a follow-up", entry.kind),
            ));
        };
        // Validated before journalling; checked again because it is stored data.
        let asked = shopcase_contract::time::parse(&f.due)
            .map_err(|m| ExecError::permanent("invalid-action", m))?;
        // Never sooner than a second from now: a `timer/fired` event is
        // triggered at its due time, so a plugin that asked again for
        // "then" (or any time already past) would otherwise fire at once,
        // in a loop.
        let now = Timestamp::now();
        let earliest = now
            .checked_add(jiff::SignedDuration::from_secs(1))
            .unwrap_or(now);
        let due = asked.max(earliest);
        let timer = NewTimer {
            shop: entry.shop.clone(),
            plugin_id: entry.plugin_id.clone(),
            name: f.name.clone(),
            resources: entry.resources.clone(),
            due,
            data: f.data.clone(),
            scheduled_by: entry.event_id.clone(),
            source_key: entry.key.clone(),
        };
        let scheduled = self
            .storage
            .schedule_timer(timer, now)
            .await
            .map_err(|e| ExecError::transient(e.code(), e.to_string(), None))?;
        // The storage may move a timer armed again right after it fired
        // later (`TIMER_REARM_MIN`); the result says when it is due.
        let (id, changed, due) = match scheduled {
            TimerScheduled::Scheduled { id, due } => (id, true, due),
            TimerScheduled::Unchanged { id } => (id, false, due),
            TimerScheduled::Refused => {
                return Err(ExecError::permanent(
                    "timer-quota",
                    format!(
                        "`{}` already has {} timers waiting in {}",
                        entry.plugin_id,
                        shopcase_store::MAX_SCHEDULED_TIMERS,
                        entry.shop
                    ),
                ));
            }
        };
        Ok(
            json!({"timer_id": id, "due": shopcase_contract::time::format(due), "scheduled": changed}),
        )
    }
}
