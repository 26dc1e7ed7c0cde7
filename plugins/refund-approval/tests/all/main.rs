//! refund-approval under the SDK harness, built from its own
//! `plugin.toml`, on realistic events from `tests/fixtures/`.

mod money;

use plugin_kit::testing::*;
use refund_approval::{CASE_TYPE, RefundApproval};
use shopcase_sdk::harness::{Harness, Run};
use shopcase_sdk::{CaseStatus, Priority, ShopifyOperation, Subject, Target, shopify};

const LENA: u64 = 7_100_000_001;
const MIA: u64 = 7_100_000_008;
const JONAS: u64 = 7_100_000_005;
const MARCO: u64 = 7_100_000_002;
const CHLOE: u64 = 7_100_000_010;

fn order(n: u64) -> u64 {
    5_900_000_100_000 + n
}

fn fx() -> Fixtures {
    Fixtures::new(env!("CARGO_MANIFEST_DIR"))
}

fn harness() -> Harness {
    let mut h = fx().harness();
    for (id, orders, spent) in [
        (LENA, 12, "1834.50"),
        (MIA, 4, "1502.00"),
        (JONAS, 9, "1420.10"),
        (MARCO, 31, "9412.70"),
        (CHLOE, 7, "980.40"),
    ] {
        h = h.customer_history(history(
            id,
            orders,
            spent,
            &[],
            "2023-01-01T00:00:00Z",
            vec![],
        ));
    }
    h
}

fn run_on(h: &mut Harness, name: &str) -> Run {
    h.run::<RefundApproval>(&fx().event(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn fresh(name: &str) -> Run {
    run_on(&mut harness(), name)
}

fn notes(run: &Run) -> Vec<&str> {
    operations(&run.actions)
        .into_iter()
        .filter_map(|op| match op {
            ShopifyOperation::NoteAppend(n) => Some(n.text.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_small_refund_goes_straight_through() {
    let mut h = harness();
    let run = run_on(&mut h, "orders-updated-refund-small");
    assert_eq!(
        kinds(&run.actions),
        ["refund", "note-append", "tags-remove"]
    );
    let ops = operations(&run.actions);
    assert_eq!(
        ops[0],
        &shopify::refund(order(2030), "25.00", "EUR")
            .note("Requested with the tag refund:25.00")
            .notify_customer(true)
            .into()
    );
    assert_eq!(
        notes(&run),
        ["Refund of 25.00 EUR carried out at once (below the approval threshold of 100.00)."]
    );
    assert_eq!(
        ops[2],
        &shopify::tags_remove(Target::Order(order(2030)), ["refund:25.00"])
    );
    // The same (stale) payload again: nothing twice.
    assert!(
        run_on(&mut h, "orders-updated-refund-small")
            .actions
            .is_empty()
    );
}

#[test]
fn a_large_refund_is_held_for_approval() {
    let mut h = harness();
    let run = run_on(&mut h, "orders-updated-refund-large");
    assert_eq!(
        kinds(&run.actions),
        ["open-case", "request-approval", "note-append"]
    );
    let case = open_case(&run.actions);
    assert_eq!(case.key.case_type, CASE_TYPE);
    assert_eq!(case.key.subject, Subject::Order(order(2031)));
    assert_eq!(case.title, "Approval needed on #2031: Refund of 450.00 EUR");
    assert_eq!(case.priority, Priority::Medium);
    assert_eq!(case.owner_group.as_deref(), Some("finance"));
    assert_eq!(case.due.as_deref(), Some("2026-11-28T10:10:00Z"));
    assert_eq!(attr(case, "requests"), Some("Refund of 450.00 EUR"));
    assert_eq!(attr(case, "requestedValue"), Some("450.00"));
    assert_eq!(attr(case, "totalPrice"), Some("1128.40"));
    let dossier = document_text(case, "order-2031-dossier.md");
    assert!(
        dossier.contains("- Refund of 450.00 EUR requested with the tag `refund:450.00`."),
        "{dossier}"
    );
    assert!(
        dossier.contains("- **Orders placed:** 4"),
        "the approver sees the history"
    );

    let approval = approvals(&run.actions)[0];
    assert_eq!(approval.title, "Approve: Refund of 450.00 EUR on #2031");
    assert_eq!(approval.approver_group, "finance-approvers");
    assert_eq!(approval.due.as_deref(), Some("2026-11-28T10:10:00Z"));
    assert!(
        approval.description.starts_with(
            "Requested with the tag `refund:450.00` on #2031 (order total 1128.40 EUR"
        )
    );
    let ShopifyOperation::Refund(r) = &approval.operation else {
        panic!()
    };
    assert_eq!(
        (r.order_id, r.amount.as_str(), r.currency.as_str()),
        (order(2031), "450.00", "EUR")
    );
    assert_eq!(
        notes(&run),
        ["Refund of 450.00 EUR awaits approval by finance-approvers."]
    );
    // The tag stays while the approval is pending; the next update is quiet.
    assert!(
        run_on(&mut h, "orders-updated-refund-large-again")
            .actions
            .is_empty()
    );
}

#[test]
fn an_approved_refund_is_noted_untagged_and_the_case_resolved() {
    let mut h = harness();
    run_on(&mut h, "orders-updated-refund-large");
    let run = run_on(&mut h, "case-updated-refund-approved");
    assert_eq!(
        kinds(&run.actions),
        ["note-append", "tags-remove", "update-case"]
    );
    assert_eq!(
        notes(&run),
        [
            "Refund of 450.00 EUR approved in Core Case (CASE-000431) and carried out. — \"Espresso machine returned damaged; OK.\""
        ]
    );
    assert_eq!(statuses(&run.actions), [CaseStatus::Resolved]);
    assert_eq!(
        updates(&run.actions)[0].resolution.as_ref().unwrap().code,
        "approved"
    );
    assert!(
        run_on(&mut h, "case-updated-refund-approved")
            .actions
            .is_empty()
    );
}

#[test]
fn a_rejected_credit_is_noted_and_nothing_is_paid() {
    let mut h = harness();
    let run = run_on(&mut h, "orders-updated-credit-large");
    let approval = approvals(&run.actions)[0];
    let ShopifyOperation::StoreCredit(c) = &approval.operation else {
        panic!()
    };
    assert_eq!((c.customer_id, c.amount.as_str()), (JONAS, "80.00"));
    assert_eq!(c.expires_at.as_deref(), Some("2027-11-26T10:20:00Z"));

    let run = run_on(&mut h, "case-updated-credit-rejected");
    assert_eq!(
        kinds(&run.actions),
        ["note-append", "tags-remove", "update-case"]
    );
    assert_eq!(
        notes(&run),
        [
            "Goodwill credit of 80.00 EUR declined in Core Case (CASE-000432). — \"Goodwill already given in October.\""
        ]
    );
    assert_eq!(
        updates(&run.actions)[0].resolution.as_ref().unwrap().code,
        "declined"
    );
    assert!(!kinds(&run.actions).contains(&"store-credit"));
}

#[test]
fn replacements_add_the_replacement_tag_directly_or_after_approval() {
    let run = fresh("orders-updated-replacement-small");
    assert_eq!(
        kinds(&run.actions),
        ["tags-add", "note-append", "tags-remove"]
    );
    assert_eq!(
        operations(&run.actions)[0],
        &shopify::tags_add(Target::Order(order(2033)), ["replacement-approved"])
    );
    assert_eq!(
        notes(&run),
        [
            "Replacement of 1 × Milk Jug 600ml - Brushed (JUG-600), worth 24.50 EUR carried out at once (below the approval threshold of 150.00)."
        ]
    );

    let run = fresh("orders-updated-replacement-large");
    let approval = approvals(&run.actions)[0];
    assert_eq!(
        approval.operation,
        shopify::tags_add(Target::Order(order(2034)), ["replacement-approved"])
    );
    assert_eq!(
        open_case(&run.actions).title,
        "Approval needed on #2034: Replacement of 1 × Burr Grinder Mk2 - Black (BG2-BLK), worth 249.00 EUR"
    );
}

#[test]
fn several_requests_on_one_order_each_get_their_outcome() {
    let mut h = harness();
    let run = run_on(&mut h, "orders-updated-several-requests");
    assert_eq!(
        kinds(&run.actions),
        [
            "open-case",
            "request-approval",
            "note-append",
            "request-approval",
            "note-append",
            "store-credit",
            "note-append",
            "tags-remove",
            "note-append",
            "tags-remove",
            "note-append",
            "tags-remove",
        ]
    );
    let case = open_case(&run.actions);
    assert_eq!(case.title, "Approval needed on #2035: 2 requests");
    assert_eq!(
        attr(case, "requests"),
        Some("Refund of 300.00 EUR; Goodwill credit of 75.00 EUR")
    );
    let n = notes(&run);
    assert!(n.contains(&"Request tag `refund:ten` is not understood: the amount must be like 25.00 (more than zero, at most two decimals)."), "{n:?}");
    assert!(
        n.iter()
            .any(|t| t.starts_with("Request tag `replace:NOPE`: no line item"))
    );
    assert!(n.contains(
        &"Goodwill credit of 20.00 EUR carried out at once (below the approval threshold of 50.00)."
    ));

    // One approved, one still pending: noted, the case stays open.
    let run = run_on(&mut h, "case-updated-several-partly");
    assert_eq!(kinds(&run.actions), ["note-append", "tags-remove"]);
    // Both decided: only the new outcome is noted, then the case resolves.
    let run = run_on(&mut h, "case-updated-several-done");
    assert_eq!(
        kinds(&run.actions),
        ["note-append", "tags-remove", "update-case"]
    );
    assert_eq!(
        notes(&run),
        ["Goodwill credit of 75.00 EUR declined in Core Case (CASE-000435)."]
    );
    assert_eq!(
        updates(&run.actions)[0].resolution.as_ref().unwrap().code,
        "partly-approved"
    );
}

#[test]
fn impossible_requests_are_explained_and_untagged() {
    let run = fresh("orders-updated-refund-too-much");
    assert_eq!(kinds(&run.actions), ["note-append", "tags-remove"]);
    assert_eq!(
        notes(&run),
        ["Refund of 500.00 EUR not carried out: it exceeds the refundable 19.80 EUR."]
    );
    let run = fresh("orders-updated-credit-no-customer");
    assert_eq!(
        notes(&run),
        [
            "Goodwill credit of 10.00 EUR not carried out: the order has no customer account to credit."
        ]
    );
}

#[test]
fn thresholds_and_prefixes_are_settings() {
    let mut h = harness().setting("refund-approval-threshold", 0);
    assert_eq!(
        kinds(&run_on(&mut h, "orders-updated-refund-small").actions)[..2],
        ["open-case", "request-approval"]
    );
    let mut h = harness().setting("refund-approval-threshold", 1000);
    assert_eq!(
        kinds(&run_on(&mut h, "orders-updated-refund-large").actions)[0],
        "refund"
    );
    let mut h = harness().setting("refund-tag-prefix", "erstattung:");
    assert!(
        run_on(&mut h, "orders-updated-refund-small")
            .actions
            .is_empty()
    );
}

#[test]
fn orders_without_request_tags_need_nothing() {
    assert!(fresh("orders-updated-no-request").actions.is_empty());
}

#[test]
fn the_demo_scenario_files_trigger_the_documented_actions() {
    let h = harness();
    let expected: &[(&str, &[&str])] = &[
        (
            "01-orders-updated-refund-small",
            &["refund", "note-append", "tags-remove"],
        ),
        (
            "02-orders-updated-refund-large",
            &["open-case", "request-approval", "note-append"],
        ),
        (
            "03-case-updated-refund-approved",
            &["note-append", "tags-remove", "update-case"],
        ),
        (
            "04-orders-updated-credit-large",
            &["open-case", "request-approval", "note-append"],
        ),
        (
            "05-case-updated-credit-rejected",
            &["note-append", "tags-remove", "update-case"],
        ),
        (
            "06-orders-updated-replacement-small",
            &["tags-add", "note-append", "tags-remove"],
        ),
        (
            "07-orders-updated-replacement-large",
            &["open-case", "request-approval", "note-append"],
        ),
        (
            "08-refunds-create-outside-shopcase",
            &["open-case", "note-append"],
        ),
    ];
    let mut h = h.order(paid_order(
        5_900_000_102_011,
        "#2011",
        "1128.40",
        "1128.40",
        "300.00",
    ));
    let files = fx().scenarios("refund-approval");
    assert_eq!(files.len(), expected.len());
    for ((name, event), (want_name, want)) in files.iter().zip(expected) {
        assert_eq!(name, want_name);
        let run = h
            .run::<RefundApproval>(event)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(kinds(&run.actions), *want, "{name}");
    }
}
