//! The host functions a plugin may call while it handles an event.
//!
//! Each needs a grant in `plugin.toml` (`[grants] host = [...]`): `log`,
//! `settings`, `kv` (see [`crate::kv`]), `customer-history`, `case-lookup`,
//! `order-lookup` and `order-risk`.
//! Calling one that is not granted stops the invocation at once with the
//! outcome `grant-denied`; it is a defect of the plugin or its manifest, not
//! an error to handle.
//!
//! On `wasm32` these call the WIT imports; natively they call the
//! [`crate::harness`], so plugin logic runs under `cargo test`.

#[cfg(target_arch = "wasm32")]
pub(crate) use crate::bindings::shopcase::plugin::host as backend;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use crate::harness::backend;

use crate::{
    CaseKey, CaseSummary, CustomerSummary, HostError, Level, OrderDetails, RiskSummary,
    SettingValue,
};

impl Level {
    /// `trace`, `debug`, `info`, `warn` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// Write a line to the host's log, tagged with the plugin, store and event.
/// Lines over 1 KiB are truncated; an invocation's lines are capped in total.
/// See also the [`crate::info!`]-style macros. Grant: `log`.
pub fn log(level: Level, message: &str) {
    backend::log(level, message)
}

/// A setting's value as the store's admin chose it (or its manifest
/// default); `None` if the manifest declares no such setting.
/// Grant: `settings`.
pub fn setting(name: &str) -> Option<SettingValue> {
    backend::setting(name)
}

/// A `text` setting, or `default` if it is not declared or not text.
pub fn setting_text(name: &str, default: &str) -> String {
    match setting(name) {
        Some(SettingValue::Text(s)) => s,
        _ => default.to_owned(),
    }
}

/// A `number` (or `integer`) setting, or `default` if it is not declared or
/// not a number.
pub fn setting_number(name: &str, default: f64) -> f64 {
    match setting(name) {
        Some(SettingValue::Number(n)) => n,
        Some(SettingValue::Integer(i)) => i as f64,
        _ => default,
    }
}

/// An `integer` setting, or `default` if it is not declared or not an
/// integer.
pub fn setting_integer(name: &str, default: i64) -> i64 {
    match setting(name) {
        Some(SettingValue::Integer(i)) => i,
        _ => default,
    }
}

/// A `boolean` setting, or `default` if it is not declared or not a boolean.
pub fn setting_bool(name: &str, default: bool) -> bool {
    match setting(name) {
        Some(SettingValue::Boolean(b)) => b,
        _ => default,
    }
}

/// A `text-list` setting, or `default` if it is not declared or not a list.
pub fn setting_list(name: &str, default: &[&str]) -> Vec<String> {
    match setting(name) {
        Some(SettingValue::TextList(l)) => l,
        _ => default.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// The history of the event's own customer (orders, amount spent, tags),
/// read from Shopify and cached by the host. The event's customer is
/// `event.resources.customer_id`, or, for an event that names only its
/// order (a return, dispute or fulfilment), the `customer_id` that
/// [`order`] answered earlier in the same event. Another customer's id is
/// an [`HostError::InvalidArgument`]. Grant: `customer-history`.
pub fn customer_history(customer_id: u64) -> Result<CustomerSummary, HostError> {
    backend::customer_history(customer_id)
}

/// The case already linked to `key` (whose subject must be the event's
/// own), with its last known state, or `None`. Grant: `case-lookup`.
pub fn linked_case(key: &CaseKey) -> Result<Option<CaseSummary>, HostError> {
    backend::linked_case(key)
}

/// The event's own order as Shopify's Admin API knows it now: totals, line
/// items, addresses (reduced to the plugin's data classes, as in payloads),
/// fulfilments and transactions; cached by the host. Another order's id is
/// an [`HostError::InvalidArgument`]; Shopify being down is
/// [`HostError::Unavailable`] (fail retryably). Grant: `order-lookup`.
pub fn order(order_id: u64) -> Result<OrderDetails, HostError> {
    backend::order(order_id)
}

/// Shopify's risk assessment of the event's own order: the recommendation
/// and each assessment's level, provider (`None` for Shopify's own) and
/// facts. Another order's id is an [`HostError::InvalidArgument`].
/// Grant: `order-risk`.
pub fn order_risk(order_id: u64) -> Result<RiskSummary, HostError> {
    backend::order_risk(order_id)
}

/// Setting values from plain Rust values (e.g. for the harness's
/// `setting(..)`, or to compare with [`setting`]).
impl From<&str> for SettingValue {
    fn from(s: &str) -> SettingValue {
        SettingValue::Text(s.to_owned())
    }
}

impl From<String> for SettingValue {
    fn from(s: String) -> SettingValue {
        SettingValue::Text(s)
    }
}

impl From<i32> for SettingValue {
    fn from(i: i32) -> SettingValue {
        SettingValue::Integer(i64::from(i))
    }
}

impl From<i64> for SettingValue {
    fn from(i: i64) -> SettingValue {
        SettingValue::Integer(i)
    }
}

impl From<f64> for SettingValue {
    fn from(n: f64) -> SettingValue {
        SettingValue::Number(n)
    }
}

impl From<bool> for SettingValue {
    fn from(b: bool) -> SettingValue {
        SettingValue::Boolean(b)
    }
}

impl From<Vec<String>> for SettingValue {
    fn from(l: Vec<String>) -> SettingValue {
        SettingValue::TextList(l)
    }
}

impl From<Vec<&str>> for SettingValue {
    fn from(l: Vec<&str>) -> SettingValue {
        SettingValue::TextList(l.into_iter().map(str::to_owned).collect())
    }
}
