//! What an executor is: it performs journalled actions of one family,
//! idempotently by the entry's key, and says how a failure should be
//! treated ([`ExecError`]). The pipeline's executor framework claims the
//! entries, bounds each execution, retries, dead-letters and keeps the
//! exactly-once bookkeeping.

use std::time::Duration;

use async_trait::async_trait;
use shopcase_store::{ActionFamily, JournalEntry};

use crate::Service;

/// Why an execution failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// Worth retrying later (network, 5xx, throttling).
    #[error("{code}: {message}")]
    Transient {
        /// Stable code, e.g. `throttled`.
        code: String,
        /// For the admin.
        message: String,
        /// The server's `Retry-After`, if it gave one.
        retry_after: Option<Duration>,
    },
    /// Retrying will not help (validation, user errors, a refused operation).
    #[error("{code}: {message}")]
    Permanent {
        /// Stable code, e.g. `user-error`.
        code: String,
        /// For the admin.
        message: String,
    },
    /// The service refused the host's credentials for the store (401/403:
    /// a revoked token, a wrong client secret). Every action of the store
    /// for that service would fail the same way: the framework pauses them
    /// (circuit breaker) until a probe succeeds, within the outage window.
    #[error("{code}: {message}")]
    CredentialsRefused {
        /// Stable code, e.g. `access-denied`.
        code: String,
        /// For the admin.
        message: String,
    },
}

impl ExecError {
    /// A transient failure.
    pub fn transient(
        code: impl Into<String>,
        message: impl Into<String>,
        retry_after: Option<Duration>,
    ) -> Self {
        ExecError::Transient {
            code: code.into(),
            message: message.into(),
            retry_after,
        }
    }

    /// A permanent failure.
    pub fn permanent(code: impl Into<String>, message: impl Into<String>) -> Self {
        ExecError::Permanent {
            code: code.into(),
            message: message.into(),
        }
    }

    /// Credentials refused.
    pub fn credentials_refused(code: impl Into<String>, message: impl Into<String>) -> Self {
        ExecError::CredentialsRefused {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Performs journalled actions of one family.
#[async_trait]
pub trait Executor: Send + Sync + std::fmt::Debug + 'static {
    /// The family it executes.
    fn family(&self) -> ActionFamily;

    /// Execute one entry (idempotently, by `entry.key`). The returned JSON is
    /// stored with the entry (created ids, "already done", ...).
    async fn execute(&self, entry: &JournalEntry) -> Result<serde_json::Value, ExecError>;

    /// How long one execution may take, with all its requests, retries and
    /// waits; it must be shorter than `executor.lease` (the configuration
    /// checks it), so an execution cannot outlive its claim and run beside
    /// another worker's. The framework cuts it off after this (a transient
    /// `timeout`: the next attempt repeats it under the same idempotency
    /// key). `None`: three quarters of `executor.lease`.
    fn execute_timeout(&self) -> Option<Duration> {
        None
    }

    /// Where its timeout is configured, for the message of a cut-off
    /// execution (e.g. `shopify.execute-timeout`).
    fn timeout_setting(&self) -> &'static str {
        "executor.lease"
    }

    /// The remote service it calls per store, if any: its executions go
    /// through that (store, service)'s circuit breaker
    /// (the pipeline's circuit breakers).
    fn service(&self) -> Option<Service> {
        None
    }
}
