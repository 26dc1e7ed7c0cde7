//! The action journal: the plugins' actions, each executed once by its
//! executor family, in order per event, plugin and family.
//!
//! SQL: `sqlite/journal.rs`.

use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

use crate::error::Result;
use crate::model::*;

/// The action journal, as the executors claim and settle it. Every method is one transaction.
#[async_trait]
pub trait JournalStore: Send + Sync {
    /// Claim up to `limit` executable entries of a family, oldest first. An
    /// entry is executable when it is pending and due (or in flight with an
    /// expired lease) and no earlier entry of the same event, plugin and
    /// family is still open, so a plugin's actions on one case run in order.
    /// Taking over an entry in flight counts an abandoned claim; one
    /// abandoned [`JournalClaim::poison_after`] times is set aside (`dead`,
    /// a [`POISON`] action dead letter) instead.
    async fn claim_journal(&self, claim: JournalClaim) -> Result<Vec<JournalEntry>>;

    /// Record how a claimed entry ended. Returns `false` (and changes
    /// nothing) if the claim is no longer this worker's.
    async fn settle_journal(&self, settle: JournalSettle) -> Result<bool>;

    /// Give a claimed entry back without executing it: pending again, due
    /// at `at`, its attempts and abandoned claims unchanged. Returns
    /// `false` if the claim is no longer this worker's.
    async fn release_journal(&self, key: &str, worker: &str, at: Timestamp) -> Result<bool>;

    /// Record that `worker` is about to execute an entry it took over from
    /// an executor that died (a suspect); see
    /// [`InboxStore::start_suspect`](crate::area::InboxStore::start_suspect).
    /// Returns `false` if the claim is no longer this worker's.
    async fn start_suspect_entry(&self, key: &str, worker: &str) -> Result<bool>;

    /// The journal entries of an event, in order.
    async fn journal_for_event(&self, event_id: &str) -> Result<Vec<JournalEntry>>;

    /// One journal entry.
    async fn journal_entry(&self, key: &str) -> Result<Option<JournalEntry>>;

    /// Counts by family and state.
    async fn journal_stats(&self) -> Result<JournalStats>;
}

/// The deterministic idempotency key of an action: `<event>:<plugin>:<index>`.
pub fn idempotency_key(event_id: &str, plugin_id: &str, index: u32) -> String {
    format!("{event_id}:{plugin_id}:{index}")
}

/// A request to claim journal entries of one family.
#[derive(Debug, Clone)]
pub struct JournalClaim {
    /// The family.
    pub family: ActionFamily,
    /// Who claims.
    pub worker: String,
    /// The most entries.
    pub limit: usize,
    /// How long the claim holds.
    pub lease: Duration,
    /// Now.
    pub now: Timestamp,
    /// Abandoned claims after which an entry is set aside as a [`POISON`]
    /// dead letter instead of being handed out again (0: never).
    pub poison_after: u32,
}

/// How a claimed journal entry ended.
#[derive(Debug, Clone, PartialEq)]
pub enum JournalOutcome {
    /// Executed; mark it done with the executor's result.
    Done {
        /// The result (ids created, what was already there...).
        result: serde_json::Value,
    },
    /// Run again at `at`.
    Retry {
        /// Why.
        error: FailureRecord,
        /// When.
        at: Timestamp,
    },
    /// Not executed (the service's circuit breaker holds the store's calls
    /// back): run at `at`, with `error` recorded, its attempts and
    /// abandoned claims unchanged.
    Wait {
        /// Why it waits.
        error: FailureRecord,
        /// When.
        at: Timestamp,
    },
    /// Dead-letter it.
    Dead {
        /// Why.
        error: FailureRecord,
    },
}

/// The end of one claimed journal entry, applied only if the claim is
/// still this worker's.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalSettle {
    /// The entry.
    pub key: String,
    /// The worker that claimed it.
    pub worker: String,
    /// Now.
    pub now: Timestamp,
    /// How it ended.
    pub outcome: JournalOutcome,
}

/// Journal entry counts by family and state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JournalStats {
    /// `(family, status, count)`, for the combinations that exist.
    pub counts: Vec<(ActionFamily, JournalStatus, u64)>,
}

impl JournalStats {
    /// Entries of a family in a state.
    pub fn count(&self, family: ActionFamily, status: JournalStatus) -> u64 {
        self.counts
            .iter()
            .find(|(f, s, _)| *f == family && *s == status)
            .map_or(0, |c| c.2)
    }
}
