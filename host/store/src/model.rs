//! The values that cross the storage interface.
//!
//! Times are [`Timestamp`]s (UTC); the SQLite implementation keeps them as
//! integer milliseconds so comparisons in SQL are plain integer compares
//! (PostgreSQL would use `timestamptz`).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Serialize;
use shopcase_contract::action::{CaseStatus, Priority};
use shopcase_contract::host_api::LinkedCase;
use shopcase_contract::{Action, ActionKind, CaseKey, Event, Resources, SettingValue};

pub use jiff::Timestamp;

/// Where an event came from. Internal producers use their own source so
/// their dedupe keys (`corecase:<caseId>:<lastUpdatedOn>`, `timer:<id>:<n>`)
/// can never collide with Shopify's webhook ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventSource {
    /// A signed Shopify webhook.
    Shopify,
    /// The Core Case poller (`corecase/case-updated`).
    CoreCase,
    /// The timer loop (`timer/fired`).
    Timer,
}

impl EventSource {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EventSource::Shopify => "shopify",
            EventSource::CoreCase => "corecase",
            EventSource::Timer => "timer",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<EventSource> {
        Some(match s {
            "shopify" => EventSource::Shopify,
            "corecase" => EventSource::CoreCase,
            "timer" => EventSource::Timer,
            _ => return None,
        })
    }
}

/// The state an event is stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventStatus {
    /// Waiting for (or in) dispatch; claimable once `next_attempt_at` passes
    /// and no live lease holds it.
    Pending,
    /// Every plugin it was dispatched to has settled (done, dead-lettered,
    /// skipped or held by a quarantine), or the host handled it.
    Done,
    /// Acknowledged but older than the configured maximum age: kept for the
    /// record, never dispatched.
    Stale,
}

impl EventStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Pending => "pending",
            EventStatus::Done => "done",
            EventStatus::Stale => "stale",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<EventStatus> {
        Some(match s {
            "pending" => EventStatus::Pending,
            "done" => EventStatus::Done,
            "stale" => EventStatus::Stale,
            _ => return None,
        })
    }
}

/// An event to put in the inbox.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// The store (`name.myshopify.com`).
    pub shop: String,
    /// E.g. `orders/create`, `corecase/case-updated`.
    pub topic: String,
    /// Who produced it.
    pub source: EventSource,
    /// Unique per producer and store: Shopify's `X-Shopify-Webhook-Id`, or
    /// an internal producer's key. The event id is derived from it.
    pub dedupe_key: String,
    /// Shopify's `X-Shopify-Event-Id` (shared by the deliveries of one
    /// merchant action); a second delivery with the same shop, topic and
    /// event id is a duplicate.
    pub shopify_event_id: Option<String>,
    /// The payload's API version (`2026-07`, or `shopcase-1` for host topics).
    pub api_version: String,
    /// When the producer triggered it.
    pub triggered_at: Timestamp,
    /// When the host received it.
    pub received_at: Timestamp,
    /// The resource ids the host found in the payload.
    pub resources: Resources,
    /// The JSON payload exactly as received (Shopify's signed bytes).
    pub payload: String,
    /// Dispatch only to this plugin (`timer/fired` goes back to the plugin
    /// that set the timer).
    pub target_plugin: Option<String>,
    /// `Pending`, or `Stale` for a delivery older than the maximum age.
    pub status: EventStatus,
    /// SHA-256 of the raw body Shopify signed, for a webhook delivery
    /// (`None` for the host's own events). Shopify signs the body only, so
    /// a captured body posted again under fresh `X-Shopify-Webhook-Id` and
    /// `X-Shopify-Event-Id` headers is recognised by this digest: a second
    /// event with the same shop, topic and digest is a duplicate, for as
    /// long as the first is kept (and, for a privacy topic, as long as its
    /// privacy record is kept).
    pub body_sha256: Option<[u8; 32]>,
}

impl NewEvent {
    /// The host's event id: a hash of the store and the dedupe key, so the
    /// same delivery always gets the same id.
    pub fn event_id(&self) -> String {
        shopcase_contract::event::event_id(&self.shop, &self.dedupe_key)
    }
}

/// What [`crate::Storage::insert_event`] did.
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

/// Why [`crate::Storage::insert_event`] found an event already there.
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

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Insertion order; claims go oldest first.
    pub seq: i64,
    /// The envelope and payload, as plugins get them (before minimisation).
    pub event: Event,
    /// Who produced it.
    pub source: EventSource,
    /// The producer's dedupe key.
    pub dedupe_key: String,
    /// When the host received it.
    pub received_at: Timestamp,
    /// Its state.
    pub status: EventStatus,
    /// How often it was claimed.
    pub claims: u32,
    /// How many of those claims took it over from a worker whose lease
    /// expired unfinished (the worker died): past a limit it is set aside
    /// as [`POISON`].
    pub abandoned: u32,
    /// Only this plugin gets it.
    pub target_plugin: Option<String>,
    /// When personal data was scrubbed from it, if it was.
    pub redacted_at: Option<Timestamp>,
    /// SHA-256 of the body as received ([`NewEvent::body_sha256`]).
    pub body_sha256: Option<[u8; 32]>,
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

/// The failure kind of work set aside because its claims kept being
/// abandoned: the worker holding it died (the process aborted or ran out
/// of memory, its task panicked) and its lease expired without a finish,
/// a settlement or a release, [`Claim::poison_after`] or
/// [`JournalClaim::poison_after`] times. An event letter names the plugins
/// still pending; an action letter the entry's kind, attempts and last
/// worker. Retrying the letter resets the count and hands the work out
/// again; discarding it leaves the event done (its pending runs dead) or the
/// entry dead.
pub const POISON: &str = "poison";

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

/// A failure as recorded: a stable kind (a `FailureKind` name or a host
/// reason such as `plugin-unavailable`) and a message for the admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureRecord {
    /// Stable, machine-readable.
    pub kind: String,
    /// For people.
    pub message: String,
}

impl FailureRecord {
    /// The kind of a failure that was the host's condition, not the
    /// plugin's or the action's: a service the host depends on (Shopify,
    /// Core Case, the storage) could not be reached for longer than the
    /// outage window. It never counts toward a plugin's quarantine.
    pub const SERVICE_UNAVAILABLE: &'static str = "service-unavailable";

    /// The kind of a run refused because the plugin on disk cannot be
    /// used for the store: missing, packaged twice, failing its hash or its
    /// load checks, or changed since the store's admin approved it. An
    /// administration matter: it never counts toward quarantine.
    pub const PLUGIN_UNAVAILABLE: &'static str = "plugin-unavailable";

    /// Whether this failure was the host's condition
    /// ([`FailureRecord::SERVICE_UNAVAILABLE`]).
    pub fn is_host_condition(&self) -> bool {
        self.kind == Self::SERVICE_UNAVAILABLE
    }

    /// Whether a dead-lettered run with this failure counts toward the
    /// plugin's quarantine: not the host's condition, and not a plugin that
    /// could not be used ([`FailureRecord::PLUGIN_UNAVAILABLE`]) — both say
    /// nothing about how the plugin's runs behave, and a quarantine would
    /// outlast the fix (an approval, a repackaging) for no reason.
    pub fn counts_toward_quarantine(&self) -> bool {
        !self.is_host_condition() && self.kind != Self::PLUGIN_UNAVAILABLE
    }

    /// A failure of `kind`.
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> FailureRecord {
        FailureRecord {
            kind: kind.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FailureRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
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

/// What [`crate::Storage::finish_event`] did for one plugin.
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

/// What [`crate::Storage::finish_event`] did.
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

// ---- journal ---------------------------------------------------------------

/// The executor families journal entries are claimed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionFamily {
    /// Core Case actions: open/update case, comments, documents, tasks,
    /// approvals.
    Case,
    /// Shopify Admin API operations.
    Shopify,
    /// Follow-up timers.
    FollowUp,
}

impl ActionFamily {
    /// Every family.
    pub const ALL: &[ActionFamily] = &[
        ActionFamily::Case,
        ActionFamily::Shopify,
        ActionFamily::FollowUp,
    ];

    /// The family an action kind belongs to.
    pub fn of(kind: ActionKind) -> ActionFamily {
        if kind.is_case_action() {
            ActionFamily::Case
        } else if kind == ActionKind::FollowUp {
            ActionFamily::FollowUp
        } else {
            ActionFamily::Shopify
        }
    }

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionFamily::Case => "case",
            ActionFamily::Shopify => "shopify",
            ActionFamily::FollowUp => "follow-up",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<ActionFamily> {
        ActionFamily::ALL.iter().copied().find(|f| f.as_str() == s)
    }
}

impl fmt::Display for ActionFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A journal entry's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum JournalStatus {
    /// To execute at `next_attempt_at`.
    Pending,
    /// Claimed by an executor until `lease_until`.
    InFlight,
    /// Executed; `result` holds what the executor returned.
    Done,
    /// Failed for good; a dead letter says why.
    Dead,
}

impl JournalStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            JournalStatus::Pending => "pending",
            JournalStatus::InFlight => "in-flight",
            JournalStatus::Done => "done",
            JournalStatus::Dead => "dead",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<JournalStatus> {
        Some(match s {
            "pending" => JournalStatus::Pending,
            "in-flight" => JournalStatus::InFlight,
            "done" => JournalStatus::Done,
            "dead" => JournalStatus::Dead,
            _ => return None,
        })
    }
}

/// The deterministic idempotency key of an action: `<event>:<plugin>:<index>`.
pub fn idempotency_key(event_id: &str, plugin_id: &str, index: u32) -> String {
    format!("{event_id}:{plugin_id}:{index}")
}

/// A journalled action.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournalEntry {
    /// `<event id>:<plugin id>:<index>`, unique.
    pub key: String,
    /// The event that produced it.
    pub event_id: String,
    /// The store.
    pub shop: String,
    /// The plugin.
    pub plugin_id: String,
    /// Its position among the plugin's actions for the event.
    pub index: u32,
    /// Its kind.
    pub kind: ActionKind,
    /// The executor family.
    pub family: ActionFamily,
    /// The action.
    pub action: Action,
    /// The event's resource ids.
    pub resources: Resources,
    /// Its state.
    pub status: JournalStatus,
    /// Failed executions so far.
    pub attempts: u32,
    /// When it may run (pending entries).
    pub next_attempt_at: Option<Timestamp>,
    /// The last error.
    pub last_error: Option<FailureRecord>,
    /// What the executor returned (done entries).
    pub result: Option<serde_json::Value>,
    /// When it was journalled.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// Claims of it taken over, in a row, from an executor that died
    /// holding it (reset when an execution ends). More than zero: a
    /// suspect, run alone.
    pub abandoned: u32,
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

// ---- dead letters ----------------------------------------------------------

/// What failed for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeadLetterKind {
    /// A plugin's run on an event.
    Dispatch,
    /// A journalled action's execution.
    Action,
    /// An event the host itself could not handle (privacy topics), a row
    /// it could not read (`unreadable-event`), or a due timer it could not
    /// read (`unreadable-timer`, keyed `timer:<id>`).
    Event,
}

impl DeadLetterKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DeadLetterKind::Dispatch => "dispatch",
            DeadLetterKind::Action => "action",
            DeadLetterKind::Event => "event",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<DeadLetterKind> {
        Some(match s {
            "dispatch" => DeadLetterKind::Dispatch,
            "action" => DeadLetterKind::Action,
            "event" => DeadLetterKind::Event,
            _ => return None,
        })
    }
}

/// What an admin did with a dead letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeadLetterState {
    /// Waiting for an admin.
    Open,
    /// Put back to run again.
    Retried,
    /// Given up on.
    Discarded,
}

impl DeadLetterState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DeadLetterState::Open => "open",
            DeadLetterState::Retried => "retried",
            DeadLetterState::Discarded => "discarded",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<DeadLetterState> {
        Some(match s {
            "open" => DeadLetterState::Open,
            "retried" => DeadLetterState::Retried,
            "discarded" => DeadLetterState::Discarded,
            _ => return None,
        })
    }
}

/// A dead letter: what failed, why, and what was done about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadLetter {
    /// Its id.
    pub id: i64,
    /// What failed.
    pub what: DeadLetterKind,
    /// The store.
    pub shop: String,
    /// The event.
    pub event_id: String,
    /// The plugin (dispatch and action letters).
    pub plugin_id: Option<String>,
    /// The journal entry (action letters).
    pub idempotency_key: Option<String>,
    /// Why.
    pub failure: FailureRecord,
    /// Attempts made.
    pub attempts: u32,
    /// When.
    pub created_at: Timestamp,
    /// What was done about it.
    pub state: DeadLetterState,
    /// Who resolved it.
    pub resolved_by: Option<String>,
    /// When.
    pub resolved_at: Option<Timestamp>,
}

// ---- stores, installations, audit -----------------------------------------

/// A store the host knows (configured now or in the past).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreRecord {
    /// `name.myshopify.com`.
    pub domain: String,
    /// The Admin API version used for it.
    pub api_version: String,
    /// Whether the current configuration has it.
    pub configured: bool,
    /// First seen.
    pub added_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// Shopify's topic for an app uninstalled from a store: receiving it
/// records the store's uninstall ([`Uninstall`]).
pub const APP_UNINSTALLED: &str = "app/uninstalled";

/// The dead-letter kind of a `shop/redact` received for a store with no
/// recorded uninstall. Retrying such a dead letter is an operator's
/// confirmation that the store did uninstall the app: it records the
/// uninstall, so the request acts.
pub const SHOP_REDACT_UNCONFIRMED: &str = "shop-redact-unconfirmed";

/// That a store uninstalled the app: `shop/redact` acts only for a store
/// with one. Kept on the store's record until a shop redaction deletes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Uninstall {
    /// When it was received (or confirmed).
    pub at: Timestamp,
    /// `app/uninstalled <event id>`, or `operator <who>` for a confirmation.
    pub by: String,
}

/// Why and since when a plugin is quarantined for a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Quarantine {
    /// Since.
    pub since: Timestamp,
    /// Why (the failures that led to it).
    pub reason: String,
}

/// A plugin installed for a store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Installation {
    /// The store.
    pub shop: String,
    /// The plugin.
    pub plugin_id: String,
    /// The version that runs.
    pub version: String,
    /// The admin's settings (overrides of the manifest's defaults).
    pub settings: BTreeMap<String, SettingValue>,
    /// Whether it gets the store's events.
    pub enabled: bool,
    /// Who enabled it last.
    pub enabled_by: Option<String>,
    /// When.
    pub enabled_at: Option<Timestamp>,
    /// Who changed it last.
    pub updated_by: String,
    /// When.
    pub updated_at: Timestamp,
    /// Dead-lettered runs in a row.
    pub consecutive_failures: u32,
    /// Set while quarantined.
    pub quarantine: Option<Quarantine>,
    /// What the store's admin approved to run: the content and grants of
    /// the pinned version. `None` for an installation written before
    /// approvals were recorded (storage migration 7): the host records the
    /// plugin on disk for it at its next start, and refuses to run it
    /// until one is recorded.
    pub approved: Option<Approval>,
}

/// Which installation, at which version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallationKey {
    /// The store.
    pub shop: String,
    /// The plugin.
    pub plugin_id: String,
    /// The version the installation pins.
    pub version: String,
}

/// What an admin approved for an installation: the plugin's content and
/// grants as they were on disk when it was enabled, upgraded or approved.
/// The host runs the installation only while the plugin it loads has the
/// same component sha256 and grants digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Approval {
    /// The component's sha256 (lowercase hex).
    pub sha256: String,
    /// The digest of the manifest's grants and limits
    /// (`shopcase_contract::approval::grants_digest`).
    pub grants_digest: String,
    /// The grants themselves, as canonical lines, for display and for the
    /// difference with a later manifest.
    pub grants: Vec<String>,
    /// Who approved.
    pub by: String,
    /// When.
    pub at: Timestamp,
}

impl Approval {
    /// Whether `other` approves the same content and grants.
    pub fn same_content(&self, sha256: &str, grants_digest: &str) -> bool {
        self.sha256 == sha256 && self.grants_digest == grants_digest
    }
}

/// An audit record to write.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewAudit {
    /// Who.
    pub actor: String,
    /// What, e.g. `installation.enable`.
    pub action: String,
    /// The store concerned.
    pub shop: Option<String>,
    /// The plugin concerned.
    pub plugin_id: Option<String>,
    /// Details (before/after...).
    pub details: serde_json::Value,
    /// When.
    pub at: Timestamp,
}

/// An audit record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Its id (increasing).
    pub id: i64,
    /// The record.
    #[serde(flatten)]
    pub entry: NewAudit,
}

// ---- key-value -------------------------------------------------------------

/// A stored key-value entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvValue {
    /// The value.
    pub value: String,
    /// Its version: increases on every write (store-wide, never reused).
    pub version: u64,
    /// When it expires.
    pub expires_at: Option<Timestamp>,
}

/// Key-value usage of one plugin in one store (live keys only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KvStats {
    /// Keys.
    pub keys: u64,
    /// Bytes of keys and values.
    pub bytes: u64,
}

// ---- case links --------------------------------------------------------------

/// The Core Case case linked to a (store, case key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseLink {
    /// The store.
    pub shop: String,
    /// Case type and subject.
    pub key: CaseKey,
    /// Core Case's case id.
    pub case_id: String,
    /// Its number, e.g. `CASE-000042`.
    pub case_number: String,
    /// Last seen status.
    pub status: CaseStatus,
    /// Last seen priority.
    pub priority: Priority,
    /// Last seen escalation level.
    pub escalation_level: u8,
    /// When it was opened (RFC 3339).
    pub opened_at: String,
    /// The plugin that opened it.
    pub plugin_id: Option<String>,
    /// Core Case's `lastUpdatedOn` as last seen by the poller.
    pub last_updated_on: Option<String>,
    /// Last change of this row.
    pub updated_at: Timestamp,
}

impl CaseLink {
    /// What the `linked-case` host function returns.
    pub fn to_linked_case(&self) -> LinkedCase {
        LinkedCase {
            case_id: self.case_id.clone(),
            case_number: self.case_number.clone(),
            status: self.status,
            priority: self.priority,
            escalation_level: self.escalation_level,
            opened_at: self.opened_at.clone(),
        }
    }
}

// ---- timers ----------------------------------------------------------------

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

// ---- privacy -----------------------------------------------------------------

/// Who a privacy request is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CustomerIdentity {
    /// The store.
    pub shop: String,
    /// Shopify's customer id.
    pub customer_id: u64,
    /// Email addresses to look for (from the request).
    pub emails: Vec<String>,
    /// Phone numbers to look for.
    pub phones: Vec<String>,
    /// The customer's orders named by the request.
    pub orders: Vec<u64>,
}

/// What a customer redaction changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RedactionReport {
    /// Inbox payloads scrubbed.
    pub events: u64,
    /// Journal entries scrubbed.
    pub journal: u64,
    /// Key-value entries deleted.
    pub kv: u64,
    /// Timers scrubbed.
    pub timers: u64,
    /// Dead letters, dispatch rows, audit records and operations held for
    /// an approval scrubbed.
    pub records: u64,
}

/// What a shop redaction deleted, by table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ShopRedactionReport {
    /// `table → rows deleted`.
    pub deleted: BTreeMap<String, u64>,
}

/// Everything held on one customer, for a data request.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CustomerData {
    /// Inbox events about the customer or their orders (payloads parsed).
    pub events: Vec<serde_json::Value>,
    /// Journal entries for them.
    pub journal: Vec<serde_json::Value>,
    /// Key-value entries that mention them.
    pub kv: Vec<serde_json::Value>,
    /// Cases linked to them or their orders.
    pub case_links: Vec<serde_json::Value>,
    /// Timers about them.
    pub timers: Vec<serde_json::Value>,
}

/// A recorded privacy request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrivacyRecord {
    /// The store.
    pub shop: String,
    /// `customers/redact`, `shop/redact` or `customers/data_request`.
    pub topic: String,
    /// The customer, if any.
    pub customer_id: Option<u64>,
    /// The inbox event that carried it.
    pub event_id: String,
    /// The export file written (data requests).
    pub file: Option<String>,
    /// What was done (counts), as JSON.
    pub summary: serde_json::Value,
    /// When.
    pub at: Timestamp,
    /// The request's body digest ([`StoredEvent::body_sha256`]): a later
    /// delivery of the same body for the same store and topic is a
    /// duplicate for as long as this record is kept, even once the inbox
    /// event is gone (retention, or the store's own redaction).
    #[serde(skip)]
    pub body_sha256: Option<[u8; 32]>,
}

// ---- retention ---------------------------------------------------------------

/// One batch of [`crate::Storage::prune`]: delete finished work older than
/// `before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prune {
    /// The cutoff: work finished (and, for events, received) before it goes.
    pub before: Timestamp,
    /// Resume the inbox scan after this event sequence number: 0 for the
    /// first batch, then the previous batch's [`PruneReport::resume`].
    pub after: i64,
    /// The most inbox events examined, and the most fired timers deleted,
    /// in this batch: it bounds how long the batch holds the writer.
    pub limit: usize,
}

/// What one [`crate::Storage::prune`] batch deleted, and where the next
/// one goes on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    /// Inbox events.
    pub events: u64,
    /// Their dispatch rows.
    pub dispatch_rows: u64,
    /// Their journal entries.
    pub journal_entries: u64,
    /// Their resolved (retried or discarded) dead letters.
    pub dead_letters: u64,
    /// Fired timers.
    pub timers: u64,
    /// Audit records of refused admin requests (the audit log's noise;
    /// changes, quarantines and resolutions are kept).
    pub refusals: u64,
    /// Where the next batch resumes the inbox scan; `None` once the scan
    /// reached events received after the cutoff (or the end of the inbox).
    pub resume: Option<i64>,
    /// Whether the batch deleted as many fired timers (or refusals) as it
    /// could: more may be left.
    pub more_timers: bool,
}

impl PruneReport {
    /// Whether nothing is left for another batch with the same cutoff.
    pub fn finished(&self) -> bool {
        self.resume.is_none() && !self.more_timers
    }

    /// Rows deleted, all tables together.
    pub fn deleted(&self) -> u64 {
        self.events
            + self.dispatch_rows
            + self.journal_entries
            + self.dead_letters
            + self.timers
            + self.refusals
    }

    /// `(what, rows)` per table, with the names the metrics and logs use.
    pub fn counts(&self) -> [(&'static str, u64); 6] {
        [
            ("events", self.events),
            ("dispatch-rows", self.dispatch_rows),
            ("journal-entries", self.journal_entries),
            ("dead-letters", self.dead_letters),
            ("timers", self.timers),
            ("refusals", self.refusals),
        ]
    }

    /// Add another batch's counts (the resume point and `more_timers` are
    /// the other batch's).
    pub fn absorb(&mut self, other: &PruneReport) {
        self.events += other.events;
        self.dispatch_rows += other.dispatch_rows;
        self.journal_entries += other.journal_entries;
        self.dead_letters += other.dead_letters;
        self.timers += other.timers;
        self.refusals += other.refusals;
        self.resume = other.resume;
        self.more_timers = other.more_timers;
    }
}
