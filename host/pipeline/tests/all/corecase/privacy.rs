//! Privacy requests in Core Case: `customers/redact` and `shop/redact`
//! scrub, through the API, what the host wrote into the cases it linked,
//! and the privacy record lists what the API could not scrub.

use serde_json::{Value, json};
use shopcase_contract::action::CaseStatus;
use shopcase_corecase::client::dto::{
    CaseDataUpdate, NewComment, NewTask, ResolutionInput, StatusChange, TaskKind,
};
use shopcase_corecase_emulator::{ClientSeed, Fault, FaultSpec};
use shopcase_store::*;

use super::*;

/// An analyst's client id in Core Case: what the case history, comments
/// and tasks record as the author of what she writes.
const ALICE: &str = "analyst-alice";

/// The emulator with `scripted`, where analyst Alice has her own client.
async fn emulator_with_alice() -> EmulatorHandle {
    let mut config = EmulatorConfig::default();
    config
        .case_definitions
        .push(DefinitionSeed::named("scripted"));
    config
        .other_clients
        .push(ClientSeed::new(ALICE, "alice-secret"));
    emulator::spawn(config).await.unwrap()
}

fn alice(emu: &EmulatorHandle) -> CoreCaseClient {
    CoreCaseClient::new(emu.client_settings_as(ALICE).unwrap()).unwrap()
}

fn scripted_def() -> String {
    emulator::definition_id("scripted").to_string()
}

const EMAIL: &str = "ann.lindqvist@example.com";
const PHONE: &str = "+1 555-010-0199";
/// What must not be left in the attributes the host wrote.
const ANN: [&str; 5] = [EMAIL, "Lindqvist", "12 Birch Lane", "555-010-0199", "Ann "];

/// Ann's order `id`, whose plugin run opens a case with her contact and
/// street line in attributes, a comment naming her, and a document with
/// her address.
fn ann_order(webhook: &str, id: u64) -> Delivery {
    let mut case = open_case(
        "scripted",
        id,
        "high",
        json!([document(
            "shipping.md",
            "Ship to 12 Birch Lane, Springfield"
        )]),
    );
    case["attributes"] = json!([
        {"name": "contact", "value": format!("Ann Lindqvist <{EMAIL}>, {PHONE}")},
        {"name": "shipTo", "value": "12 Birch Lane, Springfield"},
        {"name": "risk", "value": "80"},
    ]);
    Delivery::order(
        SHOP_A,
        SECRET_A,
        webhook,
        json!({"id": id, "name": format!("#{id}"), "email": EMAIL, "phone": PHONE,
               "customer": {"id": 7001, "email": EMAIL, "first_name": "Ann", "last_name": "Lindqvist"},
               "shipping_address": {"name": "Ann Lindqvist", "address1": "12 Birch Lane", "city": "Springfield"},
               "note": json!({"actions": [case,
                   {"kind": "comment", "key": key("scripted", id), "text": format!("Ann Lindqvist called from {PHONE}"), "visibility": "internal"},
                   {"kind": "comment", "key": key("scripted", id), "text": "Risk score checked", "visibility": "internal"}]}).to_string()}),
    )
}

/// Bob's order, with his own case.
fn bob_order(webhook: &str, id: u64) -> Delivery {
    let mut case = open_case("scripted", id, "low", json!([]));
    case["attributes"] = json!([{"name": "contact", "value": "Bob Berg <bob@example.com>"}]);
    Delivery::order(
        SHOP_A,
        SECRET_A,
        webhook,
        json!({"id": id, "name": format!("#{id}"), "email": "bob@example.com",
               "customer": {"id": 8002, "email": "bob@example.com", "first_name": "Bob", "last_name": "Berg"},
               "note": json!({"actions": [case]}).to_string()}),
    )
}

fn redact_ann(webhook: &str, orders: Value) -> Delivery {
    Delivery::new(
        SHOP_A,
        SECRET_A,
        "customers/redact",
        webhook,
        json!({"shop_id": 1, "shop_domain": SHOP_A,
               "customer": {"id": 7001, "email": EMAIL, "phone": PHONE}, "orders_to_redact": orders}),
    )
}

/// Send an order and wait for its case; returns the case id.
async fn case_for(running: &RunningPipeline, s: &Arc<dyn Storage>, d: &Delivery) -> String {
    let event = send(running, d).await;
    let entries = settled(s, &event).await;
    for e in &entries {
        assert_eq!(e.status, JournalStatus::Done, "{:?}", e.last_error);
    }
    entries[0].result.as_ref().unwrap()["case_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn custom(emu: &EmulatorHandle, case_id: &str) -> Value {
    emu.emulator().case(case_id).unwrap()["caseProperties"]["customAttributes"].clone()
}

/// The privacy record of a request event.
async fn record(s: &Arc<dyn Storage>, event: &str) -> PrivacyRecord {
    s.privacy_records(Some(vec![SHOP_A.into()]), 100)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.event_id == event)
        .expect("the request is recorded")
}

/// The record's report of one case.
fn case_report<'a>(record: &'a PrivacyRecord, case_id: &str) -> &'a Value {
    record.summary["corecase"]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["case_id"] == case_id)
        .unwrap_or_else(|| panic!("case {case_id} is in {}", record.summary))
}

fn left_parts(report: &Value) -> Vec<String> {
    report["not_scrubbed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["part"].as_str().unwrap().to_owned())
        .collect()
}

/// How many times a `customers/redact` waited for Core Case.
fn waits(running: &RunningPipeline) -> u64 {
    let metric = "shopcase_privacy_requests_total{topic=\"customers/redact\",outcome=\"waiting\"} ";
    running
        .metrics()
        .render(None)
        .lines()
        .find_map(|l| l.strip_prefix(metric))
        .map_or(0, |n| n.trim().parse().unwrap())
}

async fn post_ok(running: &RunningPipeline, d: &Delivery) -> String {
    let (status, body) = post(&reqwest::Client::new(), &running.webhook_url(), d).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("accepted")),
        "{body}"
    );
    body["event_id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_redact_scrubs_the_customers_cases_and_lists_what_the_api_cannot() {
    let emu = emulator().await;
    let host = host(&emu, 2, "");
    let running = start(&host, |b| b).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "scripted", &[]).await;
    let ann = case_for(&running, &s, &ann_order("w-ann", 5001)).await;
    let bob = case_for(&running, &s, &bob_order("w-bob", 6001)).await;
    let before = custom(&emu, &ann).to_string();
    assert!(ANN.iter().all(|p| before.contains(p)), "{before}");
    let bob_before = emu.emulator().case(&bob).unwrap();

    let request = post_ok(&running, &redact_ann("w-redact", json!([5001]))).await;
    eventually("redaction handled", || is_done(&s, &request)).await;

    // Every attribute the host wrote holds no personal data of Ann's any
    // more; the rest of the case data stays.
    let after = custom(&emu, &ann);
    for p in ANN {
        assert!(!after.to_string().contains(p), "`{p}` is left in {after}");
    }
    assert_eq!(after["contact"], "[redacted] <[redacted]>, [redacted]");
    assert_eq!(after["shipTo"], "[redacted], Springfield");
    assert_eq!(after["risk"], "80");
    assert_eq!(after["orderId"], "5001", "ids are kept");
    // Bob's case is untouched: not even a history entry.
    assert_eq!(emu.emulator().case(&bob).unwrap(), bob_before);

    // The record says what was scrubbed and lists what the API cannot
    // scrub, for an operator: the comment naming Ann (not the other one),
    // the document, the history that keeps the old values.
    let r = record(&s, &request).await;
    let cc = &r.summary["corecase"];
    assert_eq!(cc["status"], "done", "{cc}");
    let report = case_report(&r, &ann);
    let mut scrubbed: Vec<&str> = report["scrubbed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    scrubbed.sort_unstable();
    assert_eq!(
        scrubbed,
        ["customAttributes.contact", "customAttributes.shipTo"]
    );
    let mut parts = left_parts(report);
    parts.sort_unstable();
    assert_eq!(parts, ["attachment", "comment", "history"], "{report}");
    let case = emu.emulator().case(&ann).unwrap();
    let naming_ann = case["comments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["text"].as_str().unwrap().contains("Lindqvist"))
        .unwrap();
    let comment = report["not_scrubbed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["part"] == "comment")
        .unwrap();
    assert_eq!(comment["id"], naming_ann["id"]);
    assert!(
        comment["reason"]
            .as_str()
            .unwrap()
            .contains("cannot delete or edit a comment"),
        "{comment}"
    );
    assert!(
        case_report_is_free_of_ann(cc),
        "the record holds no personal data: {cc}"
    );
    assert!(
        !r.summary["corecase"]["cases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["case_id"] == bob),
        "Bob's case is not looked at"
    );
    running.shutdown().await.unwrap();
}

fn case_report_is_free_of_ann(v: &Value) -> bool {
    let text = v.to_string();
    !ANN.iter().any(|p| text.contains(p))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redaction_run_again_changes_nothing_more_and_fails_nothing() {
    let emu = emulator().await;
    let host = host(&emu, 2, "");
    let running = start(&host, |b| b).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "scripted", &[]).await;
    let ann = case_for(&running, &s, &ann_order("w-ann", 5001)).await;
    let first = post_ok(&running, &redact_ann("w-redact", json!([5001]))).await;
    eventually("redaction handled", || is_done(&s, &first)).await;
    let case_after_first = emu.emulator().case(&ann).unwrap();
    let puts = || {
        emu.emulator().request_count(
            "PUT",
            "/api/v1/case-definitions/{defId}/cases/{caseId}/case-data",
        )
    };
    let puts_after_first = puts();
    assert_eq!(puts_after_first, 1);

    // The same delivery again is a duplicate; a second request for the
    // same customer (another body) runs the erasure again.
    let (status, dup) = post(
        &reqwest::Client::new(),
        &running.webhook_url(),
        &redact_ann("w-redact-again", json!([5001])),
    )
    .await;
    assert_eq!((status, dup["status"].as_str()), (200, Some("duplicate")));
    let second = post_ok(&running, &redact_ann("w-redact-2", json!([5001, 5001]))).await;
    eventually("second redaction handled", || is_done(&s, &second)).await;
    assert_eq!(puts(), puts_after_first, "nothing left to change");
    assert_eq!(emu.emulator().case(&ann).unwrap(), case_after_first);
    // The second record tells from the case history what the first
    // scrubbed (the contact; the street line is no longer known to the
    // host once its events are scrubbed) and holds no personal data.
    let r = record(&s, &second).await;
    assert_eq!(r.summary["corecase"]["status"], "done");
    assert!(
        case_report(&r, &ann)["scrubbed"]
            .as_array()
            .unwrap()
            .contains(&json!("customAttributes.contact")),
        "{}",
        r.summary
    );
    assert!(case_report_is_free_of_ann(&r.summary), "{}", r.summary);
    assert!(
        s.dead_letters(Some(SHOP_A), true, 10)
            .await
            .unwrap()
            .is_empty()
    );
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn core_case_down_during_a_redaction_is_waited_out_and_the_erasure_completes() {
    let emu = emulator().await;
    let host = host(&emu, 2, "");
    let running = start(&host, |b| b).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "scripted", &[]).await;
    let order = send(&running, &ann_order("w-ann", 5001)).await;
    let ann = settled(&s, &order).await[0].result.as_ref().unwrap()["case_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Core Case goes down in the middle of the pass: the case is read and
    // its attributes scrubbed, then listing its comments fails, on every
    // try until the fault is cleared.
    emu.emulator()
        .inject_fault(FaultSpec {
            method: None,
            path: "/api/v1/case-definitions/*/cases/*/comments".into(),
            count: 10_000,
            fault: Fault::Status {
                status: 503,
                retry_after: None,
            },
            after_apply: false,
        })
        .unwrap();
    let request = post_ok(&running, &redact_ann("w-redact", json!([5001]))).await;
    // It is tried, finds Core Case down, and waits: more times than
    // `dispatcher.max-attempts` (3), none of them counted as an attempt,
    // not done, not dead-lettered; the host-side erasure waits with it.
    eventually("the request waited a few times", || async {
        waits(&running) >= 4
    })
    .await;
    assert!(s.event(&request).await.unwrap().unwrap().claims <= 1);
    assert!(!is_done(&s, &request).await);
    assert!(
        s.dead_letters(Some(SHOP_A), true, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.event(&order)
            .await
            .unwrap()
            .unwrap()
            .event
            .payload
            .contains(EMAIL),
        "the host-side erasure waits for the Core Case pass"
    );
    assert!(
        !custom(&emu, &ann).to_string().contains(EMAIL),
        "the first attempt scrubbed the attributes before Core Case went down"
    );
    let puts = || {
        emu.emulator().request_count(
            "PUT",
            "/api/v1/case-definitions/{defId}/cases/{caseId}/case-data",
        )
    };
    assert_eq!(puts(), 1);

    // Core Case is back: the next attempt completes the pass (nothing
    // left to write), the host-side erasure runs, and the record reports
    // what the first attempt scrubbed.
    emu.emulator().clear_faults();
    eventually("redaction handled", || is_done(&s, &request)).await;
    assert_eq!(puts(), 1, "the rerun wrote nothing again");
    assert!(
        !s.event(&order)
            .await
            .unwrap()
            .unwrap()
            .event
            .payload
            .contains(EMAIL)
    );
    let r = record(&s, &request).await;
    assert_eq!(r.summary["corecase"]["status"], "done");
    let mut scrubbed: Vec<&str> = case_report(&r, &ann)["scrubbed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    scrubbed.sort_unstable();
    assert_eq!(
        scrubbed,
        ["customAttributes.contact", "customAttributes.shipTo"]
    );
    assert!(case_report_is_free_of_ann(&r.summary), "{}", r.summary);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn core_case_down_past_the_outage_window_lists_the_cases_and_the_host_side_erasure_goes_ahead()
 {
    let emu = emulator().await;
    // No waiting at all: the first attempt is already past the window.
    let host = host_with(&emu, 2, "", |t| {
        t.replace("workers = 2", "workers = 2\noutage-window = \"0s\"")
    });
    let running = start(&host, |b| b).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "scripted", &[]).await;
    let order = send(&running, &ann_order("w-ann", 5001)).await;
    let ann = settled(&s, &order).await[0].result.as_ref().unwrap()["case_id"]
        .as_str()
        .unwrap()
        .to_owned();
    emu.emulator()
        .inject_fault(FaultSpec {
            method: None,
            path: "/api/v1/**".into(),
            count: 10_000,
            fault: Fault::Status {
                status: 503,
                retry_after: None,
            },
            after_apply: false,
        })
        .unwrap();
    let request = post_ok(&running, &redact_ann("w-redact", json!([5001]))).await;
    eventually("redaction handled", || is_done(&s, &request)).await;

    // The host-side erasure was done; Core Case was not touched, and the
    // record lists the case for an operator.
    assert!(
        !s.event(&order)
            .await
            .unwrap()
            .unwrap()
            .event
            .payload
            .contains(EMAIL)
    );
    assert!(custom(&emu, &ann).to_string().contains(EMAIL));
    let r = record(&s, &request).await;
    let cc = &r.summary["corecase"];
    assert_eq!(cc["status"], "unreachable", "{cc}");
    let report = case_report(&r, &ann);
    assert_eq!(left_parts(report), ["case"]);
    assert_eq!(
        report["not_scrubbed"][0]["reason"],
        "Core Case could not be reached"
    );
    assert!(cc["note"].as_str().unwrap().contains("HTTP 503"), "{cc}");
    assert!(case_report_is_free_of_ann(&r.summary), "{}", r.summary);
    assert!(
        s.dead_letters(Some(SHOP_A), true, 10)
            .await
            .unwrap()
            .is_empty()
    );
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyst_written_data_and_closed_cases_are_listed_and_left_alone() {
    let emu = emulator_with_alice().await;
    let host = host(&emu, 2, "");
    let running = start(&host, |b| b).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "scripted", &[]).await;
    let worked = case_for(&running, &s, &ann_order("w-ann-1", 5001)).await;
    let closed = case_for(&running, &s, &ann_order("w-ann-2", 5002)).await;
    let (def, alice) = (scripted_def(), alice(&emu));

    // On the first case Alice rewrites the contact in her own words, adds
    // a note, a comment and a task naming Ann.
    let mut update = CaseDataUpdate::default();
    update.custom_attributes.insert(
        "contact".into(),
        format!("Ann Lindqvist, prefers {EMAIL}").into(),
    );
    update.custom_attributes.insert(
        "analystNote".into(),
        "Ann Lindqvist confirmed by phone".into(),
    );
    alice
        .update_case_data(&def, &worked, &update, None)
        .await
        .unwrap();
    let comment = alice
        .add_comment(
            &def,
            &worked,
            &NewComment {
                text: "Spoke to Ann Lindqvist".into(),
                visibility: shopcase_contract::action::Visibility::Internal,
            },
            None,
        )
        .await
        .unwrap();
    let task = alice
        .create_task(
            &def,
            &worked,
            &NewTask {
                title: "Call Ann Lindqvist back".into(),
                description: None,
                kind: TaskKind::Task,
                assignee_group: Some("ops".into()),
                assignee: None,
                due_date: None,
            },
            None,
        )
        .await
        .unwrap();
    // The second case is resolved and closed by Alice.
    alice
        .change_status(
            &def,
            &closed,
            &StatusChange::to(CaseStatus::InProgress),
            None,
        )
        .await
        .unwrap();
    let mut resolve = StatusChange::to(CaseStatus::Resolved);
    resolve.resolution = Some(ResolutionInput {
        code: "SHIPPED".into(),
        notes: format!("Reached Ann at {PHONE}"),
    });
    alice
        .change_status(&def, &closed, &resolve, None)
        .await
        .unwrap();
    alice
        .change_status(&def, &closed, &StatusChange::to(CaseStatus::Closed), None)
        .await
        .unwrap();
    let worked_before = custom(&emu, &worked);
    let closed_before = emu.emulator().case(&closed).unwrap();

    let request = post_ok(&running, &redact_ann("w-redact", json!([5001, 5002]))).await;
    eventually("redaction handled", || is_done(&s, &request)).await;
    let r = record(&s, &request).await;
    assert_eq!(r.summary["corecase"]["status"], "done", "{}", r.summary);

    // The worked case: the host's street line is scrubbed; what Alice
    // wrote is kept as she wrote it and listed with her name.
    let after = custom(&emu, &worked);
    assert_eq!(after["shipTo"], "[redacted], Springfield");
    assert_eq!(after["contact"], worked_before["contact"]);
    assert_eq!(after["analystNote"], worked_before["analystNote"]);
    let report = case_report(&r, &worked);
    assert_eq!(report["scrubbed"], json!(["customAttributes.shipTo"]));
    let by_alice: Vec<(String, Option<String>)> = report["not_scrubbed"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["by"] == ALICE)
        .map(|l| {
            assert!(
                l["reason"]
                    .as_str()
                    .unwrap()
                    .contains("someone other than the host"),
                "{l}"
            );
            (
                l["part"].as_str().unwrap().to_owned(),
                l["id"].as_str().map(str::to_owned),
            )
        })
        .collect();
    for item in [
        ("customAttributes.contact".to_owned(), None),
        ("customAttributes.analystNote".to_owned(), None),
        ("comment".to_owned(), Some(comment.id.clone())),
        ("task".to_owned(), Some(task.id.clone())),
    ] {
        assert!(by_alice.contains(&item), "{item:?} in {by_alice:?}");
    }

    // The closed case: Core Case refuses changes to its data, so nothing
    // in it changed; its attributes and resolution notes are listed.
    assert_eq!(emu.emulator().case(&closed).unwrap(), closed_before);
    let report = case_report(&r, &closed);
    assert_eq!(report["scrubbed"], json!([]));
    let left: Vec<&Value> = report["not_scrubbed"].as_array().unwrap().iter().collect();
    for attr in ["customAttributes.contact", "customAttributes.shipTo"] {
        let l = left
            .iter()
            .find(|l| l["part"] == attr)
            .unwrap_or_else(|| panic!("{attr} is listed: {report}"));
        let reason = l["reason"].as_str().unwrap();
        assert!(
            reason.contains("409 CaseNotOpen") && reason.contains("CLOSED"),
            "{reason}"
        );
    }
    assert!(left.iter().any(|l| l["part"] == "resolution"), "{report}");

    // The record lists references and reasons, never Ann's data.
    assert!(case_report_is_free_of_ann(&r.summary), "{}", r.summary);

    // The scrub is no news: once the poller has passed the scrubbed state,
    // no case-updated event in the inbox carries back what stays in the
    // case (Alice's note, her task), after the host-side erasure.
    let scrubbed_at = emu.emulator().case(&worked).unwrap()["caseProperties"]["defaultAttributes"]
        ["lastUpdatedOn"]
        .as_str()
        .and_then(shopcase_corecase::api_time::parse)
        .unwrap();
    eventually("the poller passed the scrubbed case", || async {
        s.poll_marks()
            .await
            .unwrap()
            .iter()
            .any(|m| m.definition_id == def && m.mark >= scrubbed_at)
    })
    .await;
    for e in case_events(&host, &s, &worked).await {
        assert!(
            !e.event.payload.contains("Lindqvist") && !e.event.payload.contains(EMAIL),
            "{}",
            e.event.payload
        );
    }
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_analysts_edit_made_during_the_scrub_is_not_overwritten() {
    let emu = emulator_with_alice().await;
    // Requests may take long here: the emulator holds one answer back.
    let host = host_with(&emu, 2, "", |t| {
        t.replace("request-timeout = \"1s\"", "request-timeout = \"20s\"")
    });
    let running = start(&host, |b| b).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "scripted", &[]).await;
    let ann = case_for(&running, &s, &ann_order("w-ann", 5001)).await;

    // The pass reads the case, then its history, whose answer Core Case
    // holds back; meanwhile Alice rewrites the contact. The host decided
    // from what it read before, and its change must not land on hers.
    let history = "/api/v1/case-definitions/{defId}/cases/{caseId}/history";
    emu.emulator()
        .inject_fault(FaultSpec::new(
            "GET",
            "/api/v1/case-definitions/*/cases/*/history",
            Fault::Slow { delay_ms: 5_000 },
        ))
        .unwrap();
    let request = post_ok(&running, &redact_ann("w-redact", json!([5001]))).await;
    eventually("the pass asked for the history", || async {
        emu.emulator().request_count("GET", history) >= 1
    })
    .await;
    let mut update = CaseDataUpdate::default();
    update.custom_attributes.insert(
        "contact".into(),
        format!("Ann Lindqvist, prefers {EMAIL}").into(),
    );
    alice(&emu)
        .update_case_data(&scripted_def(), &ann, &update, None)
        .await
        .unwrap();
    eventually("redaction handled", || is_done(&s, &request)).await;

    // The host's write was refused (412) and the case read again: Alice's
    // contact is hers and listed; the host's street line is scrubbed.
    let put = emu
        .emulator()
        .request_counts()
        .get("PUT /api/v1/case-definitions/{defId}/cases/{caseId}/case-data")
        .cloned()
        .unwrap_or_default();
    assert_eq!(put.by_status.get("412"), Some(&1), "{put:?}");
    let after = custom(&emu, &ann);
    assert_eq!(after["contact"], format!("Ann Lindqvist, prefers {EMAIL}"));
    assert_eq!(after["shipTo"], "[redacted], Springfield");
    let r = record(&s, &request).await;
    let report = case_report(&r, &ann);
    assert_eq!(report["scrubbed"], json!(["customAttributes.shipTo"]));
    assert!(
        report["not_scrubbed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["part"] == "customAttributes.contact" && l["by"] == ALICE),
        "{report}"
    );
    assert!(case_report_is_free_of_ann(&r.summary), "{}", r.summary);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_gone_from_core_case_is_listed_as_not_scrubbed_and_the_request_completes() {
    let emu = emulator().await;
    let host = host(&emu, 2, "");
    let running = start(&host, |b| b).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "scripted", &[]).await;
    let gone = case_for(&running, &s, &ann_order("w-ann-1", 5001)).await;
    let kept = case_for(&running, &s, &ann_order("w-ann-2", 5002)).await;
    assert!(emu.emulator().delete_case(&gone));

    let request = post_ok(&running, &redact_ann("w-redact", json!([5001, 5002]))).await;
    eventually("redaction handled", || is_done(&s, &request)).await;
    let r = record(&s, &request).await;
    let report = case_report(&r, &gone);
    assert_eq!(left_parts(report), ["case"]);
    assert!(
        report["not_scrubbed"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("no longer has this case"),
        "{report}"
    );
    assert_eq!(
        case_report(&r, &kept)["scrubbed"].as_array().unwrap().len(),
        2
    );
    assert!(!custom(&emu, &kept).to_string().contains(EMAIL));
    // The host-side erasure was done too.
    assert_eq!(r.summary["corecase"]["status"], "done");
    assert!(r.summary["redacted"]["events"].as_u64().unwrap() >= 2);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shop_redact_scrubs_every_case_of_the_store_before_deleting_its_rows() {
    let emu = emulator().await;
    let host = host(&emu, 2, "");
    let running = start(&host, |b| b).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "scripted", &[]).await;
    host.enable(&s, SHOP_B, "scripted", &[]).await;
    let ann = case_for(&running, &s, &ann_order("w-ann", 5001)).await;
    let bob = case_for(&running, &s, &bob_order("w-bob", 6001)).await;
    let mut other = open_case("scripted", 7001, "low", json!([]));
    other["attributes"] = json!([{"name": "contact", "value": "Cy <cy@example.com>"}]);
    let b_event = send(
        &running,
        &Delivery::order(
            SHOP_B,
            SECRET_B,
            "w-b",
            json!({"id": 7001, "customer": {"id": 9003},
                   "note": json!({"actions": [other]}).to_string()}),
        ),
    )
    .await;
    let b_case = settled(&s, &b_event).await[0].result.as_ref().unwrap()["case_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b_before = emu.emulator().case(&b_case).unwrap();

    let (status, r) = post(
        &reqwest::Client::new(),
        &running.webhook_url(),
        &Delivery::new(
            SHOP_A,
            SECRET_A,
            "app/uninstalled",
            "w-uninstall",
            json!({"id": 1, "domain": SHOP_A, "myshopify_domain": SHOP_A}),
        ),
    )
    .await;
    assert_eq!(
        (status, r["status"].as_str()),
        (200, Some("accepted")),
        "{r}"
    );
    let request = post_ok(
        &running,
        &Delivery::new(
            SHOP_A,
            SECRET_A,
            "shop/redact",
            "w-shop-redact",
            json!({"shop_id": 1, "shop_domain": SHOP_A}),
        ),
    )
    .await;
    eventually("the shop redaction is recorded", || async {
        s.privacy_records(Some(vec![SHOP_A.into()]), 10)
            .await
            .unwrap()
            .iter()
            .any(|r| r.event_id == request)
    })
    .await;
    let r = record(&s, &request).await;

    // Every text attribute the host wrote in the store's cases is gone;
    // numbers-as-text too (the store's data goes as a whole).
    for case in [&ann, &bob] {
        let attrs = custom(&emu, case);
        for (name, v) in attrs.as_object().unwrap() {
            assert_eq!(v, "[redacted]", "{name} of {case}: {attrs}");
        }
        let report = case_report(&r, case);
        assert!(
            left_parts(report).contains(&"title".to_owned()),
            "the title is listed: {report}"
        );
    }
    assert_eq!(r.summary["corecase"]["status"], "done");
    assert!(case_report_is_free_of_ann(&r.summary), "{}", r.summary);
    assert!(!r.summary.to_string().contains("bob@example.com"));
    // The other store's case is untouched, and the host's rows are gone.
    assert_eq!(emu.emulator().case(&b_case).unwrap(), b_before);
    assert!(s.uninstalled(SHOP_A).await.unwrap().is_none());
    assert!(
        s.search_case_links(CaseLinkQuery {
            shops: Some(vec![SHOP_A.into()]),
            limit: 10,
            ..CaseLinkQuery::default()
        })
        .await
        .unwrap()
        .is_empty()
    );
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_corecase_the_record_says_so_and_the_host_side_erasure_is_done() {
    let host = Host::new(2);
    let running = host.start().await;
    let s = running.storage().clone();
    let request = post_ok(&running, &redact_ann("w-redact", json!([5001]))).await;
    eventually("redaction handled", || is_done(&s, &request)).await;
    let r = record(&s, &request).await;
    assert_eq!(r.summary["corecase"]["status"], "not-configured");
    assert!(
        r.summary["corecase"]["note"]
            .as_str()
            .unwrap()
            .contains("Core Case not configured")
    );
    running.shutdown().await.unwrap();
}
