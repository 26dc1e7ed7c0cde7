//! Moving a host from SQLite to PostgreSQL: copy a stopped host's whole
//! SQLite database into an empty PostgreSQL database, verified
//! (`shopcase storage migrate`).
//!
//! [`sqlite_to_postgres`] does it in these steps:
//! 1. Both databases are opened through their normal open paths
//!    ([`SqliteStorage::open`], [`PostgresStorage::connect`]), which apply
//!    the migrations they lack, so both are at this build's schema version
//!    (checked again after).
//! 2. One PostgreSQL transaction is begun; every table of the schema is
//!    locked against writers (`EXCLUSIVE`), and the copy is refused unless
//!    every table is empty (the refusal names the tables that hold rows).
//! 3. The SQLite file is read in one transaction begun with
//!    `BEGIN IMMEDIATE`: no other process can write to it until the copy
//!    is over, and every table is read from one snapshot. **The host must
//!    be stopped**: a running host's writes would wait on the copy (and
//!    fail past its busy timeout), and whatever it wrote after the copy
//!    would not be in PostgreSQL. A database locked by a writer is refused.
//! 4. The table list comes from the schemas themselves — SQLite's
//!    `sqlite_master`, PostgreSQL's `pg_tables` — and must be the same on
//!    both sides (a table added by a later migration is copied without a
//!    change here). Only `schema_migrations` (each engine records its own)
//!    and SQLite's `meta` (its one row, the key-value version counter, is
//!    PostgreSQL's sequence `kv_version`) are not copied as tables. The
//!    columns come from `PRAGMA table_info` and must match PostgreSQL's
//!    `information_schema.columns`, whose types drive the conversion:
//!    `bigint` from SQLite integers, `boolean` from 0/1 (any other value is
//!    refused), `text` from text (valid UTF-8 without NUL), `bytea` from
//!    blobs. A type this module does not know is refused, so a migration
//!    adding one fails loudly here rather than copying wrongly.
//! 5. Table by table, rows are read in primary-key order and inserted in
//!    batches with their ids (`OVERRIDING SYSTEM VALUE`, which identity
//!    columns `GENERATED ALWAYS` need).
//! 6. Each table is verified before the transaction commits: its row count
//!    and a SHA-256 over its rows in primary-key order, each row's columns
//!    in a canonical form ([`TableCopy::digest`]), computed on each side
//!    from what that side returns. A mismatch rolls everything back.
//! 7. Every identity sequence is set past the largest id copied (for an
//!    `AUTOINCREMENT` table, past the largest id SQLite ever handed out,
//!    kept in `sqlite_sequence`), and `kv_version` to SQLite's counter (at
//!    least the largest version copied), so new rows get new ids and a new
//!    key-value version is above every copied one.
//! 8. The PostgreSQL transaction commits — all or nothing — and only then
//!    the SQLite read transaction ends.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest as _, Sha256};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::types::ToSql;

use crate::error::{Result, StoreError};
use crate::postgres::{Tx, pg};
use crate::{PostgresConfig, PostgresStorage, SqliteConfig, SqliteStorage};

/// Not copied as tables: each engine records its own migrations.
const NOT_COPIED: &str = "schema_migrations";
/// SQLite's `meta`: its rows are carried otherwise (`kv_version`).
const SQLITE_META: &str = "meta";
/// The key-value version counter: a row of `meta` on SQLite, a sequence
/// on PostgreSQL.
const KV_VERSION: &str = "kv_version";

/// Rows sent from the SQLite reader at a time, at most.
const BATCH_ROWS: usize = 1000;
/// Bytes of text and blobs in one batch before it is sent anyway.
const BATCH_BYTES: usize = 4 << 20;
/// Bind parameters in one `INSERT`, at most (PostgreSQL allows 65535).
const MAX_PARAMS: usize = 30_000;
/// Rows fetched at a time when reading a table back from PostgreSQL.
const FETCH_ROWS: i32 = 1000;
/// How long PostgreSQL may wait for the tables' locks (a host still
/// running against it holds some).
const LOCK_TIMEOUT: &str = "10s";
/// How long the SQLite read waits for a writer to finish, at least.
const SQLITE_BUSY: Duration = Duration::from_secs(5);

/// One table copied: what both sides agreed on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableCopy {
    /// The table's name (the same on both engines).
    pub table: String,
    /// Rows copied (counted on each side).
    pub rows: u64,
    /// Lowercase hex SHA-256 over the table's rows in primary-key order,
    /// computed on each side from its own rows. Each row is its columns in
    /// SQLite's column order, each column as `N` (NULL), `I<decimal>;`
    /// (an integer; a boolean is 0 or 1), `T<byte length>:<UTF-8 bytes>`
    /// (text) or `B<byte length>:<bytes>` (a blob, `bytea`), followed by a
    /// newline.
    pub digest: String,
}

/// What [`sqlite_to_postgres`] copied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyReport {
    /// The SQLite file copied from.
    pub source: String,
    /// The PostgreSQL database copied into (`host:port/database`, never
    /// the password).
    pub target: String,
    /// The schema version both databases are at.
    pub schema_version: i64,
    /// Every table, in the order copied (by name).
    pub tables: Vec<TableCopy>,
    /// The key-value version counter carried over: the next key-value
    /// write gets a version above it.
    pub kv_version: i64,
}

/// Copy the SQLite database in `data_dir` (a stopped host's) into the
/// empty PostgreSQL database `postgres`, verified, in one PostgreSQL
/// transaction; `progress` is called after each table is copied and
/// verified. See the module documentation for every step and what is
/// refused.
///
/// Errors: [`StoreError::NotFound`] when there is no SQLite database in
/// `data_dir`; [`StoreError::Conflict`] when the target holds rows (naming
/// the tables); [`StoreError::Schema`] when the two schemas differ (not at
/// the same version, a table or column on one side only, a type this build
/// cannot convert); [`StoreError::Corrupt`] for a value that cannot be
/// carried over unchanged; [`StoreError::Database`] when verification finds
/// a difference; [`StoreError::Unavailable`] when either database cannot
/// be reached or the SQLite file is locked by a writer.
pub async fn sqlite_to_postgres<F>(
    data_dir: &Path,
    sqlite: &SqliteConfig,
    postgres: &PostgresConfig,
    mut progress: F,
) -> Result<CopyReport>
where
    F: FnMut(&TableCopy) + Send,
{
    let path = data_dir.join(crate::sqlite::DB_FILE);
    if !path.is_file() {
        return Err(StoreError::NotFound {
            what: "SQLite database",
            key: path.display().to_string(),
        });
    }
    // The normal open paths: both migrate to this build's schema.
    let (dir, config) = (data_dir.to_owned(), sqlite.clone());
    let opened = tokio::task::spawn_blocking(move || SqliteStorage::open(&dir, config))
        .await
        .map_err(|_| StoreError::Closed)?
        .map_err(|e| match e {
            StoreError::Unavailable { op, message } => StoreError::Unavailable {
                op,
                message: format!(
                    "{message}: is it locked by another process? Stop the host (and any other shopcase command using it) before copying"
                ),
            },
            e => e,
        })?;
    drop(opened);
    let storage = PostgresStorage::connect(postgres).await?;
    let target = storage.database().to_owned();

    let op = "copy";
    let mut client = storage.client(op).await?;
    let tx = client.transaction().await.map_err(pg(op))?;
    let plan = prepare_target(&tx, &target).await?;

    let (rows_tx, mut rows_rx) = mpsc::channel::<Msg>(4);
    let (end_tx, end_rx) = oneshot::channel::<()>();
    let busy = sqlite.busy_timeout.max(SQLITE_BUSY);
    let reader_path = path.clone();
    let reader =
        tokio::task::spawn_blocking(move || read_sqlite(&reader_path, busy, rows_tx, end_rx));

    let result = match copy_tables(&tx, &plan, &mut rows_rx, &mut progress).await {
        Ok(report) => tx.commit().await.map_err(pg(op)).map(|()| report),
        Err(e) => {
            // Dropping the transaction rolls it back.
            drop(tx);
            Err(e)
        }
    };
    if result.is_ok() {
        // Only once PostgreSQL committed may SQLite's read transaction end.
        let _ = end_tx.send(());
    } else {
        drop(end_tx);
    }
    drop(rows_rx);
    reader.await.map_err(|_| StoreError::Closed)?;
    let mut report = result?;
    report.source = path.display().to_string();
    report.target = target;
    Ok(report)
}

// ---- the canonical form both digests use ----------------------------------

/// A value read from SQLite, as it is stored there.
#[derive(Debug, Clone)]
enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Cell {
    fn size(&self) -> usize {
        match self {
            Cell::Text(t) => t.len(),
            Cell::Blob(b) => b.len(),
            _ => 8,
        }
    }

    fn canon(&self) -> Canon<'_> {
        match self {
            Cell::Null => Canon::Null,
            Cell::Int(i) => Canon::Int(*i),
            Cell::Real(r) => Canon::Real(*r),
            Cell::Text(t) => Canon::Text(t),
            Cell::Blob(b) => Canon::Blob(b),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Cell::Null => "NULL",
            Cell::Int(_) => "an integer",
            Cell::Real(_) => "a real number",
            Cell::Text(_) => "text",
            Cell::Blob(_) => "a blob",
        }
    }
}

/// One column's value in the digest's canonical form.
#[derive(Debug, Clone, Copy)]
enum Canon<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// A table's row count and digest, fed row by row.
struct TableDigest {
    hash: Sha256,
    rows: u64,
}

impl TableDigest {
    fn new() -> TableDigest {
        TableDigest {
            hash: Sha256::new(),
            rows: 0,
        }
    }

    fn column(&mut self, value: Canon<'_>) {
        let h = &mut self.hash;
        match value {
            Canon::Null => h.update(b"N"),
            Canon::Int(i) => h.update(format!("I{i};")),
            // Never carried over (refused), but digested unambiguously.
            Canon::Real(r) => h.update(format!("R{r:?};")),
            Canon::Text(t) => {
                h.update(format!("T{}:", t.len()));
                h.update(t.as_bytes());
            }
            Canon::Blob(b) => {
                h.update(format!("B{}:", b.len()));
                h.update(b);
            }
        }
    }

    fn end_row(&mut self) {
        self.hash.update(b"\n");
        self.rows += 1;
    }

    fn finish(self) -> (u64, String) {
        (self.rows, hex::encode(self.hash.finalize()))
    }
}

/// `"name"`, quoted for either engine.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| quote(n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `` `a`, `b` `` for messages.
fn named<'a>(names: impl IntoIterator<Item = &'a String>) -> String {
    names
        .into_iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---- the SQLite side --------------------------------------------------------

/// What the SQLite reader found, before the rows.
#[derive(Debug)]
struct SqliteSchema {
    version: i64,
    /// Every table to copy, by name, with its columns (in `cid` order) and
    /// primary key.
    tables: Vec<SqliteTable>,
    /// `meta`'s rows.
    meta: Vec<(String, i64)>,
    /// `sqlite_sequence`: the largest id each `AUTOINCREMENT` table handed out.
    autoincrement: BTreeMap<String, i64>,
}

#[derive(Debug)]
struct SqliteTable {
    name: String,
    columns: Vec<String>,
    key: Vec<String>,
}

/// What the reader thread sends.
enum Msg {
    /// First: the schema.
    Schema(SqliteSchema),
    /// Rows of the current table, in primary-key order.
    Rows(Vec<Vec<Cell>>),
    /// The current table is over: its count and digest on SQLite's side.
    TableDone { rows: u64, digest: String },
    /// The reader stopped.
    Failed(StoreError),
}

impl Msg {
    /// What it is, for errors (never the rows: they hold customers' data).
    fn kind(&self) -> &'static str {
        match self {
            Msg::Schema(_) => "the schema",
            Msg::Rows(_) => "rows",
            Msg::TableDone { .. } => "a table's end",
            Msg::Failed(_) => "an error",
        }
    }
}

fn sqlite_err(op: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    crate::sqlite::db(op)
}

/// The reader thread: one `BEGIN IMMEDIATE` transaction for the whole
/// copy, held until `end` fires (the PostgreSQL commit) or is dropped (the
/// copy failed). Its failures are sent as [`Msg::Failed`].
fn read_sqlite(path: &Path, busy: Duration, out: mpsc::Sender<Msg>, end: oneshot::Receiver<()>) {
    let conn = match begin_read(path, busy) {
        Ok(c) => c,
        Err(e) => {
            let _ = out.blocking_send(Msg::Failed(e));
            return;
        }
    };
    if let Err(e) = read_all(&conn, &out) {
        let _ = out.blocking_send(Msg::Failed(e));
    }
    // The copier sees the end of the messages; the read ends once it
    // committed (or gave up).
    drop(out);
    let _ = end.blocking_recv();
    let _ = conn.execute_batch("ROLLBACK");
}

/// Open the file and begin the read: `BEGIN IMMEDIATE` takes the write
/// lock, so no other process writes until the copy ends.
fn begin_read(path: &Path, busy: Duration) -> Result<rusqlite::Connection> {
    use rusqlite::OpenFlags;
    let op = "copy-read";
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite_err(op))?;
    conn.busy_timeout(busy).map_err(sqlite_err(op))?;
    conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| {
        if matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        ) {
            StoreError::Unavailable {
                op,
                message: format!(
                    "{} is locked by another process ({e}): stop the host (and any other shopcase command using it) before copying",
                    path.display()
                ),
            }
        } else {
            sqlite_err(op)(e)
        }
    })?;
    Ok(conn)
}

/// Send the schema, then every table's rows and digest. Returns early,
/// without an error, when the copier is gone.
fn read_all(conn: &rusqlite::Connection, out: &mpsc::Sender<Msg>) -> Result<()> {
    use rusqlite::types::ValueRef;
    let op = "copy-read";
    let schema = sqlite_schema(conn)?;
    let tables: Vec<(String, Vec<String>, Vec<String>)> = schema
        .tables
        .iter()
        .map(|t| (t.name.clone(), t.columns.clone(), t.key.clone()))
        .collect();
    if out.blocking_send(Msg::Schema(schema)).is_err() {
        return Ok(());
    }
    for (name, columns, key) in tables {
        let order = if key.is_empty() { &columns } else { &key };
        let sql = format!(
            "SELECT {} FROM {} ORDER BY {}",
            list(&columns),
            quote(&name),
            list(order)
        );
        let mut stmt = conn.prepare(&sql).map_err(sqlite_err(op))?;
        let mut cursor = stmt.query([]).map_err(sqlite_err(op))?;
        let per_batch = BATCH_ROWS.min(MAX_PARAMS / columns.len().max(1)).max(1);
        let mut digest = TableDigest::new();
        let (mut batch, mut bytes) = (Vec::with_capacity(per_batch), 0usize);
        while let Some(row) = cursor.next().map_err(sqlite_err(op))? {
            let mut cells = Vec::with_capacity(columns.len());
            for (i, column) in columns.iter().enumerate() {
                let cell = match row.get_ref(i).map_err(sqlite_err(op))? {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(v) => Cell::Int(v),
                    ValueRef::Real(v) => Cell::Real(v),
                    ValueRef::Text(t) => match std::str::from_utf8(t) {
                        Ok(t) => Cell::Text(t.to_owned()),
                        Err(e) => {
                            return Err(StoreError::Corrupt {
                                what: "copy",
                                message: format!(
                                    "{name}.{column}: text that is not UTF-8 ({e}), which PostgreSQL cannot hold"
                                ),
                            });
                        }
                    },
                    ValueRef::Blob(b) => Cell::Blob(b.to_vec()),
                };
                digest.column(cell.canon());
                bytes += cell.size();
                cells.push(cell);
            }
            digest.end_row();
            batch.push(cells);
            if batch.len() >= per_batch || bytes >= BATCH_BYTES {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(per_batch));
                bytes = 0;
                if out.blocking_send(Msg::Rows(full)).is_err() {
                    return Ok(());
                }
            }
        }
        if !batch.is_empty() && out.blocking_send(Msg::Rows(batch)).is_err() {
            return Ok(());
        }
        let (rows, digest) = digest.finish();
        if out.blocking_send(Msg::TableDone { rows, digest }).is_err() {
            return Ok(());
        }
    }
    Ok(())
}

fn sqlite_schema(c: &rusqlite::Connection) -> Result<SqliteSchema> {
    let op = "copy-read";
    let version: i64 = c
        .query_row(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )
        .map_err(sqlite_err(op))?;
    let names: Vec<String> = c
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
             ORDER BY name",
        )
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(sqlite_err(op))?;
    let mut tables = Vec::new();
    for name in names {
        if name == NOT_COPIED || name == SQLITE_META {
            continue;
        }
        let info: Vec<(String, i64)> = c
            .prepare("SELECT name, pk FROM pragma_table_info(?1) ORDER BY cid")
            .and_then(|mut s| {
                s.query_map([&name], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })
            .map_err(sqlite_err(op))?;
        let mut key: Vec<(i64, String)> = info
            .iter()
            .filter(|(_, pk)| *pk > 0)
            .map(|(n, pk)| (*pk, n.clone()))
            .collect();
        key.sort();
        tables.push(SqliteTable {
            name,
            columns: info.into_iter().map(|(n, _)| n).collect(),
            key: key.into_iter().map(|(_, n)| n).collect(),
        });
    }
    let meta: Vec<(String, i64)> = c
        .prepare("SELECT name, value FROM meta ORDER BY name")
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .map_err(sqlite_err(op))?;
    let has_sequence: bool = c
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'",
            [],
            |r| r.get(0),
        )
        .map_err(sqlite_err(op))?;
    let autoincrement = if has_sequence {
        c.prepare("SELECT name, seq FROM sqlite_sequence")
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(sqlite_err(op))?
    } else {
        BTreeMap::new()
    };
    Ok(SqliteSchema {
        version,
        tables,
        meta,
        autoincrement,
    })
}

// ---- the PostgreSQL side ----------------------------------------------------

/// A column's PostgreSQL type, as far as the copy knows types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PgType {
    Bigint,
    Boolean,
    Text,
    Bytea,
}

impl PgType {
    fn parse(data_type: &str) -> Option<PgType> {
        Some(match data_type {
            "bigint" => PgType::Bigint,
            "boolean" => PgType::Boolean,
            "text" => PgType::Text,
            "bytea" => PgType::Bytea,
            _ => return None,
        })
    }
}

#[derive(Debug)]
struct PgColumn {
    ty: PgType,
    identity: bool,
}

/// The target as found: its schema version, tables and columns.
#[derive(Debug)]
struct Target {
    version: i64,
    tables: BTreeMap<String, BTreeMap<String, PgColumn>>,
}

/// Lock the target's tables, refuse it unless empty, and read its schema.
async fn prepare_target(tx: &Tx<'_>, target: &str) -> Result<Target> {
    let op = "copy";
    // The copy may take long; the tables' locks must not wait long.
    tx.batch_execute(&format!(
        "SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"
    ))
    .await
    .map_err(pg(op))?;
    let version: i64 = tx
        .query_one(
            "SELECT coalesce(max(version), 0)::bigint FROM schema_migrations",
            &[],
        )
        .await
        .map_err(pg(op))?
        .get(0);
    let names: Vec<String> = tx
        .query(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1",
            &[],
        )
        .await
        .map_err(pg(op))?
        .iter()
        .map(|r| r.get(0))
        .filter(|n: &String| n != NOT_COPIED)
        .collect();
    if !names.is_empty() {
        tx.batch_execute(&format!(
            "LOCK TABLE {} IN EXCLUSIVE MODE",
            list(&names)
        ))
        .await
        .map_err(|e| {
            let e = pg(op)(e);
            match e {
                StoreError::Unavailable { op, message } => StoreError::Unavailable {
                    op,
                    message: format!(
                        "cannot lock the tables of {target} ({message}): is a host running against it? Stop it"
                    ),
                },
                e => e,
            }
        })?;
    }
    let mut holding = Vec::new();
    for name in &names {
        let any: bool = tx
            .query_one(
                &format!("SELECT EXISTS (SELECT 1 FROM {})", quote(name)),
                &[],
            )
            .await
            .map_err(pg(op))?
            .get(0);
        if any {
            holding.push(name.clone());
        }
    }
    if !holding.is_empty() {
        let schema: String = tx
            .query_one("SELECT current_schema()::text", &[])
            .await
            .map_err(pg(op))?
            .get(0);
        let which = if holding.len() == 1 {
            format!("table {} holds rows", named(&holding))
        } else {
            format!("tables {} hold rows", named(&holding))
        };
        return Err(StoreError::Conflict(format!(
            "the target database {target} (schema `{schema}`) is not empty: {which}; copy only into an empty database (or a schema of its own)"
        )));
    }
    let mut tables: BTreeMap<String, BTreeMap<String, PgColumn>> =
        names.iter().map(|n| (n.clone(), BTreeMap::new())).collect();
    for r in tx
        .query(
            "SELECT table_name::text, column_name::text, data_type::text, is_identity::text
             FROM information_schema.columns WHERE table_schema = current_schema()",
            &[],
        )
        .await
        .map_err(pg(op))?
    {
        let (table, column, data_type, identity): (String, String, String, String) =
            (r.get(0), r.get(1), r.get(2), r.get(3));
        let Some(columns) = tables.get_mut(&table) else {
            continue;
        };
        let ty = PgType::parse(&data_type).ok_or_else(|| {
            StoreError::Schema(format!(
                "{table}.{column} is `{data_type}` on PostgreSQL, a type this build cannot copy into (bigint, boolean, text and bytea only)"
            ))
        })?;
        columns.insert(
            column,
            PgColumn {
                ty,
                identity: identity == "YES",
            },
        );
    }
    // Sequences other than the identity columns' and `kv_version` would
    // be left behind: refuse them.
    let strays: Vec<String> = tx
        .query(
            "SELECT s.relname::text FROM pg_class s
             JOIN pg_namespace n ON n.oid = s.relnamespace
             WHERE s.relkind = 'S' AND n.nspname = current_schema() AND s.relname <> $1
               AND NOT EXISTS (SELECT 1 FROM pg_depend d
                               WHERE d.classid = 'pg_class'::regclass AND d.objid = s.oid
                                 AND d.deptype IN ('i', 'a'))
             ORDER BY 1",
            &[&KV_VERSION],
        )
        .await
        .map_err(pg(op))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if !strays.is_empty() {
        return Err(StoreError::Schema(format!(
            "the PostgreSQL schema has sequences this build does not know how to carry over: {}",
            named(&strays)
        )));
    }
    Ok(Target { version, tables })
}

/// Compare the two schemas; the columns of each table in SQLite's order
/// with their PostgreSQL types.
fn match_schemas<'a>(
    sqlite: &'a SqliteSchema,
    target: &'a Target,
) -> Result<Vec<(&'a SqliteTable, Vec<&'a PgColumn>)>> {
    let latest = crate::migrations::latest();
    if sqlite.version != latest || target.version != latest {
        return Err(StoreError::Schema(format!(
            "the databases are not at the same schema version: SQLite at {}, PostgreSQL at {}, this build at {latest}",
            sqlite.version, target.version
        )));
    }
    let lite: BTreeSet<&String> = sqlite.tables.iter().map(|t| &t.name).collect();
    let post: BTreeSet<&String> = target.tables.keys().collect();
    if lite != post {
        let only_lite: Vec<&String> = lite.difference(&post).copied().collect();
        let only_pg: Vec<&String> = post.difference(&lite).copied().collect();
        return Err(StoreError::Schema(format!(
            "the two schemas do not have the same tables (only in SQLite: {}; only in PostgreSQL: {})",
            if only_lite.is_empty() {
                "none".into()
            } else {
                named(only_lite)
            },
            if only_pg.is_empty() {
                "none".into()
            } else {
                named(only_pg)
            },
        )));
    }
    for (name, _) in &sqlite.meta {
        if name != KV_VERSION {
            return Err(StoreError::Schema(format!(
                "SQLite's `meta` holds `{name}`, which this build does not know how to carry over"
            )));
        }
    }
    let mut out = Vec::new();
    for t in &sqlite.tables {
        let pg_columns = &target.tables[&t.name];
        let lite: BTreeSet<&String> = t.columns.iter().collect();
        let post: BTreeSet<&String> = pg_columns.keys().collect();
        if lite != post {
            let only_lite: Vec<&String> = lite.difference(&post).copied().collect();
            let only_pg: Vec<&String> = post.difference(&lite).copied().collect();
            return Err(StoreError::Schema(format!(
                "table `{}` does not have the same columns on both sides (only in SQLite: {}; only in PostgreSQL: {})",
                t.name,
                if only_lite.is_empty() {
                    "none".into()
                } else {
                    named(only_lite)
                },
                if only_pg.is_empty() {
                    "none".into()
                } else {
                    named(only_pg)
                },
            )));
        }
        out.push((t, t.columns.iter().map(|c| &pg_columns[c]).collect()));
    }
    Ok(out)
}

/// A value as PostgreSQL takes it for a column of `ty`.
type Param = Box<dyn ToSql + Sync + Send>;

fn convert(table: &str, column: &str, ty: PgType, cell: Cell) -> Result<Param> {
    let refuse = |what: String| StoreError::Corrupt {
        what: "copy",
        message: format!("{table}.{column}: {what}"),
    };
    Ok(match (ty, cell) {
        (PgType::Bigint, Cell::Null) => Box::new(None::<i64>),
        (PgType::Bigint, Cell::Int(v)) => Box::new(Some(v)),
        (PgType::Boolean, Cell::Null) => Box::new(None::<bool>),
        (PgType::Boolean, Cell::Int(0)) => Box::new(Some(false)),
        (PgType::Boolean, Cell::Int(1)) => Box::new(Some(true)),
        (PgType::Boolean, Cell::Int(v)) => {
            return Err(refuse(format!(
                "{v} is not a 0/1 flag (the column is boolean on PostgreSQL)"
            )));
        }
        (PgType::Text, Cell::Null) => Box::new(None::<String>),
        (PgType::Text, Cell::Text(t)) => {
            if t.contains('\0') {
                return Err(refuse(
                    "text with a NUL character, which PostgreSQL cannot hold".into(),
                ));
            }
            Box::new(Some(t))
        }
        (PgType::Bytea, Cell::Null) => Box::new(None::<Vec<u8>>),
        (PgType::Bytea, Cell::Blob(b)) => Box::new(Some(b)),
        (ty, cell) => {
            return Err(refuse(format!(
                "{} where PostgreSQL's column is {ty:?}: the value cannot be carried over unchanged",
                cell.kind()
            )));
        }
    })
}

/// Receive the reader's messages and copy, verify and set the sequences,
/// all in `tx`.
async fn copy_tables<F>(
    tx: &Tx<'_>,
    target: &Target,
    rx: &mut mpsc::Receiver<Msg>,
    progress: &mut F,
) -> Result<CopyReport>
where
    F: FnMut(&TableCopy) + Send,
{
    let op = "copy";
    let gone = || StoreError::Unavailable {
        op,
        message: "the SQLite reader stopped".into(),
    };
    let schema = match rx.recv().await.ok_or_else(gone)? {
        Msg::Schema(s) => s,
        Msg::Failed(e) => return Err(e),
        other => {
            return Err(StoreError::Database {
                op,
                message: format!("the SQLite reader sent {} before the schema", other.kind()),
            });
        }
    };
    let plan = match_schemas(&schema, target)?;
    let mut report = CopyReport {
        source: String::new(),
        target: String::new(),
        schema_version: schema.version,
        tables: Vec::new(),
        kv_version: 0,
    };
    for (table, types) in &plan {
        let name = &table.name;
        let identity = types.iter().any(|c| c.identity);
        let columns = list(&table.columns);
        let mut statements: BTreeMap<usize, tokio_postgres::Statement> = BTreeMap::new();
        let (rows, digest) = loop {
            match rx.recv().await.ok_or_else(gone)? {
                Msg::Rows(rows) => {
                    let n = rows.len();
                    let mut params: Vec<Param> = Vec::with_capacity(n * types.len());
                    for row in rows {
                        for ((column, pgc), cell) in table.columns.iter().zip(types).zip(row) {
                            params.push(convert(name, column, pgc.ty, cell)?);
                        }
                    }
                    let stmt = match statements.get(&n) {
                        Some(s) => s.clone(),
                        None => {
                            let sql = insert_sql(name, &columns, types.len(), n, identity);
                            let s = tx.prepare(&sql).await.map_err(pg(op))?;
                            statements.insert(n, s.clone());
                            s
                        }
                    };
                    let refs: Vec<&(dyn ToSql + Sync)> = params
                        .iter()
                        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
                        .collect();
                    tx.execute(&stmt, &refs).await.map_err(|e| {
                        let e = pg(op)(e);
                        StoreError::Database {
                            op,
                            message: format!("copying into `{name}`: {e}"),
                        }
                    })?;
                }
                Msg::TableDone { rows, digest } => break (rows, digest),
                Msg::Failed(e) => return Err(e),
                Msg::Schema(_) => {
                    return Err(StoreError::Database {
                        op,
                        message: "the SQLite reader sent the schema twice".into(),
                    });
                }
            }
        };
        let (pg_rows, pg_digest) = postgres_digest(tx, table, types).await?;
        if (pg_rows, &pg_digest) != (rows, &digest) {
            return Err(StoreError::Database {
                op: "copy-verify",
                message: format!(
                    "table `{name}` differs after the copy: SQLite {rows} rows (sha256 {digest}), PostgreSQL {pg_rows} rows (sha256 {pg_digest}); nothing was committed"
                ),
            });
        }
        let copied = TableCopy {
            table: name.clone(),
            rows,
            digest,
        };
        progress(&copied);
        report.tables.push(copied);
    }
    // Every identity sequence past the largest id copied (or SQLite ever
    // handed out, for an AUTOINCREMENT table).
    for (table, types) in &plan {
        for (column, pgc) in table.columns.iter().zip(types) {
            if !pgc.identity {
                continue;
            }
            let max: i64 = tx
                .query_one(
                    &format!(
                        "SELECT coalesce(max({}), 0)::bigint FROM {}",
                        quote(column),
                        quote(&table.name)
                    ),
                    &[],
                )
                .await
                .map_err(pg(op))?
                .get(0);
            let floor = schema.autoincrement.get(&table.name).copied().unwrap_or(0);
            let last = max.max(floor);
            tx.execute(
                "SELECT setval(pg_get_serial_sequence($1, $2)::regclass, greatest($3::bigint, 1), $3::bigint >= 1)",
                &[&quote(&table.name), column, &last],
            )
            .await
            .map_err(pg(op))?;
        }
    }
    // The key-value version counter: SQLite's, and never below a copied
    // version.
    let counter = schema
        .meta
        .iter()
        .find(|(n, _)| n == KV_VERSION)
        .map_or(0, |(_, v)| *v);
    let max_version: i64 = tx
        .query_one("SELECT coalesce(max(version), 0)::bigint FROM kv", &[])
        .await
        .map_err(pg(op))?
        .get(0);
    let kv_version = counter.max(max_version);
    tx.execute(
        "SELECT setval($1::text::regclass, greatest($2::bigint, 1), $2::bigint >= 1)",
        &[&KV_VERSION, &kv_version],
    )
    .await
    .map_err(pg(op))?;
    report.kv_version = kv_version;
    // Nothing more may come.
    match rx.recv().await {
        None => {}
        Some(Msg::Failed(e)) => return Err(e),
        Some(other) => {
            return Err(StoreError::Database {
                op,
                message: format!(
                    "the SQLite reader sent {} after the last table",
                    other.kind()
                ),
            });
        }
    }
    Ok(report)
}

fn insert_sql(table: &str, columns: &str, width: usize, rows: usize, identity: bool) -> String {
    let mut sql = format!("INSERT INTO {} ({columns}) ", quote(table));
    if identity {
        sql.push_str("OVERRIDING SYSTEM VALUE ");
    }
    sql.push_str("VALUES ");
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..width {
            if c > 0 {
                sql.push_str(", ");
            }
            n += 1;
            sql.push_str(&format!("${n}"));
        }
        sql.push(')');
    }
    sql
}

/// The table's row count and digest as PostgreSQL returns its rows, in
/// the same order (text compared byte-wise, as SQLite does).
async fn postgres_digest(
    tx: &Tx<'_>,
    table: &SqliteTable,
    types: &[&PgColumn],
) -> Result<(u64, String)> {
    let op = "copy-verify";
    let by_name: BTreeMap<&String, &PgColumn> =
        table.columns.iter().zip(types.iter().copied()).collect();
    let order: Vec<String> = if table.key.is_empty() {
        &table.columns
    } else {
        &table.key
    }
    .iter()
    .map(|c| match by_name[c].ty {
        PgType::Text => format!("{} COLLATE \"C\" NULLS FIRST", quote(c)),
        _ => format!("{} NULLS FIRST", quote(c)),
    })
    .collect();
    let sql = format!(
        "SELECT {} FROM {} ORDER BY {}",
        list(&table.columns),
        quote(&table.name),
        order.join(", ")
    );
    let portal = tx.bind(&sql, &[]).await.map_err(pg(op))?;
    let mut digest = TableDigest::new();
    loop {
        let rows = tx.query_portal(&portal, FETCH_ROWS).await.map_err(pg(op))?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            for (i, c) in types.iter().enumerate() {
                let value = match c.ty {
                    PgType::Bigint => row
                        .try_get::<_, Option<i64>>(i)
                        .map_err(pg(op))?
                        .map_or(Canon::Null, Canon::Int),
                    PgType::Boolean => row
                        .try_get::<_, Option<bool>>(i)
                        .map_err(pg(op))?
                        .map_or(Canon::Null, |b| Canon::Int(i64::from(b))),
                    PgType::Text => row
                        .try_get::<_, Option<&str>>(i)
                        .map_err(pg(op))?
                        .map_or(Canon::Null, Canon::Text),
                    PgType::Bytea => row
                        .try_get::<_, Option<&[u8]>>(i)
                        .map_err(pg(op))?
                        .map_or(Canon::Null, Canon::Blob),
                };
                digest.column(value);
            }
            digest.end_row();
        }
    }
    Ok(digest.finish())
}
