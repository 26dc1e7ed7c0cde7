//! Follow-up timers: scheduling is idempotent per journal entry, due timers
//! become `timer/fired` events for their plugin, rescheduling fires again.

use shopcase_contract::Resources;
use shopcase_store::*;

use super::support::*;

fn timer(source_key: &str, due: Timestamp) -> NewTimer {
    NewTimer {
        shop: SHOP.into(),
        plugin_id: "sla".into(),
        name: "sla-check".into(),
        resources: Resources {
            order_id: Some(5001),
            customer_id: Some(7001),
            ..Resources::default()
        },
        due,
        data: r#"{"level":1}"#.into(),
        scheduled_by: "evt_1".into(),
        source_key: source_key.into(),
    }
}

#[tokio::test]
async fn due_timers_fire_once_into_the_inbox() {
    let (_d, s) = open().await;
    let first = s
        .schedule_timer(timer("evt_1:sla:0", at(100)), at(0))
        .await
        .unwrap();
    let TimerScheduled::Scheduled { id, .. } = first else {
        panic!("{first:?}")
    };
    // The same journal entry again (executor re-run): nothing changes.
    assert_eq!(
        s.schedule_timer(timer("evt_1:sla:0", at(100)), at(1))
            .await
            .unwrap(),
        TimerScheduled::Unchanged { id }
    );
    assert!(s.fire_due_timers(at(99), 10).await.unwrap().is_empty());
    let fired = s.fire_due_timers(at(100), 10).await.unwrap();
    assert_eq!(fired.len(), 1);
    assert!(
        s.fire_due_timers(at(200), 10).await.unwrap().is_empty(),
        "fires once"
    );

    let ev = s.event(&fired[0]).await.unwrap().unwrap();
    assert_eq!(ev.event.topic, "timer/fired");
    assert_eq!(ev.source, EventSource::Timer);
    assert_eq!(ev.target_plugin.as_deref(), Some("sla"));
    assert_eq!(ev.event.api_version, "shopcase-1");
    assert_eq!(ev.event.resources.order_id, Some(5001));
    let payload: serde_json::Value = serde_json::from_str(&ev.event.payload).unwrap();
    assert_eq!(
        payload,
        serde_json::json!({"name": "sla-check", "data": {"level": 1}, "scheduled_by": "evt_1",
            "due": shopcase_contract::time::format(at(100)),
            "resources": {"order_id": 5001, "customer_id": 7001, "return_id": null, "dispute_id": null,
                "fulfillment_id": null, "case_id": null}})
    );
    let timers = s.timers(SHOP).await.unwrap();
    assert_eq!(
        (timers[0].state, timers[0].fired_event_id.as_deref()),
        (TimerState::Fired, Some(fired[0].as_str()))
    );

    // A later follow-up with the same name and subject moves the timer and fires again.
    assert_eq!(
        s.schedule_timer(timer("evt_2:sla:0", at(300)), at(201))
            .await
            .unwrap(),
        TimerScheduled::Scheduled { id, due: at(300) }
    );
    let again = s.fire_due_timers(at(300), 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_ne!(again[0], fired[0]);
    assert_eq!(s.timers(SHOP).await.unwrap()[0].generation, 2);
}

#[tokio::test]
async fn timers_can_fire_early_and_are_dispatchable_at_once() {
    let (_d, s) = open().await;
    s.schedule_timer(timer("evt_1:sla:0", at(1000)), at(0))
        .await
        .unwrap();
    let mut later = timer("evt_1:sla:1", at(5000));
    later.name = "later".into();
    s.schedule_timer(later, at(0)).await.unwrap();

    // At 10, everything due by 2000 fires: the first timer, not the second.
    let fired = s.fire_timers_due_by(at(2000), at(10), 10).await.unwrap();
    assert_eq!(fired.len(), 1);
    let ev = s.event(&fired[0]).await.unwrap().unwrap();
    assert_eq!(
        ev.event.triggered_at,
        shopcase_contract::time::format(at(1000)),
        "still its due time"
    );
    // Claimable now, not only at its due time.
    let claimed = s
        .claim_events(Claim {
            worker: "w".into(),
            limit: 10,
            lease: std::time::Duration::from_secs(30),
            now: at(11),
            poison_after: 0,
        })
        .await
        .unwrap();
    assert_eq!(
        claimed
            .iter()
            .map(|e| e.event.event.id.as_str())
            .collect::<Vec<_>>(),
        [fired[0].as_str()]
    );
    assert!(
        s.fire_due_timers(at(2000), 10).await.unwrap().is_empty(),
        "fired once"
    );
}

#[tokio::test]
async fn an_unreadable_timer_is_dead_lettered_and_the_others_still_fire() {
    let (dir, s) = open().await;
    let mut ids = Vec::new();
    for (name, due) in [("first", 100), ("damaged", 110), ("last", 120)] {
        let t = NewTimer {
            name: name.into(),
            ..timer(&format!("evt_1:sla:{name}"), at(due))
        };
        let TimerScheduled::Scheduled { id, .. } = s.schedule_timer(t, at(0)).await.unwrap() else {
            panic!("not scheduled")
        };
        ids.push(id);
    }
    // Damage the middle one behind the storage's back.
    let other = dir.behind_the_back().await;
    other
        .exec(
            "UPDATE timers SET subject = 'not json' WHERE id = ?1",
            &[ids[1].into()],
        )
        .await;

    let fired = s.fire_due_timers(at(200), 10).await.unwrap();
    assert_eq!(fired.len(), 2, "the readable ones fire");
    assert!(s.fire_due_timers(at(300), 10).await.unwrap().is_empty());
    let letters = s.dead_letters(None, true, 10).await.unwrap();
    assert_eq!(letters.len(), 1);
    let d = &letters[0];
    assert_eq!(
        (
            d.failure.kind.as_str(),
            d.event_id.as_str(),
            d.plugin_id.as_deref(),
            d.idempotency_key.clone()
        ),
        (
            "unreadable-timer",
            "evt_1",
            Some("sla"),
            Some(format!("timer:{}", ids[1]))
        ),
        "names the event and plugin that set it"
    );
    assert!(d.failure.message.contains("timers.subject"), "{d:?}");

    // Mended by hand, then retried: it fires once.
    other
        .exec(
            "UPDATE timers SET subject = ?2 WHERE id = ?1",
            &[
                ids[1].into(),
                serde_json::to_string(&Resources {
                    order_id: Some(5002),
                    ..Resources::default()
                })
                .unwrap()
                .into(),
            ],
        )
        .await;
    drop(other);
    s.retry_dead_letter(d.id, "ops@example.com", at(400))
        .await
        .unwrap();
    let again = s.fire_due_timers(at(400), 10).await.unwrap();
    assert_eq!(again.len(), 1);
    let ev = s.event(&again[0]).await.unwrap().unwrap();
    assert_eq!(ev.event.resources.order_id, Some(5002));
    assert!(
        s.retry_dead_letter(d.id, "ops@example.com", at(401))
            .await
            .is_err(),
        "already retried"
    );
}

#[tokio::test]
async fn retrying_the_dead_letter_of_a_deleted_timer_is_a_conflict() {
    let (dir, s) = open().await;
    let TimerScheduled::Scheduled { id, .. } = s
        .schedule_timer(timer("evt_1:sla:0", at(100)), at(0))
        .await
        .unwrap()
    else {
        panic!("not scheduled")
    };
    let other = dir.behind_the_back().await;
    other
        .exec(
            "UPDATE timers SET subject = '[' WHERE id = ?1",
            &[id.into()],
        )
        .await;
    assert!(s.fire_due_timers(at(200), 10).await.unwrap().is_empty());
    let letter = s.dead_letters(None, true, 10).await.unwrap()[0].id;
    // The operator deletes the row instead of mending it.
    other
        .exec("DELETE FROM timers WHERE id = ?1", &[id.into()])
        .await;
    drop(other);
    let err = s
        .retry_dead_letter(letter, "ops@example.com", at(300))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains(&format!("timer {id}"))),
        "{err:?}"
    );
    // Still open, and nothing else woke up: it can be discarded.
    assert_eq!(s.dead_letters(None, true, 10).await.unwrap().len(), 1);
    s.discard_dead_letter(letter, "ops@example.com", at(301))
        .await
        .unwrap();
    assert!(s.dead_letters(None, true, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_plugin_cannot_have_more_than_the_cap_of_waiting_timers() {
    let (dir, s) = open().await;
    // The cap's worth of waiting timers, written behind the storage's back.
    fill_timers(&dir.behind_the_back().await, DUE_AT_ONCE).await;

    assert_eq!(
        s.schedule_timer(timer("evt_1:sla:0", at(100)), at(0))
            .await
            .unwrap(),
        TimerScheduled::Refused,
        "a new timer over the cap"
    );
    // Another plugin of the store is not affected.
    let other_plugin = NewTimer {
        plugin_id: "other".into(),
        ..timer("evt_1:other:0", at(100))
    };
    assert!(matches!(
        s.schedule_timer(other_plugin, at(0)).await.unwrap(),
        TimerScheduled::Scheduled { .. }
    ));
    // Once some have fired, there is room again.
    assert_eq!(s.fire_due_timers(at(50), 10).await.unwrap().len(), 10);
    assert!(matches!(
        s.schedule_timer(timer("evt_1:sla:0", at(100)), at(60))
            .await
            .unwrap(),
        TimerScheduled::Scheduled { .. }
    ));
}

#[tokio::test]
async fn a_fired_timer_is_not_armed_again_over_the_cap() {
    let (dir, s) = open().await;
    let a = |source: &str| NewTimer {
        name: "a".into(),
        ..timer(source, at(100))
    };
    s.schedule_timer(a("evt_1:sla:0"), at(0)).await.unwrap();
    assert_eq!(s.fire_due_timers(at(100), 10).await.unwrap().len(), 1);
    // The cap's worth of other timers waiting (far in the future).
    fill_timers(&dir.behind_the_back().await, DUE_NEVER).await;
    assert_eq!(
        s.schedule_timer(a("evt_2:sla:0"), at(200)).await.unwrap(),
        TimerScheduled::Refused,
        "arming the fired timer again would be one over the cap"
    );
}

/// Due at the epoch: fired by any pass.
const DUE_AT_ONCE: i64 = 1;
/// Due far in the future: never fired by a test.
const DUE_NEVER: i64 = 9_000_000_000_000;

/// The cap's worth of waiting `sla` timers (`bulk-1`, ...) due at `due`
/// (milliseconds), written in one statement.
async fn fill_timers(c: &Raw, due: i64) {
    c.exec(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO timers (shop, plugin_id, name, subject, due, data, scheduled_by, source_key,
             state, generation, created_at, updated_at)
         SELECT ?2, 'sla', 'bulk-' || i, '{}', ?3, '{}', 'evt_0', 'evt_0:sla:' || i, 'scheduled', 1, 0, 0
         FROM n",
        &[MAX_SCHEDULED_TIMERS.into(), SHOP.into(), due.into()],
    )
    .await;
}

#[tokio::test]
async fn a_timer_armed_again_right_after_it_fired_waits_the_minimum_interval() {
    let (_d, s) = open().await;
    let TimerScheduled::Scheduled { id, due } = s
        .schedule_timer(timer("evt_1:sla:0", at(100)), at(0))
        .await
        .unwrap()
    else {
        panic!("scheduled")
    };
    assert_eq!(due, at(100), "a new timer is due as asked");
    // Fired by the pass at 105 (a little late, as a busy host would).
    assert_eq!(s.fire_due_timers(at(105), 10).await.unwrap().len(), 1);
    let min = TIMER_REARM_MIN.as_secs() as i64;
    assert_eq!(min, 60);

    // Its plugin arms it again for (nearly) now: moved to a minute after
    // the firing, not the next second.
    assert_eq!(
        s.schedule_timer(timer("evt_2:sla:0", at(106)), at(106))
            .await
            .unwrap(),
        TimerScheduled::Scheduled {
            id,
            due: at(105 + min)
        }
    );
    assert!(
        s.fire_due_timers(at(105 + min - 1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.fire_due_timers(at(105 + min), 10).await.unwrap().len(), 1);
    let event = s
        .timers(SHOP)
        .await
        .unwrap()
        .pop()
        .unwrap()
        .fired_event_id
        .unwrap();
    assert_eq!(
        s.event(&event).await.unwrap().unwrap().event.triggered_at,
        shopcase_contract::time::format(at(105 + min)),
        "the event carries the due time it fired at"
    );

    // Armed again for later than the minimum: as asked.
    assert_eq!(
        s.schedule_timer(timer("evt_3:sla:0", at(1_000)), at(200))
            .await
            .unwrap(),
        TimerScheduled::Scheduled { id, due: at(1_000) }
    );
    // Moving a timer that has not fired yet is not held back.
    assert_eq!(
        s.schedule_timer(timer("evt_4:sla:0", at(201)), at(201))
            .await
            .unwrap(),
        TimerScheduled::Scheduled { id, due: at(201) }
    );
}
