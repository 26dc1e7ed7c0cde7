//! What the embedder provides to host functions.
//!
//! The sandbox checks grants, argument ownership (the event's own customer,
//! order and case subject), sizes, quotas and data minimisation itself; a [`HostServices`]
//! implementation only fetches data for the store and plugin it was made
//! for. It is called from the thread running the plugin and may block
//! (reading the database, querying Shopify); time spent in it does not count
//! against the plugin's deadline, so it must bound its own waits.

use std::collections::BTreeMap;
use std::sync::Mutex;

use shopcase_contract::CaseKey;
pub use shopcase_contract::host_api::HostError;
use shopcase_contract::host_api::{CustomerHistory, LinkedCase, OrderDetails, OrderRisk};

/// A stored key-value entry and its version (for conflict detection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvEntry {
    pub value: String,
    /// Changes whenever the entry is written; the embedder compares it at
    /// commit time to detect that another invocation changed the key.
    pub version: u64,
}

/// How much of its key-value quota a plugin uses in a store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KvUsage {
    pub keys: u64,
    pub bytes: u64,
    pub quota_keys: u64,
    pub quota_bytes: u64,
}

/// Data sources for one (store, plugin) pair.
pub trait HostServices: Send + Sync {
    /// Read a key (expired keys are absent).
    fn kv_get(&self, key: &str) -> Result<Option<KvEntry>, HostError>;
    /// Current usage and quota.
    fn kv_usage(&self) -> Result<KvUsage, HostError>;
    /// The customer's history (the sandbox has checked it is the event's own customer).
    fn customer_history(&self, customer_id: u64) -> Result<CustomerHistory, HostError>;
    /// The case linked to a key (the sandbox has checked the subject is the event's own).
    fn linked_case(&self, key: &CaseKey) -> Result<Option<LinkedCase>, HostError>;
    /// The order, whole (the sandbox has checked it is the event's own
    /// order, and minimises it to the plugin's data grants).
    fn order(&self, order_id: u64) -> Result<OrderDetails, HostError>;
    /// Shopify's risk assessment of the order (the sandbox has checked it
    /// is the event's own order).
    fn order_risk(&self, order_id: u64) -> Result<OrderRisk, HostError>;
}

/// No data at all: an empty key-value store, no history, no linked cases,
/// no orders.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoServices;

impl HostServices for NoServices {
    fn kv_get(&self, _key: &str) -> Result<Option<KvEntry>, HostError> {
        Ok(None)
    }

    fn kv_usage(&self) -> Result<KvUsage, HostError> {
        Ok(KvUsage {
            quota_keys: shopcase_contract::host_api::KV_DEFAULT_QUOTA_KEYS,
            quota_bytes: shopcase_contract::host_api::KV_DEFAULT_QUOTA_BYTES,
            ..KvUsage::default()
        })
    }

    fn customer_history(&self, _customer_id: u64) -> Result<CustomerHistory, HostError> {
        Err(HostError::Unavailable(
            "no customer history is configured".into(),
        ))
    }

    fn linked_case(&self, _key: &CaseKey) -> Result<Option<LinkedCase>, HostError> {
        Ok(None)
    }

    fn order(&self, _order_id: u64) -> Result<OrderDetails, HostError> {
        Err(HostError::Unavailable(
            "no order look-up is configured".into(),
        ))
    }

    fn order_risk(&self, _order_id: u64) -> Result<OrderRisk, HostError> {
        Err(HostError::Unavailable(
            "no order risk look-up is configured".into(),
        ))
    }
}

/// In-memory data for local runs (`shopcase plugin run`) and tests.
#[derive(Debug, Default)]
pub struct MemoryServices {
    kv: Mutex<BTreeMap<String, KvEntry>>,
    histories: BTreeMap<u64, CustomerHistory>,
    cases: BTreeMap<CaseKey, LinkedCase>,
    orders: BTreeMap<u64, OrderDetails>,
    risks: BTreeMap<u64, OrderRisk>,
}

impl MemoryServices {
    /// Empty.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a key-value entry.
    pub fn with_kv(self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.kv_insert(key.into(), value.into());
        self
    }

    /// Add a customer history.
    pub fn with_history(mut self, history: CustomerHistory) -> Self {
        self.histories.insert(history.customer_id, history);
        self
    }

    /// Add a linked case.
    pub fn with_case(mut self, key: CaseKey, case: LinkedCase) -> Self {
        self.cases.insert(key, case);
        self
    }

    /// Add an order (for the `order` host function).
    pub fn with_order(mut self, order: OrderDetails) -> Self {
        self.orders.insert(order.id, order);
        self
    }

    /// Add an order's risk assessment (for the `order-risk` host function).
    pub fn with_order_risk(mut self, order_id: u64, risk: OrderRisk) -> Self {
        self.risks.insert(order_id, risk);
        self
    }

    /// Apply an invocation's key-value writes (as the server would on success).
    pub fn apply(&self, writes: &[crate::KvWrite]) {
        for w in writes {
            match &w.value {
                Some(v) => self.kv_insert(w.key.clone(), v.clone()),
                None => {
                    self.lock().remove(&w.key);
                }
            }
        }
    }

    /// The current key-value contents.
    pub fn kv_snapshot(&self) -> BTreeMap<String, String> {
        self.lock()
            .iter()
            .map(|(k, e)| (k.clone(), e.value.clone()))
            .collect()
    }

    fn kv_insert(&self, key: String, value: String) {
        let mut kv = self.lock();
        let version = kv.get(&key).map_or(1, |e| e.version + 1);
        kv.insert(key, KvEntry { value, version });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, KvEntry>> {
        // A poisoned lock only means another test thread panicked; the map is still usable.
        self.kv.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl HostServices for MemoryServices {
    fn kv_get(&self, key: &str) -> Result<Option<KvEntry>, HostError> {
        Ok(self.lock().get(key).cloned())
    }

    fn kv_usage(&self) -> Result<KvUsage, HostError> {
        let kv = self.lock();
        Ok(KvUsage {
            keys: kv.len() as u64,
            bytes: kv
                .iter()
                .map(|(k, e)| (k.len() + e.value.len()) as u64)
                .sum(),
            quota_keys: shopcase_contract::host_api::KV_DEFAULT_QUOTA_KEYS,
            quota_bytes: shopcase_contract::host_api::KV_DEFAULT_QUOTA_BYTES,
        })
    }

    fn customer_history(&self, customer_id: u64) -> Result<CustomerHistory, HostError> {
        self.histories.get(&customer_id).cloned().ok_or_else(|| {
            HostError::NotConfigured(format!("no history for customer {customer_id} in this run"))
        })
    }

    fn linked_case(&self, key: &CaseKey) -> Result<Option<LinkedCase>, HostError> {
        Ok(self.cases.get(key).cloned())
    }

    fn order(&self, order_id: u64) -> Result<OrderDetails, HostError> {
        self.orders
            .get(&order_id)
            .cloned()
            .ok_or_else(|| HostError::NotConfigured(format!("no order {order_id} in this run")))
    }

    fn order_risk(&self, order_id: u64) -> Result<OrderRisk, HostError> {
        self.risks.get(&order_id).cloned().ok_or_else(|| {
            HostError::NotConfigured(format!(
                "no risk assessment of order {order_id} in this run"
            ))
        })
    }
}
