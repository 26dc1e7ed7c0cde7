//! Where the `customer-history` host function gets its data.

use async_trait::async_trait;
use shopcase_contract::host_api::{CustomerHistory, HostError};

/// Where customer history comes from (the Shopify Admin API, cached; see
/// `shopcase-shopify`'s `HistoryCache`). The sandbox has already checked the
/// customer is the event's own.
#[async_trait]
pub trait CustomerHistorySource: Send + Sync + std::fmt::Debug + 'static {
    /// The customer's history in this store.
    async fn customer_history(
        &self,
        shop: &str,
        customer_id: u64,
    ) -> Result<CustomerHistory, HostError>;

    /// Drop whatever is cached on the customer (`Some`) or on the whole
    /// store (`None`): called after a `customers/redact` or `shop/redact`,
    /// so no personal data outlives the request in memory either.
    fn forget(&self, shop: &str, customer_id: Option<u64>) {
        let _ = (shop, customer_id);
    }
}

/// No history source configured: every call is `unavailable`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCustomerHistory;

#[async_trait]
impl CustomerHistorySource for NoCustomerHistory {
    async fn customer_history(
        &self,
        _shop: &str,
        _customer_id: u64,
    ) -> Result<CustomerHistory, HostError> {
        Err(HostError::NotConfigured(
            "customer history is not configured on this host".into(),
        ))
    }
}
