//! The order (`orders/*` topics) and the parts other payloads reuse.

use serde::{Deserialize, Serialize};

use super::{Fulfillment, Refund, de, split_tags};
use crate::money;

/// An order, as in `orders/create`, `orders/updated`, `orders/paid`, ...
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Order {
    /// Numeric id (also `event.resources.order_id`).
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// `gid://shopify/Order/<id>`.
    #[serde(deserialize_with = "de::nullable")]
    pub admin_graphql_api_id: String,
    /// Display name, e.g. `#1042`.
    #[serde(deserialize_with = "de::nullable")]
    pub name: String,
    /// The order number, e.g. `1042`.
    #[serde(deserialize_with = "de::nullable")]
    pub order_number: u64,
    /// Needs the `customer-contact` grant.
    pub email: Option<String>,
    /// Needs the `customer-contact` grant.
    pub contact_email: Option<String>,
    /// Needs the `customer-contact` grant.
    pub phone: Option<String>,
    /// RFC 3339.
    #[serde(deserialize_with = "de::nullable")]
    pub created_at: String,
    /// RFC 3339.
    #[serde(deserialize_with = "de::nullable")]
    pub updated_at: String,
    /// RFC 3339: when the order was placed (imported orders keep their date).
    pub processed_at: Option<String>,
    /// RFC 3339, when cancelled.
    pub cancelled_at: Option<String>,
    /// `customer`, `fraud`, `inventory`, `declined`, `other`, when cancelled.
    pub cancel_reason: Option<String>,
    /// RFC 3339, when closed (archived).
    pub closed_at: Option<String>,
    /// The shop currency of the amounts, ISO 4217.
    #[serde(deserialize_with = "de::nullable")]
    pub currency: String,
    /// The customer's currency, ISO 4217.
    pub presentment_currency: Option<String>,
    /// Total, decimal string, e.g. `"1243.87"`.
    #[serde(deserialize_with = "de::decimal")]
    pub total_price: String,
    /// Line items after discounts, before shipping and taxes.
    #[serde(deserialize_with = "de::decimal")]
    pub subtotal_price: String,
    /// Total after edits, refunds and removals.
    #[serde(deserialize_with = "de::decimal")]
    pub current_total_price: String,
    /// Taxes, decimal string.
    #[serde(deserialize_with = "de::decimal")]
    pub total_tax: String,
    /// Discounts, decimal string.
    #[serde(deserialize_with = "de::decimal")]
    pub total_discounts: String,
    /// Still to be paid, decimal string.
    #[serde(deserialize_with = "de::decimal")]
    pub total_outstanding: String,
    /// Grams.
    #[serde(deserialize_with = "de::nullable")]
    pub total_weight: u64,
    /// `pending`, `authorized`, `partially_paid`, `paid`, `partially_refunded`,
    /// `refunded`, `voided`.
    pub financial_status: Option<String>,
    /// `null` (nothing fulfilled), `partial`, `fulfilled`, `restocked`.
    pub fulfillment_status: Option<String>,
    /// Needs the `client-details` grant.
    pub browser_ip: Option<String>,
    /// Needs the `client-details` grant.
    pub client_details: Option<ClientDetails>,
    /// Comma-separated; see [`Order::tags`].
    #[serde(deserialize_with = "de::nullable")]
    pub tags: String,
    /// The order's note (the customer's at checkout, or staff's). Needs the
    /// `customer-notes` grant.
    pub note: Option<String>,
    /// Cart attributes. Needs the `customer-notes` grant.
    #[serde(deserialize_with = "de::nullable")]
    pub note_attributes: Vec<NoteAttribute>,
    /// A test order (bogus gateway or test mode).
    #[serde(deserialize_with = "de::nullable")]
    pub test: bool,
    /// Where the order came from: `web`, `pos`, `shopify_draft_order`, ...
    pub source_name: Option<String>,
    /// Payment gateways used, e.g. `["shopify_payments"]`.
    #[serde(deserialize_with = "de::nullable")]
    pub payment_gateway_names: Vec<String>,
    /// Needs the `address-region` (coarse) or `address` grant.
    pub billing_address: Option<Address>,
    /// Needs the `address-region` (coarse) or `address` grant.
    pub shipping_address: Option<Address>,
    /// The customer; its contact fields need `customer-contact`.
    pub customer: Option<Customer>,
    /// What was bought.
    #[serde(deserialize_with = "de::nullable")]
    pub line_items: Vec<LineItem>,
    /// How it ships.
    #[serde(deserialize_with = "de::nullable")]
    pub shipping_lines: Vec<ShippingLine>,
    /// Fulfillments so far.
    #[serde(deserialize_with = "de::nullable")]
    pub fulfillments: Vec<Fulfillment>,
    /// Refunds so far.
    #[serde(deserialize_with = "de::nullable")]
    pub refunds: Vec<Refund>,
    /// Discount codes applied.
    #[serde(deserialize_with = "de::nullable")]
    pub discount_codes: Vec<DiscountCode>,
}

impl Order {
    /// The tags as a list: `"VIP, wholesale"` → `["VIP", "wholesale"]`.
    pub fn tags(&self) -> Vec<&str> {
        split_tags(&self.tags)
    }

    /// Whether the order has a tag (Shopify tags are case-insensitive).
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags().iter().any(|t| t.eq_ignore_ascii_case(tag))
    }

    /// `total_price` in cents, exactly.
    pub fn total_price_cents(&self) -> Option<i64> {
        money::parse_cents(&self.total_price)
    }

    /// `total_price` as a float, to compare with a `number` setting.
    pub fn total_price_f64(&self) -> Option<f64> {
        money::parse_f64(&self.total_price)
    }

    /// `current_total_price` in cents.
    pub fn current_total_price_cents(&self) -> Option<i64> {
        money::parse_cents(&self.current_total_price)
    }

    /// Whether the order was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled_at.is_some()
    }

    /// Units bought, over all line items.
    pub fn item_count(&self) -> u64 {
        self.line_items.iter().map(|l| l.quantity).sum()
    }

    /// The value of a cart attribute.
    pub fn note_attribute(&self, name: &str) -> Option<&str> {
        self.note_attributes
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.value.as_str())
    }

    /// The shipping country code, if the plugin may see it.
    pub fn shipping_country(&self) -> Option<&str> {
        self.shipping_address.as_ref()?.country_code.as_deref()
    }

    /// The customer's id, if the order has a customer.
    pub fn customer_id(&self) -> Option<u64> {
        self.customer.as_ref().map(|c| c.id).filter(|&id| id != 0)
    }
}

/// The buyer's browser (needs `client-details`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ClientDetails {
    /// IP address.
    pub browser_ip: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
    /// `Accept-Language`.
    pub accept_language: Option<String>,
    /// Session hash.
    pub session_hash: Option<String>,
}

/// A cart attribute or line item property.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct NoteAttribute {
    /// Name.
    #[serde(deserialize_with = "de::nullable")]
    pub name: String,
    /// Value (numbers and booleans as their JSON text; objects and arrays
    /// read as empty).
    #[serde(deserialize_with = "de::text")]
    pub value: String,
}

/// A postal address. Without the `address` grant only the coarse fields
/// (country, province, city, zip) are present, and only with
/// `address-region`; names and phone need `customer-contact`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Address {
    /// Addressee's first name (`customer-contact`).
    pub first_name: Option<String>,
    /// Addressee's last name (`customer-contact`).
    pub last_name: Option<String>,
    /// Addressee's full name (`customer-contact`).
    pub name: Option<String>,
    /// Company (`customer-contact` and `address`).
    pub company: Option<String>,
    /// Street line (`address`).
    pub address1: Option<String>,
    /// Second street line (`address`).
    pub address2: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Province or state name.
    pub province: Option<String>,
    /// Province or state code, e.g. `CA`.
    pub province_code: Option<String>,
    /// Country name.
    pub country: Option<String>,
    /// ISO 3166 alpha-2, e.g. `DE`.
    pub country_code: Option<String>,
    /// Postal code.
    pub zip: Option<String>,
    /// Addressee's phone (`customer-contact`).
    pub phone: Option<String>,
    /// Coordinates (`address`).
    pub latitude: Option<f64>,
    /// Coordinates (`address`).
    pub longitude: Option<f64>,
}

/// The order's customer. Since 2022 Shopify sends no lifetime stats here and
/// since 2025 no tags: use [`crate::host::customer_history`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Customer {
    /// Numeric id (also `event.resources.customer_id`).
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// `gid://shopify/Customer/<id>`.
    #[serde(deserialize_with = "de::nullable")]
    pub admin_graphql_api_id: String,
    /// Needs `customer-contact`.
    pub email: Option<String>,
    /// Needs `customer-contact`.
    pub first_name: Option<String>,
    /// Needs `customer-contact`.
    pub last_name: Option<String>,
    /// Needs `customer-contact`.
    pub phone: Option<String>,
    /// `enabled`, `disabled`, `invited`, `declined`.
    pub state: Option<String>,
    /// Whether the email address is verified.
    #[serde(deserialize_with = "de::nullable")]
    pub verified_email: bool,
    /// RFC 3339: when the customer record was created.
    pub created_at: Option<String>,
    /// The customer's currency, ISO 4217.
    pub currency: Option<String>,
    /// Needs an address grant.
    pub default_address: Option<Address>,
}

/// One line of an order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LineItem {
    /// Numeric id.
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// `gid://shopify/LineItem/<id>`.
    #[serde(deserialize_with = "de::nullable")]
    pub admin_graphql_api_id: String,
    /// The product, if it still exists.
    #[serde(deserialize_with = "de::opt_id")]
    pub product_id: Option<u64>,
    /// The variant, if it still exists.
    #[serde(deserialize_with = "de::opt_id")]
    pub variant_id: Option<u64>,
    /// Stock keeping unit.
    pub sku: Option<String>,
    /// Product title.
    #[serde(deserialize_with = "de::nullable")]
    pub title: String,
    /// Product and variant, e.g. `Shirt - L`.
    #[serde(deserialize_with = "de::nullable")]
    pub name: String,
    /// Variant, e.g. `L`.
    pub variant_title: Option<String>,
    /// Vendor.
    pub vendor: Option<String>,
    /// Units ordered.
    #[serde(deserialize_with = "de::nullable")]
    pub quantity: u64,
    /// Quantity after edits and removals.
    pub current_quantity: Option<u64>,
    /// Units still to fulfil.
    #[serde(deserialize_with = "de::nullable")]
    pub fulfillable_quantity: u64,
    /// `null`, `partial`, `fulfilled`.
    pub fulfillment_status: Option<String>,
    /// Unit price, decimal string.
    #[serde(deserialize_with = "de::decimal")]
    pub price: String,
    /// Discount on the line, decimal string.
    #[serde(deserialize_with = "de::decimal")]
    pub total_discount: String,
    /// A physical item.
    #[serde(deserialize_with = "de::nullable")]
    pub requires_shipping: bool,
    /// Taxed.
    #[serde(deserialize_with = "de::nullable")]
    pub taxable: bool,
    /// A gift card.
    #[serde(deserialize_with = "de::nullable")]
    pub gift_card: bool,
    /// Line item properties (engraving text, ...). Needs the
    /// `customer-notes` grant.
    #[serde(deserialize_with = "de::nullable")]
    pub properties: Vec<NoteAttribute>,
}

impl LineItem {
    /// Unit price in cents.
    pub fn price_cents(&self) -> Option<i64> {
        money::parse_cents(&self.price)
    }

    /// Unit price × quantity, in cents, before the line's discount.
    pub fn gross_cents(&self) -> Option<i64> {
        self.price_cents()?
            .checked_mul(i64::try_from(self.quantity).ok()?)
    }
}

/// A shipping method on an order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ShippingLine {
    /// Numeric id.
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// Shown to the customer, e.g. `DHL Express`.
    #[serde(deserialize_with = "de::nullable")]
    pub title: String,
    /// The rate's code.
    pub code: Option<String>,
    /// Where the rate came from, e.g. `shopify`.
    pub source: Option<String>,
    /// Decimal string.
    #[serde(deserialize_with = "de::decimal")]
    pub price: String,
    /// Decimal string.
    #[serde(deserialize_with = "de::decimal")]
    pub discounted_price: String,
}

/// A discount code applied to an order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct DiscountCode {
    /// The code, e.g. `WINTER50`.
    #[serde(deserialize_with = "de::nullable")]
    pub code: String,
    /// Decimal string.
    #[serde(deserialize_with = "de::decimal")]
    pub amount: String,
    /// `fixed_amount`, `percentage`, `shipping`.
    #[serde(rename = "type")]
    #[serde(deserialize_with = "de::nullable")]
    pub kind: String,
}
