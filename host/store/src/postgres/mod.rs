//! [`PostgresStorage`]: the PostgreSQL implementation of
//! [`Storage`](crate::Storage), for several host replicas sharing one
//! database.
//!
//! Connections come from a pool ([`deadpool_postgres`] over
//! [`tokio_postgres`]); every operation is one transaction on one pooled
//! connection.
//!
//! # Isolation
//! Writes run `SERIALIZABLE`: PostgreSQL then guarantees that concurrent
//! transactions — from this process or another replica — have the effect
//! of some serial order, which is exactly what the SQLite backend gets from
//! its one writer thread. So every rule the traits state (both duplicate
//! rules, exactly-once journalling, versions never reused, claims that one
//! holder wins) holds across replicas without a lock per rule. A
//! transaction that PostgreSQL aborts for a serialization failure or a
//! deadlock is retried here with a short backoff (up to `TRIES` times,
//! about two seconds in all: long enough to outlast another session's
//! long transaction, whose bookkeeping makes PostgreSQL abort harmless
//! ones) before the caller sees [`StoreError::Contended`] (transient, like
//! a busy SQLite).
//!
//! Claims are the exception: they run `READ COMMITTED` and lock exactly
//! the rows they take, `FOR UPDATE SKIP LOCKED`, so competing claimers
//! pass over each other's rows instead of aborting each other (under
//! `SERIALIZABLE` every claim reads the same oldest events, and
//! overlapping claims would conflict every time). Nothing a claim decides
//! needs more than its row locks: `inbox` and `journal` say how a store's
//! order and exactly-once hold across replicas.
//!
//! Reads run `REPEATABLE READ, READ ONLY`: one snapshot, never aborted.
//!
//! # Durability
//! A commit returns once PostgreSQL has made it durable (its own
//! `synchronous_commit`, `on` by default: WAL flushed, and on a synchronous
//! standby if the cluster has one). The ingress acknowledges a webhook on
//! that commit, as on SQLite.
//!
//! # Layout
//! - [`schema`]: each migration's SQL; `migrate` here applies them.
//! - `inbox`, `journal`, `kv`, `timers`, `links` (with `corecase`, the
//!   Core Case integration's tables), `privacy`, `admin` (with `admin_api`
//!   and `retention`): each area's SQL and its trait `impl`, mirroring
//!   `sqlite/<area>.rs`.
//! - `coordination`: between replicas: `LISTEN`/`NOTIFY` wake-ups and
//!   advisory-lock leadership of singleton roles, on dedicated connections
//!   outside the pool.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio_postgres::error::SqlState;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::convert::now_ms;
use crate::error::{Result, StoreError};

mod admin;
mod admin_api;
mod coordination;
mod corecase;
mod inbox;
mod journal;
mod kv;
mod links;
mod privacy;
mod retention;
pub mod schema;
mod timers;

/// A pooled connection's transaction, as the area modules take it.
pub(crate) type Tx<'a> = deadpool_postgres::Transaction<'a>;

/// How the PostgreSQL storage connects and runs.
#[derive(Clone)]
pub struct PostgresConfig {
    /// `postgres://user:password@host:port/database?options`, as
    /// [`tokio_postgres::Config`] parses it. Holds the password: never
    /// printed (`Debug` shows only host, port and database).
    pub url: String,
    /// Connections kept open at most.
    pub pool_size: usize,
    /// Longest a statement may run before PostgreSQL cancels it (the
    /// operation then fails as unavailable). Zero: no limit.
    pub statement_timeout: Duration,
    /// Longest the connection attempt, and the wait for a pooled
    /// connection, may take.
    pub connect_timeout: Duration,
    /// A PEM file of certificate authorities to trust for the server's
    /// certificate, beside the Mozilla roots (a private CA, or a
    /// self-signed server certificate).
    pub ca_file: Option<PathBuf>,
}

impl PostgresConfig {
    /// A configuration for `url` with the defaults.
    pub fn new(url: impl Into<String>) -> PostgresConfig {
        PostgresConfig {
            url: url.into(),
            pool_size: 16,
            statement_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            ca_file: None,
        }
    }

    /// Whether the URL parses, saying what is wrong without repeating the
    /// URL (it holds the password).
    pub fn check(&self) -> std::result::Result<(), String> {
        tokio_postgres::Config::from_str(&self.url)
            .map(drop)
            .map_err(|e| format!("the connection URL does not parse: {e}"))
    }

    /// `host:port/database` of the URL, for logs and errors (no user, no
    /// password); `<unparsable URL>` when it does not parse.
    pub fn describe(&self) -> String {
        match tokio_postgres::Config::from_str(&self.url) {
            Ok(c) => describe(&c),
            Err(_) => "<unparsable URL>".into(),
        }
    }
}

impl fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("database", &self.describe())
            .field("pool_size", &self.pool_size)
            .field("statement_timeout", &self.statement_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

fn describe(c: &tokio_postgres::Config) -> String {
    let host = c
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(h) => h.clone(),
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = c.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}/{}", c.get_dbname().unwrap_or("(default)"))
}

/// The PostgreSQL storage. Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct PostgresStorage {
    pool: Pool,
    database: String,
    /// Wake-ups and leadership (`coordination`): its own connections,
    /// closed when the last clone goes.
    coordinator: std::sync::Arc<coordination::Coordinator>,
}

impl fmt::Debug for PostgresStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStorage")
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

/// How many times a conflicted transaction is tried in all.
pub(crate) const TRIES: u32 = 24;

impl PostgresStorage {
    /// Connect, apply the migrations this database lacks (one replica at a
    /// time: they take an advisory lock), and keep a pool.
    pub async fn connect(config: &PostgresConfig) -> Result<PostgresStorage> {
        let op = "open";
        let mut pg = tokio_postgres::Config::from_str(&config.url).map_err(|e| {
            StoreError::Schema(format!(
                "the PostgreSQL URL does not parse ({e}); expected postgres://user:password@host:port/database"
            ))
        })?;
        let database = describe(&pg);
        if pg.get_application_name().is_none() {
            pg.application_name("shopcase");
        }
        pg.connect_timeout(config.connect_timeout);
        let mut options = pg.get_options().unwrap_or("").to_owned();
        if !config.statement_timeout.is_zero() {
            options.push_str(&format!(
                " -c statement_timeout={}",
                config.statement_timeout.as_millis()
            ));
        }
        pg.options(options.trim());
        let sessions = pg.clone();
        let tls = tls(config)?;
        let manager = Manager::from_config(
            pg,
            tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size.max(1))
            .wait_timeout(Some(config.connect_timeout))
            .create_timeout(Some(config.connect_timeout))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Unavailable {
                op,
                message: format!("cannot build the connection pool: {e}"),
            })?;
        let storage = PostgresStorage {
            coordinator: std::sync::Arc::new(coordination::Coordinator::new(
                sessions,
                tls,
                pool.clone(),
            )),
            pool,
            database,
        };
        storage.migrate().await?;
        Ok(storage)
    }

    /// `host:port/database`, for logs.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// A pooled connection.
    pub(crate) async fn client(&self, op: &'static str) -> Result<deadpool_postgres::Object> {
        self.pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(e) => pg(op)(e),
            deadpool_postgres::PoolError::Closed => StoreError::Closed,
            e => StoreError::Unavailable {
                op,
                message: format!("no connection to {}: {e}", self.database),
            },
        })
    }

    /// Apply the migrations this database lacks, one transaction each,
    /// under an advisory lock (per schema) so replicas starting together
    /// take turns. Refuses a schema newer than this build and a schema that
    /// holds tables but no migration record (not a shopcase database).
    async fn migrate(&self) -> Result<()> {
        let err = |e: tokio_postgres::Error| StoreError::Schema(error_text(&e));
        let mut client = self.client("open").await?;
        loop {
            let tx = client.transaction().await.map_err(err)?;
            tx.batch_execute(
                "SELECT pg_advisory_xact_lock(1397244752, hashtext(current_schema()))",
            )
            .await
            .map_err(err)?;
            let recorded: bool = tx
                .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])
                .await
                .map_err(err)?
                .get(0);
            if !recorded {
                let tables: i64 = tx
                    .query_one(
                        "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()",
                        &[],
                    )
                    .await
                    .map_err(err)?
                    .get(0);
                if tables > 0 {
                    let schema: String = tx
                        .query_one("SELECT current_schema()", &[])
                        .await
                        .map_err(err)?
                        .get(0);
                    tx.rollback().await.map_err(err)?;
                    return Err(StoreError::Schema(format!(
                        "schema `{schema}` of {} holds {tables} tables but no shopcase migration record; point the URL at an empty database (or schema) for shopcase",
                        self.database
                    )));
                }
                tx.batch_execute(
                    "CREATE TABLE schema_migrations (
                        version    bigint PRIMARY KEY,
                        name       text NOT NULL,
                        applied_at bigint NOT NULL
                    )",
                )
                .await
                .map_err(err)?;
            }
            let current: i64 = tx
                .query_one(
                    "SELECT coalesce(max(version), 0)::bigint FROM schema_migrations",
                    &[],
                )
                .await
                .map_err(err)?
                .get(0);
            let latest = crate::migrations::latest();
            if current > latest {
                tx.rollback().await.map_err(err)?;
                return Err(StoreError::Schema(format!(
                    "the database is at schema version {current}, newer than this build knows ({latest}); run a newer shopcase"
                )));
            }
            let Some(m) = crate::migrations::MIGRATIONS
                .iter()
                .find(|m| m.version == current + 1)
            else {
                tx.commit().await.map_err(err)?;
                return Ok(());
            };
            tx.batch_execute(m.postgres).await.map_err(|e| {
                StoreError::Schema(format!(
                    "migration {} ({}) failed: {}",
                    m.version,
                    m.name,
                    error_text(&e)
                ))
            })?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                &[&m.version, &m.name, &now_ms()],
            )
            .await
            .map_err(err)?;
            tx.commit().await.map_err(err)?;
            tracing::info!(version = m.version, name = m.name, database = %self.database, "applied storage migration");
        }
    }
}

/// The TLS connector: rustls (ring) trusting the Mozilla roots and
/// `ca_file`'s authorities, verifying the server's name. Whether TLS is
/// used is the URL's `sslmode`: `prefer` (the default: TLS when the
/// server offers it), `require`, or `disable`. Unlike libpq's `prefer`
/// and `require`, a certificate that does not verify is always refused.
fn tls(config: &PostgresConfig) -> Result<MakeRustlsConnect> {
    let refused = |message: String| StoreError::Schema(message);
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(file) = &config.ca_file {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(file)
            .and_then(|certs| certs.collect::<std::result::Result<_, _>>())
            .map_err(|e| {
                refused(format!(
                    "`storage.ca-file` {}: not a PEM file of certificates ({e})",
                    file.display()
                ))
            })?;
        if certs.is_empty() {
            return Err(refused(format!(
                "`storage.ca-file` {} holds no certificate",
                file.display()
            )));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| {
                refused(format!(
                    "`storage.ca-file` {}: a certificate cannot be used ({e})",
                    file.display()
                ))
            })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| refused(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(tls))
}

/// Run `$body` — an expression that may `.await` and `?`, with `$tx` a
/// [`Tx`] — in a `SERIALIZABLE` transaction on a pooled connection,
/// committed when the body returns `Ok`, rolled back otherwise. A
/// transaction aborted for a serialization failure or a deadlock (the body's
/// error or the commit's) is run again from the start, up to [`TRIES`]
/// times in all, so the body must only touch the database (and local
/// values it rebuilds).
macro_rules! write_tx {
    ($store:expr, $op:expr, |$tx:ident| $body:expr) => {{
        let op: &'static str = $op;
        let mut tried: u32 = 0;
        loop {
            tried += 1;
            let result: $crate::error::Result<_> = async {
                let mut client = $store.client(op).await?;
                let owned = client
                    .build_transaction()
                    .isolation_level(::tokio_postgres::IsolationLevel::Serializable)
                    .start()
                    .await
                    .map_err($crate::postgres::pg(op))?;
                let value = {
                    let $tx: &$crate::postgres::Tx<'_> = &owned;
                    $body
                }?;
                owned.commit().await.map_err($crate::postgres::pg(op))?;
                Ok(value)
            }
            .await;
            match result {
                Err($crate::error::StoreError::Contended { .. })
                    if tried < $crate::postgres::TRIES =>
                {
                    $crate::postgres::backoff(tried).await;
                }
                other => break other,
            }
        }
    }};
}

/// Run `$body` in a `REPEATABLE READ, READ ONLY` transaction: one
/// snapshot for all its statements.
macro_rules! read_tx {
    ($store:expr, $op:expr, |$tx:ident| $body:expr) => {{
        let op: &'static str = $op;
        let result: $crate::error::Result<_> = async {
            let mut client = $store.client(op).await?;
            let owned = client
                .build_transaction()
                .isolation_level(::tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await
                .map_err($crate::postgres::pg(op))?;
            let value = {
                let $tx: &$crate::postgres::Tx<'_> = &owned;
                $body
            }?;
            owned.commit().await.map_err($crate::postgres::pg(op))?;
            Ok(value)
        }
        .await;
        result
    }};
}

pub(crate) use {read_tx, write_tx};

/// Wait a little before trying a conflicted transaction again: 2, 4, 8 …
/// milliseconds, at most 100.
pub(crate) async fn backoff(tried: u32) {
    let ms = (1u64 << tried.min(7)).min(100);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// What PostgreSQL said: the server's message and SQLSTATE when it sent
/// one, otherwise the client's error and its cause.
pub(crate) fn error_text(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = format!("{} (SQLSTATE {})", db.message(), db.code().code());
        if let Some(detail) = db.detail() {
            s.push_str(": ");
            s.push_str(detail);
        }
        return s;
    }
    let text = match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    };
    if text.contains("certificate") {
        format!(
            "{text} (the server's certificate is not trusted: give its authority in `storage.ca-file`, or `sslmode=disable` in the URL on a network you trust)"
        )
    } else {
        text
    }
}

/// Map a PostgreSQL error: conflicts between transactions are
/// [`StoreError::Contended`] (retried by [`write_tx!`]); a lost or refused
/// connection, a server shutting down or out of resources, a cancelled
/// (timed-out) statement and a read-only server (a standby after a
/// failover) are unavailable (transient); the rest are database errors.
pub(crate) fn pg(op: &'static str) -> impl Fn(tokio_postgres::Error) -> StoreError {
    move |e| {
        let message = error_text(&e);
        let Some(code) = e.code() else {
            // No SQLSTATE: the connection broke, or the client gave up.
            return StoreError::Unavailable { op, message };
        };
        if *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED
        {
            return StoreError::Contended { op, message };
        }
        let class = &code.code()[..2];
        let transient = matches!(class, "08" | "53" | "57" | "58")
            || *code == SqlState::LOCK_NOT_AVAILABLE
            || *code == SqlState::READ_ONLY_SQL_TRANSACTION;
        if transient {
            StoreError::Unavailable { op, message }
        } else {
            StoreError::Database { op, message }
        }
    }
}
