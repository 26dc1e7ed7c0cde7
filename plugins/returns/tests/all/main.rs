//! returns under the SDK harness, built from its own `plugin.toml`, on
//! realistic events from `tests/fixtures/`.

use plugin_kit::testing::*;
use returns::{COMPLAINT, REFUND_DISPUTE, REMINDER_TIMER, RETURN_REQUEST, Returns};
use shopcase_sdk::harness::{Harness, Run};
use shopcase_sdk::{
    Action, CaseKey, CaseStatus, DeclineReason, Priority, ShopifyOperation, Subject, shopify,
};

const RETURN_2020: u64 = 9_100_020_201;
const RETURN_2021: u64 = 9_100_020_211;
const RETURN_2026: u64 = 9_100_020_261;
const DISPUTE_2022: u64 = 7_700_002_022;
const ORDER_2025: u64 = 5_900_000_102_025;
const LENA: u64 = 7_100_000_001;
const EMMA: u64 = 7_100_000_006;
const CHLOE: u64 = 7_100_000_010;
const ORDER_2026: u64 = 5_900_000_102_026;
const ORDER_2055: u64 = 5_900_000_102_055;

fn fx() -> Fixtures {
    Fixtures::new(env!("CARGO_MANIFEST_DIR"))
}

/// Orders of this crate's own fixtures (the scenario orders come from
/// `examples/events/scenarios/orders.json`).
const ORDER_2029: u64 = 5_900_000_102_029;

fn harness() -> Harness {
    fx().harness_with_scenario_data()
        .order(order_details(
            ORDER_2026,
            "#2026",
            None,
            &[(
                13_700_020_261,
                "Barista Apron - Size M",
                "APR-M",
                1,
                "39.00",
            )],
        ))
        .order(order_details(
            ORDER_2029,
            "#2029",
            None,
            &[(
                13_700_020_291,
                "Espresso Machine Pro - Steel",
                "EMP-STEEL",
                1,
                "1099.00",
            )],
        ))
        .customer_history(history(
            LENA,
            12,
            "1834.50",
            &["newsletter"],
            "2023-04-11T10:02:11+02:00",
            vec![past_order(
                5_900_000_102_024,
                "#2024",
                "2026-11-20T09:00:00+01:00",
                "253.90",
                Some("DE"),
            )],
        ))
        .customer_history(history(
            EMMA,
            3,
            "356.80",
            &[],
            "2025-01-08T18:22:00+01:00",
            vec![past_order(
                ORDER_2025,
                "#2025",
                "2026-11-19T09:00:00+01:00",
                "1103.90",
                Some("DE"),
            )],
        ))
        .customer_history(history(
            CHLOE,
            7,
            "980.40",
            &[],
            "2023-11-02T11:11:00+01:00",
            vec![],
        ))
}

fn run_on(h: &mut Harness, name: &str) -> Run {
    h.run::<Returns>(&fx().event(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn fresh(name: &str) -> Run {
    run_on(&mut harness(), name)
}

fn return_key(id: u64) -> CaseKey {
    CaseKey::new(RETURN_REQUEST, Subject::Return(id))
}

fn dispute_key(id: u64) -> CaseKey {
    CaseKey::new(REFUND_DISPUTE, Subject::Dispute(id))
}

// ---- return requests ----------------------------------------------------

#[test]
fn a_return_request_opens_a_structured_case() {
    let run = fresh("returns-request-defective");
    assert_eq!(kinds(&run.actions), ["open-case"]);
    let case = open_case(&run.actions);
    assert_eq!(case.key, return_key(RETURN_2020));
    assert_eq!(
        case.title,
        "Return request #2020-R1: 2 item(s), defective, unwanted"
    );
    assert_eq!(
        case.priority,
        Priority::High,
        "defective is a high-priority reason"
    );
    assert_eq!(case.owner_group.as_deref(), Some("returns-team"));
    assert_eq!(case.due.as_deref(), Some("2026-11-28T08:41:00Z"));
    // The payload names lines by id only: the order look-up names them.
    assert!(case.summary.starts_with(
        "The customer asks to return from order #2020 (5900000102020, 1128.40 EUR, paid, fulfilled):\n\
         - 1 × Espresso Machine Pro (SKU EMP-STEEL, 1099.00 EUR each): defective — customer: \"Pump makes a grinding noise and leaks water after two days.\"\n\
         - 1 × Milk Jug 600ml (SKU JUG-600, 24.50 EUR each): unwanted\n"
    ), "{}", case.summary);
    assert!(
        case.summary
            .contains("`approve` approves the return in Shopify")
    );
    for (name, value) in [
        ("returnId", "9100020201"),
        ("returnName", "#2020-R1"),
        ("returnStatus", "requested"),
        ("returnQuantity", "2"),
        ("returnReasons", "defective,unwanted"),
        ("orderId", "5900000102020"),
        // From the order look-up: the payload has none of these.
        ("orderName", "#2020"),
        ("totalPrice", "1128.40"),
        ("customerId", "7100000001"),
        ("itemCount", "2"),
    ] {
        assert_eq!(attr(case, name), Some(value), "{name}");
    }
    let doc = document_text(case, "return-2020-R1.md");
    assert!(
        doc.contains("| 13700020201 | Espresso Machine Pro (SKU EMP-STEEL, 1099.00 EUR each) | EMP-STEEL | 1 | 1099.00 EUR | defective | — | Pump makes a grinding noise"),
        "{doc}"
    );
    // The order (lines, money, payments) and the customer's history.
    for part in [
        "## Order #2020",
        "| Milk Jug 600ml | JUG-600 | 1 | 24.50 EUR | 24.50 EUR |",
        "- **Outstanding:** 0.00 EUR",
        "| SALE | SUCCESS | shopify_payments | 1128.40 EUR |",
        // Region only: the plugin is granted `address-region`, not `address`.
        "- **Shipping address:** 10119, Berlin, DE",
        "## Customer history",
        "- **Orders placed:** 12",
    ] {
        assert!(doc.contains(part), "{part} in {doc}");
    }

    let medium = fresh("returns-request-unwanted");
    assert_eq!(open_case(&medium.actions).priority, Priority::Medium);
}

#[test]
fn a_guest_orders_return_has_its_lines_and_no_history() {
    let run = fresh("returns-request-size");
    let case = open_case(&run.actions);
    assert!(
        case.summary
            .contains("- 1 × Barista Apron - Size M (SKU APR-M, 39.00 EUR each): size"),
        "{}",
        case.summary
    );
    assert_eq!(attr(case, "customerId"), None, "a guest order");
    let doc = document_text(case, "return-2026-R1.md");
    assert!(doc.contains("- **Customer:** guest checkout"), "{doc}");
    assert!(!doc.contains("## Customer history"), "{doc}");
}

#[test]
fn an_order_look_up_shopify_cannot_answer_now_is_retried_not_opened_bare() {
    // No order in the run: the host answers `unavailable`, as it does when
    // Shopify is down. The plugin fails retryably (the host waits it out)
    // rather than opening a case without its lines.
    let mut h = fx().harness();
    let err = h
        .run::<Returns>(&fx().event("returns-request-defective"))
        .unwrap_err();
    let e = err.plugin_error().expect("a plugin error");
    assert!(e.retryable, "{e:?}");
    assert!(e.message.contains("unavailable"), "{}", e.message);
    // Nothing was remembered: once Shopify answers, the retry opens the case.
    let h = fx()
        .scenario_orders()
        .into_iter()
        .fold(h, shopcase_sdk::harness::Harness::order);
    let mut h = fx()
        .scenario_customers()
        .into_iter()
        .fold(h, shopcase_sdk::harness::Harness::customer_history);
    let run = run_on(&mut h, "returns-request-defective");
    assert_eq!(kinds(&run.actions), ["open-case"]);
}

#[test]
fn a_return_request_is_handled_once_and_reasons_are_settings() {
    let mut h = harness();
    run_on(&mut h, "returns-request-defective");
    assert!(
        run_on(&mut h, "returns-request-defective")
            .actions
            .is_empty()
    );

    let mut h = harness().setting("high-priority-reasons", vec!["unwanted"]);
    assert_eq!(
        open_case(&run_on(&mut h, "returns-request-unwanted").actions).priority,
        Priority::High
    );
}

#[test]
fn decision_approve_approves_the_return_and_resolves() {
    let mut h = harness();
    run_on(&mut h, "returns-request-defective");
    let run = run_on(&mut h, "case-updated-return-approve");
    assert_eq!(kinds(&run.actions), ["approve-return", "update-case"]);
    assert_eq!(
        operations(&run.actions)[0],
        &shopify::approve_return(RETURN_2020)
            .notify_customer(true)
            .into()
    );
    assert_eq!(statuses(&run.actions), [CaseStatus::Resolved]);
    assert!(
        run_on(&mut h, "case-updated-return-approve")
            .actions
            .is_empty()
    );
    // Shopify's echo of the approval changes nothing.
    assert!(run_on(&mut h, "returns-approve-echo").actions.is_empty());
}

#[test]
fn decision_decline_declines_with_the_reason_and_note() {
    let mut h = harness().setting("notify-customer", false);
    let run = run_on(&mut h, "case-updated-return-decline");
    assert_eq!(kinds(&run.actions), ["decline-return", "update-case"]);
    let ShopifyOperation::DeclineReturn(d) = operations(&run.actions)[0] else {
        panic!()
    };
    assert_eq!(
        (d.return_id, d.reason, d.notify_customer),
        (RETURN_2021, DeclineReason::ReturnPeriodEnded, false)
    );
    assert_eq!(
        d.note,
        "Our return window is 30 days; your order was delivered on 3 October."
    );
    assert_eq!(
        updates(&run.actions)[0]
            .resolution
            .as_ref()
            .map(|r| r.code.as_str()),
        Some("return-declined")
    );
}

#[test]
fn an_unknown_return_decision_is_explained_once() {
    let mut h = harness();
    let run = run_on(&mut h, "case-updated-return-unknown");
    assert_eq!(kinds(&run.actions), ["comment"]);
    assert!(
        comments(&run.actions)[0]
            .text
            .starts_with("Unknown decision `exchange`")
    );
    assert!(
        run_on(&mut h, "case-updated-return-unknown")
            .actions
            .is_empty()
    );
    // A valid decision afterwards is still carried out.
    assert_eq!(
        kinds(&run_on(&mut h, "case-updated-return-decline").actions),
        ["decline-return", "update-case"]
    );
}

#[test]
fn a_return_decided_or_withdrawn_in_shopify_closes_the_case() {
    let mut h = harness().linked_case(
        return_key(RETURN_2021),
        linked(
            "c-2021",
            "CASE-000321",
            CaseStatus::New,
            Priority::Medium,
            0,
        ),
    );
    run_on(&mut h, "returns-request-unwanted");
    let run = run_on(&mut h, "returns-decline-in-shopify");
    assert_eq!(
        statuses(&run.actions),
        [CaseStatus::InProgress, CaseStatus::Resolved]
    );
    let r = updates(&run.actions)[1].resolution.as_ref().unwrap();
    assert_eq!(r.code, "return-declined");
    assert_eq!(
        r.notes,
        "The return was declined in Shopify directly. Reason: return period ended — \"Returns are accepted within 30 days.\"."
    );
    assert!(
        run_on(&mut h, "returns-decline-in-shopify")
            .actions
            .is_empty()
    );

    let mut h = harness().linked_case(
        return_key(RETURN_2026),
        linked(
            "c-2026",
            "CASE-000326",
            CaseStatus::InProgress,
            Priority::Medium,
            0,
        ),
    );
    run_on(&mut h, "returns-request-size");
    let run = run_on(&mut h, "returns-cancel");
    assert_eq!(kinds(&run.actions), ["comment", "update-case"]);
    assert_eq!(statuses(&run.actions), [CaseStatus::Cancelled]);

    // A return this plugin never saw is not its business.
    assert!(fresh("returns-cancel").actions.is_empty());
}

// ---- disputes -------------------------------------------------------------

#[test]
fn a_chargeback_opens_a_case_due_before_the_evidence_deadline() {
    let run = fresh("disputes-create-chargeback");
    assert_eq!(
        kinds(&run.actions),
        ["open-case", "create-task", "follow-up"]
    );
    let case = open_case(&run.actions);
    assert_eq!(case.key, dispute_key(DISPUTE_2022));
    assert_eq!(
        case.title,
        "Chargeback 313.70 EUR on order #2022: product not received"
    );
    assert_eq!(case.priority, Priority::High);
    assert_eq!(case.owner_group.as_deref(), Some("disputes-team"));
    // Deadline 2026-12-10T23:59:59-05:00 = 2026-12-11T04:59:59Z, minus 48 h.
    assert_eq!(case.due.as_deref(), Some("2026-12-09T04:59:59Z"));
    for (name, value) in [
        ("disputeType", "chargeback"),
        ("disputeReason", "product_not_received"),
        ("disputeStatus", "needs_response"),
        ("disputedAmount", "313.70"),
        ("networkReasonCode", "13.1"),
        ("evidenceDueBy", "2026-12-10T23:59:59-05:00"),
        ("orderId", "5900000102022"),
    ] {
        assert_eq!(attr(case, name), Some(value), "{name}");
    }
    assert!(
        case.summary
            .contains("The tracking number and the carrier's delivery confirmation")
    );
    let doc = document_text(case, "dispute-7700002022.md");
    assert!(doc.contains("## Evidence to gather"), "{doc}");
    // The dispute names the order by id only: the order look-up gives its
    // lines and customer, whose history follows.
    assert_eq!(attr(case, "customerId"), Some("7100000005"));
    assert_eq!(attr(case, "orderName"), Some("#2022"));
    for part in [
        "## Order #2022",
        "| Single-Origin Beans 1kg | BEAN-ETH-1K | 2 | 29.90 EUR | 59.80 EUR |",
        "## Customer history",
        "- **Customer id:** 7100000005",
        "| #2022 (this order) |",
    ] {
        assert!(doc.contains(part), "{part} in {doc}");
    }
    let task = tasks(&run.actions)[0];
    assert_eq!(
        task.title,
        "Gather and submit evidence for chargeback 7700002022"
    );
    assert_eq!(
        (task.team.as_str(), task.due.as_deref()),
        ("disputes-team", Some("2026-12-09T04:59:59Z"))
    );
    let Action::FollowUp(f) = &run.actions[2] else {
        panic!()
    };
    assert_eq!(
        (f.name.as_str(), f.due.as_str()),
        (REMINDER_TIMER, "2026-12-10T04:59:59Z")
    );
}

#[test]
fn inquiries_are_medium_and_large_amounts_critical() {
    let run = fresh("disputes-create-inquiry");
    let case = open_case(&run.actions);
    assert_eq!(case.priority, Priority::Medium);
    assert!(
        case.title
            .starts_with("Inquiry 94.60 EUR on order #2023: unrecognized")
    );

    let mut h = harness().setting("critical-dispute-amount", 300);
    assert_eq!(
        open_case(&run_on(&mut h, "disputes-create-chargeback").actions).priority,
        Priority::Critical
    );
}

#[test]
fn dispute_updates_comment_once_and_the_outcome_resolves_the_case() {
    let mut h = harness().linked_case(
        dispute_key(DISPUTE_2022),
        linked(
            "c-2022",
            "CASE-000322",
            CaseStatus::InProgress,
            Priority::High,
            0,
        ),
    );
    run_on(&mut h, "disputes-create-chargeback");
    assert!(
        run_on(&mut h, "disputes-create-chargeback")
            .actions
            .is_empty(),
        "redelivery"
    );

    let run = run_on(&mut h, "disputes-update-evidence-sent");
    assert_eq!(kinds(&run.actions), ["open-case", "comment"]);
    assert_eq!(
        comments(&run.actions)[0].text,
        "Evidence was submitted on 2026-12-03T04:55:00-05:00. Shopify reports the chargeback is now under review (was needs response)."
    );
    assert_eq!(
        attr(open_case(&run.actions), "disputeStatus"),
        Some("under_review")
    );
    assert!(
        run_on(&mut h, "disputes-update-evidence-sent")
            .actions
            .is_empty()
    );

    let run = run_on(&mut h, "disputes-update-won");
    assert_eq!(kinds(&run.actions), ["open-case", "comment", "update-case"]);
    let r = updates(&run.actions)[0].resolution.as_ref().unwrap();
    assert_eq!(r.code, "dispute-won");
}

#[test]
fn a_dispute_first_seen_decided_is_opened_and_resolved() {
    let run = fresh("disputes-create-large-lost");
    assert_eq!(
        kinds(&run.actions),
        ["open-case", "update-case", "update-case"]
    );
    assert_eq!(open_case(&run.actions).priority, Priority::Critical);
    assert_eq!(
        statuses(&run.actions),
        [CaseStatus::InProgress, CaseStatus::Resolved]
    );
}

#[test]
fn the_evidence_reminder_raises_an_unanswered_dispute() {
    let linked_open = linked(
        "c-2022",
        "CASE-000322",
        CaseStatus::InProgress,
        Priority::High,
        0,
    );
    let mut h = harness().linked_case(dispute_key(DISPUTE_2022), linked_open.clone());
    run_on(&mut h, "disputes-create-chargeback");
    let run = run_on(&mut h, "timer-fired-evidence-reminder");
    assert_eq!(kinds(&run.actions), ["update-case", "comment"]);
    assert_eq!(updates(&run.actions)[0].priority, Some(Priority::Critical));
    assert_eq!(
        comments(&run.actions)[0].text,
        "Evidence is due by 2026-12-10T23:59:59-05:00 and the dispute still needs a response."
    );

    // Evidence already sent: nothing to remind.
    let mut h = harness().linked_case(dispute_key(DISPUTE_2022), linked_open);
    run_on(&mut h, "disputes-create-chargeback");
    run_on(&mut h, "disputes-update-evidence-sent");
    assert!(
        run_on(&mut h, "timer-fired-evidence-reminder")
            .actions
            .is_empty()
    );
    // Unknown dispute or no linked case: nothing.
    assert!(fresh("timer-fired-evidence-reminder").actions.is_empty());
}

// ---- complaints -----------------------------------------------------------

#[test]
fn a_complaint_tag_and_attribute_open_a_complaint_case() {
    let run = fresh("orders-updated-complaint");
    assert_eq!(kinds(&run.actions), ["open-case"]);
    let case = open_case(&run.actions);
    assert_eq!(case.key.case_type, COMPLAINT);
    assert_eq!(
        case.title,
        "Complaint on #2024: The grinder arrived with a cracked hopper lid."
    );
    assert_eq!(case.priority, Priority::Medium);
    assert_eq!(case.owner_group.as_deref(), Some("customer-care"));
    assert_eq!(attr(case, "complaintType"), Some("general"));
    assert_eq!(
        attr(case, "complaintSource"),
        Some("tag `complaint`, note attribute `complaint`")
    );
    assert_eq!(attr(case, "customerId"), Some("7100000001"));
    let dossier = document_text(case, "order-2024-dossier.md");
    assert!(dossier.contains("- Complaint recorded by tag `complaint`, note attribute `complaint`: \"The grinder arrived with a cracked hopper lid.\""), "{dossier}");
    assert!(dossier.contains("## Customer history"), "{dossier}");
    assert!(
        dossier.contains("- **Shipping address:** 10119, Berlin, DE"),
        "region only: {dossier}"
    );
    assert!(
        !dossier.contains("Torstraße"),
        "no street without the address grant"
    );
}

#[test]
fn delivered_but_not_received_is_a_high_priority_complaint_opened_once() {
    let mut h = harness();
    let run = run_on(&mut h, "orders-updated-complaint-not-received");
    let case = open_case(&run.actions);
    assert_eq!(case.title, "Delivered but not received: #2025");
    assert_eq!(case.priority, Priority::High);
    assert_eq!(attr(case, "complaintType"), Some("delivered-not-received"));
    assert!(
        case.summary.contains("shipment status delivered."),
        "{}",
        case.summary
    );
    assert!(
        case.summary
            .contains("Check the carrier's proof of delivery")
    );
    // The next orders/updated (staff added a note) opens nothing more.
    assert!(
        run_on(&mut h, "orders-updated-complaint-not-received-again")
            .actions
            .is_empty()
    );
}

#[test]
fn orders_without_complaints_or_test_orders_open_nothing() {
    for name in [
        "orders-updated-no-complaint",
        "orders-updated-test-complaint",
    ] {
        assert!(fresh(name).actions.is_empty(), "{name}");
    }
    let mut h = harness().linked_case(
        CaseKey::new(COMPLAINT, Subject::Order(ORDER_2025)),
        linked(
            "c-2025",
            "CASE-000325",
            CaseStatus::InProgress,
            Priority::High,
            0,
        ),
    );
    assert!(
        run_on(&mut h, "orders-updated-complaint-not-received")
            .actions
            .is_empty(),
        "already linked"
    );
}

#[test]
fn the_demo_scenario_files_trigger_the_documented_actions() {
    let mut h = harness().linked_case(
        dispute_key(DISPUTE_2022),
        linked(
            "c-2022",
            "CASE-000322",
            CaseStatus::InProgress,
            Priority::High,
            0,
        ),
    );
    let expected: &[(&str, &[&str])] = &[
        ("01-returns-request-defective", &["open-case"]),
        (
            "02-case-updated-return-approve",
            &["approve-return", "update-case"],
        ),
        ("03-returns-request-unwanted", &["open-case"]),
        (
            "04-case-updated-return-decline",
            &["decline-return", "update-case"],
        ),
        (
            "05-disputes-create-chargeback",
            &["open-case", "create-task", "follow-up"],
        ),
        (
            "06-timer-fired-evidence-reminder",
            &["update-case", "comment"],
        ),
        (
            "07-disputes-update-evidence-sent",
            &["open-case", "comment"],
        ),
        (
            "08-disputes-update-won",
            &["open-case", "comment", "update-case"],
        ),
        (
            "09-disputes-create-inquiry",
            &["open-case", "create-task", "follow-up"],
        ),
        ("10-orders-updated-complaint", &["open-case"]),
        ("11-orders-updated-complaint-not-received", &["open-case"]),
        ("12-helpdesk-complaint", &["open-case"]),
    ];
    let files = fx().scenarios("returns");
    assert_eq!(files.len(), expected.len());
    for ((name, event), (want_name, want)) in files.iter().zip(expected) {
        assert_eq!(name, want_name);
        let run = h
            .run::<Returns>(event)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(kinds(&run.actions), *want, "{name}");
    }
    let normal = &fx().scenarios("normal")[0].1;
    assert!(
        h.run::<Returns>(normal).is_err(),
        "returns does not subscribe to orders/create"
    );
}

fn scenario(path: &str) -> shopcase_sdk::Event {
    fx().file(&format!("../../examples/events/scenarios/{path}"))
}

#[test]
fn a_helpdesk_complaint_opens_the_orders_complaint_case() {
    let mut h = harness();
    let run = h
        .run::<Returns>(&scenario("returns/12-helpdesk-complaint.json"))
        .unwrap();
    assert_eq!(kinds(&run.actions), ["open-case"]);
    let case = open_case(&run.actions);
    assert_eq!(
        case.key,
        CaseKey::new(COMPLAINT, Subject::Order(ORDER_2026))
    );
    // The report names the order by id: the order look-up names it.
    assert_eq!(case.title, "Complaint on order #2026: Wrong beans");
    assert_eq!(case.priority, Priority::Medium);
    assert_eq!(case.owner_group.as_deref(), Some("customer-care"));
    assert_eq!(attr(case, "complaintType"), Some("general"));
    assert_eq!(
        attr(case, "complaintSource"),
        Some("helpdesk ticket 48190 (chat)")
    );
    assert_eq!(
        attr(case, "complaintText"),
        Some("I ordered the Ethiopian beans but received decaf.")
    );
    assert_eq!(attr(case, "ticketId"), Some("48190"));
    assert_eq!(
        attr(case, "ticketUrl"),
        Some("https://help.example.com/agent/tickets/48190")
    );
    assert_eq!(attr(case, "customerId"), Some("7100000010"));
    let doc = document_text(case, "order-5900000102026-complaint.md");
    assert!(doc.contains("received decaf"), "{doc}");
    // With the order's lines and the customer's history.
    assert_eq!(attr(case, "orderName"), Some("#2026"));
    assert!(doc.contains("## Order #2026"), "{doc}");
    assert!(doc.contains("## Customer history"), "{doc}");
    assert!(
        case.summary
            .contains("Items: 1 × Barista Apron - Size M (SKU APR-M); total 39.00 EUR."),
        "{}",
        case.summary
    );
    // No customer-contact grant: the email the helpdesk sent never reaches it.
    assert!(!format!("{:?}", run.actions).contains("chloe.dubois@"));

    // The same report again (a redelivery the host did not catch): nothing.
    let run = h
        .run::<Returns>(&scenario("returns/12-helpdesk-complaint.json"))
        .unwrap();
    assert!(run.actions.is_empty());
}

#[test]
fn a_helpdesk_not_received_claim_is_a_high_priority_complaint_and_later_reports_are_comments() {
    let mut h = harness();
    let claim = scenario("delivery-issues/13-helpdesk-not-received.json");
    let run = h.run::<Returns>(&claim).unwrap();
    let case = open_case(&run.actions);
    assert_eq!(
        case.key,
        CaseKey::new(COMPLAINT, Subject::Order(ORDER_2055))
    );
    assert_eq!(case.title, "Delivered but not received: order #2055");
    assert_eq!(case.priority, Priority::High);
    assert_eq!(attr(case, "complaintType"), Some("delivered-not-received"));
    assert!(
        case.summary
            .contains("Parcel: DHL Express JD014600006200020551")
    );

    // Another report about the same order: a comment on its case.
    let mut complaint = scenario("returns/12-helpdesk-complaint.json");
    complaint.resources.order_id = Some(ORDER_2055);
    complaint.resources.customer_id = Some(EMMA);
    let run = h.run::<Returns>(&complaint).unwrap();
    assert_eq!(kinds(&run.actions), ["comment"]);
    let c = comments(&run.actions)[0];
    assert_eq!(c.key, CaseKey::new(COMPLAINT, Subject::Order(ORDER_2055)));
    assert!(
        c.text
            .starts_with("Another complaint (helpdesk ticket 48190 (chat)): \"I ordered"),
        "{}",
        c.text
    );
}

// ---- named owners (plugin_kit::assign) --------------------------------------

#[test]
fn assignment_rules_name_owners_take_turns_and_keep_a_cases_owner() {
    let rules = shopcase_sdk::SettingValue::TextList(
        [
            "type=refund-dispute amount>=300 -> @senior-disputes maria.k",
            "nonsense",
            "type=return-request -> ann.lee, bob.ray",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect(),
    );
    let mut h = harness()
        .setting(plugin_kit::assign::SETTING, rules)
        .linked_case(
            dispute_key(DISPUTE_2022),
            linked(
                "c-2022",
                "CASE-000322",
                CaseStatus::InProgress,
                Priority::High,
                0,
            ),
        );
    let owner = |run: &Run| {
        let c = open_case(&run.actions);
        (c.owner.clone(), c.owner_group.clone())
    };
    // Two returns: the round-robin rule's owners take turns.
    let first = run_on(&mut h, "returns-request-defective");
    assert_eq!(
        owner(&first),
        (Some("ann.lee".into()), Some("returns-team".into()))
    );
    assert!(
        first
            .logs
            .iter()
            .any(|l| l.message.contains("assignment rule `nonsense` is skipped")),
        "{:?}",
        first.logs
    );
    let second = run_on(&mut h, "returns-request-unwanted");
    assert_eq!(
        owner(&second),
        (Some("bob.ray".into()), Some("returns-team".into()))
    );
    // A chargeback of 313.70 goes to the named senior, in the rule's group.
    let dispute = run_on(&mut h, "disputes-create-chargeback");
    assert_eq!(
        owner(&dispute),
        (Some("maria.k".into()), Some("senior-disputes".into()))
    );
    // Sent again with an update: the owner is left as Core Case has it (an
    // analyst may have reassigned it), the rule's group is kept.
    let update = run_on(&mut h, "disputes-update-evidence-sent");
    assert_eq!(owner(&update), (None, Some("senior-disputes".into())));
    // An inquiry of 94.60 matches no rule: the plugin's group only.
    let inquiry = run_on(&mut h, "disputes-create-inquiry");
    assert_eq!(owner(&inquiry), (None, Some("disputes-team".into())));
}
