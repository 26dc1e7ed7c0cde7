//! Conversions every backend shares: times as integer milliseconds since
//! the Unix epoch, JSON columns, worker names, and the corrupt-row error.

use std::time::Duration;

use crate::error::{Result, StoreError};
use crate::model::Timestamp;

pub(crate) fn now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}

/// The host process a worker belongs to: the pipeline names its workers
/// `<process>-<role>`, the process being `<pid>-<random>`; a name without
/// that shape is a process of its own.
pub(crate) fn process_of(worker: &str) -> &str {
    match worker.match_indices('-').nth(1) {
        Some((i, _)) => &worker[..i],
        None => worker,
    }
}

pub(crate) fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

pub(crate) fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

pub(crate) fn ts_opt(ms: Option<i64>) -> Option<Timestamp> {
    ms.map(ts)
}

pub(crate) fn dur_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

pub(crate) fn corrupt(what: &'static str) -> impl Fn(String) -> StoreError {
    move |message| StoreError::Corrupt { what, message }
}

pub(crate) fn to_json<T: serde::Serialize>(what: &'static str, v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt {
        what,
        message: e.to_string(),
    })
}
