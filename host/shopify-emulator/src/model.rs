//! The emulator's data: the seed document (`POST /_emulator/seed`, the
//! built-in demo seed) and the live state it becomes. The same structs are
//! read from seeds and written by the state read-outs, so a read-out can be
//! fed back as a seed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use shopcase_shopify::money::Amount;

/// A seed document: stores and their data.
///
/// ```json
/// {"shops": [{"domain": "demo.myshopify.com", "tokens": ["shpat_x"], "currency": "EUR",
///   "customers": [{"id": 7001, "tags": ["VIP"]}],
///   "orders": [{"id": 5001, "customer_id": 7001, "total_price": "129.90"}],
///   "returns": [{"id": 8001, "order_id": 5001}]}]}
/// ```
///
/// Left out: an order's `transactions` default to one successful `SALE` of
/// its total; its `fulfillment_orders` to one `OPEN` fulfilment order (give
/// `[]` for none). Nested ids left at 0 are assigned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// The stores; a store whose domain already exists is replaced.
    #[serde(default)]
    pub shops: Vec<ShopSeed>,
}

/// One store in a seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopSeed {
    /// e.g. `demo.myshopify.com`.
    pub domain: String,
    /// Admin API access tokens that open this store (each identifies it).
    pub tokens: Vec<String>,
    /// The shop currency.
    #[serde(default = "default_currency")]
    pub currency: String,
    /// Customers.
    #[serde(default)]
    pub customers: Vec<Customer>,
    /// Orders.
    #[serde(default)]
    pub orders: Vec<Order>,
    /// Returns.
    #[serde(default)]
    pub returns: Vec<Return>,
}

fn default_currency() -> String {
    "EUR".into()
}

fn paid() -> String {
    "PAID".into()
}

fn unfulfilled() -> String {
    "UNFULFILLED".into()
}

fn open() -> String {
    "OPEN".into()
}

fn requested() -> String {
    "REQUESTED".into()
}

fn sale() -> String {
    "SALE".into()
}

fn success() -> String {
    "SUCCESS".into()
}

fn gateway() -> String {
    "shopify_payments".into()
}

fn other() -> String {
    "OTHER".into()
}

fn credit() -> String {
    "CREDIT".into()
}

/// A customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// Numeric id (`gid://shopify/Customer/<id>`).
    pub id: u64,
    /// Tags, e.g. `VIP`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Staff note.
    #[serde(default)]
    pub note: String,
    /// When the customer was created (RFC 3339); defaults to load time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Lifetime orders; when absent, counted from the seeded orders.
    #[serde(default)]
    pub number_of_orders: Option<u64>,
    /// Lifetime spend; when absent, summed from the seeded orders.
    #[serde(default)]
    pub amount_spent: Option<String>,
    /// Store credit accounts, one per currency.
    #[serde(default)]
    pub store_credit_accounts: Vec<CreditAccount>,
    /// Metafields (including the host's `$app:shopcase` records).
    #[serde(default)]
    pub metafields: Vec<MetafieldRecord>,
}

/// A store credit account (one per currency).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditAccount {
    /// Numeric id; 0 in a seed assigns one.
    #[serde(default)]
    pub id: u64,
    /// ISO 4217 currency of the account.
    pub currency: String,
    /// Credits and debits, in any order.
    #[serde(default)]
    pub transactions: Vec<CreditTransaction>,
}

impl CreditAccount {
    /// Credits minus debits.
    pub(crate) fn balance(&self) -> Amount {
        self.transactions.iter().fold(Amount::ZERO, |acc, t| {
            let a = Amount::parse(&t.amount).unwrap_or(Amount::ZERO);
            if t.kind == "DEBIT" {
                acc.saturating_sub(a)
            } else {
                acc.saturating_add(a)
            }
        })
    }
}

/// A store credit transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditTransaction {
    /// Numeric id; 0 in a seed assigns one.
    #[serde(default)]
    pub id: u64,
    /// `CREDIT` or `DEBIT`.
    #[serde(default = "credit")]
    pub kind: String,
    /// Decimal amount, positive.
    pub amount: String,
    /// When (RFC 3339); defaults to load time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// When a credit expires, if it does.
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// A metafield on an order or customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetafieldRecord {
    /// Numeric id; 0 in a seed assigns one.
    #[serde(default)]
    pub id: u64,
    /// Namespace, e.g. `shopcase` or `$app:shopcase`.
    pub namespace: String,
    /// Key within the namespace.
    pub key: String,
    /// Metafield type, e.g. `single_line_text_field`.
    #[serde(rename = "type")]
    pub ty: String,
    /// The value, as Shopify stores it (a string).
    pub value: String,
}

/// An order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Order {
    /// Numeric id (`gid://shopify/Order/<id>`).
    pub id: u64,
    /// e.g. `#1001`; defaults to `#<id>`.
    #[serde(default)]
    pub name: Option<String>,
    /// The customer who placed it.
    #[serde(default)]
    pub customer_id: Option<u64>,
    /// When it was placed (RFC 3339); defaults to load time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Defaults to the shop currency.
    #[serde(default)]
    pub currency: Option<String>,
    /// Order total, decimal string.
    pub total_price: String,
    /// Shopify's display financial status.
    #[serde(default = "paid")]
    pub financial_status: String,
    /// Shopify's display fulfillment status.
    #[serde(default = "unfulfilled")]
    pub fulfillment_status: String,
    /// Staff note.
    #[serde(default)]
    pub note: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Set when cancelled.
    #[serde(default)]
    pub cancelled_at: Option<String>,
    /// `OrderCancelReason` given when cancelled.
    #[serde(default)]
    pub cancel_reason: Option<String>,
    /// Staff note given when cancelled.
    #[serde(default)]
    pub staff_note: Option<String>,
    /// ISO 3166 code of the shipping address (when `shipping_address` is
    /// not given, the address is this country alone).
    #[serde(default)]
    pub shipping_country: Option<String>,
    /// The full shipping address.
    #[serde(default)]
    pub shipping_address: Option<MailingAddress>,
    /// The billing address.
    #[serde(default)]
    pub billing_address: Option<MailingAddress>,
    /// Fulfilments (shipments) made.
    #[serde(default)]
    pub fulfillments: Vec<Fulfillment>,
    /// Risk assessments: Shopify's (seeded) and apps' (`orderRiskAssessmentCreate`).
    #[serde(default)]
    pub risk: Risk,
    /// Line items (informational).
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    /// `None` in a seed: one successful sale of the total.
    #[serde(default)]
    pub transactions: Option<Vec<Transaction>>,
    /// Refunds made.
    #[serde(default)]
    pub refunds: Vec<RefundRecord>,
    /// `None` in a seed: one `OPEN` fulfilment order.
    #[serde(default)]
    pub fulfillment_orders: Option<Vec<FulfillmentOrder>>,
    /// Metafields.
    #[serde(default)]
    pub metafields: Vec<MetafieldRecord>,
}

/// A line item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineItem {
    /// Numeric id; 0 in a seed assigns one.
    #[serde(default)]
    pub id: u64,
    /// Product title.
    pub title: String,
    /// Quantity (default 1).
    #[serde(default = "one")]
    pub quantity: u32,
    /// Unit price, decimal string.
    pub price: String,
    /// SKU, if any.
    #[serde(default)]
    pub sku: Option<String>,
    /// The variant (`gid://shopify/ProductVariant/<id>`), if it exists.
    #[serde(default)]
    pub variant_id: Option<u64>,
    /// The product (`gid://shopify/Product/<id>`), if it exists.
    #[serde(default)]
    pub product_id: Option<u64>,
}

/// A postal address (Shopify's `MailingAddress`), seeded with REST names.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailingAddress {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub province_code: Option<String>,
    pub country: Option<String>,
    /// ISO 3166 alpha-2.
    pub country_code: Option<String>,
    pub zip: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// A fulfilment (shipment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fulfillment {
    /// Numeric id; 0 in a seed assigns one.
    #[serde(default)]
    pub id: u64,
    /// `FulfillmentStatus`: `SUCCESS`, `CANCELLED`, `ERROR`, `FAILURE`, `OPEN`, `PENDING`.
    #[serde(default = "success")]
    pub status: String,
    /// When (RFC 3339); defaults to the order's time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// The carrier, e.g. `DHL`.
    #[serde(default)]
    pub tracking_company: Option<String>,
    /// The tracking number.
    #[serde(default)]
    pub tracking_number: Option<String>,
}

/// An order's risk (Shopify's `OrderRiskSummary`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Risk {
    /// `ACCEPT`, `CANCEL`, `INVESTIGATE` or `NONE`. When absent, the
    /// emulator derives it from the highest assessed level (`HIGH` →
    /// `CANCEL`, `MEDIUM` → `INVESTIGATE`, `LOW`/`NONE` → `ACCEPT`, no
    /// finished assessment → `NONE`): a simplification of Shopify's own
    /// judgement, which it does not publish.
    #[serde(default)]
    pub recommendation: Option<String>,
    /// Assessments, oldest first.
    #[serde(default)]
    pub assessments: Vec<RiskAssessmentRecord>,
}

/// One risk assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskAssessmentRecord {
    /// `RiskAssessmentResult`: `HIGH`, `MEDIUM`, `LOW`, `NONE`, `PENDING`.
    pub risk_level: String,
    /// The app that made it, by title; absent for Shopify's own.
    #[serde(default)]
    pub provider: Option<String>,
    /// Findings.
    #[serde(default)]
    pub facts: Vec<RiskFactRecord>,
}

/// One finding of an assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskFactRecord {
    /// What was found.
    pub description: String,
    /// `POSITIVE`, `NEUTRAL` or `NEGATIVE`.
    pub sentiment: String,
}

fn one() -> u32 {
    1
}

/// A payment transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transaction {
    /// Numeric id; 0 in a seed assigns one.
    #[serde(default)]
    pub id: u64,
    /// `SALE`, `CAPTURE`, `AUTHORIZATION`, `REFUND`, `VOID`.
    #[serde(default = "sale")]
    pub kind: String,
    /// `SUCCESS`, `PENDING`, `FAILURE`, `ERROR`.
    #[serde(default = "success")]
    pub status: String,
    /// Payment gateway, e.g. `shopify_payments`.
    #[serde(default = "gateway")]
    pub gateway: String,
    /// Decimal amount.
    pub amount: String,
    /// For a refund or capture: the transaction it applies to.
    #[serde(default)]
    pub parent_id: Option<u64>,
    /// When (RFC 3339); defaults to the order's time.
    #[serde(default)]
    pub created_at: Option<String>,
}

/// A refund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundRecord {
    /// Numeric id; 0 in a seed assigns one.
    #[serde(default)]
    pub id: u64,
    /// The refund note (shopcase puts its marker here).
    #[serde(default)]
    pub note: String,
    /// Total refunded, decimal string.
    pub amount: String,
    /// When (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
    /// The `REFUND` transactions it made.
    #[serde(default)]
    pub transaction_ids: Vec<u64>,
}

/// A fulfilment order and its holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FulfillmentOrder {
    /// Numeric id; 0 in a seed assigns one.
    #[serde(default)]
    pub id: u64,
    /// `OPEN`, `ON_HOLD`, `IN_PROGRESS`, `SCHEDULED`, `CLOSED`, `CANCELLED`, `INCOMPLETE`.
    #[serde(default = "open")]
    pub status: String,
    /// Holds currently applied.
    #[serde(default)]
    pub holds: Vec<Hold>,
}

/// A fulfilment hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hold {
    /// Numeric id; 0 in a seed assigns one.
    #[serde(default)]
    pub id: u64,
    /// The app's handle for the hold (unique per app and fulfilment order).
    #[serde(default)]
    pub handle: Option<String>,
    /// `FulfillmentHoldReason`.
    #[serde(default = "other")]
    pub reason: String,
    /// Free text.
    #[serde(default)]
    pub reason_notes: Option<String>,
    /// Placed through the API (by the app), not by staff in the admin.
    #[serde(default)]
    pub by_app: bool,
    /// The app's external id for the hold.
    #[serde(default)]
    pub external_id: Option<String>,
}

/// A return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Return {
    /// Numeric id (`gid://shopify/Return/<id>`).
    pub id: u64,
    /// The order returned.
    pub order_id: u64,
    /// e.g. `#1003-R1`.
    #[serde(default)]
    pub name: Option<String>,
    /// `REQUESTED`, `OPEN`, `DECLINED`, `CLOSED`, `CANCELED`.
    #[serde(default = "requested")]
    pub status: String,
    /// `ReturnDeclineReason` once declined.
    #[serde(default)]
    pub decline_reason: Option<String>,
    /// Note to the customer once declined.
    #[serde(default)]
    pub decline_note: Option<String>,
}

/// A store as the emulator holds it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shop {
    pub(crate) domain: String,
    pub(crate) currency: String,
    pub(crate) tokens: Vec<String>,
    pub(crate) customers: BTreeMap<u64, Customer>,
    pub(crate) orders: BTreeMap<u64, Order>,
    pub(crate) returns: BTreeMap<u64, Return>,
}

/// Checks a seed before it replaces anything.
pub(crate) fn check_seed(seed: &Seed) -> Result<(), String> {
    let mut tokens = std::collections::HashSet::new();
    for s in &seed.shops {
        if s.domain.is_empty()
            || !s
                .domain
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(&b))
        {
            return Err(format!(
                "shop domain `{}` is not like demo.myshopify.com",
                s.domain
            ));
        }
        if s.tokens.is_empty() || s.tokens.iter().any(String::is_empty) {
            return Err(format!(
                "shop `{}` needs at least one non-empty token",
                s.domain
            ));
        }
        for t in &s.tokens {
            if !tokens.insert(t.as_str()) {
                return Err(format!(
                    "a token of shop `{}` is used twice; tokens identify the store",
                    s.domain
                ));
            }
        }
        if s.currency.len() != 3 || !s.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(format!(
                "shop `{}`: currency `{}` is not like EUR",
                s.domain, s.currency
            ));
        }
        let mut ids = std::collections::HashSet::new();
        for o in &s.orders {
            if !ids.insert(o.id) {
                return Err(format!("shop `{}`: order {} appears twice", s.domain, o.id));
            }
            if Amount::parse(&o.total_price).is_none() {
                return Err(format!(
                    "shop `{}`: order {}: total_price `{}` is not an amount",
                    s.domain, o.id, o.total_price
                ));
            }
            for t in o.transactions.iter().flatten() {
                if Amount::parse(&t.amount).is_none() {
                    return Err(format!(
                        "shop `{}`: order {}: transaction amount `{}` is not an amount",
                        s.domain, o.id, t.amount
                    ));
                }
            }
        }
        for r in &s.returns {
            if !ids.contains(&r.order_id) {
                return Err(format!(
                    "shop `{}`: return {} names unknown order {}",
                    s.domain, r.id, r.order_id
                ));
            }
        }
        let mut cids = std::collections::HashSet::new();
        for c in &s.customers {
            if !cids.insert(c.id) {
                return Err(format!(
                    "shop `{}`: customer {} appears twice",
                    s.domain, c.id
                ));
            }
            for a in &c.store_credit_accounts {
                if a.transactions
                    .iter()
                    .any(|t| Amount::parse(&t.amount).is_none())
                {
                    return Err(format!(
                        "shop `{}`: customer {}: a store credit amount is not an amount",
                        s.domain, c.id
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Turn a checked seed store into state, assigning missing ids with `next`.
pub(crate) fn build_shop(seed: ShopSeed, now: &str, next: &mut dyn FnMut() -> u64) -> Shop {
    let mut orders = BTreeMap::new();
    for mut o in seed.orders {
        o.name.get_or_insert_with(|| format!("#{}", o.id));
        o.currency.get_or_insert_with(|| seed.currency.clone());
        o.created_at.get_or_insert_with(|| now.to_string());
        for li in &mut o.line_items {
            if li.id == 0 {
                li.id = next();
            }
        }
        let total = o.total_price.clone();
        let txs = o.transactions.get_or_insert_with(|| {
            vec![Transaction {
                id: 0,
                kind: sale(),
                status: success(),
                gateway: gateway(),
                amount: total,
                parent_id: None,
                created_at: None,
            }]
        });
        for t in txs.iter_mut() {
            if t.id == 0 {
                t.id = next();
            }
        }
        for r in &mut o.refunds {
            if r.id == 0 {
                r.id = next();
            }
        }
        let fos = o.fulfillment_orders.get_or_insert_with(|| {
            vec![FulfillmentOrder {
                id: 0,
                status: open(),
                holds: vec![],
            }]
        });
        for fo in fos.iter_mut() {
            if fo.id == 0 {
                fo.id = next();
            }
            for h in &mut fo.holds {
                if h.id == 0 {
                    h.id = next();
                }
            }
        }
        for m in &mut o.metafields {
            if m.id == 0 {
                m.id = next();
            }
        }
        for f in &mut o.fulfillments {
            if f.id == 0 {
                f.id = next();
            }
        }
        orders.insert(o.id, o);
    }
    let mut customers = BTreeMap::new();
    for mut c in seed.customers {
        c.created_at.get_or_insert_with(|| now.to_string());
        for a in &mut c.store_credit_accounts {
            if a.id == 0 {
                a.id = next();
            }
            for t in &mut a.transactions {
                if t.id == 0 {
                    t.id = next();
                }
                t.created_at.get_or_insert_with(|| now.to_string());
            }
        }
        for m in &mut c.metafields {
            if m.id == 0 {
                m.id = next();
            }
        }
        customers.insert(c.id, c);
    }
    let returns = seed
        .returns
        .into_iter()
        .map(|mut r| {
            r.name.get_or_insert_with(|| format!("#{}-R1", r.order_id));
            (r.id, r)
        })
        .collect();
    Shop {
        domain: seed.domain,
        currency: seed.currency,
        tokens: seed.tokens,
        customers,
        orders,
        returns,
    }
}

impl Seed {
    /// The built-in demo store, `demo.myshopify.com`, token
    /// `shpat_emulator_demo`:
    ///
    /// | id | what |
    /// |---|---|
    /// | customer 7001 | loyal: tag `VIP`, 14 orders, 2310.40 EUR spent, store credit account (EUR) |
    /// | customer 7002 | new: no tags, first order |
    /// | order 5001 `#1001` | 7001, 129.90 EUR, paid, one open fulfilment order |
    /// | order 5002 `#1002` | 7002, 1899.00 EUR, paid, open: the fraud-review candidate; shipped to NL, billed in DE; Shopify's own risk assessment `MEDIUM` (recommendation `INVESTIGATE`) |
    /// | order 5003 `#1003` | 7001, 59.00 EUR, fulfilled (fulfilment order closed, one DHL shipment); return 8001 requested on it |
    /// | order 5004 `#1004` | 7001, 240.00 EUR, on hold by staff (`INCORRECT_ADDRESS`) |
    pub fn demo() -> Seed {
        let json = serde_json::json!({"shops": [{
            "domain": "demo.myshopify.com",
            "tokens": ["shpat_emulator_demo"],
            "currency": "EUR",
            "customers": [
                {"id": 7001, "tags": ["VIP"], "note": "Prefers email contact.", "created_at": "2022-03-14T09:30:00Z",
                 "number_of_orders": 14, "amount_spent": "2310.40",
                 "store_credit_accounts": [{"id": 7101, "currency": "EUR", "transactions": [
                     {"id": 7102, "amount": "15.00", "created_at": "2025-12-01T10:00:00Z"}]}]},
                {"id": 7002, "created_at": "2026-11-20T08:00:00Z"}
            ],
            "orders": [
                {"id": 5001, "name": "#1001", "customer_id": 7001, "created_at": "2026-11-02T10:00:00Z", "total_price": "129.90",
                 "shipping_country": "DE", "line_items": [{"id": 5101, "title": "Trail shoes", "price": "129.90", "sku": "TS-42"}],
                 "fulfillment_orders": [{"id": 6001}]},
                {"id": 5002, "name": "#1002", "customer_id": 7002, "created_at": "2026-11-25T23:10:00Z", "total_price": "1899.00",
                 "shipping_country": "NL", "line_items": [{"id": 5201, "title": "Espresso machine", "price": "1899.00",
                     "sku": "EM-900", "variant_id": 5211, "product_id": 5221}],
                 "shipping_address": {"first_name": "Sam", "last_name": "Visser", "address1": "Keizersgracht 1",
                     "city": "Amsterdam", "province": "Noord-Holland", "province_code": "NH", "country": "Netherlands",
                     "country_code": "NL", "zip": "1015 CJ", "phone": "+31 20 000 0000", "latitude": 52.37, "longitude": 4.89},
                 "billing_address": {"first_name": "Sam", "last_name": "Visser", "address1": "Hauptstrasse 5",
                     "city": "Berlin", "province": "Berlin", "province_code": "BE", "country": "Germany",
                     "country_code": "DE", "zip": "10115"},
                 "risk": {"assessments": [{"risk_level": "MEDIUM", "facts": [
                     {"description": "The billing address is in a different country than the shipping address", "sentiment": "NEGATIVE"},
                     {"description": "This is the customer's first order", "sentiment": "NEUTRAL"},
                     {"description": "The card's CVV check passed", "sentiment": "POSITIVE"}]}]},
                 "fulfillment_orders": [{"id": 6002}]},
                {"id": 5003, "name": "#1003", "customer_id": 7001, "created_at": "2026-10-10T12:00:00Z", "total_price": "59.00",
                 "fulfillment_status": "FULFILLED", "shipping_country": "DE",
                 "line_items": [{"id": 5301, "title": "Running socks (3 pack)", "price": "59.00"}],
                 "fulfillments": [{"id": 6103, "created_at": "2026-10-11T09:00:00Z", "tracking_company": "DHL", "tracking_number": "JD014600006281230000"}],
                 "fulfillment_orders": [{"id": 6003, "status": "CLOSED"}]},
                {"id": 5004, "name": "#1004", "customer_id": 7001, "created_at": "2026-11-24T15:45:00Z", "total_price": "240.00",
                 "note": "Customer called about the delivery address.", "shipping_country": "AT",
                 "line_items": [{"id": 5401, "title": "Rain jacket", "price": "240.00"}],
                 "fulfillment_orders": [{"id": 6004, "status": "ON_HOLD", "holds": [
                     {"id": 6005, "reason": "INCORRECT_ADDRESS", "reason_notes": "Checking the street number"}]}]}
            ],
            "returns": [{"id": 8001, "order_id": 5003, "name": "#1003-R1"}]
        }]});
        // A literal above: it always deserialises (checked by a unit test).
        serde_json::from_value(json).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_seed_is_valid_and_fills_defaults() {
        let seed = Seed::demo();
        assert_eq!(seed.shops.len(), 1);
        check_seed(&seed).unwrap();
        let mut n = 100;
        let shop = build_shop(seed.shops[0].clone(), "2026-11-26T00:00:00Z", &mut || {
            n += 1;
            n
        });
        let o = &shop.orders[&5001];
        assert_eq!(o.transactions.as_ref().unwrap()[0].amount, "129.90");
        assert_eq!(
            shop.customers[&7001].store_credit_accounts[0]
                .balance()
                .to_string(),
            "15.00"
        );
        assert_eq!(
            shop.orders[&5004].fulfillment_orders.as_ref().unwrap()[0]
                .holds
                .len(),
            1
        );
    }

    #[test]
    fn rejects_bad_seeds_with_a_reason() {
        let bad: Result<Seed, _> = serde_json::from_str(
            r#"{"shops": [{"domain": "a", "tokens": ["t"], "colour": "red"}]}"#,
        );
        assert!(
            bad.unwrap_err()
                .to_string()
                .contains("unknown field `colour`")
        );
        let dup: Seed = serde_json::from_str(
            r#"{"shops": [{"domain": "a.myshopify.com", "tokens": ["t"]}, {"domain": "b.myshopify.com", "tokens": ["t"]}]}"#,
        )
        .unwrap();
        assert!(check_seed(&dup).unwrap_err().contains("used twice"));
        let money: Seed =
            serde_json::from_str(r#"{"shops": [{"domain": "a.myshopify.com", "tokens": ["t"], "orders": [{"id": 1, "total_price": "ten"}]}]}"#).unwrap();
        assert!(check_seed(&money).unwrap_err().contains("not an amount"));
    }
}
