//! The data host functions hand to plugins, in the host's own form, and the
//! limits of the key-value store.
//!
//! Every plugin API version converts its WIT types from and to these, so
//! they are the common ground of the versions the host runs side by side
//! (the order look-up and risk types exist from plugin API 0.2.0 on).

use serde::{Deserialize, Serialize};

use crate::action::{CaseStatus, Priority};
use crate::manifest::Grants;

/// Longest key-value key, in bytes.
pub const KV_MAX_KEY_BYTES: usize = 128;
/// Longest key-value value, in bytes.
pub const KV_MAX_VALUE_BYTES: usize = 16 << 10;
/// Most key-value writes (sets and deletes) in one invocation.
pub const KV_MAX_WRITES_PER_CALL: usize = 64;
/// Default quota per plugin per store: keys.
pub const KV_DEFAULT_QUOTA_KEYS: u64 = 10_000;
/// Default quota per plugin per store: bytes of keys and values.
pub const KV_DEFAULT_QUOTA_BYTES: u64 = 8 << 20;
/// Most orders in a customer history.
pub const HISTORY_MAX_ORDERS: usize = 20;

/// Most line items in an order look-up.
pub const ORDER_MAX_LINE_ITEMS: usize = 100;
/// Most fulfilments in an order look-up.
pub const ORDER_MAX_FULFILLMENTS: usize = 20;
/// Most transactions in an order look-up.
pub const ORDER_MAX_TRANSACTIONS: usize = 50;
/// Most assessments in an order's risk.
pub const RISK_MAX_ASSESSMENTS: usize = 10;
/// Most facts per risk assessment.
pub const RISK_MAX_FACTS: usize = 20;

/// One order in a customer's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSummary {
    pub id: u64,
    pub name: String,
    pub created_at: String,
    pub total_price: String,
    pub currency: String,
    pub financial_status: String,
    pub fulfillment_status: String,
    pub cancelled: bool,
    pub shipping_country: Option<String>,
}

/// What the store knows about a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerHistory {
    pub customer_id: u64,
    pub number_of_orders: u64,
    pub amount_spent: String,
    pub currency: String,
    pub tags: Vec<String>,
    pub created_at: String,
    /// Newest first, at most [`HISTORY_MAX_ORDERS`].
    pub recent_orders: Vec<OrderSummary>,
}

/// A case linked to a case key, as last seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedCase {
    pub case_id: String,
    pub case_number: String,
    pub status: CaseStatus,
    pub priority: Priority,
    pub escalation_level: u8,
    pub opened_at: String,
}

/// An amount in a currency.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Money {
    /// Decimal string.
    pub amount: String,
    /// ISO 4217 code.
    pub currency: String,
}

/// A postal address of an order, with Shopify's REST field names (the
/// names payload minimisation knows). [`OrderDetails::minimised`] removes
/// what a plugin may not see, by the same rules as payload addresses.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Address {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub province_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// ISO 3166 alpha-2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLineItem {
    pub id: u64,
    pub title: String,
    pub sku: Option<String>,
    pub quantity: u32,
    /// Before discounts.
    pub unit_price: Money,
    pub variant_id: Option<u64>,
    pub product_id: Option<u64>,
}

/// A fulfilment of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderFulfillment {
    pub id: u64,
    /// Shopify's `FulfillmentStatus`.
    pub status: String,
    pub created_at: String,
    pub tracking_company: Option<String>,
    pub tracking_number: Option<String>,
}

/// A payment transaction of an order (no card or receipt data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderTransaction {
    /// Shopify's `OrderTransactionKind`.
    pub kind: String,
    /// Shopify's `OrderTransactionStatus`.
    pub status: String,
    pub gateway: Option<String>,
    pub amount: Money,
    pub created_at: String,
}

/// An order as the Admin API knows it (the `order` host function).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderDetails {
    pub id: u64,
    pub name: String,
    pub created_at: String,
    pub currency: String,
    pub subtotal: Option<Money>,
    pub total: Money,
    pub current_total: Money,
    pub outstanding: Money,
    pub total_refunded: Money,
    pub financial_status: String,
    pub fulfillment_status: String,
    pub cancelled: bool,
    pub customer_id: Option<u64>,
    /// At most [`ORDER_MAX_LINE_ITEMS`].
    pub line_items: Vec<OrderLineItem>,
    pub shipping_address: Option<Address>,
    pub billing_address: Option<Address>,
    /// At most [`ORDER_MAX_FULFILLMENTS`].
    pub fulfillments: Vec<OrderFulfillment>,
    /// At most [`ORDER_MAX_TRANSACTIONS`].
    pub transactions: Vec<OrderTransaction>,
}

impl OrderDetails {
    /// What a plugin with `grants` may see: the addresses go through the
    /// payload minimisation rules of an order's `shipping_address` and
    /// `billing_address` (none without `address-region`; streets and
    /// coordinates with `address`; names and phone with
    /// `customer-contact`), and the lists are cut to their bounds.
    pub fn minimised(mut self, grants: &Grants) -> OrderDetails {
        self.shipping_address = self
            .shipping_address
            .and_then(|a| minimised_address(a, grants));
        self.billing_address = self
            .billing_address
            .and_then(|a| minimised_address(a, grants));
        self.line_items.truncate(ORDER_MAX_LINE_ITEMS);
        self.fulfillments.truncate(ORDER_MAX_FULFILLMENTS);
        self.transactions.truncate(ORDER_MAX_TRANSACTIONS);
        self
    }
}

/// What a plugin with `grants` may see of an order's address: the payload
/// minimisation rules of an order's `shipping_address` (the same for
/// `billing_address`), so `None` without `address-region`.
pub fn minimised_address(address: Address, grants: &Grants) -> Option<Address> {
    let mut v = serde_json::json!({ "shipping_address": address });
    crate::minimise::minimise(&mut v, "orders/create", grants);
    v.get_mut("shipping_address")
        .map(serde_json::Value::take)
        .filter(serde_json::Value::is_object)
        .and_then(|a| serde_json::from_value(a).ok())
}

/// Shopify's overall recommendation for an order (`OrderRiskRecommendationResult`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RiskRecommendation {
    Accept,
    Cancel,
    Investigate,
    None,
}

/// The level of one assessment (`RiskAssessmentResult`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RiskLevel {
    High,
    Medium,
    Low,
    None,
    Pending,
}

/// Whether a fact speaks for or against an order (`RiskFactSentiment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RiskSentiment {
    Positive,
    Neutral,
    Negative,
}

/// One finding of an assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskFact {
    pub description: String,
    pub sentiment: RiskSentiment,
}

/// One assessment, by Shopify (`provider: None`) or an app (its title).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskAssessment {
    pub level: RiskLevel,
    pub provider: Option<String>,
    /// At most [`RISK_MAX_FACTS`].
    pub facts: Vec<RiskFact>,
}

/// Shopify's risk view of an order (the `order-risk` host function).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRisk {
    pub recommendation: RiskRecommendation,
    /// At most [`RISK_MAX_ASSESSMENTS`].
    pub assessments: Vec<RiskAssessment>,
}

impl OrderRisk {
    /// Cut to the bounds a plugin is promised.
    pub fn bounded(mut self) -> OrderRisk {
        self.assessments.truncate(RISK_MAX_ASSESSMENTS);
        for a in &mut self.assessments {
            a.facts.truncate(RISK_MAX_FACTS);
        }
        self
    }
}

/// A host function could not answer; handed to the plugin as `host-error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    #[error("quota exceeded: {0}")]
    QuotaExceeded(String),
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The service behind the function did not answer (down, timed out,
    /// throttling): the host's condition, waited out if the run fails.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The service refused the host's credentials for this store (a
    /// revoked token). The guest is told `unavailable`; for the host it is
    /// an outage an operator must fix, waited out like one.
    #[error("unavailable: {0}")]
    CredentialsRefused(String),
    /// Nothing on this host answers the function for this store (no
    /// Admin API token configured). The guest is told `unavailable`; it is
    /// not an outage, so a run that fails on it is the plugin's failure.
    #[error("unavailable: {0}")]
    NotConfigured(String),
}

impl HostError {
    /// Whether the error is a service being down (or refusing the host's
    /// credentials): the host's condition, not the plugin's.
    pub fn is_outage(&self) -> bool {
        matches!(
            self,
            HostError::Unavailable(_) | HostError::CredentialsRefused(_)
        )
    }
}

impl From<crate::host_rules::Refusal> for HostError {
    fn from(r: crate::host_rules::Refusal) -> HostError {
        use crate::host_rules::Refusal;
        match r {
            Refusal::InvalidArgument(m) => HostError::InvalidArgument(m),
            Refusal::QuotaExceeded(m) => HostError::QuotaExceeded(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::DataClass;

    fn full_address() -> Address {
        Address {
            first_name: Some("Ann".into()),
            last_name: Some("Lee".into()),
            name: Some("Ann Lee".into()),
            phone: Some("+15550100".into()),
            company: Some("Lee Ltd".into()),
            address1: Some("1 Main St".into()),
            address2: Some("Apt 2".into()),
            city: Some("Springfield".into()),
            province: Some("Illinois".into()),
            province_code: Some("IL".into()),
            country: Some("United States".into()),
            country_code: Some("US".into()),
            zip: Some("62701".into()),
            latitude: Some(39.78),
            longitude: Some(-89.65),
        }
    }

    fn money(a: &str) -> Money {
        Money {
            amount: a.into(),
            currency: "USD".into(),
        }
    }

    fn order() -> OrderDetails {
        OrderDetails {
            id: 1,
            name: "#1001".into(),
            created_at: "2026-11-01T00:00:00Z".into(),
            currency: "USD".into(),
            subtotal: Some(money("90.00")),
            total: money("100.00"),
            current_total: money("100.00"),
            outstanding: money("0.00"),
            total_refunded: money("0.00"),
            financial_status: "PAID".into(),
            fulfillment_status: "UNFULFILLED".into(),
            cancelled: false,
            customer_id: Some(7),
            line_items: Vec::new(),
            shipping_address: Some(full_address()),
            billing_address: Some(full_address()),
            fulfillments: Vec::new(),
            transactions: Vec::new(),
        }
    }

    fn seen(classes: &[DataClass]) -> Option<Address> {
        let grants = Grants {
            data: classes.iter().copied().collect(),
            ..Grants::default()
        };
        let o = order().minimised(&grants);
        assert_eq!(o.shipping_address, o.billing_address);
        o.shipping_address
    }

    #[test]
    fn addresses_are_minimised_like_payload_addresses() {
        assert_eq!(seen(&[]), None);
        assert_eq!(seen(&[DataClass::CustomerContact]), None);
        let region = Address {
            city: Some("Springfield".into()),
            province: Some("Illinois".into()),
            province_code: Some("IL".into()),
            country: Some("United States".into()),
            country_code: Some("US".into()),
            zip: Some("62701".into()),
            ..Address::default()
        };
        assert_eq!(seen(&[DataClass::AddressRegion]), Some(region.clone()));
        let street = Address {
            address1: Some("1 Main St".into()),
            address2: Some("Apt 2".into()),
            latitude: Some(39.78),
            longitude: Some(-89.65),
            ..region.clone()
        };
        assert_eq!(seen(&[DataClass::Address]), Some(street));
        let contact = Address {
            first_name: Some("Ann".into()),
            last_name: Some("Lee".into()),
            name: Some("Ann Lee".into()),
            phone: Some("+15550100".into()),
            ..region
        };
        assert_eq!(
            seen(&[DataClass::AddressRegion, DataClass::CustomerContact]),
            Some(contact)
        );
        assert_eq!(
            seen(&[DataClass::Address, DataClass::CustomerContact]),
            Some(full_address())
        );
    }

    #[test]
    fn lists_are_cut_to_their_bounds() {
        let line = OrderLineItem {
            id: 1,
            title: "t".into(),
            sku: None,
            quantity: 1,
            unit_price: money("1.00"),
            variant_id: None,
            product_id: None,
        };
        let mut o = order();
        o.line_items = vec![line; ORDER_MAX_LINE_ITEMS + 5];
        assert_eq!(
            o.minimised(&Grants::default()).line_items.len(),
            ORDER_MAX_LINE_ITEMS
        );
        let fact = RiskFact {
            description: "d".into(),
            sentiment: RiskSentiment::Neutral,
        };
        let risk = OrderRisk {
            recommendation: RiskRecommendation::Accept,
            assessments: vec![
                RiskAssessment {
                    level: RiskLevel::Low,
                    provider: None,
                    facts: vec![fact; RISK_MAX_FACTS + 1],
                };
                RISK_MAX_ASSESSMENTS + 1
            ],
        }
        .bounded();
        assert_eq!(risk.assessments.len(), RISK_MAX_ASSESSMENTS);
        assert!(
            risk.assessments
                .iter()
                .all(|a| a.facts.len() == RISK_MAX_FACTS)
        );
    }
}
