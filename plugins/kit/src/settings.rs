//! Settings read with a default and bounds.
//!
//! The host checks an admin's values against the manifest's `min`/`max`
//! when the plugin is enabled; the bounds here repeat them so a plugin
//! stays sane even with a manifest edited without them, and so a plugin's
//! code says what range it was written for.

use shopcase_sdk::host;

/// An `integer` setting, clamped to `min..=max`.
pub fn int(name: &str, default: i64, min: i64, max: i64) -> i64 {
    host::setting_integer(name, default).clamp(min, max)
}

/// A `number` (or `integer`) setting, clamped to `min..=max`; not-a-number
/// reads as `default`.
pub fn number(name: &str, default: f64, min: f64, max: f64) -> f64 {
    let n = host::setting_number(name, default);
    if n.is_nan() {
        default
    } else {
        n.clamp(min, max)
    }
}

/// A money threshold from a `number` setting, in cents (negative reads as
/// zero, fractions of a cent are rounded).
pub fn cents(name: &str, default: f64) -> i64 {
    let n = number(name, default, 0.0, 1e12);
    // In range by the clamp above, so the cast cannot saturate.
    (n * 100.0).round() as i64
}

/// A `text` setting, trimmed; empty reads as `default`.
pub fn text(name: &str, default: &str) -> String {
    let t = host::setting_text(name, default);
    let t = t.trim();
    if t.is_empty() {
        default.to_owned()
    } else {
        t.to_owned()
    }
}

/// A `text-list` setting, entries trimmed and empty ones dropped.
pub fn list(name: &str, default: &[&str]) -> Vec<String> {
    host::setting_list(name, default)
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// A `boolean` setting.
pub fn flag(name: &str, default: bool) -> bool {
    host::setting_bool(name, default)
}
