//! [`SqliteStorage`]: the embedded implementation of [`Storage`](crate::Storage).
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
//! - The area traits' `impl`s, each beside its SQL: [`crate::InboxStore`]
//!   in `inbox`, [`crate::JournalStore`] in `journal`, [`crate::KvStore`]
//!   in `kv`, [`crate::TimerStore`] in `timers`, [`crate::CaseLinkStore`]
//!   in `links` (calling `corecase` for the integration's tables),
//!   [`crate::PrivacyStore`] in `privacy`, [`crate::AdminStore`] in `admin`
//!   (calling `admin_api` and `retention`), [`crate::CoordinationStore`]
//!   in `coordination` (one process: nothing to coordinate).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Result, StoreError};

pub(crate) mod admin;
pub(crate) mod admin_api;
mod coordination;
pub(crate) mod corecase;
mod files;
pub(crate) mod inbox;
pub(crate) mod journal;
mod kv;
pub(crate) mod links;
pub(crate) mod privacy;
mod retention;
pub mod schema;
pub(crate) mod timers;
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
pub(crate) const REDACT_BATCH: usize = 512;

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

pub(crate) use crate::convert::{corrupt, dur_ms, ms, now_ms, process_of, to_json, ts, ts_opt};

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
/// `last_death`: the death the work was last charged with; `started_by`:
/// the worker that last started it as a suspect, schema migration 10).
/// Returns the count and the death charged.
pub(crate) fn charge_death(
    c: &rusqlite::Connection,
    taken_from: &str,
    counted: i64,
    last_death: Option<i64>,
    started_by: Option<&str>,
) -> Result<(i64, i64)> {
    let seq = death_seq(c, taken_from)?;
    Ok((
        death_count(taken_from, counted, last_death, started_by, seq),
        seq,
    ))
}

/// The rule both engines charge deaths by: a death adds up only if the
/// holder had started the work (a suspect waiting behind other work did
/// not kill anyone) and it came right after the work's last counted death
/// (a death while other work ran is not this work's); otherwise the count
/// starts again at one. Work claimed for the first time is not marked
/// when started, so its first death always counts one.
pub(crate) fn death_count(
    taken_from: &str,
    counted: i64,
    last_death: Option<i64>,
    started_by: Option<&str>,
    seq: i64,
) -> i64 {
    if started_by == Some(taken_from) && last_death == Some(seq - 1) {
        counted
    } else {
        1
    }
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
