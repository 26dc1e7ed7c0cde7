//! A plugin's follow-up is persisted and, when due, delivered as a
//! `timer/fired` event to that plugin for that store, also when the host
//! was down at the due time.

use serde_json::json;
use shopcase_store::*;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_survives_a_restart() {
    let emu = emulator().await;
    let host = host(&emu, 2, "");
    let running = start(&host, |b| b).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "scripted", &[]).await;
    host.enable(&s, SHOP_A, "echo", &[]).await;

    // The plugin asks to be called back in an hour, with a reaction for then.
    let due = Timestamp::now() + jiff::SignedDuration::from_hours(1);
    let on_timer = json!({"on_timer": {"actions": [
        {"kind": "comment", "key": key("scripted", 4321), "text": "SLA check", "visibility": "internal"}
    ]}});
    let event = send(
        &running,
        &scripted_order(
            "w-1",
            4321,
            json!([
                open_case("scripted", 4321, "low", json!([])),
                {"kind": "follow-up", "name": "sla-check", "due": shopcase_contract::time::format(due),
                 "data": on_timer.to_string()},
            ]),
        ),
    )
    .await;
    eventually("both plugins' timers are scheduled", || async {
        s.timers(SHOP_A).await.unwrap().len() == 2
    })
    .await;

    // Down while it falls due.
    running.shutdown().await.unwrap();
    let s = storage(&host).await;
    let timers = s.timers(SHOP_A).await.unwrap();
    assert!(
        timers.iter().all(|t| t.state == TimerState::Scheduled),
        "not fired before the shutdown: {timers:?}"
    );
    drop(s);
    // The hour passes while the host is down: the timers fall due (moved
    // in the database, as the clock would move them, rather than waited
    // for).
    let db = rusqlite::Connection::open(host.data_dir().join("shopcase.db")).unwrap();
    let past = Timestamp::now().as_millisecond() - 1_000;
    let moved = db
        .execute(
            "UPDATE timers SET due = ?1 WHERE shop = ?2 AND state = 'scheduled'",
            rusqlite::params![past, SHOP_A],
        )
        .unwrap();
    assert_eq!(moved, 2);
    drop(db);

    let running = start(&host, |b| b).await;
    let s = running.storage().clone();
    eventually("both timers fire after the restart", || async {
        s.timers(SHOP_A)
            .await
            .unwrap()
            .iter()
            .all(|t| t.state == TimerState::Fired)
    })
    .await;
    settled(&s, &event).await;
    for t in s.timers(SHOP_A).await.unwrap() {
        let fired = t.fired_event_id.clone().unwrap();
        let entries = settled(&s, &fired).await;
        let ev = s.event(&fired).await.unwrap().unwrap();
        assert_eq!(
            (ev.event.topic.as_str(), ev.event.shop.as_str()),
            ("timer/fired", SHOP_A)
        );
        assert_eq!(ev.target_plugin.as_deref(), Some(t.plugin_id.as_str()));
        let rows = s.dispatch_rows(&fired).await.unwrap();
        assert_eq!(
            rows.iter()
                .map(|r| r.plugin_id.as_str())
                .collect::<Vec<_>>(),
            [t.plugin_id.as_str()],
            "only the plugin that set it"
        );
        assert_eq!(entries.len(), 1);
        assert_eq!(
            entries[0].status,
            JournalStatus::Done,
            "{:?}",
            entries[0].last_error
        );
    }
    // Both plugins' reactions reached the one case.
    let case = &cases_of(&emu, 4321)[0];
    let case = emu.emulator().case(case["id"].as_str().unwrap()).unwrap();
    assert_eq!(case["comments"].as_array().unwrap().len(), 2);
    // Fired once: both are marked fired in the transaction that inserted
    // their events (the loop fires only scheduled timers), in their first
    // generation.
    let timers = s.timers(SHOP_A).await.unwrap();
    assert!(
        timers.iter().all(|t| t.state == TimerState::Fired),
        "{timers:?}"
    );
    assert_eq!(
        timers.iter().map(|t| t.generation).collect::<Vec<_>>(),
        [1, 1]
    );
    running.shutdown().await.unwrap();
}
