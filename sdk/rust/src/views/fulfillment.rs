//! Shipping: fulfillments and their tracking events.

use serde::{Deserialize, Serialize};

use super::{Address, LineItem, de};

/// A fulfillment (`fulfillments/create`, `fulfillments/update`, and in
/// `order.fulfillments`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Fulfillment {
    /// Numeric id (also `event.resources.fulfillment_id`).
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// `gid://shopify/Fulfillment/<id>`.
    #[serde(deserialize_with = "de::nullable")]
    pub admin_graphql_api_id: String,
    /// The order (also `event.resources.order_id`).
    #[serde(deserialize_with = "de::opt_id")]
    pub order_id: Option<u64>,
    /// e.g. `#1042.1`.
    #[serde(deserialize_with = "de::nullable")]
    pub name: String,
    /// `pending`, `open`, `success`, `cancelled`, `error`, `failure`.
    #[serde(deserialize_with = "de::nullable")]
    pub status: String,
    /// The latest carrier status, e.g. `in_transit`, `delivered`, `failure`.
    pub shipment_status: Option<String>,
    /// Fulfillment service, e.g. `manual`.
    pub service: Option<String>,
    /// Carrier, e.g. `UPS`.
    pub tracking_company: Option<String>,
    /// The first tracking number.
    pub tracking_number: Option<String>,
    /// All tracking numbers.
    #[serde(deserialize_with = "de::nullable")]
    pub tracking_numbers: Vec<String>,
    /// The first tracking URL.
    pub tracking_url: Option<String>,
    /// All tracking URLs.
    #[serde(deserialize_with = "de::nullable")]
    pub tracking_urls: Vec<String>,
    /// The location shipped from.
    #[serde(deserialize_with = "de::opt_id")]
    pub location_id: Option<u64>,
    /// Where it goes; needs an address grant.
    pub destination: Option<Address>,
    /// The lines shipped.
    #[serde(deserialize_with = "de::nullable")]
    pub line_items: Vec<LineItem>,
    /// RFC 3339.
    #[serde(deserialize_with = "de::nullable")]
    pub created_at: String,
    /// RFC 3339.
    #[serde(deserialize_with = "de::nullable")]
    pub updated_at: String,
}

/// A carrier tracking update (`fulfillment_events/create`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct FulfillmentEvent {
    /// Numeric id.
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// The fulfillment (also `event.resources.fulfillment_id`).
    #[serde(deserialize_with = "de::opt_id")]
    pub fulfillment_id: Option<u64>,
    /// The order (also `event.resources.order_id`).
    #[serde(deserialize_with = "de::opt_id")]
    pub order_id: Option<u64>,
    /// `attempted_delivery`, `carrier_picked_up`, `confirmed`, `delayed`,
    /// `delivered`, `failure`, `in_transit`, `label_printed`,
    /// `label_purchased`, `out_for_delivery`, `ready_for_pickup`.
    #[serde(deserialize_with = "de::nullable")]
    pub status: String,
    /// The carrier's message.
    pub message: Option<String>,
    /// RFC 3339: when it happened.
    #[serde(deserialize_with = "de::nullable")]
    pub happened_at: String,
    /// RFC 3339: the carrier's current estimate.
    pub estimated_delivery_at: Option<String>,
    /// Where it happened.
    pub city: Option<String>,
    /// Where it happened.
    pub province: Option<String>,
    /// Where it happened.
    pub country: Option<String>,
    /// Where it happened.
    pub zip: Option<String>,
    /// RFC 3339.
    #[serde(deserialize_with = "de::nullable")]
    pub created_at: String,
}

impl FulfillmentEvent {
    /// The shipment arrived.
    pub fn is_delivered(&self) -> bool {
        self.status == "delivered"
    }

    /// The carrier reports a problem (`failure`, `attempted_delivery`,
    /// `delayed`).
    pub fn is_problem(&self) -> bool {
        matches!(
            self.status.as_str(),
            "failure" | "attempted_delivery" | "delayed"
        )
    }
}
