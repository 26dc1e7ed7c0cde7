//! Recovery through the API: a dead letter's retry runs its work exactly
//! once more (a second retry is refused), discard runs nothing, and a
//! quarantine is inspected and reset (the held events then run).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::json;
use shopcase_store::{ApiRole, DispatchStatus, JournalStatus};

use crate::support::*;

async fn dead_action(r: &Running, webhook: &str, order: u64) -> (String, i64) {
    let e = r.order(SHOP_A, webhook, order, "ok").await;
    r.done(&e).await;
    let key = format!("{e}:tagger:0");
    let s = r.storage.clone();
    let k = key.clone();
    eventually("the action is dead", || {
        let (s, k) = (s.clone(), k.clone());
        async move {
            s.journal_entry(&k)
                .await
                .unwrap()
                .is_some_and(|j| j.status == JournalStatus::Dead)
        }
    })
    .await;
    let letters = r
        .storage
        .dead_letters(Some(SHOP_A), true, 100)
        .await
        .unwrap();
    let id = letters
        .iter()
        .find(|d| d.idempotency_key.as_deref() == Some(key.as_str()))
        .unwrap()
        .id;
    (key, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_is_retried_once_or_discarded() {
    let host = Host::new();
    host.add_plugin("tagger", "1.0.0");
    let executor = Arc::new(SwitchExecutor::default());
    executor.broken.store(true, Ordering::SeqCst);
    let r = host.start(executor.clone()).await;
    let admin_a = r.token("a-admin", ApiRole::StoreAdmin, &[SHOP_A]).await;
    let a = r
        .call(
            Some(&admin_a),
            "POST",
            "/stores/a.myshopify.com/installations/tagger/enable",
            Some(json!({})),
        )
        .await;
    assert_eq!(a.status, 200);
    let (key, id) = dead_action(&r, "w1", 1001).await;
    let (other_key, other) = dead_action(&r, "w2", 1002).await;
    let failed_calls = executor.calls.load(Ordering::SeqCst);
    assert_eq!(
        failed_calls, 2,
        "a permanent failure is not retried by itself"
    );

    // Inspect.
    let list = r.get(&admin_a, "/dead-letters").await;
    let ids: Vec<_> = list.json["dead_letters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [other, id]);
    let d = r.get(&admin_a, &format!("/dead-letters/{id}")).await;
    assert_eq!(d.json["dead_letter"]["what"], "action");
    assert_eq!(d.json["dead_letter"]["failure"]["kind"], "test-broken");
    assert_eq!(d.json["action"]["key"], key.as_str());
    assert_eq!(d.json["action"]["status"], "dead");
    assert_eq!(d.json["event"]["resources"]["order_id"], 1001);

    // Fix the cause, retry: the action runs once more and succeeds.
    executor.broken.store(false, Ordering::SeqCst);
    let a = r
        .call(
            Some(&admin_a),
            "POST",
            &format!("/dead-letters/{id}/retry"),
            None,
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["state"], "retried");
    assert!(
        a.json["resolved_by"]
            .as_str()
            .unwrap()
            .starts_with("a-admin (token ")
    );
    let s = r.storage.clone();
    let k = key.clone();
    eventually("the retried action is done", || {
        let (s, k) = (s.clone(), k.clone());
        async move {
            s.journal_entry(&k)
                .await
                .unwrap()
                .is_some_and(|j| j.status == JournalStatus::Done)
        }
    })
    .await;
    assert_eq!(
        executor.calls.load(Ordering::SeqCst),
        failed_calls + 1,
        "executed exactly once more"
    );

    // A second retry is refused and runs nothing.
    let again = r
        .call(
            Some(&admin_a),
            "POST",
            &format!("/dead-letters/{id}/retry"),
            None,
        )
        .await;
    assert_eq!(
        (again.status, again.json["error"].as_str()),
        (409, Some("already-resolved")),
        "{}",
        again.text
    );
    let disc = r
        .call(
            Some(&admin_a),
            "POST",
            &format!("/dead-letters/{id}/discard"),
            None,
        )
        .await;
    assert_eq!(disc.status, 409);
    let entry = r.storage.journal_entry(&key).await.unwrap().unwrap();
    assert_eq!((entry.status, entry.attempts), (JournalStatus::Done, 0));

    // Discard: recorded, nothing runs.
    let a = r
        .call(
            Some(&admin_a),
            "POST",
            &format!("/dead-letters/{other}/discard"),
            None,
        )
        .await;
    assert_eq!(
        (a.status, a.json["state"].as_str()),
        (200, Some("discarded"))
    );
    assert_eq!(
        r.storage
            .journal_entry(&other_key)
            .await
            .unwrap()
            .unwrap()
            .status,
        JournalStatus::Dead
    );
    assert_eq!(executor.calls.load(Ordering::SeqCst), failed_calls + 1);
    assert_eq!(
        r.get(&admin_a, "/dead-letters").await.json["dead_letters"],
        json!([])
    );
    assert_eq!(
        r.get(&admin_a, "/dead-letters?state=all").await.json["dead_letters"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let a = r.get(&admin_a, "/dead-letters/999999").await;
    assert_eq!(
        (a.status, a.json["error"].as_str()),
        (404, Some("not-found"))
    );

    let log = r.storage.audit_log(Some(SHOP_A), 50).await.unwrap();
    let resolved: Vec<_> = log
        .iter()
        .filter(|e| e.entry.action.starts_with("dead-letter."))
        .map(|e| {
            (
                e.entry.action.as_str(),
                e.entry.details["dead_letter"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        resolved,
        [("dead-letter.discard", other), ("dead-letter.retry", id)]
    );
    r.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarantine_is_inspected_and_reset_and_the_held_events_run() {
    let host = Host::new();
    host.add_plugin("tagger", "1.0.0");
    let r = host.start(Arc::new(SwitchExecutor::default())).await;
    let op = r.token("ops", ApiRole::Operator, &[]).await;
    let auditor = r.token("security", ApiRole::Auditor, &[]).await;
    let inst = "/stores/a.myshopify.com/installations/tagger";
    let a = r
        .call(
            Some(&op),
            "POST",
            &format!("{inst}/enable"),
            Some(json!({})),
        )
        .await;
    assert_eq!(a.status, 200);
    // Two dead-lettered runs in a row (quarantine-after = 2).
    for (w, o) in [("w1", 1001), ("w2", 1002)] {
        let e = r.order(SHOP_A, w, o, "no-such-behaviour").await;
        r.done(&e).await;
    }
    let q = r.get(&auditor, "/quarantine").await;
    let list = q.json["quarantined"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{}", q.text);
    assert_eq!(list[0]["plugin_id"], "tagger");
    assert!(
        list[0]["reason"]
            .as_str()
            .unwrap()
            .contains("2 dead-lettered runs in a row"),
        "{}",
        q.text
    );
    let dl = r.get(&auditor, "/dead-letters").await;
    assert_eq!(dl.json["dead_letters"][0]["what"], "dispatch");

    // Held, not lost.
    let held = r.order(SHOP_A, "w3", 1003, "ok").await;
    r.done(&held).await;
    assert_eq!(
        r.storage.dispatch_rows(&held).await.unwrap()[0].status,
        DispatchStatus::Held
    );

    let a = r
        .call(Some(&op), "POST", &format!("{inst}/unquarantine"), None)
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["quarantine"], serde_json::Value::Null);
    let s = r.storage.clone();
    let h = held.clone();
    eventually("the held event ran", || {
        let (s, h) = (s.clone(), h.clone());
        async move { s.dispatch_rows(&h).await.unwrap()[0].status == DispatchStatus::Done }
    })
    .await;
    assert_eq!(r.storage.journal_for_event(&held).await.unwrap().len(), 1);
    assert_eq!(
        r.get(&op, "/quarantine").await.json["quarantined"],
        json!([])
    );
    let again = r
        .call(Some(&op), "POST", &format!("{inst}/unquarantine"), None)
        .await;
    assert_eq!(
        (again.status, again.json["error"].as_str()),
        (409, Some("not-quarantined"))
    );

    let log = r.storage.audit_log(Some(SHOP_A), 50).await.unwrap();
    let lifted = log
        .iter()
        .find(|e| e.entry.action == "installation.unquarantine")
        .unwrap();
    assert!(lifted.entry.actor.starts_with("ops (token "));
    assert!(lifted.entry.details["before"]["quarantine"]["reason"].is_string());
    assert_eq!(
        lifted.entry.details["after"]["quarantine"],
        serde_json::Value::Null
    );
    assert_eq!(lifted.entry.details["released_events"], 1);
    r.shutdown().await;
}

/// An event taken over from a worker that died holding it says so in the
/// API (and the page), before `poison-after` sets it aside.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_taken_over_from_a_dead_worker_shows_its_abandoned_claims() {
    use shopcase_store::{Claim, EventSource, EventStatus, NewEvent, Timestamp};
    let host = Host::new();
    let ev = NewEvent {
        shop: SHOP_A.into(),
        topic: "orders/create".into(),
        source: EventSource::Shopify,
        dedupe_key: "w-taken-over".into(),
        shopify_event_id: None,
        api_version: "2026-07".into(),
        triggered_at: Timestamp::now(),
        received_at: Timestamp::now(),
        resources: shopcase_contract::Resources {
            order_id: Some(1),
            ..Default::default()
        },
        payload: "{}".into(),
        target_plugin: None,
        status: EventStatus::Pending,
        body_sha256: None,
    };
    let id = ev.event_id();
    // Before the host runs: claimed for an hour by a worker that dies,
    // then taken over by another (leases far ahead, so the host started
    // below leaves it alone).
    let storage = shopcase_pipeline::open_storage(&host.config())
        .await
        .unwrap();
    let hour = std::time::Duration::from_secs(3600);
    let t0 = Timestamp::now();
    let claim = |worker: &str, now: Timestamp| Claim {
        worker: worker.into(),
        limit: 1,
        lease: hour,
        now,
        poison_after: 3,
    };
    storage.insert_event(ev).await.unwrap();
    let first = storage.claim_events(claim("dead", t0)).await.unwrap();
    assert_eq!(first.len(), 1);
    let later = t0 + shopcase_contract::time::SignedDuration::from_secs(2 * 3600);
    let again = storage.claim_events(claim("next", later)).await.unwrap();
    assert_eq!(again.len(), 1);
    drop(storage);

    let r = host.start(Arc::new(SwitchExecutor::default())).await;
    let admin = r.token("a-admin", ApiRole::StoreAdmin, &[SHOP_A]).await;

    let a = r.get(&admin, &format!("/events/{id}")).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["event"]["abandoned"], 1);
    let listed = r.get(&admin, "/events").await;
    let row = listed.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(row["abandoned"], 1);
    r.shutdown().await;
}
