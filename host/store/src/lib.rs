//! Durable storage for the shopcase host, behind one interface.
//!
//! [`Storage`] is everything the event pipeline keeps: the inbox of
//! received events, per-(event, plugin) dispatch state, the action journal,
//! dead letters, stores and plugin installations (with quarantine), the
//! plugins' key-value data, case links, timers, privacy records and the
//! audit log. [`SqliteStorage`] is the embedded implementation (one file in
//! the data directory, WAL); a PostgreSQL implementation for several host
//! replicas can follow behind the same trait.
//!
//! # Guarantees the trait makes (and a second implementation must keep)
//! - [`Storage::insert_event`] returns only after the event is durably
//!   committed (the ingress answers 2xx on that).
//! - Claims are leases: an expired claim is claimable again, so a crashed
//!   worker's work is picked up. A lease is an efficiency device; exactly-once
//!   journalling rests on the dispatch row's state change
//!   (`pending → done`), made in the same transaction as the journal
//!   inserts and the key-value writes.
//! - Idempotency keys (`<event>:<plugin>:<index>`) are unique.
//!
//! # Layout
//! - [`model`]: the values that cross the interface.
//! - [`admin_model`]: the admin API's values: API tokens, search queries.
//! - [`corecase`]: the Core Case integration's values: case records, poll
//!   marks, held operations.
//! - [`error`]: the error type, [`StoreError`], and what callers do with it.
//! - [`privacy`]: pure helpers that find and scrub a customer's personal data
//!   in JSON and text.
//! - [`sqlite`]: [`SqliteStorage`]: schema migrations, the group-commit
//!   writer thread, read connections, and the SQL of each concern.

#![forbid(unsafe_code)]

use async_trait::async_trait;
use shopcase_contract::CaseKey;

pub mod admin_model;
pub mod corecase;
pub mod error;
pub mod model;
pub mod privacy;
pub mod sqlite;

pub use admin_model::*;
pub use corecase::*;
pub use error::{Result, StoreError};
pub use model::*;
pub use sqlite::{SqliteConfig, SqliteStorage, Synchronous};

/// Everything the host stores. Every method is one transaction.
#[async_trait]
pub trait Storage: Send + Sync + std::fmt::Debug + 'static {
    // ---- inbox ----------------------------------------------------------------

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
    /// PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED` in the same shape.
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

    /// Give an event back because a service it needs is unavailable (a
    /// host-handled event waiting out an outage): like
    /// [`Storage::release_event`], but this claim is not counted in
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

    // ---- journal ----------------------------------------------------------------

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

    /// The journal entries of an event, in order.
    async fn journal_for_event(&self, event_id: &str) -> Result<Vec<JournalEntry>>;

    /// One journal entry.
    async fn journal_entry(&self, key: &str) -> Result<Option<JournalEntry>>;

    /// Counts by family and state.
    async fn journal_stats(&self) -> Result<JournalStats>;

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
    /// [`Storage::approve_installation`] only).
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

    // ---- key-value --------------------------------------------------------------

    /// A key of a plugin in a store as live at `at`: the reading event's
    /// `triggered_at` (expiry is in event time; see `docs/ARCHITECTURE.md`,
    /// "Time").
    async fn kv_get(
        &self,
        shop: &str,
        plugin_id: &str,
        key: &str,
        at: Timestamp,
    ) -> Result<Option<KvValue>>;

    /// A plugin's usage in a store: the keys live at `at` (event time).
    async fn kv_stats(&self, shop: &str, plugin_id: &str, at: Timestamp) -> Result<KvStats>;

    /// Delete the keys that expired at or before `before` (housekeeping;
    /// the caller leaves a grace for late events). Returns how many.
    async fn kv_purge_expired(&self, before: Timestamp) -> Result<u64>;

    // ---- case links ----------------------------------------------------------------

    /// The case linked to a key in a store.
    async fn case_link(&self, shop: &str, key: &CaseKey) -> Result<Option<CaseLink>>;

    /// Create or update a link.
    async fn put_case_link(&self, link: CaseLink) -> Result<()>;

    // ---- timers -------------------------------------------------------------------

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

    // ---- privacy --------------------------------------------------------------------

    /// Erase a customer's personal data from a store's events, journal,
    /// key-value data, timers and records (see [`privacy`] for exactly what).
    async fn redact_customer(
        &self,
        who: CustomerIdentity,
        now: Timestamp,
    ) -> Result<RedactionReport>;

    /// What identifies a customer in stored text: the request's emails and
    /// phones plus the names, emails, phones and street lines found in the
    /// customer's own events (read only; [`Storage::redact_customer`] learns
    /// the same before it scrubs). Read it before the redaction: afterwards
    /// the events no longer hold the names.
    async fn customer_needles(&self, who: CustomerIdentity) -> Result<privacy::Needles>;

    /// The store's recorded uninstall, if any: an `app/uninstalled`
    /// delivery ([`Storage::insert_event`] records it with the event, in the
    /// same transaction) or an operator's confirmation. A shop redaction
    /// deletes it with the store's other rows.
    async fn uninstalled(&self, shop: &str) -> Result<Option<Uninstall>>;

    /// Delete everything held for a store.
    async fn redact_shop(&self, shop: &str, now: Timestamp) -> Result<ShopRedactionReport>;

    /// Everything held on a customer.
    async fn customer_data(&self, who: CustomerIdentity) -> Result<CustomerData>;

    /// Record a privacy request and what was done.
    async fn record_privacy(&self, record: PrivacyRecord) -> Result<()>;

    /// Recorded privacy requests of these stores (`None`: every store),
    /// newest first.
    async fn privacy_records(
        &self,
        shops: Option<Vec<String>>,
        limit: usize,
    ) -> Result<Vec<PrivacyRecord>>;

    // ---- health -----------------------------------------------------------------------

    /// Whether a write transaction can be committed right now.
    async fn check_writable(&self) -> Result<()>;

    // ---- admin API: tokens and searches ([`admin_model`]) --------------------------

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

    // ---- Core Case integration ([`corecase`]) ------------------------------------------

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
