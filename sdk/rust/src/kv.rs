//! The plugin's small key-value store, per store (grant: `kv`).
//!
//! For duplicate detection and counting (e.g. repeated payment failures).
//! Writes take effect only if the invocation succeeds, together with its
//! actions; reads see the invocation's own earlier writes; if another event
//! changed a key this invocation read, the host runs the event again, so
//! read-modify-write is safe. Keys are 1-128 bytes, values at most 16 KiB,
//! at most 64 keys written per event, within a per-store quota.
//!
//! ```no_run
//! # fn f() -> Result<(), shopcase_sdk::HostError> {
//! use shopcase_sdk::kv;
//! let failures: u32 = kv::get("failures:7001")?.and_then(|v| v.parse().ok()).unwrap_or(0);
//! kv::set("failures:7001", &(failures + 1).to_string(), Some(30 * 86_400))?;
//! # Ok(()) }
//! ```

use crate::HostError;
use crate::host::backend;

/// The value of `key`, or `None` if it is missing or expired.
pub fn get(key: &str) -> Result<Option<String>, HostError> {
    backend::kv_get(key)
}

/// Write `value` under `key`, expiring `ttl_seconds` after the event's
/// `triggered-at` if given.
pub fn set(key: &str, value: &str, ttl_seconds: Option<u32>) -> Result<(), HostError> {
    backend::kv_set(key, value, ttl_seconds)
}

/// Delete `key` (deleting a missing key is not an error).
pub fn delete(key: &str) -> Result<(), HostError> {
    backend::kv_delete(key)
}
