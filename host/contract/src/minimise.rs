//! Data minimisation: a plugin sees only the payload fields its manifest
//! lets it see.
//!
//! The rules are an **allow-list**. Every value in a payload sits at a
//! *place* (an order, a line item, an address, a return line item, ...),
//! known from the topic for the payload itself and from the field that
//! holds it below that. A field reaches the plugin only if its place lists
//! it, and the plugin is granted every data class the listing names (none
//! for the fields that are always visible). A field no place lists —
//! one Shopify adds tomorrow, or one the host never delivers, such as
//! `order_status_url` — is removed, at any depth, whatever the grants. A
//! topic the host does not know delivers `{}` (its envelope still carries
//! the resource ids).
//!
//! # Layout
//!
//! - [`Place`] and [`fields`]: the rules, one table per place, and
//!   [`TOPICS`], the place of each topic's payload. This is the only
//!   definition of what a plugin may see.
//! - [`minimise`]: the rules applied to a `serde_json` tree.
//! - [`minimise_text`]: the same rules applied to JSON text in one
//!   streaming pass (the hot path); the tests check that both give the same
//!   result on every payload in the repository.
//!
//! # Classes
//!
//! | class | fields delivered only with it |
//! |---|---|
//! | `customer-contact` | `email`, `contact_email`, `phone`, `buyer_accepts_marketing` of orders; names, email, phone, note, multipass identifier and marketing consent of customers (of an order's `customer`, and of the payload itself on `customers/*` topics); names, phones and emails of addresses (`company` also needs `address`); a shipping line's phone; an inbound report's `customer_email` |
//! | `address-region` | address objects (`billing_address`, `shipping_address`, `default_address`, `addresses`, `destination`, `origin_address`), with only `city`, `province`, `province_code`, `country`, `country_code`, `country_name`, `zip` and ids; the city, province, country and postal code of a fulfillment event |
//! | `address` | street lines (`address1`, `address2`) and coordinates of addresses and fulfillment events; `company` of addresses (with `customer-contact`); implies `address-region` |
//! | `client-details` | `browser_ip`, `client_details`, `landing_site`, `landing_site_ref`, `referring_site` of orders |
//! | `payment-details` | `payment_details` and `receipt` of transactions, `receipt` of fulfillments |
//! | `customer-notes` | what the customer typed: an order's `note`, `note_attributes` and `po_number`; line items' `properties`; a return line item's `customer_note` and `return_reason_note`; an inbound report's `subject` and `text` |
//!
//! Never delivered: an order's `order_status_url` (a link that lets anyone
//! holding it see the order's status page, with the customer's name and
//! address: a credential, not data a plugin acts on), `token`, `cart_token`
//! and `checkout_token` (session secrets), and every field not listed
//! (for now also a refund's `duties` and `refund_shipping_lines` and a
//! return's `exchange_line_items` and `return_shipping_fees`, whose entries
//! the tables do not describe yet).
//!
//! Inbound reports (`helpdesk/*`, `carrier/*`: `crate::inbound`) follow
//! the same rules: `subject` and `text` need `customer-notes`,
//! `customer_email` needs `customer-contact`.
//!
//! The payloads of the host's own topics (`corecase/case-updated`,
//! `timer/fired`) are listed too; a case's `attributes`, a held
//! operation and a timer's `data` are passed whole (the plugin or the
//! case's analysts wrote them).

use serde_json::{Map, Value};

use crate::manifest::{DataClass, Grants};

/// Where a value sits in a payload, which decides the fields it may carry.
/// A list holds values of its own place (`line_items` is a list of
/// [`Place::LineItem`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// An order (`orders/*`).
    Order,
    /// A customer (an order's `customer`, the payload of `customers/*`).
    Customer,
    /// A postal address.
    Address,
    /// A line item (of an order, a fulfillment, a refund line).
    LineItem,
    /// A shipping line of an order.
    ShippingLine,
    /// A tax line.
    TaxLine,
    /// A discount code of an order.
    DiscountCode,
    /// A discount application of an order.
    DiscountApplication,
    /// A discount's share of a line.
    DiscountAllocation,
    /// An amount in shop and presentment currency (the `*_set` fields).
    MoneySet,
    /// An amount with its currency.
    Money,
    /// A fulfillment (`fulfillments/*`, an order's `fulfillments`).
    Fulfillment,
    /// A fulfillment event (`fulfillment_events/*`).
    FulfillmentEvent,
    /// A fulfillment order, or the body of a `fulfillment_orders/*` and
    /// `fulfillment_holds/*` webhook, which wraps fulfillment orders and
    /// holds under fields of their names.
    FulfillmentOrder,
    /// A line of a fulfillment order.
    FulfillmentOrderLineItem,
    /// A hold on a fulfillment order.
    FulfillmentHold,
    /// A transaction (`order_transactions/*`, a refund's `transactions`).
    Transaction,
    /// A refund (`refunds/*`, an order's `refunds`).
    Refund,
    /// A line of a refund.
    RefundLineItem,
    /// An order adjustment of a refund.
    OrderAdjustment,
    /// A return (`returns/*`).
    Return,
    /// A line of a return.
    ReturnLineItem,
    /// A fulfilled line that a return line refers to.
    FulfillmentLineItem,
    /// Why and how a return was declined.
    ReturnDecline,
    /// A reference to another object: its ids.
    ObjectRef,
    /// A dispute (`disputes/*`).
    Dispute,
    /// A risk assessment (`orders/risk_assessment_changed`).
    RiskAssessment,
    /// The body of `orders/edited`.
    OrderEdited,
    /// An order edit.
    OrderEdit,
    /// The host's `corecase/case-updated` payload.
    CaseUpdated,
    /// The case of a `corecase/case-updated` payload.
    Case,
    /// A case's resolution.
    CaseResolution,
    /// A task of a case.
    CaseTask,
    /// A held operation of a case.
    CaseApproval,
    /// The host's `timer/fired` payload.
    TimerFired,
    /// A signed inbound report (`helpdesk/*`, `carrier/*`; see
    /// `crate::inbound`).
    Inbound,
    /// A plain value: scalars and lists of them are kept; an object here has
    /// no field a plugin may see, so it arrives as `{}`.
    Plain,
    /// A value delivered whole: the field that holds it is the grant.
    Whole,
}

/// The place of each topic's payload: an exact topic, or a resource prefix
/// ending in `/`. The first match wins; a topic with none is [`Place::Plain`].
pub const TOPICS: &[(&str, Place)] = &[
    ("orders/risk_assessment_changed", Place::RiskAssessment),
    ("orders/edited", Place::OrderEdited),
    ("orders/", Place::Order),
    ("customers/", Place::Customer),
    ("fulfillments/", Place::Fulfillment),
    ("fulfillment_events/", Place::FulfillmentEvent),
    ("fulfillment_orders/", Place::FulfillmentOrder),
    ("fulfillment_holds/", Place::FulfillmentOrder),
    ("order_transactions/", Place::Transaction),
    ("refunds/", Place::Refund),
    ("returns/", Place::Return),
    ("disputes/", Place::Dispute),
    ("corecase/case-updated", Place::CaseUpdated),
    ("timer/fired", Place::TimerFired),
    ("helpdesk/", Place::Inbound),
    ("carrier/", Place::Inbound),
];

/// The place of a payload of `topic`.
pub fn root(topic: &str) -> Place {
    TOPICS
        .iter()
        .find(|(t, _)| {
            if t.ends_with('/') {
                topic.starts_with(t)
            } else {
                topic == *t
            }
        })
        .map_or(Place::Plain, |&(_, p)| p)
}

/// A field a place may carry: what it needs and what its value is.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The field's name.
    pub key: &'static str,
    /// The classes the plugin must be granted, all of them (none: always
    /// visible).
    pub needs: &'static [DataClass],
    /// The place of its value.
    pub value: Place,
}

const ALWAYS: &[DataClass] = &[];
const CONTACT: &[DataClass] = &[DataClass::CustomerContact];
const REGION: &[DataClass] = &[DataClass::AddressRegion];
const STREET: &[DataClass] = &[DataClass::Address];
const CONTACT_AND_STREET: &[DataClass] = &[DataClass::CustomerContact, DataClass::Address];
const CLIENT: &[DataClass] = &[DataClass::ClientDetails];
const PAYMENT: &[DataClass] = &[DataClass::PaymentDetails];
const NOTES: &[DataClass] = &[DataClass::CustomerNotes];

/// An always-visible field with a plain value.
const fn a(key: &'static str) -> Field {
    Field {
        key,
        needs: ALWAYS,
        value: Place::Plain,
    }
}

/// An always-visible field whose value is at `value`.
const fn at(key: &'static str, value: Place) -> Field {
    Field {
        key,
        needs: ALWAYS,
        value,
    }
}

/// A field that needs `needs`, its value at `value`.
const fn with(key: &'static str, needs: &'static [DataClass], value: Place) -> Field {
    Field { key, needs, value }
}

const ORDER: &[Field] = &[
    a("id"),
    a("admin_graphql_api_id"),
    a("app_id"),
    a("name"),
    a("number"),
    a("order_number"),
    a("confirmation_number"),
    a("confirmed"),
    a("created_at"),
    a("updated_at"),
    a("processed_at"),
    a("closed_at"),
    a("cancelled_at"),
    a("cancel_reason"),
    a("currency"),
    a("presentment_currency"),
    a("customer_locale"),
    a("financial_status"),
    a("fulfillment_status"),
    a("tags"),
    a("test"),
    a("source_name"),
    a("source_identifier"),
    a("source_url"),
    a("reference"),
    a("checkout_id"),
    a("location_id"),
    a("device_id"),
    a("user_id"),
    a("payment_gateway_names"),
    a("taxes_included"),
    a("tax_exempt"),
    a("estimated_taxes"),
    a("duties_included"),
    a("total_price"),
    a("subtotal_price"),
    a("total_tax"),
    a("total_discounts"),
    a("total_line_items_price"),
    a("total_outstanding"),
    a("total_tip_received"),
    a("total_weight"),
    a("current_total_price"),
    a("current_subtotal_price"),
    a("current_total_tax"),
    a("current_total_discounts"),
    at("total_price_set", Place::MoneySet),
    at("subtotal_price_set", Place::MoneySet),
    at("total_tax_set", Place::MoneySet),
    at("total_discounts_set", Place::MoneySet),
    at("total_line_items_price_set", Place::MoneySet),
    at("total_shipping_price_set", Place::MoneySet),
    at("current_total_price_set", Place::MoneySet),
    at("current_subtotal_price_set", Place::MoneySet),
    at("current_total_tax_set", Place::MoneySet),
    at("current_total_discounts_set", Place::MoneySet),
    at("current_shipping_price_set", Place::MoneySet),
    at("current_total_duties_set", Place::MoneySet),
    at("current_total_additional_fees_set", Place::MoneySet),
    at("original_total_duties_set", Place::MoneySet),
    at("original_total_additional_fees_set", Place::MoneySet),
    at("line_items", Place::LineItem),
    at("shipping_lines", Place::ShippingLine),
    at("tax_lines", Place::TaxLine),
    at("discount_codes", Place::DiscountCode),
    at("discount_applications", Place::DiscountApplication),
    at("fulfillments", Place::Fulfillment),
    at("refunds", Place::Refund),
    at("customer", Place::Customer),
    with("email", CONTACT, Place::Plain),
    with("contact_email", CONTACT, Place::Plain),
    with("phone", CONTACT, Place::Plain),
    with("buyer_accepts_marketing", CONTACT, Place::Plain),
    with("billing_address", REGION, Place::Address),
    with("shipping_address", REGION, Place::Address),
    with("browser_ip", CLIENT, Place::Plain),
    with("client_details", CLIENT, Place::Whole),
    with("landing_site", CLIENT, Place::Plain),
    with("landing_site_ref", CLIENT, Place::Plain),
    with("referring_site", CLIENT, Place::Plain),
    with("note", NOTES, Place::Plain),
    with("note_attributes", NOTES, Place::Whole),
    with("po_number", NOTES, Place::Plain),
];

const CUSTOMER: &[Field] = &[
    a("id"),
    a("admin_graphql_api_id"),
    a("created_at"),
    a("updated_at"),
    a("state"),
    a("verified_email"),
    a("tax_exempt"),
    a("tax_exemptions"),
    a("currency"),
    a("tags"),
    a("orders_count"),
    a("total_spent"),
    a("last_order_id"),
    a("last_order_name"),
    with("email", CONTACT, Place::Plain),
    with("phone", CONTACT, Place::Plain),
    with("first_name", CONTACT, Place::Plain),
    with("last_name", CONTACT, Place::Plain),
    with("note", CONTACT, Place::Plain),
    with("multipass_identifier", CONTACT, Place::Plain),
    with("accepts_marketing", CONTACT, Place::Plain),
    with("accepts_marketing_updated_at", CONTACT, Place::Plain),
    with("marketing_opt_in_level", CONTACT, Place::Plain),
    with("email_marketing_consent", CONTACT, Place::Whole),
    with("sms_marketing_consent", CONTACT, Place::Whole),
    with("default_address", REGION, Place::Address),
    with("addresses", REGION, Place::Address),
];

/// Reached only through a field that needs `address-region`.
const ADDRESS: &[Field] = &[
    a("id"),
    a("customer_id"),
    a("default"),
    a("city"),
    a("province"),
    a("province_code"),
    a("country"),
    a("country_code"),
    a("country_name"),
    a("zip"),
    with("first_name", CONTACT, Place::Plain),
    with("last_name", CONTACT, Place::Plain),
    with("name", CONTACT, Place::Plain),
    with("phone", CONTACT, Place::Plain),
    with("email", CONTACT, Place::Plain),
    with("company", CONTACT_AND_STREET, Place::Plain),
    with("address1", STREET, Place::Plain),
    with("address2", STREET, Place::Plain),
    with("latitude", STREET, Place::Plain),
    with("longitude", STREET, Place::Plain),
];

const LINE_ITEM: &[Field] = &[
    a("id"),
    a("admin_graphql_api_id"),
    a("product_id"),
    a("variant_id"),
    a("sku"),
    a("title"),
    a("name"),
    a("variant_title"),
    a("vendor"),
    a("quantity"),
    a("current_quantity"),
    a("fulfillable_quantity"),
    a("fulfillment_status"),
    a("fulfillment_service"),
    a("price"),
    a("total_discount"),
    a("requires_shipping"),
    a("taxable"),
    a("gift_card"),
    a("grams"),
    a("product_exists"),
    a("variant_inventory_management"),
    at("price_set", Place::MoneySet),
    at("total_discount_set", Place::MoneySet),
    at("tax_lines", Place::TaxLine),
    at("discount_allocations", Place::DiscountAllocation),
    with("properties", NOTES, Place::Whole),
];

const SHIPPING_LINE: &[Field] = &[
    a("id"),
    a("title"),
    a("code"),
    a("source"),
    a("carrier_identifier"),
    a("price"),
    a("discounted_price"),
    a("is_removed"),
    at("price_set", Place::MoneySet),
    at("discounted_price_set", Place::MoneySet),
    at("tax_lines", Place::TaxLine),
    at("discount_allocations", Place::DiscountAllocation),
    with("phone", CONTACT, Place::Plain),
];

const TAX_LINE: &[Field] = &[
    a("title"),
    a("rate"),
    a("price"),
    a("channel_liable"),
    at("price_set", Place::MoneySet),
];

const DISCOUNT_CODE: &[Field] = &[a("code"), a("amount"), a("type")];

const DISCOUNT_APPLICATION: &[Field] = &[
    a("type"),
    a("value"),
    a("value_type"),
    a("allocation_method"),
    a("target_selection"),
    a("target_type"),
    a("code"),
    a("title"),
    a("description"),
];

const DISCOUNT_ALLOCATION: &[Field] = &[
    a("amount"),
    a("discount_application_index"),
    at("amount_set", Place::MoneySet),
];

const MONEY_SET: &[Field] = &[
    at("shop_money", Place::Money),
    at("presentment_money", Place::Money),
];

const MONEY: &[Field] = &[a("amount"), a("currency_code")];

const FULFILLMENT: &[Field] = &[
    a("id"),
    a("admin_graphql_api_id"),
    a("order_id"),
    a("name"),
    a("status"),
    a("shipment_status"),
    a("service"),
    a("tracking_company"),
    a("tracking_number"),
    a("tracking_numbers"),
    a("tracking_url"),
    a("tracking_urls"),
    a("location_id"),
    a("created_at"),
    a("updated_at"),
    at("line_items", Place::LineItem),
    with("email", CONTACT, Place::Plain),
    with("destination", REGION, Place::Address),
    with("origin_address", REGION, Place::Address),
    with("receipt", PAYMENT, Place::Whole),
];

/// A fulfillment event carries its location inline.
const FULFILLMENT_EVENT: &[Field] = &[
    a("id"),
    a("admin_graphql_api_id"),
    a("fulfillment_id"),
    a("order_id"),
    a("shop_id"),
    a("status"),
    a("message"),
    a("happened_at"),
    a("estimated_delivery_at"),
    a("created_at"),
    a("updated_at"),
    with("city", REGION, Place::Plain),
    with("province", REGION, Place::Plain),
    with("province_code", REGION, Place::Plain),
    with("country", REGION, Place::Plain),
    with("country_code", REGION, Place::Plain),
    with("zip", REGION, Place::Plain),
    with("address1", STREET, Place::Plain),
    with("latitude", STREET, Place::Plain),
    with("longitude", STREET, Place::Plain),
];

const FULFILLMENT_ORDER: &[Field] = &[
    a("id"),
    a("admin_graphql_api_id"),
    a("shop_id"),
    a("order_id"),
    a("assigned_location_id"),
    a("request_status"),
    a("status"),
    a("supported_actions"),
    a("fulfill_at"),
    a("fulfill_by"),
    a("created_at"),
    a("updated_at"),
    at("line_items", Place::FulfillmentOrderLineItem),
    at("fulfillment_holds", Place::FulfillmentHold),
    with("destination", REGION, Place::Address),
    // The webhook bodies' wrappers.
    at("fulfillment_order", Place::FulfillmentOrder),
    at("remaining_fulfillment_order", Place::FulfillmentOrder),
    at("released_fulfillment_order", Place::FulfillmentOrder),
    at("fulfillment_hold", Place::FulfillmentHold),
];

const FULFILLMENT_ORDER_LINE_ITEM: &[Field] = &[
    a("id"),
    a("shop_id"),
    a("fulfillment_order_id"),
    a("line_item_id"),
    a("inventory_item_id"),
    a("variant_id"),
    a("quantity"),
    a("fulfillable_quantity"),
];

const FULFILLMENT_HOLD: &[Field] = &[
    a("id"),
    a("fulfillment_order_id"),
    a("reason"),
    a("reason_notes"),
    a("handle"),
    a("held_by_requesting_app"),
];

const TRANSACTION: &[Field] = &[
    a("id"),
    a("admin_graphql_api_id"),
    a("order_id"),
    a("parent_id"),
    a("kind"),
    a("status"),
    a("gateway"),
    a("amount"),
    a("currency"),
    a("error_code"),
    a("message"),
    a("authorization"),
    a("authorization_expires_at"),
    a("created_at"),
    a("processed_at"),
    a("test"),
    a("source_name"),
    a("location_id"),
    a("device_id"),
    a("user_id"),
    a("payment_id"),
    a("manual_payment_gateway"),
    at("amount_set", Place::MoneySet),
    with("payment_details", PAYMENT, Place::Whole),
    with("receipt", PAYMENT, Place::Whole),
];

const REFUND: &[Field] = &[
    a("id"),
    a("admin_graphql_api_id"),
    a("order_id"),
    a("created_at"),
    a("processed_at"),
    // Written by staff, not the customer.
    a("note"),
    // Set by the host on `refunds/create` (never Shopify's: the
    // dispatcher replaces it), see docs/events.md.
    a("shopcase_issued"),
    a("restock"),
    a("user_id"),
    at("total_duties_set", Place::MoneySet),
    at("refund_line_items", Place::RefundLineItem),
    at("transactions", Place::Transaction),
    at("order_adjustments", Place::OrderAdjustment),
    at("return", Place::ObjectRef),
];

const REFUND_LINE_ITEM: &[Field] = &[
    a("id"),
    a("line_item_id"),
    a("quantity"),
    a("restock_type"),
    a("location_id"),
    a("subtotal"),
    a("total_tax"),
    at("subtotal_set", Place::MoneySet),
    at("total_tax_set", Place::MoneySet),
    at("line_item", Place::LineItem),
];

const ORDER_ADJUSTMENT: &[Field] = &[
    a("id"),
    a("order_id"),
    a("refund_id"),
    a("kind"),
    a("reason"),
    a("amount"),
    a("tax_amount"),
    at("amount_set", Place::MoneySet),
    at("tax_amount_set", Place::MoneySet),
];

const RETURN: &[Field] = &[
    a("id"),
    a("admin_graphql_api_id"),
    a("name"),
    a("status"),
    a("created_at"),
    a("updated_at"),
    a("total_return_line_items"),
    at("order", Place::ObjectRef),
    at("return_line_items", Place::ReturnLineItem),
    at("decline", Place::ReturnDecline),
];

const RETURN_LINE_ITEM: &[Field] = &[
    a("id"),
    a("admin_graphql_api_id"),
    a("quantity"),
    a("return_reason"),
    at("fulfillment_line_item", Place::FulfillmentLineItem),
    with("customer_note", NOTES, Place::Plain),
    with("return_reason_note", NOTES, Place::Plain),
];

const FULFILLMENT_LINE_ITEM: &[Field] = &[
    a("id"),
    a("admin_graphql_api_id"),
    a("quantity"),
    at("line_item", Place::LineItem),
];

/// The merchant's reason and note to the customer.
const RETURN_DECLINE: &[Field] = &[a("reason"), a("note")];

const OBJECT_REF: &[Field] = &[a("id"), a("admin_graphql_api_id")];

const DISPUTE: &[Field] = &[
    a("id"),
    a("admin_graphql_api_id"),
    a("order_id"),
    a("type"),
    a("amount"),
    a("currency"),
    a("reason"),
    a("network_reason_code"),
    a("status"),
    a("evidence_due_by"),
    a("evidence_sent_on"),
    a("finalized_on"),
    a("initiated_at"),
];

const RISK_ASSESSMENT: &[Field] = &[
    a("order_id"),
    a("admin_graphql_api_order_id"),
    a("provider_id"),
    a("provider_title"),
    a("risk_level"),
    a("created_at"),
];

const ORDER_EDITED: &[Field] = &[at("order_edit", Place::OrderEdit)];

const ORDER_EDIT: &[Field] = &[
    a("id"),
    a("app_id"),
    a("order_id"),
    a("user_id"),
    a("created_at"),
    a("committed_at"),
    a("notify_customer"),
    // Written by staff, not the customer.
    a("staff_note"),
];

const CASE_UPDATED: &[Field] = &[
    at("case", Place::Case),
    at("tasks", Place::CaseTask),
    at("approvals", Place::CaseApproval),
    at("resources", Place::Whole),
];

const CASE: &[Field] = &[
    a("id"),
    a("number"),
    a("case_type"),
    a("status"),
    a("previous_status"),
    a("priority"),
    a("escalation_level"),
    a("owner"),
    a("owner_group"),
    a("due"),
    a("updated_at"),
    a("link"),
    at("subject", Place::Whole),
    at("resolution", Place::CaseResolution),
    at("attributes", Place::Whole),
];

const CASE_RESOLUTION: &[Field] = &[a("code"), a("notes")];

const CASE_TASK: &[Field] = &[
    a("id"),
    a("title"),
    a("kind"),
    a("team"),
    a("status"),
    a("outcome"),
    a("comment"),
];

const CASE_APPROVAL: &[Field] = &[
    a("task_id"),
    a("outcome"),
    a("executed"),
    at("operation", Place::Whole),
];

const TIMER_FIRED: &[Field] = &[
    a("name"),
    a("scheduled_by"),
    a("due"),
    at("data", Place::Whole),
    at("resources", Place::Whole),
];

/// An inbound report (`crate::inbound::InboundPayload`): what the
/// customer wrote is `customer-notes`, their email `customer-contact`.
const INBOUND: &[Field] = &[
    a("source"),
    a("id"),
    a("kind"),
    a("occurred_at"),
    a("order_id"),
    a("customer_id"),
    a("channel"),
    a("ticket_id"),
    a("ticket_url"),
    with("subject", NOTES, Place::Plain),
    with("text", NOTES, Place::Plain),
    with("customer_email", CONTACT, Place::Plain),
    a("carrier"),
    a("tracking_number"),
    a("exception_code"),
    a("description"),
    a("estimated_delivery"),
];

/// The fields a value at `place` may carry ([`Place::Whole`] is not
/// filtered at all).
pub fn fields(place: Place) -> &'static [Field] {
    match place {
        Place::Order => ORDER,
        Place::Customer => CUSTOMER,
        Place::Address => ADDRESS,
        Place::LineItem => LINE_ITEM,
        Place::ShippingLine => SHIPPING_LINE,
        Place::TaxLine => TAX_LINE,
        Place::DiscountCode => DISCOUNT_CODE,
        Place::DiscountApplication => DISCOUNT_APPLICATION,
        Place::DiscountAllocation => DISCOUNT_ALLOCATION,
        Place::MoneySet => MONEY_SET,
        Place::Money => MONEY,
        Place::Fulfillment => FULFILLMENT,
        Place::FulfillmentEvent => FULFILLMENT_EVENT,
        Place::FulfillmentOrder => FULFILLMENT_ORDER,
        Place::FulfillmentOrderLineItem => FULFILLMENT_ORDER_LINE_ITEM,
        Place::FulfillmentHold => FULFILLMENT_HOLD,
        Place::Transaction => TRANSACTION,
        Place::Refund => REFUND,
        Place::RefundLineItem => REFUND_LINE_ITEM,
        Place::OrderAdjustment => ORDER_ADJUSTMENT,
        Place::Return => RETURN,
        Place::ReturnLineItem => RETURN_LINE_ITEM,
        Place::FulfillmentLineItem => FULFILLMENT_LINE_ITEM,
        Place::ReturnDecline => RETURN_DECLINE,
        Place::ObjectRef => OBJECT_REF,
        Place::Dispute => DISPUTE,
        Place::RiskAssessment => RISK_ASSESSMENT,
        Place::OrderEdited => ORDER_EDITED,
        Place::OrderEdit => ORDER_EDIT,
        Place::CaseUpdated => CASE_UPDATED,
        Place::Case => CASE,
        Place::CaseResolution => CASE_RESOLUTION,
        Place::CaseTask => CASE_TASK,
        Place::CaseApproval => CASE_APPROVAL,
        Place::TimerFired => TIMER_FIRED,
        Place::Inbound => INBOUND,
        Place::Plain | Place::Whole => &[],
    }
}

/// The classes a plugin sees, as a bit set, so the hot path checks a
/// field's needs without walking the grants.
#[derive(Clone, Copy)]
struct Seen(u8);

const fn bit(class: DataClass) -> u8 {
    1 << class as u8
}

impl Seen {
    fn of(grants: &Grants) -> Seen {
        Seen(
            DataClass::ALL
                .iter()
                .filter(|c| grants.sees(**c))
                .fold(0, |bits, c| bits | bit(*c)),
        )
    }

    /// Where the value of member `key` of an object at `place` goes, if the
    /// plugin may see it.
    fn member(self, place: Place, key: &str) -> Option<Place> {
        let f = fields(place).iter().find(|f| f.key == key)?;
        f.needs
            .iter()
            .all(|c| self.0 & bit(*c) != 0)
            .then_some(f.value)
    }
}

/// Remove from `payload`, a payload of `topic`, every field the plugin
/// granted `grants` may not see.
pub fn minimise(payload: &mut Value, topic: &str, grants: &Grants) {
    walk(payload, root(topic), Seen::of(grants));
}

fn walk(v: &mut Value, place: Place, seen: Seen) {
    if place == Place::Whole {
        return;
    }
    match v {
        Value::Array(items) => items.iter_mut().for_each(|i| walk(i, place, seen)),
        Value::Object(map) => object(map, place, seen),
        _ => {}
    }
}

fn object(map: &mut Map<String, Value>, place: Place, seen: Seen) {
    map.retain(|k, v| match seen.member(place, k) {
        Some(inner) => {
            walk(v, inner, seen);
            true
        }
        None => false,
    });
}

/// Minimise JSON text; text that is not JSON is returned as `{}` (the host
/// never hands a plugin something it could not check).
///
/// This is the hot path (once per event and plugin), so it filters the
/// text in one streaming pass, copying kept values verbatim, instead of
/// building a tree; it applies exactly the rules of [`minimise`], which the
/// tests check on every payload in the repository.
pub fn minimise_text(payload: &str, topic: &str, grants: &Grants) -> String {
    let mut f = Filter {
        src: payload.as_bytes(),
        pos: 0,
        out: Vec::with_capacity(payload.len()),
        seen: Seen::of(grants),
        depth: 0,
    };
    let ok =
        f.ws().is_ok() && f.value(root(topic)).is_ok() && f.ws().is_ok() && f.pos == f.src.len();
    if !ok {
        return "{}".to_owned();
    }
    // Only whole tokens of a `&str` were copied, so this is valid UTF-8.
    String::from_utf8(f.out).unwrap_or_else(|_| "{}".to_owned())
}

/// Deeper JSON than this is refused (as serde_json does).
const MAX_DEPTH: usize = 128;

struct Bad;

/// The streaming filter behind [`minimise_text`].
struct Filter<'a> {
    src: &'a [u8],
    pos: usize,
    out: Vec<u8>,
    seen: Seen,
    depth: usize,
}

impl<'a> Filter<'a> {
    fn peek(&self) -> Result<u8, Bad> {
        self.src.get(self.pos).copied().ok_or(Bad)
    }

    fn ws(&mut self) -> Result<(), Bad> {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.src.get(self.pos) {
            self.pos += 1;
        }
        Ok(())
    }

    fn expect(&mut self, b: u8) -> Result<(), Bad> {
        if self.peek()? != b {
            return Err(Bad);
        }
        self.pos += 1;
        Ok(())
    }

    /// Filter one value at `place` into the output.
    fn value(&mut self, place: Place) -> Result<(), Bad> {
        match self.peek()? {
            _ if place == Place::Whole => self.copy(),
            b'{' => self.object(place),
            b'[' => self.array(place),
            _ => {
                let start = self.pos;
                self.scalar()?;
                self.out.extend_from_slice(&self.src[start..self.pos]);
                Ok(())
            }
        }
    }

    /// Copy one value verbatim.
    fn copy(&mut self) -> Result<(), Bad> {
        let start = self.pos;
        self.skip()?;
        self.out.extend_from_slice(&self.src[start..self.pos]);
        Ok(())
    }

    fn enter(&mut self) -> Result<(), Bad> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(Bad)
        } else {
            Ok(())
        }
    }

    fn array(&mut self, place: Place) -> Result<(), Bad> {
        self.enter()?;
        self.expect(b'[')?;
        self.out.push(b'[');
        self.ws()?;
        if self.peek()? == b']' {
            self.pos += 1;
        } else {
            loop {
                self.ws()?;
                self.value(place)?;
                self.ws()?;
                match self.peek()? {
                    b',' => {
                        self.pos += 1;
                        self.out.push(b',');
                    }
                    b']' => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(Bad),
                }
            }
        }
        self.out.push(b']');
        self.depth -= 1;
        Ok(())
    }

    fn object(&mut self, place: Place) -> Result<(), Bad> {
        self.enter()?;
        self.expect(b'{')?;
        self.out.push(b'{');
        let mut first = true;
        self.ws()?;
        if self.peek()? == b'}' {
            self.pos += 1;
        } else {
            loop {
                self.ws()?;
                let key_start = self.pos;
                let key = self.key()?;
                let key_end = self.pos;
                self.ws()?;
                self.expect(b':')?;
                self.ws()?;
                if let Some(inner) = self.seen.member(place, &key) {
                    if !first {
                        self.out.push(b',');
                    }
                    first = false;
                    self.out.extend_from_slice(&self.src[key_start..key_end]);
                    self.out.push(b':');
                    self.value(inner)?;
                } else {
                    self.skip()?;
                }
                self.ws()?;
                match self.peek()? {
                    b',' => self.pos += 1,
                    b'}' => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(Bad),
                }
            }
        }
        self.out.push(b'}');
        self.depth -= 1;
        Ok(())
    }

    /// A string token; returns its text (unescaped only if it has escapes).
    fn key(&mut self) -> Result<std::borrow::Cow<'a, str>, Bad> {
        let start = self.pos;
        let escaped = self.string()?;
        let src: &'a [u8] = self.src;
        let raw = &src[start..self.pos];
        if escaped {
            let s: String = serde_json::from_slice(raw).map_err(|_| Bad)?;
            Ok(std::borrow::Cow::Owned(s))
        } else {
            let inner = std::str::from_utf8(&raw[1..raw.len() - 1]).map_err(|_| Bad)?;
            Ok(std::borrow::Cow::Borrowed(inner))
        }
    }

    /// Skip a string token; returns whether it contains escapes.
    fn string(&mut self) -> Result<bool, Bad> {
        self.expect(b'"')?;
        let mut escaped = false;
        loop {
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Ok(escaped);
                }
                b'\\' => {
                    escaped = true;
                    self.pos += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.pos += 1,
                        b'u' => {
                            let hex = self.src.get(self.pos + 1..self.pos + 5).ok_or(Bad)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return Err(Bad);
                            }
                            self.pos += 5;
                        }
                        _ => return Err(Bad),
                    }
                }
                c if c < 0x20 => return Err(Bad),
                _ => self.pos += 1,
            }
        }
    }

    /// Skip a string, number or literal.
    fn scalar(&mut self) -> Result<(), Bad> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(Bad),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Bad> {
        if self.src.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(Bad)
        }
    }

    fn number(&mut self) -> Result<(), Bad> {
        let digits = |f: &mut Self| {
            let start = f.pos;
            while f.src.get(f.pos).is_some_and(u8::is_ascii_digit) {
                f.pos += 1;
            }
            if f.pos == start { Err(Bad) } else { Ok(()) }
        };
        if self.peek()? == b'-' {
            self.pos += 1;
        }
        digits(self)?;
        if self.src.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            digits(self)?;
        }
        if let Some(b'e' | b'E') = self.src.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.src.get(self.pos) {
                self.pos += 1;
            }
            digits(self)?;
        }
        Ok(())
    }

    /// Skip any value.
    fn skip(&mut self) -> Result<(), Bad> {
        match self.peek()? {
            b'{' | b'[' => {
                let close = if self.peek()? == b'{' { b'}' } else { b']' };
                self.enter()?;
                self.pos += 1;
                self.ws()?;
                if self.peek()? == close {
                    self.pos += 1;
                } else {
                    loop {
                        self.ws()?;
                        if close == b'}' {
                            self.string()?;
                            self.ws()?;
                            self.expect(b':')?;
                            self.ws()?;
                        }
                        self.skip()?;
                        self.ws()?;
                        match self.peek()? {
                            b',' => self.pos += 1,
                            c if c == close => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(Bad),
                        }
                    }
                }
                self.depth -= 1;
                Ok(())
            }
            _ => self.scalar(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order() -> Value {
        json!({
            "id": 1, "name": "#1001", "email": "a@example.com", "phone": "+1555",
            "browser_ip": "203.0.113.9",
            "client_details": {"browser_ip": "203.0.113.9", "user_agent": "x"},
            "total_price": "10.00",
            "note": "leave it with Bob at 12 Elm Road",
            "note_attributes": [{"name": "gift_message", "value": "Love, Ann"}],
            "shipping_address": {"first_name": "Ann", "last_name": "Lee", "name": "Ann Lee",
                "address1": "1 Main St", "city": "Springfield", "zip": "12345", "country_code": "US",
                "phone": "+1555", "company": "ACME", "latitude": 1.0},
            "customer": {"id": 7, "email": "a@example.com", "first_name": "Ann", "note": "vip",
                "default_address": {"address1": "1 Main St", "country_code": "US", "name": "Ann Lee"}},
            "line_items": [{"name": "Shirt", "title": "Shirt", "price": "10.00",
                "properties": [{"name": "engraving", "value": "For Ann"}]}]
        })
    }

    fn grants(classes: &[DataClass]) -> Grants {
        Grants {
            data: classes.iter().copied().collect(),
            ..Grants::default()
        }
    }

    /// Both filters, which must agree.
    fn both(payload: &Value, topic: &str, g: &Grants) -> Value {
        let mut tree = payload.clone();
        minimise(&mut tree, topic, g);
        let text: Value =
            serde_json::from_str(&minimise_text(&payload.to_string(), topic, g)).unwrap();
        assert_eq!(text, tree, "the filters disagree as {topic} on {payload}");
        tree
    }

    fn all_strings(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|i| all_strings(i, out)),
            Value::Object(m) => m.values().for_each(|i| all_strings(i, out)),
            _ => {}
        }
    }

    /// The value at `path` (object keys, or list indexes as digits).
    fn at_path<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
        path.iter().try_fold(v, |v, p| match p.parse::<usize>() {
            Ok(i) => v.get(i),
            Err(_) => v.get(*p),
        })
    }

    #[test]
    fn nothing_granted_leaves_no_personal_data() {
        let o = both(&order(), "orders/create", &grants(&[]));
        let mut strings = vec![];
        all_strings(&o, &mut strings);
        for secret in [
            "a@example.com",
            "+1555",
            "Ann",
            "Ann Lee",
            "1 Main St",
            "203.0.113.9",
            "vip",
            "Springfield",
            "leave it with Bob at 12 Elm Road",
            "Love, Ann",
            "For Ann",
        ] {
            assert!(
                !strings.iter().any(|s| s == secret),
                "{secret} survived: {o}"
            );
        }
        // Business data stays.
        assert_eq!(o["name"], "#1001");
        assert_eq!(o["line_items"][0]["name"], "Shirt");
        assert_eq!(o["customer"]["id"], 7);
        assert!(o.get("shipping_address").is_none());
    }

    /// Free text the customer typed reaches no plugin that is not granted
    /// it (written against the public API only, so it also ran against the
    /// deny-list minimiser, which let all of it through).
    #[test]
    fn free_text_does_not_reach_a_plugin_granted_nothing() {
        let mut o = order();
        o["order_status_url"] = json!("https://shop.example/orders/abc/authenticate?key=secret");
        minimise(&mut o, "orders/create", &Grants::default());
        for field in ["note", "note_attributes", "order_status_url"] {
            assert!(o.get(field).is_none(), "{field} reached the plugin: {o}");
        }
        assert!(o["line_items"][0].get("properties").is_none(), "{o}");
        let mut r = json!({"id": 9, "return_line_items": [{"id": 1, "return_reason": "defective",
            "customer_note": "it broke", "return_reason_note": "twice"}]});
        minimise(&mut r, "returns/request", &Grants::default());
        assert_eq!(
            r,
            json!({"id": 9, "return_line_items": [{"id": 1, "return_reason": "defective"}]})
        );
    }

    /// Examples of each class's fields: a topic, a payload, and paths that
    /// need the class. The match is exhaustive, so a new class needs an
    /// example here.
    fn examples(class: DataClass) -> Vec<(&'static str, Value, Vec<&'static str>)> {
        let o = order();
        match class {
            DataClass::CustomerContact => vec![
                ("orders/create", o.clone(), vec!["email"]),
                ("orders/create", o.clone(), vec!["customer", "first_name"]),
                ("orders/create", o.clone(), vec!["customer", "note"]),
                (
                    "customers/update",
                    json!({"id": 7, "last_name": "Lee"}),
                    vec!["last_name"],
                ),
            ],
            DataClass::AddressRegion => vec![
                ("orders/create", o.clone(), vec!["shipping_address", "city"]),
                (
                    "fulfillment_events/create",
                    json!({"id": 1, "zip": "12345"}),
                    vec!["zip"],
                ),
            ],
            DataClass::Address => vec![
                (
                    "orders/create",
                    o.clone(),
                    vec!["shipping_address", "address1"],
                ),
                (
                    "fulfillment_events/create",
                    json!({"id": 1, "latitude": 1.5}),
                    vec!["latitude"],
                ),
            ],
            DataClass::ClientDetails => vec![
                ("orders/create", o.clone(), vec!["browser_ip"]),
                ("orders/create", o.clone(), vec!["client_details"]),
            ],
            DataClass::PaymentDetails => vec![(
                "order_transactions/create",
                json!({"id": 1, "payment_details": {"credit_card_bin": "411111"}}),
                vec!["payment_details"],
            )],
            DataClass::CustomerNotes => vec![
                ("orders/create", o.clone(), vec!["note"]),
                ("orders/create", o.clone(), vec!["note_attributes"]),
                (
                    "orders/create",
                    o.clone(),
                    vec!["line_items", "0", "properties"],
                ),
                (
                    "returns/request",
                    json!({"id": 9, "return_line_items": [{"id": 1, "customer_note": "it broke"}]}),
                    vec!["return_line_items", "0", "customer_note"],
                ),
            ],
        }
    }

    #[test]
    fn each_class_is_absent_without_its_grant_and_present_with_it() {
        for &class in DataClass::ALL {
            // Whatever else is granted: the class alone decides.
            let others: Vec<DataClass> = DataClass::ALL
                .iter()
                .copied()
                .filter(|c| {
                    *c != class && !(class == DataClass::AddressRegion && *c == DataClass::Address)
                })
                .collect();
            let mut with_it = vec![class];
            if class == DataClass::Address {
                with_it.push(DataClass::CustomerContact);
            }
            for (topic, payload, path) in examples(class) {
                let want = at_path(&payload, &path).expect("the example has the field");
                let without = both(&payload, topic, &grants(&others));
                assert!(
                    at_path(&without, &path).is_none(),
                    "{path:?} without {class:?}: {without}"
                );
                let granted = both(&payload, topic, &grants(&with_it));
                assert_eq!(
                    at_path(&granted, &path),
                    Some(want),
                    "{path:?} with {class:?}: {granted}"
                );
            }
        }
    }

    #[test]
    fn unknown_fields_are_dropped_at_every_depth_whatever_the_grants() {
        let mut o = order();
        o["future_field"] = json!("x");
        o["line_items"][0]["future_field"] = json!({"nested": "x"});
        o["shipping_address"]["future_field"] = json!("x");
        o["customer"]["future_field"] = json!([1, 2]);
        o["customer"]["default_address"]["future_field"] = json!("x");
        o["total_price_set"] =
            json!({"shop_money": {"amount": "10.00", "currency_code": "EUR", "future_field": 1}});
        let seen = both(&o, "orders/create", &grants(DataClass::ALL));
        let mut want = order();
        want["total_price_set"] =
            json!({"shop_money": {"amount": "10.00", "currency_code": "EUR"}});
        assert_eq!(seen, want);
        // A field whose value turns into an object keeps none of it.
        let changed = json!({"id": 1, "tags": {"future_field": "x"}});
        assert_eq!(
            both(&changed, "orders/create", &grants(DataClass::ALL)),
            json!({"id": 1, "tags": {}})
        );
    }

    #[test]
    fn secrets_are_never_delivered() {
        let o = json!({"id": 1, "token": "t", "cart_token": "c", "checkout_token": "k",
            "order_status_url": "https://shop.example/orders/abc/authenticate?key=secret"});
        assert_eq!(
            both(&o, "orders/create", &grants(DataClass::ALL)),
            json!({"id": 1})
        );
    }

    #[test]
    fn an_unknown_topic_delivers_an_empty_object() {
        let p = json!({"id": 1, "title": "Shirt"});
        assert_eq!(
            both(&p, "products/update", &grants(DataClass::ALL)),
            json!({})
        );
        assert_eq!(root("orders"), Place::Plain);
        assert_eq!(
            root("orders/risk_assessment_changed"),
            Place::RiskAssessment
        );
        assert_eq!(root("orders/paid"), Place::Order);
    }

    #[test]
    fn region_keeps_only_coarse_address_fields() {
        let o = both(
            &order(),
            "orders/create",
            &grants(&[DataClass::AddressRegion]),
        );
        assert_eq!(
            o["shipping_address"],
            json!({"city": "Springfield", "zip": "12345", "country_code": "US"})
        );
        assert_eq!(
            o["customer"]["default_address"],
            json!({"country_code": "US"})
        );
    }

    #[test]
    fn inline_locations_follow_the_address_classes() {
        let event = || {
            json!({"id": 1, "status": "delayed", "fulfillment_id": 2, "address1": "1 Main St",
                   "latitude": 1.5, "longitude": 2.5, "city": "Springfield", "zip": "12345",
                   "country": "US", "province": "IL", "happened_at": "2026-11-26T10:00:00Z"})
        };
        let topic = "fulfillment_events/create";
        assert_eq!(
            both(&event(), topic, &grants(&[])),
            json!({"id": 1, "status": "delayed", "fulfillment_id": 2, "happened_at": "2026-11-26T10:00:00Z"})
        );
        let region = both(&event(), topic, &grants(&[DataClass::AddressRegion]));
        assert_eq!(region["city"], "Springfield");
        assert!(region.get("address1").is_none() && region.get("latitude").is_none());
        assert_eq!(
            both(&event(), topic, &grants(&[DataClass::Address])),
            event()
        );
    }

    /// Every JSON file under `examples/`, `sdk/` and `plugins/`: an event
    /// file's topic and payload, or the file itself with no topic.
    fn repository_payloads() -> Vec<(String, Value)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut payloads = vec![("orders/create".to_owned(), order())];
        let mut dirs = vec![
            root.join("examples"),
            root.join("sdk"),
            root.join("plugins"),
        ];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() && !p.ends_with("node_modules") && !p.ends_with("target") {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "json")
                    && let Ok(text) = std::fs::read_to_string(&p)
                    && let Ok(v) = serde_json::from_str::<Value>(&text)
                {
                    let topic = v.get("topic").and_then(Value::as_str).unwrap_or("");
                    payloads.push((topic.to_owned(), v.get("payload").cloned().unwrap_or(v)));
                }
            }
        }
        assert!(
            payloads.iter().filter(|(t, _)| !t.is_empty()).count() > 100,
            "found only {} payloads",
            payloads.len()
        );
        payloads
    }

    /// Every payload in the repository, under every combination of grants
    /// as its own topic, and as the payload of every other place with no,
    /// each and all classes: the streaming filter gives exactly what the
    /// tree filter gives.
    #[test]
    fn streaming_filter_matches_the_rules_on_every_payload() {
        let combinations: Vec<Vec<DataClass>> = (0..1u32 << DataClass::ALL.len())
            .map(|mask| {
                DataClass::ALL
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, c)| *c)
                    .collect()
            })
            .collect();
        let few: Vec<Vec<DataClass>> = std::iter::once(vec![])
            .chain(DataClass::ALL.iter().map(|c| vec![*c]))
            .chain(std::iter::once(DataClass::ALL.to_vec()))
            .collect();
        // A topic of every place a payload can start at.
        let topics: Vec<String> = TOPICS
            .iter()
            .map(|(t, _)| {
                if t.ends_with('/') {
                    format!("{t}any")
                } else {
                    (*t).to_owned()
                }
            })
            .collect();
        for (own, payload) in &repository_payloads() {
            let text = payload.to_string();
            let pretty = serde_json::to_string_pretty(payload).unwrap();
            let runs = combinations.iter().map(|g| (own.as_str(), g)).chain(
                topics
                    .iter()
                    .flat_map(|t| few.iter().map(move |g| (t.as_str(), g))),
            );
            for (topic, classes) in runs {
                let g = grants(classes);
                let mut want = payload.clone();
                minimise(&mut want, topic, &g);
                for input in [&text, &pretty] {
                    let got: Value =
                        serde_json::from_str(&minimise_text(input, topic, &g)).unwrap();
                    assert_eq!(got, want, "grants {classes:?} as {topic} on {text:.200}");
                }
            }
        }
    }

    /// The allow-list is built from what Shopify sends: on every recorded
    /// payload in the repository, a plugin granted every class loses only
    /// the fields the host never delivers. A field a new recording brings
    /// must be classified (or added here, with the reason).
    #[test]
    fn every_recorded_field_is_classified() {
        fn dropped(
            before: &Value,
            after: &Value,
            path: &str,
            out: &mut std::collections::BTreeSet<String>,
        ) {
            match (before, after) {
                (Value::Object(b), Value::Object(a)) => {
                    for (k, v) in b {
                        let p = format!("{path}.{k}");
                        match a.get(k) {
                            Some(w) => dropped(v, w, &p, out),
                            None => {
                                out.insert(p);
                            }
                        }
                    }
                }
                (Value::Array(b), Value::Array(a)) => {
                    for (v, w) in b.iter().zip(a) {
                        dropped(v, w, &format!("{path}[]"), out);
                    }
                }
                _ => {}
            }
        }
        let mut lost = std::collections::BTreeSet::new();
        for (topic, payload) in repository_payloads() {
            if topic.is_empty() {
                continue;
            }
            let mut seen = payload.clone();
            minimise(&mut seen, &topic, &grants(DataClass::ALL));
            dropped(&payload, &seen, &topic, &mut lost);
        }
        let lost: Vec<String> = lost
            .into_iter()
            .map(|p| p.split_once('.').map_or(p.clone(), |(_, f)| f.to_owned()))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(
            lost,
            [
                // Session secrets and the order status page's credential.
                "cart_token",
                "checkout_token",
                // Lists whose entries the host does not list yet (empty in
                // every recording): a refund's duties and shipping lines, a
                // return's exchanges and shipping fees.
                "duties",
                "exchange_line_items",
                "order_status_url",
                "refund_shipping_lines",
                "return_shipping_fees",
                "token",
            ],
        );
    }

    /// The host's own topics are delivered whole: their allow-lists cover
    /// everything the host writes (docs/events.md).
    #[test]
    fn host_topic_payloads_are_delivered_whole() {
        let mut n = 0;
        for (topic, payload) in repository_payloads() {
            if topic == "corecase/case-updated" || topic == "timer/fired" {
                n += 1;
                assert_eq!(both(&payload, &topic, &grants(&[])), payload, "{topic}");
            }
        }
        assert!(n > 10, "only {n} host-topic payloads");
    }

    /// An inbound report: the customer's words need `customer-notes`,
    /// their email `customer-contact`; the ids, the ticket and the parcel
    /// are always visible; an unknown field never is.
    #[test]
    fn inbound_reports_are_minimised_by_the_same_rules() {
        let report = serde_json::json!({
            "source": "helpdesk", "id": "zd-1", "kind": "complaint",
            "occurred_at": "2026-11-26T10:00:00Z", "order_id": 12, "customer_id": 7,
            "channel": "email", "ticket_id": "48213", "subject": "Broken",
            "text": "It broke.", "customer_email": "a@example.com", "secret": "x"
        });
        for topic in [
            "helpdesk/complaint",
            "helpdesk/not-received",
            "carrier/exception",
        ] {
            let none = both(&report, topic, &grants(&[]));
            assert_eq!(none["order_id"], 12);
            assert_eq!(none["ticket_id"], "48213");
            for hidden in ["subject", "text", "customer_email", "secret"] {
                assert!(none.get(hidden).is_none(), "{topic}: {hidden}");
            }
            let notes = both(&report, topic, &grants(&[DataClass::CustomerNotes]));
            assert_eq!(notes["text"], "It broke.");
            assert!(notes.get("customer_email").is_none());
            let contact = both(&report, topic, &grants(&[DataClass::CustomerContact]));
            assert_eq!(contact["customer_email"], "a@example.com");
            assert!(contact.get("text").is_none());
        }
    }

    #[test]
    fn malformed_text_becomes_an_empty_object() {
        let g = grants(&[]);
        for bad in [
            "",
            "{",
            "{\"a\":}",
            "[1,]",
            "{\"a\" 1}",
            "nul",
            "\"\\u12\"",
            "{\"a\":1} x",
            "01x",
        ] {
            assert_eq!(minimise_text(bad, "orders/create", &g), "{}", "{bad:?}");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert_eq!(minimise_text(&deep, "orders/create", &g), "{}");
        // Escaped keys are still recognised.
        assert_eq!(
            minimise_text(r#"{"em\u0061il":"a@b.c","id":1}"#, "orders/create", &g),
            r#"{"id":1}"#
        );
        // Values are copied verbatim, whitespace is dropped.
        assert_eq!(
            minimise_text(
                "{ \"total_price\" : 1.50 , \"name\":\"a\\nb\" }",
                "orders/create",
                &g
            ),
            r#"{"total_price":1.50,"name":"a\nb"}"#
        );
    }

    #[test]
    fn contact_fields_in_an_address_need_customer_contact() {
        let fo = json!({"id": 1, "destination": {"email": "a@example.com", "phone": "+1555",
            "address1": "1 Main St", "city": "Springfield", "country_code": "US"}});
        let tree = both(
            &fo,
            "fulfillment_orders/placed_on_hold",
            &grants(&[DataClass::Address]),
        );
        assert_eq!(
            tree["destination"],
            json!({"address1": "1 Main St", "city": "Springfield", "country_code": "US"})
        );
    }

    #[test]
    fn a_customers_topic_payload_is_a_customer() {
        let customer = json!({"id": 7, "email": "a@example.com", "first_name": "Ann", "last_name": "Lee",
            "note": "prefers mornings", "tags": "VIP", "orders_count": 3,
            "default_address": {"first_name": "Ann", "city": "Springfield", "country_code": "US"}});
        assert_eq!(
            both(
                &customer,
                "customers/update",
                &grants(&[DataClass::AddressRegion])
            ),
            json!({"id": 7, "tags": "VIP", "orders_count": 3,
                "default_address": {"city": "Springfield", "country_code": "US"}})
        );
        // Granted: the names stay.
        let seen = both(
            &customer,
            "customers/update",
            &grants(&[DataClass::CustomerContact]),
        );
        assert_eq!(seen["first_name"], "Ann");
    }

    #[test]
    fn full_grants_change_nothing_the_host_knows() {
        assert_eq!(
            both(&order(), "orders/create", &grants(DataClass::ALL)),
            order()
        );
    }

    #[test]
    fn contact_without_address_keeps_names_but_not_streets() {
        let o = both(
            &order(),
            "orders/create",
            &grants(&[DataClass::CustomerContact, DataClass::AddressRegion]),
        );
        assert_eq!(o["email"], "a@example.com");
        assert_eq!(o["shipping_address"]["name"], "Ann Lee");
        assert!(o["shipping_address"].get("address1").is_none());
        assert!(o["shipping_address"].get("company").is_none());
        assert!(o.get("browser_ip").is_none());
    }

    /// Each place lists a field once (a second listing would be dead).
    #[test]
    fn every_field_is_listed_once_per_place() {
        for place in TOPICS.iter().map(|(_, p)| *p) {
            let mut todo = vec![place];
            let mut done = vec![];
            while let Some(p) = todo.pop() {
                if done.contains(&p) {
                    continue;
                }
                done.push(p);
                let keys: Vec<_> = fields(p).iter().map(|f| f.key).collect();
                let mut unique = keys.clone();
                unique.sort_unstable();
                unique.dedup();
                assert_eq!(unique.len(), keys.len(), "{p:?} lists a field twice");
                todo.extend(fields(p).iter().map(|f| f.value));
            }
        }
    }
}
