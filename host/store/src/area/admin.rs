//! Administration and audit: dead letters, stores and plugin
//! installations (with quarantine and approvals), the audit log,
//! retention, the write-health check, and the admin API's tokens and
//! searches.
//!
//! The values behind the admin API: API tokens (kept as hashes) and the
//! queries of its listings (events, journal, case links).
//!
//! Listings walk the newest rows first and stop at the limit; none of them
//! adds an index to the hot inbox or journal tables (each index there costs
//! a page write per webhook), so a filter on a rare value scans further
//! back. The limit bounds the work.
//!
//! SQL: `sqlite/admin.rs` (dead letters, stores, installations, audit),
//! `sqlite/admin_api.rs` (tokens and searches), `sqlite/retention.rs`
//! (deleting finished work).

use async_trait::async_trait;

use crate::error::Result;
use std::collections::BTreeMap;
use std::str::FromStr;

use serde::Serialize;
use shopcase_contract::SettingValue;

use crate::model::*;

/// Dead letters, stores and installations, audit, retention, health and
/// the admin API's tokens and searches. Every method is one transaction.
#[async_trait]
pub trait AdminStore: Send + Sync {
    // ---- dead letters -------------------------------------------------------------

    /// Dead letters, newest first; `open_only` for the ones waiting for an admin.
    async fn dead_letters(
        &self,
        shop: Option<&str>,
        open_only: bool,
        limit: usize,
    ) -> Result<Vec<DeadLetter>>;

    /// Put a dead letter's work back to run again (its attempts reset).
    /// Retrying a [`SHOP_REDACT_UNCONFIRMED`] letter also records the
    /// store's uninstall, confirmed by `actor`, so the request acts.
    async fn retry_dead_letter(&self, id: i64, actor: &str, now: Timestamp) -> Result<()>;

    /// Give up on a dead letter.
    async fn discard_dead_letter(&self, id: i64, actor: &str, now: Timestamp) -> Result<()>;

    // ---- stores and installations ---------------------------------------------------

    /// Record the configured stores: upsert these (configured), mark the
    /// others unconfigured.
    async fn sync_stores(&self, stores: Vec<(String, String)>, now: Timestamp) -> Result<()>;

    /// Every store known.
    async fn stores(&self) -> Result<Vec<StoreRecord>>;

    /// Installations, of one store or all.
    async fn installations(&self, shop: Option<&str>) -> Result<Vec<Installation>>;

    /// One installation.
    async fn installation(&self, shop: &str, plugin_id: &str) -> Result<Option<Installation>>;

    /// Create or replace an installation and write the audit record, in one
    /// transaction. Quarantine state and failure counts are kept. The
    /// installation's approval is written only for a new row, a changed
    /// version, or a row without one; otherwise the stored approval stands
    /// (new content of the same version is approved with
    /// [`AdminStore::approve_installation`] only).
    async fn put_installation(&self, installation: Installation, audit: NewAudit) -> Result<()>;

    /// Record a new approval for an installation, with its audit record, in
    /// one transaction: only if the installation still pins `key.version`
    /// and its recorded approval is still `before` (compared by sha256 and
    /// grants digest; `None`: none recorded). Returns whether it was
    /// recorded; `false` means the installation changed meanwhile (or does
    /// not exist), and nothing was written.
    async fn approve_installation(
        &self,
        key: InstallationKey,
        before: Option<Approval>,
        approval: Approval,
        audit: NewAudit,
    ) -> Result<bool>;

    /// Lift a quarantine: reset the failure count and put the held dispatch
    /// rows back to run. Returns whether it was quarantined.
    async fn unquarantine(&self, shop: &str, plugin_id: &str, audit: NewAudit) -> Result<bool>;

    /// Write an audit record.
    async fn record_audit(&self, audit: NewAudit) -> Result<()>;

    /// The newest audit records.
    async fn audit_log(&self, shop: Option<&str>, limit: usize) -> Result<Vec<AuditEntry>>;

    // ---- retention ------------------------------------------------------------------

    /// Delete finished work older than `prune.before`, one bounded batch;
    /// call again with [`PruneReport::resume`] until
    /// [`PruneReport::finished`]. What goes:
    /// - inbox events that are `done` or `stale`, received and finished
    ///   before the cutoff, whose work is all over: no dispatch row pending
    ///   or held (quarantine), no journal entry pending or in flight, no
    ///   open dead letter, no operation held for an approval that is
    ///   undecided or whose released entry is still open. With each event go
    ///   its dispatch rows, its journal entries and its resolved dead letters.
    /// - fired timers that fired before the cutoff.
    ///
    /// Never deleted: unfinished work, open dead letters, held operations
    /// (and the journal entries that release them), case links, key-value
    /// data, stores, installations, audit and privacy records.
    ///
    /// The deduplication of deliveries lives on inbox rows: callers keep the
    /// cutoff further back than the ingress's maximum age, so a redelivery
    /// of a deleted event is stale, never dispatched again.
    async fn prune(&self, prune: Prune) -> Result<PruneReport>;

    // ---- health -----------------------------------------------------------------------

    /// Whether a write transaction can be committed right now.
    async fn check_writable(&self) -> Result<()>;

    // ---- admin API: tokens and searches -----------------------------------------

    /// Store a new API token (its hash only) and the audit record, in one
    /// transaction. A duplicate id or hash is a conflict.
    async fn create_api_token(&self, token: NewApiToken, audit: NewAudit) -> Result<()>;

    /// Every API token (revoked ones too), oldest first; never their hashes.
    async fn api_tokens(&self) -> Result<Vec<ApiToken>>;

    /// The token whose SHA-256 is `hash` (revoked or not).
    async fn api_token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>>;

    /// Record that a token was used (at most once a minute is written).
    async fn touch_api_token(&self, id: &str, now: Timestamp) -> Result<()>;

    /// Revoke a token and write the audit record. Returns `false` if it
    /// was already revoked; `NotFound` if there is no such token.
    async fn revoke_api_token(&self, id: &str, audit: NewAudit) -> Result<bool>;

    /// Inbox events matching the query, newest first.
    async fn search_events(&self, query: EventQuery) -> Result<Vec<StoredEvent>>;

    /// Journal entries matching the query, newest first.
    async fn search_journal(&self, query: JournalQuery) -> Result<Vec<JournalEntry>>;

    /// One dead letter.
    async fn dead_letter(&self, id: i64) -> Result<Option<DeadLetter>>;

    /// Case links matching the query, most recently changed first.
    async fn search_case_links(&self, query: CaseLinkQuery) -> Result<Vec<CaseLink>>;
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

// ---- retention ---------------------------------------------------------------

/// One batch of [`crate::AdminStore::prune`]: delete finished work older than
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

/// What one [`crate::AdminStore::prune`] batch deleted, and where the next
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

// ---- admin API: tokens and searches ------------------------------------------

/// What an API token may do. Checked by the admin API on every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApiRole {
    /// Reads and changes everything, in every store.
    Operator,
    /// Reads and changes its own stores only.
    StoreAdmin,
    /// Reads only (every store, or the stores it is limited to).
    Auditor,
}

impl ApiRole {
    /// Every role.
    pub const ALL: &[ApiRole] = &[ApiRole::Operator, ApiRole::StoreAdmin, ApiRole::Auditor];

    /// The stored (and command-line) spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiRole::Operator => "operator",
            ApiRole::StoreAdmin => "store-admin",
            ApiRole::Auditor => "auditor",
        }
    }
}

impl FromStr for ApiRole {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ApiRole::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role `{s}` (roles: operator, store-admin, auditor)"))
    }
}

impl std::fmt::Display for ApiRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An API token to store. The token itself is never stored: only
/// `hash`, the lowercase hex SHA-256 of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiToken {
    /// Public id (shown in lists and audit records), unique.
    pub id: String,
    /// What it is for, e.g. `ci-deploy` or a person's name.
    pub name: String,
    /// What it may do.
    pub role: ApiRole,
    /// The stores it is limited to (empty: every store).
    pub stores: Vec<String>,
    /// SHA-256 of the token, lowercase hex, unique.
    pub hash: String,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
}

/// A stored API token: everything but its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    /// Public id.
    pub id: String,
    /// What it is for.
    pub name: String,
    /// What it may do.
    pub role: ApiRole,
    /// The stores it is limited to (empty: every store).
    pub stores: Vec<String>,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
    /// When it was last accepted (updated at most once a minute).
    pub last_used_at: Option<Timestamp>,
    /// When it was revoked; a revoked token is refused.
    pub revoked_at: Option<Timestamp>,
    /// Who revoked it.
    pub revoked_by: Option<String>,
}

/// A search of the inbox, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// Only these stores (`None`: every store).
    pub shops: Option<Vec<String>>,
    /// Only this topic.
    pub topic: Option<String>,
    /// Only events in this state.
    pub status: Option<EventStatus>,
    /// Only events about this order.
    pub order_id: Option<u64>,
    /// Only events that carried this `X-Shopify-Event-Id` (one merchant
    /// action, seen on every topic it touched).
    pub shopify_event_id: Option<String>,
    /// Received at or after.
    pub received_from: Option<Timestamp>,
    /// Received before.
    pub received_until: Option<Timestamp>,
    /// Only events older than this sequence number (the previous page's last).
    pub before_seq: Option<i64>,
    /// The most events.
    pub limit: usize,
}

/// A search of the action journal, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalQuery {
    /// Only these stores (`None`: every store).
    pub shops: Option<Vec<String>>,
    /// Only this plugin's actions.
    pub plugin_id: Option<String>,
    /// Only entries in this state.
    pub status: Option<JournalStatus>,
    /// Only this executor family.
    pub family: Option<ActionFamily>,
    /// Only actions about this order.
    pub order_id: Option<u64>,
    /// The most entries.
    pub limit: usize,
}

/// A search of case links, most recently changed first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseLinkQuery {
    /// Only these stores (`None`: every store).
    pub shops: Option<Vec<String>>,
    /// Only links whose subject is this order.
    pub order_id: Option<u64>,
    /// Only the link of this Core Case case id.
    pub case_id: Option<String>,
    /// The most links.
    pub limit: usize,
}

// Query-string spellings of the model's states, for the admin API's filters.

impl FromStr for EventStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventStatus::parse(s)
            .ok_or_else(|| format!("unknown event status `{s}` (pending, done, stale)"))
    }
}

impl FromStr for JournalStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JournalStatus::parse(s)
            .ok_or_else(|| format!("unknown journal status `{s}` (pending, in-flight, done, dead)"))
    }
}

impl FromStr for ActionFamily {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ActionFamily::parse(s)
            .ok_or_else(|| format!("unknown action family `{s}` (case, shopify, follow-up)"))
    }
}

impl FromStr for DeadLetterState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeadLetterState::parse(s)
            .ok_or_else(|| format!("unknown dead-letter state `{s}` (open, retried, discarded)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for r in ApiRole::ALL {
            assert_eq!(r.as_str().parse::<ApiRole>(), Ok(*r));
        }
        assert!(
            "admin"
                .parse::<ApiRole>()
                .unwrap_err()
                .contains("store-admin")
        );
        assert_eq!("in-flight".parse(), Ok(JournalStatus::InFlight));
        assert_eq!("follow-up".parse(), Ok(ActionFamily::FollowUp));
        assert_eq!("stale".parse(), Ok(EventStatus::Stale));
        assert_eq!("retried".parse(), Ok(DeadLetterState::Retried));
        assert!("bogus".parse::<EventStatus>().is_err());
    }
}
