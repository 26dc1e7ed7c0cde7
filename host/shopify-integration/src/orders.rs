//! The `order` and `order-risk` host functions' data: [`ShopifyOrders`]
//! reads through the per-store [`OrderCache`] (one GraphQL query per
//! order and per risk, reused for `shopify.history-ttl`, like customer
//! history).
//!
//! The sandbox has already checked the grant and that the order is the
//! event's own, and minimises the answer to the plugin's data grants.
//! Failures become the plugin's `host-error` as for customer history
//! (`crate::history`): an order Shopify does not know is
//! `invalid-argument`; anything else (throttled, 5xx, timeout, a refused
//! token, no token configured) is `unavailable`, and an outage among them
//! is the host's condition to wait out, not the plugin's failure.

use std::sync::Arc;

use async_trait::async_trait;
use shopcase_contract::host_api::{HostError, OrderDetails, OrderRisk};
use shopcase_shopify::OrderCache;

use shopcase_host_api::OrderSource;

/// Orders and their risk from the Shopify Admin API, cached per store.
#[derive(Debug, Clone)]
pub struct ShopifyOrders {
    cache: Arc<OrderCache>,
}

impl ShopifyOrders {
    /// Over this cache.
    pub fn new(cache: Arc<OrderCache>) -> ShopifyOrders {
        ShopifyOrders { cache }
    }

    /// The cache (to invalidate an order or a store).
    pub fn cache(&self) -> &Arc<OrderCache> {
        &self.cache
    }
}

/// What the plugin is told.
fn host_error(e: &shopcase_shopify::Error, what: &str, order_id: u64) -> HostError {
    use shopcase_shopify::Error;
    match e {
        Error::NotFound { .. } => {
            HostError::InvalidArgument(format!("order {order_id} does not exist in this store"))
        }
        Error::UnknownShop { .. } => {
            HostError::NotConfigured(format!("{what} is not configured for this store"))
        }
        Error::AccessDenied {
            status: 401 | 403, ..
        } => HostError::CredentialsRefused("Shopify refused the store's Admin API access".into()),
        Error::AccessDenied { .. } => {
            HostError::Unavailable("Shopify refused the store's Admin API access".into())
        }
        Error::Throttled { .. } => {
            HostError::Unavailable("Shopify is rate limiting this store; try again later".into())
        }
        Error::Unavailable { .. } | Error::Transport { .. } => {
            HostError::Unavailable("Shopify did not answer; try again later".into())
        }
        _ => HostError::Unavailable(format!("{what} failed; see the host log")),
    }
}

#[async_trait]
impl OrderSource for ShopifyOrders {
    async fn order(&self, shop: &str, order_id: u64) -> Result<OrderDetails, HostError> {
        match self.cache.order(shop, order_id).await {
            Ok(o) => Ok(OrderDetails::clone(&o)),
            Err(e) => {
                tracing::warn!(shop, order_id, code = e.code(), error = %e, "order look-up failed");
                Err(host_error(&e, "order look-up", order_id))
            }
        }
    }

    async fn order_risk(&self, shop: &str, order_id: u64) -> Result<OrderRisk, HostError> {
        match self.cache.order_risk(shop, order_id).await {
            Ok(r) => Ok(OrderRisk::clone(&r)),
            Err(e) => {
                tracing::warn!(shop, order_id, code = e.code(), error = %e, "order risk look-up failed");
                Err(host_error(&e, "order risk look-up", order_id))
            }
        }
    }

    fn forget(&self, shop: &str) {
        self.cache.invalidate_shop(shop);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shopcase_shopify::Error;

    #[test]
    fn not_found_is_final_and_an_outage_is_unavailable() {
        let nf = Error::NotFound {
            shop: "s".into(),
            what: "order gid://shopify/Order/9".into(),
        };
        assert_eq!(
            host_error(&nf, "order look-up", 9),
            HostError::InvalidArgument("order 9 does not exist in this store".into())
        );
        let down = Error::Unavailable {
            shop: "s".into(),
            operation: "order",
            status: 503,
        };
        let h = host_error(&down, "order look-up", 9);
        assert!(h.is_outage(), "{h:?}");
        assert_eq!(
            host_error(&Error::UnknownShop { shop: "s".into() }, "order look-up", 9),
            HostError::NotConfigured("order look-up is not configured for this store".into())
        );
    }
}
