//! Money movements: transactions, refunds, disputes.

use serde::{Deserialize, Serialize};

use super::{LineItem, de};
use crate::money;

/// A payment transaction (`order_transactions/create`, and inside refunds).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Transaction {
    /// Numeric id.
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// `gid://shopify/OrderTransaction/<id>`.
    #[serde(deserialize_with = "de::nullable")]
    pub admin_graphql_api_id: String,
    /// The order (also `event.resources.order_id`).
    #[serde(deserialize_with = "de::opt_id")]
    pub order_id: Option<u64>,
    /// The authorization a capture or void refers to.
    #[serde(deserialize_with = "de::opt_id")]
    pub parent_id: Option<u64>,
    /// `authorization`, `sale`, `capture`, `void`, `refund`.
    #[serde(deserialize_with = "de::nullable")]
    pub kind: String,
    /// `pending`, `failure`, `success`, `error`.
    #[serde(deserialize_with = "de::nullable")]
    pub status: String,
    /// Gateway, e.g. `shopify_payments`, `bogus`.
    #[serde(deserialize_with = "de::nullable")]
    pub gateway: String,
    /// Decimal string.
    #[serde(deserialize_with = "de::decimal")]
    pub amount: String,
    /// ISO 4217.
    #[serde(deserialize_with = "de::nullable")]
    pub currency: String,
    /// e.g. `card_declined`, `incorrect_cvc`, `expired_card`.
    pub error_code: Option<String>,
    /// The gateway's message.
    pub message: Option<String>,
    /// The gateway's authorization code.
    pub authorization: Option<String>,
    /// RFC 3339.
    #[serde(deserialize_with = "de::nullable")]
    pub created_at: String,
    /// RFC 3339.
    pub processed_at: Option<String>,
    /// A test transaction.
    #[serde(deserialize_with = "de::nullable")]
    pub test: bool,
    /// Where it came from, e.g. `web`.
    pub source_name: Option<String>,
    /// Card details; needs the `payment-details` grant.
    pub payment_details: Option<PaymentDetails>,
}

impl Transaction {
    /// `amount` in cents.
    pub fn amount_cents(&self) -> Option<i64> {
        money::parse_cents(&self.amount)
    }

    /// `status` is `success`.
    pub fn is_success(&self) -> bool {
        self.status == "success"
    }

    /// `status` is `failure` or `error`.
    pub fn is_failure(&self) -> bool {
        matches!(self.status.as_str(), "failure" | "error")
    }
}

/// Card details of a transaction (grant `payment-details`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PaymentDetails {
    /// First digits of the card.
    pub credit_card_bin: Option<String>,
    /// Address verification result code, e.g. `Y`, `N`.
    pub avs_result_code: Option<String>,
    /// CVV check result code, e.g. `M`.
    pub cvv_result_code: Option<String>,
    /// Masked number, e.g. `•••• •••• •••• 4242`.
    pub credit_card_number: Option<String>,
    /// Card brand, e.g. `Visa`.
    pub credit_card_company: Option<String>,
    /// e.g. `apple_pay`.
    pub credit_card_wallet: Option<String>,
}

/// A refund (`refunds/create`, and in `order.refunds`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Refund {
    /// Numeric id.
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// `gid://shopify/Refund/<id>`.
    #[serde(deserialize_with = "de::nullable")]
    pub admin_graphql_api_id: String,
    /// The order (also `event.resources.order_id`).
    #[serde(deserialize_with = "de::opt_id")]
    pub order_id: Option<u64>,
    /// RFC 3339.
    #[serde(deserialize_with = "de::nullable")]
    pub created_at: String,
    /// RFC 3339.
    pub processed_at: Option<String>,
    /// Why, as staff wrote it.
    pub note: Option<String>,
    /// Whether items went back to stock.
    #[serde(deserialize_with = "de::nullable")]
    pub restock: bool,
    /// The staff member, if any.
    #[serde(deserialize_with = "de::opt_id")]
    pub user_id: Option<u64>,
    /// Items refunded.
    #[serde(deserialize_with = "de::nullable")]
    pub refund_line_items: Vec<RefundLineItem>,
    /// The money moved.
    #[serde(deserialize_with = "de::nullable")]
    pub transactions: Vec<Transaction>,
    /// Set by the host on `refunds/create`, never by Shopify: `true` when
    /// the refund's note carries the marker of a refund this host's
    /// journal executed for the same store and order (and that execution
    /// created this very refund), so shopcase issued it; `false` (or absent,
    /// e.g. in `shopcase plugin run`) otherwise. The host removes any value
    /// Shopify's payload had, so staff typing a `[shopcase:…]` marker into a
    /// refund note cannot make it `true`. See docs/events.md.
    #[serde(deserialize_with = "de::nullable")]
    pub shopcase_issued: bool,
}

impl Refund {
    /// Money actually refunded: the successful `refund` transactions, in
    /// cents (`None` if an amount is unreadable).
    pub fn refunded_cents(&self) -> Option<i64> {
        self.transactions
            .iter()
            .filter(|t| t.kind == "refund" && t.is_success())
            .try_fold(0i64, |sum, t| sum.checked_add(t.amount_cents()?))
    }
}

/// One refunded line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct RefundLineItem {
    /// Numeric id.
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// The order's line item.
    #[serde(deserialize_with = "de::id")]
    pub line_item_id: u64,
    /// Units refunded.
    #[serde(deserialize_with = "de::nullable")]
    pub quantity: u64,
    /// `no_restock`, `cancel`, `return`, `legacy_restock`.
    pub restock_type: Option<String>,
    /// Decimal (Shopify writes a number here; it is kept as text).
    #[serde(deserialize_with = "de::decimal")]
    pub subtotal: String,
    /// Decimal.
    #[serde(deserialize_with = "de::decimal")]
    pub total_tax: String,
    /// The line item itself.
    pub line_item: Option<LineItem>,
}

/// A chargeback or inquiry (`disputes/create`, `disputes/update`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Dispute {
    /// Numeric id (also `event.resources.dispute_id`).
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// The order (also `event.resources.order_id`).
    #[serde(deserialize_with = "de::opt_id")]
    pub order_id: Option<u64>,
    /// `chargeback` or `inquiry`.
    #[serde(rename = "type")]
    #[serde(deserialize_with = "de::nullable")]
    pub kind: String,
    /// Disputed amount, decimal string.
    #[serde(deserialize_with = "de::decimal")]
    pub amount: String,
    /// ISO 4217.
    #[serde(deserialize_with = "de::nullable")]
    pub currency: String,
    /// e.g. `fraudulent`, `product_not_received`, `unrecognized`.
    #[serde(deserialize_with = "de::nullable")]
    pub reason: String,
    /// The card network's reason code, e.g. `4837`.
    pub network_reason_code: Option<String>,
    /// `needs_response`, `under_review`, `accepted`, `won`, `lost`, `prevented`.
    #[serde(deserialize_with = "de::nullable")]
    pub status: String,
    /// RFC 3339: the deadline to submit evidence.
    pub evidence_due_by: Option<String>,
    /// RFC 3339, when evidence was sent.
    pub evidence_sent_on: Option<String>,
    /// RFC 3339, when decided.
    pub finalized_on: Option<String>,
    /// RFC 3339, when the customer disputed.
    #[serde(deserialize_with = "de::nullable")]
    pub initiated_at: String,
}

impl Dispute {
    /// `amount` in cents.
    pub fn amount_cents(&self) -> Option<i64> {
        money::parse_cents(&self.amount)
    }

    /// A chargeback (money already taken back), not an inquiry.
    pub fn is_chargeback(&self) -> bool {
        self.kind == "chargeback"
    }

    /// Still awaiting a response or a decision.
    pub fn is_open(&self) -> bool {
        matches!(self.status.as_str(), "needs_response" | "under_review")
    }
}
