//! The storage error type.

/// `Result` with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Why a storage operation failed.
///
/// Callers decide with [`StoreError::is_unavailable`]: an unavailable store
/// is a transient condition (the ingress answers 503 so Shopify retries; the
/// dispatcher waits and claims again), everything else is a bug or bad input.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or written right now (locked by
    /// another process past the busy timeout, disk full, I/O error).
    #[error("storage unavailable during {op}: {message}")]
    Unavailable {
        /// The operation that failed, e.g. `insert-event`.
        op: &'static str,
        /// What the database said.
        message: String,
    },
    /// The database refused an operation for another reason (a bug, or a
    /// constraint this build did not expect).
    #[error("storage error during {op}: {message}")]
    Database {
        /// The operation that failed.
        op: &'static str,
        /// What the database said.
        message: String,
    },
    /// Concurrent transactions conflicted (PostgreSQL: a serialization
    /// failure or a deadlock) and retrying did not get through: transient,
    /// like [`StoreError::Unavailable`]. The backend retries a conflicted
    /// transaction itself before it answers this.
    #[error("storage contended during {op}: {message}")]
    Contended {
        /// The operation that failed.
        op: &'static str,
        /// What the database said.
        message: String,
    },
    /// The storage has been shut down (its writer is gone).
    #[error("storage is closed")]
    Closed,
    /// The database file cannot be used by this build (newer schema, bad
    /// migration, not a shopcase database).
    #[error("storage schema: {0}")]
    Schema(String),
    /// Something that must exist does not.
    #[error("{what} `{key}` not found")]
    NotFound {
        /// What was looked up, e.g. `installation`.
        what: &'static str,
        /// Its key.
        key: String,
    },
    /// The request contradicts the stored state.
    #[error("{0}")]
    Conflict(String),
    /// Stored data could not be read back (a corrupt row, JSON that no
    /// longer parses).
    #[error("stored data is unreadable in {what}: {message}")]
    Corrupt {
        /// Where, e.g. `journal.action`.
        what: &'static str,
        /// What went wrong.
        message: String,
    },
}

impl StoreError {
    /// Whether the failure is transient (retry later; answer 503).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Unavailable { .. } | StoreError::Contended { .. } | StoreError::Closed
        )
    }

    /// A stable machine-readable code, for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Unavailable { .. } => "storage-unavailable",
            StoreError::Contended { .. } => "storage-contended",
            StoreError::Closed => "storage-closed",
            StoreError::Database { .. } => "storage-error",
            StoreError::Schema(_) => "storage-schema",
            StoreError::NotFound { .. } => "not-found",
            StoreError::Conflict(_) => "conflict",
            StoreError::Corrupt { .. } => "storage-corrupt",
        }
    }
}
