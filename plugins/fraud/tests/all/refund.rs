//! The decision `cancel` on a paid order: the refund that goes with it
//! (plugin_kit::refund), directly or held for approval, and the case
//! resolved once a held refund is settled.

use super::{ORDER_2010, event, harness, key, run_on};
use fraud::Fraud;
use plugin_kit::testing::*;
use shopcase_sdk::harness::Harness;
use shopcase_sdk::{Action, CaseStatus, Event, ShopifyOperation};

/// `case-updated-cancel` with an approval of the held refund settled.
fn settled(outcome: &str) -> Event {
    let mut e = event("case-updated-cancel");
    let mut v: serde_json::Value = serde_json::from_str(&e.payload).unwrap();
    v["approvals"] = serde_json::json!([{
        "task_id": "task-refund-1",
        "outcome": outcome,
        "operation": {"kind": "refund", "order_id": ORDER_2010, "amount": "1636.90", "currency": "EUR"},
        "executed": outcome == "approved",
    }]);
    v["case"]["status"] = serde_json::json!(if outcome == "approved" {
        "approved"
    } else {
        "rejected"
    });
    e.payload = v.to_string();
    e
}

fn cancelled(h: &mut Harness) -> Vec<Action> {
    run_on(h, "orders-create-high-risk");
    run_on(h, "case-updated-cancel").actions
}

#[test]
fn a_paid_order_above_the_threshold_is_refunded_only_after_approval() {
    let mut h = harness();
    let actions = cancelled(&mut h);
    assert_eq!(
        kinds(&actions),
        ["cancel-order", "tags-remove", "request-approval", "comment"]
    );
    let a = approvals(&actions)[0];
    assert_eq!(a.key, key(ORDER_2010));
    assert_eq!(a.approver_group, "finance-approvers");
    assert_eq!(
        a.title,
        "Approve: refund of 1636.90 EUR on #2010 (cancelled)"
    );
    assert_eq!(a.due.as_deref(), Some("2026-11-28T09:30:00Z"));
    let ShopifyOperation::Refund(r) = &a.operation else {
        panic!("{:?}", a.operation)
    };
    assert_eq!(
        (r.order_id, r.amount.as_str(), r.currency.as_str()),
        (ORDER_2010, "1636.90", "EUR")
    );
    assert_eq!(
        r.note,
        "Refund: order #2010 cancelled as fraud by case CASE-000210."
    );
    // Not resolved while the approval is pending.
    assert!(statuses(&actions).is_empty());
    assert!(
        comments(&actions)[0]
            .text
            .contains("awaits approval by finance-approvers")
    );
    // The same update again: nothing twice.
    assert!(run_on(&mut h, "case-updated-cancel").actions.is_empty());

    // The approver approves: the case is resolved, once.
    let run = h.run::<Fraud>(&settled("approved")).unwrap();
    assert_eq!(statuses(&run.actions), [CaseStatus::Resolved]);
    let resolution = updates(&run.actions)[0].resolution.clone().unwrap();
    assert!(
        resolution.notes.contains("refund was approved"),
        "{resolution:?}"
    );
    assert!(
        h.run::<Fraud>(&settled("approved"))
            .unwrap()
            .actions
            .is_empty()
    );
}

#[test]
fn a_rejected_refund_still_resolves_the_case() {
    let mut h = harness();
    cancelled(&mut h);
    let run = h.run::<Fraud>(&settled("rejected")).unwrap();
    assert_eq!(statuses(&run.actions), [CaseStatus::Resolved]);
    assert!(
        updates(&run.actions)[0]
            .resolution
            .as_ref()
            .unwrap()
            .notes
            .contains("refund was rejected")
    );
}

#[test]
fn below_the_threshold_the_refund_goes_with_the_cancel() {
    let mut h = harness().setting("refund-approval-threshold", 5000.0);
    let actions = cancelled(&mut h);
    assert_eq!(
        kinds(&actions),
        ["cancel-order", "tags-remove", "refund", "update-case"]
    );
    let ShopifyOperation::Refund(r) = operations(&actions)[2] else {
        panic!()
    };
    assert_eq!((r.amount.as_str(), r.notify_customer), ("1636.90", false));
    assert_eq!(statuses(&actions), [CaseStatus::Resolved]);
    assert!(
        updates(&actions)[0]
            .resolution
            .as_ref()
            .unwrap()
            .notes
            .contains("The paid 1636.90 EUR is refunded to the original payment method.")
    );
}

#[test]
fn what_was_refunded_already_is_not_refunded_again() {
    let mut h = harness()
        .setting("refund-approval-threshold", 5000.0)
        .order(paid_order(
            ORDER_2010, "#2010", "1636.90", "1636.90", "1600.00",
        ));
    let actions = cancelled(&mut h);
    let ShopifyOperation::Refund(r) = operations(&actions)[2] else {
        panic!()
    };
    assert_eq!(r.amount, "36.90");
}

#[test]
fn the_store_can_turn_refund_on_cancel_off() {
    // Off: the order is not even read (no order in this harness would
    // fail the run if it were).
    let mut h = harness()
        .setting("refund-on-cancel", false)
        .order(paid_order(
            ORDER_2010, "#2010", "1636.90", "1636.90", "0.00",
        ));
    let actions = cancelled(&mut h);
    assert_eq!(
        kinds(&actions),
        ["cancel-order", "tags-remove", "update-case"]
    );
    assert!(
        updates(&actions)[0]
            .resolution
            .as_ref()
            .unwrap()
            .notes
            .contains("No refund: refund-on-cancel is off for this store.")
    );
}
