//! Case actions executed against the emulator: cases with their documents
//! as real attachments, links, a later event updating the linked case,
//! status changes, tasks and comments, adoption of an existing case, and
//! dead letters with Core Case's reason.

use serde_json::json;
use shopcase_contract::action::Priority;
use shopcase_contract::{CaseKey, Subject};
use shopcase_corecase::client::dto::NewCase;
use shopcase_store::*;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_case_creates_the_case_with_its_documents_and_links_it() {
    let emu = emulator().await;
    let host = host(&emu, 2, "");
    let running = start(&host, |b| b).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "scripted", &[]).await;

    let dossier = "# Order dossier #1001\n\nThree orders in a day.";
    let event = send(
        &running,
        &scripted_order(
            "w-1",
            1001,
            json!([open_case(
                "scripted",
                1001,
                "high",
                json!([document("order-1001-dossier.md", dossier)])
            )]),
        ),
    )
    .await;
    let entries = settled(&s, &event).await;
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(e.status, JournalStatus::Done, "{:?}", e.last_error);
    let result = e.result.clone().unwrap();
    assert_eq!(result["created"], true);
    let case_id = result["case_id"].as_str().unwrap().to_owned();

    // One case in Core Case, keyed by the external reference, with the
    // host's facts and the document as a real attachment.
    let cases = cases_of(&emu, 1001);
    assert_eq!(cases.len(), 1);
    let case = emu.emulator().case(&case_id).unwrap();
    let d = &case["caseProperties"]["defaultAttributes"];
    assert_eq!(
        d["externalReference"],
        format!("{SHOP_A}:order:1001:scripted")
    );
    assert_eq!(
        (d["priority"].as_str(), d["assigneeGroup"].as_str()),
        (Some("HIGH"), Some("ops"))
    );
    let custom = &case["caseProperties"]["customAttributes"];
    assert_eq!(custom["orderId"], "1001");
    assert_eq!(custom["customerId"], "7001");
    assert_eq!(custom["shopDomain"], SHOP_A);
    assert_eq!(custom["source"], "test");
    let attachments = case["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1);
    assert_eq!(attachments[0]["name"], "order-1001-dossier.md");
    let bytes = analyst(&emu)
        .attachment_content(
            case["caseType"]["id"].as_str().unwrap(),
            &case_id,
            attachments[0]["id"].as_str().unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(&bytes[..], dossier.as_bytes());

    // The link: by key (what `linked-case` answers) and by case id.
    let k = CaseKey {
        case_type: "scripted".into(),
        subject: Subject::Order(1001),
    };
    let rec = s.case_record_by_key(SHOP_A, &k).await.unwrap().unwrap();
    assert_eq!(rec.link.case_id, case_id);
    assert_eq!(rec.link.plugin_id.as_deref(), Some("scripted"));
    assert_eq!(rec.resources.unwrap().customer_id, Some(7001));
    assert_eq!(
        rec.definition_id.as_deref(),
        Some(
            shopcase_corecase_emulator::definition_id("scripted")
                .to_string()
                .as_str()
        )
    );
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_event_for_the_same_order_updates_the_linked_case() {
    let emu = emulator().await;
    let host = host(&emu, 2, "");
    let running = start(&host, |b| b).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "scripted", &[]).await;

    let first = send(
        &running,
        &scripted_order(
            "w-1",
            1001,
            json!([open_case(
                "scripted",
                1001,
                "medium",
                json!([document("a.md", "first")])
            )]),
        ),
    )
    .await;
    let case_id = settled(&s, &first).await[0].result.clone().unwrap()["case_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = send(
        &running,
        &scripted_order(
            "w-2",
            1001,
            json!([
                open_case("scripted", 1001, "critical", json!([document("b.md", "second")])),
                {"kind": "comment", "key": key("scripted", 1001), "text": "seen again", "visibility": "internal"},
            ]),
        ),
    )
    .await;
    let entries = settled(&s, &second).await;
    assert!(
        entries.iter().all(|e| e.status == JournalStatus::Done),
        "{entries:?}"
    );
    let r = entries[0].result.clone().unwrap();
    assert_eq!(
        (r["created"].as_bool(), r["updated"].as_bool()),
        (Some(false), Some(true))
    );
    assert_eq!(r["case_id"], case_id.as_str());

    assert_eq!(cases_of(&emu, 1001).len(), 1, "no second case, ever");
    let case = emu.emulator().case(&case_id).unwrap();
    assert_eq!(
        case["caseProperties"]["defaultAttributes"]["priority"],
        "CRITICAL"
    );
    let names: Vec<&str> = case["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a.md", "b.md"]);
    assert_eq!(case["comments"].as_array().unwrap().len(), 1);
    let k = CaseKey {
        case_type: "scripted".into(),
        subject: Subject::Order(1001),
    };
    // The poller also writes what it last saw of the case into the link; an
    // observation read just before the update may land after it, until the
    // next poll sees the newer case.
    eventually("the link shows the new priority", || async {
        s.case_link(SHOP_A, &k).await.unwrap().unwrap().priority == Priority::Critical
    })
    .await;
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_tasks_comments_and_documents_reach_the_linked_case() {
    let emu = emulator().await;
    let host = host(&emu, 2, "");
    let running = start(&host, |b| b).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "scripted", &[]).await;
    let k = key("scripted", 2002);
    let event = send(
        &running,
        &scripted_order(
            "w-1",
            2002,
            json!([
                open_case("scripted", 2002, "low", json!([])),
                {"kind": "update-case", "key": k, "status": "in-progress", "reason": "triage", "resolution": null,
                 "priority": "high", "owner": "alice", "owner_group": null, "due": "2026-12-01T10:00:00Z",
                 "escalation_level": 2, "attributes": [{"name": "decision", "value": "hold"}]},
                {"kind": "create-task", "key": k, "title": "Call the carrier", "description": "",
                 "team": "carrier-management", "owner": null, "due": null},
                {"kind": "comment", "key": k, "text": "Customer called twice.", "visibility": "public"},
                {"kind": "attach-document", "key": k, "document": document("notes.md", "notes")},
                // Already in progress: done, not a failure.
                {"kind": "update-case", "key": k, "status": "in-progress", "reason": null, "resolution": null,
                 "priority": null, "owner": null, "owner_group": null, "due": null, "escalation_level": null,
                 "attributes": []},
            ]),
        ),
    )
    .await;
    let entries = settled(&s, &event).await;
    for e in &entries {
        assert_eq!(
            e.status,
            JournalStatus::Done,
            "{}: {:?}",
            e.key,
            e.last_error
        );
    }
    assert_eq!(
        entries[5].result.clone().unwrap()["status"]["changed"],
        false
    );
    let case_id = entries[0].result.clone().unwrap()["case_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let case = emu.emulator().case(&case_id).unwrap();
    let d = &case["caseProperties"]["defaultAttributes"];
    assert_eq!(case["status"], "IN_PROGRESS");
    assert_eq!(
        (
            d["priority"].as_str(),
            d["assignee"].as_str(),
            d["escalationLevel"].as_u64()
        ),
        (Some("HIGH"), Some("alice"), Some(2))
    );
    assert_eq!(d["dueDate"], "2026-12-01T10:00:00.000+0000");
    assert_eq!(
        case["caseProperties"]["customAttributes"]["decision"],
        "hold"
    );
    let tasks = case["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(
        (
            tasks[0]["kind"].as_str(),
            tasks[0]["assigneeGroup"].as_str()
        ),
        (Some("TASK"), Some("carrier-management"))
    );
    assert_eq!(case["comments"][0]["visibility"], "PUBLIC");
    assert_eq!(case["attachments"][0]["name"], "notes.md");
    let k = CaseKey {
        case_type: "scripted".into(),
        subject: Subject::Order(2002),
    };
    let link = s.case_link(SHOP_A, &k).await.unwrap().unwrap();
    assert_eq!(
        (link.status, link.escalation_level),
        (shopcase_contract::action::CaseStatus::InProgress, 2)
    );
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_cannot_succeed_is_dead_lettered_with_the_reason() {
    let emu = emulator().await;
    let host = host(&emu, 2, "");
    let running = start(&host, |b| b).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "scripted", &[]).await;
    let event = send(
        &running,
        &scripted_order(
            "w-1",
            3003,
            json!([
                // No case is linked and none was opened before it.
                {"kind": "comment", "key": key("scripted", 3003), "text": "lost", "visibility": "internal"},
                open_case("scripted", 3003, "low", json!([])),
                // NEW → RESOLVED is not a legal transition.
                {"kind": "update-case", "key": key("scripted", 3003), "status": "resolved", "reason": null,
                 "resolution": {"code": "done", "notes": ""}, "priority": null, "owner": null, "owner_group": null,
                 "due": null, "escalation_level": null, "attributes": []},
                // A case type the tenant does not know.
                open_case("complaint", 3003, "low", json!([])),
            ]),
        ),
    )
    .await;
    let entries = settled(&s, &event).await;
    let by_index = |i: usize| entries.iter().find(|e| e.index == i as u32).unwrap();
    let no_link = by_index(0);
    assert_eq!(no_link.status, JournalStatus::Dead);
    let err = no_link.last_error.clone().unwrap();
    assert_eq!(err.kind, "no-linked-case");
    assert!(
        err.message.contains("scripted:order:3003"),
        "{}",
        err.message
    );
    assert_eq!(by_index(1).status, JournalStatus::Done);
    let illegal = by_index(2);
    assert_eq!(illegal.status, JournalStatus::Dead);
    let err = illegal.last_error.clone().unwrap();
    assert_eq!(err.kind, "corecase-conflict", "{}", err.message);
    assert!(
        err.message.contains("NEW") && err.message.contains("RESOLVED"),
        "{}",
        err.message
    );
    assert_eq!(
        by_index(3).status,
        JournalStatus::Done,
        "complaint is a known definition"
    );
    let letters = s.dead_letters(Some(SHOP_A), true, 10).await.unwrap();
    assert_eq!(
        letters
            .iter()
            .filter(|d| d.what == DeadLetterKind::Action)
            .count(),
        2
    );
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmapped_case_type_is_dead_lettered_and_explicit_mappings_are_used() {
    let emu = emulator().await;
    let scripted = shopcase_corecase_emulator::definition_id("scripted");
    let host = host(
        &emu,
        2,
        &format!("discover-case-types = false\n[corecase.case-types]\nscripted = \"{scripted}\"\n"),
    );
    let running = start(&host, |b| b).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "scripted", &[]).await;
    let event = send(
        &running,
        &scripted_order(
            "w-1",
            4004,
            json!([
                open_case("scripted", 4004, "low", json!([])),
                open_case("complaint", 4004, "low", json!([]))
            ]),
        ),
    )
    .await;
    let entries = settled(&s, &event).await;
    assert_eq!(entries[0].status, JournalStatus::Done);
    assert_eq!(entries[1].status, JournalStatus::Dead);
    let err = entries[1].last_error.clone().unwrap();
    assert_eq!(err.kind, "unmapped-case-type");
    assert!(
        err.message.contains("`complaint`") && err.message.contains("[corecase.case-types]"),
        "{}",
        err.message
    );
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_that_exists_already_is_adopted_not_duplicated() {
    let emu = emulator().await;
    // Opened earlier with the same external reference (an idempotency
    // record long expired, or a host restored from an old backup).
    let def = shopcase_corecase_emulator::definition_id("scripted").to_string();
    let existing = analyst(&emu)
        .create_case(
            &def,
            &NewCase::new(
                &def,
                "opened before",
                Priority::Low,
                format!("{SHOP_A}:order:5005:scripted"),
            ),
            "someone-else-1",
        )
        .await
        .unwrap()
        .case;
    let host = host(&emu, 2, "");
    let running = start(&host, |b| b).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "scripted", &[]).await;
    let event = send(
        &running,
        &scripted_order(
            "w-1",
            5005,
            json!([open_case("scripted", 5005, "high", json!([]))]),
        ),
    )
    .await;
    let entries = settled(&s, &event).await;
    let r = entries[0].result.clone().unwrap();
    assert_eq!(
        (r["adopted"].as_bool(), r["case_id"].as_str()),
        (Some(true), Some(existing.id.as_str()))
    );
    assert_eq!(cases_of(&emu, 5005).len(), 1);
    let case = emu.emulator().case(&existing.id).unwrap();
    assert_eq!(
        case["caseProperties"]["defaultAttributes"]["priority"], "HIGH",
        "this event's values land"
    );
    running.shutdown().await.unwrap();
}
