//! Refunds counted per order within `approval-window-hours`, and refunds
//! issued outside shopcase (`refunds/create`) flagged "issued without
//! approval".

use super::{fx, harness, notes, order};
use plugin_kit::testing::*;
use refund_approval::{CASE_TYPE, RefundApproval};
use shopcase_sdk::harness::{Harness, Run};
use shopcase_sdk::{Event, Priority, ShopifyOperation, Subject};

const ORDER_2011: u64 = 5_900_000_102_011;

fn edited(name: &str, edit: impl FnOnce(&mut Event, &mut serde_json::Value)) -> Event {
    let mut e = fx().event(name);
    let mut v: serde_json::Value = serde_json::from_str(&e.payload).unwrap();
    edit(&mut e, &mut v);
    e.payload = v.to_string();
    e
}

/// `orders-updated-refund-small` (#2030) with other tags, `hours` after it.
fn tags_later(tags: &str, hours: i64) -> Event {
    edited("orders-updated-refund-small", |e, v| {
        let at = shopcase_sdk::Timestamp::parse(&e.triggered_at)
            .unwrap()
            .plus_hours(hours);
        e.triggered_at = at.to_rfc3339();
        v["tags"] = tags.into();
    })
}

fn run(h: &mut Harness, e: &Event) -> Run {
    h.run::<RefundApproval>(e).unwrap()
}

#[test]
fn tags_under_the_threshold_in_one_update_do_not_all_run_at_once() {
    // 60 + 50 = 110: the first goes through, the second reaches the
    // threshold of 100 with it and is held.
    let mut h = harness();
    let r = run(&mut h, &tags_later("refund:60.00, refund:25.00 #2", 0));
    assert_eq!(
        kinds(&r.actions),
        [
            "refund",
            "note-append",
            "tags-remove",
            "refund",
            "note-append",
            "tags-remove"
        ],
        "60 + 25 = 85 stays under 100"
    );
    let mut h = harness();
    let r = run(&mut h, &tags_later("refund:60.00, refund:50.00", 0));
    assert_eq!(
        kinds(&r.actions),
        [
            "open-case",
            "request-approval",
            "note-append",
            "refund",
            "note-append",
            "tags-remove"
        ]
    );
    let ShopifyOperation::Refund(direct) = operations(&r.actions)[1] else {
        panic!()
    };
    assert_eq!(direct.amount, "60.00");
    let a = approvals(&r.actions)[0];
    let ShopifyOperation::Refund(held) = &a.operation else {
        panic!()
    };
    assert_eq!(held.amount, "50.00");
    assert!(
        a.description.contains(
            "With the order's other refunds of the last 168 hours it comes to 110.00 EUR."
        ),
        "{}",
        a.description
    );
}

#[test]
fn a_later_tag_counts_the_refunds_inside_the_window_only() {
    // 25.00 at once; 80.00 an hour later makes 105.00 within the window.
    let mut h = harness();
    run(&mut h, &tags_later("refund:25.00", 0));
    let r = run(&mut h, &tags_later("refund:25.00, refund:80.00", 1));
    assert_eq!(
        kinds(&r.actions),
        ["open-case", "request-approval", "note-append"]
    );
    assert_eq!(
        notes(&r),
        [
            "Refund of 80.00 EUR awaits approval by finance-approvers. With the order's other refunds of the last 168 hours it comes to 105.00 EUR."
        ]
    );

    // Eight days later the 25.00 is outside the 168 hours: at once.
    let mut h = harness();
    run(&mut h, &tags_later("refund:25.00", 0));
    let r = run(&mut h, &tags_later("refund:25.00, refund:80.00", 8 * 24));
    assert_eq!(kinds(&r.actions), ["refund", "note-append", "tags-remove"]);

    // A window of 0 counts each refund alone.
    let mut h = harness().setting("approval-window-hours", 0);
    run(&mut h, &tags_later("refund:25.00", 0));
    let r = run(&mut h, &tags_later("refund:25.00, refund:80.00", 1));
    assert_eq!(kinds(&r.actions)[0], "refund");
}

fn with_2011(h: Harness) -> Harness {
    h.order(paid_order(
        ORDER_2011, "#2011", "1128.40", "1128.40", "300.00",
    ))
}

fn outside(cents_note: Option<(&str, &str)>, hours: i64, issued: Option<bool>) -> Event {
    edited("refunds-create-outside-shopcase", |e, v| {
        let at = shopcase_sdk::Timestamp::parse(&e.triggered_at)
            .unwrap()
            .plus_hours(hours);
        e.triggered_at = at.to_rfc3339();
        if let Some((amount, id)) = cents_note {
            v["transactions"][0]["amount"] = amount.into();
            v["id"] = id.parse::<u64>().unwrap().into();
        }
        if let Some(i) = issued {
            v["shopcase_issued"] = i.into();
        }
    })
}

#[test]
fn a_refund_issued_outside_shopcase_above_the_threshold_is_flagged() {
    let mut h = with_2011(harness());
    let r = h
        .run::<RefundApproval>(&fx().event("refunds-create-outside-shopcase"))
        .unwrap();
    assert_eq!(kinds(&r.actions), ["open-case", "note-append"]);
    let case = open_case(&r.actions);
    assert_eq!(case.key.case_type, CASE_TYPE);
    assert_eq!(case.key.subject, Subject::Order(ORDER_2011));
    assert_eq!(
        case.title,
        "Refund issued without approval on #2011: 300.00 EUR"
    );
    assert_eq!(case.priority, Priority::High);
    assert_eq!(case.owner_group.as_deref(), Some("finance"));
    assert_eq!(attr(case, "issuedWithoutApproval"), Some("true"));
    assert_eq!(attr(case, "refundId"), Some("1029000011"));
    assert_eq!(attr(case, "refundedValue"), Some("300.00"));
    assert_eq!(attr(case, "orderName"), Some("#2011"));
    assert_eq!(attr(case, "totalPrice"), Some("1128.40"));
    assert_eq!(attr(case, "totalRefunded"), Some("300.00"));
    assert!(case.summary.contains("issued on #2011 outside shopcase (refund 1029000011), without an approval. Refunds of 100.00 or more need one."), "{}", case.summary);
    assert_eq!(
        notes(&r),
        [
            "Refund of 300.00 EUR issued outside shopcase without approval: a refund-approval case was opened."
        ]
    );
    // The same delivery again (or a redelivery): once.
    assert!(
        h.run::<RefundApproval>(&fx().event("refunds-create-outside-shopcase"))
            .unwrap()
            .actions
            .is_empty()
    );
}

#[test]
fn a_marker_typed_into_the_note_does_not_hide_a_refund() {
    // The fixture's note carries `[shopcase:0a1b2c3d4e5f]` typed by staff;
    // only the host's `shopcase_issued` counts, and it says false.
    let r = with_2011(harness())
        .run::<RefundApproval>(&outside(None, 0, Some(false)))
        .unwrap();
    assert_eq!(kinds(&r.actions), ["open-case", "note-append"]);
    // The host verified it as shopcase's own: nothing to flag (and the
    // order is not even read: this harness knows none).
    let r = harness()
        .run::<RefundApproval>(&outside(None, 0, Some(true)))
        .unwrap();
    assert!(r.actions.is_empty());
}

#[test]
fn small_refunds_outside_shopcase_add_up_within_the_window() {
    let mut h = with_2011(harness());
    let r = run(&mut h, &outside(Some(("60.00", "1")), 0, None));
    assert!(r.actions.is_empty(), "60.00 alone is under 100.00");
    let r = run(&mut h, &outside(Some(("50.00", "2")), 2, None));
    let case = open_case(&r.actions);
    assert_eq!(attr(case, "windowRefundedValue"), Some("110.00"));
    assert!(
        case.summary.contains(
            "With the order's other refunds of the last 168 hours it comes to 110.00 EUR."
        )
    );

    // Outside the window they do not.
    let mut h = with_2011(harness());
    run(&mut h, &outside(Some(("60.00", "1")), 0, None));
    let r = run(&mut h, &outside(Some(("50.00", "2")), 169, None));
    assert!(r.actions.is_empty());
}

#[test]
fn a_refund_that_moved_no_money_is_not_flagged() {
    let e = edited("refunds-create-outside-shopcase", |_, v| {
        v["transactions"] = serde_json::json!([]);
    });
    assert!(
        harness()
            .run::<RefundApproval>(&e)
            .unwrap()
            .actions
            .is_empty()
    );
}

#[test]
fn refunds_requested_by_tag_count_toward_an_outside_refund() {
    // #2030: 25.00 by tag, then 80.00 issued in the Shopify admin.
    let mut h = harness().order(paid_order(order(2030), "#2030", "89.20", "89.20", "105.00"));
    run(&mut h, &tags_later("refund:25.00", 0));
    let e = edited("refunds-create-outside-shopcase", |e, v| {
        e.resources.order_id = Some(order(2030));
        e.triggered_at = "2026-11-26T12:00:00Z".into();
        v["order_id"] = order(2030).into();
        v["transactions"][0]["amount"] = "80.00".into();
    });
    let r = run(&mut h, &e);
    assert_eq!(
        attr(open_case(&r.actions), "windowRefundedValue"),
        Some("105.00")
    );
}
