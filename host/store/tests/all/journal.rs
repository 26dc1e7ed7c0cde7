//! The action journal: claims by family, ordering, leases, settlement.

use std::time::Duration;

use shopcase_contract::action::{
    Comment, FollowUp, OpenCase, Priority, ShopifyOperation, TagsChange, Target, Visibility,
};
use shopcase_contract::{Action, CaseKey, Subject};
use shopcase_store::*;

use super::support::*;

fn key() -> CaseKey {
    CaseKey {
        case_type: "fraud".into(),
        subject: Subject::Order(1),
    }
}

fn actions() -> Vec<Action> {
    vec![
        Action::OpenCase(OpenCase {
            key: key(),
            title: "t".into(),
            summary: String::new(),
            priority: Priority::High,
            owner: None,
            owner_group: None,
            due: None,
            attributes: vec![],
            documents: vec![],
        }),
        Action::Shopify(ShopifyOperation::TagsAdd(TagsChange {
            target: Target::Order(1),
            tags: vec!["x".into()],
        })),
        Action::Comment(Comment {
            key: key(),
            text: "c".into(),
            visibility: Visibility::Internal,
        }),
        Action::FollowUp(FollowUp {
            name: "sla".into(),
            due: "2026-11-27T00:00:00Z".into(),
            data: "{}".into(),
        }),
    ]
}

/// Journal `actions()` for one event; returns the event id.
async fn journalled(s: &Store) -> String {
    let ev = order_event("w-1", 1);
    let id = ev.event_id();
    s.insert_event(ev).await.unwrap();
    s.claim_events(Claim {
        worker: "d".into(),
        limit: 1,
        lease: Duration::from_secs(30),
        now: at(1),
        poison_after: 0,
    })
    .await
    .unwrap();
    s.finish_event(EventFinish {
        event_id: id.clone(),
        worker: "d".into(),
        now: at(1),
        quarantine_after: 0,
        read_redacted_at: None,
        outcomes: vec![PluginOutcome {
            plugin_id: "p".into(),
            plugin_version: "1.0.0".into(),
            result: PluginResult::Succeeded(RunSuccess {
                actions: actions(),
                kv_reads: vec![],
                kv_writes: vec![],
                budget: None,
            }),
        }],
    })
    .await
    .unwrap();
    id
}

fn claim(family: ActionFamily, worker: &str, now: Timestamp) -> JournalClaim {
    JournalClaim {
        family,
        worker: worker.into(),
        limit: 10,
        lease: Duration::from_secs(30),
        now,
        poison_after: 0,
    }
}

fn settle(key: &str, worker: &str, now: Timestamp, outcome: JournalOutcome) -> JournalSettle {
    JournalSettle {
        key: key.into(),
        worker: worker.into(),
        now,
        outcome,
    }
}

#[tokio::test]
async fn entries_are_claimed_by_family_and_in_order_within_a_case() {
    let (_d, s) = open().await;
    let id = journalled(&s).await;
    let stats = s.journal_stats().await.unwrap();
    assert_eq!(stats.count(ActionFamily::Case, JournalStatus::Pending), 2);
    assert_eq!(
        stats.count(ActionFamily::Shopify, JournalStatus::Pending),
        1
    );

    let shopify = s
        .claim_journal(claim(ActionFamily::Shopify, "x", at(2)))
        .await
        .unwrap();
    assert_eq!(shopify.len(), 1);
    assert_eq!(shopify[0].key, format!("{id}:p:1"));
    assert_eq!(shopify[0].status, JournalStatus::InFlight);

    // Only the open-case: the comment waits for it.
    let case = s
        .claim_journal(claim(ActionFamily::Case, "x", at(2)))
        .await
        .unwrap();
    assert_eq!(case.iter().map(|e| e.index).collect::<Vec<_>>(), [0]);
    assert!(
        s.claim_journal(claim(ActionFamily::Case, "y", at(3)))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.settle_journal(settle(
            &case[0].key,
            "x",
            at(3),
            JournalOutcome::Done {
                result: serde_json::json!({"case_id": "c-1"})
            }
        ))
        .await
        .unwrap()
    );
    let next = s
        .claim_journal(claim(ActionFamily::Case, "y", at(4)))
        .await
        .unwrap();
    assert_eq!(next.iter().map(|e| e.index).collect::<Vec<_>>(), [2]);
    let done = s.journal_entry(&case[0].key).await.unwrap().unwrap();
    assert_eq!(
        (done.status, done.result.clone()),
        (
            JournalStatus::Done,
            Some(serde_json::json!({"case_id": "c-1"}))
        )
    );
}

#[tokio::test]
async fn settlement_needs_the_claim_and_failures_retry_then_dead_letter() {
    let (_d, s) = open().await;
    journalled(&s).await;
    let e = s
        .claim_journal(claim(ActionFamily::Shopify, "x", at(2)))
        .await
        .unwrap()
        .remove(0);
    // A stranger cannot settle it.
    assert!(
        !s.settle_journal(settle(
            &e.key,
            "y",
            at(3),
            JournalOutcome::Done {
                result: serde_json::Value::Null
            }
        ))
        .await
        .unwrap()
    );
    // Transient: back to pending until `at`.
    let error = FailureRecord::new("throttled", "429");
    assert!(
        s.settle_journal(settle(
            &e.key,
            "x",
            at(3),
            JournalOutcome::Retry {
                error: error.clone(),
                at: at(10)
            }
        ))
        .await
        .unwrap()
    );
    assert!(
        s.claim_journal(claim(ActionFamily::Shopify, "x", at(9)))
            .await
            .unwrap()
            .is_empty()
    );
    let e = s
        .claim_journal(claim(ActionFamily::Shopify, "x", at(10)))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(e.attempts, 1);
    assert_eq!(e.last_error, Some(error));
    // A crashed executor's claim expires and is claimed again.
    let e = s
        .claim_journal(claim(ActionFamily::Shopify, "z", at(41)))
        .await
        .unwrap()
        .remove(0);
    assert!(
        !s.settle_journal(settle(
            &e.key,
            "x",
            at(42),
            JournalOutcome::Done {
                result: serde_json::Value::Null
            }
        ))
        .await
        .unwrap(),
        "the old holder lost the claim"
    );
    let dead = FailureRecord::new("user-error", "Order not found");
    assert!(
        s.settle_journal(settle(
            &e.key,
            "z",
            at(42),
            JournalOutcome::Dead { error: dead }
        ))
        .await
        .unwrap()
    );
    let entry = s.journal_entry(&e.key).await.unwrap().unwrap();
    assert_eq!((entry.status, entry.attempts), (JournalStatus::Dead, 2));
    let letters = s.dead_letters(None, true, 10).await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].what, DeadLetterKind::Action);
    assert_eq!(letters[0].idempotency_key.as_deref(), Some(e.key.as_str()));
    // Retrying the dead letter makes the entry executable again.
    s.retry_dead_letter(letters[0].id, "ops", at(50))
        .await
        .unwrap();
    let again = s
        .claim_journal(claim(ActionFamily::Shopify, "z", at(50)))
        .await
        .unwrap();
    assert_eq!((again.len(), again[0].attempts), (1, 0));
}

#[tokio::test]
async fn an_unreadable_entry_is_dead_lettered_instead_of_stopping_its_family() {
    let (dir, s) = open().await;
    let id = journalled(&s).await;
    // Damage the open-case entry behind the storage's back.
    dir.behind_the_back()
        .await
        .exec(
            "UPDATE journal SET action = '{\"kind\": \"no-such-kind\"}' WHERE idempotency_key = ?1",
            &[format!("{id}:p:0").into()],
        )
        .await;

    // The case family's claim goes on: the damaged entry is set aside, and
    // the comment behind it is free to run.
    let case = s
        .claim_journal(claim(ActionFamily::Case, "x", at(2)))
        .await
        .unwrap();
    assert!(case.is_empty(), "nothing claimable in this pass: {case:?}");
    let letters = s.dead_letters(None, true, 10).await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].failure.kind, "unreadable-entry");
    assert_eq!(
        letters[0].idempotency_key.as_deref(),
        Some(format!("{id}:p:0").as_str())
    );
    let next = s
        .claim_journal(claim(ActionFamily::Case, "x", at(3)))
        .await
        .unwrap();
    assert_eq!(next.iter().map(|e| e.index).collect::<Vec<_>>(), [2]);
    // Other families never noticed.
    assert_eq!(
        s.claim_journal(claim(ActionFamily::Shopify, "x", at(3)))
            .await
            .unwrap()
            .len(),
        1
    );
}
