//! Where the `order` and `order-risk` host functions (plugin API 0.2.0)
//! get their data.

use async_trait::async_trait;
use shopcase_contract::host_api::{HostError, OrderDetails, OrderRisk};

/// Where an order and its risk assessment come from (the Shopify Admin
/// API, cached; see `shopcase-shopify`'s `OrderCache`). The sandbox has
/// already checked the grant and that the order is the event's own, and
/// minimises what it hands the plugin; a source answers the order whole.
#[async_trait]
pub trait OrderSource: Send + Sync + std::fmt::Debug + 'static {
    /// The order in this store.
    async fn order(&self, shop: &str, order_id: u64) -> Result<OrderDetails, HostError>;

    /// Shopify's risk assessment of the order.
    async fn order_risk(&self, shop: &str, order_id: u64) -> Result<OrderRisk, HostError>;

    /// Drop whatever is cached on the store's orders: called after a
    /// `customers/redact` or `shop/redact`, so no personal data (the
    /// addresses) outlives the request in memory either.
    fn forget(&self, shop: &str) {
        let _ = shop;
    }
}

/// No order source configured: every call is `unavailable`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoOrderSource;

#[async_trait]
impl OrderSource for NoOrderSource {
    async fn order(&self, _shop: &str, _order_id: u64) -> Result<OrderDetails, HostError> {
        Err(HostError::NotConfigured(
            "order look-up is not configured on this host".into(),
        ))
    }

    async fn order_risk(&self, _shop: &str, _order_id: u64) -> Result<OrderRisk, HostError> {
        Err(HostError::NotConfigured(
            "order risk look-up is not configured on this host".into(),
        ))
    }
}
