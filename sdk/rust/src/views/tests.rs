//! The views against realistic payloads (`tests/fixtures/*.json`, event
//! files as `shopcase plugin run` reads them).

use crate::{CaseStatus, Event, Priority, Subject};

fn fixture(name: &str) -> Event {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    Event::from_file(&path).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn order_reads_every_documented_field() {
    let e = fixture("order-create.json");
    assert_eq!(e.resources.order_id, Some(5_834_211_000_321));
    assert_eq!(e.resources.customer_id, Some(7_001_234_567_890));
    let o = e.order().unwrap();
    assert_eq!(o.id, 5_834_211_000_321);
    assert_eq!(o.admin_graphql_api_id, "gid://shopify/Order/5834211000321");
    assert_eq!((o.name.as_str(), o.order_number), ("#1042", 1042));
    assert_eq!(o.email.as_deref(), Some("lena.hoffmann@example.com"));
    assert_eq!(o.currency, "EUR");
    assert_eq!(o.total_price, "1243.87");
    assert_eq!(o.total_price_cents(), Some(124_387));
    assert_eq!(o.total_price_f64(), Some(1243.87));
    assert_eq!(o.current_total_price_cents(), Some(124_387));
    assert_eq!(o.subtotal_price, "1189.90");
    assert_eq!(o.total_outstanding, "0.00");
    assert_eq!(o.total_weight, 9350);
    assert_eq!(o.financial_status.as_deref(), Some("paid"));
    assert_eq!(o.fulfillment_status, None);
    assert!(!o.is_cancelled() && o.cancel_reason.is_none());
    assert_eq!(o.browser_ip.as_deref(), Some("203.0.113.42"));
    assert_eq!(
        o.client_details
            .as_ref()
            .and_then(|c| c.accept_language.as_deref()),
        Some("de-DE")
    );
    assert_eq!(o.tags(), ["newsletter", "Wholesale"]);
    assert!(o.has_tag("wholesale") && !o.has_tag("vip"));
    assert_eq!(o.note, None);
    assert_eq!(o.note_attribute("gift_wrap"), Some("yes"));
    assert!(!o.test);
    assert_eq!(o.source_name.as_deref(), Some("web"));
    assert_eq!(o.payment_gateway_names, ["shopify_payments"]);
    assert_eq!(o.processed_at.as_deref(), Some("2026-11-26T11:22:28+01:00"));
    let billing = o.billing_address.as_ref().unwrap();
    assert_eq!(billing.address2.as_deref(), Some("3. OG"));
    assert_eq!(o.shipping_country(), Some("DE"));
    assert_eq!(
        o.shipping_address.as_ref().and_then(|a| a.latitude),
        Some(52.5291)
    );
    let c = o.customer.as_ref().unwrap();
    assert_eq!(
        (c.id, c.first_name.as_deref()),
        (7_001_234_567_890, Some("Lena"))
    );
    assert_eq!(o.customer_id(), Some(7_001_234_567_890));
    assert_eq!(
        c.default_address.as_ref().and_then(|a| a.zip.as_deref()),
        Some("10435")
    );
    assert_eq!(o.line_items.len(), 2);
    assert_eq!(o.item_count(), 3);
    let beans = &o.line_items[1];
    assert_eq!(
        (beans.sku.as_deref(), beans.quantity, beans.price.as_str()),
        (None, 2, "70.45")
    );
    assert_eq!(beans.gross_cents(), Some(14_090));
    assert_eq!(o.line_items[0].properties[0].value, "L.H.");
    assert_eq!(o.line_items[0].product_id, Some(8_123_456_789_012));
    assert_eq!(o.shipping_lines[0].price, "53.97");
    assert_eq!(o.discount_codes[0].kind, "fixed_amount");
    assert!(o.fulfillments.is_empty() && o.refunds.is_empty());
}

#[test]
fn minimised_orders_still_parse() {
    let e = fixture("order-create.json");
    let mut payload = e.payload_json().unwrap();
    let grants = shopcase_contract::Grants::default();
    shopcase_contract::minimise::minimise(&mut payload, &e.topic, &grants);
    let mut e = e;
    e.payload = payload.to_string();
    let o = e.order().unwrap();
    assert_eq!(
        (o.email, o.browser_ip, o.client_details, o.shipping_address),
        (None, None, None, None)
    );
    assert_eq!(
        o.customer.as_ref().map(|c| (c.id, c.first_name.clone())),
        Some((7_001_234_567_890, None))
    );
    assert_eq!(o.total_price, "1243.87");
}

#[test]
fn transaction() {
    let e = fixture("transaction-failure.json");
    assert_eq!(e.resources.order_id, Some(5_834_211_000_321));
    let t = e.transaction().unwrap();
    assert_eq!((t.kind.as_str(), t.status.as_str()), ("sale", "failure"));
    assert!(t.is_failure() && !t.is_success());
    assert_eq!(t.error_code.as_deref(), Some("card_declined"));
    assert_eq!(t.amount_cents(), Some(124_387));
    assert_eq!(t.order_id, Some(5_834_211_000_321));
    let p = t.payment_details.as_ref().unwrap();
    assert_eq!(
        (p.credit_card_bin.as_deref(), p.avs_result_code.as_deref()),
        (Some("424242"), Some("Y"))
    );
}

#[test]
fn refund_with_numeric_subtotals() {
    let r = fixture("refund-create.json").refund().unwrap();
    assert_eq!(r.order_id, Some(5_834_211_000_321));
    assert_eq!(r.note.as_deref(), Some("Beans arrived crushed"));
    assert_eq!(
        r.refund_line_items[0].subtotal, "70.45",
        "a JSON number is kept as its text"
    );
    assert_eq!(
        r.refund_line_items[0].restock_type.as_deref(),
        Some("no_restock")
    );
    assert_eq!(
        r.refund_line_items[0]
            .line_item
            .as_ref()
            .map(|l| l.quantity),
        Some(2)
    );
    assert_eq!(r.refunded_cents(), Some(7045));
    assert_eq!(r.transactions[0].parent_id, Some(7_320_187_650_113));
}

#[test]
fn return_request() {
    let e = fixture("return-request.json");
    assert_eq!(
        (e.resources.return_id, e.resources.order_id),
        (Some(9_187_654_321), Some(5_834_211_000_321))
    );
    let r = e.return_request().unwrap();
    assert_eq!(
        (r.name.as_str(), r.status.as_str()),
        ("#1042-R1", "requested")
    );
    assert_eq!(r.order_id(), Some(5_834_211_000_321));
    assert_eq!(r.quantity(), 2);
    assert_eq!(r.reasons(), ["defective", "unwanted"]);
    let first = &r.return_line_items[0];
    assert!(
        first
            .customer_note
            .as_deref()
            .is_some_and(|n| n.contains("grinding noise"))
    );
    let gid_line = r.return_line_items[1]
        .fulfillment_line_item
        .as_ref()
        .and_then(|f| f.line_item.as_ref());
    assert_eq!(
        gid_line.map(|l| l.id),
        Some(13_457_992_433_729),
        "ids may be gids"
    );
    assert_eq!(r.decline, None);
}

#[test]
fn dispute() {
    let e = fixture("dispute-create.json");
    assert_eq!(e.resources.dispute_id, Some(285_332_461));
    let d = e.dispute().unwrap();
    assert!(d.is_chargeback() && d.is_open());
    assert_eq!(
        (d.reason.as_str(), d.amount_cents()),
        ("product_not_received", Some(124_387))
    );
    assert_eq!(
        d.evidence_due_by.as_deref(),
        Some("2027-01-03T23:59:59-05:00")
    );
    let due = crate::Timestamp::parse(d.evidence_due_by.as_deref().unwrap()).unwrap();
    assert_eq!(due.to_string(), "2027-01-04T04:59:59Z");
    assert_eq!(d.initiated_at, "2026-12-19T18:30:00-05:00");
}

#[test]
fn fulfillment_and_its_events() {
    let e = fixture("fulfillment-update.json");
    assert_eq!(e.resources.fulfillment_id, Some(4_890_123_456_789));
    let f = e.fulfillment().unwrap();
    assert_eq!(
        (f.status.as_str(), f.shipment_status.as_deref()),
        ("success", Some("in_transit"))
    );
    assert_eq!(f.tracking_numbers, ["JD014600006281234567"]);
    assert_eq!(f.line_items[0].sku.as_deref(), Some("EMP-STEEL"));
    assert_eq!(
        f.destination.as_ref().and_then(|d| d.city.as_deref()),
        Some("Berlin")
    );

    let e = fixture("fulfillment-event-delivered.json");
    assert_eq!(
        (e.resources.fulfillment_id, e.resources.order_id),
        (Some(4_890_123_456_789), Some(5_834_211_000_321))
    );
    let ev = e.fulfillment_event().unwrap();
    assert!(ev.is_delivered() && !ev.is_problem());
    assert_eq!(ev.estimated_delivery_at, None);
    assert_eq!(ev.happened_at, "2026-11-29T12:47:00+01:00");
}

#[test]
fn case_updated() {
    let e = fixture("case-updated.json");
    assert_eq!(
        e.resources.case_id.as_deref(),
        Some("6f1c2f1e-9a8b-4c53-a1f0-3c9d7e2b5a10")
    );
    assert_eq!(e.api_version, "shopcase-1");
    let u = e.case_updated().unwrap();
    assert_eq!(u.case.number, "CASE-000042");
    assert_eq!(u.case.subject, Some(Subject::Order(5_834_211_000_321)));
    assert_eq!(
        u.key().map(|k| k.case_type),
        Some("fraud-investigation".to_owned())
    );
    assert_eq!(
        (u.status(), u.previous_status()),
        (
            Some(CaseStatus::Approved),
            Some(CaseStatus::PendingApproval)
        )
    );
    assert!(u.moved_to(CaseStatus::Approved) && !u.moved_to(CaseStatus::Closed));
    assert_eq!(u.case.priority(), Some(Priority::High));
    assert_eq!(u.attribute("decision"), Some("release"));
    assert_eq!(
        u.attribute("score"),
        Some("80"),
        "non-string attributes are their JSON text"
    );
    assert_eq!(u.tasks[1].outcome.as_deref(), Some("approved"));
    assert_eq!(u.approvals[0].operation_kind(), Some("refund"));
    assert!(u.approvals[0].executed);
    // Serialising gives the documented subject shape back.
    let json = serde_json::to_value(&u.case).unwrap();
    assert_eq!(
        json["subject"],
        serde_json::json!({"order": 5_834_211_000_321u64})
    );
}

#[test]
fn timer_fired_keeps_its_data() {
    let e = fixture("timer-fired.json");
    assert_eq!(e.resources.order_id, Some(5_834_211_000_321));
    let t = e.timer_fired().unwrap();
    assert_eq!(
        (t.name.as_str(), t.due.as_str()),
        ("sla-check", "2026-11-27T10:00:00Z")
    );
    assert_eq!(t.data, serde_json::json!({"level": 1, "note": null}));
    #[derive(serde::Deserialize)]
    struct Data {
        level: u8,
    }
    assert_eq!(t.data_as::<Data>().unwrap().level, 1);
    let err = t.data_as::<Vec<u8>>().unwrap_err();
    assert!(err.message.starts_with("timer `sla-check` data"), "{err:?}");
}

#[test]
fn unknown_and_odd_fields_are_tolerated() {
    let e = Event::from_payload(
        "orders/create",
        serde_json::json!({
            "id": "gid://shopify/Order/77",
            "total_price": 12.5,
            "brand_new_field_2027": {"x": [1, 2]},
            "note_attributes": [{"name": "n", "value": 3}],
            "customer": {"id": "88"}
        }),
    )
    .unwrap();
    let o = e.order().unwrap();
    assert_eq!(o.id, 77);
    assert_eq!(o.total_price, "12.5");
    assert_eq!(o.note_attribute("n"), Some("3"));
    assert_eq!(o.customer_id(), Some(88));
    assert_eq!(o.name, "", "missing fields are empty");
}
