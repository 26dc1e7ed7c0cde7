//! The group-commit writer: one thread owns the only write connection.
//!
//! Callers send it operations over a bounded channel. It takes the first,
//! drains whatever else is already waiting (up to a batch limit), runs them
//! all in one `BEGIN IMMEDIATE ... COMMIT` (each operation in its own
//! savepoint, so one operation's error rolls back only its own changes),
//! and answers every caller **after** the commit returned. With
//! `synchronous = FULL` that commit is one fsync of the WAL for the whole
//! batch: concurrent webhooks share the cost of durability, and none is
//! acknowledged before it is on disk.
//!
//! No artificial delay is added: while one batch commits, the next one
//! queues up by itself, so batches grow with load and a lone request is
//! committed at once.

use std::panic::{AssertUnwindSafe, catch_unwind};

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::error::{Result, StoreError};

/// One unit of work for the writer.
pub(crate) trait Op: Send {
    /// Run inside the batch transaction (the op sets its own savepoint).
    fn run(&mut self, conn: &Connection);
    /// Answer the caller: `committed` is the batch's commit result.
    fn finish(self: Box<Self>, committed: Result<(), String>);
    /// Whether the WAL should be checkpointed (and truncated) after the
    /// commit: privacy redactions, so old page images do not linger.
    fn wants_checkpoint(&self) -> bool {
        false
    }
}

/// How an operation is isolated from the others in its batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Isolation {
    /// Several statements: in a savepoint, rolled back alone on error.
    Savepoint,
    /// One write statement, atomic by itself: no savepoint (a savepoint
    /// copies every page it touches to a sub-journal, which costs the hot
    /// inbox insert dearly).
    Statement,
    /// A savepoint, and the WAL truncated after the commit (redactions).
    SavepointThenTruncateWal,
}

/// An operation returning `T`.
struct TypedOp<T, F> {
    name: &'static str,
    f: Option<F>,
    result: Option<Result<T>>,
    isolation: Isolation,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> Op for TypedOp<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T> + Send,
{
    fn run(&mut self, conn: &Connection) {
        let Some(f) = self.f.take() else { return };
        let savepoint = self.isolation != Isolation::Statement;
        if savepoint && let Err(e) = conn.execute_batch("SAVEPOINT op") {
            self.result = Some(Err(super::db(self.name)(e)));
            return;
        }
        let name = self.name;
        // A panic in an operation must not take the writer (and every later
        // write) down with it: it becomes this operation's error.
        let r = catch_unwind(AssertUnwindSafe(|| f(conn))).unwrap_or_else(|_| {
            Err(StoreError::Database {
                op: name,
                message: "the operation panicked".into(),
            })
        });
        if savepoint {
            let end = if r.is_ok() {
                "RELEASE op"
            } else {
                "ROLLBACK TO op; RELEASE op"
            };
            // If the database already rolled the whole transaction back (I/O
            // error, disk full), there is no savepoint left; the writer sees
            // that through `is_autocommit` and fails the batch.
            let _ = conn.execute_batch(end);
        }
        self.result = Some(r);
    }

    fn finish(self: Box<Self>, committed: Result<(), String>) {
        let answer = match committed {
            Ok(()) => self.result.unwrap_or(Err(StoreError::Closed)),
            Err(message) => Err(StoreError::Unavailable {
                op: self.name,
                message,
            }),
        };
        // The caller may have gone away (request cancelled); the work is
        // committed either way.
        let _ = self.reply.send(answer);
    }

    fn wants_checkpoint(&self) -> bool {
        self.isolation == Isolation::SavepointThenTruncateWal
    }
}

/// The sending side, held by the storage handle.
#[derive(Debug, Clone)]
pub(crate) struct Writer {
    tx: mpsc::Sender<Box<dyn Op>>,
}

impl Writer {
    /// Start the writer thread on `conn`.
    pub(crate) fn spawn(
        conn: Connection,
        queue: usize,
        max_batch: usize,
    ) -> std::io::Result<Writer> {
        let (tx, rx) = mpsc::channel(queue.max(1));
        std::thread::Builder::new()
            .name("shopcase-store-writer".into())
            .spawn(move || run(conn, rx, max_batch.max(1)))?;
        Ok(Writer { tx })
    }

    /// Run `f` in the next batch; resolves after that batch commits.
    pub(crate) async fn write<T, F>(
        &self,
        name: &'static str,
        isolation: Isolation,
        f: F,
    ) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let op = TypedOp {
            name,
            f: Some(f),
            result: None,
            isolation,
            reply,
        };
        self.tx
            .send(Box::new(op))
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

fn run(conn: Connection, mut rx: mpsc::Receiver<Box<dyn Op>>, max_batch: usize) {
    let mut batch: Vec<Box<dyn Op>> = Vec::with_capacity(max_batch.min(1024));
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let committed = commit_batch(&conn, &mut batch);
        // Before answering: the caller of a redaction may rely on the WAL
        // being clean when it returns.
        if committed.is_ok() && batch.iter().any(|op| op.wants_checkpoint()) {
            truncate_wal(&conn);
        }
        for op in batch.drain(..) {
            op.finish(committed.clone());
        }
    }
    tracing::debug!("storage writer stopped");
}

fn commit_batch(conn: &Connection, batch: &mut [Box<dyn Op>]) -> Result<(), String> {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        tracing::warn!(error = %e, ops = batch.len(), "storage: cannot begin a write transaction");
        return Err(e.to_string());
    }
    for op in batch.iter_mut() {
        op.run(conn);
        if conn.is_autocommit() {
            tracing::error!("storage: the database rolled back the batch transaction");
            return Err("the database rolled the transaction back".into());
        }
    }
    conn.execute_batch("COMMIT").map_err(|e| {
        tracing::error!(error = %e, ops = batch.len(), "storage: commit failed");
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        e.to_string()
    })
}

/// Copy the WAL into the database and truncate it, so page images written
/// before a redaction are gone from the WAL file.
fn truncate_wal(conn: &Connection) {
    for attempt in 0..20 {
        match conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            r.get::<_, i64>(0)
        }) {
            Ok(0) => return,
            Ok(_) => std::thread::sleep(std::time::Duration::from_millis(5 * (attempt + 1))),
            Err(e) => {
                tracing::warn!(error = %e, "storage: WAL checkpoint failed");
                return;
            }
        }
    }
    tracing::warn!(
        "storage: WAL checkpoint stayed busy (readers); the WAL will be truncated at a later checkpoint"
    );
}
