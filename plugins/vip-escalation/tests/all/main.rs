//! vip-escalation under the SDK harness, built from its own `plugin.toml`,
//! on realistic events from `tests/fixtures/`.

use plugin_kit::testing::*;
use shopcase_sdk::harness::{Harness, Run};
use shopcase_sdk::{Action, CaseKey, CaseStatus, Priority, Subject, Target, shopify};
use vip_escalation::{CASE_TYPE, ESCALATION_TIMER, VipEscalation};

const LENA: u64 = 7_100_000_001;
const MARCO: u64 = 7_100_000_002;
const JONAS: u64 = 7_100_000_005;
const ORDER_2040: u64 = 5_900_000_102_040;

fn fx() -> Fixtures {
    Fixtures::new(env!("CARGO_MANIFEST_DIR"))
}

fn harness() -> Harness {
    fx().harness()
        .customer_history(history(
            MARCO,
            31,
            "9412.70",
            &["VIP", "espresso-club"],
            "2021-09-03T16:40:00+02:00",
            vec![past_order(
                5_900_000_101_977,
                "#1977",
                "2026-11-02T10:00:00+01:00",
                "349.00",
                Some("IT"),
            )],
        ))
        .customer_history(history(
            LENA,
            12,
            "1834.50",
            &["newsletter"],
            "2023-04-11T10:02:11+02:00",
            vec![],
        ))
        .customer_history(history(
            JONAS,
            9,
            "1420.10",
            &[],
            "2022-06-30T12:00:00+02:00",
            vec![past_order(
                5_900_000_102_045,
                "#2045",
                "2026-11-20T10:00:00+01:00",
                "253.90",
                Some("DE"),
            )],
        ))
}

fn run_on(h: &mut Harness, name: &str) -> Run {
    h.run::<VipEscalation>(&fx().event(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn fresh(name: &str) -> Run {
    run_on(&mut harness(), name)
}

fn order_key(id: u64) -> CaseKey {
    CaseKey::new(CASE_TYPE, Subject::Order(id))
}

fn customer_key(id: u64) -> CaseKey {
    CaseKey::new(CASE_TYPE, Subject::Customer(id))
}

#[test]
fn a_vip_customers_order_gets_a_high_priority_case() {
    let run = fresh("orders-create-vip");
    assert_eq!(kinds(&run.actions), ["open-case", "tags-add", "follow-up"]);
    let case = open_case(&run.actions);
    assert_eq!(case.key, order_key(ORDER_2040));
    assert_eq!(case.title, "VIP customer order #2040");
    assert_eq!(case.priority, Priority::High);
    assert_eq!(case.owner_group.as_deref(), Some("vip-desk"));
    assert_eq!(case.due.as_deref(), Some("2026-11-27T08:30:02Z"));
    assert_eq!(attr(case, "escalationReason"), Some("vip-customer"));
    assert_eq!(attr(case, "customerTags"), Some("VIP,espresso-club"));
    assert_eq!(attr(case, "customerSpent"), Some("9412.70 EUR"));
    assert!(
        case.summary
            .starts_with("- VIP customer (tags: VIP, espresso-club).\n")
    );
    let dossier = document_text(case, "order-2040-dossier.md");
    assert!(dossier.contains("| #1977 |"), "history: {dossier}");
    assert_eq!(
        operations(&run.actions)[0],
        &shopify::tags_add(Target::Order(ORDER_2040), ["vip-priority"])
    );
    let Action::FollowUp(f) = &run.actions[2] else {
        panic!()
    };
    assert_eq!(
        (f.name.as_str(), f.due.as_str(), f.data.as_str()),
        (
            ESCALATION_TIMER,
            "2026-11-27T08:30:02Z",
            r#"{"level":1,"subject":"order"}"#
        )
    );
    assert!(
        !format!("{:?}", run.actions).contains("Rossi"),
        "no contact data"
    );
}

#[test]
fn large_orders_and_vip_large_orders() {
    let case_run = fresh("orders-create-large");
    let case = open_case(&case_run.actions);
    assert_eq!(case.title, "Large order #2041");
    assert_eq!(case.priority, Priority::Medium);
    assert_eq!(attr(case, "escalationReason"), Some("large-order"));
    assert!(
        case.summary
            .contains("Large order: 1352.90 EUR (threshold 1000.00).")
    );

    let run = fresh("orders-create-vip-large");
    let case = open_case(&run.actions);
    assert_eq!(case.title, "VIP customer, large order #2042");
    assert_eq!(case.priority, Priority::Critical);
    assert_eq!(
        attr(case, "escalationReason"),
        Some("vip-customer,large-order")
    );

    let mut h = harness().setting("large-order-threshold", 600);
    assert_eq!(
        open_case(&run_on(&mut h, "orders-create-large").actions).priority,
        Priority::High,
        "twice the threshold"
    );
    let mut h = harness().setting("large-order-threshold", 0);
    assert!(
        run_on(&mut h, "orders-create-large").actions.is_empty(),
        "0 disables large orders"
    );
}

#[test]
fn ordinary_orders_need_nothing_and_cases_open_once() {
    assert!(fresh("orders-create-small").actions.is_empty());
    let normal = fx().file("../../examples/events/scenarios/normal/orders-create-normal.json");
    assert!(
        harness()
            .run::<VipEscalation>(&normal)
            .unwrap()
            .actions
            .is_empty()
    );
    let mut h = harness();
    run_on(&mut h, "orders-create-vip");
    assert!(run_on(&mut h, "orders-create-vip").actions.is_empty());
    // Other VIP tags are a setting.
    let mut h = harness().setting("vip-tags", vec!["gold"]);
    assert!(run_on(&mut h, "orders-create-vip").actions.is_empty());
}

#[test]
fn the_third_service_failure_in_the_window_opens_a_customer_case() {
    let mut h = harness();
    assert!(
        run_on(&mut h, "orders-cancelled-inventory")
            .actions
            .is_empty()
    );
    assert!(
        run_on(&mut h, "orders-updated-delivery-failure")
            .actions
            .is_empty()
    );
    assert!(
        run_on(&mut h, "orders-updated-delivery-failure-again")
            .actions
            .is_empty(),
        "same failure twice"
    );
    assert!(
        run_on(&mut h, "orders-cancelled-by-customer")
            .actions
            .is_empty(),
        "not the store's failure"
    );
    let run = run_on(&mut h, "orders-updated-complaint-tag");
    assert_eq!(kinds(&run.actions), ["open-case", "tags-add", "follow-up"]);
    let case = open_case(&run.actions);
    assert_eq!(case.key, customer_key(JONAS));
    assert_eq!(
        case.title,
        "Repeated service failures: customer 7100000005 (3 in 90 days)"
    );
    assert_eq!(case.priority, Priority::High);
    assert_eq!(case.due.as_deref(), Some("2026-11-27T11:00:00Z"));
    assert_eq!(attr(case, "failureCount"), Some("3"));
    assert_eq!(
        attr(case, "failureKinds"),
        Some("cancelled-by-store,delivery-failure,tag-complaint")
    );
    for want in [
        "- Order #2043 was cancelled by the store (reason: inventory). (2026-11-10T12:00:00Z)",
        "- Fulfilment #2044.1 of #2044 (DHL Express JD014600006200020441): carrier reports failure.",
        "- Order #2045 is tagged `complaint`.",
    ] {
        assert!(case.summary.contains(want), "{want}\n{}", case.summary);
    }
    let doc = document_text(case, "customer-7100000005-service-failures.md");
    assert!(
        doc.contains("3 failures within 90 days (threshold 3)."),
        "{doc}"
    );
    assert_eq!(
        operations(&run.actions)[0],
        &shopify::tags_add(Target::Customer(JONAS), ["service-recovery"])
    );
    let Action::FollowUp(f) = &run.actions[2] else {
        panic!()
    };
    assert_eq!(f.data, r#"{"level":1,"subject":"customer"}"#);

    // A further failure while the case stands is added to it.
    let run = run_on(&mut h, "orders-updated-attempted-delivery");
    assert_eq!(kinds(&run.actions), ["open-case", "comment"]);
    assert_eq!(attr(open_case(&run.actions), "failureCount"), Some("4"));
    assert!(
        comments(&run.actions)[0]
            .text
            .starts_with("Another service failure:\n- Fulfilment #2047.1")
    );
}

#[test]
fn failures_outside_the_window_do_not_count() {
    let mut h = harness().setting("failure-window-days", 7);
    run_on(&mut h, "orders-cancelled-inventory");
    run_on(&mut h, "orders-updated-delivery-failure");
    assert!(
        run_on(&mut h, "orders-updated-complaint-tag")
            .actions
            .is_empty(),
        "only 2 within 7 days"
    );
    let mut h = harness().setting("failure-threshold", 2);
    run_on(&mut h, "orders-cancelled-inventory");
    assert_eq!(
        kinds(&run_on(&mut h, "orders-updated-delivery-failure").actions)[0],
        "open-case"
    );
}

#[test]
fn an_open_case_past_its_due_date_escalates_step_by_step() {
    let mut h = harness().linked_case(
        order_key(ORDER_2040),
        linked(
            "c-2040",
            "CASE-000540",
            CaseStatus::InProgress,
            Priority::High,
            0,
        ),
    );
    let run = run_on(&mut h, "timer-fired-order-escalation");
    assert_eq!(kinds(&run.actions), ["update-case", "comment", "follow-up"]);
    let u = updates(&run.actions)[0];
    assert_eq!(
        (u.priority, u.escalation_level, u.owner_group.as_deref()),
        (Some(Priority::Critical), Some(1), None)
    );
    assert_eq!(u.due.as_deref(), Some("2026-11-27T16:30:02Z"));
    assert_eq!(
        comments(&run.actions)[0].text,
        "The due date 2026-11-27T08:30:02Z passed and the case is still in-progress: escalated to level 1, priority critical. Next due 2026-11-27T16:30:02Z."
    );
    let Action::FollowUp(f) = &run.actions[2] else {
        panic!()
    };
    assert_eq!(
        (f.due.as_str(), f.data.as_str()),
        ("2026-11-27T16:30:02Z", r#"{"level":2,"subject":"order"}"#)
    );

    let mut h = harness().linked_case(
        order_key(ORDER_2040),
        linked(
            "c-2040",
            "CASE-000540",
            CaseStatus::InProgress,
            Priority::Critical,
            1,
        ),
    );
    let run = run_on(&mut h, "timer-fired-order-escalation-2");
    let u = updates(&run.actions)[0];
    assert_eq!(
        (u.escalation_level, u.owner_group.as_deref()),
        (Some(2), Some("cx-managers"))
    );
    assert!(
        comments(&run.actions)[0]
            .text
            .contains(", handed to cx-managers.")
    );
    assert_eq!(kinds(&run.actions).len(), 3, "level 3 is still ahead");
}

#[test]
fn escalation_stops_at_the_maximum_or_when_resolved() {
    for (status, level) in [(CaseStatus::InProgress, 3), (CaseStatus::Resolved, 0)] {
        let mut h = harness().linked_case(
            order_key(ORDER_2040),
            linked("c", "CASE-1", status, Priority::High, level),
        );
        assert!(
            run_on(&mut h, "timer-fired-order-escalation")
                .actions
                .is_empty(),
            "{status:?}"
        );
    }
    let mut h = harness().linked_case(
        order_key(ORDER_2040),
        linked("c", "CASE-1", CaseStatus::OnHold, Priority::Low, 2),
    );
    let run = run_on(&mut h, "timer-fired-order-escalation-2");
    assert_eq!(
        kinds(&run.actions),
        ["update-case", "comment"],
        "level 3 is the last"
    );
    assert_eq!(updates(&run.actions)[0].priority, Some(Priority::Medium));
    let mut h = harness();
    assert!(
        run_on(&mut h, "timer-fired-order-escalation")
            .actions
            .is_empty()
    );
    assert!(h.last_logs()[0].message.contains("no case is linked"));
}

#[test]
fn customer_cases_escalate_too() {
    let mut h = harness().linked_case(
        customer_key(JONAS),
        linked("c-j", "CASE-000545", CaseStatus::New, Priority::High, 0),
    );
    let run = run_on(&mut h, "timer-fired-customer-escalation");
    assert_eq!(updates(&run.actions)[0].key, customer_key(JONAS));
    let Action::FollowUp(f) = &run.actions[2] else {
        panic!()
    };
    assert_eq!(f.data, r#"{"level":2,"subject":"customer"}"#);
}

#[test]
fn the_demo_scenario_files_trigger_the_documented_actions() {
    let mut h = harness()
        .linked_case(
            order_key(ORDER_2040),
            linked(
                "c-2040",
                "CASE-000540",
                CaseStatus::InProgress,
                Priority::High,
                0,
            ),
        )
        .linked_case(
            customer_key(JONAS),
            linked("c-j", "CASE-000545", CaseStatus::New, Priority::High, 0),
        );
    let expected: &[(&str, &[&str])] = &[
        (
            "01-orders-create-vip",
            &["open-case", "tags-add", "follow-up"],
        ),
        (
            "02-orders-create-large",
            &["open-case", "tags-add", "follow-up"],
        ),
        (
            "03-timer-fired-order-escalation",
            &["update-case", "comment", "follow-up"],
        ),
        ("04-orders-cancelled-inventory", &[]),
        ("05-orders-updated-delivery-failure", &[]),
        (
            "06-orders-updated-complaint-tag",
            &["open-case", "tags-add", "follow-up"],
        ),
        (
            "07-timer-fired-customer-escalation",
            &["update-case", "comment", "follow-up"],
        ),
        (
            "08-helpdesk-complaint-vip",
            &["open-case", "tags-add", "follow-up"],
        ),
    ];
    let files = fx().scenarios("vip-escalation");
    assert_eq!(files.len(), expected.len());
    for ((name, event), (want_name, want)) in files.iter().zip(expected) {
        assert_eq!(name, want_name);
        let run = h
            .run::<VipEscalation>(event)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(kinds(&run.actions), *want, "{name}");
    }
}

#[test]
fn a_customer_shopify_no_longer_knows_is_a_customer_without_history() {
    // What the host answers for a deleted or redacted customer.
    let gone = |id| harness().customer_history(unknown_customer(id));
    // Marco is no VIP any more: his small order needs nothing.
    assert!(
        run_on(&mut gone(MARCO), "orders-create-vip")
            .actions
            .is_empty()
    );
    // Lena's large order is still a large order.
    let run = run_on(&mut gone(LENA), "orders-create-large");
    let case = open_case(&run.actions);
    assert_eq!(attr(case, "escalationReason"), Some("large-order"));
    assert_eq!(attr(case, "customerOrders"), Some("0"));
    assert_eq!(attr(case, "customerTags"), Some(""));
    // Jonas's third service failure opens his case, not as a VIP's.
    let mut h = gone(JONAS);
    for name in [
        "orders-cancelled-inventory",
        "orders-updated-delivery-failure",
    ] {
        run_on(&mut h, name);
    }
    let run = run_on(&mut h, "orders-updated-complaint-tag");
    let case = open_case(&run.actions);
    assert_eq!(case.key, customer_key(JONAS));
    assert_eq!(case.priority, Priority::High);
}

const ORDER_2046: u64 = 5_900_000_102_046;
const ORDER_2047: u64 = 5_900_000_102_047;

fn helpdesk_complaint() -> shopcase_sdk::Event {
    fx().file("../../examples/events/scenarios/vip-escalation/08-helpdesk-complaint-vip.json")
}

#[test]
fn a_vips_helpdesk_complaint_opens_a_critical_case_with_the_escalation_group() {
    let mut h = harness();
    let run = h.run::<VipEscalation>(&helpdesk_complaint()).unwrap();
    assert_eq!(kinds(&run.actions), ["open-case", "tags-add", "follow-up"]);
    let case = open_case(&run.actions);
    assert_eq!(case.key, order_key(ORDER_2046));
    assert_eq!(case.priority, Priority::Critical);
    assert_eq!(case.owner_group.as_deref(), Some("cx-managers"));
    // Due one escalation step (8 h) after the complaint.
    assert_eq!(case.due.as_deref(), Some("2026-11-27T00:40:00Z"));
    assert_eq!(attr(case, "escalationReason"), Some("vip-complaint"));
    assert_eq!(
        attr(case, "complaintSource"),
        Some("helpdesk ticket 48213 (email)")
    );
    assert!(case.summary.contains("VIP customer 7100000002 (tags: VIP, espresso-club) complained about order 5900000102046"), "{}", case.summary);
    // The plugin has no customer-notes grant: what the customer wrote never reaches it.
    assert!(!format!("{:?}", run.actions).contains("scratch"));
    assert_eq!(
        operations(&run.actions)[0],
        &shopify::tags_add(Target::Order(ORDER_2046), ["vip-priority"])
    );
    // The same order's next complaint is a comment on the case.
    let mut again = helpdesk_complaint();
    again.id = "evt-again".into();
    let run = h.run::<VipEscalation>(&again).unwrap();
    assert_eq!(kinds(&run.actions), ["comment"]);
}

#[test]
fn a_vips_complaint_escalates_the_open_vip_case_at_once() {
    let mut h = harness().linked_case(
        order_key(ORDER_2046),
        linked(
            "c",
            "CASE-000600",
            CaseStatus::InProgress,
            Priority::High,
            1,
        ),
    );
    let run = h.run::<VipEscalation>(&helpdesk_complaint()).unwrap();
    assert_eq!(kinds(&run.actions), ["update-case", "comment"]);
    let u = updates(&run.actions)[0];
    assert_eq!(u.priority, Some(Priority::Critical));
    assert_eq!(u.escalation_level, Some(2));
    assert_eq!(u.owner_group.as_deref(), Some("cx-managers"));
    assert_eq!(u.due.as_deref(), Some("2026-11-27T00:40:00Z"));
    assert!(
        comments(&run.actions)[0]
            .text
            .contains("Escalated to level 2")
    );
}

#[test]
fn a_complaint_from_a_customer_who_is_no_vip_is_left_to_the_other_rules() {
    let mut event = helpdesk_complaint();
    event.resources.customer_id = Some(LENA);
    assert!(
        harness()
            .run::<VipEscalation>(&event)
            .unwrap()
            .actions
            .is_empty()
    );
    event.resources.customer_id = None;
    assert!(
        harness()
            .run::<VipEscalation>(&event)
            .unwrap()
            .actions
            .is_empty()
    );
}

#[test]
fn a_vips_not_received_tag_in_an_old_spelling_is_escalated_too() {
    let run = fresh("orders-updated-vip-not-received-tag");
    // The escalation, and the tag counted as Marco's first service failure.
    assert_eq!(kinds(&run.actions), ["open-case", "tags-add", "follow-up"]);
    let case = open_case(&run.actions);
    assert_eq!(case.key, order_key(ORDER_2047));
    assert_eq!(case.priority, Priority::Critical);
    assert_eq!(
        attr(case, "complaintSource"),
        Some("order tag `Complaint-Not-Received`")
    );
    assert!(case.summary.contains("says the order never arrived"));
}
