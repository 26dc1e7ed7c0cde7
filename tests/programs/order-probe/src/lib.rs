//! A plugin API 0.2.0 test program (`shopcase:plugin@0.2.0`), built from
//! source by `cargo xtask` (and on demand by the tests) for the sandbox's
//! version tests (`host/sandbox/tests/all/versions.rs`).
//!
//! On every event it calls `order` and `order-risk`, each for the order id
//! named by a tag `ask:<id>` (tags reach every plugin, whatever its data
//! grants), else for the event's own order, and returns one `open-case`
//! whose document `probe.json` holds what each call answered, as JSON: the
//! answer in `ok`, or the error's case and message in `err`. A tag
//! `skip:order` or `skip:risk` leaves that call out (so a manifest without
//! its grant can still be probed for the other one). A tag `history:<id>`
//! asks `customer-history` for that customer before and after `order`.

#[allow(
    unsafe_code,
    reason = "wit-bindgen's generated bindings and export glue are unsafe"
)]
mod guest {
    wit_bindgen::generate!({
        path: "../../../wit/v0.2.0",
        world: "plugin",
    });

    use exports::shopcase::plugin::handler::Guest;
    use serde_json::{Value, json};
    use shopcase::plugin::host;
    use shopcase::plugin::types::*;

    struct Probe;

    fn error(e: host::HostError) -> Value {
        let (case, message) = match e {
            host::HostError::QuotaExceeded(m) => ("quota-exceeded", m),
            host::HostError::InvalidArgument(m) => ("invalid-argument", m),
            host::HostError::Unavailable(m) => ("unavailable", m),
        };
        json!({"err": {"case": case, "message": message}})
    }

    fn money(m: &host::Money) -> Value {
        json!({"amount": m.amount, "currency": m.currency})
    }

    fn address(a: &host::Address) -> Value {
        let mut v = serde_json::Map::new();
        let text = [
            ("first-name", &a.first_name),
            ("last-name", &a.last_name),
            ("name", &a.name),
            ("phone", &a.phone),
            ("company", &a.company),
            ("address1", &a.address1),
            ("address2", &a.address2),
            ("city", &a.city),
            ("province", &a.province),
            ("province-code", &a.province_code),
            ("country", &a.country),
            ("country-code", &a.country_code),
            ("zip", &a.zip),
        ];
        for (k, f) in text {
            if let Some(s) = f {
                v.insert(k.into(), json!(s));
            }
        }
        for (k, f) in [("latitude", a.latitude), ("longitude", a.longitude)] {
            if let Some(x) = f {
                v.insert(k.into(), json!(x));
            }
        }
        Value::Object(v)
    }

    fn order(o: &host::OrderDetails) -> Value {
        json!({
            "id": o.id, "name": o.name, "created-at": o.created_at, "currency": o.currency,
            "subtotal": o.subtotal.as_ref().map(money), "total": money(&o.total),
            "current-total": money(&o.current_total), "outstanding": money(&o.outstanding),
            "total-refunded": money(&o.total_refunded),
            "financial-status": o.financial_status, "fulfillment-status": o.fulfillment_status,
            "cancelled": o.cancelled, "customer-id": o.customer_id,
            "line-items": o.line_items.iter().map(|l| json!({
                "id": l.id, "title": l.title, "sku": l.sku, "quantity": l.quantity,
                "unit-price": money(&l.unit_price), "variant-id": l.variant_id, "product-id": l.product_id,
            })).collect::<Vec<_>>(),
            "shipping-address": o.shipping_address.as_ref().map(address),
            "billing-address": o.billing_address.as_ref().map(address),
            "fulfillments": o.fulfillments.iter().map(|f| json!({
                "id": f.id, "status": f.status, "created-at": f.created_at,
                "tracking-company": f.tracking_company, "tracking-number": f.tracking_number,
            })).collect::<Vec<_>>(),
            "transactions": o.transactions.iter().map(|t| json!({
                "kind": t.kind, "status": t.status, "gateway": t.gateway,
                "amount": money(&t.amount), "created-at": t.created_at,
            })).collect::<Vec<_>>(),
        })
    }

    fn risk(r: &host::RiskSummary) -> Value {
        let rec = match r.recommendation {
            host::RiskRecommendation::Accept => "accept",
            host::RiskRecommendation::Cancel => "cancel",
            host::RiskRecommendation::Investigate => "investigate",
            host::RiskRecommendation::None => "none",
        };
        json!({
            "recommendation": rec,
            "assessments": r.assessments.iter().map(|a| json!({
                "level": match a.level {
                    host::RiskLevel::High => "high",
                    host::RiskLevel::Medium => "medium",
                    host::RiskLevel::Low => "low",
                    host::RiskLevel::None => "none",
                    host::RiskLevel::Pending => "pending",
                },
                "provider": a.provider,
                "facts": a.facts.iter().map(|f| json!({
                    "description": f.description,
                    "sentiment": match f.sentiment {
                        host::RiskSentiment::Positive => "positive",
                        host::RiskSentiment::Neutral => "neutral",
                        host::RiskSentiment::Negative => "negative",
                    },
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }

    fn tags(payload: &str) -> Vec<String> {
        let v: Value = serde_json::from_str(payload).unwrap_or(Value::Null);
        v.get("tags")
            .and_then(Value::as_str)
            .unwrap_or("")
            .split(',')
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect()
    }

    impl Guest for Probe {
        fn handle(event: Event) -> Result<Vec<Action>, PluginError> {
            let own = event.resources.order_id.unwrap_or(0);
            let tags = tags(&event.payload);
            let ask = tags
                .iter()
                .find_map(|t| t.strip_prefix("ask:")?.parse().ok())
                .unwrap_or(own);
            let skip = |what: &str| tags.iter().any(|t| t == &format!("skip:{what}"));
            let mut report = serde_json::Map::new();
            // `history:<id>`: the customer's history asked before and after
            // `order` (from 0.2.0 the order's customer is the event's own).
            let history = tags
                .iter()
                .find_map(|t| t.strip_prefix("history:")?.parse::<u64>().ok());
            let ask_history = |report: &mut serde_json::Map<String, Value>, when: &str| {
                if let Some(id) = history {
                    let r = match host::customer_history(id) {
                        Ok(h) => {
                            json!({"ok": {"customer-id": h.customer_id, "orders": h.number_of_orders}})
                        }
                        Err(e) => error(e),
                    };
                    report.insert(format!("history-{when}"), r);
                }
            };
            ask_history(&mut report, "before");
            if !skip("order") {
                let r = match host::order(ask) {
                    Ok(o) => json!({"ok": order(&o)}),
                    Err(e) => error(e),
                };
                report.insert("order".into(), r);
            }
            ask_history(&mut report, "after");
            if !skip("risk") {
                let r = match host::order_risk(ask) {
                    Ok(o) => json!({"ok": risk(&o)}),
                    Err(e) => error(e),
                };
                report.insert("risk".into(), r);
            }
            let content = serde_json::to_vec(&Value::Object(report)).map_err(|e| PluginError {
                message: e.to_string(),
                retryable: false,
            })?;
            Ok(vec![Action::OpenCase(OpenCase {
                key: CaseKey {
                    case_type: "probe".into(),
                    subject: Subject::Order(own),
                },
                title: "probe".into(),
                summary: String::new(),
                priority: Priority::Low,
                owner: None,
                owner_group: None,
                due: None,
                attributes: vec![],
                documents: vec![Document {
                    name: "probe.json".into(),
                    content_type: "application/json".into(),
                    description: "what the host functions answered".into(),
                    content,
                }],
            })])
        }
    }

    export!(Probe);
}
