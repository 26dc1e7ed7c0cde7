//! The `customer-history` host function's data: [`ShopifyHistory`] reads
//! through the per-store [`HistoryCache`] (one GraphQL query per customer,
//! reused for `shopify.history-ttl`).
//!
//! The sandbox has already checked the grant and that the customer is the
//! event's own. A customer Shopify no longer knows (deleted, redacted) is
//! not a failure: the cache answers an empty history. Failures become the
//! plugin's `host-error`:
//!
//! | Shopify says | plugin gets | why |
//! |---|---|---|
//! | something else not found | `invalid-argument` | asking again will not help |
//! | anything else (throttled, 5xx, timeout, a refused token, no token configured) | `unavailable` | the plugin fails retryably; the event runs again later, after an admin fixed what needed fixing |
//!
//! Messages to the plugin are short and generic; the details go to the log.

use std::sync::Arc;

use async_trait::async_trait;
use shopcase_contract::host_api::CustomerHistory;
use shopcase_contract::host_api::HostError;
use shopcase_shopify::HistoryCache;

use shopcase_host_api::CustomerHistorySource;

/// Customer history from the Shopify Admin API, cached per store.
#[derive(Debug, Clone)]
pub struct ShopifyHistory {
    cache: Arc<HistoryCache>,
}

impl ShopifyHistory {
    /// Over this cache.
    pub fn new(cache: Arc<HistoryCache>) -> ShopifyHistory {
        ShopifyHistory { cache }
    }

    /// The cache (to invalidate a customer or a store).
    pub fn cache(&self) -> &Arc<HistoryCache> {
        &self.cache
    }
}

#[async_trait]
impl CustomerHistorySource for ShopifyHistory {
    async fn customer_history(
        &self,
        shop: &str,
        customer_id: u64,
    ) -> Result<CustomerHistory, HostError> {
        match self.cache.customer_history(shop, customer_id).await {
            Ok(history) => Ok(CustomerHistory::clone(&history)),
            Err(e) => {
                tracing::warn!(shop, customer_id, code = e.code(), error = %e, "customer history failed");
                Err(host_error(&e, customer_id))
            }
        }
    }

    fn forget(&self, shop: &str, customer_id: Option<u64>) {
        match customer_id {
            Some(id) => self.cache.invalidate(shop, id),
            None => self.cache.invalidate_shop(shop),
        }
    }
}

/// What the plugin is told. Messages stay free of commas and internals
/// (plugins may echo them into tags or logs).
pub(crate) fn host_error(e: &shopcase_shopify::Error, customer_id: u64) -> HostError {
    use shopcase_shopify::Error;
    match e {
        Error::NotFound { .. } => HostError::InvalidArgument(format!(
            "customer {customer_id} does not exist in this store"
        )),
        Error::UnknownShop { .. } => {
            HostError::NotConfigured("customer history is not configured for this store".into())
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
        _ => HostError::Unavailable("customer history failed; see the host log".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shopcase_shopify::Error;

    #[test]
    fn not_found_is_final_and_the_rest_retryable() {
        let nf = host_error(
            &Error::NotFound {
                shop: "s".into(),
                what: "customer 9".into(),
            },
            9,
        );
        assert_eq!(
            nf,
            HostError::InvalidArgument("customer 9 does not exist in this store".into())
        );
        for e in [
            Error::AccessDenied {
                shop: "s".into(),
                status: 401,
                detail: "Invalid API key or access token (unrecognized login or wrong password)"
                    .into(),
            },
            Error::Throttled {
                shop: "s".into(),
                operation: "customer",
                waits: 3,
            },
            Error::Transport {
                shop: "s".into(),
                operation: "customer",
                detail: "connection refused to http://10.0.0.1:1234".into(),
                sent: false,
            },
            Error::UnknownShop { shop: "s".into() },
            Error::Decode {
                shop: "s".into(),
                operation: "customer",
                detail: "no `data`".into(),
            },
        ] {
            let h = host_error(&e, 9);
            let (HostError::Unavailable(m)
            | HostError::CredentialsRefused(m)
            | HostError::NotConfigured(m)) = &h
            else {
                panic!("{e}: {h:?}")
            };
            assert!(
                !m.contains(',') && !m.contains("http") && !m.contains("password"),
                "{m}"
            );
        }
    }
}
