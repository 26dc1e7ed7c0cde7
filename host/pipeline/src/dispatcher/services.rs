//! The host functions' data for one (store, plugin) run: key-value data and
//! case links from storage, customer history and orders from pluggable
//! sources.
//!
//! The sandbox calls these from the thread running the plugin (a blocking
//! thread), so each call blocks on the async storage through the runtime
//! handle, bounded by a timeout: host-call time does not count against the
//! plugin's deadline, so the host bounds it itself.

use std::sync::Arc;
use std::time::Duration;

use shopcase_contract::CaseKey;
use shopcase_contract::host_api::{CustomerHistory, LinkedCase, OrderDetails, OrderRisk};
use shopcase_contract::time::Timestamp;
use shopcase_sandbox::{HostError, HostServices, KvEntry, KvUsage};
use shopcase_store::Storage;

pub use shopcase_host_api::{CustomerHistorySource, NoCustomerHistory, NoOrderSource, OrderSource};

/// [`HostServices`] for one run.
pub(crate) struct StorageServices {
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) history: Arc<dyn CustomerHistorySource>,
    pub(crate) orders: Arc<dyn OrderSource>,
    pub(crate) handle: tokio::runtime::Handle,
    pub(crate) shop: String,
    pub(crate) plugin: String,
    pub(crate) quota_keys: u64,
    pub(crate) quota_bytes: u64,
    /// The event's `triggered_at`: key-value expiry is judged in event time.
    pub(crate) event_time: Timestamp,
    /// The longest one host call may take.
    pub(crate) timeout: Duration,
}

impl StorageServices {
    fn block<T, E: std::fmt::Display>(
        &self,
        what: &str,
        fut: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, HostError> {
        match self
            .handle
            .block_on(async { tokio::time::timeout(self.timeout, fut).await })
        {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                tracing::warn!(shop = %self.shop, plugin = %self.plugin, error = %e, "host function {what} failed");
                Err(HostError::Unavailable(format!(
                    "{what} is unavailable right now"
                )))
            }
            Err(_) => Err(HostError::Unavailable(format!("{what} timed out"))),
        }
    }
}

impl StorageServices {
    /// A call to a pluggable source, which classifies its own failures;
    /// only the timeout is added here.
    fn source<T>(
        &self,
        what: &str,
        fut: impl std::future::Future<Output = Result<T, HostError>>,
    ) -> Result<T, HostError> {
        match self
            .handle
            .block_on(async { tokio::time::timeout(self.timeout, fut).await })
        {
            Ok(r) => r,
            Err(_) => Err(HostError::Unavailable(format!("{what} timed out"))),
        }
    }
}

impl HostServices for StorageServices {
    fn kv_get(&self, key: &str) -> Result<Option<KvEntry>, HostError> {
        let v = self.block(
            "kv-get",
            self.storage
                .kv_get(&self.shop, &self.plugin, key, self.event_time),
        )?;
        Ok(v.map(|v| KvEntry {
            value: v.value,
            version: v.version,
        }))
    }

    fn kv_usage(&self) -> Result<KvUsage, HostError> {
        let s = self.block(
            "kv-usage",
            self.storage
                .kv_stats(&self.shop, &self.plugin, self.event_time),
        )?;
        Ok(KvUsage {
            keys: s.keys,
            bytes: s.bytes,
            quota_keys: self.quota_keys,
            quota_bytes: self.quota_bytes,
        })
    }

    fn customer_history(&self, customer_id: u64) -> Result<CustomerHistory, HostError> {
        match self.handle.block_on(async {
            tokio::time::timeout(
                self.timeout,
                self.history.customer_history(&self.shop, customer_id),
            )
            .await
        }) {
            Ok(r) => r,
            Err(_) => Err(HostError::Unavailable("customer-history timed out".into())),
        }
    }

    fn linked_case(&self, key: &CaseKey) -> Result<Option<LinkedCase>, HostError> {
        let link = self.block("linked-case", self.storage.case_link(&self.shop, key))?;
        Ok(link.map(|l| l.to_linked_case()))
    }

    fn order(&self, order_id: u64) -> Result<OrderDetails, HostError> {
        self.source("order", self.orders.order(&self.shop, order_id))
    }

    fn order_risk(&self, order_id: u64) -> Result<OrderRisk, HostError> {
        self.source("order-risk", self.orders.order_risk(&self.shop, order_id))
    }
}
