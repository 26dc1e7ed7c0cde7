//! The SQLite schema: each migration's SQL (listed, with PostgreSQL's, in
//! `crate::migrations::MIGRATIONS`) and applying them at open, each in
//! its own transaction, recorded in `schema_migrations`. A released
//! migration is never edited; a change is a new migration in the list.
//!
//! Times are integer milliseconds since the Unix epoch. Status columns hold
//! the kebab-case names of the model enums.
//!
//! PostgreSQL's translation of every migration is in `crate::postgres::schema`.

use rusqlite::{Connection, params};

use crate::error::{Result, StoreError};

/// `PRAGMA application_id`: marks the file as a shopcase database ("SHCP").
pub(crate) const APPLICATION_ID: i64 = 0x5348_4350;

pub(crate) const V1: &str = r#"
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
-- Store-wide key-value version counter: versions are never reused, so a
-- delete followed by a set cannot pass an optimistic-concurrency check.
INSERT INTO meta (name, value) VALUES ('kv_version', 0);

CREATE TABLE stores (
    domain      TEXT PRIMARY KEY,
    api_version TEXT NOT NULL,
    configured  INTEGER NOT NULL,
    added_at    INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE installations (
    shop                 TEXT NOT NULL,
    plugin_id            TEXT NOT NULL,
    version              TEXT NOT NULL,
    settings             TEXT NOT NULL,       -- JSON object: the admin's overrides
    enabled              INTEGER NOT NULL,
    enabled_by           TEXT,
    enabled_at           INTEGER,
    updated_by           TEXT NOT NULL,
    updated_at           INTEGER NOT NULL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    quarantined_at       INTEGER,
    quarantine_reason    TEXT,
    PRIMARY KEY (shop, plugin_id)
) WITHOUT ROWID;

CREATE TABLE inbox (
    -- Small, hot columns first: a row's later columns sit behind its
    -- payload (overflow pages), and claims read these on every scan.
    seq              INTEGER PRIMARY KEY,
    event_id         TEXT NOT NULL UNIQUE,   -- hash of (shop, dedupe_key): the dedupe
    shop             TEXT NOT NULL,
    topic            TEXT NOT NULL,
    status           TEXT NOT NULL,          -- pending | done | stale
    next_attempt_at  INTEGER NOT NULL,
    claimed_by       TEXT,
    lease_until      INTEGER,
    claims           INTEGER NOT NULL DEFAULT 0,
    source           TEXT NOT NULL,
    target_plugin    TEXT,
    dedupe_key       TEXT NOT NULL,
    shopify_event_id TEXT,
    api_version      TEXT NOT NULL,
    triggered_at     INTEGER NOT NULL,
    received_at      INTEGER NOT NULL,
    done_at          INTEGER,
    redacted_at      INTEGER,
    order_id         INTEGER,
    customer_id      INTEGER,
    resources        TEXT NOT NULL,          -- JSON
    payload          TEXT NOT NULL           -- the bytes as received
);
-- One merchant action per topic: a second subscription's delivery is a duplicate.
CREATE UNIQUE INDEX inbox_shopify_event ON inbox (shop, topic, shopify_event_id)
    WHERE shopify_event_id IS NOT NULL;
-- Claims scan pending events oldest first; the set stays small. With
-- next_attempt_at in it, counting due events needs no table access.
CREATE INDEX inbox_pending ON inbox (seq, next_attempt_at, status) WHERE status = 'pending';
-- No index by shop or customer: privacy requests scan the table (they are
-- rare), while every index keyed by a random value costs a page write per
-- webhook. The same reason keeps the journal to one random-keyed index.

CREATE TABLE dispatch (
    event_id        TEXT NOT NULL,
    plugin_id       TEXT NOT NULL,
    plugin_version  TEXT NOT NULL,
    shop            TEXT NOT NULL,
    status          TEXT NOT NULL,           -- pending | done | dead | held | skipped
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    failure_kind    TEXT,
    failure_message TEXT,
    actions         INTEGER NOT NULL DEFAULT 0,
    budget          TEXT,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (event_id, plugin_id)
) WITHOUT ROWID;
CREATE INDEX dispatch_held ON dispatch (shop, plugin_id) WHERE status = 'held';

CREATE TABLE journal (
    -- Hot columns first, JSON last (see inbox).
    seq             INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,    -- <event id>:<plugin id>:<index>
    event_id        TEXT NOT NULL,
    shop            TEXT NOT NULL,
    plugin_id       TEXT NOT NULL,
    idx             INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    family          TEXT NOT NULL,           -- case | shopify | follow-up
    status          TEXT NOT NULL,           -- pending | in-flight | done | dead
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    claimed_by      TEXT,
    lease_until     INTEGER,
    order_id        INTEGER,
    customer_id     INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    error_kind      TEXT,
    error_message   TEXT,
    resources       TEXT NOT NULL,
    action          TEXT NOT NULL,           -- JSON (shopcase_contract::Action)
    result          TEXT
);
CREATE INDEX journal_open ON journal (family, seq, status) WHERE status IN ('pending', 'in-flight');
-- An event's (and an event and plugin's) entries are found by key prefix:
-- idempotency_key >= '<event id>:' AND idempotency_key < '<event id>;'.

CREATE TABLE dead_letters (
    id              INTEGER PRIMARY KEY,
    what            TEXT NOT NULL,           -- dispatch | action | event
    shop            TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    plugin_id       TEXT,
    idempotency_key TEXT,
    kind            TEXT NOT NULL,
    reason          TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    state           TEXT NOT NULL,           -- open | retried | discarded
    resolved_by     TEXT,
    resolved_at     INTEGER
);
CREATE INDEX dead_letters_open ON dead_letters (shop, id, state) WHERE state = 'open';

CREATE TABLE kv (
    shop       TEXT NOT NULL,
    plugin_id  TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    version    INTEGER NOT NULL,
    expires_at INTEGER,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (shop, plugin_id, key)
) WITHOUT ROWID;
CREATE INDEX kv_expiry ON kv (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE case_links (
    shop             TEXT NOT NULL,
    subject_kind     TEXT NOT NULL,          -- order | return | dispute | customer
    subject_id       INTEGER NOT NULL,
    case_type        TEXT NOT NULL,
    case_id          TEXT NOT NULL,
    case_number      TEXT NOT NULL,
    status           TEXT NOT NULL,
    priority         TEXT NOT NULL,
    escalation_level INTEGER NOT NULL,
    opened_at        TEXT NOT NULL,
    plugin_id        TEXT,
    last_updated_on  TEXT,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (shop, subject_kind, subject_id, case_type)
) WITHOUT ROWID;
CREATE INDEX case_links_case ON case_links (case_id);

CREATE TABLE timers (
    -- Never reused: a fired timer's event is deduplicated by (id, generation).
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    shop           TEXT NOT NULL,
    plugin_id      TEXT NOT NULL,
    name           TEXT NOT NULL,
    subject        TEXT NOT NULL,            -- canonical JSON of the resources
    order_id       INTEGER,
    customer_id    INTEGER,
    due            INTEGER NOT NULL,
    data           TEXT NOT NULL,
    scheduled_by   TEXT NOT NULL,
    source_key     TEXT NOT NULL,
    state          TEXT NOT NULL,            -- scheduled | fired
    generation     INTEGER NOT NULL,
    fired_event_id TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (shop, plugin_id, name, subject)
);
CREATE INDEX timers_due ON timers (due) WHERE state = 'scheduled';

CREATE TABLE audit (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    shop      TEXT,
    plugin_id TEXT,
    details   TEXT NOT NULL
);
CREATE INDEX audit_shop ON audit (shop, id);

CREATE TABLE privacy_requests (
    id          INTEGER PRIMARY KEY,
    shop        TEXT NOT NULL,
    topic       TEXT NOT NULL,
    customer_id INTEGER,
    event_id    TEXT NOT NULL,
    file        TEXT,
    summary     TEXT NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX privacy_requests_shop ON privacy_requests (shop, id);
"#;

/// The admin API's tokens. Only a SHA-256 of each token is kept; `hash` is
/// unique, so authenticating is one index lookup.
pub(crate) const V2: &str = r#"
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,              -- operator | store-admin | auditor
    stores       TEXT NOT NULL,              -- JSON array; empty: every store
    hash         TEXT NOT NULL UNIQUE,       -- lowercase hex SHA-256 of the token
    created_by   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER,
    revoked_by   TEXT
) WITHOUT ROWID;
"#;

/// The Core Case integration (`crate::area::links`): what a case link adds
/// (the case definition, the opening event's resources, the poller's last
/// report), the poller's high-water marks, and operations held for an
/// approval.
pub(crate) const V3: &str = r#"
ALTER TABLE case_links ADD COLUMN definition_id TEXT;
ALTER TABLE case_links ADD COLUMN resources TEXT;         -- JSON: the opening event's resources
ALTER TABLE case_links ADD COLUMN polled_status TEXT;     -- last status reported by the poller
ALTER TABLE case_links ADD COLUMN fingerprint TEXT;       -- digest of what the poller last delivered

CREATE TABLE corecase_poll_marks (
    definition_id TEXT PRIMARY KEY,
    mark          INTEGER NOT NULL,          -- Core Case's lastUpdatedOn, ms
    updated_at    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE held_operations (
    task_id          TEXT PRIMARY KEY,       -- the Core Case APPROVAL task
    source_key       TEXT NOT NULL UNIQUE,   -- the request-approval journal entry
    shop             TEXT NOT NULL,
    plugin_id        TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    idx              INTEGER NOT NULL,
    case_id          TEXT NOT NULL,
    case_type        TEXT NOT NULL,
    subject_kind     TEXT NOT NULL,
    subject_id       INTEGER NOT NULL,
    operation        TEXT NOT NULL,          -- JSON (shopcase_contract::ShopifyOperation)
    resources        TEXT NOT NULL,          -- JSON
    status           TEXT NOT NULL,          -- pending | approved | rejected
    decided_by       TEXT,
    decision_comment TEXT,
    decided_at       INTEGER,
    release_key      TEXT,                   -- approval:<task id>, the Shopify journal entry
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX held_operations_case ON held_operations (case_id);
"#;

/// What retention (`super::retention`) looks up per event and per batch.
/// Dead letters and held operations are written rarely, and a timer's
/// index entry changes only when it fires or is moved, so none of these
/// costs the webhook path anything (the inbox gets no index: retention
/// walks it in sequence order).
pub(crate) const V4: &str = r#"
CREATE INDEX dead_letters_event ON dead_letters (event_id);
CREATE INDEX held_operations_event ON held_operations (event_id);
CREATE INDEX timers_fired ON timers (updated_at) WHERE state = 'fired';
"#;

/// Replays: Shopify signs the body only, so a captured body posted again
/// under a fresh webhook id and event id is recognised by its SHA-256 per
/// (store, topic). The digest lives on the inbox row (a unique index, for
/// as long as retention keeps the row; existing rows have none) and on a
/// privacy request's record (which outlives its event). Like
/// `inbox_shopify_event`, the index is keyed by a random value and costs a
/// page write per webhook: the price of refusing replays.
pub(crate) const V5: &str = r#"
ALTER TABLE inbox ADD COLUMN body_sha256 BLOB;
CREATE UNIQUE INDEX inbox_body ON inbox (shop, topic, body_sha256)
    WHERE body_sha256 IS NOT NULL;
ALTER TABLE privacy_requests ADD COLUMN body_sha256 BLOB;
CREATE INDEX privacy_requests_body ON privacy_requests (shop, topic, body_sha256)
    WHERE body_sha256 IS NOT NULL;
"#;

/// A store's uninstall (`app/uninstalled` received, or an operator's
/// confirmation): `shop/redact` acts only for a store that has one. The
/// store's row goes with a shop redaction, and the mark with it.
pub(crate) const V6: &str = r#"
ALTER TABLE stores ADD COLUMN uninstalled_at INTEGER;
ALTER TABLE stores ADD COLUMN uninstalled_by TEXT;
"#;

/// Approval bound to content: what an admin approved for an installation
/// (the component's sha256, the digest of the manifest's grants and limits,
/// the grants as a JSON array of canonical lines, who and when). Rows from
/// before have none (NULL); the host records the plugin on disk for them
/// at its next start, and runs nothing for an installation without one.
pub(crate) const V7: &str = r#"
ALTER TABLE installations ADD COLUMN approved_sha256 TEXT;
ALTER TABLE installations ADD COLUMN approved_grants_digest TEXT;
ALTER TABLE installations ADD COLUMN approved_grants TEXT;
ALTER TABLE installations ADD COLUMN approved_by TEXT;
ALTER TABLE installations ADD COLUMN approved_at INTEGER;
"#;

/// Poison work and fair claims.
///
/// `abandoned` counts the claims of an inbox event or a journal entry that
/// were taken over from a holder whose lease had expired (the worker died:
/// the process aborted, ran out of memory, or its task panicked), and
/// `abandoned_by` names the last such holder. Ordinary retries are not
/// counted (`claims` counts every claim). Past the configured limit the
/// work is set aside as a `poison` dead letter instead of being handed out
/// again; retrying the letter resets the count.
///
/// `inbox_pending_shop` lets a claim take events round-robin across stores:
/// the stores with pending events are found by seeking the index store by
/// store, and each store's oldest claimable events by a range of it. A
/// store's events are appended at the end of its range, so the index costs
/// a webhook a write to one of a few hot pages, not a random one.
pub(crate) const V8: &str = r#"
ALTER TABLE inbox ADD COLUMN abandoned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE inbox ADD COLUMN abandoned_by TEXT;
ALTER TABLE journal ADD COLUMN abandoned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE journal ADD COLUMN abandoned_by TEXT;
CREATE INDEX inbox_pending_shop ON inbox (shop, seq, next_attempt_at) WHERE status = 'pending';
"#;

/// Which process deaths an abandoned claim counts.
///
/// A process killed from outside (an operator, a supervisor, an
/// out-of-memory kill caused elsewhere) dies while *some* work runs, and
/// that work must not be taken for poison: only deaths in a row count.
/// `deaths` numbers each host process found dead holding work (by the
/// claim that takes its work over; the process is the worker name's
/// `<pid>-<random>` prefix). A claim that takes work over from a dead
/// holder records the holder in `taken_from` (the claim's own bookkeeping,
/// `NULL` otherwise) and counts the abandonment only if the work's last
/// counted death (`abandoned_death`) was the death just before; after any
/// other death in between, the count starts again at one. A poison event
/// kills every process that runs it, so its deaths are consecutive.
pub(crate) const V9: &str = r#"
CREATE TABLE deaths (
    instance TEXT PRIMARY KEY,
    seq      INTEGER NOT NULL UNIQUE
);
ALTER TABLE inbox ADD COLUMN taken_from TEXT;
ALTER TABLE inbox ADD COLUMN abandoned_death INTEGER;
ALTER TABLE journal ADD COLUMN taken_from TEXT;
ALTER TABLE journal ADD COLUMN abandoned_death INTEGER;
"#;

/// Which holder had *started* the work it died holding.
///
/// Work taken over from a dead holder runs alone and after the rest of its
/// claim (a *suspect*); held but not yet run, it did not kill anyone. With
/// several replicas, work taken over from one killed replica was often
/// still waiting in the next replica killed, and those two deaths came in
/// a row. The worker about to run a suspect records itself in
/// `started_by`; a claim that takes the work over charges the death only
/// if the dead holder had started it (and the deaths are in a row, as
/// before); a death the work merely waited through starts the count again
/// at one. Work claimed for the first time is not marked (that would cost
/// every event a write): its first death always counts one.
pub(crate) const V10: &str = r#"
ALTER TABLE inbox ADD COLUMN started_by TEXT;
ALTER TABLE journal ADD COLUMN started_by TEXT;
"#;

/// Apply the migrations this database lacks. Refuses files that are not
/// shopcase databases and databases written by a newer build.
pub(crate) fn migrate(conn: &mut Connection, now_ms: i64) -> Result<()> {
    let err = |e: rusqlite::Error| StoreError::Schema(e.to_string());
    let app_id: i64 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(err)?;
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .map_err(err)?;
    if app_id != APPLICATION_ID && (app_id != 0 || tables > 0) {
        return Err(StoreError::Schema(
            "this file is not a shopcase database (wrong application id); point data-dir at a shopcase data directory".into(),
        ));
    }
    if app_id == 0 {
        conn.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID}"))
            .map_err(err)?;
    }
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            applied_at INTEGER NOT NULL
        )",
    )
    .map_err(err)?;
    let current: i64 = conn
        .query_row(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )
        .map_err(err)?;
    let latest = crate::migrations::latest();
    if current > latest {
        return Err(StoreError::Schema(format!(
            "the database is at schema version {current}, newer than this build knows ({latest}); run a newer shopcase"
        )));
    }
    for m in crate::migrations::MIGRATIONS
        .iter()
        .filter(|m| m.version > current)
    {
        let (version, name) = (m.version, m.name);
        let tx = conn.transaction().map_err(err)?;
        tx.execute_batch(m.sqlite)
            .map_err(|e| StoreError::Schema(format!("migration {version} ({name}) failed: {e}")))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![version, name, now_ms],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        tracing::info!(version, name, "applied storage migration");
    }
    Ok(())
}
