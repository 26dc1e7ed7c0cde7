//! The decision `cancel` on a paid duplicate: the refund that goes with it
//! (plugin_kit::refund), directly or held for approval; other cancels move
//! no money.

use super::{ORDER_2004, edited, fx, run_on};
use order_problems::OrderProblems;
use plugin_kit::testing::*;
use shopcase_sdk::harness::Harness;
use shopcase_sdk::{CaseStatus, ShopifyOperation};

fn paid() -> Harness {
    fx().harness().order(paid_order(
        ORDER_2004, "#2004", "1163.70", "1163.70", "0.00",
    ))
}

#[test]
fn a_paid_duplicate_is_refunded_after_approval() {
    let mut h = paid();
    let run = run_on(&mut h, "case-updated-duplicate-cancel");
    assert_eq!(
        kinds(&run.actions),
        ["cancel-order", "request-approval", "comment"]
    );
    let a = approvals(&run.actions)[0];
    assert_eq!(a.approver_group, "finance-approvers");
    let ShopifyOperation::Refund(r) = &a.operation else {
        panic!()
    };
    assert_eq!((r.order_id, r.amount.as_str()), (ORDER_2004, "1163.70"));
    assert!(statuses(&run.actions).is_empty(), "open until approved");

    let approved = edited("case-updated-duplicate-cancel", |v| {
        v["payload"]["case"]["status"] = "approved".into();
        v["payload"]["approvals"] = serde_json::json!([{
            "task_id": "t-1", "outcome": "approved", "executed": true,
            "operation": {"kind": "refund", "order_id": ORDER_2004, "amount": "1163.70", "currency": "EUR"}
        }]);
    });
    let run = h.run::<OrderProblems>(&approved).unwrap();
    assert_eq!(statuses(&run.actions), [CaseStatus::Resolved]);
    assert!(
        h.run::<OrderProblems>(&approved)
            .unwrap()
            .actions
            .is_empty()
    );
}

#[test]
fn a_small_duplicate_is_refunded_with_the_cancel() {
    let mut h = paid().setting("refund-approval-threshold", 2000.0);
    let run = run_on(&mut h, "case-updated-duplicate-cancel");
    assert_eq!(
        kinds(&run.actions),
        ["cancel-order", "refund", "update-case"]
    );
    assert_eq!(statuses(&run.actions), [CaseStatus::Resolved]);
}

#[test]
fn refund_on_cancel_off_moves_no_money() {
    let mut h = paid().setting("refund-on-cancel", false);
    let run = run_on(&mut h, "case-updated-duplicate-cancel");
    assert_eq!(kinds(&run.actions), ["cancel-order", "update-case"]);
}

#[test]
fn a_cancel_that_is_not_a_duplicate_refunds_nothing() {
    // A payment problem: nothing was paid to return; the order is not read
    // (this harness knows no order: reading it would fail the run).
    let not_duplicate = edited("case-updated-duplicate-cancel", |v| {
        v["payload"]["case"]["attributes"]["problems"] = "payment-failed".into();
    });
    let run = fx().harness().run::<OrderProblems>(&not_duplicate).unwrap();
    assert_eq!(kinds(&run.actions), ["cancel-order", "update-case"]);
    let ShopifyOperation::CancelOrder(c) = operations(&run.actions)[0] else {
        panic!()
    };
    assert_eq!(c.reason, shopcase_sdk::CancelReason::Declined);
}
