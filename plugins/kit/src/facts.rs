//! The custom attributes every first-party case carries about its order,
//! so case workers filter and report on the same names whatever plugin
//! opened the case (`orderName`, `totalPrice`, `currency`, ...).

use shopcase_sdk::views::Order;
use shopcase_sdk::{Attribute, OpenCase};

/// The order's facts as case attributes, from an `orders/*` payload. Fields
/// the plugin may not see (countries without an address grant) or the
/// order does not have are left out.
pub fn order_attributes(shop: &str, order: &Order) -> Vec<Attribute> {
    let mut attrs = vec![
        Attribute::new("shopDomain", shop),
        Attribute::new("orderId", order.id.to_string()),
        Attribute::new("orderName", &order.name),
    ];
    let placed = order.processed_at.as_deref().unwrap_or(&order.created_at);
    if !placed.is_empty() {
        attrs.push(Attribute::new("orderCreatedAt", placed));
    }
    attrs.push(Attribute::new("totalPrice", &order.total_price));
    attrs.push(Attribute::new("currency", &order.currency));
    attrs.push(Attribute::new(
        "financialStatus",
        order.financial_status.as_deref().unwrap_or("unknown"),
    ));
    attrs.push(Attribute::new(
        "fulfillmentStatus",
        order.fulfillment_status.as_deref().unwrap_or("unfulfilled"),
    ));
    if let Some(id) = order.customer_id() {
        attrs.push(Attribute::new("customerId", id.to_string()));
    }
    attrs.push(Attribute::new("itemCount", order.item_count().to_string()));
    if let Some(c) = order.shipping_country() {
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

/// The attributes a case has when only the order's ids are known (a
/// transaction, return, dispute or fulfillment event).
pub fn order_ref_attributes(
    shop: &str,
    order_id: Option<u64>,
    customer_id: Option<u64>,
) -> Vec<Attribute> {
    let mut attrs = vec![Attribute::new("shopDomain", shop)];
    if let Some(id) = order_id {
        attrs.push(Attribute::new("orderId", id.to_string()));
    }
    if let Some(id) = customer_id {
        attrs.push(Attribute::new("customerId", id.to_string()));
    }
    attrs
}

/// `case` with `attrs` appended.
pub fn with_attributes(mut case: OpenCase, attrs: Vec<Attribute>) -> OpenCase {
    case.attributes.extend(attrs);
    case
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_of_an_order_with_and_without_addresses() {
        let order: Order = serde_json::from_value(serde_json::json!({
            "id": 42, "name": "#1042", "total_price": "10.00", "currency": "EUR",
            "created_at": "2026-11-26T10:00:00+01:00", "financial_status": "paid",
            "customer": {"id": 7}, "line_items": [{"quantity": 2}, {"quantity": 1}],
            "shipping_address": {"country_code": "AT"}, "billing_address": {"country_code": "DE"}
        }))
        .unwrap();
        let attrs: Vec<(String, String)> = order_attributes("demo.myshopify.com", &order)
            .into_iter()
            .map(|a| (a.name, a.value))
            .collect();
        let get = |n: &str| attrs.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("orderName"), Some("#1042"));
        assert_eq!(get("orderCreatedAt"), Some("2026-11-26T10:00:00+01:00"));
        assert_eq!(get("fulfillmentStatus"), Some("unfulfilled"));
        assert_eq!(get("customerId"), Some("7"));
        assert_eq!(get("itemCount"), Some("3"));
        assert_eq!(
            (get("shippingCountry"), get("billingCountry")),
            (Some("AT"), Some("DE"))
        );

        let bare: Order = serde_json::from_value(serde_json::json!({"id": 1})).unwrap();
        let names: Vec<String> = order_attributes("s", &bare)
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert!(!names.contains(&"customerId".to_owned()));
        assert!(!names.contains(&"shippingCountry".to_owned()));
        assert_eq!(order_ref_attributes("s", Some(1), None).len(), 2);
    }
}
