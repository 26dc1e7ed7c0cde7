//! Held operations: `request-approval` opens an APPROVAL task and holds a
//! Shopify operation; APPROVED releases it to the Shopify executor exactly
//! once, REJECTED records the decline, and plugins hear of both.

use std::sync::Arc;

use serde_json::{Value, json};
use shopcase_corecase::client::dto::{TaskCompletion, TaskOutcome};
use shopcase_corecase_integration::CoreCase;
use shopcase_store::*;

use super::*;

fn refund(order: u64) -> Value {
    json!({"kind": "refund", "order_id": order, "amount": "900.00", "currency": "EUR",
           "note": "goodwill", "notify_customer": true})
}

/// Open a case and request an approval for a refund; returns the case id
/// and the approval task id once the request is executed.
async fn requested(
    running: &RunningPipeline,
    s: &Arc<dyn Storage>,
    order: u64,
) -> (String, String) {
    let event = send(
        running,
        &scripted_order(
            &format!("w-{order}"),
            order,
            json!([
                open_case("scripted", order, "high", json!([])),
                {"kind": "request-approval", "key": key("scripted", order), "title": "Approve the refund",
                 "description": "900 EUR", "approver_group": "finance", "due": null, "operation": refund(order)},
            ]),
        ),
    )
    .await;
    let entries = settled(s, &event).await;
    for e in &entries {
        assert_eq!(
            e.status,
            JournalStatus::Done,
            "{}: {:?}",
            e.key,
            e.last_error
        );
    }
    let r = entries[1].result.clone().unwrap();
    (
        r["case_id"].as_str().unwrap().to_owned(),
        r["task_id"].as_str().unwrap().to_owned(),
    )
}

async fn complete(
    emu: &EmulatorHandle,
    case_id: &str,
    task_id: &str,
    outcome: TaskOutcome,
) -> Result<(), shopcase_corecase::Error> {
    let def = shopcase_corecase_emulator::definition_id("scripted").to_string();
    analyst(emu)
        .complete_task(
            &def,
            case_id,
            task_id,
            &TaskCompletion {
                outcome,
                comment: Some("checked".into()),
            },
            None,
        )
        .await
        .map(|_| ())
}

/// The case-updated event whose payload shows the approval decided.
async fn decided_event(host: &Host, s: &Arc<dyn Storage>, case_id: &str, outcome: &str) -> Value {
    let find = || async {
        for e in case_events(host, s, case_id).await {
            let p: Value = serde_json::from_str(&e.event.payload).unwrap();
            if p["approvals"][0]["outcome"] == outcome && is_done(s, &e.event.id).await {
                return Some(p);
            }
        }
        None
    };
    eventually("a case-updated event with the decision", || async {
        find().await.is_some()
    })
    .await;
    find().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_operation_is_executed_once() {
    let emu = emulator().await;
    let host = host(&emu, 2, "");
    let recorder = Arc::new(ShopifyRecorder::default());
    let r = recorder.clone();
    let running = start(&host, move |b| b.executor(r)).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "scripted", &[]).await;
    let (case_id, task_id) = requested(&running, &s, 8008).await;

    // Held: the case waits for the approval, nothing is executed.
    let case = emu.emulator().case(&case_id).unwrap();
    assert_eq!(case["status"], "PENDING_APPROVAL");
    assert_eq!(case["tasks"][0]["kind"], "APPROVAL");
    assert_eq!(case["tasks"][0]["assigneeGroup"], "finance");
    let held = s.held_operation(&task_id).await.unwrap().unwrap();
    assert_eq!(held.status, HeldStatus::Pending);
    let pending = decided_event(&host, &s, &case_id, "pending").await;
    assert_eq!(pending["approvals"][0]["executed"], false);
    assert_eq!(pending["approvals"][0]["operation"], refund(8008));
    assert_eq!(recorder.total(), 0, "never executed without approval");

    complete(&emu, &case_id, &task_id, TaskOutcome::Approved)
        .await
        .unwrap();
    let key = release_key(&task_id);
    eventually("the released refund is executed", || async {
        recorder.count(&key) == 1
    })
    .await;
    let p = decided_event(&host, &s, &case_id, "approved").await;
    assert_eq!(p["case"]["status"], "approved");
    assert_eq!(p["tasks"][0]["outcome"], "approved");
    let entry = s.journal_entry(&key).await.unwrap().unwrap();
    assert_eq!(
        (entry.family, entry.kind.name()),
        (ActionFamily::Shopify, "refund")
    );
    eventually("the entry is done", || async {
        s.journal_entry(&key).await.unwrap().unwrap().status == JournalStatus::Done
    })
    .await;
    let held = s.held_operation(&task_id).await.unwrap().unwrap();
    assert_eq!((held.status, held.executed()), (HeldStatus::Approved, true));
    assert_eq!(held.comment.as_deref(), Some("checked"));

    // Approved twice: Core Case refuses a second completion, and a poller
    // that reads the completion again (from the beginning) changes nothing.
    let again = complete(&emu, &case_id, &task_id, TaskOutcome::Approved)
        .await
        .unwrap_err();
    assert_eq!(again.exception(), Some("TaskAlreadyCompleted"));
    running.shutdown().await.unwrap();
    let db = rusqlite::Connection::open(host.data_dir().join("shopcase.db")).unwrap();
    db.execute("UPDATE corecase_poll_marks SET mark = 0", [])
        .unwrap();
    db.execute(
        "UPDATE case_links SET last_updated_on = NULL, fingerprint = NULL",
        [],
    )
    .unwrap();
    let recorder2 = Arc::new(ShopifyRecorder::default());
    let r2 = recorder2.clone();
    let running = start(&host, move |b| b.executor(r2)).await;
    let s = running.storage().clone();
    let storage2 = s.clone();
    let corecase = CoreCase::from_config(&host.config()).unwrap().unwrap();
    let report = corecase.poller(storage2).poll_once(None).await;
    assert_eq!(report.decisions, 0, "{report:?}");
    assert_eq!(
        s.decide_held_operation(HeldDecision {
            task_id: task_id.clone(),
            approved: true,
            decided_by: None,
            comment: None,
            now: Timestamp::now(),
        })
        .await
        .unwrap(),
        DecisionOutcome::AlreadyDecided {
            status: HeldStatus::Approved
        }
    );
    // Nothing is left for the restarted executors to run (again): the one
    // Shopify entry is done, none is pending or in flight.
    let stats = s.journal_stats().await.unwrap();
    assert_eq!(stats.count(ActionFamily::Shopify, JournalStatus::Done), 1);
    assert_eq!(
        stats.count(ActionFamily::Shopify, JournalStatus::Pending)
            + stats.count(ActionFamily::Shopify, JournalStatus::InFlight),
        0
    );
    assert_eq!(recorder2.total(), 0, "nothing ran again");
    assert_eq!(recorder.count(&key), 1);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_operation_is_recorded_and_never_executed() {
    let emu = emulator().await;
    let host = host(&emu, 2, "");
    let recorder = Arc::new(ShopifyRecorder::default());
    let r = recorder.clone();
    let running = start(&host, move |b| b.executor(r)).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "scripted", &[]).await;
    let (case_id, task_id) = requested(&running, &s, 9009).await;
    complete(&emu, &case_id, &task_id, TaskOutcome::Rejected)
        .await
        .unwrap();
    let p = decided_event(&host, &s, &case_id, "rejected").await;
    assert_eq!(p["case"]["status"], "rejected");
    assert_eq!(p["approvals"][0]["executed"], false);
    let held = s.held_operation(&task_id).await.unwrap().unwrap();
    assert_eq!(
        (held.status, held.release_key),
        (HeldStatus::Rejected, None)
    );
    assert!(
        s.journal_entry(&release_key(&task_id))
            .await
            .unwrap()
            .is_none()
    );
    // Nothing of the store's Shopify family is left to run.
    let stats = s.journal_stats().await.unwrap();
    assert_eq!(
        stats.count(ActionFamily::Shopify, JournalStatus::Pending)
            + stats.count(ActionFamily::Shopify, JournalStatus::InFlight),
        0
    );
    assert_eq!(recorder.total(), 0);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_for_a_closed_case_is_dead_lettered_with_core_cases_reason() {
    let emu = emulator().await;
    let host = host(&emu, 2, "");
    let running = start(&host, |b| b).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "scripted", &[]).await;
    let k = key("scripted", 9010);
    let event = send(
        &running,
        &scripted_order(
            "w-1",
            9010,
            json!([
                open_case("scripted", 9010, "high", json!([])),
                {"kind": "update-case", "key": k, "status": "cancelled", "reason": "duplicate", "resolution": null,
                 "priority": null, "owner": null, "owner_group": null, "due": null, "escalation_level": null,
                 "attributes": []},
                {"kind": "request-approval", "key": k, "title": "Approve", "description": "",
                 "approver_group": "finance", "due": null, "operation": refund(9010)},
            ]),
        ),
    )
    .await;
    let entries = settled(&s, &event).await;
    assert_eq!(entries[1].status, JournalStatus::Done);
    assert_eq!(entries[2].status, JournalStatus::Dead);
    let err = entries[2].last_error.clone().unwrap();
    assert_eq!(err.kind, "corecase-conflict");
    assert!(err.message.contains("CaseNotOpen"), "{}", err.message);
    running.shutdown().await.unwrap();
}
