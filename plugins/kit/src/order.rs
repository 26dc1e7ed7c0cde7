//! The event's order and customer as the host knows them now (WIT 0.2.0
//! `order` and `customer-history`), for events whose payload names the
//! order by id only: returns, disputes, fulfilments, complaints from a
//! helpdesk.
//!
//! A look-up the host cannot answer because Shopify is unreachable is the
//! host's condition: it comes back as a retryable error and the host runs
//! the event again later. An order Shopify no longer knows (or an event
//! without an order) is `None`: the case is opened with what the payload
//! says, never held back for want of details.

use shopcase_sdk::{Attribute, CustomerSummary, Event, HostError, OrderDetails, PluginError, host};

/// The event's order from the host (grant `order-lookup`), or `None` when
/// the event names no order or Shopify no longer knows it.
pub fn lookup(event: &Event) -> Result<Option<OrderDetails>, PluginError> {
    let Some(id) = event.resources.order_id else {
        return Ok(None);
    };
    match host::order(id) {
        Ok(order) => Ok(Some(order)),
        Err(HostError::InvalidArgument(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The event's customer: the one the host named in the event's resources,
/// else the order's.
pub fn customer_id(event: &Event, order: Option<&OrderDetails>) -> Option<u64> {
    event
        .resources
        .customer_id
        .or_else(|| order.and_then(|o| o.customer_id))
}

/// The history of the event's customer (grant `customer-history`), or
/// `None` for a guest order, an unknown customer, or no customer at all.
/// Call [`lookup`] first when the payload names only the order: the host
/// then accepts the order's customer as the event's own.
pub fn history(
    event: &Event,
    order: Option<&OrderDetails>,
) -> Result<Option<CustomerSummary>, PluginError> {
    let Some(id) = customer_id(event, order) else {
        return Ok(None);
    };
    match host::customer_history(id) {
        Ok(h) => Ok(Some(h)),
        Err(HostError::InvalidArgument(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The order's lines for a case summary: `Items: 1 × Burr Grinder Mk2
/// (SKU BG2-BLK), 2 × Beans (SKU BEAN-ETH-1K); total 313.70 EUR.`
pub fn items_line(order: &OrderDetails) -> String {
    let items: Vec<String> = order
        .line_items
        .iter()
        .map(
            |l| match l.sku.as_deref().filter(|s| !s.trim().is_empty()) {
                Some(sku) => format!("{} × {} (SKU {sku})", l.quantity, l.title),
                None => format!("{} × {}", l.quantity, l.title),
            },
        )
        .collect();
    format!(
        "Items: {}; total {} {}.",
        if items.is_empty() {
            "none listed".to_owned()
        } else {
            items.join(", ")
        },
        order.total.amount,
        order.total.currency
    )
}

/// One line about the customer for a case summary: `Customer 7100000001:
/// 12 orders since 2023-04-11, 1834.50 EUR spent, tags VIP, espresso-club.`
pub fn history_line(h: &CustomerSummary) -> String {
    let since = h.created_at.get(..10).unwrap_or(&h.created_at);
    let mut line = format!(
        "Customer {}: {} order(s)",
        h.customer_id, h.number_of_orders
    );
    if !since.is_empty() {
        line.push_str(&format!(" since {since}"));
    }
    line.push_str(&format!(", {} {} spent", h.amount_spent, h.currency));
    if !h.tags.is_empty() {
        line.push_str(&format!(", tags {}", h.tags.join(", ")));
    }
    line.push('.');
    line
}

/// `quantity × title (SKU s, unit price c)` for the order's line `id`, or
/// `None` if the order has no such line.
pub fn line_label(order: &OrderDetails, line_item_id: u64) -> Option<String> {
    let line = order.line_items.iter().find(|l| l.id == line_item_id)?;
    let mut label = line.title.clone();
    let mut details = Vec::new();
    if let Some(sku) = line.sku.as_deref().filter(|s| !s.trim().is_empty()) {
        details.push(format!("SKU {sku}"));
    }
    details.push(format!(
        "{} {} each",
        line.unit_price.amount, line.unit_price.currency
    ));
    label.push_str(&format!(" ({})", details.join(", ")));
    Some(label)
}

/// The order's facts as case attributes, named as
/// [`crate::facts::order_attributes`] names them for an `orders/*`
/// payload, so case workers filter on the same names whichever event
/// opened the case.
pub fn attributes(order: &OrderDetails) -> Vec<Attribute> {
    let mut attrs = vec![
        Attribute::new("orderName", &order.name),
        Attribute::new("orderCreatedAt", &order.created_at),
        Attribute::new("totalPrice", &order.total.amount),
        Attribute::new("currency", &order.currency),
        Attribute::new("financialStatus", order.financial_status.to_lowercase()),
        Attribute::new("fulfillmentStatus", order.fulfillment_status.to_lowercase()),
        Attribute::new(
            "itemCount",
            order
                .line_items
                .iter()
                .map(|l| u64::from(l.quantity))
                .sum::<u64>()
                .to_string(),
        ),
    ];
    if let Some(c) = order
        .shipping_address
        .as_ref()
        .and_then(|a| a.country_code.as_deref())
    {
        attrs.push(Attribute::new("shippingCountry", c));
    }
    if let Some(c) = order
        .billing_address
        .as_ref()
        .and_then(|a| a.country_code.as_deref())
    {
        attrs.push(Attribute::new("billingCountry", c));
    }
    attrs
}

#[cfg(test)]
mod tests {
    use super::*;
    use shopcase_sdk::{Address, LineItem, Money};

    pub(crate) fn money(a: &str) -> Money {
        Money {
            amount: a.into(),
            currency: "EUR".into(),
        }
    }

    fn order() -> OrderDetails {
        OrderDetails {
            id: 1,
            name: "#1042".into(),
            created_at: "2026-11-25T10:00:00Z".into(),
            currency: "EUR".into(),
            subtotal: None,
            total: money("1128.40"),
            current_total: money("1128.40"),
            outstanding: money("0.00"),
            total_refunded: money("0.00"),
            financial_status: "PAID".into(),
            fulfillment_status: "FULFILLED".into(),
            cancelled: false,
            customer_id: Some(7),
            line_items: vec![
                LineItem {
                    id: 11,
                    title: "Espresso Machine Pro - Steel".into(),
                    sku: Some("EMP-STEEL".into()),
                    quantity: 1,
                    unit_price: money("1099.00"),
                    variant_id: None,
                    product_id: None,
                },
                LineItem {
                    id: 12,
                    title: "Gift wrap".into(),
                    sku: None,
                    quantity: 2,
                    unit_price: money("4.50"),
                    variant_id: None,
                    product_id: None,
                },
            ],
            shipping_address: Some(Address {
                first_name: None,
                last_name: None,
                name: None,
                phone: None,
                company: None,
                address1: None,
                address2: None,
                city: Some("Berlin".into()),
                province: None,
                province_code: None,
                country: None,
                country_code: Some("DE".into()),
                zip: None,
                latitude: None,
                longitude: None,
            }),
            billing_address: None,
            fulfillments: vec![],
            transactions: vec![],
        }
    }

    #[test]
    fn a_line_is_named_by_title_sku_and_unit_price() {
        let o = order();
        assert_eq!(
            line_label(&o, 11).as_deref(),
            Some("Espresso Machine Pro - Steel (SKU EMP-STEEL, 1099.00 EUR each)")
        );
        assert_eq!(
            line_label(&o, 12).as_deref(),
            Some("Gift wrap (4.50 EUR each)")
        );
        assert_eq!(line_label(&o, 99), None);
    }

    #[test]
    fn the_items_line_lists_every_line() {
        assert_eq!(
            items_line(&order()),
            "Items: 1 × Espresso Machine Pro - Steel (SKU EMP-STEEL), 2 × Gift wrap; total 1128.40 EUR."
        );
    }

    #[test]
    fn the_history_line_says_who_the_customer_is() {
        let h = CustomerSummary {
            customer_id: 7,
            number_of_orders: 12,
            amount_spent: "1834.50".into(),
            currency: "EUR".into(),
            tags: vec!["VIP".into(), "espresso-club".into()],
            created_at: "2023-04-11T10:02:11+02:00".into(),
            recent_orders: vec![],
        };
        assert_eq!(
            history_line(&h),
            "Customer 7: 12 order(s) since 2023-04-11, 1834.50 EUR spent, tags VIP, espresso-club."
        );
        let unknown = CustomerSummary {
            tags: vec![],
            created_at: String::new(),
            number_of_orders: 0,
            amount_spent: "0.00".into(),
            ..h
        };
        assert_eq!(
            history_line(&unknown),
            "Customer 7: 0 order(s), 0.00 EUR spent."
        );
    }

    #[test]
    fn attributes_use_the_names_of_order_payload_cases() {
        let attrs = attributes(&order());
        let get = |n: &str| attrs.iter().find(|a| a.name == n).map(|a| a.value.clone());
        assert_eq!(get("orderName").as_deref(), Some("#1042"));
        assert_eq!(get("totalPrice").as_deref(), Some("1128.40"));
        assert_eq!(get("financialStatus").as_deref(), Some("paid"));
        assert_eq!(get("itemCount").as_deref(), Some("3"));
        assert_eq!(get("shippingCountry").as_deref(), Some("DE"));
        assert_eq!(get("billingCountry"), None);
    }
}
