//! The plugin's key-value store, as JSON values and once-only markers.
//!
//! Writes become visible only if the invocation succeeds, together with its
//! actions, and the host re-runs an event whose reads raced with another
//! event's writes. So "check a marker, then act and set it" is safe: the
//! same event delivered twice, or two `orders/updated` for the same order,
//! act once.

use serde::Serialize;
use serde::de::DeserializeOwned;
use shopcase_sdk::{PluginError, kv};

/// Seconds in an hour, for time-to-live values.
pub const HOUR: u32 = 3_600;
/// Seconds in a day, for time-to-live values.
pub const DAY: u32 = 86_400;

/// `n` hours as a time to live in seconds (negative is zero, saturating).
pub fn hours(n: i64) -> u32 {
    u32::try_from(n.max(0).saturating_mul(i64::from(HOUR))).unwrap_or(u32::MAX)
}

/// `n` days as a time to live in seconds (negative is zero, saturating).
pub fn days(n: i64) -> u32 {
    u32::try_from(n.max(0).saturating_mul(i64::from(DAY))).unwrap_or(u32::MAX)
}

/// A JSON value this plugin stored under `key`. A value that no longer
/// parses (written by an older version of the plugin) reads as absent.
pub fn get_json<T: DeserializeOwned>(key: &str) -> Result<Option<T>, PluginError> {
    Ok(kv::get(key)?.and_then(|text| serde_json::from_str(&text).ok()))
}

/// Store `value` as JSON under `key`, expiring after `ttl` seconds if given.
pub fn set_json<T: Serialize>(key: &str, value: &T, ttl: Option<u32>) -> Result<(), PluginError> {
    let text = serde_json::to_string(value)
        .map_err(|e| PluginError::new(format!("cannot store `{key}`: {e}")))?;
    kv::set(key, &text, ttl)?;
    Ok(())
}

/// Whether `key` is set (to anything).
pub fn is_set(key: &str) -> Result<bool, PluginError> {
    Ok(kv::get(key)?.is_some())
}

/// Set a marker under `key` and say whether it was absent before: `true`
/// the first time, `false` after (until it expires after `ttl` seconds).
pub fn first_time(key: &str, ttl: Option<u32>) -> Result<bool, PluginError> {
    if is_set(key)? {
        return Ok(false);
    }
    kv::set(key, "1", ttl)?;
    Ok(true)
}

/// Remove `key`.
pub fn forget(key: &str) -> Result<(), PluginError> {
    kv::delete(key)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_saturate() {
        assert_eq!(hours(2), 7_200);
        assert_eq!(days(1), DAY);
        assert_eq!(days(-3), 0);
        assert_eq!(days(i64::MAX), u32::MAX);
    }
}
