//! Returns (`returns/request`, `returns/approve`, `returns/decline`, ...).

use serde::{Deserialize, Serialize};

use super::{LineItem, de};

/// A return request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Return {
    /// Numeric id (also `event.resources.return_id`).
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// `gid://shopify/Return/<id>`.
    #[serde(deserialize_with = "de::nullable")]
    pub admin_graphql_api_id: String,
    /// e.g. `#1042-R1`.
    #[serde(deserialize_with = "de::nullable")]
    pub name: String,
    /// `requested`, `open`, `declined`, `closed`, `canceled`.
    #[serde(deserialize_with = "de::nullable")]
    pub status: String,
    /// The order (also `event.resources.order_id`).
    pub order: Option<ObjectRef>,
    /// Number of return line items.
    #[serde(deserialize_with = "de::nullable")]
    pub total_return_line_items: u64,
    /// What the customer sends back, and why.
    #[serde(deserialize_with = "de::nullable")]
    pub return_line_items: Vec<ReturnLineItem>,
    /// Why the return was declined, once it is.
    pub decline: Option<ReturnDecline>,
}

impl Return {
    /// The order's id, from the payload (`event.resources.order_id` is the
    /// one actions may name).
    pub fn order_id(&self) -> Option<u64> {
        self.order.as_ref().map(|o| o.id).filter(|&id| id != 0)
    }

    /// Units to be returned, over all lines.
    pub fn quantity(&self) -> u64 {
        self.return_line_items.iter().map(|l| l.quantity).sum()
    }

    /// The distinct return reasons, in order of appearance.
    pub fn reasons(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for l in &self.return_line_items {
            if !l.return_reason.is_empty() && !out.contains(&l.return_reason.as_str()) {
                out.push(&l.return_reason);
            }
        }
        out
    }
}

/// A reference to another object: its id and gid.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ObjectRef {
    /// Numeric id (read from a gid if that is all there is).
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// `gid://shopify/<Type>/<id>`.
    #[serde(deserialize_with = "de::nullable")]
    pub admin_graphql_api_id: String,
}

/// One line of a return.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ReturnLineItem {
    /// Numeric id.
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// Units.
    #[serde(deserialize_with = "de::nullable")]
    pub quantity: u64,
    /// Lowercase reason, e.g. `defective`, `wrong_item`, `size_too_small`,
    /// `not_as_described`, `unwanted`, `other`.
    #[serde(deserialize_with = "de::nullable")]
    pub return_reason: String,
    /// The note on the reason (for `other`; written by the customer in a
    /// self-serve return). Needs the `customer-notes` grant.
    pub return_reason_note: Option<String>,
    /// What the customer wrote (at most 300 characters). Needs the
    /// `customer-notes` grant.
    pub customer_note: Option<String>,
    /// The fulfilled line being returned.
    pub fulfillment_line_item: Option<FulfillmentLineItem>,
}

/// A fulfilled line, as returns refer to it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct FulfillmentLineItem {
    /// Numeric id.
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// The order's line item (often only its ids).
    pub line_item: Option<LineItem>,
}

/// Why a return was declined.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ReturnDecline {
    /// e.g. `final_sale`, `return_period_ended`, `other`.
    #[serde(deserialize_with = "de::nullable")]
    pub reason: String,
    /// The note shown to the customer.
    pub note: Option<String>,
}
