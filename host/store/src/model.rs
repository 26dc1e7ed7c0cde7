//! The values that cross the storage interface.
//!
//! Times are [`Timestamp`]s (UTC); the SQLite implementation keeps them as
//! integer milliseconds so comparisons in SQL are plain integer compares
//! (PostgreSQL would use `timestamptz`).

use std::fmt;

use serde::Serialize;
use shopcase_contract::action::{CaseStatus, Priority};
use shopcase_contract::host_api::LinkedCase;
use shopcase_contract::{Action, ActionKind, CaseKey, Event, Resources};

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
    /// A signed report from a configured inbound source (`helpdesk/*`,
    /// `carrier/*`).
    Inbound,
}

impl EventSource {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EventSource::Shopify => "shopify",
            EventSource::CoreCase => "corecase",
            EventSource::Timer => "timer",
            EventSource::Inbound => "inbound",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<EventSource> {
        Some(match s {
            "shopify" => EventSource::Shopify,
            "corecase" => EventSource::CoreCase,
            "timer" => EventSource::Timer,
            "inbound" => EventSource::Inbound,
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

/// The failure kind of work set aside because its claims kept being
/// abandoned: the worker holding it died (the process aborted or ran out
/// of memory, its task panicked) and its lease expired without a finish,
/// a settlement or a release, [`Claim::poison_after`](crate::Claim::poison_after) or
/// [`JournalClaim::poison_after`](crate::JournalClaim::poison_after) times. An event letter names the plugins
/// still pending; an action letter the entry's kind, attempts and last
/// worker. Retrying the letter resets the count and hands the work out
/// again; discarding it leaves the event done (its pending runs dead) or the
/// entry dead.
pub const POISON: &str = "poison";

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

/// Shopify's topic for an app uninstalled from a store: receiving it
/// records the store's uninstall ([`Uninstall`](crate::Uninstall)).
pub const APP_UNINSTALLED: &str = "app/uninstalled";

/// The dead-letter kind of a `shop/redact` received for a store with no
/// recorded uninstall. Retrying such a dead letter is an operator's
/// confirmation that the store did uninstall the app: it records the
/// uninstall, so the request acts.
pub const SHOP_REDACT_UNCONFIRMED: &str = "shop-redact-unconfirmed";

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
