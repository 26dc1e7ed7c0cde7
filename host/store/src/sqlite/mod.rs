//! [`SqliteStorage`]: the embedded implementation of [`Storage`].
//!
//! One database file (`shopcase.db`) in the data directory, in WAL mode.
//! Writes go through one writer thread that batches concurrent operations
//! into one transaction (group commit, see [`writer`]); reads use a small
//! pool of separate connections, which WAL lets run alongside the writer.
//!
//! # Durability
//! `synchronous = FULL` (the default) fsyncs the WAL on every commit, so a
//! committed event survives power loss: this is what lets the ingress answer
//! 200 only after the commit. `NORMAL` skips that fsync (the WAL is synced
//! at checkpoints only): a process crash loses nothing, a power loss may
//! lose the last commits, which Shopify would then not retry. Group commit
//! makes FULL affordable, so NORMAL is only for disposable environments.
//!
//! `secure_delete` is on, so deleted and overwritten rows are zeroed in the
//! file (privacy redactions leave no readable residue), and the WAL is
//! truncated after a redaction. The data directory is 0700 and the
//! database, WAL and shared-memory files 0600 (`files`).
//!
//! # Layout
//! - [`schema`]: the tables and their versioned migrations.
//! - [`writer`]: the group-commit writer thread.
//! - `files`: the data directory's and database files' permissions.
//! - `inbox`, `journal`, `admin` (stores, installations, audit, dead
//!   letters), `kv`, `links`, `timers`, `privacy`, `corecase` (the Core Case
//!   integration's tables), `retention` (deleting finished work): the SQL of
//!   each concern, as plain functions on a connection.
//! - `admin_api`: the admin API's tokens and searches.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags};
use shopcase_contract::CaseKey;

use crate::Storage;
use crate::admin_model::*;
use crate::corecase::*;
use crate::error::{Result, StoreError};
use crate::model::*;

mod admin;
mod admin_api;
mod corecase;
mod files;
mod inbox;
mod journal;
mod kv;
mod links;
mod privacy;
mod retention;
pub mod schema;
mod timers;
pub mod writer;

/// How commits reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Synchronous {
    /// fsync on every commit: committed means on disk.
    #[default]
    Full,
    /// fsync at checkpoints only: safe against process crashes, not power loss.
    Normal,
}

/// How the SQLite storage runs.
#[derive(Debug, Clone)]
pub struct SqliteConfig {
    /// Commit durability.
    pub synchronous: Synchronous,
    /// How long a write waits for a lock held by another process (e.g. a
    /// `shopcase store` command) before it fails as unavailable.
    pub busy_timeout: Duration,
    /// Read connections kept open.
    pub read_connections: usize,
    /// Operations waiting for the writer before callers wait to enqueue.
    pub write_queue: usize,
    /// Most operations in one transaction.
    pub max_batch: usize,
}

impl Default for SqliteConfig {
    fn default() -> Self {
        SqliteConfig {
            synchronous: Synchronous::Full,
            busy_timeout: Duration::from_secs(2),
            read_connections: 4,
            write_queue: 8192,
            max_batch: 512,
        }
    }
}

/// The database file name inside the data directory.
pub const DB_FILE: &str = "shopcase.db";

/// The embedded storage. Cheap to clone; every clone shares the writer.
#[derive(Debug, Clone)]
pub struct SqliteStorage {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Dropping it stops the checkpointer thread.
    _checkpointer: std::sync::mpsc::Sender<()>,
    path: PathBuf,
    writer: writer::Writer,
    readers: ReadPool,
}

impl SqliteStorage {
    /// Open (creating if needed) `<data_dir>/shopcase.db`, apply migrations
    /// and start the writer. Blocking; call before serving.
    pub fn open(data_dir: &Path, config: SqliteConfig) -> Result<SqliteStorage> {
        let path = data_dir.join(DB_FILE);
        files::prepare(data_dir, &path).map_err(|e| StoreError::Unavailable {
            op: "open",
            message: format!(
                "cannot create the data directory {} (mode 0700) and its database (mode 0600): {e}",
                data_dir.display()
            ),
        })?;
        let mut conn = open_connection(&path, &config, Role::Writer)?;
        schema::migrate(&mut conn, now_ms())?;
        // The WAL and shared-memory files exist now (opening in WAL mode
        // and migrating create them).
        files::tighten_db_files(&path).map_err(|e| StoreError::Unavailable {
            op: "open",
            message: format!(
                "cannot make the database files {}* private (mode 0600): {e}",
                path.display()
            ),
        })?;
        let writer =
            writer::Writer::spawn(conn, config.write_queue, config.max_batch).map_err(|e| {
                StoreError::Unavailable {
                    op: "open",
                    message: format!("cannot start the writer thread: {e}"),
                }
            })?;
        let checkpointer = spawn_checkpointer(path.clone(), config.clone()).map_err(|e| {
            StoreError::Unavailable {
                op: "open",
                message: format!("cannot start the checkpointer thread: {e}"),
            }
        })?;
        Ok(SqliteStorage {
            inner: Arc::new(Inner {
                _checkpointer: checkpointer,
                readers: ReadPool {
                    path: path.clone(),
                    config: config.clone(),
                    idle: Mutex::new(Vec::new()),
                },
                path,
                writer,
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    async fn write<T, F>(&self, name: &'static str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.inner
            .writer
            .write(name, writer::Isolation::Savepoint, f)
            .await
    }

    /// A write of one statement (atomic by itself).
    async fn write_one<T, F>(&self, name: &'static str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.inner
            .writer
            .write(name, writer::Isolation::Statement, f)
            .await
    }

    async fn write_and_checkpoint<T, F>(&self, name: &'static str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.inner
            .writer
            .write(name, writer::Isolation::SavepointThenTruncateWal, f)
            .await
    }

    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.readers.with(f))
            .await
            .map_err(|_| StoreError::Closed)?
    }
}

/// What a connection is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The one writer: never checkpoints itself (the checkpointer does),
    /// so no commit waits for a checkpoint.
    Writer,
    /// Reads only.
    Reader,
    /// Moves WAL frames into the database in the background.
    Checkpointer,
}

fn open_connection(path: &Path, config: &SqliteConfig, role: Role) -> Result<Connection> {
    let unavailable = |e: rusqlite::Error| StoreError::Unavailable {
        op: "open",
        message: format!("{}: {e}", path.display()),
    };
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(unavailable)?;
    conn.busy_timeout(config.busy_timeout)
        .map_err(unavailable)?;
    conn.set_prepared_statement_cache_capacity(64);
    let sync = match config.synchronous {
        Synchronous::Full => "FULL",
        Synchronous::Normal => "NORMAL",
    };
    let role_pragmas = match role {
        Role::Writer => "PRAGMA wal_autocheckpoint = 0;",
        Role::Reader => "PRAGMA query_only = ON;",
        Role::Checkpointer => "",
    };
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = {sync};
         PRAGMA secure_delete = ON;
         PRAGMA foreign_keys = OFF;
         PRAGMA temp_store = MEMORY;
         {role_pragmas}"
    ))
    .map_err(unavailable)?;
    Ok(conn)
}

/// How often the background checkpointer runs.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// Inbox events examined per write of a customer redaction.
const REDACT_BATCH: usize = 512;

/// Checkpoint the WAL in the background (PASSIVE: it never blocks the
/// writer or readers) until the returned sender is dropped.
fn spawn_checkpointer(
    path: PathBuf,
    config: SqliteConfig,
) -> std::io::Result<std::sync::mpsc::Sender<()>> {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("shopcase-store-checkpoint".into())
        .spawn(move || {
            let conn = match open_connection(&path, &config, Role::Checkpointer) {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(error = %e, "storage: no checkpointer; the WAL will grow until restart");
                    return;
                }
            };
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(CHECKPOINT_EVERY) {
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::debug!(error = %e, "storage: checkpoint skipped");
                }
            }
        })?;
    Ok(tx)
}

/// Read connections, opened on demand and kept for reuse.
#[derive(Debug)]
struct ReadPool {
    path: PathBuf,
    config: SqliteConfig,
    idle: Mutex<Vec<ConnBox>>,
}

/// `rusqlite::Connection` has no `Debug` we want in logs.
struct ConnBox(Connection);

impl std::fmt::Debug for ConnBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Connection")
    }
}

impl ReadPool {
    fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match conn {
            Some(c) => c,
            None => ConnBox(open_connection(&self.path, &self.config, Role::Reader)?),
        };
        let r = f(&conn.0);
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < self.config.read_connections.max(1) {
            idle.push(conn);
        }
        r
    }
}

// ---- helpers shared by the SQL modules ---------------------------------------

pub(crate) fn now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}

/// The host process a worker belongs to: the pipeline names its workers
/// `<process>-<role>`, the process being `<pid>-<random>`; a name without
/// that shape is a process of its own.
fn process_of(worker: &str) -> &str {
    match worker.match_indices('-').nth(1) {
        Some((i, _)) => &worker[..i],
        None => worker,
    }
}

/// The number of `worker`'s process among the processes found dead
/// holding work (schema migration 9), numbering it if it is new.
fn death_seq(c: &rusqlite::Connection, worker: &str) -> Result<i64> {
    let process = process_of(worker);
    c.prepare_cached(
        "INSERT OR IGNORE INTO deaths (instance, seq)
         SELECT ?1, coalesce(max(seq), 0) + 1 FROM deaths",
    )
    .and_then(|mut s| s.execute([process]))
    .map_err(db("record-death"))?;
    let seq: i64 = c
        .prepare_cached("SELECT seq FROM deaths WHERE instance = ?1")
        .and_then(|mut s| s.query_row([process], |r| r.get(0)))
        .map_err(db("record-death"))?;
    // Only the latest deaths matter.
    c.prepare_cached("DELETE FROM deaths WHERE seq < ?1 - 10000")
        .and_then(|mut s| s.execute([seq]))
        .map_err(db("record-death"))?;
    Ok(seq)
}

/// The abandoned claims of work a claim just took over from `taken_from`
/// (`counted`: the count the claim's update made, one more than before;
/// `last_death`: the death the work was last charged with): deaths in a
/// row add up, any other death in between starts the count again at one.
/// Returns the count and the death charged.
pub(crate) fn charge_death(
    c: &rusqlite::Connection,
    taken_from: &str,
    counted: i64,
    last_death: Option<i64>,
) -> Result<(i64, i64)> {
    let seq = death_seq(c, taken_from)?;
    let abandoned = if last_death == Some(seq - 1) {
        counted
    } else {
        1
    };
    Ok((abandoned, seq))
}

pub(crate) fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

pub(crate) fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

pub(crate) fn ts_opt(ms: Option<i64>) -> Option<Timestamp> {
    ms.map(ts)
}

pub(crate) fn dur_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Map a database error: lock, I/O and space problems are "unavailable"
/// (transient), the rest are database errors.
pub(crate) fn db(op: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |e| {
        use rusqlite::ErrorCode as C;
        let transient = matches!(
            e.sqlite_error_code(),
            Some(
                C::DatabaseBusy
                    | C::DatabaseLocked
                    | C::SystemIoFailure
                    | C::DiskFull
                    | C::CannotOpen
                    | C::ReadOnly
                    | C::FileLockingProtocolFailed
                    | C::OutOfMemory
            )
        );
        if transient {
            StoreError::Unavailable {
                op,
                message: e.to_string(),
            }
        } else {
            StoreError::Database {
                op,
                message: e.to_string(),
            }
        }
    }
}

pub(crate) fn corrupt(what: &'static str) -> impl Fn(String) -> StoreError {
    move |message| StoreError::Corrupt { what, message }
}

pub(crate) fn to_json<T: serde::Serialize>(what: &'static str, v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt {
        what,
        message: e.to_string(),
    })
}

#[async_trait]
impl Storage for SqliteStorage {
    async fn insert_event(&self, event: NewEvent) -> Result<Inserted> {
        if event.topic == APP_UNINSTALLED {
            // Two statements (the event, the store's uninstall): a savepoint.
            return self
                .write("insert-event", move |c| inbox::insert(c, &event))
                .await;
        }
        self.write_one("insert-event", move |c| inbox::insert(c, &event))
            .await
    }

    async fn claim_events(&self, claim: Claim) -> Result<Vec<ClaimedEvent>> {
        // A savepoint: a claim that also sets an unreadable row aside
        // writes more than one statement, and must not half-commit.
        self.write("claim-events", move |c| inbox::claim(c, &claim))
            .await
    }

    async fn finish_event(&self, finish: EventFinish) -> Result<FinishReport> {
        self.write("finish-event", move |c| inbox::finish(c, &finish))
            .await
    }

    async fn release_event(&self, event_id: &str, worker: &str, at: Timestamp) -> Result<bool> {
        let (e, w) = (event_id.to_owned(), worker.to_owned());
        self.write("release-event", move |c| inbox::release(c, &e, &w, at))
            .await
    }

    async fn defer_event(&self, event_id: &str, worker: &str, at: Timestamp) -> Result<bool> {
        let (e, w) = (event_id.to_owned(), worker.to_owned());
        self.write("defer-event", move |c| inbox::defer(c, &e, &w, at))
            .await
    }

    async fn renew_claims(&self, worker: &str, until: Timestamp, now: Timestamp) -> Result<u64> {
        let w = worker.to_owned();
        self.write_one("renew-claims", move |c| inbox::renew(c, &w, until, now))
            .await
    }

    async fn complete_host_event(
        &self,
        event_id: &str,
        worker: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let (e, w) = (event_id.to_owned(), worker.to_owned());
        self.write("complete-host-event", move |c| {
            inbox::complete_host(c, &e, &w, now)
        })
        .await
    }

    async fn fail_host_event(
        &self,
        event_id: &str,
        worker: &str,
        failure: FailureRecord,
        now: Timestamp,
    ) -> Result<Option<i64>> {
        let (e, w) = (event_id.to_owned(), worker.to_owned());
        self.write("fail-host-event", move |c| {
            inbox::fail_host(c, &e, &w, &failure, now)
        })
        .await
    }

    async fn event(&self, event_id: &str) -> Result<Option<StoredEvent>> {
        let e = event_id.to_owned();
        self.read(move |c| inbox::get(c, &e)).await
    }

    async fn dispatch_rows(&self, event_id: &str) -> Result<Vec<DispatchRow>> {
        let e = event_id.to_owned();
        self.read(move |c| inbox::dispatch_rows(c, &e)).await
    }

    async fn stats(&self, now: Timestamp) -> Result<InboxStats> {
        self.read(move |c| inbox::stats(c, now)).await
    }

    async fn claim_journal(&self, claim: JournalClaim) -> Result<Vec<JournalEntry>> {
        self.write("claim-journal", move |c| journal::claim(c, &claim))
            .await
    }

    async fn settle_journal(&self, settle: JournalSettle) -> Result<bool> {
        self.write("settle-journal", move |c| journal::settle(c, &settle))
            .await
    }

    async fn release_journal(&self, key: &str, worker: &str, at: Timestamp) -> Result<bool> {
        let (k, w) = (key.to_owned(), worker.to_owned());
        self.write("release-journal", move |c| journal::release(c, &k, &w, at))
            .await
    }

    async fn journal_for_event(&self, event_id: &str) -> Result<Vec<JournalEntry>> {
        let e = event_id.to_owned();
        self.read(move |c| journal::for_event(c, &e)).await
    }

    async fn journal_entry(&self, key: &str) -> Result<Option<JournalEntry>> {
        let k = key.to_owned();
        self.read(move |c| journal::get(c, &k)).await
    }

    async fn journal_stats(&self) -> Result<JournalStats> {
        self.read(journal::stats).await
    }

    async fn dead_letters(
        &self,
        shop: Option<&str>,
        open_only: bool,
        limit: usize,
    ) -> Result<Vec<DeadLetter>> {
        let s = shop.map(str::to_owned);
        self.read(move |c| admin::dead_letters(c, s.as_deref(), open_only, limit))
            .await
    }

    async fn retry_dead_letter(&self, id: i64, actor: &str, now: Timestamp) -> Result<()> {
        let a = actor.to_owned();
        self.write("retry-dead-letter", move |c| {
            admin::retry_dead_letter(c, id, &a, now)
        })
        .await
    }

    async fn discard_dead_letter(&self, id: i64, actor: &str, now: Timestamp) -> Result<()> {
        let a = actor.to_owned();
        self.write("discard-dead-letter", move |c| {
            admin::discard_dead_letter(c, id, &a, now)
        })
        .await
    }

    async fn sync_stores(&self, stores: Vec<(String, String)>, now: Timestamp) -> Result<()> {
        self.write("sync-stores", move |c| admin::sync_stores(c, &stores, now))
            .await
    }

    async fn stores(&self) -> Result<Vec<StoreRecord>> {
        self.read(admin::stores).await
    }

    async fn installations(&self, shop: Option<&str>) -> Result<Vec<Installation>> {
        let s = shop.map(str::to_owned);
        self.read(move |c| admin::installations(c, s.as_deref(), None))
            .await
    }

    async fn installation(&self, shop: &str, plugin_id: &str) -> Result<Option<Installation>> {
        let (s, p) = (shop.to_owned(), plugin_id.to_owned());
        self.read(move |c| Ok(admin::installations(c, Some(&s), Some(&p))?.pop()))
            .await
    }

    async fn put_installation(&self, installation: Installation, audit: NewAudit) -> Result<()> {
        self.write("put-installation", move |c| {
            admin::put_installation(c, &installation, &audit)
        })
        .await
    }

    async fn approve_installation(
        &self,
        key: InstallationKey,
        before: Option<Approval>,
        approval: Approval,
        audit: NewAudit,
    ) -> Result<bool> {
        self.write("approve-installation", move |c| {
            admin::approve_installation(
                c,
                (&key.shop, &key.plugin_id, &key.version),
                before.as_ref(),
                &approval,
                &audit,
            )
        })
        .await
    }

    async fn unquarantine(&self, shop: &str, plugin_id: &str, audit: NewAudit) -> Result<bool> {
        let (s, p) = (shop.to_owned(), plugin_id.to_owned());
        self.write("unquarantine", move |c| {
            admin::unquarantine(c, &s, &p, &audit)
        })
        .await
    }

    async fn record_audit(&self, audit: NewAudit) -> Result<()> {
        self.write("record-audit", move |c| admin::insert_audit(c, &audit))
            .await
    }

    async fn audit_log(&self, shop: Option<&str>, limit: usize) -> Result<Vec<AuditEntry>> {
        let s = shop.map(str::to_owned);
        self.read(move |c| admin::audit_log(c, s.as_deref(), limit))
            .await
    }

    async fn kv_get(
        &self,
        shop: &str,
        plugin_id: &str,
        key: &str,
        at: Timestamp,
    ) -> Result<Option<KvValue>> {
        let (s, p, k) = (shop.to_owned(), plugin_id.to_owned(), key.to_owned());
        self.read(move |c| kv::get(c, &s, &p, &k, at)).await
    }

    async fn kv_stats(&self, shop: &str, plugin_id: &str, at: Timestamp) -> Result<KvStats> {
        let (s, p) = (shop.to_owned(), plugin_id.to_owned());
        self.read(move |c| kv::stats(c, &s, &p, at)).await
    }

    async fn kv_purge_expired(&self, before: Timestamp) -> Result<u64> {
        self.write("kv-purge", move |c| kv::purge_expired(c, before))
            .await
    }

    async fn case_link(&self, shop: &str, key: &CaseKey) -> Result<Option<CaseLink>> {
        let (s, k) = (shop.to_owned(), key.clone());
        self.read(move |c| links::get(c, &s, &k)).await
    }

    async fn put_case_link(&self, link: CaseLink) -> Result<()> {
        self.write("put-case-link", move |c| links::put(c, &link))
            .await
    }

    async fn schedule_timer(&self, timer: NewTimer, now: Timestamp) -> Result<TimerScheduled> {
        self.write("schedule-timer", move |c| timers::schedule(c, &timer, now))
            .await
    }

    async fn fire_timers_due_by(
        &self,
        due_by: Timestamp,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<String>> {
        self.write("fire-timers", move |c| {
            timers::fire_due(c, due_by, now, limit)
        })
        .await
    }

    async fn timers(&self, shop: &str) -> Result<Vec<Timer>> {
        let s = shop.to_owned();
        self.read(move |c| timers::list(c, &s)).await
    }

    async fn prune(&self, prune: Prune) -> Result<PruneReport> {
        self.write("prune", move |c| retention::prune(c, &prune))
            .await
    }

    async fn customer_needles(&self, who: CustomerIdentity) -> Result<crate::privacy::Needles> {
        self.read(move |c| privacy::needles(c, &who)).await
    }

    async fn redact_customer(
        &self,
        who: CustomerIdentity,
        now: Timestamp,
    ) -> Result<RedactionReport> {
        // What identifies the customer, read on a reader connection; then
        // the inbox and the journal in batches, each its own short write,
        // so webhooks keep being committed during a large redaction; then
        // everything else (bounded by quotas and caps) in one write, after
        // which the WAL is truncated. A crash part-way leaves the request
        // to run again (it is idempotent).
        let w = who.clone();
        let needles = Arc::new(self.read(move |c| privacy::needles(c, &w)).await?);
        let (mut events, mut after) = (0, 0);
        loop {
            let (w, n) = (who.clone(), needles.clone());
            let (count, last) = self
                .write("redact-customer", move |c| {
                    privacy::redact_events(c, &w, &n, after, REDACT_BATCH, now)
                })
                .await?;
            events += count;
            match last {
                Some(seq) => after = seq,
                None => break,
            }
        }
        let (mut journal, mut after) = (0, 0);
        loop {
            let (w, n) = (who.clone(), needles.clone());
            let (count, last) = self
                .write("redact-customer", move |c| {
                    privacy::redact_journal(c, &w, &n, after, REDACT_BATCH)
                })
                .await?;
            journal += count;
            match last {
                Some(seq) => after = seq,
                None => break,
            }
        }
        let mut report = self
            .write_and_checkpoint("redact-customer", move |c| {
                privacy::redact_records(c, &who, &needles)
            })
            .await?;
        report.events = events;
        report.journal = journal;
        Ok(report)
    }

    async fn uninstalled(&self, shop: &str) -> Result<Option<Uninstall>> {
        let shop = shop.to_owned();
        self.read(move |c| admin::uninstalled(c, &shop)).await
    }

    async fn redact_shop(&self, shop: &str, now: Timestamp) -> Result<ShopRedactionReport> {
        let s = shop.to_owned();
        self.write_and_checkpoint("redact-shop", move |c| privacy::redact_shop(c, &s, now))
            .await
    }

    async fn customer_data(&self, who: CustomerIdentity) -> Result<CustomerData> {
        self.read(move |c| privacy::customer_data(c, &who)).await
    }

    async fn record_privacy(&self, record: PrivacyRecord) -> Result<()> {
        self.write("record-privacy", move |c| privacy::record(c, &record))
            .await
    }

    async fn privacy_records(
        &self,
        shops: Option<Vec<String>>,
        limit: usize,
    ) -> Result<Vec<PrivacyRecord>> {
        self.read(move |c| privacy::records(c, shops.as_deref(), limit))
            .await
    }

    async fn check_writable(&self) -> Result<()> {
        self.write_one("check-writable", |c| {
            c.query_row("SELECT 1", [], |_| Ok(()))
                .map_err(db("check-writable"))
        })
        .await
    }

    async fn create_api_token(&self, token: NewApiToken, audit: NewAudit) -> Result<()> {
        self.write("create-api-token", move |c| {
            admin_api::create_token(c, &token, &audit)
        })
        .await
    }

    async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        self.read(admin_api::tokens).await
    }

    async fn api_token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>> {
        let h = hash.to_owned();
        self.read(move |c| admin_api::token_by_hash(c, &h)).await
    }

    async fn touch_api_token(&self, id: &str, now: Timestamp) -> Result<()> {
        let id = id.to_owned();
        self.write_one("touch-api-token", move |c| {
            admin_api::touch_token(c, &id, now)
        })
        .await
    }

    async fn revoke_api_token(&self, id: &str, audit: NewAudit) -> Result<bool> {
        let id = id.to_owned();
        self.write("revoke-api-token", move |c| {
            admin_api::revoke_token(c, &id, &audit)
        })
        .await
    }

    async fn search_events(&self, query: EventQuery) -> Result<Vec<StoredEvent>> {
        self.read(move |c| admin_api::search_events(c, &query))
            .await
    }

    async fn search_journal(&self, query: JournalQuery) -> Result<Vec<JournalEntry>> {
        self.read(move |c| admin_api::search_journal(c, &query))
            .await
    }

    async fn dead_letter(&self, id: i64) -> Result<Option<DeadLetter>> {
        self.read(move |c| admin_api::dead_letter(c, id)).await
    }

    async fn search_case_links(&self, query: CaseLinkQuery) -> Result<Vec<CaseLink>> {
        self.read(move |c| admin_api::search_case_links(c, &query))
            .await
    }

    async fn record_case_link(&self, link: CaseLink, details: CaseLinkDetails) -> Result<()> {
        self.write("record-case-link", move |c| {
            corecase::record_link(c, &link, &details)
        })
        .await
    }

    async fn case_record(&self, case_id: &str) -> Result<Option<CaseRecord>> {
        let id = case_id.to_owned();
        self.read(move |c| corecase::record_by_case_id(c, &id))
            .await
    }

    async fn case_record_by_key(&self, shop: &str, key: &CaseKey) -> Result<Option<CaseRecord>> {
        let (s, k) = (shop.to_owned(), key.clone());
        self.read(move |c| corecase::record_by_key(c, &s, &k)).await
    }

    async fn record_case_observation(&self, observation: CaseObservation) -> Result<Observed> {
        self.write("record-case-observation", move |c| {
            corecase::observe(c, &observation)
        })
        .await
    }

    async fn poll_marks(&self) -> Result<Vec<PollMark>> {
        self.read(corecase::poll_marks).await
    }

    async fn advance_poll_mark(
        &self,
        definition_id: &str,
        mark: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        let d = definition_id.to_owned();
        self.write_one("advance-poll-mark", move |c| {
            corecase::advance_mark(c, &d, mark, now)
        })
        .await
    }

    async fn hold_operation(&self, held: NewHeldOperation) -> Result<HeldOperation> {
        self.write("hold-operation", move |c| corecase::hold(c, &held))
            .await
    }

    async fn held_operation(&self, task_id: &str) -> Result<Option<HeldOperation>> {
        let t = task_id.to_owned();
        self.read(move |c| corecase::held_by_task(c, &t)).await
    }

    async fn held_operation_for_request(&self, source_key: &str) -> Result<Option<HeldOperation>> {
        let k = source_key.to_owned();
        self.read(move |c| corecase::held_by_source(c, &k)).await
    }

    async fn held_operations(&self, case_id: &str) -> Result<Vec<HeldOperation>> {
        let id = case_id.to_owned();
        self.read(move |c| corecase::held_for_case(c, &id)).await
    }

    async fn decide_held_operation(&self, decision: HeldDecision) -> Result<DecisionOutcome> {
        self.write("decide-held-operation", move |c| {
            corecase::decide(c, &decision)
        })
        .await
    }
}
