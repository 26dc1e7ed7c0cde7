//! order-problems under the SDK harness, built from its own `plugin.toml`
//! (so grants, data minimisation and action validation apply as in the
//! host), on realistic events from `tests/fixtures/`.

use order_problems::{CASE_TYPE, HOLD_HANDLE, OrderProblems};
use plugin_kit::testing::*;
use shopcase_sdk::harness::{Harness, Run};
use shopcase_sdk::{
    Action, CancelReason, CaseStatus, Event, HoldReason, Priority, ShopifyOperation, Subject,
    Target,
};

const ORDER_2001: u64 = 5_900_000_102_001;
const ORDER_2002: u64 = 5_900_000_102_002;
const ORDER_2004: u64 = 5_900_000_102_004;
const ORDER_2005: u64 = 5_900_000_102_005;

mod refund;

/// #2004 as Shopify knows it when only authorised: nothing to refund.
fn unpaid_2004() -> shopcase_sdk::OrderDetails {
    paid_order(ORDER_2004, "#2004", "1163.70", "0.00", "0.00")
}

fn fx() -> Fixtures {
    Fixtures::new(env!("CARGO_MANIFEST_DIR"))
}

fn run_on(h: &mut Harness, name: &str) -> Run {
    h.run::<OrderProblems>(&fx().event(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn fresh(name: &str) -> Run {
    run_on(&mut fx().harness(), name)
}

fn hold_of(actions: &[Action]) -> Option<&shopcase_sdk::shopify::HoldFulfillment> {
    operations(actions).into_iter().find_map(|op| match op {
        ShopifyOperation::HoldFulfillment(h) => Some(h),
        _ => None,
    })
}

/// An event file's text with its payload edited, as a new event.
fn edited(name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> Event {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    edit(&mut v);
    Event::from_file_json(&v.to_string()).unwrap()
}

#[test]
fn a_normal_order_opens_no_case() {
    let run = fresh("orders-create-normal");
    assert!(run.actions.is_empty(), "{:?}", kinds(&run.actions));
}

#[test]
fn test_and_cancelled_orders_are_ignored() {
    for name in ["orders-create-test-order", "orders-updated-cancelled"] {
        assert!(fresh(name).actions.is_empty(), "{name}");
    }
}

#[test]
fn a_country_mismatch_opens_a_case_with_the_order_dossier() {
    let run = fresh("orders-create-address-mismatch");
    assert_eq!(kinds(&run.actions), ["open-case", "tags-add"]);
    let case = open_case(&run.actions);
    assert_eq!(case.key.case_type, CASE_TYPE);
    assert_eq!(case.key.subject, Subject::Order(ORDER_2001));
    assert_eq!(
        case.title,
        "Order exception on #2001: billing and shipping countries differ"
    );
    assert!(
        case.summary
            .contains("- Billing country DE differs from shipping country AT.\n"),
        "{}",
        case.summary
    );
    assert!(case.summary.contains("attribute `decision`"));
    assert_eq!(case.priority, Priority::Medium);
    assert_eq!(case.owner_group.as_deref(), Some("order-desk"));
    assert_eq!(case.due.as_deref(), Some("2026-11-27T09:04:14Z"));
    for (name, value) in [
        ("problems", "address-country-mismatch"),
        ("orderName", "#2001"),
        ("orderId", "5900000102001"),
        ("totalPrice", "278.40"),
        ("currency", "EUR"),
        ("customerId", "7100000006"),
        ("shippingCountry", "AT"),
        ("billingCountry", "DE"),
        ("shopDomain", "demo.myshopify.com"),
    ] {
        assert_eq!(attr(case, name), Some(value), "{name}");
    }
    let dossier = document_text(case, "order-2001-dossier.md");
    assert!(
        dossier.contains("## Findings\n\n- Billing country DE"),
        "{dossier}"
    );
    assert!(dossier.contains("| Burr Grinder Mk2 - Black | BG2-BLK | 1 | 249.00 |"));
    assert!(dossier.contains("Mariahilfer Straße 88, 1070, Wien, AT"));
    // No contact data was granted: none reaches the case.
    let all = format!("{:?}", run.actions);
    assert!(
        !all.contains("emma.schulz") && !all.contains("Schulz"),
        "{all}"
    );
    assert!(
        hold_of(&run.actions).is_none(),
        "a mismatch alone does not hold"
    );
    assert_eq!(
        operations(&run.actions)[0],
        &shopcase_sdk::shopify::tags_add(Target::Order(ORDER_2001), ["order-exception"])
    );
}

#[test]
fn the_same_problem_is_reported_once_per_order() {
    let mut h = fx().harness();
    assert_eq!(
        run_on(&mut h, "orders-create-address-mismatch")
            .actions
            .len(),
        2
    );
    // Redelivered, and then the frequent orders/updated: nothing more.
    assert!(
        run_on(&mut h, "orders-create-address-mismatch")
            .actions
            .is_empty()
    );
    assert!(
        run_on(&mut h, "orders-updated-address-mismatch-again")
            .actions
            .is_empty()
    );
}

#[test]
fn postal_code_mismatch_is_low_priority_and_checks_can_be_disabled() {
    let run = fresh("orders-create-postal-code-mismatch");
    let case = open_case(&run.actions);
    assert_eq!(case.priority, Priority::Low);
    assert!(case.summary.contains(
        "Billing postal code 10119 differs from shipping postal code 10115 (both in DE)."
    ));

    let mut h = fx()
        .harness()
        .setting("address-checks", vec!["incomplete-shipping-address"]);
    assert!(
        run_on(&mut h, "orders-create-address-mismatch")
            .actions
            .is_empty()
    );
    assert!(
        run_on(&mut h, "orders-create-postal-code-mismatch")
            .actions
            .is_empty()
    );
}

#[test]
fn an_incomplete_shipping_address_is_high_priority_and_holds_fulfilment() {
    let run = fresh("orders-create-incomplete-address");
    assert_eq!(
        kinds(&run.actions),
        ["open-case", "hold-fulfillment", "tags-add"]
    );
    let case = open_case(&run.actions);
    assert_eq!(case.priority, Priority::High);
    assert!(
        case.summary
            .contains("Incomplete shipping address: street, postal code missing")
    );
    let hold = hold_of(&run.actions).unwrap();
    assert_eq!(
        (hold.order_id, hold.reason, hold.handle.as_str()),
        (ORDER_2005, HoldReason::IncorrectAddress, HOLD_HANDLE)
    );
    assert_eq!(
        hold.notes,
        "Held by the order-exception case: incomplete shipping address."
    );

    let mut h = fx().harness().setting("hold-fulfillment", false);
    let run = run_on(&mut h, "orders-create-incomplete-address");
    assert_eq!(kinds(&run.actions), ["open-case", "tags-add"]);
}

#[test]
fn a_voided_authorisation_on_an_open_order_is_a_problem() {
    let run = fresh("orders-updated-voided");
    let case = open_case(&run.actions);
    assert_eq!(attr(case, "problems"), Some("authorization-voided"));
    assert!(
        case.summary
            .contains("was voided but the order is not cancelled")
    );
    assert_eq!(
        hold_of(&run.actions).unwrap().reason,
        HoldReason::AwaitingPayment
    );
}

#[test]
fn a_failed_capture_opens_a_case_and_the_dossier_follows_with_the_order() {
    let mut h = fx().harness();
    let run = run_on(&mut h, "order-transactions-create-capture-failed");
    assert_eq!(
        kinds(&run.actions),
        ["open-case", "hold-fulfillment", "tags-add"]
    );
    let case = open_case(&run.actions);
    assert_eq!(
        case.title,
        "Order exception on order 5900000102002: payment failed"
    );
    assert_eq!(case.priority, Priority::High);
    for (name, value) in [
        ("problems", "payment-failed"),
        ("orderId", "5900000102002"),
        ("transactionKind", "capture"),
        ("paymentErrorCode", "card_declined"),
        ("failedAmount", "1124.40"),
    ] {
        assert_eq!(attr(case, name), Some(value), "{name}");
    }
    let doc = document_text(case, "order-5900000102002-payment.md");
    assert!(doc.contains("Payment capture of 1124.40 EUR via shopify_payments failure (card_declined: Your card was declined.)."), "{doc}");
    assert!(!doc.contains("424242"), "card data is not granted");
    assert_eq!(
        hold_of(&run.actions).unwrap().reason,
        HoldReason::AwaitingPayment
    );

    // The next orders/updated brings the order: the same case gets its
    // details and dossier; no second hold, tag or comment.
    let run = run_on(&mut h, "orders-updated-after-capture-failure");
    assert_eq!(kinds(&run.actions), ["open-case"]);
    let case = open_case(&run.actions);
    assert_eq!(case.key.subject, Subject::Order(ORDER_2002));
    assert_eq!(case.title, "Order exception on #2002: payment failed");
    assert_eq!(
        case.due.as_deref(),
        Some("2026-11-27T10:20:06Z"),
        "the first due date is kept"
    );
    assert_eq!(attr(case, "orderName"), Some("#2002"));
    let dossier = document_text(case, "order-2002-dossier.md");
    assert!(
        dossier.contains("- Payment capture of 1124.40 EUR"),
        "{dossier}"
    );
    assert!(dossier.contains("- **Financial status:** authorized"));
    // Only once.
    assert!(
        run_on(&mut h, "orders-updated-after-capture-failure")
            .actions
            .is_empty()
    );
    assert!(
        run_on(&mut h, "order-transactions-create-capture-failed")
            .actions
            .is_empty()
    );
}

#[test]
fn successful_and_test_transactions_open_nothing() {
    for name in [
        "order-transactions-create-capture-success",
        "order-transactions-create-test-failure",
    ] {
        assert!(fresh(name).actions.is_empty(), "{name}");
    }
}

#[test]
fn failures_are_counted_up_to_the_setting() {
    let mut h = fx().harness().setting("payment-failures-before-case", 2);
    assert!(
        run_on(&mut h, "order-transactions-create-capture-failed")
            .actions
            .is_empty()
    );
    assert_eq!(h.kv_value("payment-failures:5900000102002"), Some("1"));
    let second = edited("order-transactions-create-capture-failed", |v| {
        v["webhook_id"] = "second-failure".into();
        v["payload"]["id"] = 7_320_187_600_203u64.into();
    });
    let run = h.run::<OrderProblems>(&second).unwrap();
    let case = open_case(&run.actions);
    assert!(
        case.summary
            .contains("This is failure number 2 on this order."),
        "{}",
        case.summary
    );
}

#[test]
fn a_second_order_with_the_same_basket_is_a_duplicate() {
    let mut h = fx().harness();
    assert!(
        run_on(&mut h, "orders-create-duplicate-first")
            .actions
            .is_empty()
    );
    let run = run_on(&mut h, "orders-create-duplicate-second");
    assert_eq!(
        kinds(&run.actions),
        ["open-case", "hold-fulfillment", "tags-add"]
    );
    let case = open_case(&run.actions);
    assert_eq!(case.key.subject, Subject::Order(ORDER_2004));
    assert_eq!(
        case.title,
        "Order exception on #2004: possible duplicate order"
    );
    assert!(
        case.summary.contains(
            "Possible duplicate: the same customer ordered the same items (2 line(s)) as #2003 (order 5900000102003) 36 minutes earlier."
        ),
        "{}",
        case.summary
    );
    assert_eq!(hold_of(&run.actions).unwrap().reason, HoldReason::Other);

    // Outside the window it is a new order like any other.
    let mut h = fx().harness().setting("duplicate-window-hours", 1);
    run_on(&mut h, "orders-create-duplicate-first");
    let later = edited("orders-create-duplicate-second", |v| {
        v["triggered_at"] = "2026-11-26T12:03:13Z".into();
    });
    assert!(h.run::<OrderProblems>(&later).unwrap().actions.is_empty());
}

#[test]
fn a_later_problem_updates_the_case_and_comments() {
    let mut h = fx().harness();
    run_on(&mut h, "orders-create-address-mismatch");
    let failure = edited("order-transactions-create-capture-failed", |v| {
        v["payload"]["order_id"] = ORDER_2001.into();
    });
    let run = h.run::<OrderProblems>(&failure).unwrap();
    assert_eq!(
        kinds(&run.actions),
        ["open-case", "comment", "hold-fulfillment"]
    );
    let case = open_case(&run.actions);
    assert_eq!(
        case.priority,
        Priority::High,
        "the highest of both problems"
    );
    assert_eq!(
        case.title,
        "Order exception on order 5900000102001: 2 problems"
    );
    assert_eq!(
        attr(case, "problems"),
        Some("address-country-mismatch,payment-failed")
    );
    assert!(case.documents.is_empty(), "the dossier is already attached");
    assert!(
        comments(&run.actions)[0]
            .text
            .starts_with("New problem(s) found:\n- Payment capture")
    );
}

#[test]
fn decision_cancel_cancels_the_order_and_resolves_the_case() {
    // Nothing paid (e.g. only authorised): nothing to refund.
    let mut h = fx().harness().order(unpaid_2004());
    run_on(&mut h, "orders-create-duplicate-first");
    run_on(&mut h, "orders-create-duplicate-second");
    let run = run_on(&mut h, "case-updated-duplicate-cancel");
    assert_eq!(kinds(&run.actions), ["cancel-order", "update-case"]);
    let ShopifyOperation::CancelOrder(c) = operations(&run.actions)[0] else {
        panic!()
    };
    assert_eq!(
        (c.order_id, c.reason, c.restock, c.notify_customer),
        (ORDER_2004, CancelReason::Customer, true, false)
    );
    assert_eq!(
        c.staff_note,
        "Cancelled by decision on order-exception case CASE-000104."
    );
    assert_eq!(statuses(&run.actions), [CaseStatus::Resolved]);
    assert_eq!(
        updates(&run.actions)[0]
            .resolution
            .as_ref()
            .map(|r| r.code.as_str()),
        Some("order-cancelled")
    );
    // The case update this causes comes back: nothing more to do.
    assert!(
        run_on(&mut h, "case-updated-duplicate-cancel")
            .actions
            .is_empty()
    );

    let mut h = fx()
        .harness()
        .order(unpaid_2004())
        .setting("notify-customer-on-cancel", true);
    let run = run_on(&mut h, "case-updated-duplicate-cancel");
    let ShopifyOperation::CancelOrder(c) = operations(&run.actions)[0] else {
        panic!()
    };
    assert!(c.notify_customer);
}

#[test]
fn decision_release_releases_only_a_hold_this_plugin_placed() {
    let mut h = fx().harness();
    run_on(&mut h, "orders-create-incomplete-address");
    let run = run_on(&mut h, "case-updated-incomplete-release");
    assert_eq!(kinds(&run.actions), ["release-fulfillment", "update-case"]);
    assert_eq!(
        operations(&run.actions)[0],
        &shopcase_sdk::shopify::release(ORDER_2005, HOLD_HANDLE)
    );
    assert!(
        run_on(&mut h, "case-updated-incomplete-release")
            .actions
            .is_empty()
    );

    // Nothing held: only the case is resolved.
    let run = fresh("case-updated-incomplete-release");
    assert_eq!(kinds(&run.actions), ["update-case"]);
}

#[test]
fn decision_hold_places_the_hold_once() {
    let run = fresh("case-updated-incomplete-hold");
    assert_eq!(kinds(&run.actions), ["hold-fulfillment"]);
    assert_eq!(
        hold_of(&run.actions).unwrap().notes,
        "Kept on hold by case CASE-000105."
    );

    let mut h = fx().harness();
    run_on(&mut h, "orders-create-incomplete-address");
    assert!(
        run_on(&mut h, "case-updated-incomplete-hold")
            .actions
            .is_empty()
    );
}

#[test]
fn a_case_closed_without_a_decision_releases_the_hold() {
    let mut h = fx().harness();
    run_on(&mut h, "order-transactions-create-capture-failed");
    let run = run_on(&mut h, "case-updated-payment-closed-without-decision");
    assert_eq!(kinds(&run.actions), ["release-fulfillment"]);
    assert!(
        run_on(&mut h, "case-updated-payment-closed-without-decision")
            .actions
            .is_empty()
    );
    // Never held: nothing to release.
    assert!(
        fresh("case-updated-payment-closed-without-decision")
            .actions
            .is_empty()
    );
}

#[test]
fn an_unknown_decision_is_explained_once_and_other_case_types_ignored() {
    let mut h = fx().harness();
    let run = run_on(&mut h, "case-updated-payment-unknown-decision");
    assert_eq!(kinds(&run.actions), ["comment"]);
    assert!(
        comments(&run.actions)[0]
            .text
            .starts_with("Unknown decision `refund`")
    );
    assert!(
        run_on(&mut h, "case-updated-payment-unknown-decision")
            .actions
            .is_empty()
    );
    assert!(fresh("case-updated-other-case-type").actions.is_empty());
}

#[test]
fn a_new_case_is_moved_through_in_progress_to_be_resolved() {
    let new = edited("case-updated-duplicate-cancel", |v| {
        v["payload"]["case"]["status"] = "new".into();
    });
    let run = fx()
        .harness()
        .order(unpaid_2004())
        .run::<OrderProblems>(&new)
        .unwrap();
    assert_eq!(
        statuses(&run.actions),
        [CaseStatus::InProgress, CaseStatus::Resolved]
    );
}

#[test]
fn the_demo_scenario_files_trigger_the_documented_actions() {
    // #2004 was paid in full (as seeded in the demo).
    let mut h = fx().harness().order(paid_order(
        ORDER_2004, "#2004", "1163.70", "1163.70", "0.00",
    ));
    let expected: &[(&str, &[&str])] = &[
        (
            "01-orders-create-address-mismatch",
            &["open-case", "tags-add"],
        ),
        (
            "02-order-transactions-create-capture-failed",
            &["open-case", "hold-fulfillment", "tags-add"],
        ),
        ("03-orders-updated-after-capture-failure", &["open-case"]),
        ("04-orders-create-duplicate-first", &[]),
        (
            "05-orders-create-duplicate-second",
            &["open-case", "hold-fulfillment", "tags-add"],
        ),
        (
            "06-orders-create-incomplete-address",
            &["open-case", "hold-fulfillment", "tags-add"],
        ),
        (
            "07-case-updated-duplicate-cancel",
            &["cancel-order", "request-approval", "comment"],
        ),
        (
            "08-case-updated-incomplete-release",
            &["release-fulfillment", "update-case"],
        ),
        (
            "09-case-updated-payment-closed-without-decision",
            &["release-fulfillment"],
        ),
    ];
    let files = fx().scenarios("order-problems");
    assert_eq!(files.len(), expected.len());
    for ((name, event), (want_name, want)) in files.iter().zip(expected) {
        assert_eq!(name, want_name);
        let run = h
            .run::<OrderProblems>(event)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(kinds(&run.actions), *want, "{name}");
    }
    let normal = &fx().scenarios("normal")[0].1;
    assert!(h.run::<OrderProblems>(normal).unwrap().actions.is_empty());
}
