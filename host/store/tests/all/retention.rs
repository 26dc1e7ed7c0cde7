//! Retention: `prune` deletes finished work older than the cutoff, with its
//! dispatch rows, journal entries and resolved dead letters, and fired
//! timers; it keeps everything still open, in bounded batches.

use std::time::Duration;

use shopcase_contract::action::{
    CaseStatus, Comment, FollowUp, Priority, TagsChange, Target, Visibility,
};
use shopcase_contract::{Action, CaseKey, Resources, ShopifyOperation, Subject};
use shopcase_store::*;

use super::support::*;

/// Work finished (and received) before this goes.
fn cutoff() -> Timestamp {
    at(1000)
}

fn case_key(order: u64) -> CaseKey {
    CaseKey {
        case_type: "fraud".into(),
        subject: Subject::Order(order),
    }
}

fn tags(order: u64) -> Action {
    Action::Shopify(ShopifyOperation::TagsAdd(TagsChange {
        target: Target::Order(order),
        tags: vec!["checked".into()],
    }))
}

/// A case-family action: no case executor runs here, so it stays pending.
fn comment(order: u64) -> Action {
    Action::Comment(Comment {
        key: case_key(order),
        text: "c".into(),
        visibility: Visibility::Internal,
    })
}

fn follow_up() -> Action {
    Action::FollowUp(FollowUp {
        name: "sla".into(),
        due: "2026-11-27T00:00:00Z".into(),
        data: "{}".into(),
    })
}

fn ran(actions: Vec<Action>) -> PluginResult {
    PluginResult::Succeeded(RunSuccess {
        actions,
        kv_reads: vec![],
        kv_writes: vec![],
        budget: None,
    })
}

/// Put an `orders/create` delivery in the inbox, triggered and received at
/// `when`; returns its id.
async fn receive(
    s: &Store,
    webhook: &str,
    order: u64,
    when: Timestamp,
    status: EventStatus,
) -> String {
    let mut ev = order_event(webhook, order);
    ev.triggered_at = when;
    ev.received_at = when;
    ev.status = status;
    let id = ev.event_id();
    assert!(matches!(
        s.insert_event(ev).await.unwrap(),
        Inserted::New { .. }
    ));
    id
}

/// Claim the event (it must be the oldest due) and finish plugin `p`'s run
/// with `result` at `now`.
async fn dispatch(s: &Store, id: &str, now: Timestamp, result: PluginResult) {
    let claimed = s
        .claim_events(Claim {
            worker: "d".into(),
            limit: 1,
            lease: Duration::from_secs(30),
            now,
            poison_after: 0,
        })
        .await
        .unwrap();
    assert_eq!(claimed[0].event.event.id, id);
    s.finish_event(EventFinish {
        event_id: id.into(),
        worker: "d".into(),
        now,
        quarantine_after: 0,
        read_redacted_at: None,
        outcomes: vec![PluginOutcome {
            plugin_id: "p".into(),
            plugin_version: "1.0.0".into(),
            result,
        }],
    })
    .await
    .unwrap();
}

/// Claim every executable entry of `family` (repeatedly: a plugin's entries
/// run in order) and settle each with `outcome`; returns their keys.
async fn execute(
    s: &Store,
    family: ActionFamily,
    now: Timestamp,
    outcome: impl Fn() -> JournalOutcome,
) -> Vec<String> {
    let mut keys = Vec::new();
    loop {
        let claimed = s
            .claim_journal(JournalClaim {
                family,
                worker: "x".into(),
                limit: 10,
                lease: Duration::from_secs(30),
                now,
                poison_after: 0,
            })
            .await
            .unwrap();
        if claimed.is_empty() {
            return keys;
        }
        for e in claimed {
            assert!(
                s.settle_journal(JournalSettle {
                    key: e.key.clone(),
                    worker: "x".into(),
                    now,
                    outcome: outcome(),
                })
                .await
                .unwrap()
            );
            keys.push(e.key);
        }
    }
}

fn done() -> JournalOutcome {
    JournalOutcome::Done {
        result: serde_json::json!({"ok": true}),
    }
}

/// Batches until nothing is left, as the host's retention loop runs them.
async fn prune_all(s: &Store, before: Timestamp, limit: usize) -> (PruneReport, usize) {
    let mut total = PruneReport::default();
    let mut after = 0;
    for batches in 1..1000 {
        let r = s
            .prune(Prune {
                before,
                after,
                limit,
            })
            .await
            .unwrap();
        assert!(r.events <= limit as u64, "a batch is bounded: {r:?}");
        assert!(r.timers <= limit as u64, "a batch is bounded: {r:?}");
        total.absorb(&r);
        if r.finished() {
            return (total, batches);
        }
        after = r.resume.unwrap_or(i64::MAX);
    }
    panic!("prune never finished");
}

/// Deleted: nothing of the event is left.
async fn gone(s: &Store, id: &str) -> bool {
    s.event(id).await.unwrap().is_none()
        && s.dispatch_rows(id).await.unwrap().is_empty()
        && s.journal_for_event(id).await.unwrap().is_empty()
}

/// Kept: the event and its rows (`dispatch` rows, `journal` entries).
async fn kept(s: &Store, id: &str, dispatch: usize, journal: usize) -> bool {
    s.event(id).await.unwrap().is_some()
        && s.dispatch_rows(id).await.unwrap().len() == dispatch
        && s.journal_for_event(id).await.unwrap().len() == journal
}

fn timer(name: &str, due: Timestamp) -> NewTimer {
    NewTimer {
        shop: SHOP.into(),
        plugin_id: "sla".into(),
        name: name.into(),
        resources: Resources {
            order_id: Some(5001),
            ..Resources::default()
        },
        due,
        data: "{}".into(),
        scheduled_by: "evt_0".into(),
        source_key: format!("evt_0:sla:{name}"),
    }
}

#[tokio::test]
async fn finished_work_older_than_the_cutoff_goes_and_open_work_stays() {
    let (_d, s) = open().await;
    let t = |secs: i64| at(secs);

    // Finished long ago: both actions executed.
    let finished = receive(&s, "w-finished", 1, t(10), EventStatus::Pending).await;
    dispatch(&s, &finished, t(11), ran(vec![tags(1), tags(1)])).await;
    assert_eq!(
        execute(&s, ActionFamily::Shopify, t(12), done).await.len(),
        2
    );
    // One action executed, one still waiting.
    let open_entry = receive(&s, "w-open-entry", 2, t(20), EventStatus::Pending).await;
    dispatch(&s, &open_entry, t(21), ran(vec![tags(2), comment(2)])).await;
    execute(&s, ActionFamily::Shopify, t(22), done).await;
    // An action being executed (claimed, not settled).
    let in_flight = receive(&s, "w-in-flight", 3, t(30), EventStatus::Pending).await;
    dispatch(&s, &in_flight, t(31), ran(vec![follow_up()])).await;
    let claimed = s
        .claim_journal(JournalClaim {
            family: ActionFamily::FollowUp,
            worker: "x".into(),
            limit: 10,
            lease: Duration::from_secs(30),
            now: t(32),
            poison_after: 0,
        })
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    // A dead-lettered run, and a dead-lettered action: open dead letters.
    let dead_run = receive(&s, "w-dead-run", 4, t(40), EventStatus::Pending).await;
    dispatch(
        &s,
        &dead_run,
        t(41),
        PluginResult::Dead {
            failure: FailureRecord::new("trap", "unreachable"),
        },
    )
    .await;
    let dead_action = receive(&s, "w-dead-action", 5, t(50), EventStatus::Pending).await;
    dispatch(&s, &dead_action, t(51), ran(vec![tags(5)])).await;
    execute(&s, ActionFamily::Shopify, t(52), || JournalOutcome::Dead {
        error: FailureRecord::new("user-error", "Order not found"),
    })
    .await;
    // A run held by a quarantine: released when it is lifted.
    let held_run = receive(&s, "w-held", 6, t(60), EventStatus::Pending).await;
    dispatch(
        &s,
        &held_run,
        t(61),
        PluginResult::Held {
            reason: "quarantined".into(),
        },
    )
    .await;
    // The plugin was disabled before it ran: finished.
    let skipped = receive(&s, "w-skipped", 7, t(70), EventStatus::Pending).await;
    dispatch(
        &s,
        &skipped,
        t(71),
        PluginResult::Skipped {
            reason: "disabled".into(),
        },
    )
    .await;
    // Stale deliveries are finished from the start.
    let stale = receive(&s, "w-stale", 8, t(80), EventStatus::Stale).await;
    // Received long ago, finished only after the cutoff.
    let late = receive(&s, "w-late", 9, t(90), EventStatus::Pending).await;
    dispatch(&s, &late, t(1500), ran(vec![])).await;
    // Its run asked for an approval, still undecided.
    let approval = receive(&s, "w-approval", 10, t(100), EventStatus::Pending).await;
    dispatch(&s, &approval, t(101), ran(vec![tags(10)])).await;
    execute(&s, ActionFamily::Shopify, t(102), done).await;
    s.hold_operation(NewHeldOperation {
        task_id: "t-1".into(),
        source_key: format!("{approval}:p:1"),
        shop: SHOP.into(),
        plugin_id: "p".into(),
        event_id: approval.clone(),
        index: 1,
        case_id: "c-1".into(),
        key: case_key(10),
        operation: ShopifyOperation::TagsAdd(TagsChange {
            target: Target::Order(10),
            tags: vec!["approved".into()],
        }),
        resources: Resources::default(),
        now: t(103),
    })
    .await
    .unwrap();
    // Claimed by a worker, and never claimed.
    let claimed_event = receive(&s, "w-claimed", 11, t(110), EventStatus::Pending).await;
    s.claim_events(Claim {
        worker: "d".into(),
        limit: 1,
        lease: Duration::from_secs(30),
        now: t(111),
        poison_after: 0,
    })
    .await
    .unwrap();
    let pending = receive(&s, "w-pending", 12, t(120), EventStatus::Pending).await;
    // Timers: fired before the cutoff, fired after it, still scheduled.
    s.schedule_timer(timer("old", t(900)), t(10)).await.unwrap();
    s.schedule_timer(timer("recent", t(1500)), t(10))
        .await
        .unwrap();
    s.schedule_timer(timer("later", t(5000)), t(10))
        .await
        .unwrap();
    let old_fire = s.fire_due_timers(t(900), 10).await.unwrap();
    let recent_fire = s.fire_due_timers(t(1500), 10).await.unwrap();
    assert_eq!((old_fire.len(), recent_fire.len()), (1, 1));
    // Received after the cutoff.
    let recent = receive(&s, "w-recent", 13, t(2000), EventStatus::Stale).await;
    // Never touched by retention.
    s.put_case_link(CaseLink {
        shop: SHOP.into(),
        key: case_key(1),
        case_id: "c-1".into(),
        case_number: "CASE-000001".into(),
        status: CaseStatus::New,
        priority: Priority::High,
        escalation_level: 0,
        opened_at: "2026-11-26T10:00:00Z".into(),
        plugin_id: Some("p".into()),
        last_updated_on: None,
        updated_at: t(10),
    })
    .await
    .unwrap();
    s.record_privacy(PrivacyRecord {
        shop: SHOP.into(),
        topic: "customers/redact".into(),
        customer_id: Some(7001),
        event_id: stale.clone(),
        file: None,
        summary: serde_json::json!({}),
        at: t(80),
        body_sha256: None,
    })
    .await
    .unwrap();

    let (report, _) = prune_all(&s, cutoff(), 100).await;
    assert_eq!(
        report,
        PruneReport {
            events: 3,
            dispatch_rows: 2,
            journal_entries: 2,
            dead_letters: 0,
            timers: 1,
            refusals: 0,
            resume: None,
            more_timers: false,
        }
    );
    assert!(gone(&s, &finished).await);
    assert!(gone(&s, &skipped).await);
    assert!(gone(&s, &stale).await);
    assert!(
        kept(&s, &open_entry, 1, 2).await,
        "a pending entry keeps it"
    );
    assert!(
        kept(&s, &in_flight, 1, 1).await,
        "an entry in flight keeps it"
    );
    assert!(
        kept(&s, &dead_run, 1, 0).await,
        "an open dead letter keeps it"
    );
    assert!(
        kept(&s, &dead_action, 1, 1).await,
        "an open dead letter keeps it"
    );
    assert!(kept(&s, &held_run, 1, 0).await, "a held run keeps it");
    assert!(kept(&s, &late, 1, 0).await, "finished after the cutoff");
    assert!(
        kept(&s, &approval, 1, 1).await,
        "an undecided approval keeps it"
    );
    assert!(kept(&s, &claimed_event, 0, 0).await);
    assert!(kept(&s, &pending, 0, 0).await);
    assert!(kept(&s, &recent, 0, 0).await);
    for fired in old_fire.iter().chain(&recent_fire) {
        assert!(kept(&s, fired, 0, 0).await, "the timer events are pending");
    }
    let timers = s.timers(SHOP).await.unwrap();
    assert_eq!(
        timers
            .iter()
            .map(|t| (t.name.as_str(), t.state))
            .collect::<Vec<_>>(),
        [
            ("recent", TimerState::Fired),
            ("later", TimerState::Scheduled)
        ]
    );
    assert_eq!(s.dead_letters(None, true, 10).await.unwrap().len(), 2);
    assert!(s.case_link(SHOP, &case_key(1)).await.unwrap().is_some());
    assert_eq!(s.privacy_records(None, 10).await.unwrap().len(), 1);
    // Nothing more to do with the same cutoff.
    assert_eq!(prune_all(&s, cutoff(), 100).await.0.deleted(), 0);

    // Resolved dead letters go with their events; the audit of the
    // resolution stays.
    for d in s.dead_letters(None, true, 10).await.unwrap() {
        s.discard_dead_letter(d.id, "ops", t(1100)).await.unwrap();
    }
    let (report, _) = prune_all(&s, cutoff(), 100).await;
    assert_eq!(
        (
            report.events,
            report.dispatch_rows,
            report.journal_entries,
            report.dead_letters
        ),
        (2, 2, 1, 2)
    );
    assert!(gone(&s, &dead_run).await);
    assert!(gone(&s, &dead_action).await);
    assert!(s.dead_letters(None, false, 10).await.unwrap().is_empty());
    assert_eq!(s.audit_log(None, 10).await.unwrap().len(), 2);

    // Approved: the released operation is open, so the event stays...
    s.decide_held_operation(HeldDecision {
        task_id: "t-1".into(),
        approved: true,
        decided_by: Some("approver@example.com".into()),
        comment: None,
        now: t(1200),
    })
    .await
    .unwrap();
    assert_eq!(prune_all(&s, cutoff(), 100).await.0.deleted(), 0);
    assert!(kept(&s, &approval, 1, 1).await);
    // ... until it is executed. The held operation and its release entry
    // belong to the case and stay.
    assert_eq!(
        execute(&s, ActionFamily::Shopify, t(1201), done).await,
        ["approval:t-1"]
    );
    let (report, _) = prune_all(&s, cutoff(), 100).await;
    assert_eq!(
        (report.events, report.dispatch_rows, report.journal_entries),
        (1, 1, 1)
    );
    assert!(gone(&s, &approval).await);
    let held = s.held_operation("t-1").await.unwrap().unwrap();
    assert_eq!((held.status, held.executed()), (HeldStatus::Approved, true));
    assert!(s.journal_entry("approval:t-1").await.unwrap().is_some());

    // A later cutoff takes what has finished since.
    let (report, _) = prune_all(&s, at(1600), 100).await;
    assert_eq!((report.events, report.timers), (1, 1));
    assert!(gone(&s, &late).await);
}

#[tokio::test]
async fn batches_are_bounded_and_go_past_the_events_they_keep() {
    let (_d, s) = open().await;
    // Four unfinished events first, then six finished ones, then recent ones.
    let mut pending = Vec::new();
    for i in 0..4 {
        pending.push(
            receive(
                &s,
                &format!("w-p{i}"),
                i,
                at(i as i64),
                EventStatus::Pending,
            )
            .await,
        );
    }
    let mut stale = Vec::new();
    for i in 0..6 {
        stale.push(
            receive(
                &s,
                &format!("w-s{i}"),
                10 + i,
                at(10 + i as i64),
                EventStatus::Stale,
            )
            .await,
        );
    }
    let mut recent = Vec::new();
    for i in 0..3 {
        recent.push(
            receive(
                &s,
                &format!("w-r{i}"),
                90 + i,
                at(2000 + i as i64),
                EventStatus::Stale,
            )
            .await,
        );
    }

    // One batch examines at most `limit` events and says where to go on.
    let first = s
        .prune(Prune {
            before: cutoff(),
            after: 0,
            limit: 3,
        })
        .await
        .unwrap();
    assert_eq!(first.events, 0, "the first three are unfinished");
    assert!(first.resume.is_some() && !first.finished());

    let (report, batches) = prune_all(&s, cutoff(), 3).await;
    assert_eq!(report.events, 6);
    // 3 unfinished | 1 unfinished, 2 stale | 3 stale | 1 stale, then the
    // first recent event ends the walk.
    assert_eq!(batches, 4);
    for id in &stale {
        assert!(gone(&s, id).await);
    }
    for id in pending.iter().chain(&recent) {
        assert!(s.event(id).await.unwrap().is_some());
    }

    // Fired timers go `limit` at a time too.
    for i in 0..5 {
        s.schedule_timer(timer(&format!("t{i}"), at(500)), at(0))
            .await
            .unwrap();
    }
    assert_eq!(s.fire_due_timers(at(500), 10).await.unwrap().len(), 5);
    let first = s
        .prune(Prune {
            before: cutoff(),
            after: i64::MAX,
            limit: 3,
        })
        .await
        .unwrap();
    assert_eq!((first.timers, first.more_timers), (3, true));
    let (report, _) = prune_all(&s, cutoff(), 3).await;
    assert_eq!(report.timers, 2);
    assert!(s.timers(SHOP).await.unwrap().is_empty());
}

/// The deduplication of deliveries lives on inbox rows only: once an event
/// is pruned, the same delivery is accepted as new. This is why the
/// configuration refuses a retention shorter than `server.max-age` plus a
/// margin (every redelivery of a pruned event is then stale).
#[tokio::test]
async fn the_dedupe_of_a_delivery_goes_with_its_event() {
    let (_d, s) = open().await;
    let id = receive(&s, "w-1", 1, at(10), EventStatus::Stale).await;
    let mut again = order_event("w-1", 1);
    again.status = EventStatus::Stale;
    assert_eq!(
        s.insert_event(again.clone()).await.unwrap(),
        Inserted::Duplicate {
            event_id: id.clone(),
            rule: DuplicateRule::Delivery,
        }
    );
    assert_eq!(prune_all(&s, cutoff(), 10).await.0.events, 1);
    assert_eq!(
        s.insert_event(again).await.unwrap(),
        Inserted::New { event_id: id }
    );
}

#[tokio::test]
async fn a_timer_set_aside_as_unreadable_goes_once_its_dead_letter_is_discarded() {
    let (dir, s) = open().await;
    let TimerScheduled::Scheduled { id, .. } = s
        .schedule_timer(timer("damaged", at(10)), at(0))
        .await
        .unwrap()
    else {
        panic!("not scheduled")
    };
    dir.behind_the_back()
        .await
        .exec(
            "UPDATE timers SET subject = 'not json' WHERE id = ?1",
            &[id.into()],
        )
        .await;
    assert!(s.fire_due_timers(at(20), 10).await.unwrap().is_empty());
    let letter = s.dead_letters(None, true, 10).await.unwrap()[0].id;

    // Its dead letter is open: the operator may still mend and retry it.
    assert_eq!(prune_all(&s, cutoff(), 100).await.0.timers, 0);
    s.discard_dead_letter(letter, "ops@example.com", at(30))
        .await
        .unwrap();
    assert_eq!(prune_all(&s, cutoff(), 100).await.0.timers, 1);
}

#[tokio::test]
async fn refused_admin_requests_go_with_the_cutoff_and_the_rest_of_the_audit_stays() {
    let (_d, s) = open().await;
    let audit = |action: &str, t: i64| NewAudit {
        actor: "anonymous".into(),
        action: action.into(),
        shop: None,
        plugin_id: None,
        details: serde_json::json!({"reason": "missing-token"}),
        at: at(t),
    };
    for t in [10, 20, 30] {
        s.record_audit(audit("access.denied", t)).await.unwrap();
    }
    s.record_audit(audit("installation.enable", 40))
        .await
        .unwrap();
    s.record_audit(audit("access.denied", 2000)).await.unwrap();
    // Two per batch: the refusals take two batches.
    let (report, batches) = prune_all(&s, cutoff(), 2).await;
    assert_eq!(report.refusals, 3);
    assert!(batches >= 2, "{batches}");
    let left: Vec<(String, Timestamp)> = s
        .audit_log(None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.entry.action, e.entry.at))
        .collect();
    assert_eq!(
        left,
        [
            ("access.denied".to_owned(), at(2000)),
            ("installation.enable".to_owned(), at(40)),
        ],
        "newer refusals and every change stay"
    );
}
