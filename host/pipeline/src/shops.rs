//! The configured stores and their webhook secrets, looked up per request.

use std::collections::HashMap;

use shopcase_contract::time::Timestamp;
use shopcase_net::Secret;

use crate::config::{Config, PreviousSecret};
use crate::ingress::hmac;

/// How a signature checked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verified {
    /// With the current secret.
    Current,
    /// With the previous secret, inside its rotation window.
    Previous,
    /// With neither.
    No,
}

/// One store's webhook secrets.
#[derive(Debug, Clone)]
pub(crate) struct ShopSecrets {
    current: Secret,
    previous: Option<PreviousSecret>,
}

impl ShopSecrets {
    /// Check `mac` over `body`: the current secret, then the previous one
    /// while `now` is inside its window.
    pub(crate) fn verify(&self, body: &[u8], mac: &[u8], now: Timestamp) -> Verified {
        if hmac::verify(self.current.expose().as_bytes(), body, mac) {
            return Verified::Current;
        }
        match &self.previous {
            Some(p) if now <= p.until && hmac::verify(p.secret.expose().as_bytes(), body, mac) => {
                Verified::Previous
            }
            _ => Verified::No,
        }
    }
}

/// The stores this host serves.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shops {
    by_domain: HashMap<String, ShopSecrets>,
}

impl Shops {
    pub(crate) fn from_config(config: &Config) -> Shops {
        Shops {
            by_domain: config
                .stores
                .iter()
                .map(|s| {
                    (
                        s.domain.clone(),
                        ShopSecrets {
                            current: s.webhook_secret.clone(),
                            previous: s.previous_webhook_secret.clone(),
                        },
                    )
                })
                .collect(),
        }
    }

    pub(crate) fn get(&self, domain: &str) -> Option<&ShopSecrets> {
        self.by_domain.get(domain)
    }
}
