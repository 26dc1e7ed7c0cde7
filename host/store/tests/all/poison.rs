//! Poison work and fair claims: events and journal entries whose claims
//! keep being abandoned (the worker died holding them, so the lease ran
//! out unfinished) are set aside as `poison` dead letters; claims take
//! events round-robin across stores. Leases expire on injected times.

use std::time::Duration;

use shopcase_contract::Action;
use shopcase_contract::action::{ShopifyOperation, TagsChange, Target};
use shopcase_store::*;

use super::support::*;

const LEASE: Duration = Duration::from_secs(30);

fn claim(worker: &str, now: Timestamp, poison_after: u32) -> Claim {
    Claim {
        worker: worker.into(),
        limit: 10,
        lease: LEASE,
        now,
        poison_after,
    }
}

fn ids(claimed: &[ClaimedEvent]) -> Vec<String> {
    claimed.iter().map(|c| c.event.event.id.clone()).collect()
}

fn outcome(plugin: &str, result: PluginResult) -> PluginOutcome {
    PluginOutcome {
        plugin_id: plugin.into(),
        plugin_version: "1.0.0".into(),
        result,
    }
}

fn tagged() -> PluginResult {
    PluginResult::Succeeded(RunSuccess {
        actions: vec![Action::Shopify(ShopifyOperation::TagsAdd(TagsChange {
            target: Target::Order(1),
            tags: vec!["x".into()],
        }))],
        kv_reads: vec![],
        kv_writes: vec![],
        budget: None,
    })
}

fn finish(
    event_id: &str,
    worker: &str,
    now: Timestamp,
    outcomes: Vec<PluginOutcome>,
) -> EventFinish {
    EventFinish {
        event_id: event_id.into(),
        worker: worker.into(),
        now,
        quarantine_after: 0,
        read_redacted_at: None,
        outcomes,
    }
}

async fn open_letters(s: &Store) -> Vec<DeadLetter> {
    s.dead_letters(None, true, 100).await.unwrap()
}

#[tokio::test]
async fn an_event_abandoned_n_times_becomes_a_poison_dead_letter_and_a_retry_resets_it() {
    let (_d, s) = open().await;
    let ev = order_event("w-1", 1);
    let id = ev.event_id();
    s.insert_event(ev).await.unwrap();

    // Two ordinary attempts: `p` fails retryably, `q` succeeds; then `p`
    // fails again. Claims that end in a finish are not abandoned, however
    // many there are.
    assert_eq!(
        ids(&s.claim_events(claim("w1", at(10), 2)).await.unwrap()),
        [id.as_str()]
    );
    let retry = |at_: Timestamp| PluginResult::Retry {
        failure: FailureRecord::new("plugin-error", "later"),
        at: at_,
    };
    s.finish_event(finish(
        &id,
        "w1",
        at(10),
        vec![outcome("p", retry(at(11))), outcome("q", tagged())],
    ))
    .await
    .unwrap();
    assert_eq!(
        ids(&s.claim_events(claim("w2", at(12), 2)).await.unwrap()),
        [id.as_str()]
    );
    s.finish_event(finish(&id, "w2", at(12), vec![outcome("p", retry(at(13)))]))
        .await
        .unwrap();

    // Then its workers die holding it: claimed, never finished.
    assert_eq!(
        ids(&s.claim_events(claim("w3", at(20), 2)).await.unwrap()),
        [id.as_str()]
    );
    // Not before the lease runs out.
    assert!(
        s.claim_events(claim("w4", at(49), 2))
            .await
            .unwrap()
            .is_empty()
    );
    // Abandoned once: handed out again, and w4 starts running it.
    assert_eq!(
        ids(&s.claim_events(claim("w4", at(50), 2)).await.unwrap()),
        [id.as_str()]
    );
    assert!(s.start_suspect(&id, "w4").await.unwrap());
    // A newer event of the store is claimable beside it.
    let other = order_event("w-2", 2);
    let other_id = other.event_id();
    s.insert_event(other).await.unwrap();
    // Abandoned twice: set aside, not handed out; the other event is.
    let claimed = s.claim_events(claim("w5", at(80), 2)).await.unwrap();
    assert_eq!(ids(&claimed), [other_id.as_str()]);

    let letters = open_letters(&s).await;
    assert_eq!(letters.len(), 1, "{letters:?}");
    let letter = &letters[0];
    assert_eq!(
        (
            letter.what,
            letter.failure.kind.as_str(),
            letter.event_id.as_str(),
            letter.attempts
        ),
        (DeadLetterKind::Event, POISON, id.as_str(), 2)
    );
    let reason = &letter.failure.message;
    assert!(reason.contains("claimed 2 times"), "{reason}");
    assert!(reason.contains("last held by `w4`"), "{reason}");
    assert!(reason.contains("still pending: p"), "{reason}");
    let event = s.event(&id).await.unwrap().unwrap();
    assert_eq!(event.status, EventStatus::Done, "set aside");
    let rows = s.dispatch_rows(&id).await.unwrap();
    let status = |p: &str| rows.iter().find(|r| r.plugin_id == p).unwrap().status;
    assert_eq!(
        (status("p"), status("q")),
        (DispatchStatus::Dead, DispatchStatus::Done)
    );
    assert_eq!(
        rows.iter()
            .find(|r| r.plugin_id == "p")
            .unwrap()
            .last_failure
            .as_ref()
            .unwrap()
            .kind,
        POISON
    );
    // Not claimed again, however late.
    assert!(
        s.claim_events(claim("w6", at(10_000), 2))
            .await
            .unwrap()
            .iter()
            .all(|c| c.event.event.id != id)
    );

    // Retried: `p` runs again (`q` stays done), with a fresh count.
    s.retry_dead_letter(letter.id, "ops", at(10_001))
        .await
        .unwrap();
    let claimed = s.claim_events(claim("w7", at(10_002), 2)).await.unwrap();
    let again = claimed
        .iter()
        .find(|c| c.event.event.id == id)
        .expect("claimed again");
    let pending: Vec<&str> = again
        .dispatch
        .iter()
        .filter(|r| r.status == DispatchStatus::Pending)
        .map(|r| r.plugin_id.as_str())
        .collect();
    assert_eq!(pending, ["p"]);
    // One abandonment after the retry is below the limit again.
    let claimed = s.claim_events(claim("w8", at(10_040), 2)).await.unwrap();
    assert!(
        claimed.iter().any(|c| c.event.event.id == id),
        "the count was reset"
    );
    // Its run finishes: done, nothing more to dead-letter.
    s.finish_event(finish(&id, "w8", at(10_041), vec![outcome("p", tagged())]))
        .await
        .unwrap();
    assert_eq!(
        s.event(&id).await.unwrap().unwrap().status,
        EventStatus::Done
    );
    // The other event was abandoned by w5 and w6 meanwhile, but w6 never
    // started it (a suspect that only waited in a claim did not kill
    // anyone), so its count started again.
    assert!(open_letters(&s).await.is_empty());
    assert_eq!(s.event(&other_id).await.unwrap().unwrap().abandoned, 1);
}

/// A process killed from outside dies while *some* work runs: a death
/// counts toward poison only if the dead holder had started the work (a
/// suspect waiting behind other work did not kill anyone; migration 10)
/// and it came right after the work's last counted death (a death while
/// other work ran is not this work's; migration 9). Otherwise the count
/// starts again at one.
#[tokio::test]
async fn only_deaths_in_a_row_of_holders_running_it_count_toward_poison() {
    let (_d, s) = open().await;
    let a = order_event("w-a", 1);
    let b = order_event("w-b", 2);
    let (a_id, b_id) = (a.event_id(), b.event_id());
    s.insert_event(a).await.unwrap();
    let one = |worker: &str, t: i64| {
        let s = &s;
        let claim = claim(worker, at(t), 3);
        async move {
            let c = s.claim_events(Claim { limit: 1, ..claim }).await.unwrap();
            ids(&c)
        }
    };
    let abandoned = |id: &str| {
        let s = &s;
        let id = id.to_owned();
        async move { s.event(&id).await.unwrap().unwrap().abandoned }
    };
    // Process p1 dies holding A; p2 takes it over and gives it back.
    assert_eq!(one("p1-x-dispatch-0", 10).await, [a_id.as_str()]);
    assert_eq!(one("p2-x-dispatch-0", 40).await, [a_id.as_str()]);
    assert_eq!(abandoned(&a_id).await, 1);
    assert!(
        s.release_event(&a_id, "p2-x-dispatch-0", at(1_000))
            .await
            .unwrap()
    );
    // Meanwhile process p3 dies running B.
    s.insert_event(b).await.unwrap();
    assert_eq!(one("p3-x-dispatch-0", 41).await, [b_id.as_str()]);
    assert_eq!(one("p4-x-dispatch-1", 71).await, [b_id.as_str()]);
    assert!(
        s.release_event(&b_id, "p4-x-dispatch-1", at(5_000))
            .await
            .unwrap()
    );
    // p4 runs A and dies: a death came in between (p3's), so A's count
    // starts again.
    assert_eq!(one("p4-x-dispatch-0", 1_000).await, [a_id.as_str()]);
    assert!(s.start_suspect(&a_id, "p4-x-dispatch-0").await.unwrap());
    assert_eq!(one("p5-x-dispatch-0", 1_030).await, [a_id.as_str()]);
    assert_eq!(abandoned(&a_id).await, 1);
    // p5 runs it and dies: in a row, and running it: two.
    assert!(s.start_suspect(&a_id, "p5-x-dispatch-0").await.unwrap());
    assert_eq!(one("p6-x-dispatch-0", 1_060).await, [a_id.as_str()]);
    assert_eq!(abandoned(&a_id).await, 2);
    // p6 dies before it started A (it waited behind other work): in a row,
    // but not A's doing; the count starts again instead of reaching 3.
    assert_eq!(one("p7-x-dispatch-0", 1_090).await, [a_id.as_str()]);
    assert_eq!(abandoned(&a_id).await, 1);
    // Then deaths in a row, every one of them running A: set aside at 3.
    assert!(s.start_suspect(&a_id, "p7-x-dispatch-0").await.unwrap());
    assert_eq!(one("p8-x-dispatch-0", 1_120).await, [a_id.as_str()]);
    assert_eq!(abandoned(&a_id).await, 2);
    assert!(s.start_suspect(&a_id, "p8-x-dispatch-0").await.unwrap());
    assert!(one("p9-x-dispatch-0", 1_150).await.is_empty(), "set aside");
    let letters = open_letters(&s).await;
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].event_id, a_id);
    // Only the holder marks a suspect started.
    assert!(!s.start_suspect(&b_id, "p9-x-dispatch-0").await.unwrap());
}

#[tokio::test]
async fn a_discarded_poison_event_stays_done_and_is_pruned() {
    let (_d, s) = open().await;
    let ev = order_event("w-1", 1);
    let id = ev.event_id();
    s.insert_event(ev).await.unwrap();
    // Abandoned on its first claim: no plugin run recorded yet.
    s.claim_events(claim("w1", at(10), 1)).await.unwrap();
    assert!(
        s.claim_events(claim("w2", at(40), 1))
            .await
            .unwrap()
            .is_empty()
    );
    let letter = open_letters(&s).await.pop().expect("a poison letter");
    assert_eq!(letter.failure.kind, POISON);
    assert!(
        letter
            .failure
            .message
            .contains("no plugin run recorded yet"),
        "{}",
        letter.failure.message
    );

    s.discard_dead_letter(letter.id, "ops", at(41))
        .await
        .unwrap();
    assert!(
        s.claim_events(claim("w3", at(100), 1))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.event(&id).await.unwrap().unwrap().status,
        EventStatus::Done
    );
    // Nothing of it is open any more, so retention takes it.
    let report = s
        .prune(Prune {
            before: at(1_000),
            after: 0,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(report.events, 1, "{report:?}");
    assert!(s.event(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn a_timer_event_names_its_plugin_when_set_aside() {
    let (_d, s) = open().await;
    let mut ev = order_event("timer:1:1", 1);
    ev.topic = "timer/fired".into();
    ev.source = EventSource::Timer;
    ev.target_plugin = Some("sla".into());
    let id = ev.event_id();
    s.insert_event(ev).await.unwrap();
    s.claim_events(claim("w1", at(10), 1)).await.unwrap();
    assert!(
        s.claim_events(claim("w2", at(40), 1))
            .await
            .unwrap()
            .is_empty()
    );
    let letter = open_letters(&s).await.pop().expect("a poison letter");
    assert_eq!(
        (letter.event_id.as_str(), letter.plugin_id.as_deref()),
        (id.as_str(), Some("sla"))
    );
    assert!(
        letter
            .failure
            .message
            .contains("no run of `sla` recorded yet"),
        "{}",
        letter.failure.message
    );
}

fn journal_claim(worker: &str, now: Timestamp, poison_after: u32) -> JournalClaim {
    JournalClaim {
        family: ActionFamily::Shopify,
        worker: worker.into(),
        limit: 10,
        lease: LEASE,
        now,
        poison_after,
    }
}

#[tokio::test]
async fn a_journal_entry_abandoned_n_times_becomes_a_poison_dead_letter_and_a_retry_resets_it() {
    let (_d, s) = open().await;
    let ev = order_event("w-1", 1);
    let id = ev.event_id();
    s.insert_event(ev).await.unwrap();
    s.claim_events(claim("d", at(1), 0)).await.unwrap();
    s.finish_event(finish(&id, "d", at(1), vec![outcome("p", tagged())]))
        .await
        .unwrap();
    let key = format!("{id}:p:0");

    // An execution that ends (here in a transient failure) is not abandoned.
    let claimed = s
        .claim_journal(journal_claim("x1", at(2), 2))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(
        s.settle_journal(JournalSettle {
            key: key.clone(),
            worker: "x1".into(),
            now: at(2),
            outcome: JournalOutcome::Retry {
                error: FailureRecord::new("timeout", "slow"),
                at: at(3),
            },
        })
        .await
        .unwrap()
    );
    // Then two executors die holding it.
    assert_eq!(
        s.claim_journal(journal_claim("x2", at(3), 2))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        s.claim_journal(journal_claim("x3", at(32), 2))
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    assert_eq!(
        s.claim_journal(journal_claim("x3", at(33), 2))
            .await
            .unwrap()
            .len(),
        1,
        "abandoned once"
    );
    // A worker that is not the holder cannot mark it; x3 starts it.
    assert!(!s.start_suspect_entry(&key, "x2").await.unwrap());
    assert!(s.start_suspect_entry(&key, "x3").await.unwrap());
    assert!(
        s.claim_journal(journal_claim("x4", at(63), 2))
            .await
            .unwrap()
            .is_empty(),
        "set aside"
    );

    let entry = s.journal_entry(&key).await.unwrap().unwrap();
    assert_eq!(entry.status, JournalStatus::Dead);
    let letter = open_letters(&s).await.pop().expect("a poison letter");
    assert_eq!(
        (
            letter.what,
            letter.failure.kind.as_str(),
            letter.idempotency_key.as_deref(),
            letter.attempts
        ),
        (DeadLetterKind::Action, POISON, Some(key.as_str()), 1)
    );
    let reason = &letter.failure.message;
    for part in [
        "`tags-add`",
        "1 failed executions",
        "claimed 2 times",
        "last held by `x3`",
    ] {
        assert!(reason.contains(part), "{part} in {reason}");
    }

    // Retried: pending, attempts and abandoned claims from zero.
    s.retry_dead_letter(letter.id, "ops", at(64)).await.unwrap();
    let entry = s.journal_entry(&key).await.unwrap().unwrap();
    assert_eq!((entry.status, entry.attempts), (JournalStatus::Pending, 0));
    assert_eq!(
        s.claim_journal(journal_claim("x5", at(65), 2))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        s.claim_journal(journal_claim("x6", at(95), 2))
            .await
            .unwrap()
            .len(),
        1,
        "one abandonment after the retry is below the limit"
    );
    assert!(
        s.settle_journal(JournalSettle {
            key: key.clone(),
            worker: "x6".into(),
            now: at(96),
            outcome: JournalOutcome::Done {
                result: serde_json::json!({}),
            },
        })
        .await
        .unwrap()
    );

    // Discarding a poison entry's letter leaves the entry dead.
    let ev = order_event("w-2", 2);
    let id2 = ev.event_id();
    s.insert_event(ev).await.unwrap();
    s.claim_events(claim("d", at(100), 0)).await.unwrap();
    s.finish_event(finish(&id2, "d", at(100), vec![outcome("p", tagged())]))
        .await
        .unwrap();
    s.claim_journal(journal_claim("y1", at(101), 1))
        .await
        .unwrap();
    assert!(
        s.claim_journal(journal_claim("y2", at(131), 1))
            .await
            .unwrap()
            .is_empty()
    );
    let letter = open_letters(&s).await.pop().expect("a poison letter");
    s.discard_dead_letter(letter.id, "ops", at(132))
        .await
        .unwrap();
    let key2 = format!("{id2}:p:0");
    assert_eq!(
        s.journal_entry(&key2).await.unwrap().unwrap().status,
        JournalStatus::Dead
    );
    assert!(
        s.claim_journal(journal_claim("y3", at(1_000), 1))
            .await
            .unwrap()
            .is_empty()
    );
}

/// An event taken over from a dead worker is a suspect until a run of it
/// ends: a run that ends with retries to come clears the count, so a
/// later crash starts it from one again.
#[tokio::test]
async fn an_event_whose_run_ends_is_no_longer_a_suspect() {
    let (_d, s) = open().await;
    let ev = order_event("w-1", 1);
    let id = ev.event_id();
    s.insert_event(ev).await.unwrap();
    s.claim_events(claim("w1", at(10), 3)).await.unwrap();
    let taken = s.claim_events(claim("w2", at(40), 3)).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].event.abandoned, 1, "taken over from a dead worker");
    s.finish_event(finish(
        &id,
        "w2",
        at(41),
        vec![outcome(
            "p",
            PluginResult::Retry {
                failure: FailureRecord::new("plugin-error", "later"),
                at: at(42),
            },
        )],
    ))
    .await
    .unwrap();
    assert_eq!(s.event(&id).await.unwrap().unwrap().abandoned, 0);
    // Two more workers die running it: with the count cleared, that is
    // two abandoned claims, below `poison-after` (3); it is handed out
    // again.
    s.claim_events(claim("w3", at(42), 3)).await.unwrap();
    s.claim_events(claim("w4", at(72), 3)).await.unwrap();
    assert!(s.start_suspect(&id, "w4").await.unwrap());
    let again = s.claim_events(claim("w5", at(102), 3)).await.unwrap();
    assert_eq!(ids(&again), [id.as_str()]);
    assert_eq!(again[0].event.abandoned, 2);
    assert!(open_letters(&s).await.is_empty());
}

/// A suspect entry given back unexecuted keeps its count and waits until
/// the time given; only its holder can give it back; an execution that
/// ends clears its suspicion.
#[tokio::test]
async fn a_released_journal_entry_keeps_its_abandoned_claims_and_an_ended_execution_clears_them() {
    let (_d, s) = open().await;
    let ev = order_event("w-1", 1);
    let id = ev.event_id();
    s.insert_event(ev).await.unwrap();
    s.claim_events(claim("d", at(1), 0)).await.unwrap();
    s.finish_event(finish(&id, "d", at(1), vec![outcome("p", tagged())]))
        .await
        .unwrap();
    let key = format!("{id}:p:0");
    // Claimed by an executor that dies, then taken over: a suspect.
    s.claim_journal(journal_claim("x1", at(2), 5))
        .await
        .unwrap();
    let taken = s
        .claim_journal(journal_claim("x2", at(2 + LEASE.as_secs() as i64), 5))
        .await
        .unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].abandoned, 1);

    // Given back: only by its holder.
    let back_at = at(40);
    assert!(
        !s.release_journal(&key, "x1", back_at).await.unwrap(),
        "not x1's"
    );
    assert!(s.release_journal(&key, "x2", back_at).await.unwrap());
    assert!(
        !s.release_journal(&key, "x2", back_at).await.unwrap(),
        "no longer claimed"
    );
    let entry = s.journal_entry(&key).await.unwrap().unwrap();
    assert_eq!(
        (
            entry.status,
            entry.attempts,
            entry.abandoned,
            entry.next_attempt_at
        ),
        (JournalStatus::Pending, 0, 1, Some(back_at))
    );
    assert!(
        s.claim_journal(journal_claim("x3", at(39), 5))
            .await
            .unwrap()
            .is_empty(),
        "not before the time it was given back for"
    );
    // Claimed again after a release: no abandoned claim is added.
    let again = s
        .claim_journal(journal_claim("x3", at(40), 5))
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].abandoned, 1);
    // Its execution ends (a transient failure): no longer a suspect.
    assert!(
        s.settle_journal(JournalSettle {
            key: key.clone(),
            worker: "x3".into(),
            now: at(41),
            outcome: JournalOutcome::Retry {
                error: FailureRecord::new("timeout", "slow"),
                at: at(42),
            },
        })
        .await
        .unwrap()
    );
    let entry = s.journal_entry(&key).await.unwrap().unwrap();
    assert_eq!((entry.attempts, entry.abandoned), (1, 0));
}

/// `n` events of `shop`, inserted concurrently (group commit), in seq order
/// of their webhook ids' numbers.
async fn backlog(s: &Store, shop: &str, prefix: &str, n: u64) {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let s = s.clone();
            let mut ev = order_event(&format!("{prefix}-{i}"), i + 1);
            ev.shop = shop.into();
            tokio::spawn(async move { s.insert_event(ev).await.unwrap() })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_take_events_round_robin_across_stores_oldest_first_within_each() {
    const A: &str = "a.myshopify.com";
    const B: &str = "b.myshopify.com";
    const C: &str = "c.myshopify.com";
    let (_d, s) = open().await;

    backlog(&s, A, "a", 1_000).await;
    backlog(&s, C, "c", 3).await;
    let mut late = order_event("b-0", 1);
    late.shop = B.into();
    let b_id = late.event_id();
    s.insert_event(late).await.unwrap();

    let first = s
        .claim_events(Claim {
            limit: 32,
            ..claim("w1", at(10), 3)
        })
        .await
        .unwrap();
    assert_eq!(first.len(), 32);
    assert!(
        first.iter().any(|c| c.event.event.id == b_id),
        "store B's one event, newer than store A's 1 000, is in the first batch"
    );
    let per_shop = |shop: &str| -> Vec<i64> {
        first
            .iter()
            .filter(|c| c.event.event.shop == shop)
            .map(|c| c.event.seq)
            .collect()
    };
    assert_eq!(per_shop(C).len(), 3, "every store gets its turn");
    // Store A's share is its oldest events, in order.
    let a = per_shop(A);
    assert_eq!(a.len(), 28);
    let a_min = a[0];
    assert_eq!(a, (a_min..a_min + 28).collect::<Vec<_>>());
    let oldest_a: i64 = s
        .search_events(EventQuery {
            shops: Some(vec![A.into()]),
            limit: 1_000,
            ..EventQuery::default()
        })
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .min()
        .unwrap();
    assert_eq!(a_min, oldest_a);

    // The next claims go on with store A oldest first, skipping nothing.
    let mut seen = a;
    loop {
        let next = s
            .claim_events(Claim {
                limit: 200,
                ..claim("w2", at(11), 3)
            })
            .await
            .unwrap();
        if next.is_empty() {
            break;
        }
        assert!(next.iter().all(|c| c.event.event.shop == A));
        seen.extend(next.iter().map(|c| c.event.seq));
    }
    assert_eq!(seen.len(), 1_000);
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "oldest first within a store"
    );
}

#[tokio::test]
async fn a_store_whose_events_wait_does_not_hide_another_stores() {
    const B: &str = "b.myshopify.com";
    let (_d, s) = open().await;
    // Store A's event is claimed (leased), store B's is not yet due.
    let a = order_event("a-0", 1);
    let a_id = a.event_id();
    s.insert_event(a).await.unwrap();
    let mut b = order_event("b-0", 2);
    b.shop = B.into();
    b.received_at = at(30);
    let b_id = b.event_id();
    s.insert_event(b).await.unwrap();
    let a2 = order_event("a-1", 3);
    let a2_id = a2.event_id();
    s.insert_event(a2).await.unwrap();
    assert_eq!(
        ids(&s
            .claim_events(Claim {
                limit: 1,
                ..claim("w1", at(10), 3)
            })
            .await
            .unwrap()),
        [a_id]
    );
    // A's first is leased and B's not due: A's second is next.
    assert_eq!(
        ids(&s.claim_events(claim("w2", at(11), 3)).await.unwrap()),
        [a2_id]
    );
    assert_eq!(
        ids(&s.claim_events(claim("w3", at(30), 3)).await.unwrap()),
        [b_id]
    );
}
