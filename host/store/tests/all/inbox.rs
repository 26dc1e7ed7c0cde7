//! The inbox: durable inserts, dedupe, group commit under concurrency,
//! claims and leases, finishing attempts, and unavailability.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use shopcase_contract::action::{ShopifyOperation, TagsChange, Target};
use shopcase_contract::{Action, Resources};
use shopcase_store::*;

use super::support::*;

fn tag(order: u64, t: &str) -> Action {
    Action::Shopify(ShopifyOperation::TagsAdd(TagsChange {
        target: Target::Order(order),
        tags: vec![t.into()],
    }))
}

fn claim(worker: &str, now: Timestamp) -> Claim {
    Claim {
        worker: worker.into(),
        limit: 10,
        lease: Duration::from_secs(30),
        now,
        poison_after: 0,
    }
}

fn success(actions: Vec<Action>) -> PluginResult {
    PluginResult::Succeeded(RunSuccess {
        actions,
        kv_reads: vec![],
        kv_writes: vec![],
        budget: Some(serde_json::json!({"fuel": 1})),
    })
}

fn finish(
    event_id: &str,
    worker: &str,
    now: Timestamp,
    outcomes: Vec<(&str, PluginResult)>,
) -> EventFinish {
    EventFinish {
        event_id: event_id.into(),
        worker: worker.into(),
        now,
        quarantine_after: 3,
        read_redacted_at: None,
        outcomes: outcomes
            .into_iter()
            .map(|(p, result)| PluginOutcome {
                plugin_id: p.into(),
                plugin_version: "1.0.0".into(),
                result,
            })
            .collect(),
    }
}

#[tokio::test]
async fn inserts_are_durable_and_deduplicated() {
    let dir = Db::create().await;
    let id = {
        let s = dir.open().await;
        let ev = order_event("w-1", 5001);
        let Inserted::New { event_id } = s.insert_event(ev.clone()).await.unwrap() else {
            panic!("first insert must be new")
        };
        assert_eq!(event_id, ev.event_id());
        // Same webhook id: duplicate.
        assert_eq!(
            s.insert_event(ev.clone()).await.unwrap(),
            Inserted::Duplicate {
                event_id: event_id.clone(),
                rule: DuplicateRule::Delivery,
            }
        );
        // Another delivery of the same merchant action on the same topic
        // (same X-Shopify-Event-Id, new webhook id): duplicate of the first.
        let mut second_subscription = order_event("w-2", 5001);
        second_subscription.shopify_event_id = ev.shopify_event_id.clone();
        assert_eq!(
            s.insert_event(second_subscription).await.unwrap(),
            Inserted::Duplicate {
                event_id: event_id.clone(),
                rule: DuplicateRule::MerchantAction,
            }
        );
        // The same merchant action on another topic is its own event, and
        // recognisable by the shared Shopify event id.
        let mut other_topic = order_event("w-3", 5001);
        other_topic.topic = "orders/paid".into();
        other_topic.shopify_event_id = ev.shopify_event_id.clone();
        assert!(matches!(
            s.insert_event(other_topic).await.unwrap(),
            Inserted::New { .. }
        ));
        let same_action = s
            .search_events(EventQuery {
                shops: Some(vec![SHOP.into()]),
                shopify_event_id: ev.shopify_event_id.clone(),
                limit: 10,
                ..EventQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(
            same_action
                .iter()
                .map(|e| e.event.topic.as_str())
                .collect::<Vec<_>>(),
            ["orders/paid", "orders/create"],
            "newest first"
        );
        event_id
    };
    // Reopened: still there, exactly as stored.
    let s = dir.open().await;
    let stored = s
        .event(&id)
        .await
        .unwrap()
        .expect("event survives a reopen");
    assert_eq!(stored.status, EventStatus::Pending);
    assert_eq!(stored.event.resources.order_id, Some(5001));
    assert_eq!(stored.event.triggered_at, "2026-09-21T14:13:20Z");
    assert_eq!(stored.event.payload, order_event("w-1", 5001).payload);
}

#[tokio::test]
async fn a_storm_of_concurrent_duplicates_stores_one_event() {
    let (_d, s) = open().await;
    let s = Arc::new(s);
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.insert_event(order_event("storm", 1)).await.unwrap()
        }));
    }
    let mut new = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), Inserted::New { .. }) {
            new += 1;
        }
    }
    assert_eq!(new, 1);
    assert_eq!(s.stats(at(10)).await.unwrap().pending, 1);
}

#[tokio::test]
async fn concurrent_distinct_inserts_are_all_committed() {
    let (_d, s) = open().await;
    let s = Arc::new(s);
    let tasks: Vec<_> = (0..500)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                s.insert_event(order_event(&format!("w-{i}"), i))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for t in tasks {
        let Inserted::New { event_id } = t.await.unwrap() else {
            panic!("all distinct")
        };
        ids.insert(event_id);
    }
    assert_eq!(ids.len(), 500);
    assert_eq!(s.stats(at(10)).await.unwrap().pending, 500);
}

#[tokio::test]
async fn stale_events_are_kept_but_never_claimed() {
    let (_d, s) = open().await;
    let mut ev = order_event("old", 1);
    ev.status = EventStatus::Stale;
    let Inserted::New { event_id } = s.insert_event(ev.clone()).await.unwrap() else {
        panic!()
    };
    assert!(
        s.claim_events(claim("w", at(100)))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.event(&event_id).await.unwrap().unwrap().status,
        EventStatus::Stale
    );
    // A redelivery of a stale event is still a duplicate.
    assert!(matches!(
        s.insert_event(ev).await.unwrap(),
        Inserted::Duplicate { .. }
    ));
}

#[tokio::test]
async fn claims_are_leases_that_expire() {
    let (_d, s) = open().await;
    for i in 0..3 {
        s.insert_event(order_event(&format!("w-{i}"), i))
            .await
            .unwrap();
    }
    let got = s.claim_events(claim("a", at(10))).await.unwrap();
    assert_eq!(got.len(), 3);
    assert!(
        got.windows(2).all(|w| w[0].event.seq < w[1].event.seq),
        "oldest first"
    );
    assert!(
        got.iter()
            .all(|c| c.dispatch.is_empty() && c.event.claims == 1)
    );
    // Held by a live lease.
    assert!(s.claim_events(claim("b", at(20))).await.unwrap().is_empty());
    // Worker `a` crashed: after the lease, `b` gets them again.
    let again = s.claim_events(claim("b", at(41))).await.unwrap();
    assert_eq!(again.len(), 3);
    assert!(again.iter().all(|c| c.event.claims == 2));
    // A released event is claimable at the time given.
    let first = &again[0].event.event.id;
    assert!(s.release_event(first, "b", at(50)).await.unwrap());
    assert!(
        !s.release_event(first, "a", at(50)).await.unwrap(),
        "only the holder releases"
    );
    assert!(s.claim_events(claim("c", at(45))).await.unwrap().is_empty());
    assert_eq!(s.claim_events(claim("c", at(50))).await.unwrap().len(), 1);
    // A deferred event (waiting out an outage) is claimable at the time
    // given, and that claim is not counted.
    let second = &again[1].event.event.id;
    assert!(s.defer_event(second, "b", at(60)).await.unwrap());
    assert!(
        !s.defer_event(second, "b", at(60)).await.unwrap(),
        "only the holder defers"
    );
    assert_eq!(s.event(second).await.unwrap().unwrap().claims, 1);
    let later = s.claim_events(claim("c", at(60))).await.unwrap();
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].event.claims, 2);
}

#[tokio::test]
async fn an_unreadable_row_is_dead_lettered_instead_of_holding_its_batch() {
    let (dir, s) = open().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let e = order_event(&format!("w-{i}"), i);
        ids.push(e.event_id());
        s.insert_event(e).await.unwrap();
    }
    // Damage the middle one behind the storage's back.
    dir.behind_the_back()
        .await
        .exec(
            "UPDATE inbox SET resources = 'not json' WHERE event_id = ?1",
            &[(&ids[1]).into()],
        )
        .await;

    let got = s.claim_events(claim("a", at(10))).await.unwrap();
    assert_eq!(
        got.iter().map(|c| &c.event.event.id).collect::<Vec<_>>(),
        [&ids[0], &ids[2]],
        "the readable ones are claimed"
    );
    let letters = s.dead_letters(None, true, 10).await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].event_id, ids[1]);
    assert_eq!(letters[0].failure.kind, "unreadable-event");
    assert!(
        letters[0].failure.message.contains("inbox.resources"),
        "{}",
        letters[0].failure.message
    );
    // Never claimed again (it would fail the same way): after the leases
    // run out, only the other two come back.
    let again = s.claim_events(claim("b", at(100))).await.unwrap();
    assert_eq!(
        again.iter().map(|c| &c.event.event.id).collect::<Vec<_>>(),
        [&ids[0], &ids[2]]
    );
    assert_eq!(s.dead_letters(None, true, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_event_with_an_unreadable_dispatch_row_is_dead_lettered_too() {
    let (dir, s) = open().await;
    let mut ids = Vec::new();
    for i in 0..2 {
        let e = order_event(&format!("w-{i}"), i);
        ids.push(e.event_id());
        s.insert_event(e).await.unwrap();
    }
    // Event 0 gets a pending dispatch row (a retry), then the row is damaged.
    s.claim_events(Claim {
        limit: 1,
        ..claim("a", at(10))
    })
    .await
    .unwrap();
    let retry = PluginResult::Retry {
        failure: FailureRecord::new("plugin-error", "try again"),
        at: at(20),
    };
    s.finish_event(finish(&ids[0], "a", at(10), vec![("p", retry)]))
        .await
        .unwrap();
    dir.behind_the_back()
        .await
        .exec(
            "UPDATE dispatch SET status = 'bogus' WHERE event_id = ?1",
            &[(&ids[0]).into()],
        )
        .await;

    let got = s.claim_events(claim("b", at(30))).await.unwrap();
    assert_eq!(
        got.iter().map(|c| &c.event.event.id).collect::<Vec<_>>(),
        [&ids[1]],
        "the other event is claimed; the damaged one does not fail the batch"
    );
    let letters = s.dead_letters(None, true, 10).await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(
        (
            letters[0].event_id.as_str(),
            letters[0].failure.kind.as_str()
        ),
        (ids[0].as_str(), "unreadable-event")
    );
    assert!(
        letters[0].failure.message.contains("dispatch.status"),
        "{}",
        letters[0].failure.message
    );
}

#[tokio::test]
async fn a_worker_still_running_renews_its_leases() {
    let (_d, s) = open().await;
    for i in 0..3 {
        s.insert_event(order_event(&format!("w-{i}"), i))
            .await
            .unwrap();
    }
    let got = s.claim_events(claim("a", at(10))).await.unwrap();
    assert_eq!(got.len(), 3);
    // One finished, one given back: only the third is still held.
    s.finish_event(finish(&got[0].event.event.id, "a", at(12), vec![]))
        .await
        .unwrap();
    assert!(
        s.release_event(&got[1].event.event.id, "a", at(100))
            .await
            .unwrap()
    );
    // Renewed before its lease (until 40) runs out: held until 90.
    assert_eq!(s.renew_claims("a", at(90), at(35)).await.unwrap(), 1);
    assert!(
        s.renew_claims("b", at(90), at(35)).await.unwrap() == 0,
        "only the holder's leases"
    );
    assert!(
        s.claim_events(claim("b", at(60))).await.unwrap().is_empty(),
        "not re-claimed while renewed"
    );
    let again = s.claim_events(claim("b", at(91))).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].event.event.id, got[2].event.event.id);
    // `a` lost it: renewing now extends nothing of `b`'s.
    assert_eq!(s.renew_claims("a", at(200), at(92)).await.unwrap(), 0);
    let c = s.claim_events(claim("c", at(115))).await.unwrap();
    assert_eq!(
        c.iter().map(|e| &e.event.event.id).collect::<Vec<_>>(),
        [&got[1].event.event.id],
        "the released one is free again; `b` still holds the third"
    );
}

#[tokio::test]
async fn a_finished_run_is_journalled_once_with_deterministic_keys() {
    let (_d, s) = open().await;
    let Inserted::New { event_id } = s.insert_event(order_event("w-1", 5001)).await.unwrap() else {
        panic!()
    };
    s.claim_events(claim("a", at(10))).await.unwrap();
    let report = s
        .finish_event(finish(
            &event_id,
            "a",
            at(11),
            vec![("fraud", success(vec![tag(5001, "x"), tag(5001, "y")]))],
        ))
        .await
        .unwrap();
    assert_eq!(report.event, EventProgress::Done);
    assert_eq!(
        report.plugins,
        vec![("fraud".to_owned(), PluginFinish::Journalled { actions: 2 })]
    );
    let journal = s.journal_for_event(&event_id).await.unwrap();
    let keys: Vec<_> = journal.iter().map(|j| j.key.clone()).collect();
    assert_eq!(
        keys,
        [format!("{event_id}:fraud:0"), format!("{event_id}:fraud:1")]
    );
    assert!(
        journal
            .iter()
            .all(|j| j.family == ActionFamily::Shopify && j.status == JournalStatus::Pending)
    );
    assert_eq!(journal[1].action, tag(5001, "y"));
    assert_eq!(journal[0].resources.order_id, Some(5001));

    // A second worker that ran the same plugin (its lease had expired)
    // cannot journal it again.
    let report = s
        .finish_event(finish(
            &event_id,
            "b",
            at(12),
            vec![("fraud", success(vec![tag(5001, "x")]))],
        ))
        .await
        .unwrap();
    assert_eq!(report.plugins[0].1, PluginFinish::AlreadySettled);
    assert_eq!(report.event, EventProgress::NotOwned);
    assert_eq!(s.journal_for_event(&event_id).await.unwrap().len(), 2);
    let rows = s.dispatch_rows(&event_id).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].status, rows[0].actions), (DispatchStatus::Done, 2));
    assert_eq!(rows[0].budget, Some(serde_json::json!({"fuel": 1})));
}

#[tokio::test]
async fn failures_retry_per_plugin_then_dead_letter_and_quarantine() {
    let (_d, s) = open().await;
    s.sync_stores(vec![(SHOP.into(), "2026-07".into())], at(0))
        .await
        .unwrap();
    super::admin::install(&s, "bad", true).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let Inserted::New { event_id } = s
            .insert_event(order_event(&format!("w-{i}"), i))
            .await
            .unwrap()
        else {
            panic!()
        };
        ids.push(event_id);
    }
    let boom = FailureRecord::new("trap", "the plugin trapped");

    // Event 0: `good` succeeds, `bad` fails retryably; the event waits for `bad` only.
    s.claim_events(Claim {
        limit: 1,
        ..claim("a", at(10))
    })
    .await
    .unwrap();
    let r = s
        .finish_event(finish(
            &ids[0],
            "a",
            at(10),
            vec![
                ("good", success(vec![tag(0, "ok")])),
                (
                    "bad",
                    PluginResult::Retry {
                        failure: boom.clone(),
                        at: at(20),
                    },
                ),
            ],
        ))
        .await
        .unwrap();
    assert_eq!(
        r.event,
        EventProgress::Pending {
            next_attempt_at: at(20)
        }
    );
    assert!(
        s.claim_events(claim("a", at(15)))
            .await
            .unwrap()
            .iter()
            .all(|c| c.event.event.id != ids[0])
    );
    let again = s
        .claim_events(Claim {
            limit: 10,
            ..claim("a", at(20))
        })
        .await
        .unwrap();
    let retry = again
        .iter()
        .find(|c| c.event.event.id == ids[0])
        .expect("due again");
    let bad_row = retry
        .dispatch
        .iter()
        .find(|r| r.plugin_id == "bad")
        .unwrap();
    assert_eq!(
        (bad_row.status, bad_row.attempts),
        (DispatchStatus::Pending, 1)
    );
    assert_eq!(bad_row.last_failure.as_ref().unwrap().kind, "trap");
    assert_eq!(
        retry
            .dispatch
            .iter()
            .find(|r| r.plugin_id == "good")
            .unwrap()
            .status,
        DispatchStatus::Done
    );

    // Three dead letters in a row quarantine `bad` for the store.
    let mut quarantined = None;
    for id in &ids {
        let r = s
            .finish_event(finish(
                id,
                "a",
                at(21),
                vec![(
                    "bad",
                    PluginResult::Dead {
                        failure: boom.clone(),
                    },
                )],
            ))
            .await
            .unwrap();
        assert_eq!(
            r.event,
            EventProgress::Done,
            "good ran on event 0; the others had only bad"
        );
        if let PluginFinish::DeadLettered { quarantined: q, .. } = &r.plugins[0].1 {
            quarantined = q.clone().or(quarantined);
        }
    }
    let reason = quarantined.expect("the third failure quarantines");
    assert!(
        reason.contains("3 dead-lettered runs in a row") && reason.contains("trap"),
        "{reason}"
    );
    let inst = s.installation(SHOP, "bad").await.unwrap().unwrap();
    assert_eq!(inst.quarantine.as_ref().unwrap().reason, reason);
    assert_eq!(s.dead_letters(Some(SHOP), true, 10).await.unwrap().len(), 3);
    assert_eq!(s.stats(at(22)).await.unwrap().quarantined, 1);

    // While quarantined, new events are held for it (not lost, not run).
    let Inserted::New { event_id: held } = s.insert_event(order_event("w-held", 9)).await.unwrap()
    else {
        panic!()
    };
    s.claim_events(claim("a", at(30))).await.unwrap();
    let r = s
        .finish_event(finish(
            &held,
            "a",
            at(30),
            vec![(
                "bad",
                PluginResult::Held {
                    reason: reason.clone(),
                },
            )],
        ))
        .await
        .unwrap();
    assert_eq!(r.event, EventProgress::Done);
    // Lifting the quarantine puts the held run back.
    let audit = NewAudit {
        actor: "ops@example.com".into(),
        action: "installation.unquarantine".into(),
        shop: Some(SHOP.into()),
        plugin_id: Some("bad".into()),
        details: serde_json::json!({}),
        at: at(40),
    };
    assert!(s.unquarantine(SHOP, "bad", audit.clone()).await.unwrap());
    assert!(
        !s.unquarantine(SHOP, "bad", audit).await.unwrap(),
        "only once"
    );
    let inst = s.installation(SHOP, "bad").await.unwrap().unwrap();
    assert!(inst.quarantine.is_none());
    assert_eq!(inst.consecutive_failures, 0);
    let back = s.claim_events(claim("a", at(41))).await.unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].event.event.id, held);
    assert_eq!(back[0].dispatch[0].status, DispatchStatus::Pending);
}

#[tokio::test]
async fn a_changed_kv_read_is_a_conflict_and_journals_nothing() {
    let (_d, s) = open().await;
    let Inserted::New { event_id: e1 } = s.insert_event(order_event("w-1", 1)).await.unwrap()
    else {
        panic!()
    };
    let Inserted::New { event_id: e2 } = s.insert_event(order_event("w-2", 2)).await.unwrap()
    else {
        panic!()
    };
    s.claim_events(claim("a", at(10))).await.unwrap();
    let counter = |read: Option<u64>, value: &str| {
        PluginResult::Succeeded(RunSuccess {
            actions: vec![tag(1, value)],
            kv_reads: vec![KvRead {
                key: "counter".into(),
                version: read,
            }],
            kv_writes: vec![KvWrite {
                key: "counter".into(),
                value: Some(value.into()),
                expires_at: Some(at(3600)),
            }],
            budget: None,
        })
    };
    // Both runs read "counter" absent; the first to commit wins.
    let r1 = s
        .finish_event(finish(&e1, "a", at(11), vec![("p", counter(None, "1"))]))
        .await
        .unwrap();
    assert_eq!(r1.plugins[0].1, PluginFinish::Journalled { actions: 1 });
    let v = s
        .kv_get(SHOP, "p", "counter", at(12))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v.value, "1");
    let r2 = s
        .finish_event(finish(&e2, "a", at(12), vec![("p", counter(None, "1"))]))
        .await
        .unwrap();
    assert_eq!(r2.plugins[0].1, PluginFinish::KvConflict);
    assert_eq!(r2.conflicts().collect::<Vec<_>>(), ["p"]);
    assert_eq!(
        r2.event,
        EventProgress::Retained,
        "the worker keeps the event to run the plugin again"
    );
    assert!(
        s.claim_events(claim("b", at(12))).await.unwrap().is_empty(),
        "still claimed"
    );
    assert!(s.journal_for_event(&e2).await.unwrap().is_empty());
    let row = &s.dispatch_rows(&e2).await.unwrap()[0];
    assert_eq!((row.status, row.attempts), (DispatchStatus::Pending, 0));
    assert_eq!(row.last_failure.as_ref().unwrap().kind, "kv-conflict");
    // Run again having seen version v: commits.
    let r3 = s
        .finish_event(finish(
            &e2,
            "a",
            at(13),
            vec![("p", counter(Some(v.version), "2"))],
        ))
        .await
        .unwrap();
    assert_eq!(r3.plugins[0].1, PluginFinish::Journalled { actions: 1 });
    assert_eq!(r3.event, EventProgress::Done);
    let v2 = s
        .kv_get(SHOP, "p", "counter", at(14))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v2.value, "2");
    assert!(v2.version > v.version);
    assert_eq!(
        s.kv_stats(SHOP, "p", at(14)).await.unwrap(),
        KvStats { keys: 1, bytes: 8 }
    );
    // Expired keys are absent, and purged.
    assert_eq!(
        s.kv_get(SHOP, "p", "counter", at(3600)).await.unwrap(),
        None
    );
    assert_eq!(s.kv_purge_expired(at(3600)).await.unwrap(), 1);
}

#[tokio::test]
async fn key_value_expiry_is_judged_at_the_events_time_not_when_it_is_processed() {
    let (_d, s) = open().await;
    // Two orders 30 minutes apart; a plugin remembers the first for an hour.
    let Inserted::New { event_id: first } = s.insert_event(order_event("w-1", 1)).await.unwrap()
    else {
        panic!()
    };
    let late = NewEvent {
        triggered_at: at(1800),
        received_at: at(1801),
        ..order_event("w-2", 2)
    };
    let Inserted::New { event_id: second } = s.insert_event(late).await.unwrap() else {
        panic!()
    };
    s.claim_events(claim("a", at(10))).await.unwrap();
    let write = PluginResult::Succeeded(RunSuccess {
        actions: vec![],
        kv_reads: vec![],
        kv_writes: vec![KvWrite {
            key: "basket".into(),
            value: Some("order 1".into()),
            // triggered_at + 1 h, as the sandbox computes it.
            expires_at: Some(at(3600)),
        }],
        budget: None,
    });
    s.finish_event(finish(&first, "a", at(11), vec![("p", write)]))
        .await
        .unwrap();
    // The second order is processed five hours later (an outage): at its
    // time the entry was live, so it sees it, and its commit agrees.
    let seen = s
        .kv_get(SHOP, "p", "basket", at(1800))
        .await
        .unwrap()
        .expect("live at the second event's time");
    assert_eq!(
        s.kv_stats(SHOP, "p", at(1800)).await.unwrap().keys,
        1,
        "usage is judged at the event's time too"
    );
    let read = PluginResult::Succeeded(RunSuccess {
        actions: vec![tag(2, "duplicate")],
        kv_reads: vec![KvRead {
            key: "basket".into(),
            version: Some(seen.version),
        }],
        kv_writes: vec![],
        budget: None,
    });
    let five_hours_on = at(5 * 3600);
    s.claim_events(claim("a", five_hours_on)).await.unwrap();
    let r = s
        .finish_event(finish(&second, "a", five_hours_on, vec![("p", read)]))
        .await
        .unwrap();
    assert_eq!(r.plugins[0].1, PluginFinish::Journalled { actions: 1 });
    // An event triggered after the expiry does not see it.
    assert_eq!(s.kv_get(SHOP, "p", "basket", at(3600)).await.unwrap(), None);
    // Purging is the caller's choice of horizon: nothing before the expiry.
    assert_eq!(s.kv_purge_expired(at(3599)).await.unwrap(), 0);
    assert_eq!(s.kv_purge_expired(at(3600)).await.unwrap(), 1);
}

/// A delivery as the ingress stores it: with the digest of its body.
fn signed(webhook: &str, order: u64) -> NewEvent {
    let mut ev = order_event(webhook, order);
    ev.body_sha256 = Some(digest(&ev.payload));
    ev
}

/// Not a real SHA-256 (the storage only compares): distinct per body.
fn digest(body: &str) -> [u8; 32] {
    let mut d = [0u8; 32];
    for (i, b) in body.bytes().enumerate() {
        d[i % 32] = d[i % 32].wrapping_mul(31).wrapping_add(b);
    }
    d
}

#[tokio::test]
async fn a_replayed_body_is_a_duplicate_per_store_and_topic() {
    let (_d, s) = open().await;
    let first = signed("w-1", 5001);
    let Inserted::New { event_id } = s.insert_event(first.clone()).await.unwrap() else {
        panic!("first insert must be new")
    };
    assert_eq!(
        s.event(&event_id).await.unwrap().unwrap().body_sha256,
        first.body_sha256,
        "the digest is kept with the event"
    );
    // The same signed body under a fresh webhook id and event id (headers
    // the sender chooses): a replay, acknowledged as a duplicate.
    let replay = signed("w-replay", 5001);
    assert_ne!(replay.dedupe_key, first.dedupe_key);
    assert_ne!(replay.shopify_event_id, first.shopify_event_id);
    assert_eq!(
        s.insert_event(replay).await.unwrap(),
        Inserted::Duplicate {
            event_id: event_id.clone(),
            rule: DuplicateRule::Body,
        }
    );
    // The same body on another topic, or for another store, is its own.
    let mut other_topic = signed("w-2", 5001);
    other_topic.topic = "orders/paid".into();
    assert!(matches!(
        s.insert_event(other_topic).await.unwrap(),
        Inserted::New { .. }
    ));
    let mut other_shop = signed("w-3", 5001);
    other_shop.shop = "other.myshopify.com".into();
    assert!(matches!(
        s.insert_event(other_shop).await.unwrap(),
        Inserted::New { .. }
    ));
    // Another body on the same topic is new.
    assert!(matches!(
        s.insert_event(signed("w-4", 5002)).await.unwrap(),
        Inserted::New { .. }
    ));
    // Events without a digest (the host's own) are not compared by body.
    let mut a = order_event("timer:1:1", 9);
    let mut b = order_event("timer:2:1", 9);
    (a.shopify_event_id, b.shopify_event_id) = (None, None);
    assert!(matches!(
        s.insert_event(a).await.unwrap(),
        Inserted::New { .. }
    ));
    assert!(matches!(
        s.insert_event(b).await.unwrap(),
        Inserted::New { .. }
    ));
}

#[tokio::test]
async fn a_privacy_body_stays_a_duplicate_while_its_record_is_kept() {
    let (_d, s) = open().await;
    let body = serde_json::json!({"shop_id": 1, "shop_domain": SHOP,
        "customer": {"id": 7001}, "orders_to_redact": []})
    .to_string();
    let request = |webhook: &str| NewEvent {
        topic: "customers/redact".into(),
        payload: body.clone(),
        resources: Resources::default(),
        shopify_event_id: Some(format!("se-{webhook}")),
        body_sha256: Some(digest(&body)),
        ..order_event(webhook, 0)
    };
    let Inserted::New { event_id } = s.insert_event(request("w-1")).await.unwrap() else {
        panic!("new")
    };
    // The event goes (here with the store's other rows); the request's
    // record, written afterwards with the body's digest, stays.
    s.redact_shop(SHOP, at(5)).await.unwrap();
    assert!(s.event(&event_id).await.unwrap().is_none());
    s.record_privacy(PrivacyRecord {
        shop: SHOP.into(),
        topic: "customers/redact".into(),
        customer_id: Some(7001),
        event_id: event_id.clone(),
        file: None,
        summary: serde_json::json!({}),
        at: at(6),
        body_sha256: Some(digest(&body)),
    })
    .await
    .unwrap();
    assert_eq!(
        s.insert_event(request("w-replay")).await.unwrap(),
        Inserted::Duplicate {
            event_id,
            rule: DuplicateRule::Body,
        },
        "the record keeps the body a duplicate after its event is gone"
    );
}

#[tokio::test]
async fn a_database_from_before_body_digests_upgrades() {
    let dir = Db::create().await;
    let old_id = {
        let s = dir.open().await;
        let Inserted::New { event_id } = s.insert_event(order_event("w-old", 1)).await.unwrap()
        else {
            panic!("new")
        };
        event_id
    };
    // Back to schema version 4, as a database written before the digest.
    roll_back_schema(&dir, 4).await;
    let s = dir.open().await;
    let old = s
        .event(&old_id)
        .await
        .unwrap()
        .expect("kept across the upgrade");
    assert_eq!(old.body_sha256, None);
    let Inserted::New { event_id } = s.insert_event(signed("w-new", 2)).await.unwrap() else {
        panic!("new")
    };
    assert_eq!(
        s.insert_event(signed("w-replay", 2)).await.unwrap(),
        Inserted::Duplicate {
            event_id,
            rule: DuplicateRule::Body,
        }
    );
}
