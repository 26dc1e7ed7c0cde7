//! The data host functions hand to plugins, in the host's own form, and the
//! limits of the key-value store.

use serde::{Deserialize, Serialize};

use crate::action::{CaseStatus, Priority};

/// Longest key-value key, in bytes.
pub const KV_MAX_KEY_BYTES: usize = 128;
/// Longest key-value value, in bytes.
pub const KV_MAX_VALUE_BYTES: usize = 16 << 10;
/// Most key-value writes (sets and deletes) in one invocation.
pub const KV_MAX_WRITES_PER_CALL: usize = 64;
/// Default quota per plugin per store: keys.
pub const KV_DEFAULT_QUOTA_KEYS: u64 = 10_000;
/// Default quota per plugin per store: bytes of keys and values.
pub const KV_DEFAULT_QUOTA_BYTES: u64 = 8 << 20;
/// Most orders in a customer history.
pub const HISTORY_MAX_ORDERS: usize = 20;

/// One order in a customer's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSummary {
    pub id: u64,
    pub name: String,
    pub created_at: String,
    pub total_price: String,
    pub currency: String,
    pub financial_status: String,
    pub fulfillment_status: String,
    pub cancelled: bool,
    pub shipping_country: Option<String>,
}

/// What the store knows about a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerHistory {
    pub customer_id: u64,
    pub number_of_orders: u64,
    pub amount_spent: String,
    pub currency: String,
    pub tags: Vec<String>,
    pub created_at: String,
    /// Newest first, at most [`HISTORY_MAX_ORDERS`].
    pub recent_orders: Vec<OrderSummary>,
}

/// A case linked to a case key, as last seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedCase {
    pub case_id: String,
    pub case_number: String,
    pub status: CaseStatus,
    pub priority: Priority,
    pub escalation_level: u8,
    pub opened_at: String,
}

/// A host function could not answer; handed to the plugin as `host-error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    #[error("quota exceeded: {0}")]
    QuotaExceeded(String),
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The service behind the function did not answer (down, timed out,
    /// throttling): the host's condition, waited out if the run fails.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The service refused the host's credentials for this store (a
    /// revoked token). The guest is told `unavailable`; for the host it is
    /// an outage an operator must fix, waited out like one.
    #[error("unavailable: {0}")]
    CredentialsRefused(String),
    /// Nothing on this host answers the function for this store (no
    /// Admin API token configured). The guest is told `unavailable`; it is
    /// not an outage, so a run that fails on it is the plugin's failure.
    #[error("unavailable: {0}")]
    NotConfigured(String),
}

impl HostError {
    /// Whether the error is a service being down (or refusing the host's
    /// credentials): the host's condition, not the plugin's.
    pub fn is_outage(&self) -> bool {
        matches!(
            self,
            HostError::Unavailable(_) | HostError::CredentialsRefused(_)
        )
    }
}

impl From<crate::host_rules::Refusal> for HostError {
    fn from(r: crate::host_rules::Refusal) -> HostError {
        use crate::host_rules::Refusal;
        match r {
            Refusal::InvalidArgument(m) => HostError::InvalidArgument(m),
            Refusal::QuotaExceeded(m) => HostError::QuotaExceeded(m),
        }
    }
}
