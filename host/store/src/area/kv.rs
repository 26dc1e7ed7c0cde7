//! The plugins' key-value data, as the host reads it (plugins write it
//! through [`crate::InboxStore::finish_event`], with their journal entries).
//!
//! SQL: `sqlite/kv.rs`.

use async_trait::async_trait;

use crate::error::Result;
use crate::model::*;

/// The plugins' key-value data. Every method is one transaction.
#[async_trait]
pub trait KvStore: Send + Sync {
    /// A key of a plugin in a store as live at `at`: the reading event's
    /// `triggered_at` (expiry is in event time; see `docs/ARCHITECTURE.md`,
    /// "Time").
    async fn kv_get(
        &self,
        shop: &str,
        plugin_id: &str,
        key: &str,
        at: Timestamp,
    ) -> Result<Option<KvValue>>;

    /// A plugin's usage in a store: the keys live at `at` (event time).
    async fn kv_stats(&self, shop: &str, plugin_id: &str, at: Timestamp) -> Result<KvStats>;

    /// Delete the keys that expired at or before `before` (housekeeping;
    /// the caller leaves a grace for late events). Returns how many.
    async fn kv_purge_expired(&self, before: Timestamp) -> Result<u64>;
}

/// A stored key-value entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvValue {
    /// The value.
    pub value: String,
    /// Its version: increases on every write (store-wide, never reused).
    pub version: u64,
    /// When it expires.
    pub expires_at: Option<Timestamp>,
}

/// Key-value usage of one plugin in one store (live keys only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KvStats {
    /// Keys.
    pub keys: u64,
    /// Bytes of keys and values.
    pub bytes: u64,
}
