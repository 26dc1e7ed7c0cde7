//! The remote services the host calls on a store's behalf.

use std::fmt;

use serde::Serialize;

/// A service the host calls on a store's behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Service {
    /// The store's Shopify Admin API.
    Shopify,
    /// Core Case.
    CoreCase,
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::Shopify => "shopify",
            Service::CoreCase => "corecase",
        })
    }
}
