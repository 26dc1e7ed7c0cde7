//! Helpers on [`Event`]: the payload as JSON or as a typed view, the event's
//! own ids and case keys, and its time.
//!
//! The envelope fields are plain public fields (`event.topic`,
//! `event.shop`, `event.resources.order_id`, ...). The ids in `resources`
//! are filled by the host, so they are the ones actions may name; prefer
//! them (and [`Event::order_key`] and friends) over ids read from the
//! payload.

use serde::de::DeserializeOwned;

use crate::views::{
    CaseUpdated, Dispute, Fulfillment, FulfillmentEvent, Order, Refund, Return, TimerFired,
    Transaction,
};
use crate::{CaseKey, Event, PluginError, Subject, Timestamp};

impl Event {
    /// The payload as a JSON value.
    pub fn payload_json(&self) -> Result<serde_json::Value, PluginError> {
        serde_json::from_str(&self.payload)
            .map_err(|e| PluginError::new(format!("{} payload is not JSON: {e}", self.topic)))
    }

    /// The payload as any deserialisable type, e.g. a plugin's own struct
    /// of the few fields it needs.
    ///
    /// Object members whose value is `null` are treated as missing first, so
    /// a `#[serde(default)]` struct reads Shopify's many nullable fields
    /// without an `Option` for each. (The typed accessors below do not need
    /// this step: the [`crate::views`] read `null`s themselves.)
    pub fn payload<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        let mut value = self.payload_json()?;
        strip_nulls(&mut value);
        T::deserialize(value).map_err(|e| self.shape_error::<T>(e))
    }

    /// The payload of `orders/*` topics.
    pub fn order(&self) -> Result<Order, PluginError> {
        self.view()
    }

    /// The payload of `order_transactions/create`.
    pub fn transaction(&self) -> Result<Transaction, PluginError> {
        self.view()
    }

    /// The payload of `refunds/create`.
    pub fn refund(&self) -> Result<Refund, PluginError> {
        self.view()
    }

    /// The payload of `returns/*` topics.
    pub fn return_request(&self) -> Result<Return, PluginError> {
        self.view()
    }

    /// The payload of `disputes/*` topics.
    pub fn dispute(&self) -> Result<Dispute, PluginError> {
        self.view()
    }

    /// The payload of `fulfillments/*` topics.
    pub fn fulfillment(&self) -> Result<Fulfillment, PluginError> {
        self.view()
    }

    /// The payload of `fulfillment_events/create`.
    pub fn fulfillment_event(&self) -> Result<FulfillmentEvent, PluginError> {
        self.view()
    }

    /// The payload of the host topic `corecase/case-updated`.
    pub fn case_updated(&self) -> Result<CaseUpdated, PluginError> {
        self.view()
    }

    /// The payload of the host topic `timer/fired` (the timer's data comes
    /// back exactly as given, `null`s included).
    pub fn timer_fired(&self) -> Result<TimerFired, PluginError> {
        self.view()
    }

    /// `triggered-at`: when the event happened, the plugin's only "now".
    pub fn triggered_at(&self) -> Result<Timestamp, PluginError> {
        Timestamp::parse(&self.triggered_at)
            .map_err(|e| PluginError::new(format!("event triggered-at: {e}")))
    }

    /// The event's own order id, or an error naming what is missing.
    pub fn order_id(&self) -> Result<u64, PluginError> {
        self.resources.order_id.ok_or_else(|| self.missing("order"))
    }

    /// The event's own customer id.
    pub fn customer_id(&self) -> Result<u64, PluginError> {
        self.resources
            .customer_id
            .ok_or_else(|| self.missing("customer"))
    }

    /// The event's own return id.
    pub fn return_id(&self) -> Result<u64, PluginError> {
        self.resources
            .return_id
            .ok_or_else(|| self.missing("return"))
    }

    /// The event's own dispute id.
    pub fn dispute_id(&self) -> Result<u64, PluginError> {
        self.resources
            .dispute_id
            .ok_or_else(|| self.missing("dispute"))
    }

    /// The event's own fulfillment id.
    pub fn fulfillment_id(&self) -> Result<u64, PluginError> {
        self.resources
            .fulfillment_id
            .ok_or_else(|| self.missing("fulfillment"))
    }

    /// The Core Case case id (`corecase/case-updated`, timers set on a case).
    pub fn case_id(&self) -> Result<&str, PluginError> {
        self.resources
            .case_id
            .as_deref()
            .ok_or_else(|| self.missing("case"))
    }

    /// The key of this plugin's `case_type` case about the event's order.
    pub fn order_key(&self, case_type: &str) -> Result<CaseKey, PluginError> {
        Ok(CaseKey::new(case_type, Subject::Order(self.order_id()?)))
    }

    /// The key of this plugin's `case_type` case about the event's return.
    pub fn return_key(&self, case_type: &str) -> Result<CaseKey, PluginError> {
        Ok(CaseKey::new(case_type, Subject::Return(self.return_id()?)))
    }

    /// The key of this plugin's `case_type` case about the event's dispute.
    pub fn dispute_key(&self, case_type: &str) -> Result<CaseKey, PluginError> {
        Ok(CaseKey::new(
            case_type,
            Subject::Dispute(self.dispute_id()?),
        ))
    }

    /// The key of this plugin's `case_type` case about the event's customer.
    pub fn customer_key(&self, case_type: &str) -> Result<CaseKey, PluginError> {
        Ok(CaseKey::new(
            case_type,
            Subject::Customer(self.customer_id()?),
        ))
    }

    /// A view, read straight from the payload text: the views handle
    /// `null`s themselves, so no intermediate JSON tree is built.
    fn view<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        serde_json::from_str(&self.payload).map_err(|e| self.shape_error::<T>(e))
    }

    fn shape_error<T>(&self, e: serde_json::Error) -> PluginError {
        PluginError::new(format!(
            "{} payload does not have the expected shape ({}): {e}",
            self.topic,
            short_type_name::<T>()
        ))
    }

    fn missing(&self, what: &str) -> PluginError {
        PluginError::new(format!("{} event {} has no {what}", self.topic, self.id))
    }
}

/// Remove `null` object members, at any depth (array items are kept, so
/// positions do not shift).
fn strip_nulls(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Resources;

    fn event(topic: &str, payload: &str) -> Event {
        Event {
            id: "evt_1".into(),
            shopify_event_id: None,
            shop: "demo.myshopify.com".into(),
            topic: topic.into(),
            api_version: "2026-07".into(),
            triggered_at: "2026-11-26T10:22:31Z".into(),
            resources: Resources {
                order_id: Some(42),
                customer_id: None,
                return_id: None,
                dispute_id: None,
                fulfillment_id: None,
                case_id: None,
            },
            payload: payload.into(),
        }
    }

    #[test]
    fn nulls_read_as_defaults() {
        let e = event(
            "orders/create",
            r##"{"id": 42, "name": "#1", "note": null, "email": null, "customer": null, "line_items": [{"sku": null, "quantity": 2}]}"##,
        );
        let o = e.order().unwrap();
        assert_eq!((o.id, o.name.as_str()), (42, "#1"));
        assert_eq!((o.note, o.email, o.customer), (None, None, None));
        assert_eq!(o.line_items[0].sku, None);
        assert_eq!(o.line_items[0].quantity, 2);

        let e = event(
            "orders/create",
            r#"{"id": null, "name": null, "tags": null, "test": null, "line_items": null, "total_price": null,
                "note_attributes": [{"name": "n", "value": {"nested": [1, null]}}], "total_weight": null}"#,
        );
        let o = e.order().unwrap();
        assert_eq!(
            (o.id, o.name.as_str(), o.tags(), o.test),
            (0, "", vec![], false)
        );
        assert_eq!(
            (o.line_items.len(), o.total_price_f64(), o.total_weight),
            (0, None, 0)
        );
        assert_eq!(
            o.note_attribute("n"),
            Some(""),
            "objects in text fields read as empty"
        );
        let r: crate::views::Refund = event(
            "refunds/create",
            r#"{"refund_line_items": [{"subtotal": 19.5, "total_tax": -1}]}"#,
        )
        .refund()
        .unwrap();
        assert_eq!(
            (
                r.refund_line_items[0].subtotal.as_str(),
                r.refund_line_items[0].total_tax.as_str()
            ),
            ("19.5", "-1")
        );
    }

    #[test]
    fn bad_payloads_are_plugin_errors_naming_the_topic() {
        let e = event("orders/create", "not json");
        let err = e.payload_json().unwrap_err();
        assert!(
            err.message.starts_with("orders/create payload is not JSON"),
            "{err:?}"
        );
        assert!(!err.retryable);
        let e = event("orders/create", r#"{"line_items": "many"}"#);
        let err = e.order().unwrap_err();
        assert!(err.message.contains("expected shape (Order)"), "{err:?}");
    }

    #[test]
    fn own_ids_and_keys() {
        let e = event("orders/create", "{}");
        assert_eq!(
            e.order_key("high-value-order").unwrap(),
            CaseKey::new("high-value-order", Subject::Order(42))
        );
        let err = e.customer_key("x").unwrap_err();
        assert_eq!(err.message, "orders/create event evt_1 has no customer");
        assert!(e.dispute_id().is_err() && e.return_key("x").is_err() && e.case_id().is_err());
        assert_eq!(
            e.triggered_at().unwrap().plus_hours(1).to_string(),
            "2026-11-26T11:22:31Z"
        );
        let mut bad = e.clone();
        bad.triggered_at = "now".into();
        assert!(bad.triggered_at().is_err());
    }
}
