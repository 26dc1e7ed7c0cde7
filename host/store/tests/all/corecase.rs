//! The Core Case integration's storage: case records, poll marks, held
//! operations decided exactly once, and their release into the journal.

use shopcase_contract::action::{CaseStatus, Priority, Refund, TagsChange, Target};
use shopcase_contract::{Action, CaseKey, Resources, ShopifyOperation, Subject};
use shopcase_store::*;

use super::support::*;

fn key(order: u64) -> CaseKey {
    CaseKey {
        case_type: "refund-approval".into(),
        subject: Subject::Order(order),
    }
}

fn link(order: u64, case_id: &str) -> CaseLink {
    CaseLink {
        shop: SHOP.into(),
        key: key(order),
        case_id: case_id.into(),
        case_number: "CASE-000001".into(),
        status: CaseStatus::New,
        priority: Priority::High,
        escalation_level: 0,
        opened_at: "2026-11-26T10:00:00Z".into(),
        plugin_id: Some("refunds".into()),
        last_updated_on: None,
        updated_at: at(0),
    }
}

fn resources(order: u64) -> Resources {
    Resources {
        order_id: Some(order),
        customer_id: Some(7001),
        ..Resources::default()
    }
}

fn details(order: u64, poll_from: Option<Timestamp>) -> CaseLinkDetails {
    CaseLinkDetails {
        definition_id: "def-refund".into(),
        resources: resources(order),
        poll_from,
    }
}

fn refund(order: u64) -> ShopifyOperation {
    ShopifyOperation::Refund(Refund {
        order_id: order,
        amount: "900.00".into(),
        currency: "EUR".into(),
        note: "goodwill".into(),
        notify_customer: true,
    })
}

fn held(task: &str, source: &str, order: u64) -> NewHeldOperation {
    NewHeldOperation {
        task_id: task.into(),
        source_key: source.into(),
        shop: SHOP.into(),
        plugin_id: "refunds".into(),
        event_id: "evt_1".into(),
        index: 2,
        case_id: "c-1".into(),
        key: key(order),
        operation: refund(order),
        resources: resources(order),
        now: at(5),
    }
}

#[tokio::test]
async fn case_records_keep_the_opening_resources_and_seed_the_poll_mark() {
    let (_d, s) = open().await;
    s.record_case_link(link(5001, "c-1"), details(5001, Some(at(1))))
        .await
        .unwrap();
    let r = s.case_record("c-1").await.unwrap().unwrap();
    assert_eq!(r.link, link(5001, "c-1"));
    assert_eq!(r.definition_id.as_deref(), Some("def-refund"));
    assert_eq!(r.resources, Some(resources(5001)));
    assert_eq!((r.polled_status, r.fingerprint.as_deref()), (None, None));
    assert_eq!(
        s.case_record_by_key(SHOP, &key(5001)).await.unwrap(),
        Some(r)
    );
    // The same link again (a later event for the order): the opening
    // event's resources stay, and the mark is not moved back.
    let later = Resources {
        customer_id: Some(9999),
        ..resources(5001)
    };
    s.record_case_link(
        CaseLink {
            priority: Priority::Critical,
            ..link(5001, "c-1")
        },
        CaseLinkDetails {
            resources: later,
            ..details(5001, None)
        },
    )
    .await
    .unwrap();
    let r = s.case_record("c-1").await.unwrap().unwrap();
    assert_eq!(r.link.priority, Priority::Critical);
    assert_eq!(r.resources, Some(resources(5001)));
    let marks = s.poll_marks().await.unwrap();
    assert_eq!(marks.len(), 1);
    assert_eq!(
        (marks[0].definition_id.as_str(), marks[0].mark),
        ("def-refund", at(1))
    );
    // The poller moves marks forward only.
    s.advance_poll_mark("def-refund", at(10), at(11))
        .await
        .unwrap();
    s.advance_poll_mark("def-refund", at(3), at(12))
        .await
        .unwrap();
    assert_eq!(s.poll_marks().await.unwrap()[0].mark, at(10));
    // A case opened before the mark, linked late (a crash between the
    // create call and the link): the mark goes back to it.
    s.record_case_link(link(5003, "c-3"), details(5003, Some(at(7))))
        .await
        .unwrap();
    assert_eq!(s.poll_marks().await.unwrap()[0].mark, at(7));
    s.record_case_link(link(5004, "c-4"), details(5004, Some(at(9))))
        .await
        .unwrap();
    assert_eq!(s.poll_marks().await.unwrap()[0].mark, at(7));
    // Plain links (written before the integration) read with no details.
    s.put_case_link(link(5002, "c-2")).await.unwrap();
    let plain = s.case_record("c-2").await.unwrap().unwrap();
    assert_eq!((plain.definition_id, plain.resources), (None, None));
}

#[tokio::test]
async fn an_observation_updates_the_link_and_inserts_its_event_once() {
    let (_d, s) = open().await;
    s.record_case_link(link(5001, "c-1"), details(5001, Some(at(1))))
        .await
        .unwrap();
    let mut event = order_event("corecase:c-1:2026-11-26T10:00:01.000+0000", 5001);
    event.topic = "corecase/case-updated".into();
    event.source = EventSource::CoreCase;
    event.shopify_event_id = None;
    let observation = CaseObservation {
        case_id: "c-1".into(),
        status: CaseStatus::PendingApproval,
        priority: Priority::Critical,
        escalation_level: 2,
        last_updated_on: "2026-11-26T10:00:01.000+0000".into(),
        fingerprint: "fp-1".into(),
        event: Some(event.clone()),
        now: at(6),
    };
    let first = s
        .record_case_observation(observation.clone())
        .await
        .unwrap();
    let Observed::Recorded { event: Some(id) } = first else {
        panic!("{first:?}");
    };
    assert_eq!(id, event.event_id());
    let r = s.case_record("c-1").await.unwrap().unwrap();
    assert_eq!(
        (
            r.link.status,
            r.link.priority,
            r.link.escalation_level,
            r.polled_status
        ),
        (
            CaseStatus::PendingApproval,
            Priority::Critical,
            2,
            Some(CaseStatus::PendingApproval)
        )
    );
    assert_eq!(
        r.link.last_updated_on.as_deref(),
        Some("2026-11-26T10:00:01.000+0000")
    );
    assert_eq!(r.fingerprint.as_deref(), Some("fp-1"));
    // Seen again (the poller's overlap): no second event.
    assert_eq!(
        s.record_case_observation(observation.clone())
            .await
            .unwrap(),
        Observed::Recorded { event: None }
    );
    // A later state recorded as seen without an event (the erasure of a
    // privacy request records its own change so), then observed by a
    // poller pass that read the link before: no event either.
    let scrubbed = CaseObservation {
        last_updated_on: "2026-11-26T10:00:02.000+0000".into(),
        event: None,
        ..observation.clone()
    };
    assert_eq!(
        s.record_case_observation(scrubbed.clone()).await.unwrap(),
        Observed::Recorded { event: None }
    );
    let mut late = order_event("corecase:c-1:2026-11-26T10:00:02.000+0000", 5001);
    late.topic = "corecase/case-updated".into();
    late.source = EventSource::CoreCase;
    late.shopify_event_id = None;
    assert_eq!(
        s.record_case_observation(CaseObservation {
            event: Some(late.clone()),
            fingerprint: "fp-2".into(),
            ..scrubbed
        })
        .await
        .unwrap(),
        Observed::Recorded { event: None }
    );
    assert!(s.event(&late.event_id()).await.unwrap().is_none());
    // A case nobody linked: nothing is written.
    let stranger = CaseObservation {
        case_id: "c-unknown".into(),
        event: Some(order_event("corecase:c-unknown:x", 1)),
        ..observation
    };
    assert_eq!(
        s.record_case_observation(stranger).await.unwrap(),
        Observed::NoLink
    );
    assert!(
        s.event(&order_event("corecase:c-unknown:x", 1).event_id())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn held_operations_are_recorded_once_per_request() {
    let (_d, s) = open().await;
    let h = s
        .hold_operation(held("t-1", "evt_1:refunds:2", 5001))
        .await
        .unwrap();
    assert_eq!(
        (h.status, h.executed(), h.release_key.clone()),
        (HeldStatus::Pending, false, None)
    );
    assert_eq!(h.operation, refund(5001));
    // The executor ran again after a crash: same task, same request.
    let again = s
        .hold_operation(held("t-1", "evt_1:refunds:2", 5001))
        .await
        .unwrap();
    assert_eq!(again, h);
    // A second task for the same request (the idempotency record expired):
    // the first hold stands.
    let other = s
        .hold_operation(held("t-2", "evt_1:refunds:2", 5001))
        .await
        .unwrap();
    assert_eq!(other.task_id, "t-1");
    assert_eq!(s.held_operations("c-1").await.unwrap().len(), 1);
    assert_eq!(
        s.held_operation_for_request("evt_1:refunds:2")
            .await
            .unwrap()
            .map(|h| h.task_id),
        Some("t-1".into())
    );
    assert!(s.held_operation("t-2").await.unwrap().is_none());
}

fn decision(task: &str, approved: bool) -> HeldDecision {
    HeldDecision {
        task_id: task.into(),
        approved,
        decided_by: Some("approver@example.com".into()),
        comment: Some("ok".into()),
        now: at(9),
    }
}

#[tokio::test]
async fn an_approval_releases_the_operation_into_the_journal_exactly_once() {
    let (_d, s) = open().await;
    s.hold_operation(held("t-1", "evt_1:refunds:2", 5001))
        .await
        .unwrap();
    let out = s
        .decide_held_operation(decision("t-1", true))
        .await
        .unwrap();
    assert_eq!(
        out,
        DecisionOutcome::Released {
            journal_key: release_key("t-1")
        }
    );
    assert_eq!(release_key("t-1"), "approval:t-1");
    let entry = s.journal_entry("approval:t-1").await.unwrap().unwrap();
    assert_eq!(
        (entry.family, entry.kind, entry.status, entry.shop.as_str()),
        (
            ActionFamily::Shopify,
            shopcase_contract::ActionKind::Refund,
            JournalStatus::Pending,
            SHOP
        )
    );
    assert_eq!(entry.action, Action::Shopify(refund(5001)));
    assert_eq!(entry.resources, resources(5001));
    assert_eq!((entry.plugin_id.as_str(), entry.index), ("refunds", 2));

    // Seen twice, or completed "again": nothing changes.
    for approved in [true, false] {
        assert_eq!(
            s.decide_held_operation(decision("t-1", approved))
                .await
                .unwrap(),
            DecisionOutcome::AlreadyDecided {
                status: HeldStatus::Approved
            }
        );
    }
    let stats = s.journal_stats().await.unwrap();
    assert_eq!(
        stats.count(ActionFamily::Shopify, JournalStatus::Pending),
        1
    );

    // The Shopify executor claims and executes it: the hold says so.
    let claimed = s
        .claim_journal(JournalClaim {
            family: ActionFamily::Shopify,
            worker: "w".into(),
            limit: 10,
            lease: std::time::Duration::from_secs(30),
            now: Timestamp::now(),
            poison_after: 0,
        })
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(
        s.settle_journal(JournalSettle {
            key: "approval:t-1".into(),
            worker: "w".into(),
            now: Timestamp::now(),
            outcome: JournalOutcome::Done {
                result: serde_json::json!({"refund": "gid://shopify/Refund/1"})
            },
        })
        .await
        .unwrap()
    );
    let h = s.held_operation("t-1").await.unwrap().unwrap();
    assert_eq!(
        (
            h.status,
            h.executed(),
            h.decided_by.as_deref(),
            h.comment.as_deref()
        ),
        (
            HeldStatus::Approved,
            true,
            Some("approver@example.com"),
            Some("ok")
        )
    );
    assert_eq!(
        s.decide_held_operation(decision("t-unknown", true))
            .await
            .unwrap(),
        DecisionOutcome::Unknown
    );
}

#[tokio::test]
async fn a_rejection_is_recorded_and_never_executed() {
    let (_d, s) = open().await;
    let mut h = held("t-1", "evt_1:refunds:2", 5001);
    h.operation = ShopifyOperation::TagsAdd(TagsChange {
        target: Target::Order(5001),
        tags: vec!["goodwill".into()],
    });
    s.hold_operation(h).await.unwrap();
    assert_eq!(
        s.decide_held_operation(decision("t-1", false))
            .await
            .unwrap(),
        DecisionOutcome::Declined
    );
    assert_eq!(
        s.decide_held_operation(decision("t-1", true))
            .await
            .unwrap(),
        DecisionOutcome::AlreadyDecided {
            status: HeldStatus::Rejected
        }
    );
    assert!(s.journal_entry("approval:t-1").await.unwrap().is_none());
    let h = s.held_operation("t-1").await.unwrap().unwrap();
    assert_eq!(
        (h.status, h.executed(), h.release_key),
        (HeldStatus::Rejected, false, None)
    );
}

#[tokio::test]
async fn a_shop_redaction_deletes_its_held_operations() {
    let (_d, s) = open().await;
    s.hold_operation(held("t-1", "evt_1:refunds:2", 5001))
        .await
        .unwrap();
    let report = s.redact_shop(SHOP, at(20)).await.unwrap();
    assert_eq!(report.deleted.get("held_operations"), Some(&1));
    assert!(s.held_operation("t-1").await.unwrap().is_none());
}
