//! Opening a storage of the suite's backend, reaching its database behind
//! its back, and building events.
//!
//! Every test runs on both backends: `main.rs` includes each test file in
//! the module `sqlite` and in the module `postgres`, each with its own copy
//! of this module, which reads the module's [`super::BACKEND`].
//!
//! PostgreSQL comes from `SHOPCASE_TEST_DATABASE_URL` (`cargo xtask test`
//! starts a throwaway server and sets it; `cargo xtask postgres start`
//! does so for a developer). Each test gets a schema of its own in that
//! database, dropped when the test's [`Db`] goes.

#![allow(dead_code, reason = "each backend's copy uses a different part")]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use shopcase_contract::Resources;
use shopcase_store::{
    EventSource, EventStatus, NewEvent, PostgresConfig, PostgresStorage, SqliteConfig,
    SqliteStorage, Storage, StoreError, Timestamp,
};

use super::BACKEND;

pub(crate) const SHOP: &str = "demo.myshopify.com";

/// The engines the suite runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

/// The storage as the tests hold it.
pub(crate) type Store = Arc<dyn Storage>;

pub(crate) fn config() -> SqliteConfig {
    SqliteConfig {
        busy_timeout: Duration::from_millis(100),
        ..SqliteConfig::default()
    }
}

/// A fresh, empty database of the suite's backend: a temporary directory
/// (SQLite) or a schema of its own (PostgreSQL). Open it with [`Db::open`],
/// as often as a test wants (a reopen is a restart).
#[derive(Debug)]
pub(crate) struct Db {
    dir: tempfile::TempDir,
    pg: Option<PgSchema>,
}

impl Db {
    pub(crate) async fn create() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let pg = match BACKEND {
            Backend::Sqlite => None,
            Backend::Postgres => Some(PgSchema::create().await),
        };
        Db { dir, pg }
    }

    /// Open (or reopen) the storage.
    pub(crate) async fn open(&self) -> Store {
        self.try_open().await.unwrap()
    }

    /// Open, or say why not.
    pub(crate) async fn try_open(&self) -> Result<Store, StoreError> {
        Ok(match &self.pg {
            None => Arc::new(SqliteStorage::open(self.dir.path(), config())?),
            Some(pg) => Arc::new(PostgresStorage::connect(&pg.config()).await?),
        })
    }

    /// Open the PostgreSQL storage as its concrete type (the suite's
    /// PostgreSQL-only tests: its sessions' pids). Panics on SQLite.
    pub(crate) async fn open_postgres(&self) -> PostgresStorage {
        let pg = self.pg.as_ref().expect("a PostgreSQL database");
        PostgresStorage::connect(&pg.config()).await.unwrap()
    }

    /// A temporary directory of the test's (SQLite's data directory).
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// An SQLite storage in the test's directory, whatever the suite's
    /// backend: on PostgreSQL, the source of a copy into the test's schema.
    pub(crate) fn open_sqlite(&self) -> Store {
        Arc::new(SqliteStorage::open(self.dir.path(), config()).unwrap())
    }

    /// A second connection to [`Db::open_sqlite`]'s file.
    pub(crate) fn sqlite_behind_the_back(&self) -> Raw {
        let c = rusqlite::Connection::open(self.dir.path().join("shopcase.db")).unwrap();
        c.busy_timeout(Duration::from_secs(5)).unwrap();
        Raw::Sqlite(c)
    }

    /// The storage configuration of the test's PostgreSQL schema (the
    /// PostgreSQL suite only).
    pub(crate) fn postgres_config(&self) -> PostgresConfig {
        self.pg
            .as_ref()
            .expect("a PostgreSQL schema: the PostgreSQL suite only")
            .config()
    }

    /// Another connection to the database, as another process (or an
    /// operator with `sqlite3` or `psql`) would have: for damaging rows or
    /// writing many at once behind the storage's back.
    pub(crate) async fn behind_the_back(&self) -> Raw {
        match &self.pg {
            None => {
                let c = rusqlite::Connection::open(self.dir.path().join("shopcase.db")).unwrap();
                c.busy_timeout(Duration::from_secs(5)).unwrap();
                Raw::Sqlite(c)
            }
            Some(pg) => Raw::Postgres(pg.client().await),
        }
    }

    /// Everything the database holds, as bytes to search: the SQLite
    /// files (database and WAL, free pages included), or every row of
    /// every table of the PostgreSQL schema as text (what SQL can read;
    /// dead tuples wait for VACUUM, see the admin guide).
    pub(crate) async fn residue(&self) -> Vec<u8> {
        match &self.pg {
            None => {
                let dir = self.dir.path();
                let mut bytes = std::fs::read(dir.join("shopcase.db")).unwrap();
                if let Ok(wal) = std::fs::read(dir.join("shopcase.db-wal")) {
                    bytes.extend(wal);
                }
                bytes
            }
            Some(pg) => {
                let c = pg.client().await;
                let tables = c
                    .query(
                        "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()",
                        &[],
                    )
                    .await
                    .unwrap();
                let mut bytes = Vec::new();
                for t in tables {
                    let name: String = t.get(0);
                    for row in c
                        .query(&format!("SELECT t::text FROM \"{name}\" t"), &[])
                        .await
                        .unwrap()
                    {
                        bytes.extend(row.get::<_, String>(0).into_bytes());
                        bytes.push(b'\n');
                    }
                }
                bytes
            }
        }
    }
}

/// A fresh storage (kept alive by the guard).
pub(crate) async fn open() -> (Db, Store) {
    let db = Db::create().await;
    let s = db.open().await;
    (db, s)
}

/// A value for a `?N` placeholder of [`Raw::exec`].
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Int(i64),
    Text(String),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Arg {
        Arg::Int(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Arg {
        Arg::Text(v.into())
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Arg {
        Arg::Text(v)
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Arg {
        Arg::Text(v.clone())
    }
}

/// A second connection to the suite's database. SQL given to it is
/// written once for both engines (the suite's statements are portable),
/// with `?1`, `?2` … replaced by the arguments as literals.
pub(crate) enum Raw {
    Sqlite(rusqlite::Connection),
    Postgres(tokio_postgres::Client),
}

impl std::fmt::Debug for Raw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Raw::Sqlite(_) => "Raw::Sqlite",
            Raw::Postgres(_) => "Raw::Postgres",
        })
    }
}

impl Raw {
    /// Run statements; `?N` is the N-th argument.
    pub(crate) async fn exec(&self, sql: &str, args: &[Arg]) {
        let mut sql = sql.to_owned();
        // Highest first, so `?1` does not eat the start of `?10`.
        for (i, a) in args.iter().enumerate().rev() {
            let literal = match a {
                Arg::Int(v) => v.to_string(),
                Arg::Text(t) => format!("'{}'", t.replace('\'', "''")),
            };
            sql = sql.replace(&format!("?{}", i + 1), &literal);
        }
        match self {
            Raw::Sqlite(c) => c
                .execute_batch(&sql)
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
            Raw::Postgres(c) => c
                .batch_execute(&sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e:?}")),
        }
    }

    /// One text column of a query's rows.
    pub(crate) async fn texts(&self, sql: &str) -> Vec<String> {
        match self {
            Raw::Sqlite(c) => c
                .prepare(sql)
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap(),
            Raw::Postgres(c) => c
                .query(sql, &[])
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect(),
        }
    }

    /// One integer column of a query's rows.
    pub(crate) async fn ints(&self, sql: &str) -> Vec<i64> {
        match self {
            Raw::Sqlite(c) => c
                .prepare(sql)
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap(),
            Raw::Postgres(c) => c
                .query(sql, &[])
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<_, i64>(0))
                .collect(),
        }
    }
}

/// A schema of its own in the PostgreSQL test database.
#[derive(Debug)]
struct PgSchema {
    url: String,
    name: String,
}

static SCHEMAS: AtomicU64 = AtomicU64::new(0);

impl PgSchema {
    fn base_url() -> String {
        std::env::var("SHOPCASE_TEST_DATABASE_URL").unwrap_or_else(|_| {
            panic!(
                "the PostgreSQL half of the storage suite needs a database: set \
                 SHOPCASE_TEST_DATABASE_URL (postgres://user@host:port/database, where the \
                 tests may create schemas), or run `cargo xtask postgres start` (or \
                 `cargo xtask test`, which starts one); `cargo test -p shopcase-store sqlite::` \
                 runs the SQLite half alone"
            )
        })
    }

    async fn create() -> PgSchema {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!(
            "t_{}_{}_{}",
            std::process::id(),
            SCHEMAS.fetch_add(1, Ordering::Relaxed),
            nanos % 1_000_000_000
        );
        let schema = PgSchema {
            url: Self::base_url(),
            name,
        };
        sweep(&schema.url).await;
        schema
            .admin()
            .await
            .batch_execute(&format!("CREATE SCHEMA {}", schema.name))
            .await
            .unwrap();
        schema
    }

    /// The storage's configuration: the test's schema first on the search
    /// path, short timeouts.
    fn config(&self) -> PostgresConfig {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        PostgresConfig {
            pool_size: 8,
            statement_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(5),
            ..PostgresConfig::new(format!(
                "{}{sep}options=-c%20search_path%3D{}",
                self.url, self.name
            ))
        }
    }

    async fn connect(url: &str) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to SHOPCASE_TEST_DATABASE_URL: {e}"));
        tokio::spawn(conn);
        client
    }

    async fn admin(&self) -> tokio_postgres::Client {
        Self::connect(&self.url).await
    }

    /// A connection whose search path is the test's schema.
    async fn client(&self) -> tokio_postgres::Client {
        let c = self.admin().await;
        c.batch_execute(&format!("SET search_path = {}", self.name))
            .await
            .unwrap();
        c
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        // Dropped from a thread of its own, not waited for: the test's
        // runtime must go on running the storage's connections, whose
        // closing (and a failed transaction's rollback) the drop may wait
        // on. A schema the process leaves behind (the drop still waiting
        // when the tests end) is dropped by the next run's sweep.
        let (url, name) = (self.url.clone(), self.name.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let c = PgSchema::connect(&url).await;
                let _ = c
                    .batch_execute(&format!(
                        "SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS {name} CASCADE"
                    ))
                    .await;
            })
        });
    }
}

/// Drop the schemas of test processes that are gone (`t_<pid>_…`), once
/// per process.
async fn sweep(url: &str) {
    static SWEPT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    SWEPT
        .get_or_init(|| async {
            let c = PgSchema::connect(url).await;
            let rows = c
                .query(
                    "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 't\\_%'",
                    &[],
                )
                .await
                .unwrap();
            for row in rows {
                let name: String = row.get(0);
                let pid = name.split('_').nth(1).unwrap_or("");
                if !pid.is_empty() && !Path::new("/proc").join(pid).exists() {
                    let _ = c
                        .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                        .await;
                }
            }
        })
        .await;
}

/// What each migration since 5 added, undone: newest first. Portable SQL.
const UNDO: &[(i64, &str)] = &[
    (
        10,
        "ALTER TABLE inbox DROP COLUMN started_by;
         ALTER TABLE journal DROP COLUMN started_by;",
    ),
    (
        9,
        "DROP TABLE deaths;
         ALTER TABLE inbox DROP COLUMN taken_from;
         ALTER TABLE inbox DROP COLUMN abandoned_death;
         ALTER TABLE journal DROP COLUMN taken_from;
         ALTER TABLE journal DROP COLUMN abandoned_death;",
    ),
    (
        8,
        "DROP INDEX inbox_pending_shop;
         ALTER TABLE inbox DROP COLUMN abandoned;
         ALTER TABLE inbox DROP COLUMN abandoned_by;
         ALTER TABLE journal DROP COLUMN abandoned;
         ALTER TABLE journal DROP COLUMN abandoned_by;",
    ),
    (
        7,
        "ALTER TABLE installations DROP COLUMN approved_sha256;
         ALTER TABLE installations DROP COLUMN approved_grants_digest;
         ALTER TABLE installations DROP COLUMN approved_grants;
         ALTER TABLE installations DROP COLUMN approved_by;
         ALTER TABLE installations DROP COLUMN approved_at;",
    ),
    (
        6,
        "ALTER TABLE stores DROP COLUMN uninstalled_at;
         ALTER TABLE stores DROP COLUMN uninstalled_by;",
    ),
    (
        5,
        "DROP INDEX inbox_body;
         DROP INDEX privacy_requests_body;
         ALTER TABLE inbox DROP COLUMN body_sha256;
         ALTER TABLE privacy_requests DROP COLUMN body_sha256;",
    ),
];

/// Turn a (closed) database back into one written by a build whose
/// schema stopped at `version`, rows kept: for the upgrade tests. A new
/// migration adds its undo to `UNDO`.
pub(crate) async fn roll_back_schema(db: &Db, version: i64) {
    let c = db.behind_the_back().await;
    for (_, undo) in UNDO.iter().filter(|(v, _)| *v > version) {
        c.exec(undo, &[]).await;
    }
    c.exec(
        "DELETE FROM schema_migrations WHERE version > ?1",
        &[version.into()],
    )
    .await;
}

pub(crate) fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_790_000_000 + secs).unwrap()
}

/// An `orders/create` delivery for `order` with webhook id `webhook`.
pub(crate) fn order_event(webhook: &str, order: u64) -> NewEvent {
    let payload = serde_json::json!({"id": order, "name": format!("#{order}"), "customer": {"id": 7001}, "total_price": "10.00"});
    NewEvent {
        shop: SHOP.into(),
        topic: "orders/create".into(),
        source: EventSource::Shopify,
        dedupe_key: webhook.into(),
        shopify_event_id: Some(format!("se-{webhook}")),
        api_version: "2026-07".into(),
        triggered_at: at(0),
        received_at: at(1),
        resources: Resources::from_shopify("orders/create", &payload),
        payload: payload.to_string(),
        target_plugin: None,
        status: EventStatus::Pending,
        body_sha256: None,
    }
}
