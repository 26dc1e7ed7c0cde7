//! Case links: which Core Case case a (store, case key) is linked to, and
//! what the Core Case integration keeps beside them.
//!
//! The values the Core Case integration keeps (`shopcase-pipeline`'s
//! `corecase` module): what a case link knows beyond [`CaseLink`], the
//! poller's observations and high-water marks, and operations held for an
//! approval.
//!
//! # Why these shapes
//! - A case link is extended, not replaced: [`CaseRecord`] is the
//!   [`CaseLink`] plus the case definition it lives in, the resources of the
//!   event that opened it (so `corecase/case-updated` events can carry
//!   `order_id`/`customer_id`), and the poller's own view (the status it last
//!   reported, a fingerprint of what it last delivered).
//! - A held operation is decided exactly once: [`CaseLinkStore::decide_held_operation`]
//!   moves it out of `pending` and, when approved, journals the Shopify
//!   operation under the deterministic key [`release_key`] in the same
//!   transaction, so a poller that sees one completion twice (or crashes
//!   half-way) can neither lose nor repeat it.
//!
//! [`CaseLinkStore::decide_held_operation`]: crate::CaseLinkStore::decide_held_operation
//!
//! SQL: `sqlite/links.rs` (the links) and `sqlite/corecase.rs` (the
//! integration's tables).

use async_trait::async_trait;

use crate::error::Result;
use serde::Serialize;
use shopcase_contract::action::CaseStatus;
use shopcase_contract::{CaseKey, Resources, ShopifyOperation};

use crate::model::{CaseLink, JournalStatus, NewEvent, Timestamp};

/// Case links, case records and observations, poll marks and held
/// operations. Every method is one transaction.
#[async_trait]
pub trait CaseLinkStore: Send + Sync {
    // ---- case links ----------------------------------------------------------------

    /// The case linked to a key in a store.
    async fn case_link(&self, shop: &str, key: &CaseKey) -> Result<Option<CaseLink>>;

    /// Create or update a link.
    async fn put_case_link(&self, link: CaseLink) -> Result<()>;

    // ---- Core Case integration -------------------------------------------------------

    /// Create or update a case link with the integration's details (the
    /// case definition; the opening event's resources, kept from the first
    /// call) and, for a new case, set the poller's mark of its definition
    /// no later than the case (see [`CaseLinkDetails::poll_from`]); in one
    /// transaction.
    async fn record_case_link(&self, link: CaseLink, details: CaseLinkDetails) -> Result<()>;

    /// The link of a Core Case case id, with the integration's details.
    async fn case_record(&self, case_id: &str) -> Result<Option<CaseRecord>>;

    /// The link of a key in a store, with the integration's details.
    async fn case_record_by_key(&self, shop: &str, key: &CaseKey) -> Result<Option<CaseRecord>>;

    /// Apply what the poller saw of a case: the link's last-seen values and,
    /// if given, the `corecase/case-updated` event (deduplicated by its key;
    /// not inserted when the link already records this very `lastUpdatedOn`,
    /// e.g. the erasure of a privacy request recorded its own change as
    /// seen), in one transaction.
    async fn record_case_observation(&self, observation: CaseObservation) -> Result<Observed>;

    /// The poller's high-water marks, one per case definition in use.
    async fn poll_marks(&self) -> Result<Vec<PollMark>>;

    /// Move a definition's mark forward (never back) to `mark`.
    async fn advance_poll_mark(
        &self,
        definition_id: &str,
        mark: Timestamp,
        now: Timestamp,
    ) -> Result<()>;

    /// Hold a Shopify operation for an approval task. Idempotent by task and
    /// by requesting journal entry; returns what is held for the request.
    async fn hold_operation(&self, held: NewHeldOperation) -> Result<HeldOperation>;

    /// The operation held for an approval task.
    async fn held_operation(&self, task_id: &str) -> Result<Option<HeldOperation>>;

    /// The operation a `request-approval` journal entry holds, if recorded.
    async fn held_operation_for_request(&self, source_key: &str) -> Result<Option<HeldOperation>>;

    /// The operations held on a case, oldest first, with whether each was
    /// executed.
    async fn held_operations(&self, case_id: &str) -> Result<Vec<HeldOperation>>;

    /// Record an approval task's completion, exactly once: a pending
    /// operation becomes approved (and is journalled as a Shopify entry
    /// keyed [`release_key`], in the same transaction) or rejected; a
    /// decided one is left as it is.
    async fn decide_held_operation(&self, decision: HeldDecision) -> Result<DecisionOutcome>;
}

/// A case link with what the Core Case integration adds to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseRecord {
    /// The link itself (what `linked-case` returns).
    pub link: CaseLink,
    /// The Core Case case definition the case lives in (`None` for links
    /// written before the integration recorded it).
    pub definition_id: Option<String>,
    /// The resources of the event that opened the case.
    pub resources: Option<Resources>,
    /// The status the poller last reported in a `corecase/case-updated`
    /// event (`None` until it first did): the event's `previous_status`.
    pub polled_status: Option<CaseStatus>,
    /// A digest of what the poller last delivered, so a change that plugins
    /// cannot see (a comment, an attachment) produces no event.
    pub fingerprint: Option<String>,
}

/// What [`crate::CaseLinkStore::record_case_link`] writes besides the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseLinkDetails {
    /// The case definition.
    pub definition_id: String,
    /// The resources of the event that opened the case.
    pub resources: Resources,
    /// For a case the host just opened (or adopted): its `lastUpdatedOn`
    /// (Core Case's clock). The definition's poll mark is set there if it
    /// has none, or moved back there if the poller already passed it (the
    /// link was recorded late, e.g. after a crash), so the case's first
    /// state is reported. `None` for updates of a linked case.
    pub poll_from: Option<Timestamp>,
}

/// The poller's high-water mark of one case definition: the largest
/// `lastUpdatedOn` (Core Case's clock) whose page was durably processed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PollMark {
    /// The case definition.
    pub definition_id: String,
    /// The mark.
    pub mark: Timestamp,
    /// When it last moved (our clock).
    pub updated_at: Timestamp,
}

/// One case as the poller saw it, applied by
/// [`crate::CaseLinkStore::record_case_observation`] in one transaction: the
/// link's last-seen values are updated and, if there is one, the
/// `corecase/case-updated` event is put in the inbox.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseObservation {
    /// The Core Case case id.
    pub case_id: String,
    /// Its status.
    pub status: CaseStatus,
    /// Its priority.
    pub priority: shopcase_contract::action::Priority,
    /// Its escalation level.
    pub escalation_level: u8,
    /// Its `lastUpdatedOn`, verbatim.
    pub last_updated_on: String,
    /// The digest of what plugins would see.
    pub fingerprint: String,
    /// The event to deliver (`None`: nothing plugins can see changed).
    pub event: Option<NewEvent>,
    /// Now.
    pub now: Timestamp,
}

/// What [`crate::CaseLinkStore::record_case_observation`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    /// The link was updated; `event` is the id of the event put in the
    /// inbox (`None` if none was given or it was already there).
    Recorded {
        /// The new event, if one was inserted.
        event: Option<String>,
    },
    /// No link has this case id any more (e.g. the store was redacted).
    NoLink,
}

/// A held operation's decision state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeldStatus {
    /// Waiting for the approval task to be completed.
    Pending,
    /// Approved: the operation is journalled for the Shopify executor.
    Approved,
    /// Rejected: the operation is never executed.
    Rejected,
}

impl HeldStatus {
    /// The stored spelling (also the `outcome` in case-updated payloads).
    pub fn as_str(self) -> &'static str {
        match self {
            HeldStatus::Pending => "pending",
            HeldStatus::Approved => "approved",
            HeldStatus::Rejected => "rejected",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<HeldStatus> {
        Some(match s {
            "pending" => HeldStatus::Pending,
            "approved" => HeldStatus::Approved,
            "rejected" => HeldStatus::Rejected,
            _ => return None,
        })
    }
}

/// The journal key an approved operation is released under:
/// `approval:<task id>`. Deterministic, so releasing twice is impossible
/// (the journal's keys are unique) and the Shopify executor's own
/// idempotency keys follow from it.
pub fn release_key(task_id: &str) -> String {
    format!("approval:{task_id}")
}

/// A Shopify operation to hold until an approval task is completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHeldOperation {
    /// The Core Case APPROVAL task.
    pub task_id: String,
    /// The `request-approval` journal entry that asked for it: recording
    /// the same entry twice (a re-run after a crash) changes nothing.
    pub source_key: String,
    /// The store.
    pub shop: String,
    /// The plugin that asked.
    pub plugin_id: String,
    /// The event whose run asked.
    pub event_id: String,
    /// The `request-approval` action's index in that run.
    pub index: u32,
    /// The case.
    pub case_id: String,
    /// Its key.
    pub key: CaseKey,
    /// The operation.
    pub operation: ShopifyOperation,
    /// The resources of the event that asked (the operation was validated
    /// against them).
    pub resources: Resources,
    /// Now.
    pub now: Timestamp,
}

/// A held operation as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldOperation {
    /// The Core Case APPROVAL task.
    pub task_id: String,
    /// The `request-approval` journal entry.
    pub source_key: String,
    /// The store.
    pub shop: String,
    /// The plugin that asked.
    pub plugin_id: String,
    /// The event whose run asked.
    pub event_id: String,
    /// The case.
    pub case_id: String,
    /// Its key.
    pub key: CaseKey,
    /// The operation.
    pub operation: ShopifyOperation,
    /// The resources of the event that asked.
    pub resources: Resources,
    /// The decision.
    pub status: HeldStatus,
    /// Who completed the task, when Core Case said.
    pub decided_by: Option<String>,
    /// The approver's comment.
    pub comment: Option<String>,
    /// When the host recorded the decision.
    pub decided_at: Option<Timestamp>,
    /// The journal entry that carries it out (approved operations).
    pub release_key: Option<String>,
    /// That entry's state: `Done` once the Shopify executor executed it.
    pub release_status: Option<JournalStatus>,
    /// When it was held.
    pub created_at: Timestamp,
}

impl HeldOperation {
    /// Whether the host has executed the operation.
    pub fn executed(&self) -> bool {
        self.release_status == Some(JournalStatus::Done)
    }
}

/// An approval task's completion, as the poller saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldDecision {
    /// The task.
    pub task_id: String,
    /// Approved or rejected.
    pub approved: bool,
    /// Who completed it.
    pub decided_by: Option<String>,
    /// Their comment.
    pub comment: Option<String>,
    /// Now.
    pub now: Timestamp,
}

/// What [`crate::CaseLinkStore::decide_held_operation`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecisionOutcome {
    /// Approved now: the operation is journalled under `journal_key`.
    Released {
        /// The Shopify journal entry.
        journal_key: String,
    },
    /// Rejected now: recorded, never executed.
    Declined,
    /// Decided before; nothing changed.
    AlreadyDecided {
        /// The earlier decision.
        status: HeldStatus,
    },
    /// No operation is held for this task.
    Unknown,
}
