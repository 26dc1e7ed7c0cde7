//! delivery-issues under the SDK harness, built from its own `plugin.toml`,
//! on realistic events from `tests/fixtures/`.

use delivery_issues::{CASE_TYPE, DeliveryIssues, PARTIAL_TIMER};
use plugin_kit::testing::*;
use shopcase_sdk::harness::{Harness, Run};
use shopcase_sdk::{Action, CaseStatus, Priority, Subject};

fn order(n: u64) -> u64 {
    5_900_000_100_000 + n
}

fn fx() -> Fixtures {
    Fixtures::new(env!("CARGO_MANIFEST_DIR"))
}

fn run_on(h: &mut Harness, name: &str) -> Run {
    h.run::<DeliveryIssues>(&fx().event(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn fresh(name: &str) -> Run {
    run_on(&mut fx().harness(), name)
}

fn follow_up(run: &Run) -> &shopcase_sdk::FollowUp {
    run.actions
        .iter()
        .find_map(|a| match a {
            Action::FollowUp(f) => Some(f),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no follow-up in {:?}", kinds(&run.actions)))
}

#[test]
fn a_shipment_sets_a_no_progress_check_and_estimates_move_it() {
    let mut h = fx().harness();
    let run = run_on(&mut h, "fulfillments-create");
    assert_eq!(kinds(&run.actions), ["follow-up"]);
    let f = follow_up(&run);
    assert_eq!(
        (f.name.as_str(), f.due.as_str()),
        ("eta-check-4890000020501", "2026-12-01T09:00:00Z"),
        "7 days after shipping"
    );
    let run = run_on(&mut h, "fulfillment-events-in-transit");
    let f = follow_up(&run);
    assert_eq!(f.due, "2026-11-27T17:00:00Z", "the estimate plus 24 h");
    assert_eq!(
        f.data,
        r#"{"eta":"2026-11-26T18:00:00+01:00","fulfillment_id":4890000020501}"#
    );
    assert!(
        run_on(&mut h, "fulfillment-events-in-transit")
            .actions
            .is_empty(),
        "same estimate"
    );
}

#[test]
fn a_carrier_delay_opens_an_investigation_with_a_task_per_team() {
    let mut h = fx().harness();
    run_on(&mut h, "fulfillments-create");
    run_on(&mut h, "fulfillment-events-in-transit");
    let run = run_on(&mut h, "fulfillment-events-delayed");
    assert_eq!(
        kinds(&run.actions),
        [
            "follow-up",
            "open-case",
            "create-task",
            "create-task",
            "create-task",
            "create-task"
        ]
    );
    assert_eq!(
        follow_up(&run).due,
        "2026-11-29T17:00:00Z",
        "moved to the new estimate"
    );
    let case = open_case(&run.actions);
    assert_eq!(case.key.case_type, CASE_TYPE);
    assert_eq!(case.key.subject, Subject::Order(order(2050)));
    assert_eq!(
        case.title,
        "Delivery investigation #2050: carrier reports a delay"
    );
    assert_eq!(case.priority, Priority::Medium);
    assert_eq!(case.owner_group.as_deref(), Some("logistics"));
    assert_eq!(case.due.as_deref(), Some("2026-11-28T06:40:30Z"));
    assert!(case.summary.contains(
        "- DHL Express reports a delay on 2026-11-26T07:40:00+01:00 (Leipzig, Germany): \"Weather conditions: delivery delayed\"; new estimate 2026-11-28T18:00:00+01:00.\n"
    ), "{}", case.summary);
    assert_eq!(attr(case, "deliveryIssues"), Some("carrier-delayed"));
    assert_eq!(attr(case, "carrier"), Some("DHL Express"));
    assert_eq!(attr(case, "trackingNumber"), Some("JD014600006200020501"));
    assert_eq!(attr(case, "fulfillmentId"), Some("4890000020501"));
    let t = tasks(&run.actions);
    let teams: Vec<&str> = t.iter().map(|t| t.team.as_str()).collect();
    assert_eq!(
        teams,
        [
            "customer-service",
            "carrier-management",
            "warehouse",
            "finance"
        ]
    );
    assert_eq!(
        t[1].title,
        "Trace DHL Express parcel JD014600006200020501 with the carrier"
    );
    assert!(
        t.iter()
            .all(|t| t.due.as_deref() == Some("2026-11-28T06:40:30Z"))
    );
    assert!(t[0].description.starts_with("DHL Express reports a delay"));
}

#[test]
fn a_further_issue_comments_instead_of_new_tasks() {
    let mut h = fx().harness();
    run_on(&mut h, "fulfillments-create");
    run_on(&mut h, "fulfillment-events-delayed");
    assert!(
        run_on(&mut h, "fulfillment-events-delayed")
            .actions
            .is_empty(),
        "reported once"
    );
    let run = run_on(&mut h, "timer-fired-eta-check-2050");
    assert_eq!(kinds(&run.actions), ["open-case", "comment"]);
    let case = open_case(&run.actions);
    assert_eq!(case.title, "Delivery investigation #2050: 2 issues");
    assert_eq!(
        case.due.as_deref(),
        Some("2026-11-28T06:40:30Z"),
        "the first due date is kept"
    );
    assert!(comments(&run.actions)[0].text.starts_with(
        "Another delivery issue: No delivery of DHL Express parcel JD014600006200020501 by 2026-11-29T17:00:00Z, estimated delivery was 2026-11-28T18:00:00+01:00; the last carrier status is delayed"
    ), "{}", comments(&run.actions)[0].text);
}

#[test]
fn a_delivered_parcel_passes_its_check_quietly() {
    let mut h = fx().harness();
    run_on(&mut h, "fulfillments-create");
    run_on(&mut h, "fulfillment-events-in-transit");
    assert!(h.kv_value("fulfillment:4890000020501").is_some());
    assert!(
        run_on(&mut h, "fulfillment-events-delivered")
            .actions
            .is_empty()
    );
    assert_eq!(
        h.kv_value("fulfillment:4890000020501"),
        None,
        "delivered: forgotten"
    );
    assert!(
        run_on(&mut h, "timer-fired-eta-check-2050")
            .actions
            .is_empty()
    );
}

#[test]
fn no_progress_past_the_estimate_opens_a_case() {
    let mut h = fx().harness();
    run_on(&mut h, "fulfillments-create-2051");
    run_on(&mut h, "fulfillment-events-in-transit-2051");
    let run = run_on(&mut h, "timer-fired-eta-check-2051");
    assert_eq!(kinds(&run.actions)[..2], ["open-case", "create-task"]);
    let case = open_case(&run.actions);
    assert_eq!(
        case.title,
        "Delivery investigation #2051: no delivery past the estimated date"
    );
    assert!(
        case.summary
            .contains("the last carrier status is in transit (2026-11-22T08:00:00+01:00)."),
        "{}",
        case.summary
    );
}

#[test]
fn repeated_failed_attempts_and_failures() {
    let mut h = fx().harness();
    assert!(
        run_on(&mut h, "fulfillment-events-attempted-1")
            .actions
            .is_empty()
    );
    let run = run_on(&mut h, "fulfillment-events-attempted-2");
    let case = open_case(&run.actions);
    assert_eq!(
        case.title,
        "Delivery investigation order 5900000102054: repeated failed delivery attempts"
    );
    assert!(case.summary.contains("- 2 failed delivery attempts; the last on 2026-11-26T11:20:00+01:00 (München, Germany): \"Recipient not at home, card left\"."));
    assert_eq!(
        tasks(&run.actions)[1].title,
        "Trace the parcel with the carrier"
    );

    let mut h = fx().harness().setting("attempted-deliveries", 1);
    assert_eq!(
        kinds(&run_on(&mut h, "fulfillment-events-attempted-1").actions)[0],
        "open-case"
    );

    let run = fresh("fulfillment-events-failure");
    assert_eq!(open_case(&run.actions).priority, Priority::High);
}

#[test]
fn a_partial_shipment_that_lasts_opens_a_case() {
    let mut h = fx().harness();
    let run = run_on(&mut h, "orders-updated-partial");
    assert_eq!(kinds(&run.actions), ["follow-up"]);
    let f = follow_up(&run);
    assert_eq!(
        (f.name.as_str(), f.due.as_str()),
        (PARTIAL_TIMER, "2026-11-26T08:00:00Z")
    );
    assert!(
        run_on(&mut h, "orders-updated-partial-again")
            .actions
            .is_empty(),
        "the timer is set once"
    );
    let run = run_on(&mut h, "timer-fired-partial-check");
    let case = open_case(&run.actions);
    assert_eq!(
        case.title,
        "Delivery investigation #2052: partially shipped for too long"
    );
    assert!(
        case.summary
            .contains("Only part of the order has shipped since 2026-11-21T08:00:00Z (5 days")
    );
    assert_eq!(tasks(&run.actions).len(), 4);

    // Fulfilled in the meantime: nothing.
    let mut h = fx().harness();
    run_on(&mut h, "orders-updated-partial");
    assert!(
        run_on(&mut h, "orders-updated-fulfilled")
            .actions
            .is_empty()
    );
    assert!(
        run_on(&mut h, "timer-fired-partial-check")
            .actions
            .is_empty()
    );
}

#[test]
fn not_received_is_a_high_priority_investigation() {
    let run = fresh("orders-updated-not-received");
    let case = open_case(&run.actions);
    assert_eq!(
        case.title,
        "Delivery investigation #2053: delivered but not received"
    );
    assert_eq!(case.priority, Priority::High);
    assert!(case.summary.contains(
        "Staff tagged the order `not-received`: the customer says it never arrived. The carrier marked #2053.1 (DHL Express JD014600006200020531) delivered."
    ), "{}", case.summary);
    assert_eq!(attr(case, "orderName"), Some("#2053"));
    assert_eq!(attr(case, "shippingCountry"), Some("DE"));
    let mut h = fx().harness();
    run_on(&mut h, "orders-updated-not-received");
    assert!(
        run_on(&mut h, "orders-updated-not-received")
            .actions
            .is_empty()
    );
}

#[test]
fn orders_and_events_without_issues_need_nothing() {
    for name in [
        "orders-updated-no-issue",
        "fulfillment-events-delivered",
        "fulfillment-events-in-transit-2051",
    ] {
        let run = fresh(name);
        assert!(!kinds(&run.actions).contains(&"open-case"), "{name}");
    }
    assert!(fresh("orders-updated-no-issue").actions.is_empty());
}

#[test]
fn the_case_is_resolved_when_every_task_is_done() {
    let mut h = fx().harness();
    assert!(run_on(&mut h, "case-updated-tasks-open").actions.is_empty());
    let run = run_on(&mut h, "case-updated-all-tasks-done");
    assert_eq!(statuses(&run.actions), [CaseStatus::Resolved]);
    let r = updates(&run.actions)[0].resolution.as_ref().unwrap();
    assert_eq!(r.code, "all-tasks-done");
    assert!(r.notes.contains("- Trace DHL Express parcel JD014600006200020501 with the carrier (carrier-management): DHL: parcel delivered 28 Nov, signature on file."), "{}", r.notes);
    assert!(
        run_on(&mut h, "case-updated-all-tasks-done")
            .actions
            .is_empty()
    );
}

#[test]
fn the_demo_scenario_files_trigger_the_documented_actions() {
    let mut h = fx().harness();
    let case_and_tasks: &[&str] = &[
        "open-case",
        "create-task",
        "create-task",
        "create-task",
        "create-task",
    ];
    let delayed: &[&str] = &[
        "follow-up",
        "open-case",
        "create-task",
        "create-task",
        "create-task",
        "create-task",
    ];
    let expected: &[(&str, &[&str])] = &[
        ("01-fulfillments-create", &["follow-up"]),
        ("02-fulfillment-events-in-transit", &["follow-up"]),
        ("03-fulfillment-events-delayed", delayed),
        ("04-case-updated-all-tasks-done", &["update-case"]),
        ("05-fulfillments-create-2051", &["follow-up"]),
        ("06-fulfillment-events-in-transit-2051", &["follow-up"]),
        ("07-timer-fired-eta-check-2051", case_and_tasks),
        ("08-orders-updated-partial", &["follow-up"]),
        ("09-timer-fired-partial-check", case_and_tasks),
        ("10-orders-updated-not-received", case_and_tasks),
        ("11-fulfillment-events-attempted-1", &[]),
        ("12-fulfillment-events-attempted-2", case_and_tasks),
        ("13-helpdesk-not-received", case_and_tasks),
        ("14-carrier-exception-lost", case_and_tasks),
    ];
    let files = fx().scenarios("delivery-issues");
    assert_eq!(files.len(), expected.len());
    for ((name, event), (want_name, want)) in files.iter().zip(expected) {
        assert_eq!(name, want_name);
        let run = h
            .run::<DeliveryIssues>(event)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(kinds(&run.actions), *want, "{name}");
    }
}

fn scenario(path: &str) -> shopcase_sdk::Event {
    fx().file(&format!(
        "../../examples/events/scenarios/delivery-issues/{path}"
    ))
}

#[test]
fn the_helpdesks_not_received_claim_opens_the_investigation() {
    let mut h = fx().harness();
    let run = h
        .run::<DeliveryIssues>(&scenario("13-helpdesk-not-received.json"))
        .unwrap();
    let case = open_case(&run.actions);
    assert_eq!(case.key.subject, Subject::Order(order(2055)));
    assert_eq!(
        case.title,
        "Delivery investigation order 5900000102055: delivered but not received"
    );
    assert_eq!(case.priority, Priority::High);
    assert_eq!(attr(case, "deliveryIssues"), Some("not-received"));
    assert_eq!(attr(case, "carrier"), Some("DHL Express"));
    assert_eq!(attr(case, "trackingNumber"), Some("JD014600006200020551"));
    assert!(
        case.summary
            .contains("The customer told the helpdesk the order never arrived (helpdesk ticket 48177 (phone))."),
        "{}",
        case.summary
    );
    // No customer-notes grant: the customer's words stay out.
    assert!(!format!("{:?}", run.actions).contains("neighbours"));
    assert_eq!(tasks(&run.actions).len(), 4);

    // A carrier exception on the same order is a second issue of the same
    // investigation: a comment.
    let mut lost = scenario("14-carrier-exception-lost.json");
    lost.resources.order_id = Some(order(2055));
    let run = h.run::<DeliveryIssues>(&lost).unwrap();
    assert_eq!(kinds(&run.actions), ["open-case", "comment"]);
    assert_eq!(
        attr(open_case(&run.actions), "deliveryIssues"),
        Some("not-received,carrier-failure")
    );
}

#[test]
fn a_carrier_exception_is_a_failure_or_a_delay() {
    let run = fresh_file("14-carrier-exception-lost.json");
    let case = open_case(&run.actions);
    assert_eq!(case.key.subject, Subject::Order(order(2056)));
    assert_eq!(attr(case, "deliveryIssues"), Some("carrier-failure"));
    assert_eq!(case.priority, Priority::High);
    assert!(
        case.summary.contains(
            "DHL Express reports `lost` on parcel JD014600006200020561 (tracker report trk-20561-lost). \"Shipment could not be located in the Leipzig hub after 5 days.\""
        ),
        "{}",
        case.summary
    );
    let mut delayed = scenario("14-carrier-exception-lost.json");
    delayed.payload = delayed.payload.replace("\"lost\"", "\"held-at-customs\"");
    let run = fx().harness().run::<DeliveryIssues>(&delayed).unwrap();
    let case = open_case(&run.actions);
    assert_eq!(attr(case, "deliveryIssues"), Some("carrier-delayed"));
    assert_eq!(case.priority, Priority::Medium);
}

fn fresh_file(name: &str) -> Run {
    fx().harness()
        .run::<DeliveryIssues>(&scenario(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_spelling_of_the_not_received_tag_opens_the_investigation() {
    for tag in [
        "not-received",
        "complaint-not-received",
        "Delivered-Not-Received",
    ] {
        let mut event = fx().file(
            "../../examples/events/scenarios/delivery-issues/10-orders-updated-not-received.json",
        );
        let v: serde_json::Value = serde_json::from_str(&event.payload).unwrap();
        let mut v = v;
        v["tags"] = serde_json::json!(tag);
        event.payload = v.to_string();
        let run = fx().harness().run::<DeliveryIssues>(&event).unwrap();
        assert_eq!(
            attr(open_case(&run.actions), "deliveryIssues"),
            Some("not-received"),
            "{tag}"
        );
    }
}
