//! The inbox and dispatch: received events, their per-(event, plugin)
//! dispatch rows, claims (leases) and how an attempt ends.
//!
//! SQL: `sqlite/inbox.rs`.

use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use shopcase_contract::Action;

use crate::error::Result;
use crate::model::*;

/// Received events and their dispatch: insert, claim, finish, release. Every method is one transaction.
#[async_trait]
pub trait InboxStore: Send + Sync {
    /// Put an event in the inbox, durably, unless it is a duplicate (same
    /// store and dedupe key; same store, topic and Shopify event id; or,
    /// for an event with a body digest, same store, topic and digest as an
    /// inbox event or, for a privacy topic, a privacy record). The answer
    /// names the rule ([`DuplicateRule`]).
    async fn insert_event(&self, event: NewEvent) -> Result<Inserted>;

    /// Claim up to `limit` pending events whose retry time has come and that
    /// no live lease holds, with their dispatch rows: round-robin across
    /// stores (each store's oldest first, then each store's next), oldest
    /// first within a store.
    ///
    /// Taking an event over from a holder whose lease expired counts an
    /// abandoned claim ([`StoredEvent::abandoned`]); an event abandoned
    /// [`Claim::poison_after`] times is not handed out but set aside as a
    /// [`POISON`] dead letter, in the same transaction.
    ///
    /// PostgreSQL: the same choice, then exactly those rows locked
    /// `FOR UPDATE SKIP LOCKED` (`postgres/inbox.rs` says how a store's
    /// order holds across replicas).
    async fn claim_events(&self, claim: Claim) -> Result<Vec<ClaimedEvent>>;

    /// Apply one attempt's results: per plugin (each in its own savepoint)
    /// journal + key-value writes + row done, or a retry, a dead letter
    /// (and quarantine), a hold or a skip; then settle the event (done, or
    /// pending until the earliest retry) and release the claim.
    async fn finish_event(&self, finish: EventFinish) -> Result<FinishReport>;

    /// Give an event back without running anything, to be claimed again at
    /// `at` (e.g. a host-handled event that failed transiently, or a worker
    /// shutting down). Only the claiming worker can.
    async fn release_event(&self, event_id: &str, worker: &str, at: Timestamp) -> Result<bool>;

    /// Record that `worker` is about to run an event it took over from a
    /// holder that died (a *suspect*), so that if this worker dies too,
    /// the claim taking it over next charges it with that death; a suspect
    /// that only waited in a claim is not charged (schema migration 10).
    /// Returns `false` (and changes nothing) if the claim is no longer this
    /// worker's.
    async fn start_suspect(&self, event_id: &str, worker: &str) -> Result<bool>;

    /// Give an event back because a service it needs is unavailable (a
    /// host-handled event waiting out an outage): like
    /// [`InboxStore::release_event`], but this claim is not counted in
    /// `claims`, so waiting uses up none of the event's attempts.
    async fn defer_event(&self, event_id: &str, worker: &str, at: Timestamp) -> Result<bool>;

    /// Extend every lease `worker` still holds (claimed, not finished, not
    /// yet expired at `now`) to `until`. A worker whose batch runs longer
    /// than its lease renews it, so that no other worker re-claims events
    /// it is still running. Returns how many leases were extended.
    async fn renew_claims(&self, worker: &str, until: Timestamp, now: Timestamp) -> Result<u64>;

    /// Mark an event handled by the host itself (privacy topics) and release it.
    async fn complete_host_event(
        &self,
        event_id: &str,
        worker: &str,
        now: Timestamp,
    ) -> Result<bool>;

    /// Dead-letter an event the host itself could not handle (a privacy
    /// request it cannot act on): record why and mark the event done.
    /// Returns the dead letter's id, or `None` if the claim is not this worker's.
    async fn fail_host_event(
        &self,
        event_id: &str,
        worker: &str,
        failure: FailureRecord,
        now: Timestamp,
    ) -> Result<Option<i64>>;

    /// An event by id.
    async fn event(&self, event_id: &str) -> Result<Option<StoredEvent>>;

    /// The dispatch rows of an event.
    async fn dispatch_rows(&self, event_id: &str) -> Result<Vec<DispatchRow>>;

    /// Counts for metrics and readiness.
    async fn stats(&self, now: Timestamp) -> Result<InboxStats>;
}

/// What [`crate::InboxStore::insert_event`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// Durably committed as a new event.
    New {
        /// Its id.
        event_id: String,
    },
    /// Already there (see [`DuplicateRule`]); nothing was written.
    Duplicate {
        /// The id of the event already stored (or, for a privacy request
        /// whose event is gone, of the event its record names).
        event_id: String,
        /// Which rule found it.
        rule: DuplicateRule,
    },
}

/// Why [`crate::InboxStore::insert_event`] found an event already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateRule {
    /// The same store and dedupe key (`X-Shopify-Webhook-Id`): a redelivery.
    Delivery,
    /// The same store, topic and Shopify event id: the same merchant action
    /// through a second subscription.
    MerchantAction,
    /// The same store, topic and body digest ([`NewEvent::body_sha256`]):
    /// the same signed body under new headers, a replay.
    Body,
}

impl DuplicateRule {
    /// A stable name, for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            DuplicateRule::Delivery => "delivery",
            DuplicateRule::MerchantAction => "merchant-action",
            DuplicateRule::Body => "body",
        }
    }
}

/// A request to claim inbox events.
#[derive(Debug, Clone)]
pub struct Claim {
    /// Who claims: unique per worker and process run.
    pub worker: String,
    /// The most events to claim.
    pub limit: usize,
    /// How long the claim holds; an expired claim is claimable again (a
    /// crashed worker's events are re-claimed).
    pub lease: Duration,
    /// The time to claim at.
    pub now: Timestamp,
    /// Abandoned claims after which an event is set aside as a [`POISON`]
    /// dead letter instead of being handed out again (0: never).
    pub poison_after: u32,
}

/// A claimed event with the dispatch state of its earlier attempts.
#[derive(Debug, Clone)]
pub struct ClaimedEvent {
    /// The event.
    pub event: StoredEvent,
    /// One row per plugin it was planned for; empty on the first attempt.
    pub dispatch: Vec<DispatchRow>,
}

/// The state of one plugin's run on one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DispatchStatus {
    /// To run (again) at `next_attempt_at`.
    Pending,
    /// Ran; its actions are journalled.
    Done,
    /// Failed for good; a dead letter says why.
    Dead,
    /// The plugin is quarantined for this store; runs when it is released.
    Held,
    /// The plugin was disabled before it ran.
    Skipped,
}

impl DispatchStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DispatchStatus::Pending => "pending",
            DispatchStatus::Done => "done",
            DispatchStatus::Dead => "dead",
            DispatchStatus::Held => "held",
            DispatchStatus::Skipped => "skipped",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<DispatchStatus> {
        Some(match s {
            "pending" => DispatchStatus::Pending,
            "done" => DispatchStatus::Done,
            "dead" => DispatchStatus::Dead,
            "held" => DispatchStatus::Held,
            "skipped" => DispatchStatus::Skipped,
            _ => return None,
        })
    }
}

/// One (event, plugin) dispatch row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DispatchRow {
    /// The event.
    pub event_id: String,
    /// The plugin.
    pub plugin_id: String,
    /// The version that was planned (the installation's at the time).
    pub plugin_version: String,
    /// The store.
    pub shop: String,
    /// Its state.
    pub status: DispatchStatus,
    /// Failed attempts so far.
    pub attempts: u32,
    /// When to run it again (pending rows).
    pub next_attempt_at: Option<Timestamp>,
    /// The last failure, if any.
    pub last_failure: Option<FailureRecord>,
    /// Actions journalled (done rows).
    pub actions: u32,
    /// The budget report of the successful run (JSON), if any.
    pub budget: Option<serde_json::Value>,
    /// Last change.
    pub updated_at: Timestamp,
}

/// A key the invocation read, with the version it saw (`None`: absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvRead {
    /// The key.
    pub key: String,
    /// The version seen.
    pub version: Option<u64>,
}

/// A key-value write to commit with the journal entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvWrite {
    /// The key.
    pub key: String,
    /// `None` deletes it.
    pub value: Option<String>,
    /// When it expires.
    pub expires_at: Option<Timestamp>,
}

/// A successful run, to journal.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSuccess {
    /// The validated actions, in the order the plugin returned them.
    pub actions: Vec<Action>,
    /// Keys read (checked for changes before the writes are applied).
    pub kv_reads: Vec<KvRead>,
    /// Keys written.
    pub kv_writes: Vec<KvWrite>,
    /// The budget report, kept for the admin.
    pub budget: Option<serde_json::Value>,
}

/// What happened to one plugin on one event in this attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum PluginResult {
    /// Journal the actions and apply the key-value writes, in the same
    /// transaction that marks the row done.
    Succeeded(RunSuccess),
    /// A retryable failure: run again at `at`.
    Retry {
        /// Why.
        failure: FailureRecord,
        /// When.
        at: Timestamp,
    },
    /// A final failure: dead-letter it (and count it towards quarantine,
    /// unless it [is the host's condition](FailureRecord::is_host_condition)).
    Dead {
        /// Why.
        failure: FailureRecord,
    },
    /// A service the run needed was unavailable: run again at `at`,
    /// recording why, without counting an attempt (an outage is the host's
    /// condition to wait out, not the plugin's failure).
    Waiting {
        /// Why (kind [`FailureRecord::SERVICE_UNAVAILABLE`]).
        failure: FailureRecord,
        /// When to try again.
        at: Timestamp,
    },
    /// Not run now and not counted as an attempt (e.g. a key-value conflict
    /// was retried too often in a row, or the host is shutting down).
    Deferred {
        /// When to try again.
        at: Timestamp,
    },
    /// The plugin is quarantined for the store: park the row.
    Held {
        /// Why (the quarantine reason).
        reason: String,
    },
    /// The plugin is no longer enabled: never run it for this event.
    Skipped {
        /// Why.
        reason: String,
    },
}

/// One plugin's result in an [`EventFinish`].
#[derive(Debug, Clone, PartialEq)]
pub struct PluginOutcome {
    /// The plugin.
    pub plugin_id: String,
    /// Its version (as planned).
    pub plugin_version: String,
    /// What happened.
    pub result: PluginResult,
}

/// The results of one attempt at an event, applied in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct EventFinish {
    /// The event.
    pub event_id: String,
    /// The worker that claimed it.
    pub worker: String,
    /// Now.
    pub now: Timestamp,
    /// Dead-lettered failures in a row after which a plugin is quarantined
    /// for the store (0: never).
    pub quarantine_after: u32,
    /// The plugins' results. On the first attempt this is the plan: every
    /// plugin the event goes to gets a row.
    pub outcomes: Vec<PluginOutcome>,
    /// When the payload the plugins read had been redacted (`None`: not
    /// redacted), as claimed. If a privacy request redacted the event since,
    /// the results come from data that must no longer exist: they are not
    /// applied, and the plugins run again on the redacted payload.
    pub read_redacted_at: Option<Timestamp>,
}

/// What [`crate::InboxStore::finish_event`] did for one plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum PluginFinish {
    /// The actions are journalled and the row is done.
    Journalled {
        /// How many.
        actions: u32,
    },
    /// A key the run read changed before commit: nothing was written; run
    /// the plugin again (the row stays pending, the claim is retained).
    KvConflict,
    /// Another worker settled this row first: nothing was written.
    AlreadySettled,
    /// Will run again.
    Retrying,
    /// Dead-lettered.
    DeadLettered {
        /// The dead letter.
        dead_letter: i64,
        /// Set when this failure quarantined the plugin for the store.
        quarantined: Option<String>,
    },
    /// Parked by a quarantine.
    Held,
    /// Skipped.
    Skipped,
    /// Deferred without counting an attempt.
    Deferred,
    /// Waiting out an outage: pending, not counted as an attempt.
    Waiting,
}

/// Where the event stands after a finish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum EventProgress {
    /// Every row settled: the event is done and its claim released.
    Done,
    /// Some rows will run again; the claim is released until then.
    Pending {
        /// The earliest retry.
        next_attempt_at: Timestamp,
    },
    /// Some plugins hit a key-value conflict and must run again now: the
    /// claim is kept so this worker can re-run them and finish again.
    Retained,
    /// Another worker holds the event now (this worker's lease expired and
    /// it was re-claimed); its results were still applied row by row.
    NotOwned,
}

/// What [`crate::InboxStore::finish_event`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FinishReport {
    /// The event's state afterwards.
    pub event: EventProgress,
    /// Per plugin, in the order given.
    pub plugins: Vec<(String, PluginFinish)>,
}

impl FinishReport {
    /// The plugins whose run hit a key-value conflict (to run again).
    pub fn conflicts(&self) -> impl Iterator<Item = &str> {
        self.plugins
            .iter()
            .filter(|(_, f)| matches!(f, PluginFinish::KvConflict))
            .map(|(p, _)| p.as_str())
    }
}

/// Counts of inbox events by state, for metrics and readiness.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct InboxStats {
    /// Waiting for dispatch (including retries).
    pub pending: u64,
    /// Of those, the ones whose (retry) time has come, claimed or not.
    pub ready: u64,
    /// Pending journal entries (all families).
    pub journal_pending: u64,
    /// Open dead letters.
    pub dead_letters_open: u64,
    /// Quarantined installations.
    pub quarantined: u64,
}
