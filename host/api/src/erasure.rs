//! Erasure in a remote case system for the privacy requests
//! (`customers/redact`, `shop/redact`): the pipeline decides when a
//! request runs and how long it waits for the service; an [`Erasure`]
//! decides what is erased there and reports it.

use async_trait::async_trait;
use serde_json::Value;
use shopcase_store::{CustomerIdentity, StoreError};

use crate::breaker::Breakers;

/// Whose data a pass erases.
#[derive(Debug, Clone, Copy)]
pub enum ErasureScope<'a> {
    /// One customer of the store (`customers/redact`).
    Customer(&'a CustomerIdentity),
    /// Every customer of the store (`shop/redact`).
    Shop,
}

/// What a pass came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Erased {
    /// Done: the request record's part for this service (what was
    /// scrubbed and what was not, with reasons; never the text).
    Done(Value),
    /// The service could not be reached (down, refusing the credentials,
    /// its breaker open): nothing is decided, and the pass runs again
    /// later, so it must be idempotent. `cases` are what the pass would
    /// have looked at, listed for an operator if the host stops waiting.
    Unreachable {
        /// Why, for logs and the record.
        why: String,
        /// One entry per case for the record, each saying it was not
        /// scrubbed.
        cases: Vec<Value>,
    },
}

/// Erases a customer's or a store's data in a remote case system.
#[async_trait]
pub trait Erasure: Send + Sync + std::fmt::Debug + 'static {
    /// One pass for `shop`, through the store's breaker for the service.
    /// Storage errors are the host's (the request is retried).
    async fn erase(
        &self,
        shop: &str,
        scope: ErasureScope<'_>,
        breakers: &Breakers,
    ) -> Result<Erased, StoreError>;
}
